//! The resource registry's tables: resources with their versions and policies, the subject
//! index derived from policies, and the org-code → organisation-number binding.

use crate::{Result, Store, StoreError, WriteTx};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ResourceRow {
    pub identifier: String,
    pub owner_orgno: Option<String>,
    pub owner_code: Option<String>,
    pub resource_type: String,
    pub version_id: i64,
    pub body: String,
    pub policy_xml: Option<String>,
    pub policy_version: Option<i64>,
    pub created: i64,
    pub modified: i64,
    pub deleted: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ResourceSubjectRow {
    pub identifier: String,
    pub subject_urn: String,
    pub subject_type: String,
    pub subject_value: String,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ServiceOwnerRow {
    pub orgcode: String,
    pub orgno: Option<String>,
    pub created: i64,
}

const RESOURCE_COLUMNS: &str =
    "identifier, owner_orgno, owner_code, resource_type, version_id, body, policy_xml, policy_version, created, modified, deleted";

impl Store {
    /// A resource, deleted or not (callers decide what a deleted one means to them).
    pub async fn resource(&self, identifier: &str) -> Result<Option<ResourceRow>> {
        Ok(sqlx::query_as(&format!("SELECT {RESOURCE_COLUMNS} FROM resources WHERE identifier = $1"))
            .bind(identifier)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// The body of one stored version of a resource.
    pub async fn resource_version(&self, identifier: &str, version_id: i64) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT body FROM resource_versions WHERE identifier = $1 AND version_id = $2")
            .bind(identifier)
            .bind(version_id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Every resource that is not deleted, ordered by identifier.
    pub async fn current_resources(&self) -> Result<Vec<ResourceRow>> {
        Ok(sqlx::query_as(&format!("SELECT {RESOURCE_COLUMNS} FROM resources WHERE deleted = 0 ORDER BY identifier"))
            .fetch_all(&self.pool)
            .await?)
    }

    pub async fn resource_subjects(&self, identifier: &str) -> Result<Vec<ResourceSubjectRow>> {
        Ok(sqlx::query_as(
            "SELECT identifier, subject_urn, subject_type, subject_value FROM resource_subjects \
             WHERE identifier = $1 ORDER BY subject_urn",
        )
        .bind(identifier)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The (resource, subject) pairs of current resources whose policy names one of `subject_urns`.
    pub async fn resources_for_subjects(&self, subject_urns: &[String]) -> Result<Vec<ResourceSubjectRow>> {
        let mut out = Vec::new();
        for urn in subject_urns {
            let rows: Vec<ResourceSubjectRow> = sqlx::query_as(
                "SELECT s.identifier, s.subject_urn, s.subject_type, s.subject_value FROM resource_subjects s \
                 JOIN resources r ON r.identifier = s.identifier \
                 WHERE s.subject_urn = $1 AND r.deleted = 0 ORDER BY s.identifier",
            )
            .bind(urn.to_lowercase())
            .fetch_all(&self.pool)
            .await?;
            out.extend(rows);
        }
        Ok(out)
    }

    pub async fn service_owner(&self, orgcode: &str) -> Result<Option<ServiceOwnerRow>> {
        Ok(sqlx::query_as("SELECT orgcode, orgno, created FROM service_owners WHERE orgcode = $1")
            .bind(orgcode.to_lowercase())
            .fetch_optional(&self.pool)
            .await?)
    }

    pub async fn service_owners(&self) -> Result<Vec<ServiceOwnerRow>> {
        Ok(sqlx::query_as("SELECT orgcode, orgno, created FROM service_owners ORDER BY orgcode")
            .fetch_all(&self.pool)
            .await?)
    }
}

impl WriteTx {
    /// Binds an org code to an organisation number unless it is bound already; returns the
    /// binding in force (which the caller compares with what it wanted).
    pub async fn bind_service_owner(&mut self, orgcode: &str, orgno: Option<&str>, now: i64) -> Result<ServiceOwnerRow> {
        let code = orgcode.to_lowercase();
        sqlx::query("INSERT INTO service_owners (orgcode, orgno, created) VALUES ($1, $2, $3) ON CONFLICT (orgcode) DO NOTHING")
            .bind(&code)
            .bind(orgno)
            .bind(now)
            .execute(&mut *self.tx)
            .await?;
        Ok(sqlx::query_as("SELECT orgcode, orgno, created FROM service_owners WHERE orgcode = $1")
            .bind(&code)
            .fetch_one(&mut *self.tx)
            .await?)
    }

    /// Creates a resource and its first version; [`StoreError::Conflict`] if the identifier
    /// exists, deleted or not.
    pub async fn insert_resource(&mut self, r: &ResourceRow) -> Result<()> {
        sqlx::query(&format!(
            "INSERT INTO resources ({RESOURCE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        ))
        .bind(&r.identifier)
        .bind(&r.owner_orgno)
        .bind(&r.owner_code)
        .bind(&r.resource_type)
        .bind(r.version_id)
        .bind(&r.body)
        .bind(&r.policy_xml)
        .bind(r.policy_version)
        .bind(r.created)
        .bind(r.modified)
        .bind(r.deleted)
        .execute(&mut *self.tx)
        .await
        .map_err(StoreError::from_insert)?;
        self.insert_resource_version(&r.identifier, r.version_id, &r.body, r.modified).await
    }

    /// Writes a new current version of an existing resource (its policy stays).
    pub async fn update_resource(&mut self, r: &ResourceRow) -> Result<()> {
        sqlx::query(
            "UPDATE resources SET owner_orgno = $2, owner_code = $3, resource_type = $4, version_id = $5, body = $6, \
             modified = $7 WHERE identifier = $1",
        )
        .bind(&r.identifier)
        .bind(&r.owner_orgno)
        .bind(&r.owner_code)
        .bind(&r.resource_type)
        .bind(r.version_id)
        .bind(&r.body)
        .bind(r.modified)
        .execute(&mut *self.tx)
        .await?;
        self.insert_resource_version(&r.identifier, r.version_id, &r.body, r.modified).await
    }

    async fn insert_resource_version(&mut self, identifier: &str, version_id: i64, body: &str, now: i64) -> Result<()> {
        sqlx::query("INSERT INTO resource_versions (version_id, identifier, body, created) VALUES ($1, $2, $3, $4)")
            .bind(version_id)
            .bind(identifier)
            .bind(body)
            .bind(now)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// Replaces a resource's policy and the subject index derived from it.
    pub async fn set_resource_policy(&mut self, identifier: &str, xml: &str, subjects: &[ResourceSubjectRow], now: i64) -> Result<()> {
        let sequence = self.sequence;
        sqlx::query("UPDATE resources SET policy_xml = $2, policy_version = $3, modified = $4 WHERE identifier = $1")
            .bind(identifier)
            .bind(xml)
            .bind(sequence)
            .bind(now)
            .execute(&mut *self.tx)
            .await?;
        sqlx::query("DELETE FROM resource_subjects WHERE identifier = $1")
            .bind(identifier)
            .execute(&mut *self.tx)
            .await?;
        for s in subjects {
            sqlx::query(
                "INSERT INTO resource_subjects (identifier, subject_urn, subject_type, subject_value) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (identifier, subject_urn) DO NOTHING",
            )
            .bind(identifier)
            .bind(&s.subject_urn)
            .bind(&s.subject_type)
            .bind(&s.subject_value)
            .execute(&mut *self.tx)
            .await?;
        }
        Ok(())
    }

    /// Marks a resource deleted. Its identifier stays taken, so grants and policies written
    /// for it can never come to mean a different resource created later under the same name.
    pub async fn delete_resource(&mut self, identifier: &str, now: i64) -> Result<bool> {
        let n = sqlx::query("UPDATE resources SET deleted = 1, modified = $2 WHERE identifier = $1 AND deleted = 0")
            .bind(identifier)
            .bind(now)
            .execute(&mut *self.tx)
            .await?
            .rows_affected();
        sqlx::query("DELETE FROM resource_subjects WHERE identifier = $1")
            .bind(identifier)
            .execute(&mut *self.tx)
            .await?;
        Ok(n == 1)
    }
}
