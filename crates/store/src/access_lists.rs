//! Access lists: a service owner's named lists of parties, connected to its resources.

use crate::{Result, Store, WriteTx};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AccessListRow {
    pub id: String,
    pub owner_code: String,
    pub identifier: String,
    pub name: String,
    pub description: String,
    pub version: i64,
    pub created: i64,
    pub updated: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AccessListMemberRow {
    pub party_id: i64,
    pub party_uuid: String,
    pub since: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AccessListConnectionRow {
    pub resource_id: String,
    /// JSON array of actions; `None` means every action.
    pub action_filters: Option<String>,
    pub created: i64,
    pub updated: i64,
}

/// A list a party is on that is connected to a resource.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AccessListMembershipRow {
    pub owner_code: String,
    pub identifier: String,
    pub since: i64,
    pub action_filters: Option<String>,
}

const LIST_COLUMNS: &str = "id, owner_code, identifier, name, description, version, created, updated";

impl Store {
    pub async fn access_list(&self, owner_code: &str, identifier: &str) -> Result<Option<AccessListRow>> {
        Ok(sqlx::query_as(&format!("SELECT {LIST_COLUMNS} FROM access_lists WHERE owner_code = $1 AND identifier = $2"))
            .bind(owner_code)
            .bind(identifier)
            .fetch_optional(&self.pool)
            .await?)
    }

    pub async fn access_lists_of(&self, owner_code: &str) -> Result<Vec<AccessListRow>> {
        Ok(sqlx::query_as(&format!("SELECT {LIST_COLUMNS} FROM access_lists WHERE owner_code = $1 ORDER BY identifier"))
            .bind(owner_code)
            .fetch_all(&self.pool)
            .await?)
    }

    pub async fn access_list_members(&self, list_id: &str) -> Result<Vec<AccessListMemberRow>> {
        Ok(sqlx::query_as(
            "SELECT m.party_id, p.party_uuid, m.since FROM access_list_members m JOIN parties p ON p.party_id = m.party_id \
             WHERE m.list_id = $1 ORDER BY m.party_id",
        )
        .bind(list_id)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn access_list_connections(&self, list_id: &str) -> Result<Vec<AccessListConnectionRow>> {
        Ok(sqlx::query_as(
            "SELECT resource_id, action_filters, created, updated FROM access_list_resources WHERE list_id = $1 ORDER BY resource_id",
        )
        .bind(list_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The lists connected to `resource_id` that `party_id` is on.
    pub async fn access_list_memberships(&self, party_id: i64, resource_id: &str) -> Result<Vec<AccessListMembershipRow>> {
        Ok(sqlx::query_as(
            "SELECT l.owner_code, l.identifier, m.since, c.action_filters FROM access_list_resources c \
             JOIN access_list_members m ON m.list_id = c.list_id JOIN access_lists l ON l.id = c.list_id \
             WHERE c.resource_id = $1 AND m.party_id = $2 ORDER BY l.owner_code, l.identifier",
        )
        .bind(resource_id)
        .bind(party_id)
        .fetch_all(&self.pool)
        .await?)
    }
}

impl WriteTx {
    /// Creates the list or renames it; the list's version becomes this write's sequence.
    pub async fn upsert_access_list(&mut self, owner_code: &str, identifier: &str, name: &str, description: &str, now: i64) -> Result<()> {
        let sequence = self.sequence;
        sqlx::query(&format!(
            "INSERT INTO access_lists ({LIST_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) \
             ON CONFLICT (owner_code, identifier) DO UPDATE SET name = $4, description = $5, version = $6, updated = $7"
        ))
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(owner_code)
        .bind(identifier)
        .bind(name)
        .bind(description)
        .bind(sequence)
        .bind(now)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Marks a change to a list's members or connections.
    pub async fn touch_access_list(&mut self, list_id: &str, now: i64) -> Result<()> {
        let sequence = self.sequence;
        sqlx::query("UPDATE access_lists SET version = $2, updated = $3 WHERE id = $1")
            .bind(list_id)
            .bind(sequence)
            .bind(now)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    pub async fn delete_access_list(&mut self, list_id: &str) -> Result<()> {
        for table in ["access_list_members", "access_list_resources"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE list_id = $1")).bind(list_id).execute(&mut *self.tx).await?;
        }
        sqlx::query("DELETE FROM access_lists WHERE id = $1").bind(list_id).execute(&mut *self.tx).await?;
        Ok(())
    }

    pub async fn add_access_list_member(&mut self, list_id: &str, party_id: i64, now: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO access_list_members (list_id, party_id, since) VALUES ($1, $2, $3) ON CONFLICT (list_id, party_id) DO NOTHING",
        )
        .bind(list_id)
        .bind(party_id)
        .bind(now)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    pub async fn remove_access_list_member(&mut self, list_id: &str, party_id: i64) -> Result<()> {
        sqlx::query("DELETE FROM access_list_members WHERE list_id = $1 AND party_id = $2")
            .bind(list_id)
            .bind(party_id)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    pub async fn clear_access_list_members(&mut self, list_id: &str) -> Result<()> {
        sqlx::query("DELETE FROM access_list_members WHERE list_id = $1").bind(list_id).execute(&mut *self.tx).await?;
        Ok(())
    }

    pub async fn upsert_access_list_connection(&mut self, list_id: &str, resource_id: &str, action_filters: Option<&str>, now: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO access_list_resources (list_id, resource_id, action_filters, created, updated) VALUES ($1, $2, $3, $4, $4) \
             ON CONFLICT (list_id, resource_id) DO UPDATE SET action_filters = $3, updated = $4",
        )
        .bind(list_id)
        .bind(resource_id)
        .bind(action_filters)
        .bind(now)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    pub async fn delete_access_list_connection(&mut self, list_id: &str, resource_id: &str) -> Result<bool> {
        let n = sqlx::query("DELETE FROM access_list_resources WHERE list_id = $1 AND resource_id = $2")
            .bind(list_id)
            .bind(resource_id)
            .execute(&mut *self.tx)
            .await?
            .rows_affected();
        Ok(n == 1)
    }
}
