//! Reading the access-package catalogue for the metadata API: ids are validated (a malformed id
//! is a client error, an unknown one is not found), the rest is the embedded [`Catalogue`].
//!
//! A package's resources come from the resource registry: those whose current policy names the
//! package as a subject ([`package_resources`]).

use fullmakt_domain::catalogue::{Area, AreaGroup, Package, SearchHit};
use fullmakt_domain::{Catalogue, Language};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogueQueryError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    NotFound(String),
    #[error("the resource registry could not be read")]
    Unavailable,
}

fn check_uuid(what: &str, id: &str) -> Result<(), CatalogueQueryError> {
    uuid::Uuid::parse_str(id).map(|_| ()).map_err(|_| CatalogueQueryError::Invalid(format!("the {what} id `{id}` is not a UUID")))
}

pub fn catalogue() -> &'static Catalogue {
    Catalogue::embedded()
}

pub fn area_group(id: &str) -> Result<&'static AreaGroup, CatalogueQueryError> {
    check_uuid("area group", id)?;
    catalogue().area_group_by_id(id).ok_or_else(|| CatalogueQueryError::NotFound(format!("no area group {id}")))
}

pub fn area(id: &str) -> Result<&'static Area, CatalogueQueryError> {
    check_uuid("area", id)?;
    catalogue().area_by_id(id).ok_or_else(|| CatalogueQueryError::NotFound(format!("no area {id}")))
}

pub fn package(id: &str) -> Result<&'static Package, CatalogueQueryError> {
    check_uuid("package", id)?;
    catalogue().package_by_id(id).ok_or_else(|| CatalogueQueryError::NotFound(format!("no access package {id}")))
}

/// By full URN, `:code` or bare code.
pub fn package_by_urn(value: &str) -> Result<&'static Package, CatalogueQueryError> {
    let value = value.trim();
    if value.is_empty() || value.len() > 200 || value.chars().any(char::is_whitespace) {
        return Err(CatalogueQueryError::Invalid("give a package URN (urn:altinn:accesspackage:CODE), :CODE or CODE".into()));
    }
    catalogue().package_by_urn(value).ok_or_else(|| CatalogueQueryError::NotFound(format!("no access package `{value}`")))
}

/// The registry resources whose current policy names the package as a subject
/// (`urn:altinn:accesspackage` = its code), by identifier; the package must exist.
pub async fn package_resources(store: &fullmakt_store::Store, id: &str) -> Result<Vec<String>, CatalogueQueryError> {
    let package = package(id)?;
    let urn = format!("urn:altinn:accesspackage:{}", package.code);
    let rows = store.resources_for_subjects(&[urn]).await.map_err(|e| {
        tracing::error!(error = %e, "reading the resources of a package");
        CatalogueQueryError::Unavailable
    })?;
    let mut ids: Vec<String> = rows.into_iter().map(|r| r.identifier).collect();
    ids.dedup();
    Ok(ids)
}

pub fn search(term: Option<&str>, language: Language, type_name: Option<&str>) -> Result<Vec<SearchHit>, CatalogueQueryError> {
    let term = term.unwrap_or_default();
    if term.len() > 500 {
        return Err(CatalogueQueryError::Invalid("the search term is at most 500 characters".into()));
    }
    Ok(catalogue().search_packages(term, language, type_name.filter(|t| !t.trim().is_empty())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_ids_are_invalid_and_unknown_ids_not_found() {
        assert!(matches!(package("nope"), Err(CatalogueQueryError::Invalid(_))));
        assert!(matches!(package("00000000-0000-0000-0000-000000000000"), Err(CatalogueQueryError::NotFound(_))));
        let p = package_by_urn("skatt-naering").unwrap();
        assert_eq!(package(&p.id).unwrap().code, "skatt-naering");
        assert!(matches!(package_by_urn(""), Err(CatalogueQueryError::Invalid(_))));
        assert!(matches!(package_by_urn("no such"), Err(CatalogueQueryError::Invalid(_))));
        assert!(matches!(package_by_urn("nosuch"), Err(CatalogueQueryError::NotFound(_))));
        assert!(matches!(area("x"), Err(CatalogueQueryError::Invalid(_))));
        assert!(matches!(area_group("x"), Err(CatalogueQueryError::Invalid(_))));
        assert!(matches!(search(Some(&"x".repeat(501)), Language::Nb, None), Err(CatalogueQueryError::Invalid(_))));
    }
}
