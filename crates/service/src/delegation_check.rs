//! May this person pass these packages and rights of an organisation on to a system user?
//! (registry-delegation-ui.md §3.2.) Approving a request, creating a system user directly and
//! approving a change request all ask this first, for the person who approves.
//!
//! What a person may pass on for an organisation (their *delegation authority*):
//! - the packages their roles there let them delegate (`canDelegate` rows of the catalogue) —
//!   ER roles held in the organisation or its main unit, through a key role in an organisation
//!   that holds a role there, and assigned roles;
//! - with the `hovedadministrator` package, every package the Altinn 3 role `hovedadministrator`
//!   may delegate;
//! - with the `tilgangsstyrer` package, the packages and single rights they hold themselves;
//! - the roles they hold (a rule naming a role they have is one they may delegate).
//!
//! A package passes if it is in that authority and assignable to a system user. A right (one
//! action of a resource) passes if a rule granting it names, in one of its subject groups, only
//! packages and roles of that authority, or the person holds the right and is `tilgangsstyrer`;
//! never for a resource that is not delegable or is a Maskinporten schema.

use std::collections::BTreeSet;

use fullmakt_domain::{Catalogue, PackageIndex, PackageSet};
use fullmakt_store::{PartyRow, Store};
use fullmakt_xacml::introspect;

use crate::admin::AdminError;
use crate::pip::{self, Subject, SubjectGrants};
use crate::resource_registry::{live_resource, parse_resource_policy};

const ROLE_CODE: &str = "urn:altinn:rolecode";
const CCR_ROLE: &str = "urn:altinn:external-role:ccr";
const ACCESS_PACKAGE: &str = "urn:altinn:accesspackage";
/// Access Management refuses this package to system users (`PackageIsAssignableTo`).
const NOT_FOR_SYSTEM_USERS: &str = "virksomhetens-representant-skjemaoppgaver";

/// Why a right could or could not be passed on: Access Management's reason codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    PackageAccess,
    RoleAccess,
    DelegationAccess,
    MissingPackageAccess,
    MissingRoleAccess,
    MissingDelegationAccess,
    ResourceNotDelegable,
    ResourceIsMaskinPortenSchema,
}

/// What a person may pass on for one organisation.
#[derive(Debug, Clone, Default)]
pub struct DelegationAuthority {
    pub packages: PackageSet,
    /// ER codes (`dagl`), catalogue codes (`daglig-leder`) and Altinn 2 codes, lower case.
    pub roles: BTreeSet<String>,
    /// (resource, action) the person holds and may pass on.
    pub rights: BTreeSet<(String, String)>,
}

impl DelegationAuthority {
    /// Derives the authority from what the PIP says the person holds for the organisation.
    pub fn from_grants(catalogue: &Catalogue, grants: &SubjectGrants, organisation: &PartyRow) -> Self {
        let unit_type = organisation.unit_type.as_deref();
        let mut out = DelegationAuthority::default();
        let mut role_indexes = Vec::new();
        for code in grants.roles.keys() {
            if let Some(role) = catalogue.role(code) {
                role_indexes.push(role.index);
            }
        }
        // Assigned roles (rettighetshaver, hovedadministrator, …) carry their own rows.
        for paths in grants.packages.values().chain(grants.rights.values()) {
            for path in paths {
                if let Some(role) = catalogue.role(&path.role) {
                    role_indexes.push(role.index);
                }
            }
        }
        role_indexes.sort();
        role_indexes.dedup();
        for index in role_indexes {
            out.packages = out.packages.union(&catalogue.packages_delegable_by_role(index, unit_type));
            let role = catalogue.role_at(index);
            out.roles.insert(role.code.to_lowercase());
            out.roles.extend(catalogue.legacy_role_codes(index));
        }
        let holds = |code: &str| catalogue.package_by_urn(code).is_some_and(|p| grants.packages.contains_key(&p.index));
        if holds("hovedadministrator") {
            if let Some(role) = catalogue.role("urn:altinn:role:hovedadministrator") {
                out.packages = out.packages.union(&catalogue.packages_delegable_by_role(role.index, unit_type));
            }
        }
        if holds("tilgangsstyrer") {
            out.packages = out.packages.union(&grants.package_set());
            out.rights.extend(grants.rights.keys().cloned());
        }
        out
    }

    /// Whether `package` may be given to a system user by this person.
    pub fn may_delegate_package(&self, catalogue: &Catalogue, package: PackageIndex) -> bool {
        let p = catalogue.package(package);
        self.packages.contains(package) && p.is_assignable && p.code != NOT_FOR_SYSTEM_USERS
    }

    /// Checks each right (action) of a resource policy; `rights` come from
    /// [`introspect::rights`].
    pub fn check_rights(&self, catalogue: &Catalogue, resource_id: &str, rights: &[introspect::Right]) -> Vec<RightCheck> {
        let mut out: Vec<RightCheck> = Vec::new();
        for right in rights {
            let held = self.rights.contains(&(resource_id.to_owned(), right.action.clone()));
            let mut reason = if held { Some(Reason::DelegationAccess) } else { None };
            let mut missing = Reason::MissingDelegationAccess;
            for group in &right.subjects {
                match self.group_passes(catalogue, group) {
                    Ok(r) => {
                        reason = reason.or(Some(r));
                    }
                    Err(r) => missing = r,
                }
            }
            let check = RightCheck { action: right.action.clone(), delegable: reason.is_some(), reason: reason.unwrap_or(missing) };
            // Several rules may grant one action; it passes if any does.
            match out.iter_mut().find(|c| c.action == check.action) {
                Some(existing) if !existing.delegable => *existing = check,
                Some(_) => {}
                None => out.push(check),
            }
        }
        out
    }

    /// A subject group (one AllOf) passes when every match in it is covered.
    fn group_passes(&self, catalogue: &Catalogue, group: &[introspect::AttributeMatch]) -> Result<Reason, Reason> {
        let mut reason = Reason::RoleAccess;
        for m in group {
            match m.attribute_id.as_str() {
                ACCESS_PACKAGE => {
                    let package = catalogue.package_by_urn(&m.value);
                    if !package.is_some_and(|p| self.packages.contains(p.index)) {
                        return Err(Reason::MissingPackageAccess);
                    }
                    reason = Reason::PackageAccess;
                }
                ROLE_CODE | CCR_ROLE => {
                    if !self.roles.contains(&m.value.to_lowercase()) {
                        return Err(Reason::MissingRoleAccess);
                    }
                }
                _ => return Err(Reason::MissingRoleAccess),
            }
        }
        if group.is_empty() {
            return Err(Reason::MissingRoleAccess);
        }
        Ok(reason)
    }
}

/// The outcome for one action of a resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RightCheck {
    pub action: String,
    pub delegable: bool,
    /// Why it passed, or why not.
    pub reason: Reason,
}

/// The delegation authority `person` has for `organisation`.
pub async fn authority_of(store: &Store, catalogue: &Catalogue, person: &PartyRow, organisation: &PartyRow) -> Result<DelegationAuthority, AdminError> {
    let grants = pip::grants_for(store, catalogue, &Subject::Party(person.clone()), organisation).await?;
    Ok(DelegationAuthority::from_grants(catalogue, &grants, organisation))
}

/// Checks every action of a registry resource for a person with `authority`. A resource that
/// is not delegable, or is a Maskinporten schema, passes nothing.
pub async fn check_resource(store: &Store, catalogue: &Catalogue, authority: &DelegationAuthority, resource_id: &str) -> Result<Vec<RightCheck>, AdminError> {
    let row = live_resource(store, resource_id).await?;
    let body: serde_json::Value = serde_json::from_str(&row.body).map_err(AdminError::internal)?;
    let Some(xml) = row.policy_xml.as_deref() else {
        return Ok(Vec::new());
    };
    let policy = parse_resource_policy(resource_id, xml).map_err(AdminError::internal)?;
    let rights = introspect::rights(&policy).map_err(|e| AdminError::BadRequest(format!("the policy of {resource_id} cannot be read as rights: {e}")))?;
    let mut checks = authority.check_rights(catalogue, resource_id, &rights);
    let forced = if row.resource_type == "MaskinportenSchema" {
        Some(Reason::ResourceIsMaskinPortenSchema)
    } else if body.get("delegable").and_then(serde_json::Value::as_bool) == Some(false) {
        Some(Reason::ResourceNotDelegable)
    } else {
        None
    };
    if let Some(reason) = forced {
        for c in &mut checks {
            c.delegable = false;
            c.reason = reason;
        }
    }
    Ok(checks)
}

#[cfg(test)]
mod tests {
    use super::*;
    use introspect::{AttributeMatch, Right};

    fn right(action: &str, subjects: &[&[(&str, &str)]]) -> Right {
        Right {
            resource: vec![AttributeMatch { attribute_id: "urn:altinn:resource".into(), value: "r".into() }],
            action: action.into(),
            subjects: subjects
                .iter()
                .map(|g| g.iter().map(|(id, v)| AttributeMatch { attribute_id: (*id).into(), value: (*v).into() }).collect())
                .collect(),
        }
    }

    fn authority(catalogue: &Catalogue, packages: &[&str], roles: &[&str]) -> DelegationAuthority {
        let mut a = DelegationAuthority::default();
        for p in packages {
            a.packages.insert(catalogue.package_by_urn(p).unwrap().index);
        }
        a.roles = roles.iter().map(|r| r.to_string()).collect();
        a
    }

    #[test]
    fn a_right_passes_when_one_rule_group_is_covered() {
        let c = Catalogue::embedded();
        let a = authority(c, &["lonn"], &["dagl"]);
        let rights = [
            right("read", &[&[(ACCESS_PACKAGE, "lonn")]]),
            right("write", &[&[(ACCESS_PACKAGE, "skatt-naering")], &[(ROLE_CODE, "DAGL")]]),
            right("sign", &[&[(ACCESS_PACKAGE, "skatt-naering")]]),
            right("admin", &[&[(ROLE_CODE, "REGNA")]]),
            right("both", &[&[(ACCESS_PACKAGE, "lonn"), (ROLE_CODE, "regna")]]),
        ];
        let checks = a.check_rights(c, "r", &rights);
        let got: Vec<(&str, bool, Reason)> = checks.iter().map(|c| (c.action.as_str(), c.delegable, c.reason)).collect();
        assert_eq!(
            got,
            vec![
                ("read", true, Reason::PackageAccess),
                ("write", true, Reason::RoleAccess),
                ("sign", false, Reason::MissingPackageAccess),
                ("admin", false, Reason::MissingRoleAccess),
                ("both", false, Reason::MissingRoleAccess),
            ]
        );
    }

    #[test]
    fn a_held_right_passes_only_with_delegation_access() {
        let c = Catalogue::embedded();
        let mut a = authority(c, &[], &[]);
        let rights = [right("read", &[&[(ACCESS_PACKAGE, "lonn")]])];
        assert!(!a.check_rights(c, "r", &rights)[0].delegable);
        a.rights.insert(("r".into(), "read".into()));
        assert_eq!(a.check_rights(c, "r", &rights)[0].reason, Reason::DelegationAccess);
    }

    #[test]
    fn packages_must_be_assignable_to_system_users() {
        let c = Catalogue::embedded();
        let all: Vec<&str> = vec!["lonn", NOT_FOR_SYSTEM_USERS, "regnskapsforer-lonn"];
        let a = authority(c, &all, &[]);
        let may = |id: &str| a.may_delegate_package(c, c.package_by_urn(id).unwrap().index);
        assert!(may("lonn"));
        assert!(!may(NOT_FOR_SYSTEM_USERS));
        // Client packages are delegable to agents, never assignable to a standard system user.
        assert!(!may("regnskapsforer-lonn"));
        assert!(!may("skatt-naering"), "not held");
    }

    #[test]
    fn a_managing_director_may_delegate_what_the_role_delegates() {
        let c = Catalogue::embedded();
        let mut grants = SubjectGrants::default();
        let path = pip::GrantPath {
            reason: pip::Reason::Role,
            from: pip::PartyRef { party_id: 1, party_uuid: String::new(), organization_number: None, name: String::new() },
            role: "daglig-leder".into(),
            via: None,
            via_role: None,
            main_unit: false,
        };
        grants.roles.insert("daglig-leder".into(), vec![path]);
        let org = PartyRow { unit_type: Some("AS".into()), ..Default::default() };
        let a = DelegationAuthority::from_grants(c, &grants, &org);
        let dagl = c.role("daglig-leder").unwrap().index;
        assert_eq!(a.packages, c.packages_delegable_by_role(dagl, Some("AS")));
        assert!(a.roles.contains("dagl") && a.roles.contains("daglig-leder"), "{:?}", a.roles);
        assert!(a.may_delegate_package(c, c.package_by_urn("lonn").unwrap().index));
    }
}
