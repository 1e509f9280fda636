//! The portal's person-side state (issue 5): sessions and the parties a person may act for.
//!
//! A session starts from a verified Altinn person token (person login's cookie) and then lives
//! on its own: an idle timeout that moves with use, an absolute lifetime, an anti-forgery token
//! for every form, and an end that logout makes server-side. The browser holds only a random
//! secret; the database holds its SHA-256.

use fullmakt_store::{PartyKey, PartyRow, PortalSessionRow, Store};

use crate::login::{is_secret_shaped, random_secret, secret_hash};
use crate::{clock, AdminError};

/// A session ends this long after its last use…
pub const IDLE_TIMEOUT: i64 = 30 * 60;
/// …and at the latest this long after it started.
pub const ABSOLUTE_LIFETIME: i64 = 12 * 60 * 60;
/// Use moves the expiry only when it would move by more than this, so reading pages does not
/// write on every request.
const EXTEND_STEP: i64 = 60;

/// A live session, as a page sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalSession {
    pub session_hash: String,
    pub person_party_id: i64,
    pub acting_party_id: Option<i64>,
    csrf_token: String,
    pub expires_at: i64,
}

impl PortalSession {
    /// The anti-forgery token forms carry.
    pub fn csrf_token(&self) -> &str {
        &self.csrf_token
    }

    /// Whether a form's anti-forgery token is this session's (constant time).
    pub fn csrf_matches(&self, presented: &str) -> bool {
        aws_lc_rs::constant_time::verify_slices_are_equal(self.csrf_token.as_bytes(), presented.as_bytes()).is_ok()
    }

    fn from_row(row: PortalSessionRow) -> Self {
        Self {
            session_hash: row.session_hash,
            person_party_id: row.person_party_id,
            acting_party_id: row.acting_party_id,
            csrf_token: row.csrf_token,
            expires_at: row.expires_at,
        }
    }
}

#[derive(Clone)]
pub struct PortalSessions {
    store: Store,
}

impl PortalSessions {
    pub fn new(store: Store) -> Self {
        Self { store }
    }

    /// Starts a session for a person; returns the secret for the browser's cookie.
    pub async fn start(&self, person_party_id: i64, acting_party_id: Option<i64>) -> Result<(String, PortalSession), AdminError> {
        let secret = random_secret().map_err(|_| AdminError::Internal)?;
        let csrf_token = random_secret().map_err(|_| AdminError::Internal)?;
        let now = clock::now();
        let row = PortalSessionRow {
            session_hash: secret_hash(&secret),
            person_party_id,
            acting_party_id,
            csrf_token,
            created_at: now,
            expires_at: now + IDLE_TIMEOUT,
        };
        self.store.insert_portal_session(&row).await?;
        Ok((secret, PortalSession::from_row(row)))
    }

    /// The live session of a cookie's secret, its idle timeout moved forward; `None` when there
    /// is none (never started, expired, or ended by logout).
    pub async fn find(&self, secret: &str) -> Result<Option<PortalSession>, AdminError> {
        if !is_secret_shaped(secret) {
            return Ok(None);
        }
        let now = clock::now();
        let Some(row) = self.store.portal_session(&secret_hash(secret), now).await? else {
            return Ok(None);
        };
        let extended = (now + IDLE_TIMEOUT).min(row.created_at + ABSOLUTE_LIFETIME);
        let mut session = PortalSession::from_row(row);
        if extended - session.expires_at > EXTEND_STEP && self.store.extend_portal_session(&session.session_hash, extended, now).await? {
            session.expires_at = extended;
        }
        Ok(Some(session))
    }

    /// Records the party the person acts for (the caller has checked they may).
    pub async fn act_for(&self, session: &PortalSession, party_id: i64) -> Result<bool, AdminError> {
        Ok(self.store.set_portal_acting_party(&session.session_hash, party_id, clock::now()).await?)
    }

    /// Ends the session server-side.
    pub async fn end(&self, session: &PortalSession) -> Result<(), AdminError> {
        self.store.delete_portal_session(&session.session_hash).await?;
        Ok(())
    }
}

/// The organisations a person may act for in the portal: those where they hold an ER role, and
/// those that gave them an assignment (a package, a right or a role), by name. Deleted parties
/// are left out. Whether the person may do anything there is the gates' question, per page.
pub async fn authorised_parties(store: &Store, person: &PartyRow) -> Result<Vec<PartyRow>, AdminError> {
    let mut ids: Vec<i64> = store.er_roles_held_by(person.party_id).await?.into_iter().map(|r| r.from_party_id).collect();
    ids.extend(store.assignments_to(&person.party_uuid).await?.into_iter().map(|a| a.from_party_id));
    ids.sort_unstable();
    ids.dedup();
    let mut parties = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(p) = store.find_party(PartyKey::Id(id)).await? {
            if p.is_deleted == 0 && p.party_type == "organization" {
                parties.push(p);
            }
        }
    }
    parties.sort_by(|a, b| a.name.to_lowercase().cmp(&b.name.to_lowercase()).then(a.party_id.cmp(&b.party_id)));
    Ok(parties)
}
