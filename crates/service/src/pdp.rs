//! The decision point (pdp.md §0–§3): enrich a request from the register and the grants, take
//! the resource's policy from the registry, evaluate it with the XACML engine, and fall back to
//! single-right delegations when the policy is NotApplicable.
//!
//! Everything is read under the current committed state — the resource row (and with it the
//! policy version), the party, and the grants — so every committed write decides the very next
//! request, on this node and any other sharing the database (DESIGN.md §4.3).

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use fullmakt_domain::catalogue::{Catalogue, PackageSet};
use fullmakt_store::{PartyKey, PartyRow, Store};
use fullmakt_xacml::policy::{Effect, Rule, Target, ACTION_CATEGORY, RESOURCE_CATEGORY, SUBJECT_CATEGORY};
use fullmakt_xacml::{altinn, DateTime, Decision, DecisionResult, Pdp, Policy, PolicyDocument, Request, StatusCode, Value};
use serde::Serialize;

use crate::access_lists;
use crate::compiled_policy::CompiledPolicy;
use crate::decision_index::{DecisionIndex, IndexedParty};
use crate::pip::{self, GrantPath, Subject, SubjectGrants};
use crate::resource_registry;

pub const SYSTEM_USER: &str = "urn:altinn:systemuser:uuid";
pub const USER_ID: &str = "urn:altinn:userid";
pub const PERSON_ID: &str = "urn:altinn:person:identifier-no";
pub const ORGANIZATION_ID: &str = "urn:altinn:organization:identifier-no";
pub const LEGACY_ORGANIZATION_ID: &str = "urn:altinn:organizationnumber";
pub const PARTY_ID: &str = "urn:altinn:partyid";
pub const PARTY_UUID: &str = "urn:altinn:party:uuid";
pub const RESOURCE: &str = "urn:altinn:resource";
pub const ORG: &str = "urn:altinn:org";
pub const APP: &str = "urn:altinn:app";
pub const ACTION_ID: &str = "urn:oasis:names:tc:xacml:1.0:action:action-id";
pub const ACCESS_PACKAGE: &str = "urn:altinn:accesspackage";
pub const ROLE_CODE: &str = "urn:altinn:rolecode";
pub const CCR_ROLE: &str = "urn:altinn:external-role:ccr";

/// Which route asked: they differ in what subjects they accept and in error status codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// `POST authorization/api/v1/authorize`: resource owners, person numbers allowed.
    Authorize,
    /// `POST authorization/api/v1/decision`: platform PEPs, no person numbers.
    Decision,
}

/// One result with what the response writer and the explain route need.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub result: DecisionResult,
    /// Whether the IncludeInResult attributes are echoed (pdp.md §1.3).
    pub echo: bool,
    pub explanation: Explanation,
}

/// Why a decision came out as it did (the `explain` route).
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Explanation {
    /// `policy` (the resource policy decided), `delegation` (a single right the subject holds
    /// permitted it after the policy was NotApplicable), or `error`.
    pub decided_by: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule_id: Option<String>,
    /// The subject's grants that the deciding rule (or the delegation) relied on.
    pub grants: Vec<ExplainedGrant>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExplainedGrant {
    pub attribute_id: String,
    pub value: String,
    pub paths: Vec<GrantPath>,
}

/// A request the PDP cannot evaluate. `argument` marks the reference's ArgumentException
/// family (bad subject mix, unknown party, no policy), which `/authorize` reports as
/// processing-error; everything else, and anything on `/decision`, is syntax-error.
#[derive(Debug, Clone)]
struct Failure {
    argument: bool,
    message: String,
}

fn argument(message: impl Into<String>) -> Failure {
    Failure { argument: true, message: message.into() }
}

impl Outcome {
    /// The answer to a request body that is JSON or XML but not a XACML request the PDP can
    /// read (an unknown data type, a missing category id, …).
    pub fn unreadable(api: Api, message: impl Into<String>) -> Outcome {
        Outcome::failed(api, argument(message))
    }

    fn failed(api: Api, failure: Failure) -> Outcome {
        let code = if api == Api::Authorize && failure.argument { StatusCode::ProcessingError } else { StatusCode::SyntaxError };
        Outcome {
            result: DecisionResult::indeterminate(code, failure.message.clone()),
            echo: false,
            explanation: Explanation { decided_by: "error", message: Some(failure.message), ..Default::default() },
        }
    }
}

struct CachedPolicy {
    /// The change sequence under which the entry was last found current: while nothing has
    /// been written since, the registry need not be asked again.
    checked_at: i64,
    /// The resource version and policy version the entry was made from.
    versions: (i64, i64),
    policy: Arc<Policy>,
    compiled: Option<Arc<CompiledPolicy>>,
    access_lists: bool,
}

/// A resource's policy, its system-user form when it compiles, and whether access lists gate
/// its Permits.
struct ResourcePolicy {
    policy: Arc<Policy>,
    compiled: Option<Arc<CompiledPolicy>>,
    access_lists: bool,
}

/// The decision point. Parsed policies are cached per resource and policy version; nothing
/// else is cached, so grants and register changes are seen at once.
pub struct DecisionPoint {
    store: Store,
    catalogue: &'static Catalogue,
    index: Arc<DecisionIndex>,
    /// Only registered resources get an entry, so callers cannot choose the keys: a fast
    /// seeded hasher is enough.
    policies: Mutex<HashMap<String, CachedPolicy, foldhash::fast::RandomState>>,
}

/// What the subject holds for the party, whichever source answered.
#[derive(Debug, Default)]
struct Held {
    packages: PackageSet,
    rights: Vec<(Box<str>, Box<str>)>,
    /// ER role codes (persons and organisations only).
    roles: Vec<String>,
}

impl Held {
    fn from_grants(g: &SubjectGrants) -> Self {
        Held {
            packages: g.package_set(),
            rights: g.rights.keys().map(|(r, a)| (r.as_str().into(), a.as_str().into())).collect(),
            roles: g.roles.keys().cloned().collect(),
        }
    }

    fn has_right(&self, resource: &str, action: &str) -> bool {
        self.rights.iter().any(|(r, a)| &**r == resource && &**a == action)
    }
}

/// The resource party as resolved: from the decision index when it knows it.
type ResourceParty = IndexedParty;

enum SubjectKind {
    SystemUser(uuid::Uuid),
    Party(PartyRow),
    None,
}

impl DecisionPoint {
    pub fn new(store: Store, catalogue: &'static Catalogue, index: Arc<DecisionIndex>) -> Self {
        Self { store, catalogue, index, policies: Mutex::new(HashMap::default()) }
    }

    pub fn index(&self) -> &DecisionIndex {
        &self.index
    }

    /// Decides every individual request in `request`. If any of them cannot be evaluated the
    /// whole response is that one Indeterminate, as the reference answers multi-requests.
    pub async fn decide(&self, request: &Request, api: Api, now: DateTime, explain: bool) -> Vec<Outcome> {
        // Every write committed before this request decides it.
        let known = self.index.fresh_now();
        if let Some(outcome) = known.and_then(|sequence| self.decide_common(request, explain, sequence)) {
            return vec![outcome];
        }
        // Boxed because a future is as large as its largest await: the general path's are
        // kilobytes, which every call of the common path would otherwise create and move too.
        Box::pin(async move {
            match known {
                // The common path has been tried under this sequence already.
                Some(sequence) => self.decide_generally(request, api, now, explain, sequence).await,
                None => match self.index.fresh().await {
                    Ok(sequence) => self.decide_under(request, api, now, explain, sequence).await,
                    Err(e) => vec![Outcome::failed(api, internal(&e))],
                },
            }
        })
        .await
    }

    /// Decides under `sequence`, which the caller got from [`DecisionIndex::fresh`] (the HTTP
    /// routes go through [`DecisionPoint::decide`]; benchmarks use this to measure the decision
    /// itself apart from the freshness read, which concurrent requests share).
    pub async fn decide_under(&self, request: &Request, api: Api, now: DateTime, explain: bool, sequence: i64) -> Vec<Outcome> {
        if let Some(outcome) = self.decide_common(request, explain, sequence) {
            return vec![outcome];
        }
        self.decide_generally(request, api, now, explain, sequence).await
    }

    /// Every individual request through enrichment and the full evaluation.
    async fn decide_generally(&self, request: &Request, api: Api, now: DateTime, explain: bool, sequence: i64) -> Vec<Outcome> {
        if request.combined_decision {
            return vec![Outcome::failed(api, Failure { argument: false, message: "Multiple Decision Profile not implemented".into() })];
        }
        let individual = match request.individual_requests() {
            Ok(v) => v,
            Err(e) => return vec![Outcome::failed(api, Failure { argument: false, message: e.to_string() })],
        };
        let mut out = Vec::with_capacity(individual.len());
        for one in individual {
            match self.decide_one(one, api, now, explain, sequence).await {
                Ok(o) => out.push(o),
                Err(f) => return vec![Outcome::failed(api, f)],
            }
        }
        out
    }

    /// [`Self::decide_from_index`] for a single request that asks for no explanation.
    fn decide_common(&self, request: &Request, explain: bool, sequence: i64) -> Option<Outcome> {
        if explain || request.combined_decision || request.is_multiple() {
            return None;
        }
        self.decide_from_index(request, sequence)
    }

    /// The common case, decided without awaiting anything: a system user asking about a party
    /// the index knows, under a compiled policy the cache holds current for `sequence`. `None`
    /// hands the request to the general path, which also gives every error, so both paths
    /// answer alike by construction: this one only leaves out work that cannot change the
    /// outcome. Single rights and access lists need the general path.
    fn decide_from_index(&self, req: &Request, sequence: i64) -> Option<Outcome> {
        if req.return_policy_id_list {
            return None;
        }
        let system_user = system_user_subject(req).ok()??;
        let named = ResourceAttributes::of(req);
        let resource_id = named.resource?.lexical();
        let access = match named.organization.or(named.legacy_organization) {
            Some(org_number) if named.party_id.is_none() => self.index.system_user_access_at(system_user.as_u128(), &org_number.lexical())?,
            _ => self.index.system_user_access_for(system_user.as_u128(), self.indexed_resource_party(&named)?.ok()?),
        };
        if !access.rights.is_empty() {
            return None;
        }
        // Decided under the cache's lock (a bitset AND per rule), so nothing is cloned out.
        let policies = self.policies.lock().unwrap_or_else(|e| e.into_inner());
        let cached = current_policy(&policies, &resource_id, sequence)?;
        let (result, echo) = cached.compiled.as_ref()?.decide(&access.packages, req);
        if result.decision == Decision::Permit && cached.access_lists {
            return None;
        }
        Some(Outcome { result, echo, explanation: Explanation { decided_by: "policy", ..Default::default() } })
    }

    /// The request is copied only where enrichment must write to it: a system user's decision on
    /// a compiled policy reads it as it came.
    async fn decide_one(&self, mut req: Cow<'_, Request>, api: Api, now: DateTime, explain: bool, sequence: i64) -> Result<Outcome, Failure> {
        let subject = self.subject(&req, api).await?;
        let named = ResourceAttributes::of(&req);
        let (resource_id, implied) = resource_id(&named)?;
        let (party, party_id_given) = self.resource_party(&named, api).await?;
        for (attribute_id, value) in implied {
            req.to_mut().add_attribute(RESOURCE_CATEGORY, attribute_id, Value::String(value.into()));
        }
        let ResourcePolicy { policy, compiled, access_lists } = self.policy(&resource_id, sequence).await?;
        // System users are answered from the decision index unless the caller wants the grant
        // paths, which only the PIP knows; everyone else from the PIP.
        let (grants, held) = match (&subject, &party) {
            (SubjectKind::None, _) | (_, None) => (SubjectGrants::default(), Held::default()),
            (SubjectKind::SystemUser(id), Some(party)) if !explain => {
                let access = self.index.system_user_access_for(id.as_u128(), *party);
                (SubjectGrants::default(), Held { packages: access.packages, rights: access.rights, roles: Vec::new() })
            }
            (subject, Some(party)) => {
                let pip_subject = match subject {
                    SubjectKind::SystemUser(id) => Subject::SystemUser(id.to_string()),
                    SubjectKind::Party(p) => Subject::Party(p.clone()),
                    SubjectKind::None => unreachable!("handled above"),
                };
                let row = self.find(PartyKey::Id(party.party_id)).await?.ok_or_else(|| argument("unknown party"))?;
                let grants = pip::grants_for(&self.store, self.catalogue, &pip_subject, &row).await.map_err(|e| internal(&e))?;
                let held = Held::from_grants(&grants);
                (grants, held)
            }
        };
        // A system user's decision on a compiled policy is a bitset AND per rule.
        let fast = match (&subject, &compiled) {
            (SubjectKind::SystemUser(_), Some(compiled)) if !explain && !req.return_policy_id_list => Some(compiled.decide(&held.packages, &req)),
            _ => None,
        };
        let (mut result, mut echo) = match fast {
            Some(decided) => decided,
            None => {
                if let (Some(p), false) = (&party, party_id_given) {
                    req.to_mut().add_attribute(RESOURCE_CATEGORY, PARTY_ID, Value::String(p.party_id.to_string().into()));
                }
                // Look up only what the policy can use (pdp.md §2.2 D).
                let wanted = policy.subject_attribute_ids();
                if [ACCESS_PACKAGE, ROLE_CODE, CCR_ROLE].iter().any(|id| wanted.contains(id)) {
                    self.enrich_subject(req.to_mut(), &subject, &held, &wanted);
                }
                let document = PolicyDocument::Policy(policy.clone());
                let result = Pdp::new(&document).decide_individual(&req, now);
                let echo = altinn::echoes_attributes(&policy, &req, result.decision);
                (result, echo)
            }
        };
        let mut explanation = if explain {
            Explanation {
                decided_by: "policy",
                policy_id: result.deciding_rule.as_ref().map(|r| r.policy_id.to_string()),
                rule_id: result.deciding_rule.as_ref().map(|r| r.rule_id.to_string()),
                grants: explain_rule(&policy, result.deciding_rule.as_ref().map(|r| &*r.rule_id), &grants, self.catalogue),
                message: result.status.message.clone(),
            }
        } else {
            Explanation { decided_by: "policy", ..Default::default() }
        };

        // Single rights delegated to the subject count only when the policy is NotApplicable.
        if result.decision == Decision::NotApplicable && !held.rights.is_empty() && party.is_some() {
            let actions: Vec<String> = req.values(ACTION_CATEGORY, ACTION_ID).map(|v| v.lexical().into_owned()).collect();
            if let Some(action) = actions.iter().find(|a| held.has_right(&resource_id, a)) {
                result = permit_with_policy_obligations(&policy, &req, now);
                echo = true;
                let paths = grants.rights.get(&(resource_id.clone(), action.clone())).cloned().unwrap_or_default();
                explanation = Explanation {
                    decided_by: "delegation",
                    grants: vec![ExplainedGrant { attribute_id: "right".into(), value: format!("{resource_id}/{action}"), paths }],
                    ..Default::default()
                };
            }
        }
        // The access-list gate turns a Permit into Deny for parties not on a connected list.
        if result.decision == Decision::Permit && access_lists {
            let actions: Vec<String> = req.values(ACTION_CATEGORY, ACTION_ID).map(|v| v.lexical().into_owned()).collect();
            let gate_party = party.as_ref().map(|p| (p.party_id, p.org_number.is_some()));
            if let Some(reason) = access_lists::gate(&self.store, &resource_id, gate_party, &actions).await.map_err(|e| internal(&e))? {
                result = DecisionResult {
                    decision: Decision::Deny,
                    status: fullmakt_xacml::Status { code: StatusCode::Ok, message: Some(reason.clone()) },
                    obligations: Vec::new(),
                    advice: Vec::new(),
                    attributes: result.attributes,
                    policy_identifiers: result.policy_identifiers,
                    deciding_rule: None,
                };
                explanation.decided_by = "accessList";
                explanation.message = Some(reason);
            }
        }
        Ok(Outcome { result, echo, explanation })
    }

    /// Validates the subject (pdp.md §1.5) and finds who it is.
    async fn subject(&self, req: &Request, api: Api) -> Result<SubjectKind, Failure> {
        if let Some(uuid) = system_user_subject(req)? {
            return Ok(SubjectKind::SystemUser(uuid));
        }
        let first = |id: &str| req.values(SUBJECT_CATEGORY, id).next().map(|v| v.lexical().into_owned());
        let user = first(USER_ID);
        let ssn = first(PERSON_ID);
        let orgno = first(ORGANIZATION_ID).or_else(|| first(LEGACY_ORGANIZATION_ID));
        if ssn.is_some() && api == Api::Decision {
            return Err(argument("A person number cannot be used as subject in this API"));
        }
        if user.is_some() && ssn.is_some() {
            return Err(argument("The subject cannot have both a user id and a person number"));
        }
        if api == Api::Authorize && orgno.is_some() && (user.is_some() || ssn.is_some()) {
            return Err(argument("An organisation subject cannot be combined with a person"));
        }
        let party = if let Some(user) = user {
            let id: i64 = user.parse().map_err(|_| argument(format!("{user} is not a user id")))?;
            Some(self.find(PartyKey::Id(id)).await?.filter(|p| p.party_type == "person").ok_or_else(|| argument(format!("unknown user {user}")))?)
        } else if let Some(ssn) = ssn {
            Some(self.find(PartyKey::PersonIdentifier(&ssn)).await?.ok_or_else(|| argument("unknown person number"))?)
        } else if let Some(orgno) = orgno {
            self.find(PartyKey::OrgNumber(&orgno)).await?
        } else {
            None
        };
        Ok(party.map(SubjectKind::Party).unwrap_or(SubjectKind::None))
    }

    /// Resolves the resource party (the reportee); also says whether the request carried
    /// `urn:altinn:partyid` itself (else the evaluator's copy of the request gets it added).
    async fn resource_party(&self, named: &ResourceAttributes<'_>, api: Api) -> Result<(Option<ResourceParty>, bool), Failure> {
        let party = if let Some(found) = self.indexed_resource_party(named) {
            Some(found?)
        } else if let Some(ssn) = named.person.map(Value::lexical) {
            if api == Api::Decision {
                return Err(argument("A person number cannot name the party in this API"));
            }
            let row = self.find(PartyKey::PersonIdentifier(&ssn)).await?.ok_or_else(|| argument("unknown person number"))?;
            Some(ResourceParty { party_id: row.party_id, main_unit: None, org_number: None })
        } else {
            None
        };
        Ok((party, named.party_id.is_some()))
    }

    /// The resource party when the request names it the way the index keys parties (party id,
    /// organisation number, party uuid, in that order of preference); `None` when it names it
    /// otherwise or not at all.
    fn indexed_resource_party(&self, named: &ResourceAttributes<'_>) -> Option<Result<ResourceParty, Failure>> {
        Some(if let Some(id) = named.party_id.map(Value::lexical) {
            id.parse::<i64>()
                .map_err(|_| argument(format!("{id} is not a party id")))
                .and_then(|n| self.index.party_by_id(n).ok_or_else(|| argument(format!("unknown party {id}"))))
        } else if let Some(orgno) = named.organization.or(named.legacy_organization).map(Value::lexical) {
            self.index.party_by_org_number(&orgno).ok_or_else(|| argument(format!("unknown organisation {orgno}")))
        } else if let Some(uuid) = named.party_uuid.map(Value::lexical) {
            uuid::Uuid::parse_str(&uuid)
                .map_err(|_| argument(format!("{uuid} is not a valid party uuid")))
                .and_then(|uuid| self.index.party_by_uuid(uuid.as_u128()).ok_or_else(|| argument(format!("unknown party {uuid}"))))
        } else {
            return None;
        })
    }

    async fn find(&self, key: PartyKey<'_>) -> Result<Option<PartyRow>, Failure> {
        self.store.find_party(key).await.map_err(|e| internal(&e))
    }

    /// The resource's policy if the cache holds it as current under `sequence`.
    fn cached_policy(&self, resource_id: &str, sequence: i64) -> Option<ResourcePolicy> {
        let policies = self.policies.lock().unwrap_or_else(|e| e.into_inner());
        let cached = current_policy(&policies, resource_id, sequence)?;
        Some(ResourcePolicy { policy: cached.policy.clone(), compiled: cached.compiled.clone(), access_lists: cached.access_lists })
    }

    /// The resource's parsed policy, from the cache if the stored versions are the cached ones.
    async fn policy(&self, resource_id: &str, sequence: i64) -> Result<ResourcePolicy, Failure> {
        if let Some(cached) = self.cached_policy(resource_id, sequence) {
            return Ok(cached);
        }
        let row = self
            .store
            .resource(resource_id)
            .await
            .map_err(|e| internal(&e))?
            .filter(|r| r.deleted == 0)
            .ok_or_else(|| argument(format!("no resource {resource_id} in the registry")))?;
        let (Some(version), Some(xml)) = (row.policy_version, row.policy_xml.as_deref()) else {
            return Err(argument(format!("resource {resource_id} has no policy")));
        };
        let versions = (row.version_id, version);
        if let Some(cached) = self.policies.lock().unwrap_or_else(|e| e.into_inner()).get_mut(resource_id) {
            if cached.versions == versions {
                cached.checked_at = cached.checked_at.max(sequence);
                return Ok(ResourcePolicy { policy: cached.policy.clone(), compiled: cached.compiled.clone(), access_lists: cached.access_lists });
            }
        }
        let policy = resource_registry::parse_resource_policy(resource_id, xml).map_err(|e| internal(&e))?;
        let resource: fullmakt_domain::resource::ServiceResource = serde_json::from_str(&row.body).map_err(|e| internal(&e))?;
        let access_lists = resource.access_list_mode == fullmakt_domain::resource::AccessListMode::Enabled;
        let compiled = CompiledPolicy::compile(&policy, resource_id, self.catalogue).map(Arc::new);
        self.policies.lock().unwrap_or_else(|e| e.into_inner()).insert(
            resource_id.to_owned(),
            CachedPolicy { checked_at: sequence, versions, policy: policy.clone(), compiled: compiled.clone(), access_lists },
        );
        Ok(ResourcePolicy { policy, compiled, access_lists })
    }

    /// Adds the subject attributes the policy names, from the subject's grants.
    fn enrich_subject(&self, req: &mut Request, subject: &SubjectKind, held: &Held, wanted: &std::collections::BTreeSet<&str>) {
        if wanted.contains(ACCESS_PACKAGE) {
            for index in held.packages.iter() {
                let code = self.catalogue.package(index).code.clone();
                req.add_attribute(SUBJECT_CATEGORY, ACCESS_PACKAGE, Value::String(code.into()));
            }
        }
        // System users never get roles (pdp.md §3, "No role path").
        if matches!(subject, SubjectKind::SystemUser(_)) {
            return;
        }
        for code in &held.roles {
            let Some(role) = self.catalogue.role(code) else { continue };
            if wanted.contains(CCR_ROLE) {
                req.add_attribute(SUBJECT_CATEGORY, CCR_ROLE, Value::String(role.code.clone().into()));
            }
            if wanted.contains(ROLE_CODE) {
                // Policies spell role codes both ways (DAGL, dagl) under string-equal; the
                // holder of the role matches either spelling.
                for c in self.catalogue.legacy_role_codes(role.index) {
                    req.add_attribute(SUBJECT_CATEGORY, ROLE_CODE, Value::String(c.to_uppercase().into()));
                    req.add_attribute(SUBJECT_CATEGORY, ROLE_CODE, Value::String(c.to_lowercase().into()));
                }
            }
        }
    }
}

/// The cached policy of `resource_id` if it was found current under `sequence`.
fn current_policy<'a>(policies: &'a HashMap<String, CachedPolicy, foldhash::fast::RandomState>, resource_id: &str, sequence: i64) -> Option<&'a CachedPolicy> {
    policies.get(resource_id).filter(|c| c.checked_at == sequence)
}

/// The system user the request is made for, if its subject names one; it must then be the only
/// subject attribute, with one value (pdp.md §1.5).
fn system_user_subject(req: &Request) -> Result<Option<uuid::Uuid>, Failure> {
    // One pass: the system user's values, and whether any other subject attribute is there.
    let (mut system_user, mut system_user_values, mut other_attribute) = (None, 0, false);
    for attribute in req.categories.iter().filter(|c| c.category == SUBJECT_CATEGORY).flat_map(|c| &c.attributes) {
        if attribute.attribute_id == SYSTEM_USER {
            system_user = system_user.or(attribute.values.first());
            system_user_values += attribute.values.len();
        } else {
            other_attribute = true;
        }
    }
    let Some(su) = system_user else { return Ok(None) };
    if other_attribute || system_user_values > 1 {
        return Err(argument("The system user must be the only subject attribute of the request"));
    }
    let su = su.lexical();
    let uuid = uuid::Uuid::parse_str(&su).map_err(|_| argument(format!("{su} is not a valid system user uuid")))?;
    Ok(Some(uuid))
}

fn internal(e: &dyn std::fmt::Display) -> Failure {
    tracing::error!(error = %e, "decision failed inside the server");
    Failure { argument: false, message: "the decision could not be made".into() }
}

/// The resource category's attributes the decision point reads, found in one pass over the
/// request: the first value of each, as [`Request::values`] would give it.
#[derive(Default)]
struct ResourceAttributes<'a> {
    resource: Option<&'a Value>,
    org: Option<&'a Value>,
    app: Option<&'a Value>,
    party_id: Option<&'a Value>,
    organization: Option<&'a Value>,
    legacy_organization: Option<&'a Value>,
    party_uuid: Option<&'a Value>,
    person: Option<&'a Value>,
}

impl<'a> ResourceAttributes<'a> {
    fn of(req: &'a Request) -> Self {
        let mut found = Self::default();
        for attribute in req.categories.iter().filter(|c| c.category == RESOURCE_CATEGORY).flat_map(|c| &c.attributes) {
            let slot = match attribute.attribute_id.as_str() {
                RESOURCE => &mut found.resource,
                ORG => &mut found.org,
                APP => &mut found.app,
                PARTY_ID => &mut found.party_id,
                ORGANIZATION_ID => &mut found.organization,
                LEGACY_ORGANIZATION_ID => &mut found.legacy_organization,
                PARTY_UUID => &mut found.party_uuid,
                PERSON_ID => &mut found.person,
                _ => continue,
            };
            if slot.is_none() {
                *slot = attribute.values.first();
            }
        }
        found
    }
}

/// Resource attributes the request is to be given: (attribute id, value).
type ImpliedAttributes = Vec<(&'static str, String)>;

/// The resource the request is about: `urn:altinn:resource`, or `urn:altinn:org` +
/// `urn:altinn:app` for an app (`app_{org}_{app}`); also the other form, which the request is
/// to be given (pdp.md §2.2 C).
fn resource_id(named: &ResourceAttributes<'_>) -> Result<(String, ImpliedAttributes), Failure> {
    if let Some(id) = named.resource.map(|v| v.lexical().into_owned()) {
        let mut implied = Vec::new();
        if let Some((org, app)) = fullmakt_domain::resource::app_parts(&id) {
            if named.org.is_none() && named.app.is_none() {
                implied = vec![(ORG, org.to_owned()), (APP, app.to_owned())];
            }
        }
        return Ok((id, implied));
    }
    match (named.org, named.app) {
        (Some(org), Some(app)) => {
            let id = fullmakt_domain::resource::app_identifier(&org.lexical(), &app.lexical());
            Ok((id.clone(), vec![(RESOURCE, id)]))
        }
        _ => Err(argument("The request names no resource (urn:altinn:resource, or urn:altinn:org and urn:altinn:app)")),
    }
}

/// A Permit carrying the resource policy's Permit obligations, as the reference gives a
/// delegated Permit (copied into the response, never into a cached policy).
fn permit_with_policy_obligations(policy: &Policy, req: &Request, now: DateTime) -> DecisionResult {
    let mut permit = policy.clone();
    permit.target = Target::default();
    permit.rules = vec![Rule {
        id: "urn:fullmakt:delegation".into(),
        effect: Effect::Permit,
        description: None,
        target: Target::default(),
        condition: None,
        obligations: Vec::new(),
        advice: Vec::new(),
    }];
    let document = PolicyDocument::Policy(Arc::new(permit));
    let mut result = Pdp::new(&document).decide_individual(req, now);
    result.deciding_rule = None;
    result
}

/// The grants that satisfied the subject matches of the deciding rule.
fn explain_rule(policy: &Policy, rule_id: Option<&str>, grants: &SubjectGrants, catalogue: &Catalogue) -> Vec<ExplainedGrant> {
    let Some(rule) = rule_id.and_then(|id| policy.rules.iter().find(|r| r.id == id)) else { return Vec::new() };
    let mut out = Vec::new();
    for m in rule.target.any_of.iter().flat_map(|a| a.all_of.iter()).flat_map(|a| a.matches.iter()) {
        let fullmakt_xacml::policy::AttributeSource::Designator(d) = &m.source else { continue };
        if d.category != SUBJECT_CATEGORY {
            continue;
        }
        let value = m.value.lexical().into_owned();
        let paths: Vec<GrantPath> = match d.attribute_id.as_str() {
            ACCESS_PACKAGE => grants
                .packages
                .iter()
                .filter(|(index, _)| catalogue.package(**index).code.eq_ignore_ascii_case(&value))
                .flat_map(|(_, paths)| paths.clone())
                .collect(),
            ROLE_CODE | CCR_ROLE => grants
                .roles
                .iter()
                .filter(|(code, _)| {
                    catalogue.role(code).is_some_and(|r| {
                        r.code.eq_ignore_ascii_case(&value) || r.legacy_code.as_deref().is_some_and(|l| l.eq_ignore_ascii_case(&value))
                    })
                })
                .flat_map(|(_, paths)| paths.clone())
                .collect(),
            _ => continue,
        };
        if !paths.is_empty() {
            out.push(ExplainedGrant { attribute_id: d.attribute_id.clone(), value, paths });
        }
    }
    out
}
