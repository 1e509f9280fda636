//! The resource registry's `ServiceResource` (registry-delegation-ui.md §1.1): the wire model,
//! its validation, and the attributes that name a resource in authorization requests.
//!
//! Field names, enum spellings and validation messages follow the reference, because service
//! owners' tooling posts these documents unchanged and reads the validation problems back.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::OrganisationNumber;

/// Text per language code (`nb`, `nn`, `en`, …).
pub type LanguageText = BTreeMap<String, String>;

/// Declares a wire enum that serialises as its variant name and reads the name in any letter
/// case or its numeric value, as ASP.NET's string-enum converter does.
macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $value:expr),+ $(,)? } default $default:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
        pub enum $name {
            #[default]
            $default,
            $($variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$name::$default, $($name::$variant),+];

            pub fn name(self) -> &'static str {
                match self {
                    $name::$default => stringify!($default),
                    $($name::$variant => stringify!($variant)),+
                }
            }

            pub fn value(self) -> i64 {
                match self {
                    $name::$default => 0,
                    $($name::$variant => $value),+
                }
            }

            /// Reads a name in any letter case, or the numeric value.
            pub fn parse(s: &str) -> Option<Self> {
                let s = s.trim();
                if let Ok(n) = s.parse::<i64>() {
                    return Self::ALL.iter().copied().find(|v| v.value() == n);
                }
                Self::ALL.iter().copied().find(|v| v.name().eq_ignore_ascii_case(s))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.name())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let v = serde_json::Value::deserialize(d)?;
                let parsed = match &v {
                    serde_json::Value::String(s) => Self::parse(s),
                    serde_json::Value::Number(n) => n.as_i64().and_then(|n| Self::ALL.iter().copied().find(|x| x.value() == n)),
                    _ => None,
                };
                parsed.ok_or_else(|| {
                    serde::de::Error::custom(format!(
                        "{v} is not a {}; expected one of {}",
                        stringify!($name),
                        Self::ALL.iter().map(|x| x.name()).collect::<Vec<_>>().join(", ")
                    ))
                })
            }
        }
    };
}

wire_enum!(
    /// What kind of service a resource describes. `Default` is the unset value and is refused.
    ResourceType {
        Systemresource = 1,
        MaskinportenSchema = 2,
        Altinn2Service = 4,
        AltinnApp = 8,
        GenericAccessResource = 16,
        BrokerService = 32,
        CorrespondenceService = 64,
        Consent = 128,
        MigratedApp = 256,
    } default Default
);

wire_enum!(
    ReferenceSource { Altinn1 = 1, Altinn2 = 2, Altinn3 = 3, ExternalPlatform = 4 } default Default
);

wire_enum!(
    ReferenceType {
        Uri = 1,
        DelegationSchemeId = 2,
        MaskinportenScope = 3,
        ServiceCode = 4,
        ServiceEditionCode = 5,
        ApplicationId = 6,
        ServiceEditionVersion = 7,
    } default Default
);

wire_enum!(
    /// Whether access lists gate Permit decisions for this resource (§1.5).
    AccessListMode { Enabled = 1 } default Disabled
);

wire_enum!(
    ResourcePartyType {
        LegalEntityEnterprise = 1,
        Company = 2,
        BankruptcyEstate = 3,
        SelfRegisteredUser = 4,
    } default PrivatePerson
);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContactPoint {
    pub category: Option<String>,
    pub email: Option<String>,
    pub telephone: Option<String>,
    pub contact_page: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceReference {
    pub reference_source: Option<ReferenceSource>,
    pub reference: Option<String>,
    pub reference_type: Option<ReferenceType>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CompetentAuthority {
    /// The organisation number of the service owner.
    pub organization: Option<String>,
    /// The service owner's short code (`ttd`, `skd`, `digdir`).
    pub orgcode: Option<String>,
    pub name: Option<LanguageText>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Keyword {
    pub word: Option<String>,
    pub language: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationReferenceAttribute {
    pub id: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsentMetadata {
    #[serde(default)]
    pub optional: bool,
}

fn yes() -> bool {
    true
}

/// A service resource as service owners write it and everyone reads it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceResource {
    pub identifier: Option<String>,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub title: Option<LanguageText>,
    #[serde(default)]
    pub description: Option<LanguageText>,
    #[serde(default)]
    pub right_description: Option<LanguageText>,
    #[serde(default)]
    pub homepage: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub spatial: Option<Vec<String>>,
    #[serde(default)]
    pub contact_points: Option<Vec<ContactPoint>>,
    #[serde(default)]
    pub produces: Option<Vec<String>>,
    #[serde(default)]
    pub is_part_of: Option<String>,
    #[serde(default)]
    pub thematic_areas: Option<Vec<String>>,
    #[serde(default)]
    pub resource_references: Option<Vec<ResourceReference>>,
    #[serde(default = "yes")]
    pub delegable: bool,
    #[serde(default = "yes")]
    pub visible: bool,
    #[serde(default)]
    pub has_competent_authority: Option<CompetentAuthority>,
    #[serde(default)]
    pub keywords: Option<Vec<Keyword>>,
    #[serde(default)]
    pub access_list_mode: AccessListMode,
    #[serde(default)]
    pub self_identified_user_enabled: bool,
    #[serde(default)]
    pub enterprise_user_enabled: bool,
    #[serde(default)]
    pub resource_type: ResourceType,
    #[serde(default)]
    pub available_for_type: Option<Vec<ResourcePartyType>>,
    /// Computed on read from the identifier; whatever a writer sends is ignored.
    #[serde(default)]
    pub authorization_reference: Option<Vec<AuthorizationReferenceAttribute>>,
    #[serde(default)]
    pub consent_template: Option<String>,
    #[serde(default)]
    pub consent_text: Option<LanguageText>,
    #[serde(default)]
    pub consent_metadata: Option<BTreeMap<String, ConsentMetadata>>,
    #[serde(default)]
    pub is_one_time_consent: bool,
    /// The stored version; assigned by the registry on every write.
    #[serde(default)]
    pub version_id: Option<i64>,
}

/// Validation failures keyed by field, in the order they were found, as ASP.NET's
/// `ValidationProblem` reports them (`"Identifier"`, `"Title"`, `"HasCompetentAuthority.Organization"`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValidationErrors(Vec<(String, Vec<String>)>);

impl ValidationErrors {
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        let message = message.into();
        match self.0.iter_mut().find(|(f, _)| f == field) {
            Some((_, messages)) => messages.push(message),
            None => self.0.push((field.to_owned(), vec![message])),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn fields(&self) -> impl Iterator<Item = (&str, &[String])> {
        self.0.iter().map(|(f, m)| (f.as_str(), m.as_slice()))
    }

    pub fn into_result(self) -> Result<(), ValidationErrors> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(self)
        }
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for (field, messages) in &self.0 {
            for m in messages {
                if !first {
                    f.write_str("; ")?;
                }
                first = false;
                write!(f, "{field}: {m}")?;
            }
        }
        Ok(())
    }
}

impl Serialize for ValidationErrors {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (field, messages) in &self.0 {
            map.serialize_entry(field, messages)?;
        }
        map.end()
    }
}

/// Whether the write creates a resource (the identifier rules apply) or updates one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteKind {
    Create,
    Update,
}

const LANGUAGES: [(&str, &str); 3] = [("en", "english"), ("nb", "bokmal"), ("nn", "nynorsk")];
pub const APP_PREFIX: &str = "app_";
pub const ALTINN2_PREFIX: &str = "se_";
pub const RESOURCE_ATTRIBUTE: &str = "urn:altinn:resource";
pub const ORG_ATTRIBUTE: &str = "urn:altinn:org";
pub const APP_ATTRIBUTE: &str = "urn:altinn:app";

/// `^[a-z0-9_-]{4,}$`: the identifier every new resource must have.
pub fn is_valid_identifier(id: &str) -> bool {
    id.len() >= 4 && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// `^app_[a-z0-9]+_a1-.+:[a-z0-9.]+$`: Altinn 1 apps migrated with their old identifiers.
fn is_migrated_altinn1_identifier(id: &str) -> bool {
    let Some(rest) = id.strip_prefix(APP_PREFIX) else { return false };
    let Some((org, rest)) = rest.split_once('_') else { return false };
    if org.is_empty() || !org.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()) {
        return false;
    }
    let Some(rest) = rest.strip_prefix("a1-") else { return false };
    let Some((name, version)) = rest.rsplit_once(':') else { return false };
    !name.is_empty() && !version.is_empty() && version.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.')
}

/// The resource identifier of an app: `app_{org}_{app}`.
pub fn app_identifier(org: &str, app: &str) -> String {
    format!("{APP_PREFIX}{org}_{app}")
}

/// For `app_{org}_{app}`, the org code and app name.
pub fn app_parts(identifier: &str) -> Option<(&str, &str)> {
    let rest = identifier.strip_prefix(APP_PREFIX)?;
    let (org, app) = rest.split_once('_')?;
    (!org.is_empty() && !app.is_empty()).then_some((org, app))
}

impl ServiceResource {
    /// Reads a resource document. Property names are matched like ASP.NET does for the
    /// common case: `Identifier` and `identifier` are the same field.
    pub fn from_json(body: &[u8]) -> Result<Self, serde_json::Error> {
        let mut value: serde_json::Value = serde_json::from_slice(body)?;
        camel_case_keys(&mut value);
        serde_json::from_value(value)
    }

    pub fn identifier(&self) -> &str {
        self.identifier.as_deref().unwrap_or_default()
    }

    pub fn owner_organisation(&self) -> Option<&str> {
        self.has_competent_authority.as_ref().and_then(|a| a.organization.as_deref())
    }

    pub fn owner_code(&self) -> Option<&str> {
        self.has_competent_authority.as_ref().and_then(|a| a.orgcode.as_deref())
    }

    fn has_reference(&self, kind: ReferenceType) -> bool {
        self.references_of(kind).next().is_some()
    }

    pub fn references_of(&self, kind: ReferenceType) -> impl Iterator<Item = &str> {
        self.resource_references
            .iter()
            .flatten()
            .filter(move |r| r.reference_type == Some(kind))
            .filter_map(|r| r.reference.as_deref())
    }

    pub fn is_app(&self) -> bool {
        matches!(self.resource_type, ResourceType::AltinnApp | ResourceType::MigratedApp)
    }

    /// The attributes that name this resource in a decision request: `urn:altinn:resource`,
    /// or `urn:altinn:org` + `urn:altinn:app` for an app.
    pub fn authorization_attributes(&self) -> Vec<AuthorizationReferenceAttribute> {
        let id = self.identifier();
        match app_parts(id) {
            Some((org, app)) if self.is_app() => vec![
                AuthorizationReferenceAttribute { id: ORG_ATTRIBUTE.into(), value: org.into() },
                AuthorizationReferenceAttribute { id: APP_ATTRIBUTE.into(), value: app.into() },
            ],
            _ => vec![AuthorizationReferenceAttribute { id: RESOURCE_ATTRIBUTE.into(), value: id.into() }],
        }
    }

    /// Every rule of `ServiceResourceHelper.ValidateResource`, plus a real check of the
    /// owner's organisation number (the reference only checks that one is present).
    pub fn validate(&self, kind: WriteKind) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let id = self.identifier();

        if self.identifier.is_none() {
            errors.add("Identifier", "The Identifier field is required.");
        }
        if id.starts_with(ALTINN2_PREFIX)
            && !(self.has_reference(ReferenceType::ServiceCode) && self.has_reference(ReferenceType::ServiceEditionCode))
        {
            errors.add("Identifier", "Invalid prefix. Only to be used for Altinn 2 services");
        }
        if id.starts_with(APP_PREFIX) && !self.has_reference(ReferenceType::ApplicationId) {
            errors.add("Identifier", "Invalid Prefix. app_ is only for Altinn Studio apps");
        }
        if self.resource_type == ResourceType::Default {
            errors.add("ResourceType", "ResourceType needs to be set");
        }
        match &self.has_competent_authority {
            None => errors.add("HasCompetentAuthority", "The HasCompetentAuthority field is required."),
            Some(authority) => {
                let is_ttd = authority.orgcode.as_deref().is_some_and(|c| c.eq_ignore_ascii_case("ttd"));
                match authority.organization.as_deref().map(str::trim) {
                    None | Some("") if !is_ttd => errors.add(
                        "HasCompetentAuthority.Organization",
                        "HasCompetentAuthority needs to be set with valid organization number",
                    ),
                    Some(orgno) if !orgno.is_empty() => {
                        if let Err(e) = OrganisationNumber::parse(orgno) {
                            errors.add(
                                "HasCompetentAuthority.Organization",
                                format!("HasCompetentAuthority needs to be set with valid organization number: {e}"),
                            );
                        }
                    }
                    _ => {}
                }
                if let Some(code) = authority.orgcode.as_deref() {
                    if code.is_empty() || !code.bytes().all(|b| b.is_ascii_alphanumeric()) {
                        errors.add("HasCompetentAuthority.Orgcode", "The org code has only letters and digits");
                    }
                }
            }
        }
        if self.resource_type == ResourceType::AltinnApp {
            if !self.has_reference(ReferenceType::ApplicationId) {
                errors.add(
                    "ResourceReferences",
                    "Invalid app Resource. App resources needs to have a reference with ReferenceType ApplicationId",
                );
            }
            let expected = format!("{APP_PREFIX}{}", self.owner_code().unwrap_or_default());
            if !id.to_ascii_lowercase().starts_with(&expected.to_ascii_lowercase()) || self.owner_code().is_none() {
                errors.add(
                    "Identifier",
                    "Invalid identifier for app resource. App resources needs to have an identifier starting with app_<org>",
                );
            }
        }
        let identifier_ok = match kind {
            WriteKind::Create => is_valid_identifier(id) || is_migrated_altinn1_identifier(id),
            // Stored identifiers stay writable even if they predate a rule.
            WriteKind::Update => !id.is_empty(),
        };
        if self.identifier.is_some() && !identifier_ok {
            errors.add("Identifier", "Invalid id. Only a-z and 0-9 is allowed together with _ and -.  Minimum 4 characters");
        }
        for (code, language) in LANGUAGES {
            if !has_language(self.title.as_ref(), code) {
                errors.add("Title", format!("Missing title in {language} {code}"));
            }
        }
        if self.delegable {
            for (code, language) in LANGUAGES {
                if !has_language(self.right_description.as_ref(), code) {
                    errors.add("RightDescription", format!("Missing RightDescription in {language} {code}"));
                }
            }
        }
        for (code, language) in LANGUAGES {
            if !has_language(self.description.as_ref(), code) {
                errors.add("Description", format!("Missing Description in {language} {code}"));
            }
        }
        if self.contact_points.is_none() {
            errors.add("ContactPoints", "The ContactPoints field is required.");
        }
        if self.resource_type == ResourceType::MaskinportenSchema && !self.has_reference(ReferenceType::MaskinportenScope) {
            errors.add("ResourceReferences", "Missing maskinporten scopen for MaskinportenSchema resource");
        }
        errors.into_result()
    }
}

fn has_language(text: Option<&LanguageText>, code: &str) -> bool {
    text.and_then(|t| t.get(code)).is_some_and(|s| !s.trim().is_empty())
}

/// Lower-cases the first letter of every object key, so PascalCase documents (written by C#
/// tooling) read the same as camelCase ones. Language maps (`nb`, `en`) are unaffected.
fn camel_case_keys(value: &mut serde_json::Value) {
    // serde_json's own recursion limit (128) bounds the depth of what reaches here.
    match value {
        serde_json::Value::Object(map) => {
            let entries: Vec<(String, serde_json::Value)> = std::mem::take(map).into_iter().collect();
            for (key, mut v) in entries {
                camel_case_keys(&mut v);
                let mut chars = key.chars();
                let key = match chars.next() {
                    Some(c) if c.is_ascii_uppercase() => format!("{}{}", c.to_ascii_lowercase(), chars.as_str()),
                    _ => key,
                };
                map.insert(key, v);
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(camel_case_keys),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid() -> serde_json::Value {
        serde_json::json!({
            "identifier": "skd-mva-melding",
            "title": {"nb": "MVA-melding", "nn": "MVA-melding", "en": "VAT return"},
            "description": {"nb": "Send MVA", "nn": "Send MVA", "en": "Send VAT"},
            "rightDescription": {"nb": "Får sende", "nn": "Får sende", "en": "May send"},
            "contactPoints": [{"category": "Support", "email": "a@example.com", "telephone": "", "contactPage": ""}],
            "hasCompetentAuthority": {"organization": "974761076", "orgcode": "skd", "name": {"nb": "Skatteetaten"}},
            "resourceType": "GenericAccessResource"
        })
    }

    fn parse(v: &serde_json::Value) -> ServiceResource {
        ServiceResource::from_json(v.to_string().as_bytes()).unwrap()
    }

    fn fields(r: &ServiceResource, kind: WriteKind) -> Vec<String> {
        match r.validate(kind) {
            Ok(()) => vec![],
            Err(e) => e.fields().map(|(f, _)| f.to_owned()).collect(),
        }
    }

    #[test]
    fn a_complete_resource_is_valid_and_defaults_apply() {
        let r = parse(&valid());
        assert_eq!(fields(&r, WriteKind::Create), Vec::<String>::new());
        assert!(r.delegable && r.visible);
        assert_eq!(r.access_list_mode, AccessListMode::Disabled);
        assert_eq!(r.authorization_attributes(), vec![AuthorizationReferenceAttribute {
            id: "urn:altinn:resource".into(),
            value: "skd-mva-melding".into()
        }]);
    }

    #[test]
    fn pascal_case_documents_and_enum_spellings_are_accepted() {
        let mut v = valid();
        let o = v.as_object_mut().unwrap();
        let id = o.remove("identifier").unwrap();
        o.insert("Identifier".into(), id);
        o.insert("ResourceType".into(), "maskinportenschema".into());
        o.remove("resourceType");
        o.insert("resourceReferences".into(), serde_json::json!([{"referenceSource": "Default", "reference": "skd:mva", "referenceType": 3}]));
        let r = parse(&v);
        assert_eq!(r.identifier(), "skd-mva-melding");
        assert_eq!(r.resource_type, ResourceType::MaskinportenSchema);
        assert_eq!(r.references_of(ReferenceType::MaskinportenScope).collect::<Vec<_>>(), vec!["skd:mva"]);
        assert_eq!(fields(&r, WriteKind::Create), Vec::<String>::new());
        // Serialises back in the canonical spelling.
        let out = serde_json::to_value(&r).unwrap();
        assert_eq!(out["resourceType"], "MaskinportenSchema");
        assert_eq!(out["resourceReferences"][0]["referenceType"], "MaskinportenScope");
    }

    #[test]
    fn an_unknown_enum_value_is_a_parse_error_that_names_the_choices() {
        let mut v = valid();
        v["resourceType"] = "Widget".into();
        let e = ServiceResource::from_json(v.to_string().as_bytes()).unwrap_err().to_string();
        assert!(e.contains("GenericAccessResource"), "{e}");
    }

    #[test]
    fn each_rule_reports_its_field() {
        let cases: Vec<(&str, serde_json::Value, &str)> = vec![
            ("/identifier", "AB".into(), "Identifier"),
            ("/identifier", "se_1234".into(), "Identifier"),
            ("/identifier", "app_skd_x".into(), "Identifier"),
            ("/resourceType", "Default".into(), "ResourceType"),
            ("/hasCompetentAuthority/organization", "974761077".into(), "HasCompetentAuthority.Organization"),
            ("/hasCompetentAuthority/organization", serde_json::Value::Null, "HasCompetentAuthority.Organization"),
            ("/title/en", "".into(), "Title"),
            ("/description/nn", " ".into(), "Description"),
            ("/rightDescription", serde_json::Value::Null, "RightDescription"),
            ("/contactPoints", serde_json::Value::Null, "ContactPoints"),
            ("/resourceType", "MaskinportenSchema".into(), "ResourceReferences"),
            ("/resourceType", "AltinnApp".into(), "ResourceReferences"),
        ];
        for (pointer, value, field) in cases {
            let mut v = valid();
            *v.pointer_mut(pointer).unwrap() = value.clone();
            let r = parse(&v);
            let f = fields(&r, WriteKind::Create);
            assert!(f.iter().any(|x| x == field), "{pointer}={value}: {f:?}");
        }
    }

    #[test]
    fn right_description_is_needed_only_for_delegable_resources() {
        let mut v = valid();
        v["rightDescription"] = serde_json::Value::Null;
        v["delegable"] = false.into();
        assert_eq!(fields(&parse(&v), WriteKind::Create), Vec::<String>::new());
    }

    #[test]
    fn ttd_needs_no_organisation_number() {
        let mut v = valid();
        v["hasCompetentAuthority"] = serde_json::json!({"orgcode": "ttd"});
        assert_eq!(fields(&parse(&v), WriteKind::Create), Vec::<String>::new());
    }

    #[test]
    fn apps_are_named_by_org_and_app() {
        let mut v = valid();
        v["identifier"] = "app_skd_taxreport".into();
        v["resourceType"] = "AltinnApp".into();
        v["resourceReferences"] = serde_json::json!([{"referenceSource": "Altinn3", "reference": "skd/taxreport", "referenceType": "ApplicationId"}]);
        let r = parse(&v);
        assert_eq!(fields(&r, WriteKind::Create), Vec::<String>::new());
        let attrs = r.authorization_attributes();
        assert_eq!(attrs[0].value, "skd");
        assert_eq!(attrs[1].value, "taxreport");
        // An app must start with its owner's code.
        v["hasCompetentAuthority"]["orgcode"] = "nav".into();
        assert!(fields(&parse(&v), WriteKind::Create).contains(&"Identifier".to_owned()));
    }

    #[test]
    fn an_app_identifier_and_its_parts_go_both_ways() {
        assert_eq!(app_identifier("skd", "taxreport"), "app_skd_taxreport");
        assert_eq!(app_parts(&app_identifier("skd", "tax_report")), Some(("skd", "tax_report")));
        assert_eq!(app_parts("skd_taxreport"), None);
        assert_eq!(app_parts("app_skd_"), None);
    }

    #[test]
    fn migrated_altinn1_identifiers_are_allowed() {
        assert!(is_migrated_altinn1_identifier("app_skd_a1-3456:2.1"));
        assert!(!is_migrated_altinn1_identifier("app_skd_a1-3456"));
        assert!(!is_migrated_altinn1_identifier("app_SKD_a1-3456:2"));
        assert!(is_valid_identifier("abcd") && !is_valid_identifier("abc") && !is_valid_identifier("ab cd"));
    }

    #[test]
    fn validation_errors_serialise_as_a_field_map() {
        let mut v = valid();
        v["title"] = serde_json::json!({});
        let e = parse(&v).validate(WriteKind::Create).unwrap_err();
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(json["Title"].as_array().unwrap().len(), 3);
        assert_eq!(json["Title"][0], "Missing title in english en");
    }
}
