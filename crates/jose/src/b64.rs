use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

/// base64url without padding, as JOSE uses everywhere. Decoding rejects padding and
/// non-canonical trailing bits, so one token has exactly one encoding.
pub fn encode(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn decode(s: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(s).ok()
}
