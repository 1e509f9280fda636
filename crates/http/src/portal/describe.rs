//! What a system user gets, in words a person understands: each access package by its name and
//! area in the page's language, each resource by its title, the vendor by name and organisation
//! number, the system by its name and description.

use std::collections::BTreeMap;

use fullmakt_domain::catalogue::{Catalogue, Language};
use fullmakt_domain::system_register::{AccessPackage, Right};
use fullmakt_service::requests::resource_of;
use fullmakt_service::resource_registry::get_resource;
use fullmakt_store::{PartyKey, Store};
use maud::{html, Markup};

use super::texts::Texts;
use super::visit::language_code;

/// A text of a `{"nb":…,"nn":…,"en":…}` map in the language, else bokmål, else any.
pub(crate) fn localized(texts: &BTreeMap<String, String>, language: Language) -> String {
    texts
        .get(language_code(language))
        .or_else(|| texts.get("nb"))
        .or_else(|| texts.values().next())
        .cloned()
        .unwrap_or_default()
}

/// The vendor's name from the register (the organisation number when it is not there).
pub(crate) async fn vendor_name(store: &Store, org_no: &str) -> String {
    match store.find_party(PartyKey::OrgNumber(org_no)).await {
        Ok(Some(p)) => p.name,
        _ => org_no.to_owned(),
    }
}

pub(crate) struct ResourceWords {
    pub title: String,
    pub description: Option<String>,
    pub identifier: String,
}

/// The resources rights name, once each, titled from the resource registry.
pub(crate) async fn resources(store: &Store, language: Language, rights: &[Right]) -> Vec<ResourceWords> {
    let mut out: Vec<ResourceWords> = Vec::new();
    for right in rights {
        let Some(identifier) = resource_of(right) else { continue };
        if out.iter().any(|r| r.identifier == identifier) {
            continue;
        }
        let (title, description) = match get_resource(store, &identifier, None).await {
            Ok(resource) => (
                resource.title.as_ref().map(|t| localized(t, language)).filter(|t| !t.is_empty()),
                resource.description.as_ref().map(|d| localized(d, language)).filter(|d| !d.is_empty()),
            ),
            Err(_) => (None, None),
        };
        out.push(ResourceWords { title: title.unwrap_or_else(|| identifier.clone()), description, identifier });
    }
    out
}

/// Packages and resources as lists under their headings; `nothing` when both are empty.
pub(crate) fn grants(t: &Texts, catalogue: &Catalogue, language: Language, packages: &[AccessPackage], resources: &[ResourceWords]) -> Markup {
    html! {
        @if packages.is_empty() && resources.is_empty() {
            p.ds-paragraph { (t.nothing_requested) }
        }
        @if !packages.is_empty() {
            section.ds-stack aria-labelledby="packages-heading" {
                h2 #packages-heading .ds-heading data-size="sm" { (t.packages_heading) }
                (package_list(catalogue, language, packages))
            }
        }
        @if !resources.is_empty() {
            section.ds-stack aria-labelledby="resources-heading" {
                h2 #resources-heading .ds-heading data-size="sm" { (t.resources_heading) }
                (resource_list(resources))
            }
        }
    }
}

pub(crate) fn package_list(catalogue: &Catalogue, language: Language, packages: &[AccessPackage]) -> Markup {
    html! {
        ul.ds-list {
            @for p in packages {
                li.ds-list__item {
                    @match catalogue.package_by_urn(&p.urn) {
                        Some(package) => {
                            span.ds-list__title { (package.name.get(language)) }
                            span.ds-list__description { (catalogue.area(package.area).name.get(language)) }
                        }
                        None => { span.ds-list__title { (p.urn) } }
                    }
                }
            }
        }
    }
}

pub(crate) fn resource_list(resources: &[ResourceWords]) -> Markup {
    html! {
        ul.ds-list {
            @for r in resources {
                li.ds-list__item {
                    span.ds-list__title { (r.title) }
                    @if let Some(d) = &r.description { span.ds-list__description { (d) } }
                }
            }
        }
    }
}

/// What a request or system user is about: the system, its vendor and the organisation.
pub(crate) struct Summary<'a> {
    pub system_name: &'a str,
    pub vendor: &'a str,
    pub vendor_orgno: &'a str,
    pub party_name: &'a str,
    pub party_org_no: Option<&'a str>,
    /// The system user's reference, when it is not the organisation number.
    pub reference: Option<&'a str>,
    /// The system's description (left out when empty).
    pub description: Option<String>,
}

pub(crate) fn summary_card(t: &Texts, s: &Summary<'_>) -> Markup {
    html! {
        div.ds-card {
            dl.ds-description-list {
                dt { (t.system_label) } dd { (s.system_name) }
                dt { (t.vendor_label) } dd { (s.vendor) " (" (t.org_no) " " (s.vendor_orgno) ")" }
                dt { (t.for_org_label) } dd { (s.party_name) @if let Some(org) = s.party_org_no { " (" (t.org_no) " " (org) ")" } }
                @if let Some(reference) = s.reference { dt { (t.reference_label) } dd { (reference) } }
            }
            @if let Some(description) = s.description.as_deref().filter(|d| !d.is_empty()) {
                p.ds-paragraph data-size="sm" { (description) }
            }
        }
    }
}
