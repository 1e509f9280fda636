//! Options shared by `serve` and `admin`, and the key-encryption key.

use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use clap::Args;
use fullmakt_jose::{KeyEncryptionKey, RsaKeySize};
use fullmakt_service::{KeyRing, KeyRingConfig, Store};

#[derive(Args, Clone, Debug)]
pub struct StoreArgs {
    /// sqlite://PATH (created when missing) or postgres://…
    #[arg(long, global = true, env = "FULLMAKT_DATABASE_URL", default_value = "sqlite://fullmakt.db")]
    pub database_url: String,
    /// File holding the key that seals signing keys at rest; created (mode 0600) when missing.
    /// Every node sharing a database needs the same key.
    #[arg(long, global = true, env = "FULLMAKT_KEY_FILE", default_value = "fullmakt.key")]
    pub key_file: PathBuf,
    /// Size of newly generated RSA signing keys: 2048, 3072 or 4096.
    #[arg(long, global = true, env = "FULLMAKT_SIGNING_KEY_BITS", default_value_t = 2048)]
    pub signing_key_bits: u32,
}

impl StoreArgs {
    pub async fn open(&self) -> Result<(Store, KeyRing), String> {
        let store = Store::connect(&self.database_url).await.map_err(|e| format!("database {}: {e}", redact(&self.database_url)))?;
        let key_size = RsaKeySize::from_bits(self.signing_key_bits)
            .ok_or_else(|| format!("--signing-key-bits must be 2048, 3072 or 4096, not {}", self.signing_key_bits))?;
        let key_encryption_key = load_or_create_key_file(&self.key_file)?;
        let ring = KeyRing::new(store.clone(), KeyRingConfig { key_size, key_encryption_key });
        ring.ensure().await.map_err(|e| e.to_string())?;
        Ok((store, ring))
    }
}

/// Hides a password in a database URL for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => format!("{}://…@{}", &url[..scheme], &url[at + 1..]),
        _ => url.to_owned(),
    }
}

fn load_or_create_key_file(path: &Path) -> Result<KeyEncryptionKey, String> {
    let engine = base64::engine::general_purpose::STANDARD;
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let bytes = KeyEncryptionKey::generate_bytes().map_err(|e| e.to_string())?;
            let encoded = engine.encode(bytes);
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            match options.open(path) {
                Ok(mut f) => {
                    f.write_all(encoded.as_bytes()).map_err(|e| format!("writing {}: {e}", path.display()))?;
                    encoded
                }
                // Another process created it first: use theirs.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    std::fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))?
                }
                Err(e) => return Err(format!("creating key file {}: {e}", path.display())),
            }
        }
        Err(e) => return Err(format!("reading key file {}: {e}", path.display())),
    };
    let bytes = engine
        .decode(text.trim())
        .map_err(|_| format!("key file {} does not hold base64", path.display()))?;
    KeyEncryptionKey::from_bytes(&bytes).map_err(|e| format!("key file {}: {e}", path.display()))
}
