//! Person login's short-lived rows (migration 0011): the relying party's logins in progress and
//! the test identity provider's pending authorizations and codes.
//!
//! Each is written by one statement and taken by one `DELETE … RETURNING`, which is what makes
//! it single-use across nodes: of two requests racing for one row, exactly one gets it. Like
//! the grant replay rows they are not configuration, so they do not go through [`crate::WriteTx`]
//! and do not bump the change sequence (which would make every node reload its caches for
//! every login).

use crate::{Result, Store, StoreError};

/// A login the relying party has sent to the identity provider.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LoginAttemptRow {
    pub state_hash: String,
    pub browser_hash: String,
    pub nonce: String,
    pub code_verifier: String,
    pub goto: String,
    pub expires_at: i64,
}

/// An authorization request at the test identity provider, waiting for a person to be chosen.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TestIdpRequestRow {
    pub request_hash: String,
    pub browser_hash: String,
    pub csrf_token: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: String,
    pub scope: String,
    pub expires_at: i64,
}

/// An authorization code the test identity provider issued for a person.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TestIdpCodeRow {
    pub code_hash: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub code_challenge: String,
    pub nonce: Option<String>,
    pub scope: String,
    pub person_identifier: String,
    pub auth_time: i64,
    pub expires_at: i64,
}

/// One person as the test identity provider lists them.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PersonListRow {
    pub party_id: i64,
    pub person_identifier: String,
    pub name: String,
}

const ATTEMPT_COLUMNS: &str = "state_hash, browser_hash, nonce, code_verifier, goto, expires_at";
const REQUEST_COLUMNS: &str =
    "request_hash, browser_hash, csrf_token, client_id, redirect_uri, state, nonce, code_challenge, scope, expires_at";
const CODE_COLUMNS: &str =
    "code_hash, client_id, redirect_uri, code_challenge, nonce, scope, person_identifier, auth_time, expires_at";

impl Store {
    pub async fn insert_login_attempt(&self, row: &LoginAttemptRow) -> Result<()> {
        sqlx::query(&format!("INSERT INTO login_attempts ({ATTEMPT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)"))
            .bind(&row.state_hash)
            .bind(&row.browser_hash)
            .bind(&row.nonce)
            .bind(&row.code_verifier)
            .bind(&row.goto)
            .bind(row.expires_at)
            .execute(&self.pool)
            .await
            .map_err(StoreError::from_insert)?;
        Ok(())
    }

    /// Removes and returns the login with this state hash, expired or not (the caller decides);
    /// `None` when there is none or another request took it first.
    pub async fn take_login_attempt(&self, state_hash: &str) -> Result<Option<LoginAttemptRow>> {
        Ok(sqlx::query_as(&format!("DELETE FROM login_attempts WHERE state_hash = $1 RETURNING {ATTEMPT_COLUMNS}"))
            .bind(state_hash)
            .fetch_optional(&self.pool)
            .await?)
    }

    pub async fn insert_test_idp_request(&self, row: &TestIdpRequestRow) -> Result<()> {
        sqlx::query(&format!(
            "INSERT INTO test_idp_requests ({REQUEST_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        ))
        .bind(&row.request_hash)
        .bind(&row.browser_hash)
        .bind(&row.csrf_token)
        .bind(&row.client_id)
        .bind(&row.redirect_uri)
        .bind(&row.state)
        .bind(&row.nonce)
        .bind(&row.code_challenge)
        .bind(&row.scope)
        .bind(row.expires_at)
        .execute(&self.pool)
        .await
        .map_err(StoreError::from_insert)?;
        Ok(())
    }

    /// The pending authorization, left in place (the person page is shown many times while
    /// searching and paging).
    pub async fn test_idp_request(&self, request_hash: &str) -> Result<Option<TestIdpRequestRow>> {
        Ok(sqlx::query_as(&format!("SELECT {REQUEST_COLUMNS} FROM test_idp_requests WHERE request_hash = $1"))
            .bind(request_hash)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Removes and returns the pending authorization; `None` if another request took it first.
    pub async fn take_test_idp_request(&self, request_hash: &str) -> Result<Option<TestIdpRequestRow>> {
        Ok(sqlx::query_as(&format!("DELETE FROM test_idp_requests WHERE request_hash = $1 RETURNING {REQUEST_COLUMNS}"))
            .bind(request_hash)
            .fetch_optional(&self.pool)
            .await?)
    }

    pub async fn insert_test_idp_code(&self, row: &TestIdpCodeRow) -> Result<()> {
        sqlx::query(&format!("INSERT INTO test_idp_codes ({CODE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"))
            .bind(&row.code_hash)
            .bind(&row.client_id)
            .bind(&row.redirect_uri)
            .bind(&row.code_challenge)
            .bind(&row.nonce)
            .bind(&row.scope)
            .bind(&row.person_identifier)
            .bind(row.auth_time)
            .bind(row.expires_at)
            .execute(&self.pool)
            .await
            .map_err(StoreError::from_insert)?;
        Ok(())
    }

    /// Removes and returns the code: whatever the token request then finds wrong, the code is
    /// spent, so a guessed PKCE verifier gets one try.
    pub async fn take_test_idp_code(&self, code_hash: &str) -> Result<Option<TestIdpCodeRow>> {
        Ok(sqlx::query_as(&format!("DELETE FROM test_idp_codes WHERE code_hash = $1 RETURNING {CODE_COLUMNS}"))
            .bind(code_hash)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Deletes up to `limit` expired rows from each login table and the portal's sessions; returns
    /// how many in all.
    pub async fn forget_expired_logins(&self, now: i64, limit: i64) -> Result<u64> {
        let mut removed = 0;
        for (table, key) in [
            ("login_attempts", "state_hash"),
            ("test_idp_requests", "request_hash"),
            ("test_idp_codes", "code_hash"),
            ("portal_sessions", "session_hash"),
        ] {
            removed += self.forget_expired_rows(table, key, now, limit).await?;
        }
        Ok(removed)
    }

    /// Up to `limit` synthetic persons (Tenor numbers: month + 80, so the third digit is 8 or 9),
    /// not deleted, with party ids above `after`, in party-id order, whose person number starts
    /// with `search` or whose name contains it (any case, as far as the database's LOWER goes:
    /// SQLite's folds ASCII only). Keyset pages over the primary key, so the first pages of a
    /// register of millions come at once; a search that matches little reads further.
    pub async fn synthetic_persons_page(&self, search: Option<&str>, after: i64, limit: i64) -> Result<Vec<PersonListRow>> {
        const SELECT: &str = "SELECT party_id, person_identifier, name FROM parties \
             WHERE party_type = 'person' AND is_deleted = 0 AND party_id > $1 \
             AND substr(person_identifier, 3, 1) IN ('8', '9')";
        let rows = match search.map(str::trim).filter(|s| !s.is_empty()) {
            None => {
                sqlx::query_as(&format!("{SELECT} ORDER BY party_id LIMIT $2"))
                    .bind(after)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?
            }
            Some(search) => {
                let escaped = like_escape(&search.to_lowercase());
                sqlx::query_as(&format!(
                    "{SELECT} AND (person_identifier LIKE $2 ESCAPE '\\' OR LOWER(name) LIKE $3 ESCAPE '\\') \
                     ORDER BY party_id LIMIT $4"
                ))
                .bind(after)
                .bind(format!("{escaped}%"))
                .bind(format!("%{escaped}%"))
                .bind(limit)
                .fetch_all(&self.pool)
                .await?
            }
        };
        Ok(rows)
    }
}

/// `text` with LIKE's wildcards and the escape character escaped, so a search for `50%` or
/// `a_b` finds those characters rather than matching anything.
fn like_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_like_wildcards() {
        assert_eq!(super::like_escape(r"50%_a\b"), r"50\%\_a\\b");
    }
}
