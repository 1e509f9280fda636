//! Requests for system users (authentication-api.md §1.2, §3.2–§3.7): a vendor asks a customer
//! organisation for a standard or an agent system user; a person who manages the customer's
//! access approves or rejects it in the portal. Approval is one transaction: the system user
//! (its id is the request's), its grants, and the request's new status, or nothing.
//!
//! Where fullmakt differs from the reference (DESIGN.md §5): every vendor route checks that the
//! caller owns the system; a request for a deleted system is refused; the agent duplicate check
//! looks at agent requests; a request older than the configured age reads as `Timedout` and
//! cannot be approved; approval cannot leave a half-created system user.

use fullmakt_domain::auth_error::{AuthCode, AuthProblem};
use fullmakt_domain::system_register::{AccessPackage, Right};
use fullmakt_domain::{Catalogue, OrganisationNumber};
use fullmakt_store::{ListCursor, PartyKey, PartyRow, RecipientKind, RequestRow, Store, StoreError, SystemUserRow};
use serde::Deserialize;

use crate::access_management::{AccessManagement, Gate};
use crate::admin::{AdminError, Caller};
use crate::auth_error::AuthError;
use crate::clock;
use crate::delegation_check::{self, DelegationAuthority};
use crate::pip::{self, Subject, RIGHTHOLDER};
use crate::system_register::{find_live_system, RegisteredSystem};

pub const REQUEST_WRITE: &str = "altinn:authentication/systemuser.request.write";
pub const REQUEST_READ: &str = "altinn:authentication/systemuser.request.read";

/// Requests older than this read as `Timedout` unless configured otherwise.
pub const DEFAULT_REQUEST_TIMEOUT_DAYS: i64 = 180;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserType {
    Standard,
    Agent,
}

impl UserType {
    pub fn as_str(self) -> &'static str {
        match self {
            UserType::Standard => "standard",
            UserType::Agent => "agent",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "standard" => Some(UserType::Standard),
            "agent" => Some(UserType::Agent),
            _ => None,
        }
    }

    fn not_found(self) -> AuthCode {
        match self {
            UserType::Standard => AuthCode::RequestNotFound,
            UserType::Agent => AuthCode::AgentRequestNotFound,
        }
    }

    fn party_mismatch(self) -> AuthCode {
        match self {
            UserType::Standard => AuthCode::PartyIdRequestMismatch,
            UserType::Agent => AuthCode::PartyIdAgentRequestMismatch,
        }
    }
}

/// What the request routes need besides the store.
#[derive(Clone)]
pub struct RequestSettings {
    /// The public base URL without a trailing slash.
    pub public_url: String,
    pub timeout_seconds: i64,
}

impl RequestSettings {
    pub fn new(public_url: &str, timeout_days: i64) -> Self {
        Self { public_url: public_url.trim_end_matches('/').to_owned(), timeout_seconds: timeout_days * 24 * 3600 }
    }

    /// Where the customer approves: the portal's page for this kind of request.
    pub fn confirm_url(&self, kind: UserType, id: &str) -> String {
        let page = match kind {
            UserType::Standard => "request",
            UserType::Agent => "agentrequest",
        };
        format!("{}/accessmanagement/ui/systemuser/{page}?id={id}&DONTCHOOSEREPORTEE=true", self.public_url)
    }

    pub fn location(&self, id: &str) -> String {
        format!("{}/authentication/api/v1/systemuser/request/{id}", self.public_url)
    }
}

/// The body of `POST systemuser/request/vendor` and `…/vendor/agent` (after the trim filter).
#[derive(Debug, Clone, Default, Deserialize)]
/// Read with `from_json_any_case`, which lower-cases every property name.
pub struct NewRequest {
    #[serde(default, rename = "externalref")]
    pub external_ref: Option<String>,
    #[serde(rename = "systemid")]
    pub system_id: String,
    #[serde(rename = "partyorgno")]
    pub party_org_no: String,
    #[serde(default, rename = "integrationtitle")]
    pub integration_title: Option<String>,
    /// Standard requests only; agent requests have none.
    #[serde(default)]
    pub rights: Option<Vec<Right>>,
    #[serde(default, rename = "accesspackages")]
    pub access_packages: Option<Vec<AccessPackage>>,
    #[serde(default, rename = "redirecturl")]
    pub redirect_url: Option<String>,
}

/// A request as the routes show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestView {
    pub id: String,
    pub user_type: UserType,
    pub integration_title: String,
    pub external_ref: String,
    pub system_id: String,
    pub party_org_no: String,
    pub rights: Vec<Right>,
    pub access_packages: Vec<AccessPackage>,
    /// `New`, `Accepted`, `Rejected`, or `Timedout` for a `New` request past its age.
    pub status: String,
    pub redirect_url: Option<String>,
    pub escalated: bool,
    pub created: i64,
    pub timed_out: bool,
}

pub(crate) fn internal(e: impl std::fmt::Display) -> AuthError {
    AuthError::Admin(AdminError::internal(e))
}

fn view(row: RequestRow, settings: &RequestSettings, now: i64) -> Result<RequestView, AuthError> {
    let timed_out = row.created < now - settings.timeout_seconds;
    let status = if timed_out && row.status == "New" { "Timedout".to_owned() } else { row.status };
    Ok(RequestView {
        user_type: UserType::parse(&row.kind).ok_or_else(|| internal("unknown request kind"))?,
        rights: serde_json::from_str(&row.rights).map_err(internal)?,
        access_packages: serde_json::from_str(&row.access_packages).map_err(internal)?,
        id: row.id,
        integration_title: row.integration_title,
        external_ref: row.external_ref,
        system_id: row.system_id,
        party_org_no: row.party_org_no,
        status,
        redirect_url: row.redirect_url,
        escalated: row.escalated != 0,
        created: row.created,
        timed_out,
    })
}

pub(crate) fn problem(code: AuthCode) -> AuthError {
    AuthError::Problem(AuthProblem::new(code))
}

/// The caller's system, or AUTH-00011 (also for another vendor's system: they are
/// indistinguishable, as in the reference).
pub(crate) async fn own_system(store: &Store, caller: &Caller, system_id: &str) -> Result<RegisteredSystem, AuthError> {
    match find_live_system(store, system_id).await? {
        Some(s) if s.vendor_orgno == caller.org.to_string() => Ok(s),
        _ => Err(problem(AuthCode::SystemIdNotFound)),
    }
}

/// `POST systemuser/request/vendor[/agent]` (§3.3 in order, with DESIGN.md §5's fixes). Returns
/// the request and whether it was created now (201) or existed (200).
pub async fn create(
    store: &Store,
    catalogue: &Catalogue,
    settings: &RequestSettings,
    caller: &Caller,
    kind: UserType,
    input: NewRequest,
) -> Result<(RequestView, bool), AuthError> {
    caller.require_any(&[REQUEST_WRITE])?;
    if kind == UserType::Agent && input.rights.is_some() {
        return Err(AuthError::Admin(AdminError::BadRequest("an agent request has no rights".into())));
    }
    let party_org_no = input.party_org_no.trim().to_owned();
    let system_id = input.system_id.trim().to_owned();
    let external_ref = match input.external_ref.as_deref().map(str::trim) {
        Some(r) if !r.is_empty() => r.to_owned(),
        _ => party_org_no.clone(),
    };
    // The system first: another vendor learns nothing about this system's requests.
    let system = own_system(store, caller, &system_id).await?;
    if store.active_system_user_by_identity(&party_org_no, &external_ref, &system_id).await?.is_some() {
        return Err(problem(AuthCode::SystemUserAlreadyExists));
    }
    let now = clock::now();
    if let Some(existing) = store.request_by_identity(&party_org_no, &external_ref, &system_id, kind.as_str()).await? {
        return Ok((view(existing, settings, now)?, false));
    }
    let customer = customer_organisation(store, &party_org_no).await?;
    let redirect_url = check_redirect_url(&system, input.redirect_url.as_deref())?;
    let (rights, packages) = match kind {
        UserType::Standard => {
            let (rights, packages) = match (input.rights, input.access_packages) {
                (None, None) => return Err(problem(AuthCode::RightsNotFoundOrNotDelegable)),
                (r, p) => (r.unwrap_or_default(), p.unwrap_or_default()),
            };
            if rights.is_empty() && packages.is_empty() {
                return Err(problem(AuthCode::SystemUserMissingRightsOrAccessPackages));
            }
            (rights, packages)
        }
        UserType::Agent => {
            let packages = input.access_packages.unwrap_or_default();
            if packages.is_empty() {
                return Err(problem(AuthCode::SystemUserMissingAccessPackage));
            }
            (Vec::new(), packages)
        }
    };
    check_requested(catalogue, &system, kind, &rights, &packages)?;
    let title = match input.integration_title.as_deref().map(str::trim) {
        Some(t) if !t.is_empty() => t.to_owned(),
        _ => system.name.get("nb").cloned().unwrap_or_default(),
    };
    let row = RequestRow {
        id: uuid::Uuid::new_v4().to_string(),
        kind: kind.as_str().into(),
        external_ref,
        system_id,
        party_org_no: customer.org_number.clone().unwrap_or(party_org_no),
        integration_title: title,
        rights: serde_json::to_string(&rights).map_err(internal)?,
        access_packages: serde_json::to_string(&packages).map_err(internal)?,
        status: "New".into(),
        redirect_url,
        escalated: 0,
        is_deleted: 0,
        created: now,
        last_changed: now,
        changed_by: None,
        list_position: 0,
    };
    // Checked again under the write lock: of two identical requests racing, one is created and
    // the other returns it.
    let mut tx = store.begin_write().await?;
    if let Some(existing) = tx.request_by_identity(&row.party_org_no, &row.external_ref, &row.system_id, &row.kind).await? {
        drop(tx);
        return Ok((view(existing, settings, now)?, false));
    }
    let row = tx.insert_request(&row).await?;
    tx.commit().await?;
    Ok((view(row, settings, now)?, true))
}

/// Splits the `page_size + 1` rows a list read into the page and the cursor after it (when
/// there is a next page).
pub(crate) fn one_page<T>(mut rows: Vec<T>, page_size: usize, cursor: impl Fn(&T) -> ListCursor) -> (Vec<T>, Option<ListCursor>) {
    if rows.len() > page_size {
        rows.truncate(page_size);
        let next = rows.last().map(cursor);
        (rows, next)
    } else {
        (rows, None)
    }
}

/// The customer organisation, which must be in the register (AUTH-00000 otherwise, also for a
/// malformed organisation number).
async fn customer_organisation(store: &Store, org_no: &str) -> Result<PartyRow, AuthError> {
    let unknown = || AuthError::Problem(AuthProblem::new(AuthCode::ReporteeOrgnoNotFound).with_detail(format!("{org_no} is not an organisation in the register")));
    if OrganisationNumber::parse(org_no).is_err() {
        return Err(unknown());
    }
    match store.find_party(PartyKey::OrgNumber(org_no)).await? {
        Some(p) if p.party_type == "organization" && p.is_deleted == 0 => Ok(p),
        _ => Err(unknown()),
    }
}

/// §3.3 step 8: a redirect URL must match one of the system's on scheme, host, port and path.
pub(crate) fn check_redirect_url(system: &RegisteredSystem, requested: Option<&str>) -> Result<Option<String>, AuthError> {
    let Some(requested) = requested.map(str::trim).filter(|u| !u.is_empty()) else {
        return Ok(None);
    };
    if system.allowed_redirect_urls.is_empty() {
        return Err(problem(AuthCode::NoRedirectUrisFoundOnSystem));
    }
    let base = |u: &str| url::Url::parse(u).ok().map(|u| (u.scheme().to_owned(), u.host_str().map(str::to_lowercase), u.port_or_known_default(), u.path().to_owned()));
    let wanted = base(requested).ok_or_else(|| problem(AuthCode::RedirectUriNotFound))?;
    if system.allowed_redirect_urls.iter().any(|allowed| base(allowed).as_ref() == Some(&wanted)) {
        Ok(Some(requested.to_owned()))
    } else {
        Err(problem(AuthCode::RedirectUriNotFound))
    }
}

/// §3.4: rights must be rights of the system (compared as sets of pairs) and packages packages
/// of the system that a system user of `kind` may get.
pub(crate) fn check_requested(catalogue: &Catalogue, system: &RegisteredSystem, kind: UserType, rights: &[Right], packages: &[AccessPackage]) -> Result<(), AuthError> {
    if rights.len() > system.rights.len() || !rights.iter().all(|r| system.rights.iter().any(|s| s.pair_set() == r.pair_set())) {
        return Err(problem(AuthCode::RightsNotFoundOrNotDelegable));
    }
    let not_in_system: Vec<&str> = packages
        .iter()
        .filter(|p| !system.access_packages.iter().any(|s| s.urn == p.urn))
        .map(|p| p.urn.as_str())
        .collect();
    if !not_in_system.is_empty() {
        return Err(AuthError::Problem(AuthProblem::new(AuthCode::AccessPackageNotFound).with_extension("NotFoundPackages", not_in_system.join(", "))));
    }
    let refused: Vec<&str> = packages
        .iter()
        .filter(|p| {
            let found = catalogue.package_by_urn(&p.urn);
            match kind {
                UserType::Standard => !found.is_some_and(|p| p.is_assignable),
                UserType::Agent => !found.is_some_and(|p| p.is_delegable),
            }
        })
        .map(|p| p.urn.as_str())
        .collect();
    if !refused.is_empty() {
        let code = match kind {
            UserType::Standard => AuthCode::AccessPackageNotDelegableStandard,
            UserType::Agent => AuthCode::AccessPackageNotDelegableAgent,
        };
        return Err(AuthError::Problem(AuthProblem::new(code).with_extension("NotDelegablePackages", refused.join(", "))));
    }
    Ok(())
}

/// A request of `kind` the caller may see as vendor: not deleted, on the caller's system.
async fn vendor_request(store: &Store, caller: &Caller, kind: UserType, id: &str) -> Result<RequestRow, AuthError> {
    let row = store.request(id).await?.filter(|r| r.is_deleted == 0 && r.kind == kind.as_str());
    let row = row.ok_or_else(|| problem(kind.not_found()))?;
    own_system(store, caller, &row.system_id).await?;
    Ok(row)
}

/// `GET systemuser/request/vendor[/agent]/{requestId}`.
pub async fn vendor_get(store: &Store, settings: &RequestSettings, caller: &Caller, kind: UserType, id: &str) -> Result<RequestView, AuthError> {
    caller.require_any(&[REQUEST_READ])?;
    let row = vendor_request(store, caller, kind, id).await?;
    view(row, settings, clock::now())
}

/// `GET systemuser/request/vendor[/agent]/byexternalref/{systemId}/{orgNo}/{externalRef}`.
pub async fn vendor_get_by_external_ref(
    store: &Store,
    settings: &RequestSettings,
    caller: &Caller,
    kind: UserType,
    system_id: &str,
    org_no: &str,
    external_ref: &str,
) -> Result<RequestView, AuthError> {
    caller.require_any(&[REQUEST_READ])?;
    own_system(store, caller, system_id).await?;
    let row = store.request_by_identity(org_no, external_ref, system_id, kind.as_str()).await?;
    view(row.ok_or_else(|| problem(kind.not_found()))?, settings, clock::now())
}

/// One page of `GET systemuser/request/vendor[/agent]/bysystem/{systemId}`, and the cursor of
/// the next page when there is one.
pub async fn vendor_list(
    store: &Store,
    settings: &RequestSettings,
    caller: &Caller,
    kind: UserType,
    system_id: &str,
    after: Option<ListCursor>,
    page_size: usize,
) -> Result<(Vec<RequestView>, Option<ListCursor>), AuthError> {
    caller.require_any(&[REQUEST_READ])?;
    own_system(store, caller, system_id).await?;
    let rows = store.requests_of_system(system_id, kind.as_str(), after.as_ref(), page_size as i64 + 1).await?;
    let (rows, next) = one_page(rows, page_size, |r| (r.list_position, r.id.clone()));
    let now = clock::now();
    let views = rows.into_iter().map(|r| view(r, settings, now)).collect::<Result<_, _>>()?;
    Ok((views, next))
}

/// `DELETE systemuser/request/vendor/{requestId}`: any kind, the caller's own only.
pub async fn vendor_delete(store: &Store, caller: &Caller, id: &str) -> Result<(), AuthError> {
    caller.require_any(&[REQUEST_WRITE])?;
    let row = store.request(id).await?.filter(|r| r.is_deleted == 0).ok_or_else(|| problem(AuthCode::RequestNotFound))?;
    own_system(store, caller, &row.system_id).await.map_err(|_| problem(AuthCode::RequestNotFound))?;
    let mut tx = store.begin_write().await?;
    tx.delete_request(id, clock::now()).await?;
    tx.commit().await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The customer's side: a person acting for a party.

/// What the person-facing routes need.
pub struct Approvals<'a> {
    pub store: &'a Store,
    pub catalogue: &'a Catalogue,
    pub gates: &'a AccessManagement,
    pub settings: &'a RequestSettings,
}

/// A request as the portal sees it, with the party it is for.
#[derive(Debug, Clone)]
pub struct PartyRequestView {
    pub request: RequestView,
    pub party: PartyRow,
    /// The person may ask an access manager (escalate) but not approve.
    pub may_escalate_but_not_approve: bool,
}

fn forbidden() -> AuthError {
    AuthError::Admin(AdminError::Forbidden("the person may not manage this party's access".into()))
}

impl Approvals<'_> {
    pub(crate) async fn party(&self, party_id: i64) -> Result<PartyRow, AuthError> {
        match self.store.find_party(PartyKey::Id(party_id)).await? {
            Some(p) if p.is_deleted == 0 => Ok(p),
            _ => Err(problem(AuthCode::ReporteeOrgnoNotFound)),
        }
    }

    pub(crate) async fn require(&self, person: &PartyRow, party_id: i64, gate: Gate) -> Result<(), AuthError> {
        if self.gates.permits(person.party_id, party_id, gate).await {
            Ok(())
        } else {
            Err(forbidden())
        }
    }

    /// A request of `kind` for `party`'s organisation (404 for another organisation's).
    async fn request_of_party(&self, party: &PartyRow, kind: UserType, id: &str) -> Result<RequestRow, AuthError> {
        let row = self.store.request(id).await?.filter(|r| r.is_deleted == 0 && r.kind == kind.as_str());
        let row = row.ok_or_else(|| problem(kind.not_found()))?;
        if party.org_number.as_deref() != Some(row.party_org_no.as_str()) {
            return Err(problem(kind.party_mismatch()));
        }
        Ok(row)
    }

    /// `GET systemuser/request[/agent]/{party}/{requestId}` (AMR).
    pub async fn get_for_party(&self, person: &PartyRow, party_id: i64, kind: UserType, id: &str) -> Result<PartyRequestView, AuthError> {
        self.require(person, party_id, Gate::AccessManagementRead).await?;
        let party = self.party(party_id).await?;
        let row = self.request_of_party(&party, kind, id).await.map_err(|_| problem(kind.not_found()))?;
        Ok(PartyRequestView { request: view(row, self.settings, clock::now())?, party, may_escalate_but_not_approve: false })
    }

    /// `GET systemuser/request[/agent]/{requestId}`: the portal opens a request by id. An access
    /// manager of the request's organisation may approve; a person with some other relation to
    /// it may escalate; anyone else gets AUTH-00066.
    pub async fn get_by_id(&self, person: &PartyRow, kind: UserType, id: &str) -> Result<PartyRequestView, AuthError> {
        let row = self.store.request(id).await?.filter(|r| r.is_deleted == 0 && r.kind == kind.as_str());
        let row = row.ok_or_else(|| problem(kind.not_found()))?;
        let party = match self.store.find_party(PartyKey::OrgNumber(&row.party_org_no)).await? {
            Some(p) => p,
            None => return Err(problem(AuthCode::ReporteeOrgnoNotFound)),
        };
        let may_escalate_but_not_approve = if self.gates.permits(person.party_id, party.party_id, Gate::AccessManagementWrite).await {
            false
        } else if self.has_relation(person, &party).await? {
            true
        } else {
            return Err(problem(AuthCode::RequestUserIsNotAccessManager));
        };
        Ok(PartyRequestView { request: view(row, self.settings, clock::now())?, party, may_escalate_but_not_approve })
    }

    /// Whether the party is among the person's reportees: they hold anything for it.
    async fn has_relation(&self, person: &PartyRow, party: &PartyRow) -> Result<bool, AuthError> {
        let grants = pip::grants_for(self.store, self.catalogue, &Subject::Party(person.clone()), party).await?;
        Ok(!grants.is_empty())
    }

    /// `POST systemuser/request[/agent]/{party}/{requestId}/approve` (P and AMW).
    pub async fn approve(&self, person: &PartyRow, party_id: i64, kind: UserType, id: &str) -> Result<(), AuthError> {
        self.require(person, party_id, Gate::AccessManagementWrite).await?;
        let party = self.party(party_id).await?;
        let row = self.request_of_party(&party, kind, id).await?;
        let now = clock::now();
        let request = view(row, self.settings, now)?;
        if request.status != "New" {
            return Err(problem(AuthCode::RequestStatusNotNew));
        }
        let system = find_live_system(self.store, &request.system_id).await?.ok_or_else(|| problem(AuthCode::SystemIdNotFound))?;
        if party.party_uuid.is_empty() {
            return Err(problem(AuthCode::PartyPartyUuidNotFound));
        }
        if self.store.active_system_user_by_identity(&request.party_org_no, &request.external_ref, &request.system_id).await?.is_some() {
            return Err(problem(AuthCode::SystemUserAlreadyExists));
        }
        check_requested(self.catalogue, &system, kind, &request.rights, &request.access_packages)?;
        let title = if request.integration_title.is_empty() {
            system.name.get("nb").cloned().ok_or_else(|| problem(AuthCode::SystemNameNotFound))?
        } else {
            request.integration_title.clone()
        };
        // Standard system users get what the approver may pass on; agents get nothing now
        // (their packages come from clients, one client delegation at a time).
        let delegation = match kind {
            UserType::Standard => self.delegation_for(person, &party, &request.rights, &request.access_packages).await?,
            UserType::Agent => Delegation::default(),
        };
        let packages = match kind {
            UserType::Agent => serde_json::to_string(&request.access_packages).map_err(internal)?,
            UserType::Standard => "[]".into(),
        };
        let mut system_user = new_system_user(request.id.clone(), &request.system_id, title, &party, &request.party_org_no, kind, packages, person, now);
        system_user.external_ref = request.external_ref.clone();
        let mut tx = self.store.begin_write().await?;
        if !tx.answer_request(&request.id, "Accepted", &format!("userId:{}", person.party_id), now).await? {
            return Err(problem(AuthCode::RequestStatusNotNew));
        }
        tx.insert_system_user(&system_user).await.map_err(|e| match e {
            StoreError::Conflict => problem(AuthCode::SystemUserAlreadyExists),
            other => other.into(),
        })?;
        delegation.write(&mut tx, &party, &system_user.id, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Runs the delegation check for everything requested and returns what to grant: every
    /// package (all or nothing, AUTH-00053) and, per resource, the actions the person may pass
    /// on (at least one per resource, else the first reason's code).
    pub(crate) async fn delegation_for(&self, person: &PartyRow, party: &PartyRow, rights: &[Right], packages: &[AccessPackage]) -> Result<Delegation, AuthError> {
        let authority = delegation_check::authority_of(self.store, self.catalogue, person, party).await?;
        delegation_of(self.store, self.catalogue, &authority, rights, packages).await
    }

    /// `POST systemuser/request[/agent]/{party}/{requestId}/reject` (AMW).
    pub async fn reject(&self, person: &PartyRow, party_id: i64, kind: UserType, id: &str) -> Result<(), AuthError> {
        self.require(person, party_id, Gate::AccessManagementWrite).await?;
        let party = self.party(party_id).await?;
        let row = self.request_of_party(&party, kind, id).await?;
        let request = view(row, self.settings, clock::now())?;
        if request.status != "New" {
            return Err(problem(AuthCode::RequestStatusNotNew));
        }
        let mut tx = self.store.begin_write().await?;
        if !tx.answer_request(id, "Rejected", &format!("userId:{}", person.party_id), clock::now()).await? {
            return Err(problem(AuthCode::RequestStatusNotNew));
        }
        tx.commit().await?;
        Ok(())
    }

    /// `POST systemuser/request[/agent]/{party}/{requestId}/escalate`: a person with a relation
    /// to the party flags the request for its access managers. `false` without a relation.
    pub async fn escalate(&self, person: &PartyRow, party_id: i64, kind: UserType, id: &str) -> Result<bool, AuthError> {
        let party = self.party(party_id).await?;
        if !self.has_relation(person, &party).await? {
            return Ok(false);
        }
        let row = self.request_of_party(&party, kind, id).await.map_err(|_| problem(kind.not_found()))?;
        let mut tx = self.store.begin_write().await?;
        let done = tx.escalate_request(&row.id, &format!("userId:{}", person.party_id), clock::now()).await?;
        tx.commit().await?;
        Ok(done)
    }

    /// `GET systemuser/request[/agent]/{party}/{orgno}/pending` (P and AMW): the organisation's
    /// requests waiting for an answer (agent requests only once escalated). `orgno` must be the
    /// party's own (the reference does not check).
    pub async fn pending(&self, person: &PartyRow, party_id: i64, org_no: &str, kind: UserType) -> Result<Vec<RequestView>, AuthError> {
        self.require(person, party_id, Gate::AccessManagementWrite).await?;
        let party = self.party(party_id).await?;
        if party.org_number.as_deref() != Some(org_no) {
            return Err(forbidden());
        }
        let now = clock::now();
        let rows = self.store.pending_requests(org_no, kind.as_str(), kind == UserType::Agent).await?;
        Ok(rows.into_iter().map(|r| view(r, self.settings, now)).collect::<Result<Vec<_>, _>>()?.into_iter().filter(|v| v.status == "New").collect())
    }
}

/// A new active system user of `owner`, created by `person`; its external ref is the owner's
/// organisation number unless the caller sets another.
#[allow(clippy::too_many_arguments)]
pub(crate) fn new_system_user(
    id: String,
    system_id: &str,
    integration_title: String,
    owner: &PartyRow,
    owner_org_no: &str,
    kind: UserType,
    access_packages: String,
    person: &PartyRow,
    now: i64,
) -> SystemUserRow {
    let by = format!("user_id:{}", person.party_id);
    SystemUserRow {
        id,
        system_id: system_id.to_owned(),
        integration_title,
        owner_party_id: owner.party_id,
        owner_org_no: owner_org_no.to_owned(),
        external_ref: owner_org_no.to_owned(),
        user_type: kind.as_str().into(),
        access_packages,
        is_deleted: 0,
        created: now,
        last_changed: now,
        created_by: by.clone(),
        changed_by: by,
        stream_position: 0,
        list_position: 0,
    }
}

/// What an approval grants a standard system user.
#[derive(Debug, Clone, Default)]
pub(crate) struct Delegation {
    /// Catalogue package ids.
    pub packages: Vec<String>,
    /// (resource id, action).
    pub rights: Vec<(String, String)>,
}

impl Delegation {
    /// Writes the grants from `party` to the system user inside the approval's transaction.
    pub(crate) async fn write(&self, tx: &mut fullmakt_store::WriteTx, party: &PartyRow, system_user_id: &str, now: i64) -> Result<(), AuthError> {
        if self.packages.is_empty() && self.rights.is_empty() {
            return Ok(());
        }
        let assignment = tx.ensure_assignment(party.party_id, system_user_id, RecipientKind::SystemUser, RIGHTHOLDER, now).await?;
        for package in &self.packages {
            tx.add_assignment_package(&assignment, package, now).await?;
        }
        for (resource, action) in &self.rights {
            tx.add_assignment_right(&assignment, resource, action, now).await?;
        }
        Ok(())
    }
}

/// The resource a right names: `urn:altinn:resource`, or an app as `app_{org}_{app}`.
pub fn resource_of(right: &Right) -> Option<String> {
    let value = |id: &str| right.resource.iter().find(|p| p.id == id).map(|p| p.value.clone());
    value("urn:altinn:resource").or_else(|| Some(fullmakt_domain::resource::app_identifier(&value("urn:altinn:org")?, &value("urn:altinn:app")?)))
}

pub(crate) async fn delegation_of(
    store: &Store,
    catalogue: &Catalogue,
    authority: &DelegationAuthority,
    rights: &[Right],
    packages: &[AccessPackage],
) -> Result<Delegation, AuthError> {
    let mut out = Delegation::default();
    let mut missing = Vec::new();
    for p in packages {
        match catalogue.package_by_urn(&p.urn) {
            Some(found) if authority.may_delegate_package(catalogue, found.index) => out.packages.push(found.id.clone()),
            _ => missing.push(p.urn.clone()),
        }
    }
    if !missing.is_empty() {
        return Err(AuthError::Problem(
            AuthProblem::new(AuthCode::AccessPackageDelegationMissingRequiredAccess).with_extension("MissingPackages", missing.join(", ")),
        ));
    }
    for right in rights {
        let resource = resource_of(right).ok_or_else(|| problem(AuthCode::RightsNotFoundOrNotDelegable))?;
        let checks = match delegation_check::check_resource(store, catalogue, authority, &resource).await {
            Ok(c) => c,
            Err(AdminError::NotFound(_)) => return Err(problem(AuthCode::RightsNotFoundOrNotDelegable)),
            Err(e) => return Err(e.into()),
        };
        let passing: Vec<&str> = checks.iter().filter(|c| c.delegable).map(|c| c.action.as_str()).collect();
        if passing.is_empty() {
            let code = checks.first().map_or(AuthCode::UnableToDoDelegationCheck, |c| crate::auth_error::delegation_check_problem(c.reason));
            return Err(AuthError::Problem(AuthProblem::new(code).with_extension("Resource", resource)));
        }
        out.rights.extend(passing.into_iter().map(|a| (resource.clone(), a.to_owned())));
    }
    Ok(out)
}
