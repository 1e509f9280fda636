//! The resource registry (registry-delegation-ui.md §1): service owners describe their
//! services as resources and attach XACML policies; everyone may read them.
//!
//! Writes need `altinn:resourceregistry/resource.write` and ownership: the caller's
//! organisation must be the resource's competent authority, before and after the write.
//! `…/resource.admin` may write any resource. The CLI writes as the operator (no caller).

use std::sync::Arc;

use fullmakt_domain::resource::{ReferenceType, ResourceType, ServiceResource, ValidationErrors, WriteKind};
use fullmakt_store::{ResourceRow, ResourceSubjectRow, Store};
use fullmakt_xacml::introspect::{self, AttributeMatch};
use fullmakt_xacml::{parse_policy, Policy, PolicyDocument};
use serde::Deserialize;

use crate::admin::{AdminError, Caller};
use crate::clock;

pub const RESOURCE_WRITE: &str = "altinn:resourceregistry/resource.write";
pub const RESOURCE_ADMIN: &str = "altinn:resourceregistry/resource.admin";

/// Who writes: an API caller (checked) or the operator at the CLI (trusted).
#[derive(Debug, Clone, Copy)]
pub enum Writer<'a> {
    Api(&'a Caller),
    Operator,
}

impl Writer<'_> {
    fn require_write_scope(&self) -> Result<(), AdminError> {
        match self {
            Writer::Api(c) => c.require_any(&[RESOURCE_WRITE, RESOURCE_ADMIN]),
            Writer::Operator => Ok(()),
        }
    }

    fn is_admin(&self) -> bool {
        match self {
            Writer::Api(c) => c.scopes.iter().any(|s| s == RESOURCE_ADMIN),
            Writer::Operator => true,
        }
    }

    /// The caller may write resources whose competent authority is its own organisation.
    fn require_owner(&self, owner_orgno: Option<&str>) -> Result<(), AdminError> {
        match self {
            _ if self.is_admin() => Ok(()),
            Writer::Api(c) if owner_orgno == Some(c.org.to_string().as_str()) => Ok(()),
            _ => Err(AdminError::Forbidden(
                "the resource's competent authority is not the organisation behind the token".into(),
            )),
        }
    }
}

fn invalid(field: &str, message: impl Into<String>) -> AdminError {
    let mut e = ValidationErrors::default();
    e.add(field, message);
    AdminError::Invalid(e)
}

/// The resource as stored, with the fields the registry computes on read.
fn view(body: &str, version_id: i64) -> Result<ServiceResource, AdminError> {
    let mut r: ServiceResource = serde_json::from_str(body).map_err(AdminError::internal)?;
    r.authorization_reference = Some(r.authorization_attributes());
    r.version_id = Some(version_id);
    Ok(r)
}

fn row_view(row: &ResourceRow) -> Result<ServiceResource, AdminError> {
    view(&row.body, row.version_id)
}

/// The body we store: what the writer sent, minus the computed fields.
fn stored_body(r: &ServiceResource) -> Result<String, AdminError> {
    let mut r = r.clone();
    r.authorization_reference = None;
    r.version_id = None;
    serde_json::to_string(&r).map_err(AdminError::internal)
}

/// A MaskinportenSchema resource (or any resource referring to Maskinporten scopes) may only
/// name scopes under prefixes its writer owns, so no one publishes another owner's API.
async fn check_scope_references(store: &Store, writer: Writer<'_>, r: &ServiceResource) -> Result<(), AdminError> {
    let Writer::Api(caller) = writer else { return Ok(()) };
    if writer.is_admin() {
        return Ok(());
    }
    let mut forbidden = Vec::new();
    for scope in r.references_of(ReferenceType::MaskinportenScope) {
        let prefix = scope.split_once(':').map(|(p, _)| p).unwrap_or(scope);
        let owner = store.scope_prefix_owner(prefix).await?;
        if owner.as_deref() != Some(caller.org.to_string().as_str()) {
            forbidden.push(scope.to_owned());
        }
    }
    if forbidden.is_empty() {
        Ok(())
    } else {
        Err(AdminError::Forbidden(format!(
            "the organisation behind the token does not own the prefix of these Maskinporten scopes: {}",
            forbidden.join(", ")
        )))
    }
}

async fn check_write(store: &Store, writer: Writer<'_>, r: &ServiceResource, kind: WriteKind) -> Result<(), AdminError> {
    writer.require_write_scope()?;
    r.validate(kind).map_err(AdminError::Invalid)?;
    writer.require_owner(r.owner_organisation())?;
    check_scope_references(store, writer, r).await
}

/// Binds the resource's org code to its organisation number, or refuses a code that
/// belongs to another organisation.
async fn bind_owner_code(tx: &mut fullmakt_store::WriteTx, r: &ServiceResource, now: i64) -> Result<(), AdminError> {
    let Some(code) = r.owner_code() else { return Ok(()) };
    let orgno = r.owner_organisation();
    let bound = tx.bind_service_owner(code, orgno, now).await?;
    if bound.orgno.as_deref() != orgno {
        return Err(invalid(
            "HasCompetentAuthority.Orgcode",
            format!("The org code {code} belongs to another organisation"),
        ));
    }
    Ok(())
}

pub async fn create_resource(store: &Store, writer: Writer<'_>, r: &ServiceResource) -> Result<ServiceResource, AdminError> {
    check_write(store, writer, r, WriteKind::Create).await?;
    let now = clock::now();
    let mut tx = store.begin_write().await?;
    bind_owner_code(&mut tx, r, now).await?;
    let row = ResourceRow {
        identifier: r.identifier().to_owned(),
        owner_orgno: r.owner_organisation().map(str::to_owned),
        owner_code: r.owner_code().map(str::to_lowercase),
        resource_type: r.resource_type.name().to_owned(),
        version_id: tx.sequence(),
        body: stored_body(r)?,
        policy_xml: None,
        policy_version: None,
        created: now,
        modified: now,
        deleted: 0,
    };
    tx.insert_resource(&row).await.map_err(|e| match e {
        fullmakt_store::StoreError::Conflict => AdminError::Conflict(format!("The Resource already exist: {}", row.identifier)),
        other => other.into(),
    })?;
    tx.commit().await?;
    row_view(&row)
}

pub async fn update_resource(
    store: &Store,
    writer: Writer<'_>,
    identifier: &str,
    r: &ServiceResource,
) -> Result<ServiceResource, AdminError> {
    writer.require_write_scope()?;
    let current = live_resource(store, identifier).await?;
    if r.identifier() != identifier {
        return Err(AdminError::BadRequest("Id in path does not match ID in resource".into()));
    }
    // Owning the new document is not enough: the caller must own the resource it replaces.
    writer.require_owner(current.owner_orgno.as_deref())?;
    check_write(store, writer, r, WriteKind::Update).await?;
    let now = clock::now();
    let mut tx = store.begin_write().await?;
    bind_owner_code(&mut tx, r, now).await?;
    let row = ResourceRow {
        owner_orgno: r.owner_organisation().map(str::to_owned),
        owner_code: r.owner_code().map(str::to_lowercase),
        resource_type: r.resource_type.name().to_owned(),
        version_id: tx.sequence(),
        body: stored_body(r)?,
        modified: now,
        ..current
    };
    tx.update_resource(&row).await?;
    tx.commit().await?;
    row_view(&row)
}

pub async fn delete_resource(store: &Store, writer: Writer<'_>, identifier: &str) -> Result<(), AdminError> {
    writer.require_write_scope()?;
    let current = live_resource(store, identifier).await?;
    writer.require_owner(current.owner_orgno.as_deref())?;
    let mut tx = store.begin_write().await?;
    tx.delete_resource(identifier, clock::now()).await?;
    tx.commit().await?;
    Ok(())
}

/// A resource that exists and is not deleted.
pub async fn live_resource(store: &Store, identifier: &str) -> Result<ResourceRow, AdminError> {
    match store.resource(identifier).await? {
        Some(row) if row.deleted == 0 => Ok(row),
        _ => Err(AdminError::NotFound(format!("no resource with identifier {identifier}"))),
    }
}

/// `GET resource/{id}?versionId=`: the current version, or the one asked for.
pub async fn get_resource(store: &Store, identifier: &str, version_id: Option<i64>) -> Result<ServiceResource, AdminError> {
    let row = live_resource(store, identifier).await?;
    match version_id {
        None => row_view(&row),
        Some(v) => {
            let body = store
                .resource_version(identifier, v)
                .await?
                .ok_or_else(|| AdminError::NotFound(format!("resource {identifier} has no version {v}")))?;
            view(&body, v)
        }
    }
}

/// `GET resourcelist`: every current resource; apps by default, migrated apps on request.
pub async fn resource_list(store: &Store, include_apps: bool, include_migrated_apps: bool) -> Result<Vec<ServiceResource>, AdminError> {
    let rows = store.current_resources().await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let r = row_view(row)?;
        let keep = match r.resource_type {
            ResourceType::AltinnApp => include_apps,
            ResourceType::MigratedApp => include_migrated_apps,
            _ => true,
        };
        if keep {
            out.push(r);
        }
    }
    Ok(out)
}

/// `GET Search`: each given criterion must match (case-insensitive substring).
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(default)]
pub struct ResourceSearch {
    #[serde(alias = "Id", alias = "ID")]
    pub id: Option<String>,
    #[serde(alias = "Title")]
    pub title: Option<String>,
    #[serde(alias = "Description")]
    pub description: Option<String>,
    #[serde(alias = "ResourceType", alias = "resourcetype")]
    pub resource_type: Option<String>,
    #[serde(alias = "Keyword")]
    pub keyword: Option<String>,
    #[serde(alias = "Reference")]
    pub reference: Option<String>,
    #[serde(alias = "OrgCode", alias = "orgcode")]
    pub org_code: Option<String>,
    #[serde(alias = "OrganizationId", alias = "organizationid")]
    pub organization_id: Option<String>,
}

fn contains(haystack: &str, needle: &str) -> bool {
    haystack.to_lowercase().contains(&needle.to_lowercase())
}

fn any_text(texts: Option<&fullmakt_domain::resource::LanguageText>, needle: &str) -> bool {
    texts.is_some_and(|t| t.values().any(|v| contains(v, needle)))
}

impl ResourceSearch {
    fn matches(&self, r: &ServiceResource) -> bool {
        let given = |o: &Option<String>| o.as_deref().filter(|s| !s.is_empty()).map(str::to_owned);
        if let Some(id) = given(&self.id) {
            if !contains(r.identifier(), &id) {
                return false;
            }
        }
        if let Some(t) = given(&self.title) {
            if !any_text(r.title.as_ref(), &t) {
                return false;
            }
        }
        if let Some(d) = given(&self.description) {
            if !any_text(r.description.as_ref(), &d) {
                return false;
            }
        }
        if let Some(k) = given(&self.keyword) {
            if !r.keywords.iter().flatten().filter_map(|k| k.word.as_deref()).any(|w| contains(w, &k)) {
                return false;
            }
        }
        if let Some(reference) = given(&self.reference) {
            if !r.resource_references.iter().flatten().filter_map(|x| x.reference.as_deref()).any(|x| contains(x, &reference)) {
                return false;
            }
        }
        if let Some(code) = given(&self.org_code) {
            if !r.owner_code().is_some_and(|c| c.eq_ignore_ascii_case(&code)) {
                return false;
            }
        }
        if let Some(orgno) = given(&self.organization_id) {
            if r.owner_organisation() != Some(orgno.as_str()) {
                return false;
            }
        }
        true
    }
}

pub async fn search(store: &Store, criteria: &ResourceSearch) -> Result<Vec<ServiceResource>, AdminError> {
    let resource_type = match criteria.resource_type.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(t) => Some(
            ResourceType::parse(t)
                .ok_or_else(|| invalid("ResourceType", format!("The value '{t}' is not valid for ResourceType.")))?,
        ),
    };
    let mut out = Vec::new();
    for row in store.current_resources().await? {
        let r = row_view(&row)?;
        if resource_type.is_none_or(|t| t == r.resource_type) && criteria.matches(&r) {
            out.push(r);
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Policies (§1.3–§1.4): stored with the resource, validated on upload, read back as XML, as
// flattened rules, as subjects and as rights.

/// `type` + `value` of one attribute, as the registry writes URN parts on the wire.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct TypeValue {
    #[serde(rename = "type")]
    pub kind: String,
    pub value: String,
}

impl From<&AttributeMatch> for TypeValue {
    fn from(m: &AttributeMatch) -> Self {
        Self { kind: m.attribute_id.clone(), value: m.value.clone() }
    }
}

/// A subject named by the policy (`GET …/policy/subjects`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct PolicySubject {
    #[serde(rename = "type")]
    pub kind: String,
    pub value: String,
    pub urn: String,
}

/// One flattened rule: one subject alternative, one action, one resource set.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct PolicyRule {
    pub subject: Vec<TypeValue>,
    pub action: TypeValue,
    pub resource: Vec<TypeValue>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubjectAttributes {
    pub subject_attributes: Vec<TypeValue>,
}

/// v1 rights: an action on a resource set and every subject that gets it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PolicyRight {
    pub action: TypeValue,
    pub resource: Vec<TypeValue>,
    pub subjects: Vec<SubjectAttributes>,
    pub right_key: String,
    pub subject_types: Vec<String>,
}

/// v2 rights, as Access Management uses them for delegation.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct RightV2 {
    pub key: String,
    pub name: String,
    pub resource: Vec<TypeValue>,
    pub action: TypeValue,
}

fn policy_error(message: impl std::fmt::Display) -> AdminError {
    AdminError::BadRequest(format!("the policy is not valid: {message}"))
}

/// Parses a policy for `identifier` and checks that it speaks only about that resource.
pub fn parse_resource_policy(identifier: &str, xml: &str) -> Result<Arc<Policy>, AdminError> {
    let policy = match parse_policy(xml).map_err(policy_error)? {
        PolicyDocument::Policy(p) => p,
        PolicyDocument::PolicySet(_) => return Err(policy_error("a resource policy is a <Policy>, not a <PolicySet>")),
    };
    if policy.rules.is_empty() {
        return Err(policy_error("it has no rules"));
    }
    introspect::check_resource_binding(&policy, identifier).map_err(policy_error)?;
    Ok(policy)
}

/// `POST|PUT {id}/policy`: validates and stores the policy and the subject index it implies.
pub async fn store_policy(store: &Store, writer: Writer<'_>, identifier: &str, xml: &str) -> Result<(), AdminError> {
    writer.require_write_scope()?;
    let resource = match store.resource(identifier).await? {
        Some(row) if row.deleted == 0 => row,
        _ => return Err(AdminError::BadRequest("Unknown resource".into())),
    };
    writer.require_owner(resource.owner_orgno.as_deref())?;
    let policy = parse_resource_policy(identifier, xml)?;
    let subjects: Vec<ResourceSubjectRow> = introspect::subject_values(&policy)
        .iter()
        .map(|m| ResourceSubjectRow {
            identifier: identifier.to_owned(),
            subject_urn: m.urn().to_lowercase(),
            subject_type: m.attribute_id.to_lowercase(),
            subject_value: m.value.to_lowercase(),
        })
        .collect();
    let mut tx = store.begin_write().await?;
    tx.set_resource_policy(identifier, xml, &subjects, clock::now()).await?;
    tx.commit().await?;
    Ok(())
}

/// `GET {id}/policy`: the stored XML.
pub async fn policy_xml(store: &Store, identifier: &str) -> Result<String, AdminError> {
    let resource = store
        .resource(identifier)
        .await?
        .filter(|r| r.deleted == 0)
        .ok_or_else(|| AdminError::NotFound("Unable to find resource".into()))?;
    resource.policy_xml.ok_or_else(|| AdminError::NotFound("Unable to find requested policy".into()))
}

async fn stored_policy(store: &Store, identifier: &str) -> Result<Arc<Policy>, AdminError> {
    let xml = policy_xml(store, identifier).await?;
    // Validated on upload; a failure here means the stored text was changed behind our back.
    parse_resource_policy(identifier, &xml).map_err(AdminError::internal)
}

fn introspected_rights(policy: &Policy) -> Result<Vec<introspect::Right>, AdminError> {
    introspect::rights(policy).map_err(|e| AdminError::BadRequest(format!("the policy cannot be read as rights: {e}")))
}

const ACTION_TYPE: &str = "urn:oasis:names:tc:xacml:1.0:action:action-id";

fn action(value: &str) -> TypeValue {
    TypeValue { kind: ACTION_TYPE.into(), value: value.into() }
}

/// `GET {id}/policy/rules`: each rule flattened to subject × action × resource.
pub async fn policy_rules(store: &Store, identifier: &str) -> Result<Vec<PolicyRule>, AdminError> {
    let policy = stored_policy(store, identifier).await?;
    let mut out = Vec::new();
    for right in introspected_rights(&policy)? {
        for subject in &right.subjects {
            out.push(PolicyRule {
                subject: subject.iter().map(TypeValue::from).collect(),
                action: action(&right.action),
                resource: right.resource.iter().map(TypeValue::from).collect(),
            });
        }
    }
    Ok(out)
}

/// `GET {id}/policy/subjects`: the subject attribute values the policy names, lower-cased.
pub async fn policy_subjects(store: &Store, identifier: &str) -> Result<Vec<PolicySubject>, AdminError> {
    live_resource(store, identifier).await?;
    let rows = store.resource_subjects(identifier).await?;
    if rows.is_empty() {
        return Err(AdminError::NotFound(format!("resource {identifier} has no policy subjects")));
    }
    Ok(rows.into_iter().map(|r| PolicySubject { kind: r.subject_type, value: r.subject_value, urn: r.subject_urn }).collect())
}

/// `GET {id}/policy/rights` (v1).
pub async fn policy_rights(store: &Store, identifier: &str) -> Result<Vec<PolicyRight>, AdminError> {
    let policy = stored_policy(store, identifier).await?;
    Ok(introspected_rights(&policy)?
        .iter()
        .map(|right| {
            let resource: Vec<TypeValue> = right.resource.iter().map(TypeValue::from).collect();
            let mut subject_types: Vec<String> = right.subjects.iter().flatten().map(|m| m.attribute_id.clone()).collect();
            subject_types.sort();
            subject_types.dedup();
            let right_key = std::iter::once(right.action.clone())
                .chain(right.resource.iter().map(|m| m.urn()))
                .collect::<Vec<_>>()
                .join(";");
            PolicyRight {
                action: action(&right.action),
                resource,
                subjects: right
                    .subjects
                    .iter()
                    .map(|s| SubjectAttributes { subject_attributes: s.iter().map(TypeValue::from).collect() })
                    .collect(),
                right_key,
                subject_types,
            }
        })
        .collect())
}

/// The public v2 right key: `"01"` + lower-case hex SHA-256 of the lower-cased internal key.
pub fn public_right_key(internal_key: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, internal_key.to_lowercase().as_bytes());
    let mut key = String::with_capacity(66);
    key.push_str("01");
    for b in digest.as_ref() {
        key.push_str(&format!("{b:02x}"));
    }
    key
}

/// Display names of actions (the reference's ActionConfig), by language.
fn action_name(action: &str, language: &str) -> String {
    const NAMES: [(&str, &str, &str, &str); 10] = [
        // action, nb, nn, en
        ("read", "Les", "Les", "Read"),
        ("write", "Skriv", "Skriv", "Write"),
        ("sign", "Signer", "Signer", "Sign"),
        ("delete", "Slett", "Slett", "Delete"),
        ("instantiate", "Instansier", "Instansier", "Instantiate"),
        ("confirm", "Bekreft", "Stadfest", "Confirm"),
        ("complete", "Fullfør", "Fullfør", "Complete"),
        ("subscribe", "Abonner", "Abonner", "Subscribe"),
        ("access", "Tilgang", "Tilgang", "Access"),
        ("requestconsent", "Be om samtykke", "Be om samtykke", "Request consent"),
    ];
    NAMES
        .iter()
        .find(|(a, ..)| a.eq_ignore_ascii_case(action))
        .map(|(_, nb, nn, en)| match language {
            "en" => *en,
            "nn" => *nn,
            _ => *nb,
        })
        .map(str::to_owned)
        .unwrap_or_else(|| action.to_owned())
}

/// `GET v2 {id}/policy/rights`: the delegable rights, with their public keys and names in
/// `language` (`nb`, `nn` or `en`).
pub async fn policy_rights_v2(
    store: &Store,
    identifier: &str,
    language: &str,
    include_service_owner_rights: bool,
    include_app_rights: bool,
) -> Result<Vec<RightV2>, AdminError> {
    let policy = stored_policy(store, identifier).await?;
    let mut out: Vec<RightV2> = Vec::new();
    for right in introspected_rights(&policy)? {
        if right.accessor_subjects(include_service_owner_rights, include_app_rights).is_empty() {
            continue;
        }
        let key = public_right_key(&right.internal_key());
        if out.iter().any(|r| r.key == key) {
            continue;
        }
        out.push(RightV2 {
            key,
            name: action_name(&right.action, language),
            resource: right.resource.iter().map(TypeValue::from).collect(),
            action: action(&right.action),
        });
    }
    Ok(out)
}

/// What a subject URN gets access to (`POST resource/bysubjects/`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct SubjectResources {
    pub subject: PolicySubject,
    pub resources: Vec<PolicySubject>,
}

/// The most subjects one `bysubjects` call may ask about.
pub const MAX_SUBJECTS_PER_QUERY: usize = 1000;

/// For each subject URN (`urn:altinn:rolecode:dagl`, `urn:altinn:accesspackage:lonn`), the
/// current resources whose policies name it; subjects no policy names are left out.
pub async fn resources_by_subjects(store: &Store, subjects: &[String]) -> Result<Vec<SubjectResources>, AdminError> {
    if subjects.len() > MAX_SUBJECTS_PER_QUERY {
        return Err(AdminError::BadRequest(format!("at most {MAX_SUBJECTS_PER_QUERY} subjects per request")));
    }
    let mut out = Vec::new();
    for urn in subjects {
        let (kind, value) = urn.rsplit_once(':').filter(|(k, v)| k.starts_with("urn:") && !v.is_empty()).ok_or_else(|| {
            AdminError::BadRequest(format!("{urn} is not a subject URN such as urn:altinn:rolecode:dagl"))
        })?;
        let rows = store.resources_for_subjects(std::slice::from_ref(urn)).await?;
        if rows.is_empty() {
            continue;
        }
        out.push(SubjectResources {
            subject: PolicySubject { kind: kind.to_lowercase(), value: value.to_lowercase(), urn: urn.to_lowercase() },
            resources: rows
                .into_iter()
                .map(|r| PolicySubject {
                    kind: "urn:altinn:resource".into(),
                    value: r.identifier.clone(),
                    urn: format!("urn:altinn:resource:{}", r.identifier),
                })
                .collect(),
        });
    }
    Ok(out)
}

/// An Altinn-shaped resource policy, as service owners write them: one Permit rule for
/// `resource_id` whose subject AnyOf holds one AllOf per `(attribute id, value)`
/// (string-equal-ignore-case) and whose action AnyOf holds one AllOf per action, with Altinn's
/// authentication-level obligation. The demo seeds one; tests and benchmarks build theirs so.
pub fn altinn_policy(resource_id: &str, subjects: &[(&str, &str)], actions: &[&str]) -> String {
    const STRING: &str = "http://www.w3.org/2001/XMLSchema#string";
    let matches = |function: &str, category: &str, pairs: Vec<(&str, &str)>| -> String {
        pairs
            .iter()
            .map(|(id, value)| {
                format!(
                    r#"<xacml:AllOf><xacml:Match MatchId="{function}"><xacml:AttributeValue DataType="{STRING}">{value}</xacml:AttributeValue><xacml:AttributeDesignator AttributeId="{id}" Category="{category}" DataType="{STRING}" MustBePresent="false"/></xacml:Match></xacml:AllOf>"#
                )
            })
            .collect()
    };
    let subject = matches(
        "urn:oasis:names:tc:xacml:3.0:function:string-equal-ignore-case",
        "urn:oasis:names:tc:xacml:1.0:subject-category:access-subject",
        subjects.to_vec(),
    );
    let resource = matches(
        "urn:oasis:names:tc:xacml:1.0:function:string-equal",
        "urn:oasis:names:tc:xacml:3.0:attribute-category:resource",
        vec![("urn:altinn:resource", resource_id)],
    );
    let action = matches(
        "urn:oasis:names:tc:xacml:1.0:function:string-equal",
        "urn:oasis:names:tc:xacml:3.0:attribute-category:action",
        actions.iter().map(|a| ("urn:oasis:names:tc:xacml:1.0:action:action-id", *a)).collect(),
    );
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<xacml:Policy xmlns:xacml="urn:oasis:names:tc:xacml:3.0:core:schema:wd-17" PolicyId="urn:altinn:resource:{resource_id}:policy" Version="1.0" RuleCombiningAlgId="urn:oasis:names:tc:xacml:3.0:rule-combining-algorithm:deny-overrides">
  <xacml:Target/>
  <xacml:Rule RuleId="urn:altinn:resource:{resource_id}:rule1" Effect="Permit">
    <xacml:Target>
      <xacml:AnyOf>{subject}</xacml:AnyOf>
      <xacml:AnyOf>{resource}</xacml:AnyOf>
      <xacml:AnyOf>{action}</xacml:AnyOf>
    </xacml:Target>
  </xacml:Rule>
  <xacml:ObligationExpressions>
    <xacml:ObligationExpression ObligationId="urn:altinn:obligation:authenticationLevel1" FulfillOn="Permit">
      <xacml:AttributeAssignmentExpression AttributeId="urn:altinn:obligation-assignment:1" Category="urn:altinn:minimum-authenticationlevel">
        <xacml:AttributeValue DataType="http://www.w3.org/2001/XMLSchema#integer">2</xacml:AttributeValue>
      </xacml:AttributeAssignmentExpression>
    </xacml:ObligationExpression>
  </xacml:ObligationExpressions>
</xacml:Policy>"#
    )
}
