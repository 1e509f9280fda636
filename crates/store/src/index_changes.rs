//! The change log of the decision index (migration 0007) and the bulk reads that build it.

use futures_util::TryStreamExt;

use crate::{Result, Store, WriteTx};

/// One logged change: which keys of the decision index a committed write touched.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct IndexChangeRow {
    pub sequence: i64,
    pub kind: String,
    pub party_id: i64,
    pub other: String,
}

/// A party as the decision index keeps it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct IndexPartyRow {
    pub party_id: i64,
    pub party_uuid: String,
    pub org_number: Option<String>,
    pub main_unit_party_id: Option<i64>,
    pub unit_type: Option<String>,
}

/// One package or right a party assigned to a system user (neither for a bare assignment).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SystemUserGrantRow {
    pub from_party_id: i64,
    pub to_uuid: String,
    pub role_code: String,
    pub package_id: Option<String>,
    pub resource_id: Option<String>,
    pub action: Option<String>,
}

pub const CHANGE_ASSIGNMENT: &str = "assignment";
pub const CHANGE_CLIENT: &str = "client";
pub const CHANGE_ROLE: &str = "role";
pub const CHANGE_PARTY: &str = "party";
pub const CHANGE_ALL: &str = "all";

impl Store {
    /// Changes below this sequence may have been swept.
    pub async fn index_changes_horizon(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT below FROM index_changes_horizon WHERE id = 1").fetch_one(&self.pool).await?)
    }

    /// Drops logged changes more than `keep` sequences old and raises the horizon to match.
    /// Not a state change of its own: it does not bump the change sequence.
    pub async fn sweep_index_changes(&self, keep: i64) -> Result<u64> {
        let below = self.change_sequence().await? - keep;
        if below <= self.index_changes_horizon().await? {
            return Ok(0);
        }
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE index_changes_horizon SET below = $1 WHERE id = 1").bind(below).execute(&mut *tx).await?;
        let n = sqlx::query("DELETE FROM index_changes WHERE sequence < $1").bind(below).execute(&mut *tx).await?.rows_affected();
        tx.commit().await?;
        Ok(n)
    }

    /// The changes committed after `after` up to and including `upto`, in order.
    pub async fn index_changes(&self, after: i64, upto: i64) -> Result<Vec<IndexChangeRow>> {
        Ok(sqlx::query_as(
            "SELECT sequence, kind, party_id, other FROM index_changes WHERE sequence > $1 AND sequence <= $2 \
             ORDER BY sequence, kind, party_id, other",
        )
        .bind(after)
        .bind(upto)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Every party, streamed to `each` (the register may hold millions).
    pub async fn for_each_index_party(&self, mut each: impl FnMut(IndexPartyRow)) -> Result<()> {
        let mut rows = sqlx::query_as::<_, IndexPartyRow>("SELECT party_id, party_uuid, org_number, main_unit_party_id, unit_type FROM parties")
            .fetch(&self.pool);
        while let Some(row) = rows.try_next().await? {
            each(row);
        }
        Ok(())
    }

    /// One party's index row.
    pub async fn index_party(&self, party_id: i64) -> Result<Option<IndexPartyRow>> {
        Ok(sqlx::query_as("SELECT party_id, party_uuid, org_number, main_unit_party_id, unit_type FROM parties WHERE party_id = $1")
            .bind(party_id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Every package and right assigned to system users, streamed to `each`.
    pub async fn for_each_system_user_grant(&self, mut each: impl FnMut(SystemUserGrantRow)) -> Result<()> {
        let mut rows = sqlx::query_as::<_, SystemUserGrantRow>(
            "SELECT a.from_party_id, a.to_uuid, a.role_code, p.package_id, CAST(NULL AS TEXT) AS resource_id, CAST(NULL AS TEXT) AS action \
             FROM assignments a LEFT JOIN assignment_packages p ON p.assignment_id = a.id WHERE a.to_kind = 'systemuser' \
             UNION ALL \
             SELECT a.from_party_id, a.to_uuid, a.role_code, CAST(NULL AS TEXT), r.resource_id, r.action \
             FROM assignments a JOIN assignment_rights r ON r.assignment_id = a.id WHERE a.to_kind = 'systemuser'",
        )
        .fetch(&self.pool);
        while let Some(row) = rows.try_next().await? {
            each(row);
        }
        Ok(())
    }

    /// Every (client, agent) pair with a client delegation.
    pub async fn client_delegation_pairs(&self) -> Result<Vec<(i64, String)>> {
        Ok(sqlx::query_as("SELECT DISTINCT client_party_id, agent_uuid FROM client_delegations").fetch_all(&self.pool).await?)
    }

    /// The (client, agent) pairs whose delegations involve `client_party_id` as client or
    /// `agent_uuid` as agent (either may be absent).
    pub async fn client_delegation_pairs_touching(&self, client_party_id: Option<i64>, agent_uuid: Option<&str>) -> Result<Vec<(i64, String)>> {
        Ok(sqlx::query_as(
            "SELECT DISTINCT client_party_id, agent_uuid FROM client_delegations WHERE client_party_id = $1 OR agent_uuid = $2",
        )
        .bind(client_party_id.unwrap_or(-1))
        .bind(agent_uuid.unwrap_or(""))
        .fetch_all(&self.pool)
        .await?)
    }
}

impl WriteTx {
    /// Logs that this write touched a key of the decision index.
    pub async fn record_index_change(&mut self, kind: &str, party_id: i64, other: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO index_changes (sequence, kind, party_id, other) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (sequence, kind, party_id, other) DO NOTHING",
        )
        .bind(self.sequence)
        .bind(kind)
        .bind(party_id)
        .bind(other)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Logs a change to the assignment `assignment_id` (from party, recipient).
    pub(crate) async fn record_assignment_change(&mut self, assignment_id: &str) -> Result<()> {
        self.record_change_of_row(CHANGE_ASSIGNMENT, "from_party_id, to_uuid FROM assignments", assignment_id).await
    }

    /// Logs a change to the client delegation `delegation_id` (client, agent).
    pub(crate) async fn record_delegation_change(&mut self, delegation_id: &str) -> Result<()> {
        self.record_change_of_row(CHANGE_CLIENT, "client_party_id, agent_uuid FROM client_delegations", delegation_id).await
    }

    /// Logs `kind` for the (party, other) key that `columns_from_table` selects from the row `id`.
    async fn record_change_of_row(&mut self, kind: &str, columns_from_table: &str, id: &str) -> Result<()> {
        sqlx::query(&format!(
            "INSERT INTO index_changes (sequence, kind, party_id, other) SELECT $1, $2, {columns_from_table} WHERE id = $3 \
             ON CONFLICT (sequence, kind, party_id, other) DO NOTHING"
        ))
        .bind(self.sequence)
        .bind(kind)
        .bind(id)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }
}
