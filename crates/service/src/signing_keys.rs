//! fullmakt's access-token signing keys: generated on first start, sealed at rest, rotated
//! with pre-publication.
//!
//! At any time there is one `active` key (signs), one `next` key (published in `/jwk` but not
//! yet signing, so resource servers that cache JWKS for a day already know it when it takes
//! over) and any number of `retired` keys, published until every token they signed has
//! expired. `rotate` promotes next → active, active → retired, and makes a new next.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use base64::Engine;
use fullmakt_jose::{KeyEncryptionKey, RsaKeySize, RsaPublicJwk, SigningKey};
use fullmakt_store::{SigningKeyRow, Store, StoreError};

use crate::{clock, MAX_ACCESS_TOKEN_LIFETIME};

const NEXT: &str = "next";
const ACTIVE: &str = "active";
const RETIRED: &str = "retired";

pub struct KeyRingConfig {
    pub key_size: RsaKeySize,
    pub key_encryption_key: KeyEncryptionKey,
}

#[derive(Debug, thiserror::Error)]
pub enum KeyRingError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("a signing key could not be opened with the configured key-encryption key; is it the key this database was created with?")]
    Sealing,
    #[error("signing key error: {0}")]
    Key(String),
    #[error("the database has no active signing key")]
    NoActiveKey,
}

/// The keys in force under one change sequence.
pub struct KeySet {
    pub active: Arc<SigningKey>,
    /// next, active and retired keys still within their publication window.
    pub published: Vec<RsaPublicJwk>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct RotationReport {
    pub active_kid: String,
    pub next_kid: String,
    pub retired_kids: Vec<String>,
    pub removed_kids: Vec<String>,
}

pub struct KeyRing {
    store: Store,
    config: KeyRingConfig,
    cached: Mutex<Option<(i64, Arc<KeySet>)>>,
    opened: Mutex<HashMap<String, Arc<SigningKey>>>,
}

impl KeyRing {
    pub fn new(store: Store, config: KeyRingConfig) -> Self {
        Self { store, config, cached: Mutex::new(None), opened: Mutex::new(HashMap::new()) }
    }

    fn generate_row(&self, state: &str, now: i64) -> Result<SigningKeyRow, KeyRingError> {
        let key = SigningKey::generate(self.config.key_size).map_err(|e| KeyRingError::Key(e.to_string()))?;
        let pkcs8 = key.to_pkcs8().map_err(|e| KeyRingError::Key(e.to_string()))?;
        let sealed = self
            .config
            .key_encryption_key
            .seal(key.kid().as_bytes(), &pkcs8)
            .map_err(|_| KeyRingError::Sealing)?;
        Ok(SigningKeyRow {
            kid: key.kid().to_owned(),
            public_jwk: serde_json::to_string(&key.public_jwk()).map_err(|e| KeyRingError::Key(e.to_string()))?,
            sealed_private_key: base64::engine::general_purpose::STANDARD.encode(sealed),
            state: state.to_owned(),
            created: now,
            activated: (state == ACTIVE).then_some(now),
            publish_until: None,
        })
    }

    /// Makes sure an active and a next key exist. Safe to run from several nodes at once:
    /// the write transaction serialises them and each re-checks inside it.
    pub async fn ensure(&self) -> Result<(), KeyRingError> {
        let rows = self.store.signing_keys().await?;
        let has = |state: &str| rows.iter().any(|r| r.state == state);
        if has(ACTIVE) && has(NEXT) {
            return Ok(());
        }
        let now = clock::now();
        // Generate outside the transaction: RSA key generation takes a while.
        let active = if has(ACTIVE) { None } else { Some(self.generate_row(ACTIVE, now)?) };
        let next = self.generate_row(NEXT, now)?;
        let mut tx = self.store.begin_write().await?;
        let rows = tx.signing_keys().await?;
        if let Some(active) = active.filter(|_| !rows.iter().any(|r| r.state == ACTIVE)) {
            tx.insert_signing_key(&active).await?;
        }
        if !rows.iter().any(|r| r.state == NEXT) {
            tx.insert_signing_key(&next).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn rotate(&self) -> Result<RotationReport, KeyRingError> {
        self.ensure().await?;
        let now = clock::now();
        let new_next = self.generate_row(NEXT, now)?;
        let mut tx = self.store.begin_write().await?;
        let rows = tx.signing_keys().await?;
        let mut removed = Vec::new();
        let mut retired = Vec::new();
        let mut promoted = None;
        for row in &rows {
            match row.state.as_str() {
                ACTIVE => {
                    let until = now + MAX_ACCESS_TOKEN_LIFETIME + 60;
                    tx.set_signing_key_state(&row.kid, RETIRED, None, Some(until)).await?;
                    retired.push(row.kid.clone());
                }
                NEXT => {
                    tx.set_signing_key_state(&row.kid, ACTIVE, Some(now), None).await?;
                    promoted = Some(row.kid.clone());
                }
                RETIRED if row.publish_until.is_some_and(|t| t < now) => {
                    tx.delete_signing_key(&row.kid).await?;
                    removed.push(row.kid.clone());
                }
                RETIRED => retired.push(row.kid.clone()),
                _ => {}
            }
        }
        let active_kid = promoted.ok_or(KeyRingError::NoActiveKey)?;
        tx.insert_signing_key(&new_next).await?;
        tx.commit().await?;
        Ok(RotationReport { active_kid, next_kid: new_next.kid, retired_kids: retired, removed_kids: removed })
    }

    /// The key set in force under `sequence` (see [`crate::cache`] for why this is exact).
    pub async fn current(&self, sequence: i64) -> Result<Arc<KeySet>, KeyRingError> {
        if let Some((s, set)) = self.cached.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            if *s == sequence {
                return Ok(set.clone());
            }
        }
        let rows = self.store.signing_keys().await?;
        let now = clock::now();
        let mut active = None;
        let mut published = Vec::new();
        for row in &rows {
            if row.state == RETIRED && row.publish_until.is_some_and(|t| t < now) {
                continue;
            }
            let jwk: RsaPublicJwk = serde_json::from_str(&row.public_jwk).map_err(|e| KeyRingError::Key(e.to_string()))?;
            published.push(jwk);
            if row.state == ACTIVE {
                active = Some(self.open(row)?);
            }
        }
        let set = Arc::new(KeySet { active: active.ok_or(KeyRingError::NoActiveKey)?, published });
        *self.cached.lock().unwrap_or_else(|p| p.into_inner()) = Some((sequence, set.clone()));
        Ok(set)
    }

    fn open(&self, row: &SigningKeyRow) -> Result<Arc<SigningKey>, KeyRingError> {
        if let Some(key) = self.opened.lock().unwrap_or_else(|p| p.into_inner()).get(&row.kid) {
            return Ok(key.clone());
        }
        let sealed = base64::engine::general_purpose::STANDARD
            .decode(&row.sealed_private_key)
            .map_err(|_| KeyRingError::Sealing)?;
        let pkcs8 = self.config.key_encryption_key.open(row.kid.as_bytes(), &sealed).map_err(|_| KeyRingError::Sealing)?;
        let key = Arc::new(SigningKey::from_pkcs8(&pkcs8).map_err(|e| KeyRingError::Key(e.to_string()))?);
        self.opened.lock().unwrap_or_else(|p| p.into_inner()).insert(row.kid.clone(), key.clone());
        Ok(key)
    }
}
