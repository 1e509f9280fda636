//! The system register's wire model (authentication-api.md §2.1) and the rules of §3.1 that
//! need nothing but the input: vendor, system id, redirect URLs, client-id duplicates, rights
//! shape and duplicates, and access packages against the catalogue. Checks that need stored
//! data (ids taken, resources in the registry) are the service's.
//!
//! `Right`, `AttributePair` and `AccessPackage` are shared by the system register, requests
//! and system users.

use std::collections::{BTreeMap, HashSet};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};

use crate::auth_error::{paths, ValidationCode, ValidationError};
use crate::resource::{app_parts, ResourceType, APP_ATTRIBUTE, ORG_ATTRIBUTE, RESOURCE_ATTRIBUTE};
use crate::{Catalogue, OrganisationNumber};

/// The longest system id (the reference's column is `varchar(255)`).
pub const MAX_SYSTEM_ID_LENGTH: usize = 255;
/// Languages `name` and `description` must have.
pub const REQUIRED_LANGUAGES: [&str; 3] = ["en", "nb", "nn"];

/// One attribute of a right's resource, e.g. `{"id":"urn:altinn:resource","value":"skd-mva"}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AttributePair {
    pub id: String,
    pub value: String,
}

/// A right a system needs: a resource named by attribute pairs. `action` is carried but
/// ignored everywhere, as in the reference; rights compare as sets of pairs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Right {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    pub resource: Vec<AttributePair>,
}

impl Right {
    /// The right's pairs as a set, the identity rights are compared by.
    pub fn pair_set(&self) -> std::collections::BTreeSet<&AttributePair> {
        self.resource.iter().collect()
    }
}

/// `{"urn":"urn:altinn:accesspackage:skatt-naering"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessPackage {
    pub urn: String,
}

/// The vendor of a system as it is written: `{"authority":"iso6523-actorid-upis","ID":"0192:…"}`.
/// Only `ID` is ever written back (the reference's `authority` is a field, not a property).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct VendorInfo {
    #[serde(default)]
    pub authority: Option<String>,
    pub id: String,
}

/// `RegisterSystemRequest`, the body of POST and PUT `systemregister/vendor…`, after the
/// reference's trim filter (every string property trimmed; strings directly in lists are not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisterSystemRequest {
    pub id: String,
    pub vendor: VendorInfo,
    pub name: BTreeMap<String, String>,
    pub description: BTreeMap<String, String>,
    pub rights: Vec<Right>,
    pub access_packages: Vec<AccessPackage>,
    pub client_id: Vec<String>,
    pub is_visible: bool,
    pub allowed_redirect_urls: Vec<String>,
}

/// The body as read, every key lower-cased (so `clientId`, `ClientId` and `clientid` agree).
#[derive(Deserialize)]
struct RequestInput {
    id: String,
    vendor: VendorInfo,
    name: BTreeMap<String, String>,
    description: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "null_as_empty")]
    rights: Vec<Right>,
    #[serde(default, deserialize_with = "null_as_empty", rename = "accesspackages")]
    access_packages: Vec<AccessPackage>,
    #[serde(default, deserialize_with = "null_as_empty", rename = "clientid")]
    client_id: Vec<String>,
    #[serde(default = "visible_by_default", rename = "isvisible")]
    is_visible: bool,
    #[serde(default, deserialize_with = "null_as_empty", rename = "allowedredirecturls")]
    allowed_redirect_urls: Vec<String>,
}

fn visible_by_default() -> bool {
    true
}

fn null_as_empty<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

/// Lower-cases object keys at every depth, except inside the objects whose (lower-cased) key is
/// in `verbatim`: those are maps whose keys are data (language codes), not property names.
fn lowercase_keys(value: &mut serde_json::Value, verbatim: &[&str]) {
    // serde_json's recursion limit (128) bounds the depth of what reaches here.
    match value {
        serde_json::Value::Object(map) => {
            let entries: Vec<(String, serde_json::Value)> = std::mem::take(map).into_iter().collect();
            for (key, mut v) in entries {
                let key = key.to_lowercase();
                if !verbatim.contains(&key.as_str()) {
                    lowercase_keys(&mut v, verbatim);
                }
                map.insert(key, v);
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(|v| lowercase_keys(v, verbatim)),
        _ => {}
    }
}

/// Reads a JSON body whose property names match in any letter case, as ASP.NET reads them.
/// The error text says what is wrong, for a 400.
pub fn from_json_any_case<T: DeserializeOwned>(body: &[u8]) -> Result<T, String> {
    let mut value: serde_json::Value = serde_json::from_slice(body).map_err(|e| format!("the body is not valid JSON: {e}"))?;
    lowercase_keys(&mut value, &["name", "description"]);
    serde_json::from_value(value).map_err(|e| e.to_string())
}

fn trim_in_place(s: &mut String) {
    let trimmed = s.trim();
    if trimmed.len() != s.len() {
        *s = trimmed.to_owned();
    }
}

fn trim_rights(rights: &mut [Right]) {
    for right in rights {
        if let Some(a) = right.action.as_mut() {
            trim_in_place(a);
        }
        for pair in &mut right.resource {
            trim_in_place(&mut pair.id);
            trim_in_place(&mut pair.value);
        }
    }
}

/// Reads a `Right[]` body (PUT `…/rights`), names in any case, strings trimmed.
pub fn rights_from_json(body: &[u8]) -> Result<Vec<Right>, String> {
    let mut rights: Vec<Right> = from_json_any_case(body)?;
    trim_rights(&mut rights);
    Ok(rights)
}

/// Reads an `AccessPackage[]` body (PUT `…/accesspackages`), names in any case, URNs trimmed.
pub fn access_packages_from_json(body: &[u8]) -> Result<Vec<AccessPackage>, String> {
    let mut packages: Vec<AccessPackage> = from_json_any_case(body)?;
    packages.iter_mut().for_each(|p| trim_in_place(&mut p.urn));
    Ok(packages)
}

impl RegisterSystemRequest {
    /// Reads the body: names in any case, `null` lists as empty, `isVisible` true unless given,
    /// then the trim filter.
    pub fn from_json(body: &[u8]) -> Result<Self, String> {
        let input: RequestInput = from_json_any_case(body)?;
        let mut r = Self {
            id: input.id,
            vendor: input.vendor,
            name: input.name,
            description: input.description,
            rights: input.rights,
            access_packages: input.access_packages,
            client_id: input.client_id,
            is_visible: input.is_visible,
            allowed_redirect_urls: input.allowed_redirect_urls,
        };
        trim_in_place(&mut r.id);
        trim_in_place(&mut r.vendor.id);
        if let Some(a) = r.vendor.authority.as_mut() {
            trim_in_place(a);
        }
        r.name.values_mut().for_each(trim_in_place);
        r.description.values_mut().for_each(trim_in_place);
        trim_rights(&mut r.rights);
        r.access_packages.iter_mut().for_each(|p| trim_in_place(&mut p.urn));
        Ok(r)
    }

    /// `name` and `description` must have `en`, `nb` and `nn` (the reference's database refuses
    /// anything else with a 500): the missing ones as (field, message) pairs.
    pub fn missing_languages(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        for (field, texts) in [("name", &self.name), ("description", &self.description)] {
            let missing: Vec<&str> = REQUIRED_LANGUAGES.iter().copied().filter(|l| !texts.contains_key(*l)).collect();
            if !missing.is_empty() {
                out.push((field, format!("The {field} must have the languages en, nb and nn; missing: {}", missing.join(", "))));
            }
        }
        out
    }
}

/// VLD-00: `vendor.ID` must be `0192:` and a valid organisation number (the reference checks
/// only the prefix).
pub fn vendor_organisation(vendor: &VendorInfo) -> Result<OrganisationNumber, ValidationError> {
    OrganisationNumber::parse_iso6523(&vendor.id).ok_or_else(|| ValidationError::new(ValidationCode::InvalidOrgIdentifier, paths::VENDOR_ID))
}

/// VLD-13 and VLD-01 for a new system id: no white space; `<vendor orgno>_<name>`, at most 255
/// characters, and none that could not be written in a URL path segment (`/ ? # \` and control
/// characters), since the id is addressed in paths.
pub fn check_system_id(id: &str, vendor: OrganisationNumber) -> Vec<ValidationError> {
    let mut errors = Vec::new();
    if id.chars().any(char::is_whitespace) {
        errors.push(ValidationError::new(ValidationCode::SystemIdHasSpaces, paths::SYSTEM_ID));
    }
    let well_formed = match id.split_once('_') {
        Some((prefix, name)) => {
            prefix == vendor.to_string()
                && !name.is_empty()
                && id.chars().count() <= MAX_SYSTEM_ID_LENGTH
                && !id.chars().any(|c| c.is_control() || matches!(c, '/' | '?' | '#' | '\\'))
        }
        None => false,
    };
    if !well_formed {
        errors.push(ValidationError::new(ValidationCode::InvalidSystemIdFormat, paths::SYSTEM_ID));
    }
    errors
}

/// VLD-05: every redirect URL absolute `https` with a host. Returns them normalised as the
/// reference's `Uri` writes them (`https://vg.no` → `https://vg.no/`, host lower-cased).
pub fn normalise_redirect_urls(urls: &[String]) -> Result<Vec<String>, ValidationError> {
    urls.iter()
        .map(|u| match url::Url::parse(u.trim()) {
            Ok(parsed) if parsed.scheme() == "https" && parsed.host_str().is_some_and(|h| !h.is_empty()) => Ok(parsed.to_string()),
            _ => Err(ValidationError::new(ValidationCode::InvalidRedirectUrlFormat, paths::ALLOWED_REDIRECT_URLS)),
        })
        .collect()
}

/// VLD-11: the same client id twice (letter case ignored).
pub fn duplicate_client_ids(ids: &[String]) -> Option<ValidationError> {
    let mut seen = HashSet::new();
    let duplicate = ids.iter().any(|id| !seen.insert(id.to_lowercase()));
    duplicate.then(|| ValidationError::new(ValidationCode::DuplicateClientIds, paths::CLIENT_ID))
}

/// VLD-06: two rights with the same set of pairs.
pub fn has_duplicate_rights(rights: &[Right]) -> bool {
    let mut seen = HashSet::new();
    rights.iter().any(|r| !seen.insert(r.pair_set()))
}

/// Resource types a system may name in its rights (the reference's allow-list): not
/// MaskinportenSchema, Altinn2Service or Consent.
pub fn is_delegable_resource_type(t: ResourceType) -> bool {
    matches!(
        t,
        ResourceType::Default
            | ResourceType::Systemresource
            | ResourceType::AltinnApp
            | ResourceType::GenericAccessResource
            | ResourceType::BrokerService
            | ResourceType::CorrespondenceService
            | ResourceType::MigratedApp
    )
}

/// The resource values of every pair, split into those whose attribute id is not
/// `urn:altinn:resource` (VLD-09) and those to look up in the registry, in order, once each.
/// A right with no pairs at all counts as badly formed.
pub fn partition_right_resources(rights: &[Right]) -> (Vec<String>, Vec<String>) {
    let mut invalid = Vec::new();
    let mut lookup: Vec<String> = Vec::new();
    for right in rights {
        if right.resource.is_empty() {
            invalid.push(String::new());
        }
        for pair in &right.resource {
            if pair.id != RESOURCE_ATTRIBUTE {
                invalid.push(pair.value.clone());
            } else if !lookup.contains(&pair.value) {
                lookup.push(pair.value.clone());
            }
        }
    }
    (invalid, lookup)
}

/// A validation error on the rights path carrying the `|`-joined values under `label`.
pub fn rights_error(code: ValidationCode, label: &str, values: &[String]) -> ValidationError {
    ValidationError::new(code, paths::RIGHTS).with_extension(label, values.join(" | "))
}

/// Extension labels of the rights errors, as the reference writes them.
pub const INVALID_RESOURCE_LABEL: &str = "Invalid Resource Id Details : ";
pub const NOT_FOUND_RESOURCE_LABEL: &str = "ResourceIds Not Found : ";
pub const NOT_DELEGABLE_RESOURCE_LABEL: &str = "ResourceIds Not Delegable : ";
pub const INVALID_URN_LABEL: &str = "Invalid Urn Details : ";

/// VLD-08 (a URN of fewer than four `:` parts, not in the catalogue, or neither delegable nor
/// assignable), VLD-07 (the same package twice) and VLD-18 (`isVisible` with a package that
/// cannot be assigned, i.e. one meant for client delegation), in that order.
pub fn check_access_packages(catalogue: &Catalogue, packages: &[AccessPackage], is_visible: bool) -> Vec<ValidationError> {
    let mut invalid_format = Vec::new();
    let mut not_found = Vec::new();
    let mut not_delegable = Vec::new();
    let mut not_assignable = false;
    for p in packages {
        if p.urn.split(':').count() < 4 {
            invalid_format.push(p.urn.clone());
            continue;
        }
        match catalogue.package_by_urn(&p.urn).filter(|_| p.urn.to_ascii_lowercase().starts_with("urn:")) {
            None => not_found.push(p.urn.clone()),
            Some(found) => {
                if !found.is_delegable && !found.is_assignable {
                    not_delegable.push(p.urn.clone());
                }
                if !found.is_assignable {
                    not_assignable = true;
                }
            }
        }
    }
    let mut errors = Vec::new();
    if !(invalid_format.is_empty() && not_found.is_empty() && not_delegable.is_empty()) {
        let mut details = Vec::new();
        if !invalid_format.is_empty() {
            details.push(format!("Invalid format: {}", invalid_format.join(", ")));
        }
        if !not_found.is_empty() {
            details.push(format!("Not found: {}", not_found.join(", ")));
        }
        if !not_delegable.is_empty() {
            details.push(format!("Not possible to delegate: {}", not_delegable.join(", ")));
        }
        errors.push(
            ValidationError::new(ValidationCode::AccessPackageNotValid, paths::ACCESS_PACKAGES)
                .with_extension(INVALID_URN_LABEL, details.join(" | ")),
        );
    }
    let mut seen = HashSet::new();
    if packages.iter().any(|p| !seen.insert(p.urn.to_ascii_lowercase())) {
        errors.push(ValidationError::new(ValidationCode::DuplicateAccessPackages, paths::ACCESS_PACKAGES));
    }
    if is_visible && not_assignable {
        errors.push(ValidationError::new(ValidationCode::VisibleWithNonAssignablePackage, paths::ACCESS_PACKAGES));
    }
    errors
}

/// `useOldFormatForApp=true`: a `urn:altinn:resource` pair naming an app `app_{org}_{app}`
/// becomes the `urn:altinn:org` + `urn:altinn:app` pairs older PEPs use; pairs of other
/// attributes are dropped, as the reference does.
pub fn rights_in_old_app_format(rights: &[Right]) -> Vec<Right> {
    rights
        .iter()
        .map(|r| Right {
            action: r.action.clone(),
            resource: r
                .resource
                .iter()
                .filter(|p| p.id == RESOURCE_ATTRIBUTE)
                .flat_map(|p| match p.value.starts_with(crate::resource::APP_PREFIX) {
                    true => app_parts(&p.value)
                        .map(|(org, app)| {
                            vec![
                                AttributePair { id: ORG_ATTRIBUTE.into(), value: org.into() },
                                AttributePair { id: APP_ATTRIBUTE.into(), value: app.into() },
                            ]
                        })
                        .unwrap_or_default(),
                    false => vec![p.clone()],
                })
                .collect(),
        })
        .collect()
}

/// What a change-log row records (`changeType` on the wire; the reference's database spells
/// the two partial updates with an underscore).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SystemChangeType {
    Create,
    Update,
    RightsUpdate,
    AccessPackageUpdate,
    Delete,
    Unknown,
}

impl SystemChangeType {
    pub const ALL: [SystemChangeType; 6] = [
        SystemChangeType::Create,
        SystemChangeType::Update,
        SystemChangeType::RightsUpdate,
        SystemChangeType::AccessPackageUpdate,
        SystemChangeType::Delete,
        SystemChangeType::Unknown,
    ];

    /// The wire spelling: `create|update|rightsupdate|accesspackageupdate|delete|unknown`.
    pub fn wire_name(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Update => "update",
            Self::RightsUpdate => "rightsupdate",
            Self::AccessPackageUpdate => "accesspackageupdate",
            Self::Delete => "delete",
            Self::Unknown => "unknown",
        }
    }

    /// The stored spelling (the reference's `systemchange_type` enum).
    pub fn stored_name(self) -> &'static str {
        match self {
            Self::RightsUpdate => "rights_update",
            Self::AccessPackageUpdate => "access_package_update",
            other => other.wire_name(),
        }
    }

    pub fn from_stored(s: &str) -> Self {
        Self::ALL.iter().copied().find(|t| t.stored_name() == s).unwrap_or(Self::Unknown)
    }
}

/// The PascalCase snapshot of rights the change log stores (`[{"Action":null,"Resource":[…]}]`,
/// the pairs keep their lower-case `id`/`value`).
pub fn rights_snapshot(rights: &[Right]) -> serde_json::Value {
    serde_json::Value::Array(
        rights
            .iter()
            .map(|r| serde_json::json!({"Action": r.action, "Resource": r.resource}))
            .collect(),
    )
}

/// The PascalCase snapshot of access packages the change log stores (`[{"Urn":…}]`).
pub fn access_packages_snapshot(packages: &[AccessPackage]) -> serde_json::Value {
    serde_json::Value::Array(packages.iter().map(|p| serde_json::json!({"Urn": p.urn})).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn org() -> OrganisationNumber {
        OrganisationNumber::parse("991825827").unwrap()
    }

    fn request(v: serde_json::Value) -> Result<RegisterSystemRequest, String> {
        RegisterSystemRequest::from_json(v.to_string().as_bytes())
    }

    fn minimal() -> serde_json::Value {
        json!({
            "id": "991825827_the_matrix",
            "vendor": {"authority": "iso6523-actorid-upis", "ID": "0192:991825827"},
            "name": {"nb": "The Matrix", "en": "The Matrix", "nn": "The Matrix"},
            "description": {"nb": "Test", "en": "Test", "nn": "Test"}
        })
    }

    #[test]
    fn a_minimal_request_gets_the_reference_defaults() {
        let r = request(minimal()).unwrap();
        assert_eq!(r.vendor.id, "0192:991825827");
        assert!(r.is_visible);
        assert!(r.rights.is_empty() && r.access_packages.is_empty() && r.client_id.is_empty() && r.allowed_redirect_urls.is_empty());
        assert!(r.missing_languages().is_empty());
    }

    #[test]
    fn names_match_in_any_case_and_strings_are_trimmed_but_not_list_items() {
        let r = request(json!({
            "ID": "  991825827_x  ",
            "Vendor": {"id": " 0192:991825827 "},
            "NAME": {"nb": " N ", "en": "E", "nn": "NN"},
            "Description": {"NB": "kept as a key", "en": "E", "nn": "N", "nb": "B"},
            "Rights": [{"Resource": [{"Id": " urn:altinn:resource ", "VALUE": " skd "}]}],
            "AccessPackages": [{"URN": " urn:altinn:accesspackage:skatt-naering "}],
            "ClientID": [" c1 "],
            "isvisible": false,
            "allowedRedirectURLs": ["https://vg.no"],
            "rights_unknown_member": 1
        }))
        .unwrap();
        assert_eq!(r.id, "991825827_x");
        assert_eq!(r.vendor.id, "0192:991825827");
        assert_eq!(r.name["nb"], "N");
        assert_eq!(r.description["NB"], "kept as a key", "language codes are data, not property names");
        assert_eq!(r.rights[0].resource[0], AttributePair { id: "urn:altinn:resource".into(), value: "skd".into() });
        assert_eq!(r.access_packages[0].urn, "urn:altinn:accesspackage:skatt-naering");
        assert_eq!(r.client_id, vec![" c1 ".to_owned()]);
        assert!(!r.is_visible);
    }

    #[test]
    fn missing_required_members_and_wrong_types_are_refused() {
        for key in ["id", "vendor", "name", "description"] {
            let mut v = minimal();
            v.as_object_mut().unwrap().remove(key);
            assert!(request(v).unwrap_err().contains(key));
        }
        let mut v = minimal();
        v["isVisible"] = json!("yes");
        assert!(request(v).is_err());
        let mut v = minimal();
        v["rights"] = json!([{"resource": [{"id": "urn:altinn:resource"}]}]);
        assert!(request(v).unwrap_err().contains("value"));
        let mut v = minimal();
        v["clientId"] = json!(null);
        v["rights"] = json!(null);
        assert!(request(v).unwrap().client_id.is_empty());
        assert!(RegisterSystemRequest::from_json(b"{").unwrap_err().contains("not valid JSON"));
        assert!(RegisterSystemRequest::from_json(b"[]").is_err());
    }

    #[test]
    fn missing_languages_are_named() {
        let mut v = minimal();
        v["name"] = json!({"nb": "x"});
        let missing = request(v).unwrap().missing_languages();
        assert_eq!(missing.len(), 1);
        assert_eq!(missing[0].0, "name");
        assert!(missing[0].1.contains("en, nn"));
    }

    #[test]
    fn vendor_must_be_iso6523_with_a_valid_organisation_number() {
        let v = |id: &str| VendorInfo { authority: None, id: id.into() };
        assert_eq!(vendor_organisation(&v("0192:991825827")).unwrap(), org());
        for bad in ["991825827", "0191:991825827", "0192:991825828", "0192:", ""] {
            let e = vendor_organisation(&v(bad)).unwrap_err();
            assert_eq!(e.code, ValidationCode::InvalidOrgIdentifier, "{bad}");
            assert_eq!(e.paths, vec![paths::VENDOR_ID]);
        }
    }

    #[test]
    fn system_ids_need_the_vendor_prefix_a_name_and_no_spaces() {
        assert!(check_system_id("991825827_the_matrix", org()).is_empty());
        let codes = |id: &str| check_system_id(id, org()).iter().map(|e| e.code.number()).collect::<Vec<_>>();
        assert_eq!(codes("991825827 _matrix"), vec![13, 1]);
        assert_eq!(codes("991825827_the matrix"), vec![13]);
        assert_eq!(codes("310702641_matrix"), vec![1]);
        assert_eq!(codes("991825827matrix"), vec![1]);
        assert_eq!(codes("991825827_"), vec![1]);
        assert_eq!(codes("991825827_a/b"), vec![1]);
        assert_eq!(codes(""), vec![1]);
        let long = format!("991825827_{}", "x".repeat(MAX_SYSTEM_ID_LENGTH - 10));
        assert!(codes(&long).is_empty());
        assert_eq!(codes(&format!("{long}x")), vec![1]);
    }

    #[test]
    fn redirect_urls_are_absolute_https_and_normalised() {
        let urls = |u: &[&str]| normalise_redirect_urls(&u.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(urls(&["https://vg.no", "https://VG.no:443/a?b=1"]).unwrap(), vec!["https://vg.no/", "https://vg.no/a?b=1"]);
        for bad in ["http://vg.no", "vg.no", "/relative", "https://", "ftp://x.no", "not a url"] {
            assert_eq!(urls(&[bad]).unwrap_err().code, ValidationCode::InvalidRedirectUrlFormat, "{bad}");
        }
        assert!(urls(&[]).unwrap().is_empty());
    }

    #[test]
    fn client_id_duplicates_ignore_case() {
        let ids = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(duplicate_client_ids(&ids(&["a", "b"])).is_none());
        assert_eq!(duplicate_client_ids(&ids(&["ab", "AB"])).unwrap().code, ValidationCode::DuplicateClientIds);
    }

    fn right(pairs: &[(&str, &str)]) -> Right {
        Right { action: None, resource: pairs.iter().map(|(i, v)| AttributePair { id: (*i).into(), value: (*v).into() }).collect() }
    }

    #[test]
    fn rights_are_duplicates_when_their_pair_sets_are_equal() {
        let a = right(&[("urn:altinn:resource", "x"), ("urn:altinn:resource", "y")]);
        let b = right(&[("urn:altinn:resource", "y"), ("urn:altinn:resource", "x")]);
        let c = right(&[("urn:altinn:resource", "x")]);
        assert!(has_duplicate_rights(&[a.clone(), b]));
        assert!(!has_duplicate_rights(&[a, c]));
    }

    #[test]
    fn right_resources_split_into_badly_formed_and_to_look_up() {
        let (invalid, lookup) = partition_right_resources(&[
            right(&[("urn:altinn:resource", "skd"), ("urn:altinn:app", "bad")]),
            right(&[("urn:altinn:resource", "skd")]),
            right(&[]),
        ]);
        assert_eq!(invalid, vec!["bad".to_owned(), String::new()]);
        assert_eq!(lookup, vec!["skd".to_owned()]);
        let e = rights_error(ValidationCode::ResourceIdInvalidFormat, INVALID_RESOURCE_LABEL, &["a".into(), "b".into()]);
        assert_eq!(e.extensions, vec![(INVALID_RESOURCE_LABEL.to_owned(), "a | b".to_owned())]);
    }

    #[test]
    fn packages_are_checked_against_the_catalogue() {
        let c = Catalogue::embedded();
        let p = |urns: &[&str]| urns.iter().map(|u| AccessPackage { urn: (*u).into() }).collect::<Vec<_>>();
        assert!(check_access_packages(c, &p(&["urn:altinn:accesspackage:skatt-naering"]), true).is_empty());

        let errors = check_access_packages(c, &p(&["urn:altinn:x", "urn:altinn:accesspackage:nope"]), false);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].code, ValidationCode::AccessPackageNotValid);
        assert_eq!(
            errors[0].extensions,
            vec![(INVALID_URN_LABEL.to_owned(), "Invalid format: urn:altinn:x | Not found: urn:altinn:accesspackage:nope".to_owned())]
        );

        let twice = p(&["urn:altinn:accesspackage:skatt-naering", "urn:altinn:accesspackage:SKATT-NAERING"]);
        assert_eq!(check_access_packages(c, &twice, false).iter().map(|e| e.code.number()).collect::<Vec<_>>(), vec![7]);

        // A client-delegation package may be registered, but not on a visible system.
        let client_only = c.packages.iter().find(|p| p.is_delegable && !p.is_assignable).expect("a client-only package");
        assert!(check_access_packages(c, &p(&[&client_only.urn]), false).is_empty());
        assert_eq!(check_access_packages(c, &p(&[&client_only.urn]), true)[0].code, ValidationCode::VisibleWithNonAssignablePackage);

        if let Some(neither) = c.packages.iter().find(|p| !p.is_delegable && !p.is_assignable) {
            let e = &check_access_packages(c, &p(&[&neither.urn]), false)[0];
            assert!(e.extensions[0].1.starts_with("Not possible to delegate: "), "{e:?}");
        }
    }

    #[test]
    fn old_app_format_splits_apps_into_org_and_app() {
        let old = rights_in_old_app_format(&[
            right(&[("urn:altinn:resource", "app_ttd_my_app")]),
            right(&[("urn:altinn:resource", "skd-mva")]),
        ]);
        assert_eq!(old[0], right(&[("urn:altinn:org", "ttd"), ("urn:altinn:app", "my_app")]));
        assert_eq!(old[1], right(&[("urn:altinn:resource", "skd-mva")]));
    }

    #[test]
    fn change_types_have_wire_and_stored_spellings() {
        assert_eq!(SystemChangeType::RightsUpdate.wire_name(), "rightsupdate");
        assert_eq!(SystemChangeType::AccessPackageUpdate.stored_name(), "access_package_update");
        for t in SystemChangeType::ALL {
            assert_eq!(SystemChangeType::from_stored(t.stored_name()), t);
        }
        assert_eq!(SystemChangeType::from_stored("garbage"), SystemChangeType::Unknown);
    }

    #[test]
    fn snapshots_are_pascal_case() {
        let rights = vec![right(&[("urn:altinn:resource", "x")])];
        assert_eq!(rights_snapshot(&rights), json!([{"Action": null, "Resource": [{"id": "urn:altinn:resource", "value": "x"}]}]));
        assert_eq!(access_packages_snapshot(&[AccessPackage { urn: "u".into() }]), json!([{"Urn": "u"}]));
    }
}
