//! The register tables: parties and ER roles. Single-row writes for the add use cases, and
//! multi-row upserts for bulk import (as many rows per statement as the bind-parameter limits
//! of both databases allow).
//!
//! What this module does not check: that a role code is an ER role, that a main unit is one
//! level deep, or that identifiers are well formed. The service layer validates those before it
//! writes; the schema only keeps keys unique and references intact.

use crate::{bind_rows_limit, values_list, Result, Store, StoreError, WriteTx};

/// A party as stored. `main_unit_org_number` is filled on reads (from the main unit's row) and
/// ignored on writes.
#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct PartyRow {
    pub party_id: i64,
    pub party_uuid: String,
    /// `organization` or `person`.
    pub party_type: String,
    pub org_number: Option<String>,
    pub person_identifier: Option<String>,
    pub name: String,
    pub unit_type: Option<String>,
    pub main_unit_party_id: Option<i64>,
    pub is_deleted: i64,
    pub created: i64,
    pub last_changed: i64,
    pub main_unit_org_number: Option<String>,
}

/// One ER role: `to_party_id` holds `role_code` in the unit `from_party_id`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ErRoleRow {
    pub from_party_id: i64,
    pub role_code: String,
    pub to_party_id: i64,
}

/// An ER role as read, with both parties' identifiers and names.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ErRoleRecord {
    pub from_party_id: i64,
    pub from_party_uuid: String,
    pub from_org_number: Option<String>,
    pub from_name: String,
    pub from_unit_type: Option<String>,
    pub role_code: String,
    pub to_party_id: i64,
    pub to_party_uuid: String,
    pub to_party_type: String,
    pub to_org_number: Option<String>,
    pub to_person_identifier: Option<String>,
    pub to_name: String,
}

/// A unit in which some party holds an ER role, with the role's code.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RoleUnitRow {
    #[sqlx(flatten)]
    pub unit: PartyRow,
    pub role_code: String,
}

/// The identifying columns of a party, read in pages (by bulk import, and by anything that
/// builds an in-memory index of the register).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PartyKeyRow {
    pub party_id: i64,
    pub party_uuid: String,
    pub party_type: String,
    pub org_number: Option<String>,
    pub person_identifier: Option<String>,
    pub unit_type: Option<String>,
    pub main_unit_party_id: Option<i64>,
    pub main_unit_org_number: Option<String>,
}

/// How to find one party.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartyKey<'a> {
    Id(i64),
    Uuid(&'a str),
    OrgNumber(&'a str),
    PersonIdentifier(&'a str),
}

/// The columns of [`PartyRow`], with the main unit's organisation number joined in.
macro_rules! party_select {
    () => {
        "SELECT p.party_id, p.party_uuid, p.party_type, p.org_number, p.person_identifier, p.name, \
         p.unit_type, p.main_unit_party_id, p.is_deleted, p.created, p.last_changed, m.org_number AS main_unit_org_number \
         FROM parties p LEFT JOIN parties m ON m.party_id = p.main_unit_party_id"
    };
}
const PARTY_SELECT: &str = party_select!();

const ROLE_SELECT: &str = "SELECT r.from_party_id, f.party_uuid AS from_party_uuid, f.org_number AS from_org_number, \
     f.name AS from_name, f.unit_type AS from_unit_type, r.role_code, r.to_party_id, t.party_uuid AS to_party_uuid, \
     t.party_type AS to_party_type, t.org_number AS to_org_number, t.person_identifier AS to_person_identifier, \
     t.name AS to_name \
     FROM er_roles r JOIN parties f ON f.party_id = r.from_party_id JOIN parties t ON t.party_id = r.to_party_id";

const PARTY_COLUMNS: &str = "party_id, party_uuid, party_type, org_number, person_identifier, name, unit_type, \
     main_unit_party_id, is_deleted, created, last_changed";
const PARTY_COLUMN_COUNT: usize = 11;

fn party_query(key: PartyKey<'_>) -> sqlx::query::QueryAs<'_, sqlx::Any, PartyRow, sqlx::any::AnyArguments<'_>> {
    match key {
        PartyKey::Id(id) => sqlx::query_as(concat!(party_select!(), " WHERE p.party_id = $1")).bind(id),
        PartyKey::Uuid(uuid) => sqlx::query_as(concat!(party_select!(), " WHERE p.party_uuid = $1")).bind(uuid),
        PartyKey::OrgNumber(n) => sqlx::query_as(concat!(party_select!(), " WHERE p.org_number = $1")).bind(n),
        PartyKey::PersonIdentifier(n) => {
            sqlx::query_as(concat!(party_select!(), " WHERE p.person_identifier = $1")).bind(n)
        }
    }
}

impl Store {
    pub async fn find_party(&self, key: PartyKey<'_>) -> Result<Option<PartyRow>> {
        Ok(party_query(key).fetch_optional(&self.pool).await?)
    }

    /// An organisation's sub-units, by party id.
    pub async fn sub_units(&self, main_unit_party_id: i64) -> Result<Vec<PartyRow>> {
        Ok(sqlx::query_as(&format!("{PARTY_SELECT} WHERE p.main_unit_party_id = $1 ORDER BY p.party_id"))
            .bind(main_unit_party_id)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Everyone holding an ER role in the unit `from_party_id`.
    pub async fn er_roles_in(&self, from_party_id: i64) -> Result<Vec<ErRoleRecord>> {
        Ok(sqlx::query_as(&format!("{ROLE_SELECT} WHERE r.from_party_id = $1 ORDER BY r.role_code, r.to_party_id"))
            .bind(from_party_id)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Every ER role `to_party_id` holds, in any unit.
    pub async fn er_roles_held_by(&self, to_party_id: i64) -> Result<Vec<ErRoleRecord>> {
        Ok(sqlx::query_as(&format!("{ROLE_SELECT} WHERE r.to_party_id = $1 ORDER BY r.from_party_id, r.role_code"))
            .bind(to_party_id)
            .fetch_all(&self.pool)
            .await?)
    }

    /// The live organisations in which `to_party_id` holds an ER role, one row per (unit, role):
    /// a facilitator's client relations in one query however many clients it has.
    pub async fn units_with_role_holder(&self, to_party_id: i64) -> Result<Vec<RoleUnitRow>> {
        Ok(sqlx::query_as(
            "SELECT p.party_id, p.party_uuid, p.party_type, p.org_number, p.person_identifier, p.name, p.unit_type, \
                    p.main_unit_party_id, p.is_deleted, p.created, p.last_changed, m.org_number AS main_unit_org_number, r.role_code \
             FROM er_roles r JOIN parties p ON p.party_id = r.from_party_id LEFT JOIN parties m ON m.party_id = p.main_unit_party_id \
             WHERE r.to_party_id = $1 AND p.is_deleted = 0 AND p.party_type = 'organization' ORDER BY p.party_id, r.role_code",
        )
        .bind(to_party_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The clients that have a client delegation to `agent_uuid`, in name order.
    pub async fn clients_of_agent(&self, agent_uuid: &str) -> Result<Vec<PartyRow>> {
        Ok(sqlx::query_as(&format!(
            "{PARTY_SELECT} WHERE p.party_id IN (SELECT client_party_id FROM client_delegations WHERE agent_uuid = $1) \
             ORDER BY p.name, p.party_id"
        ))
        .bind(agent_uuid)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The role codes `to_party_id` holds in the unit `from_party_id`.
    pub async fn er_role_codes(&self, from_party_id: i64, to_party_id: i64) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT role_code FROM er_roles WHERE to_party_id = $1 AND from_party_id = $2 ORDER BY role_code",
        )
        .bind(to_party_id)
        .bind(from_party_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Up to `limit` parties' keys with party ids above `after`, in party-id order (keyset
    /// pages, so a caller can read millions without holding them twice).
    pub async fn party_keys_after(&self, after: i64, limit: i64) -> Result<Vec<PartyKeyRow>> {
        Ok(sqlx::query_as(
            "SELECT p.party_id, p.party_uuid, p.party_type, p.org_number, p.person_identifier, p.unit_type, \
             p.main_unit_party_id, m.org_number AS main_unit_org_number \
             FROM parties p LEFT JOIN parties m ON m.party_id = p.main_unit_party_id \
             WHERE p.party_id > $1 ORDER BY p.party_id LIMIT $2",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Up to `limit` ER roles after `after` in key order (from, role code, to): keyset pages for
    /// building an in-memory index of every role.
    pub async fn er_roles_after(&self, after: Option<&ErRoleRow>, limit: i64) -> Result<Vec<ErRoleRow>> {
        let rows: Vec<(i64, String, i64)> = match after {
            None => {
                sqlx::query_as("SELECT from_party_id, role_code, to_party_id FROM er_roles ORDER BY from_party_id, role_code, to_party_id LIMIT $1")
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?
            }
            Some(a) => {
                sqlx::query_as(
                    "SELECT from_party_id, role_code, to_party_id FROM er_roles \
                     WHERE from_party_id > $1 OR (from_party_id = $1 AND (role_code > $2 OR (role_code = $2 AND to_party_id > $3))) \
                     ORDER BY from_party_id, role_code, to_party_id LIMIT $4",
                )
                .bind(a.from_party_id)
                .bind(&a.role_code)
                .bind(a.to_party_id)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?
            }
        };
        Ok(rows.into_iter().map(|(from_party_id, role_code, to_party_id)| ErRoleRow { from_party_id, role_code, to_party_id }).collect())
    }

    pub async fn party_count(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM parties").fetch_one(&self.pool).await?)
    }

    pub async fn er_role_count(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM er_roles").fetch_one(&self.pool).await?)
    }

    /// The highest party id in use, if any.
    pub async fn max_party_id(&self) -> Result<Option<i64>> {
        Ok(sqlx::query_scalar("SELECT MAX(party_id) FROM parties").fetch_one(&self.pool).await?)
    }
}

impl WriteTx {
    /// Reads inside the write transaction, so a check and the write after it see the same data.
    pub async fn find_party(&mut self, key: PartyKey<'_>) -> Result<Option<PartyRow>> {
        Ok(party_query(key).fetch_optional(&mut *self.tx).await?)
    }

    /// [`Store::er_role_codes`] under this transaction's write lock.
    pub async fn er_role_codes(&mut self, from_party_id: i64, to_party_id: i64) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar("SELECT role_code FROM er_roles WHERE to_party_id = $1 AND from_party_id = $2 ORDER BY role_code")
            .bind(to_party_id)
            .bind(from_party_id)
            .fetch_all(&mut *self.tx)
            .await?)
    }

    /// Removes one ER role (the unit deregistered it); false if it was not there.
    pub async fn delete_er_role(&mut self, role: &ErRoleRow) -> Result<bool> {
        let n = sqlx::query("DELETE FROM er_roles WHERE from_party_id = $1 AND role_code = $2 AND to_party_id = $3")
            .bind(role.from_party_id)
            .bind(&role.role_code)
            .bind(role.to_party_id)
            .execute(&mut *self.tx)
            .await?
            .rows_affected();
        self.record_index_change(crate::CHANGE_ROLE, role.from_party_id, &role.to_party_id.to_string()).await?;
        Ok(n == 1)
    }

    pub async fn has_er_role(&mut self, role: &ErRoleRow) -> Result<bool> {
        let found: Option<i64> =
            sqlx::query_scalar("SELECT 1 FROM er_roles WHERE from_party_id = $1 AND role_code = $2 AND to_party_id = $3")
                .bind(role.from_party_id)
                .bind(&role.role_code)
                .bind(role.to_party_id)
                .fetch_optional(&mut *self.tx)
                .await?;
        Ok(found.is_some())
    }

    /// The highest party id in use, read under the write lock (every write transaction
    /// serialises on the change-sequence row first), so two writers never pick the same next id.
    pub async fn max_party_id(&mut self) -> Result<Option<i64>> {
        Ok(sqlx::query_scalar("SELECT MAX(party_id) FROM parties").fetch_one(&mut *self.tx).await?)
    }

    /// Inserts one party; any key already taken is [`StoreError::Conflict`].
    pub async fn insert_party(&mut self, p: &PartyRow) -> Result<()> {
        let sql = format!("INSERT INTO parties ({PARTY_COLUMNS}) VALUES {}", values_list(self.backend, 1, PARTY_COLUMN_COUNT));
        bind_party(sqlx::query(&sql), p).execute(&mut *self.tx).await.map_err(StoreError::from_insert)?;
        self.record_index_change(crate::CHANGE_PARTY, p.party_id, "").await?;
        Ok(())
    }

    /// Inserts one role; an existing identical role is [`StoreError::Conflict`].
    pub async fn insert_er_role(&mut self, role: &ErRoleRow, now: i64) -> Result<()> {
        sqlx::query("INSERT INTO er_roles (from_party_id, role_code, to_party_id, created) VALUES ($1, $2, $3, $4)")
            .bind(role.from_party_id)
            .bind(&role.role_code)
            .bind(role.to_party_id)
            .bind(now)
            .execute(&mut *self.tx)
            .await
            .map_err(StoreError::from_insert)?;
        self.record_index_change(crate::CHANGE_ROLE, role.from_party_id, &role.to_party_id.to_string()).await?;
        Ok(())
    }

    /// Inserts parties, or updates name, unit type and main unit of those whose party id
    /// exists (their uuid, type, identifiers and `created` stay). Rows must have distinct party
    /// ids. Returns how many rows were inserted or actually changed.
    pub async fn upsert_parties(&mut self, rows: &[PartyRow]) -> Result<u64> {
        let mut changed = 0;
        for chunk in rows.chunks(bind_rows_limit(PARTY_COLUMN_COUNT)) {
            let sql = format!(
                "INSERT INTO parties ({PARTY_COLUMNS}) VALUES {} ON CONFLICT (party_id) DO UPDATE SET \
                 name = excluded.name, unit_type = excluded.unit_type, main_unit_party_id = excluded.main_unit_party_id, \
                 last_changed = excluded.last_changed \
                 WHERE parties.name <> excluded.name OR parties.unit_type IS DISTINCT FROM excluded.unit_type \
                 OR parties.main_unit_party_id IS DISTINCT FROM excluded.main_unit_party_id",
                values_list(self.backend, chunk.len(), PARTY_COLUMN_COUNT)
            );
            let mut query = sqlx::query(&sql);
            for p in chunk {
                query = bind_party(query, p);
            }
            changed += query.execute(&mut *self.tx).await.map_err(StoreError::from_insert)?.rows_affected();
        }
        self.record_index_change(crate::CHANGE_ALL, 0, "").await?;
        Ok(changed)
    }

    /// Inserts roles that do not exist yet; returns how many were new.
    pub async fn insert_er_roles(&mut self, rows: &[ErRoleRow], now: i64) -> Result<u64> {
        let mut inserted = 0;
        for chunk in rows.chunks(bind_rows_limit(4)) {
            let sql = format!(
                "INSERT INTO er_roles (from_party_id, role_code, to_party_id, created) VALUES {} \
                 ON CONFLICT (from_party_id, role_code, to_party_id) DO NOTHING",
                values_list(self.backend, chunk.len(), 4)
            );
            let mut query = sqlx::query(&sql);
            for r in chunk {
                query = query.bind(r.from_party_id).bind(&r.role_code).bind(r.to_party_id).bind(now);
            }
            inserted += query.execute(&mut *self.tx).await.map_err(StoreError::from_insert)?.rows_affected();
        }
        // A bulk write: nodes rebuild their decision index rather than follow row by row.
        self.record_index_change(crate::CHANGE_ALL, 0, "").await?;
        Ok(inserted)
    }
}

fn bind_party<'q>(
    query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    p: &'q PartyRow,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    query
        .bind(p.party_id)
        .bind(&p.party_uuid)
        .bind(&p.party_type)
        .bind(&p.org_number)
        .bind(&p.person_identifier)
        .bind(&p.name)
        .bind(&p.unit_type)
        .bind(p.main_unit_party_id)
        .bind(p.is_deleted)
        .bind(p.created)
        .bind(p.last_changed)
}
