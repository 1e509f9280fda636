//! Private signing keys are stored sealed with AES-256-GCM under a key-encryption key that
//! never enters the database (DESIGN.md §4.7).

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};

pub struct KeyEncryptionKey(LessSafeKey);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealingError {
    #[error("a key-encryption key is exactly 32 bytes")]
    KeyLength,
    #[error("the sealed key could not be opened: wrong key-encryption key or damaged data")]
    Open,
    #[error("randomness failed")]
    Random,
}

impl KeyEncryptionKey {
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, SealingError> {
        let key = UnboundKey::new(&AES_256_GCM, bytes).map_err(|_| SealingError::KeyLength)?;
        Ok(Self(LessSafeKey::new(key)))
    }

    pub fn generate_bytes() -> Result<[u8; 32], SealingError> {
        let mut bytes = [0u8; 32];
        SystemRandom::new().fill(&mut bytes).map_err(|_| SealingError::Random)?;
        Ok(bytes)
    }

    /// Seals `plaintext`, bound to `context` (the key id) so sealed blobs cannot be swapped
    /// between rows. Output: nonce ‖ ciphertext ‖ tag.
    pub fn seal(&self, context: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, SealingError> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new().fill(&mut nonce).map_err(|_| SealingError::Random)?;
        let mut buf = plaintext.to_vec();
        self.0
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(context), &mut buf)
            .map_err(|_| SealingError::Random)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&buf);
        Ok(out)
    }

    pub fn open(&self, context: &[u8], sealed: &[u8]) -> Result<Vec<u8>, SealingError> {
        if sealed.len() < NONCE_LEN {
            return Err(SealingError::Open);
        }
        let (nonce, rest) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SealingError::Open)?;
        let mut buf = rest.to_vec();
        let plain = self.0.open_in_place(nonce, Aad::from(context), &mut buf).map_err(|_| SealingError::Open)?;
        Ok(plain.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_tamper_detection() {
        let kek = KeyEncryptionKey::from_bytes(&KeyEncryptionKey::generate_bytes().unwrap()).unwrap();
        let sealed = kek.seal(b"kid1", b"secret").unwrap();
        assert_eq!(kek.open(b"kid1", &sealed).unwrap(), b"secret");
        assert_eq!(kek.open(b"kid2", &sealed), Err(SealingError::Open));
        let mut damaged = sealed.clone();
        *damaged.last_mut().unwrap() ^= 1;
        assert_eq!(kek.open(b"kid1", &damaged), Err(SealingError::Open));
        let other = KeyEncryptionKey::from_bytes(&[7u8; 32]).unwrap();
        assert_eq!(other.open(b"kid1", &sealed), Err(SealingError::Open));
        assert!(KeyEncryptionKey::from_bytes(&[0u8; 31]).is_err());
    }
}
