//! The system register (migration 0010): systems, the Maskinporten client ids they use, and
//! their change log. JSON columns hold the wire shapes; the service layer reads and writes them.

use crate::{Result, Store, StoreError, WriteTx};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SystemRow {
    pub internal_id: String,
    pub system_id: String,
    pub vendor_orgno: String,
    /// JSON object of texts by language.
    pub name: String,
    pub description: String,
    /// JSON `Right[]`.
    pub rights: String,
    /// JSON `AccessPackage[]`.
    pub access_packages: String,
    /// JSON array of URLs.
    pub allowed_redirect_urls: String,
    pub is_visible: i64,
    pub is_deleted: i64,
    pub created: i64,
    pub last_changed: i64,
}

impl SystemRow {
    pub fn deleted(&self) -> bool {
        self.is_deleted != 0
    }

    pub fn visible(&self) -> bool {
        self.is_visible != 0
    }
}

/// Which system a client id belongs to.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SystemClientRow {
    pub client_id: String,
    pub system_internal_id: String,
    pub system_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SystemChangeLogRow {
    pub id: String,
    pub system_internal_id: String,
    pub sequence: i64,
    pub changed_by_orgno: Option<String>,
    /// The stored spelling (`rights_update`, …).
    pub change_type: String,
    /// JSON.
    pub changed_data: String,
    pub client_id: Option<String>,
    pub created: i64,
}

const SYSTEM_COLUMNS: &str = "internal_id, system_id, vendor_orgno, name, description, rights, access_packages, \
     allowed_redirect_urls, is_visible, is_deleted, created, last_changed";

fn prefixed_columns(alias: &str) -> String {
    SYSTEM_COLUMNS.split(", ").map(|c| format!("{alias}.{}", c.trim())).collect::<Vec<_>>().join(", ")
}

impl Store {
    /// A system by its id, deleted or not (a deleted system stays readable and keeps its id).
    pub async fn system(&self, system_id: &str) -> Result<Option<SystemRow>> {
        Ok(sqlx::query_as(&format!("SELECT {SYSTEM_COLUMNS} FROM systems WHERE system_id = $1"))
            .bind(system_id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// A system that is not deleted, by its id.
    pub async fn live_system(&self, system_id: &str) -> Result<Option<SystemRow>> {
        Ok(self.system(system_id).await?.filter(|s| !s.deleted()))
    }

    pub async fn system_by_internal_id(&self, internal_id: &str) -> Result<Option<SystemRow>> {
        Ok(sqlx::query_as(&format!("SELECT {SYSTEM_COLUMNS} FROM systems WHERE internal_id = $1"))
            .bind(internal_id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// The system that is not deleted and uses `client_id` (letter case ignored): the one a
    /// Maskinporten client acts as.
    pub async fn live_system_by_client_id(&self, client_id: &str) -> Result<Option<SystemRow>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {} FROM system_clients c JOIN systems s ON s.internal_id = c.system_internal_id \
             WHERE c.client_key = $1 AND s.is_deleted = 0",
            prefixed_columns("s")
        ))
        .bind(client_id.to_lowercase())
        .fetch_optional(&self.pool)
        .await?)
    }

    /// A vendor's systems that are not deleted, visible or not, by system id.
    pub async fn live_systems_of_vendor(&self, vendor_orgno: &str) -> Result<Vec<SystemRow>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {SYSTEM_COLUMNS} FROM systems WHERE vendor_orgno = $1 AND is_deleted = 0 ORDER BY system_id"
        ))
        .bind(vendor_orgno)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Every system that is neither deleted nor hidden, by system id (what the portal offers).
    pub async fn visible_systems(&self) -> Result<Vec<SystemRow>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {SYSTEM_COLUMNS} FROM systems WHERE is_deleted = 0 AND is_visible = 1 ORDER BY system_id"
        ))
        .fetch_all(&self.pool)
        .await?)
    }

    /// A system's client ids, in the order the vendor listed them.
    pub async fn system_client_ids(&self, internal_id: &str) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar("SELECT client_id FROM system_clients WHERE system_internal_id = $1 ORDER BY position")
            .bind(internal_id)
            .fetch_all(&self.pool)
            .await?)
    }

    /// A system's change log, newest first.
    pub async fn system_change_log(&self, internal_id: &str) -> Result<Vec<SystemChangeLogRow>> {
        Ok(sqlx::query_as(
            "SELECT id, system_internal_id, sequence, changed_by_orgno, change_type, changed_data, client_id, created \
             FROM system_change_log WHERE system_internal_id = $1 ORDER BY sequence DESC, id DESC",
        )
        .bind(internal_id)
        .fetch_all(&self.pool)
        .await?)
    }
}

impl WriteTx {
    /// The system `system_id` as this transaction sees it (writers are serialised by the change
    /// sequence, so what it reads stays true until commit).
    pub async fn system(&mut self, system_id: &str) -> Result<Option<SystemRow>> {
        Ok(sqlx::query_as(&format!("SELECT {SYSTEM_COLUMNS} FROM systems WHERE system_id = $1"))
            .bind(system_id)
            .fetch_optional(&mut *self.tx)
            .await?)
    }

    /// Which of `client_ids` (letter case ignored) belong to a system, and to which.
    pub async fn system_client_owners(&mut self, client_ids: &[String]) -> Result<Vec<SystemClientRow>> {
        let mut out = Vec::new();
        for id in client_ids {
            let row: Option<SystemClientRow> = sqlx::query_as(
                "SELECT c.client_id, c.system_internal_id, s.system_id FROM system_clients c \
                 JOIN systems s ON s.internal_id = c.system_internal_id WHERE c.client_key = $1",
            )
            .bind(id.to_lowercase())
            .fetch_optional(&mut *self.tx)
            .await?;
            out.extend(row);
        }
        Ok(out)
    }

    /// Creates a system; [`StoreError::Conflict`] when its id (or a client id) is taken.
    pub async fn insert_system(&mut self, s: &SystemRow) -> Result<()> {
        sqlx::query(&format!(
            "INSERT INTO systems ({SYSTEM_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
        ))
        .bind(&s.internal_id)
        .bind(&s.system_id)
        .bind(&s.vendor_orgno)
        .bind(&s.name)
        .bind(&s.description)
        .bind(&s.rights)
        .bind(&s.access_packages)
        .bind(&s.allowed_redirect_urls)
        .bind(s.is_visible)
        .bind(s.is_deleted)
        .bind(s.created)
        .bind(s.last_changed)
        .execute(&mut *self.tx)
        .await
        .map_err(StoreError::from_insert)?;
        Ok(())
    }

    /// Replaces everything of a system but its ids, vendor, creation time and deletion flag.
    pub async fn update_system(&mut self, s: &SystemRow) -> Result<()> {
        sqlx::query(
            "UPDATE systems SET name = $2, description = $3, rights = $4, access_packages = $5, \
             allowed_redirect_urls = $6, is_visible = $7, last_changed = $8 WHERE internal_id = $1",
        )
        .bind(&s.internal_id)
        .bind(&s.name)
        .bind(&s.description)
        .bind(&s.rights)
        .bind(&s.access_packages)
        .bind(&s.allowed_redirect_urls)
        .bind(s.is_visible)
        .bind(s.last_changed)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    pub async fn set_system_rights(&mut self, internal_id: &str, rights_json: &str, now: i64) -> Result<()> {
        sqlx::query("UPDATE systems SET rights = $2, last_changed = $3 WHERE internal_id = $1")
            .bind(internal_id)
            .bind(rights_json)
            .bind(now)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    pub async fn set_system_access_packages(&mut self, internal_id: &str, packages_json: &str, now: i64) -> Result<()> {
        sqlx::query("UPDATE systems SET access_packages = $2, last_changed = $3 WHERE internal_id = $1")
            .bind(internal_id)
            .bind(packages_json)
            .bind(now)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// Makes `client_ids` (in this order) the system's client ids. [`StoreError::Conflict`]
    /// when one belongs to another system.
    pub async fn replace_system_client_ids(&mut self, internal_id: &str, client_ids: &[String], now: i64) -> Result<()> {
        sqlx::query("DELETE FROM system_clients WHERE system_internal_id = $1")
            .bind(internal_id)
            .execute(&mut *self.tx)
            .await?;
        for (position, id) in client_ids.iter().enumerate() {
            sqlx::query(
                "INSERT INTO system_clients (client_key, client_id, system_internal_id, position, created) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(id.to_lowercase())
            .bind(id)
            .bind(internal_id)
            .bind(position as i64)
            .bind(now)
            .execute(&mut *self.tx)
            .await
            .map_err(StoreError::from_insert)?;
        }
        Ok(())
    }

    /// Marks a system deleted and frees its client ids; false when it was deleted already.
    pub async fn delete_system(&mut self, internal_id: &str, now: i64) -> Result<bool> {
        let n = sqlx::query("UPDATE systems SET is_deleted = 1, last_changed = $2 WHERE internal_id = $1 AND is_deleted = 0")
            .bind(internal_id)
            .bind(now)
            .execute(&mut *self.tx)
            .await?
            .rows_affected();
        sqlx::query("DELETE FROM system_clients WHERE system_internal_id = $1")
            .bind(internal_id)
            .execute(&mut *self.tx)
            .await?;
        Ok(n == 1)
    }

    /// Adds a change-log row; its `sequence` is this transaction's.
    pub async fn insert_system_change(
        &mut self,
        internal_id: &str,
        changed_by_orgno: Option<&str>,
        change_type: &str,
        changed_data: &str,
        client_id: Option<&str>,
        now: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO system_change_log (id, system_internal_id, sequence, changed_by_orgno, change_type, changed_data, client_id, created) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(internal_id)
        .bind(self.sequence)
        .bind(changed_by_orgno)
        .bind(change_type)
        .bind(changed_data)
        .bind(client_id)
        .bind(now)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }
}
