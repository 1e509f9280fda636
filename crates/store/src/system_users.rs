//! System users, requests and change requests (migration 0009). Rights and packages are kept
//! as the JSON the vendor sent; the service layer owns their meaning. Every list is ordered by
//! `(list_position, id)` — the change sequence of the creating write, then the id — so a page
//! cursor never skips or repeats a row, whatever is inserted between page reads.

use crate::{Result, Store, StoreError, WriteTx};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SystemUserRow {
    pub id: String,
    pub system_id: String,
    pub integration_title: String,
    pub owner_party_id: i64,
    pub owner_org_no: String,
    pub external_ref: String,
    /// `standard` or `agent`.
    pub user_type: String,
    /// JSON array of package URNs (agent system users).
    pub access_packages: String,
    pub is_deleted: i64,
    pub created: i64,
    pub last_changed: i64,
    pub created_by: String,
    pub changed_by: String,
    pub stream_position: i64,
    pub list_position: i64,
}

/// A request (`kind` standard or agent) or a change request, with the columns both have.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RequestRow {
    pub id: String,
    pub kind: String,
    pub external_ref: String,
    pub system_id: String,
    pub party_org_no: String,
    pub integration_title: String,
    /// JSON `Right[]`.
    pub rights: String,
    /// JSON `AccessPackage[]`.
    pub access_packages: String,
    pub status: String,
    pub redirect_url: Option<String>,
    pub escalated: i64,
    pub is_deleted: i64,
    pub created: i64,
    pub last_changed: i64,
    pub changed_by: Option<String>,
    pub list_position: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ChangeRequestRow {
    pub id: String,
    pub system_user_id: String,
    pub external_ref: String,
    pub system_id: String,
    pub party_org_no: String,
    pub required_rights: String,
    pub unwanted_rights: String,
    pub required_access_packages: String,
    pub unwanted_access_packages: String,
    pub status: String,
    pub redirect_url: Option<String>,
    pub is_deleted: i64,
    pub created: i64,
    pub last_changed: i64,
    pub changed_by: Option<String>,
    pub list_position: i64,
}

/// Where a page starts: after this (list_position, id).
pub type ListCursor = (i64, String);

const SYSTEM_USER_COLUMNS: &str = "id, system_id, integration_title, owner_party_id, owner_org_no, external_ref, user_type, \
     access_packages, is_deleted, created, last_changed, created_by, changed_by, stream_position, list_position";
const REQUEST_COLUMNS: &str = "id, kind, external_ref, system_id, party_org_no, integration_title, rights, access_packages, \
     status, redirect_url, escalated, is_deleted, created, last_changed, changed_by, list_position";
const CHANGE_REQUEST_COLUMNS: &str = "id, system_user_id, external_ref, system_id, party_org_no, required_rights, unwanted_rights, \
     required_access_packages, unwanted_access_packages, status, redirect_url, is_deleted, created, last_changed, changed_by, list_position";

/// Rows after the cursor: a row-value comparison, which both databases answer with a range
/// scan of the (…, list_position, id) index (an OR of the two cases makes PostgreSQL filter).
const AFTER_CURSOR: &str = "(list_position, id) > ($2, $3)";

impl Store {
    pub async fn system_user(&self, id: &str) -> Result<Option<SystemUserRow>> {
        Ok(sqlx::query_as(&format!("SELECT {SYSTEM_USER_COLUMNS} FROM system_users WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// The active system user (of either type) with this identity, if any.
    pub async fn active_system_user_by_identity(&self, owner_org_no: &str, external_ref: &str, system_id: &str) -> Result<Option<SystemUserRow>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {SYSTEM_USER_COLUMNS} FROM system_users \
             WHERE owner_org_no = $1 AND external_ref = $2 AND system_id = $3 AND is_deleted = 0"
        ))
        .bind(owner_org_no)
        .bind(external_ref)
        .bind(system_id)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// The token service's lookup (maskinporten.md §2.3): the active system user of either type
    /// owned by `owner_org_no` with `external_ref`, whose system is not deleted, belongs to
    /// `vendor_orgno` and lists `client_id` (letter case ignored, as client ids are keyed).
    pub async fn system_user_for_client(
        &self,
        client_id: &str,
        vendor_orgno: &str,
        owner_org_no: &str,
        external_ref: &str,
    ) -> Result<Option<SystemUserRow>> {
        let columns = SYSTEM_USER_COLUMNS.split(", ").map(|c| format!("u.{}", c.trim())).collect::<Vec<_>>().join(", ");
        Ok(sqlx::query_as(&format!(
            "SELECT {columns} FROM system_users u \
             JOIN systems s ON s.system_id = u.system_id AND s.is_deleted = 0 AND s.vendor_orgno = $2 \
             JOIN system_clients c ON c.system_internal_id = s.internal_id AND c.client_key = $1 \
             WHERE u.owner_org_no = $3 AND u.external_ref = $4 AND u.is_deleted = 0 \
             ORDER BY u.list_position, u.id LIMIT 1"
        ))
        .bind(client_id.to_lowercase())
        .bind(vendor_orgno)
        .bind(owner_org_no)
        .bind(external_ref)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Active system users of one type owned by a party, oldest first.
    pub async fn active_system_users_of_owner(&self, owner_party_id: i64, user_type: &str) -> Result<Vec<SystemUserRow>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {SYSTEM_USER_COLUMNS} FROM system_users \
             WHERE owner_party_id = $1 AND user_type = $2 AND is_deleted = 0 ORDER BY list_position, id"
        ))
        .bind(owner_party_id)
        .bind(user_type)
        .fetch_all(&self.pool)
        .await?)
    }

    /// One page of a system's active system users (both types).
    pub async fn system_users_of_system(&self, system_id: &str, after: Option<&ListCursor>, limit: i64) -> Result<Vec<SystemUserRow>> {
        let (position, id) = after.cloned().unwrap_or((i64::MIN, String::new()));
        Ok(sqlx::query_as(&format!(
            "SELECT {SYSTEM_USER_COLUMNS} FROM system_users \
             WHERE system_id = $1 AND is_deleted = 0 AND {AFTER_CURSOR} ORDER BY list_position, id LIMIT $4"
        ))
        .bind(system_id)
        .bind(position)
        .bind(id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Register's change stream: every write after `after`, deleted system users included.
    pub async fn system_user_stream(&self, after: i64, limit: i64) -> Result<Vec<SystemUserRow>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {SYSTEM_USER_COLUMNS} FROM system_users WHERE stream_position > $1 ORDER BY stream_position LIMIT $2"
        ))
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The newest stream position written.
    pub async fn system_user_stream_end(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT value FROM system_user_stream WHERE id = 1").fetch_one(&self.pool).await?)
    }

    pub async fn request(&self, id: &str) -> Result<Option<RequestRow>> {
        Ok(sqlx::query_as(&format!("SELECT {REQUEST_COLUMNS} FROM system_user_requests WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// The newest request of `kind` with this identity that is not deleted.
    pub async fn request_by_identity(&self, party_org_no: &str, external_ref: &str, system_id: &str, kind: &str) -> Result<Option<RequestRow>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {REQUEST_COLUMNS} FROM system_user_requests \
             WHERE party_org_no = $1 AND external_ref = $2 AND system_id = $3 AND kind = $4 AND is_deleted = 0 \
             ORDER BY list_position DESC, id DESC LIMIT 1"
        ))
        .bind(party_org_no)
        .bind(external_ref)
        .bind(system_id)
        .bind(kind)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// One page of a system's requests of `kind` that are not deleted.
    pub async fn requests_of_system(&self, system_id: &str, kind: &str, after: Option<&ListCursor>, limit: i64) -> Result<Vec<RequestRow>> {
        let (position, id) = after.cloned().unwrap_or((i64::MIN, String::new()));
        Ok(sqlx::query_as(&format!(
            "SELECT {REQUEST_COLUMNS} FROM system_user_requests \
             WHERE system_id = $1 AND {AFTER_CURSOR} AND kind = $5 AND is_deleted = 0 ORDER BY list_position, id LIMIT $4"
        ))
        .bind(system_id)
        .bind(position)
        .bind(id)
        .bind(limit)
        .bind(kind)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Requests of `kind` for an organisation that wait for an answer, oldest first.
    pub async fn pending_requests(&self, party_org_no: &str, kind: &str, escalated_only: bool) -> Result<Vec<RequestRow>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {REQUEST_COLUMNS} FROM system_user_requests \
             WHERE party_org_no = $1 AND kind = $2 AND status = 'New' AND is_deleted = 0 AND (escalated = 1 OR $3 = 0) \
             ORDER BY list_position, id"
        ))
        .bind(party_org_no)
        .bind(kind)
        .bind(i64::from(escalated_only))
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn change_request(&self, id: &str) -> Result<Option<ChangeRequestRow>> {
        Ok(sqlx::query_as(&format!("SELECT {CHANGE_REQUEST_COLUMNS} FROM system_user_change_requests WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// The newest change request that is not deleted for the system user with this identity.
    pub async fn change_request_by_identity(&self, party_org_no: &str, external_ref: &str, system_id: &str) -> Result<Option<ChangeRequestRow>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {CHANGE_REQUEST_COLUMNS} FROM system_user_change_requests \
             WHERE party_org_no = $1 AND external_ref = $2 AND system_id = $3 AND is_deleted = 0 \
             ORDER BY list_position DESC, id DESC LIMIT 1"
        ))
        .bind(party_org_no)
        .bind(external_ref)
        .bind(system_id)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// One page of a system's change requests that are not deleted.
    pub async fn change_requests_of_system(&self, system_id: &str, after: Option<&ListCursor>, limit: i64) -> Result<Vec<ChangeRequestRow>> {
        let (position, id) = after.cloned().unwrap_or((i64::MIN, String::new()));
        Ok(sqlx::query_as(&format!(
            "SELECT {CHANGE_REQUEST_COLUMNS} FROM system_user_change_requests \
             WHERE system_id = $1 AND {AFTER_CURSOR} AND is_deleted = 0 ORDER BY list_position, id LIMIT $4"
        ))
        .bind(system_id)
        .bind(position)
        .bind(id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }
}

impl WriteTx {
    /// [`Store::request_by_identity`] under this transaction's write lock.
    pub async fn request_by_identity(&mut self, party_org_no: &str, external_ref: &str, system_id: &str, kind: &str) -> Result<Option<RequestRow>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {REQUEST_COLUMNS} FROM system_user_requests \
             WHERE party_org_no = $1 AND external_ref = $2 AND system_id = $3 AND kind = $4 AND is_deleted = 0 \
             ORDER BY list_position DESC, id DESC LIMIT 1"
        ))
        .bind(party_org_no)
        .bind(external_ref)
        .bind(system_id)
        .bind(kind)
        .fetch_optional(&mut *self.tx)
        .await?)
    }

    /// The system user if it is active, read under this transaction's write lock (a write that
    /// hangs grants on a system user checks that it was not deleted meanwhile).
    pub async fn active_system_user(&mut self, id: &str) -> Result<Option<SystemUserRow>> {
        Ok(sqlx::query_as(&format!("SELECT {SYSTEM_USER_COLUMNS} FROM system_users WHERE id = $1 AND is_deleted = 0"))
            .bind(id)
            .fetch_optional(&mut *self.tx)
            .await?)
    }

    /// Takes the next position in Register's change stream.
    async fn next_stream_position(&mut self) -> Result<i64> {
        Ok(sqlx::query_scalar("UPDATE system_user_stream SET value = value + 1 WHERE id = 1 RETURNING value")
            .fetch_one(&mut *self.tx)
            .await?)
    }

    /// Inserts a system user; its stream and list positions are assigned here. An active
    /// system user with the same identity is a [`crate::StoreError::Conflict`].
    pub async fn insert_system_user(&mut self, row: &SystemUserRow) -> Result<SystemUserRow> {
        let mut row = row.clone();
        row.stream_position = self.next_stream_position().await?;
        row.list_position = self.sequence;
        sqlx::query(&format!("INSERT INTO system_users ({SYSTEM_USER_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"))
            .bind(&row.id)
            .bind(&row.system_id)
            .bind(&row.integration_title)
            .bind(row.owner_party_id)
            .bind(&row.owner_org_no)
            .bind(&row.external_ref)
            .bind(&row.user_type)
            .bind(&row.access_packages)
            .bind(row.is_deleted)
            .bind(row.created)
            .bind(row.last_changed)
            .bind(&row.created_by)
            .bind(&row.changed_by)
            .bind(row.stream_position)
            .bind(row.list_position)
            .execute(&mut *self.tx)
            .await
            .map_err(StoreError::from_insert)?;
        Ok(row)
    }

    /// Marks a system user changed (a new stream position), and deleted when `delete`.
    /// Returns whether an active system user was changed; if not, no position is taken.
    pub async fn change_system_user(&mut self, id: &str, changed_by: &str, now: i64, delete: bool) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE system_users SET is_deleted = $2, changed_by = $3, last_changed = $4, \
                    stream_position = (SELECT value + 1 FROM system_user_stream WHERE id = 1) \
             WHERE id = $1 AND is_deleted = 0",
        )
        .bind(id)
        .bind(i64::from(delete))
        .bind(changed_by)
        .bind(now)
        .execute(&mut *self.tx)
        .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        self.next_stream_position().await?;
        Ok(true)
    }

    pub async fn insert_request(&mut self, row: &RequestRow) -> Result<RequestRow> {
        let mut row = row.clone();
        row.list_position = self.sequence;
        sqlx::query(&format!(
            "INSERT INTO system_user_requests ({REQUEST_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
        ))
        .bind(&row.id)
        .bind(&row.kind)
        .bind(&row.external_ref)
        .bind(&row.system_id)
        .bind(&row.party_org_no)
        .bind(&row.integration_title)
        .bind(&row.rights)
        .bind(&row.access_packages)
        .bind(&row.status)
        .bind(&row.redirect_url)
        .bind(row.escalated)
        .bind(row.is_deleted)
        .bind(row.created)
        .bind(row.last_changed)
        .bind(&row.changed_by)
        .bind(row.list_position)
        .execute(&mut *self.tx)
        .await
        .map_err(StoreError::from_insert)?;
        Ok(row)
    }

    /// Moves a `New` request to `status`; false when it is not (or no longer) `New`.
    pub async fn answer_request(&mut self, id: &str, status: &str, changed_by: &str, now: i64) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE system_user_requests SET status = $2, changed_by = $3, last_changed = $4 \
             WHERE id = $1 AND status = 'New' AND is_deleted = 0",
        )
        .bind(id)
        .bind(status)
        .bind(changed_by)
        .bind(now)
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn escalate_request(&mut self, id: &str, changed_by: &str, now: i64) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE system_user_requests SET escalated = 1, changed_by = $2, last_changed = $3 WHERE id = $1 AND is_deleted = 0",
        )
        .bind(id)
        .bind(changed_by)
        .bind(now)
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn delete_request(&mut self, id: &str, now: i64) -> Result<bool> {
        let done = sqlx::query("UPDATE system_user_requests SET is_deleted = 1, last_changed = $2 WHERE id = $1 AND is_deleted = 0")
            .bind(id)
            .bind(now)
            .execute(&mut *self.tx)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Deletes the requests of `kind` with this identity, so the identity can be requested again.
    pub async fn delete_requests_by_identity(&mut self, party_org_no: &str, external_ref: &str, system_id: &str, kind: &str, now: i64) -> Result<u64> {
        let done = sqlx::query(
            "UPDATE system_user_requests SET is_deleted = 1, last_changed = $5 \
             WHERE party_org_no = $1 AND external_ref = $2 AND system_id = $3 AND kind = $4 AND is_deleted = 0",
        )
        .bind(party_org_no)
        .bind(external_ref)
        .bind(system_id)
        .bind(kind)
        .bind(now)
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected())
    }

    pub async fn insert_change_request(&mut self, row: &ChangeRequestRow) -> Result<ChangeRequestRow> {
        let mut row = row.clone();
        row.list_position = self.sequence;
        sqlx::query(&format!(
            "INSERT INTO system_user_change_requests ({CHANGE_REQUEST_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
        ))
        .bind(&row.id)
        .bind(&row.system_user_id)
        .bind(&row.external_ref)
        .bind(&row.system_id)
        .bind(&row.party_org_no)
        .bind(&row.required_rights)
        .bind(&row.unwanted_rights)
        .bind(&row.required_access_packages)
        .bind(&row.unwanted_access_packages)
        .bind(&row.status)
        .bind(&row.redirect_url)
        .bind(row.is_deleted)
        .bind(row.created)
        .bind(row.last_changed)
        .bind(&row.changed_by)
        .bind(row.list_position)
        .execute(&mut *self.tx)
        .await
        .map_err(StoreError::from_insert)?;
        Ok(row)
    }

    /// Moves a `New` change request to `status`; false when it is not `New`.
    pub async fn answer_change_request(&mut self, id: &str, status: &str, changed_by: &str, now: i64) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE system_user_change_requests SET status = $2, changed_by = $3, last_changed = $4 \
             WHERE id = $1 AND status = 'New' AND is_deleted = 0",
        )
        .bind(id)
        .bind(status)
        .bind(changed_by)
        .bind(now)
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn delete_change_request(&mut self, id: &str, now: i64) -> Result<bool> {
        let done = sqlx::query("UPDATE system_user_change_requests SET is_deleted = 1, last_changed = $2 WHERE id = $1 AND is_deleted = 0")
            .bind(id)
            .bind(now)
            .execute(&mut *self.tx)
            .await?;
        Ok(done.rows_affected() == 1)
    }
}
