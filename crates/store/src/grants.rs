//! Grants: assignments with their packages and rights, and client delegations. Reads serve
//! the policy information point; writes are the building blocks of approval, delegation and
//! revocation, each called inside the caller's [`WriteTx`].

use crate::{Result, Store, WriteTx};

/// Who receives an assignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecipientKind {
    Person,
    Organization,
    SystemUser,
}

impl RecipientKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RecipientKind::Person => "person",
            RecipientKind::Organization => "organization",
            RecipientKind::SystemUser => "systemuser",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AssignmentRow {
    pub id: String,
    pub from_party_id: i64,
    pub to_uuid: String,
    pub to_kind: String,
    pub role_code: String,
    pub created: i64,
}

/// One thing an assignment carries: a package, a right, or (for a bare assignment) neither.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AssignmentGrantRow {
    pub assignment_id: String,
    pub from_party_id: i64,
    pub role_code: String,
    pub package_id: Option<String>,
    pub resource_id: Option<String>,
    pub action: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ClientDelegationRow {
    pub id: String,
    pub client_party_id: i64,
    pub facilitator_party_id: i64,
    pub via_role_code: String,
    pub agent_uuid: String,
    pub created: i64,
}

/// A client delegation with one of its packages (none for a delegation without packages).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ClientDelegationPackageRow {
    pub delegation_id: String,
    pub client_party_id: i64,
    pub facilitator_party_id: i64,
    pub via_role_code: String,
    pub package_id: Option<String>,
}

/// A facilitator's delegation with one of its packages (none for a delegation without any).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct FacilitatorDelegationRow {
    pub delegation_id: String,
    pub client_party_id: i64,
    pub agent_uuid: String,
    pub via_role_code: String,
    pub package_id: Option<String>,
}

const FACILITATOR_DELEGATIONS: &str = "SELECT d.id AS delegation_id, d.client_party_id, d.agent_uuid, d.via_role_code, p.package_id \
     FROM client_delegations d LEFT JOIN client_delegation_packages p ON p.delegation_id = d.id";
const FACILITATOR_DELEGATIONS_ORDER: &str = "ORDER BY d.client_party_id, d.agent_uuid, d.via_role_code, p.package_id";

const ASSIGNMENT_COLUMNS: &str = "id, from_party_id, to_uuid, to_kind, role_code, created";
const DELEGATION_COLUMNS: &str = "id, client_party_id, facilitator_party_id, via_role_code, agent_uuid, created";

impl Store {
    /// Everything `from_party_id` has given `to_uuid` directly: one row per package and per
    /// right, and one bare row for an assignment that carries neither.
    pub async fn grants_from(&self, from_party_id: i64, to_uuid: &str) -> Result<Vec<AssignmentGrantRow>> {
        Ok(sqlx::query_as(
            "SELECT a.id AS assignment_id, a.from_party_id, a.role_code, p.package_id, \
                    CAST(NULL AS TEXT) AS resource_id, CAST(NULL AS TEXT) AS action \
             FROM assignments a LEFT JOIN assignment_packages p ON p.assignment_id = a.id \
             WHERE a.from_party_id = $1 AND a.to_uuid = $2 \
             UNION ALL \
             SELECT a.id, a.from_party_id, a.role_code, CAST(NULL AS TEXT), r.resource_id, r.action \
             FROM assignments a JOIN assignment_rights r ON r.assignment_id = a.id \
             WHERE a.from_party_id = $1 AND a.to_uuid = $2 \
             ORDER BY 1, 4, 5, 6",
        )
        .bind(from_party_id)
        .bind(to_uuid)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The assignments a party has given, with their recipients.
    pub async fn assignments_from(&self, from_party_id: i64) -> Result<Vec<AssignmentRow>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {ASSIGNMENT_COLUMNS} FROM assignments WHERE from_party_id = $1 ORDER BY created, id"
        ))
        .bind(from_party_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The assignments a recipient holds, from any party.
    pub async fn assignments_to(&self, to_uuid: &str) -> Result<Vec<AssignmentRow>> {
        Ok(sqlx::query_as(&format!("SELECT {ASSIGNMENT_COLUMNS} FROM assignments WHERE to_uuid = $1 ORDER BY created, id"))
            .bind(to_uuid)
            .fetch_all(&self.pool)
            .await?)
    }

    pub async fn assignment(&self, from_party_id: i64, to_uuid: &str, role_code: &str) -> Result<Option<AssignmentRow>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {ASSIGNMENT_COLUMNS} FROM assignments WHERE from_party_id = $1 AND to_uuid = $2 AND role_code = $3"
        ))
        .bind(from_party_id)
        .bind(to_uuid)
        .bind(role_code)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// The packages client delegations give `agent_uuid` for `client_party_id`, with the
    /// chain they came through (the PIP checks that the chain still stands).
    pub async fn client_delegation_packages(&self, agent_uuid: &str, client_party_id: i64) -> Result<Vec<ClientDelegationPackageRow>> {
        Ok(sqlx::query_as(
            "SELECT d.id AS delegation_id, d.client_party_id, d.facilitator_party_id, d.via_role_code, p.package_id \
             FROM client_delegations d LEFT JOIN client_delegation_packages p ON p.delegation_id = d.id \
             WHERE d.agent_uuid = $1 AND d.client_party_id = $2 ORDER BY d.id, p.package_id",
        )
        .bind(agent_uuid)
        .bind(client_party_id)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn client_delegations_of_agent(&self, agent_uuid: &str) -> Result<Vec<ClientDelegationRow>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {DELEGATION_COLUMNS} FROM client_delegations WHERE agent_uuid = $1 ORDER BY client_party_id, via_role_code"
        ))
        .bind(agent_uuid)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The packages given to `to_uuid` under `role_code`, with the giving party: one row per
    /// (giver, package). A facilitator's clients by rettighetshaver are found this way.
    pub async fn packages_given_to(&self, to_uuid: &str, role_code: &str) -> Result<Vec<(i64, String)>> {
        Ok(sqlx::query_as(
            "SELECT a.from_party_id, p.package_id FROM assignments a JOIN assignment_packages p ON p.assignment_id = a.id \
             WHERE a.to_uuid = $1 AND a.role_code = $2 ORDER BY a.from_party_id, p.package_id",
        )
        .bind(to_uuid)
        .bind(role_code)
        .fetch_all(&self.pool)
        .await?)
    }
    /// The packages `facilitator_party_id` has delegated to `agent_uuid`, for every client: one
    /// row per (client, via role, package). The Access Management API lists an agent's clients
    /// this way.
    pub async fn facilitator_delegations_to_agent(&self, facilitator_party_id: i64, agent_uuid: &str) -> Result<Vec<FacilitatorDelegationRow>> {
        Ok(sqlx::query_as(&format!("{FACILITATOR_DELEGATIONS} WHERE d.facilitator_party_id = $1 AND d.agent_uuid = $2 {FACILITATOR_DELEGATIONS_ORDER}"))
            .bind(facilitator_party_id)
            .bind(agent_uuid)
            .fetch_all(&self.pool)
            .await?)
    }

    /// The packages `facilitator_party_id` has delegated for `client_party_id`, to every agent.
    pub async fn facilitator_delegations_for_client(&self, facilitator_party_id: i64, client_party_id: i64) -> Result<Vec<FacilitatorDelegationRow>> {
        Ok(sqlx::query_as(&format!("{FACILITATOR_DELEGATIONS} WHERE d.facilitator_party_id = $1 AND d.client_party_id = $2 {FACILITATOR_DELEGATIONS_ORDER}"))
            .bind(facilitator_party_id)
            .bind(client_party_id)
            .fetch_all(&self.pool)
            .await?)
    }
}

impl WriteTx {
    /// The assignment (from, to, role), created if it does not exist; returns its id.
    pub async fn ensure_assignment(
        &mut self,
        from_party_id: i64,
        to_uuid: &str,
        to_kind: RecipientKind,
        role_code: &str,
        now: i64,
    ) -> Result<String> {
        let id = uuid::Uuid::new_v4().to_string();
        let inserted = sqlx::query(
            "INSERT INTO assignments (id, from_party_id, to_uuid, to_kind, role_code, created) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (from_party_id, to_uuid, role_code) DO NOTHING",
        )
        .bind(&id)
        .bind(from_party_id)
        .bind(to_uuid)
        .bind(to_kind.as_str())
        .bind(role_code)
        .bind(now)
        .execute(&mut *self.tx)
        .await?
        .rows_affected();
        let id: String = sqlx::query_scalar("SELECT id FROM assignments WHERE from_party_id = $1 AND to_uuid = $2 AND role_code = $3")
            .bind(from_party_id)
            .bind(to_uuid)
            .bind(role_code)
            .fetch_one(&mut *self.tx)
            .await?;
        // An assignment that existed already changes nothing the decision index knows; logging
        // it anyway would make the index re-read every delegation of the recipient on each
        // client added to an agent (quadratic for a firm adding all its clients).
        if inserted == 1 {
            self.record_assignment_change(&id).await?;
        }
        Ok(id)
    }

    /// Adds a package to an assignment; false if it was there already.
    pub async fn add_assignment_package(&mut self, assignment_id: &str, package_id: &str, now: i64) -> Result<bool> {
        self.record_assignment_change(assignment_id).await?;
        let n = sqlx::query(
            "INSERT INTO assignment_packages (assignment_id, package_id, created) VALUES ($1, $2, $3) \
             ON CONFLICT (assignment_id, package_id) DO NOTHING",
        )
        .bind(assignment_id)
        .bind(package_id)
        .bind(now)
        .execute(&mut *self.tx)
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    pub async fn remove_assignment_package(&mut self, assignment_id: &str, package_id: &str) -> Result<bool> {
        self.record_assignment_change(assignment_id).await?;
        let n = sqlx::query("DELETE FROM assignment_packages WHERE assignment_id = $1 AND package_id = $2")
            .bind(assignment_id)
            .bind(package_id)
            .execute(&mut *self.tx)
            .await?
            .rows_affected();
        Ok(n == 1)
    }

    /// Adds a right to an assignment; false if it was there already.
    pub async fn add_assignment_right(&mut self, assignment_id: &str, resource_id: &str, action: &str, now: i64) -> Result<bool> {
        self.record_assignment_change(assignment_id).await?;
        let n = sqlx::query(
            "INSERT INTO assignment_rights (assignment_id, resource_id, action, created) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (assignment_id, resource_id, action) DO NOTHING",
        )
        .bind(assignment_id)
        .bind(resource_id)
        .bind(action)
        .bind(now)
        .execute(&mut *self.tx)
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    pub async fn remove_assignment_right(&mut self, assignment_id: &str, resource_id: &str, action: &str) -> Result<bool> {
        self.record_assignment_change(assignment_id).await?;
        let n = sqlx::query("DELETE FROM assignment_rights WHERE assignment_id = $1 AND resource_id = $2 AND action = $3")
            .bind(assignment_id)
            .bind(resource_id)
            .bind(action)
            .execute(&mut *self.tx)
            .await?
            .rows_affected();
        Ok(n == 1)
    }

    /// Removes an assignment with everything it carries.
    pub async fn delete_assignment(&mut self, assignment_id: &str) -> Result<bool> {
        self.record_assignment_change(assignment_id).await?;
        for table in ["assignment_packages", "assignment_rights"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE assignment_id = $1"))
                .bind(assignment_id)
                .execute(&mut *self.tx)
                .await?;
        }
        let n = sqlx::query("DELETE FROM assignments WHERE id = $1")
            .bind(assignment_id)
            .execute(&mut *self.tx)
            .await?
            .rows_affected();
        Ok(n == 1)
    }

    /// Removes every assignment a recipient holds (deleting a system user).
    pub async fn delete_assignments_to(&mut self, to_uuid: &str) -> Result<u64> {
        let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM assignments WHERE to_uuid = $1")
            .bind(to_uuid)
            .fetch_all(&mut *self.tx)
            .await?;
        for id in &ids {
            self.delete_assignment(id).await?;
        }
        Ok(ids.len() as u64)
    }

    /// The client delegation (client, via role, agent), created if missing; returns its id.
    pub async fn ensure_client_delegation(
        &mut self,
        client_party_id: i64,
        facilitator_party_id: i64,
        via_role_code: &str,
        agent_uuid: &str,
        now: i64,
    ) -> Result<String> {
        let id = uuid::Uuid::new_v4().to_string();
        let inserted = sqlx::query(&format!(
            "INSERT INTO client_delegations ({DELEGATION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (client_party_id, via_role_code, agent_uuid) DO NOTHING"
        ))
        .bind(&id)
        .bind(client_party_id)
        .bind(facilitator_party_id)
        .bind(via_role_code)
        .bind(agent_uuid)
        .bind(now)
        .execute(&mut *self.tx)
        .await?
        .rows_affected();
        let id: String = sqlx::query_scalar(
            "SELECT id FROM client_delegations WHERE client_party_id = $1 AND via_role_code = $2 AND agent_uuid = $3",
        )
        .bind(client_party_id)
        .bind(via_role_code)
        .bind(agent_uuid)
        .fetch_one(&mut *self.tx)
        .await?;
        // A delegation without packages gives nothing; its packages log their own changes.
        if inserted == 1 {
            self.record_delegation_change(&id).await?;
        }
        Ok(id)
    }

    pub async fn add_client_delegation_package(&mut self, delegation_id: &str, package_id: &str, now: i64) -> Result<bool> {
        self.record_delegation_change(delegation_id).await?;
        let n = sqlx::query(
            "INSERT INTO client_delegation_packages (delegation_id, package_id, created) VALUES ($1, $2, $3) \
             ON CONFLICT (delegation_id, package_id) DO NOTHING",
        )
        .bind(delegation_id)
        .bind(package_id)
        .bind(now)
        .execute(&mut *self.tx)
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    pub async fn remove_client_delegation_package(&mut self, delegation_id: &str, package_id: &str) -> Result<bool> {
        self.record_delegation_change(delegation_id).await?;
        let n = sqlx::query("DELETE FROM client_delegation_packages WHERE delegation_id = $1 AND package_id = $2")
            .bind(delegation_id)
            .bind(package_id)
            .execute(&mut *self.tx)
            .await?
            .rows_affected();
        Ok(n == 1)
    }

    /// Removes every delegation of one client to one agent (all via roles) with its packages.
    pub async fn delete_client_delegations(&mut self, client_party_id: i64, agent_uuid: &str) -> Result<u64> {
        let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM client_delegations WHERE client_party_id = $1 AND agent_uuid = $2")
            .bind(client_party_id)
            .bind(agent_uuid)
            .fetch_all(&mut *self.tx)
            .await?;
        for id in &ids {
            self.record_delegation_change(id).await?;
            sqlx::query("DELETE FROM client_delegation_packages WHERE delegation_id = $1")
                .bind(id)
                .execute(&mut *self.tx)
                .await?;
            sqlx::query("DELETE FROM client_delegations WHERE id = $1").bind(id).execute(&mut *self.tx).await?;
        }
        Ok(ids.len() as u64)
    }

    /// Removes every client delegation of an agent (deleting the agent system user).
    pub async fn delete_client_delegations_of_agent(&mut self, agent_uuid: &str) -> Result<u64> {
        let clients: Vec<i64> = sqlx::query_scalar("SELECT DISTINCT client_party_id FROM client_delegations WHERE agent_uuid = $1")
            .bind(agent_uuid)
            .fetch_all(&mut *self.tx)
            .await?;
        let mut removed = 0;
        for client in clients {
            removed += self.delete_client_delegations(client, agent_uuid).await?;
        }
        Ok(removed)
    }

    /// The delegation (client, via role, agent) under this transaction's write lock, with the
    /// facilitator that made it.
    pub async fn client_delegation(&mut self, client_party_id: i64, via_role_code: &str, agent_uuid: &str) -> Result<Option<ClientDelegationRow>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {DELEGATION_COLUMNS} FROM client_delegations WHERE client_party_id = $1 AND via_role_code = $2 AND agent_uuid = $3"
        ))
        .bind(client_party_id)
        .bind(via_role_code)
        .bind(agent_uuid)
        .fetch_optional(&mut *self.tx)
        .await?)
    }

    /// The delegations one facilitator has made to one agent, under the write lock.
    pub async fn client_delegations_by_facilitator(&mut self, facilitator_party_id: i64, agent_uuid: &str) -> Result<Vec<ClientDelegationRow>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {DELEGATION_COLUMNS} FROM client_delegations WHERE facilitator_party_id = $1 AND agent_uuid = $2 \
             ORDER BY client_party_id, via_role_code"
        ))
        .bind(facilitator_party_id)
        .bind(agent_uuid)
        .fetch_all(&mut *self.tx)
        .await?)
    }

    /// Removes one client delegation with its packages; false if it was not there.
    pub async fn delete_client_delegation(&mut self, delegation_id: &str) -> Result<bool> {
        self.record_delegation_change(delegation_id).await?;
        sqlx::query("DELETE FROM client_delegation_packages WHERE delegation_id = $1")
            .bind(delegation_id)
            .execute(&mut *self.tx)
            .await?;
        let n = sqlx::query("DELETE FROM client_delegations WHERE id = $1").bind(delegation_id).execute(&mut *self.tx).await?.rows_affected();
        Ok(n == 1)
    }

    /// How many packages a client delegation still carries.
    pub async fn client_delegation_package_count(&mut self, delegation_id: &str) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM client_delegation_packages WHERE delegation_id = $1")
            .bind(delegation_id)
            .fetch_one(&mut *self.tx)
            .await?)
    }
}
