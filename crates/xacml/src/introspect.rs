//! Policy introspection for the resource registry (registry-delegation-ui.md §1.3–§1.4):
//! the "rights" a policy grants, the subject attribute values it names, and the check that a
//! policy stored for a resource only speaks about that resource.
//!
//! These read Altinn-shaped policies: in each rule, every AnyOf holds matches of a single
//! category. A policy that does not have that shape is refused with a reason rather than
//! flattened into something misleading.

use std::collections::BTreeSet;

use crate::policy::{
    AttributeSource, Policy, Rule, ACTION_CATEGORY, RESOURCE_CATEGORY, SUBJECT_CATEGORY,
};

pub const ALTINN_RESOURCE: &str = "urn:altinn:resource";
pub const ALTINN_ORG: &str = "urn:altinn:org";
pub const ALTINN_APP: &str = "urn:altinn:app";
pub const ACTION_ID: &str = "urn:oasis:names:tc:xacml:1.0:action:action-id";

/// One Match of a policy, as `(AttributeId, literal value)`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AttributeMatch {
    pub attribute_id: String,
    pub value: String,
}

impl AttributeMatch {
    /// `attributeId:value`, the URN form the registry uses (`urn:altinn:rolecode:dagl`).
    pub fn urn(&self) -> String {
        format!("{}:{}", self.attribute_id, self.value)
    }
}

/// A right: a resource attribute set and an action, with every subject that is granted it
/// by some rule of the policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Right {
    /// The resource matches, sorted by attribute id (then value).
    pub resource: Vec<AttributeMatch>,
    pub action: String,
    /// Each subject is the matches of one subject AllOf (usually one).
    pub subjects: Vec<Vec<AttributeMatch>>,
}

impl Right {
    /// The v2 internal key (`DelegationCheckHelper.CalculateActionKey`): resource matches
    /// sorted by type as `type:value` joined with `:`, org+app rewritten to
    /// `urn:altinn:resource:app_{org}_{app}`, then `:urn:oasis:names:tc:xacml:1.0:action:action-id:{action}`.
    /// The public key is `"01"` + lowercase hex SHA-256 of this key lowercased; hashing is
    /// left to the caller so this crate needs no digest implementation.
    pub fn internal_key(&self) -> String {
        let org = self.resource.iter().find(|m| m.attribute_id == ALTINN_ORG);
        let app = self.resource.iter().find(|m| m.attribute_id == ALTINN_APP);
        let mut parts: Vec<String> = Vec::new();
        if let (Some(org), Some(app)) = (org, app) {
            parts.push(format!("{ALTINN_RESOURCE}:app_{}_{}", org.value, app.value));
        }
        for m in &self.resource {
            if org.is_some()
                && app.is_some()
                && (m.attribute_id == ALTINN_ORG || m.attribute_id == ALTINN_APP)
            {
                continue;
            }
            parts.push(m.urn());
        }
        parts.sort();
        format!("{}:{ACTION_ID}:{}", parts.join(":"), self.action)
    }

    /// Whether one of the subjects is an "accessor" that can be delegated
    /// (registry-delegation-ui.md §1.4): roles, ER/CRA roles and access packages, plus service
    /// owners and app delegation subjects when asked for.
    pub fn accessor_subjects(
        &self,
        include_service_owner: bool,
        include_app_rights: bool,
    ) -> Vec<&AttributeMatch> {
        self.subjects
            .iter()
            .flatten()
            .filter(|m| is_accessor(m, include_service_owner, include_app_rights))
            .collect()
    }
}

fn is_accessor(m: &AttributeMatch, include_service_owner: bool, include_app_rights: bool) -> bool {
    let id = m.attribute_id.as_str();
    matches!(
        id,
        "urn:altinn:rolecode"
            | "urn:altinn:external-role:ccr"
            | "urn:altinn:external-role:cra"
            | "urn:altinn:accesspackage"
    ) || (include_service_owner && id == ALTINN_ORG)
        || (include_app_rights && id.starts_with("urn:altinn:resource:delegation"))
}

/// Why a policy could not be read the registry's way.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("rule {rule_id}: {reason}")]
pub struct IntrospectError {
    pub rule_id: String,
    pub reason: String,
}

/// One rule's AllOfs per category, each AllOf as its list of matches.
struct RuleShape {
    subjects: Vec<Vec<AttributeMatch>>,
    actions: Vec<String>,
    resources: Vec<Vec<AttributeMatch>>,
}

fn rule_shape(rule: &Rule) -> Result<RuleShape, IntrospectError> {
    let fail = |reason: String| IntrospectError {
        rule_id: rule.id.clone(),
        reason,
    };
    let mut shape = RuleShape {
        subjects: Vec::new(),
        actions: Vec::new(),
        resources: Vec::new(),
    };
    let (mut subject_any_ofs, mut action_any_ofs, mut resource_any_ofs) = (0, 0, 0);
    for any_of in &rule.target.any_of {
        let mut category: Option<&str> = None;
        let mut alternatives = Vec::new();
        for all_of in &any_of.all_of {
            let mut matches = Vec::new();
            for m in &all_of.matches {
                let AttributeSource::Designator(d) = &m.source else {
                    return Err(fail("AttributeSelector is not supported".into()));
                };
                match category {
                    None => category = Some(&d.category),
                    Some(c) if c == d.category => {}
                    Some(c) => {
                        return Err(fail(format!(
                            "an AnyOf mixes categories {c} and {}",
                            d.category
                        )))
                    }
                }
                matches.push(AttributeMatch {
                    attribute_id: d.attribute_id.clone(),
                    value: m.value.lexical().into_owned(),
                });
            }
            alternatives.push(matches);
        }
        match category {
            Some(SUBJECT_CATEGORY) => {
                subject_any_ofs += 1;
                shape.subjects.extend(alternatives);
            }
            Some(ACTION_CATEGORY) => {
                action_any_ofs += 1;
                for matches in alternatives {
                    match matches.as_slice() {
                        [one] => shape.actions.push(one.value.clone()),
                        _ => {
                            return Err(fail("an action AllOf must hold exactly one Match".into()))
                        }
                    }
                }
            }
            Some(RESOURCE_CATEGORY) => {
                resource_any_ofs += 1;
                for mut matches in alternatives {
                    matches.sort();
                    shape.resources.push(matches);
                }
            }
            Some(other) => {
                return Err(fail(format!(
                    "category {other} is not used in Altinn rules"
                )))
            }
            None => {}
        }
    }
    if subject_any_ofs > 1 || action_any_ofs > 1 || resource_any_ofs > 1 {
        return Err(fail("more than one AnyOf for one category".into()));
    }
    Ok(shape)
}

/// Flattens the policy's rules into rights (subjects × actions × resources per rule), with
/// the subjects of equal rights merged across rules, in order of first appearance.
pub fn rights(policy: &Policy) -> Result<Vec<Right>, IntrospectError> {
    let mut out: Vec<Right> = Vec::new();
    for rule in &policy.rules {
        let shape = rule_shape(rule)?;
        for resource in &shape.resources {
            for action in &shape.actions {
                let index = match out
                    .iter()
                    .position(|r| &r.resource == resource && &r.action == action)
                {
                    Some(i) => i,
                    None => {
                        out.push(Right {
                            resource: resource.clone(),
                            action: action.clone(),
                            subjects: Vec::new(),
                        });
                        out.len() - 1
                    }
                };
                for subject in &shape.subjects {
                    if !out[index].subjects.contains(subject) {
                        out[index].subjects.push(subject.clone());
                    }
                }
            }
        }
    }
    Ok(out)
}

/// Every subject-category `(AttributeId, value)` the policy names, values lowercased, as the
/// registry's `resourcesubjects` index stores them (§1.3).
pub fn subject_values(policy: &Policy) -> BTreeSet<AttributeMatch> {
    let mut out = BTreeSet::new();
    for rule in &policy.rules {
        for m in rule
            .target
            .any_of
            .iter()
            .flat_map(|a| a.all_of.iter())
            .flat_map(|a| a.matches.iter())
        {
            if let AttributeSource::Designator(d) = &m.source {
                if d.category == SUBJECT_CATEGORY {
                    out.insert(AttributeMatch {
                        attribute_id: d.attribute_id.clone(),
                        value: m.value.lexical().to_lowercase(),
                    });
                }
            }
        }
    }
    out
}

/// Why a policy may not be stored for a resource.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BindingError {
    #[error("rule {rule_id} has no resource match for {resource_id}")]
    RuleWithoutResource {
        rule_id: String,
        resource_id: String,
    },
    #[error("rule {rule_id} names another resource, {other}")]
    OtherResource { rule_id: String, other: String },
}

/// The registry's check before storing a policy for `resource_id` (§1.3): every rule has a
/// resource match `urn:altinn:resource` = `resource_id` (for `app_{org}_{app}`, the pair
/// `urn:altinn:org` = org and `urn:altinn:app` = app in one AllOf also counts), and no rule
/// names another registry resource.
pub fn check_resource_binding(policy: &Policy, resource_id: &str) -> Result<(), BindingError> {
    let app = resource_id
        .strip_prefix("app_")
        .and_then(|rest| rest.split_once('_'));
    for rule in &policy.rules {
        let mut bound = false;
        for all_of in rule.target.any_of.iter().flat_map(|a| a.all_of.iter()) {
            let value_of = |id: &str| {
                all_of.matches.iter().find_map(|m| match &m.source {
                    AttributeSource::Designator(d)
                        if d.category == RESOURCE_CATEGORY && d.attribute_id == id =>
                    {
                        Some(m.value.lexical())
                    }
                    _ => None,
                })
            };
            for m in &all_of.matches {
                if let AttributeSource::Designator(d) = &m.source {
                    if d.category == RESOURCE_CATEGORY && d.attribute_id == ALTINN_RESOURCE {
                        let value = m.value.lexical();
                        if value != resource_id {
                            return Err(BindingError::OtherResource {
                                rule_id: rule.id.clone(),
                                other: value.into_owned(),
                            });
                        }
                        bound = true;
                    }
                }
            }
            if let Some((org, app)) = app {
                if value_of(ALTINN_ORG).as_deref() == Some(org)
                    && value_of(ALTINN_APP).as_deref() == Some(app)
                {
                    bound = true;
                }
            }
        }
        if !bound {
            return Err(BindingError::RuleWithoutResource {
                rule_id: rule.id.clone(),
                resource_id: resource_id.to_owned(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{parse_policy, PolicyDocument};

    fn policy(rules: &str) -> std::sync::Arc<Policy> {
        let text = format!(
            r#"<xacml:Policy xmlns:xacml="urn:oasis:names:tc:xacml:3.0:core:schema:wd-17" PolicyId="urn:altinn:example:policyid:1" Version="1.0"
            RuleCombiningAlgId="urn:oasis:names:tc:xacml:3.0:rule-combining-algorithm:deny-overrides"><xacml:Target/>{rules}</xacml:Policy>"#
        );
        match parse_policy(&text).expect("policy parses") {
            PolicyDocument::Policy(p) => p,
            PolicyDocument::PolicySet(_) => unreachable!("a Policy"),
        }
    }

    fn m(category: &str, id: &str, value: &str) -> String {
        format!(
            r#"<xacml:Match MatchId="urn:oasis:names:tc:xacml:1.0:function:string-equal"><xacml:AttributeValue DataType="http://www.w3.org/2001/XMLSchema#string">{value}</xacml:AttributeValue><xacml:AttributeDesignator AttributeId="{id}" Category="{category}" DataType="http://www.w3.org/2001/XMLSchema#string" MustBePresent="false"/></xacml:Match>"#
        )
    }

    fn rule(
        id: &str,
        subjects: &[&str],
        resources: &[&[(&str, &str)]],
        actions: &[&str],
    ) -> String {
        let any_of = |all_ofs: Vec<String>| {
            format!(
                "<xacml:AnyOf>{}</xacml:AnyOf>",
                all_ofs
                    .iter()
                    .map(|a| format!("<xacml:AllOf>{a}</xacml:AllOf>"))
                    .collect::<String>()
            )
        };
        format!(
            r#"<xacml:Rule RuleId="{id}" Effect="Permit"><xacml:Target>{}{}{}</xacml:Target></xacml:Rule>"#,
            any_of(
                subjects
                    .iter()
                    .map(|s| m(SUBJECT_CATEGORY, "urn:altinn:rolecode", s))
                    .collect()
            ),
            any_of(
                resources
                    .iter()
                    .map(|r| r
                        .iter()
                        .map(|(id, v)| m(RESOURCE_CATEGORY, id, v))
                        .collect())
                    .collect()
            ),
            any_of(
                actions
                    .iter()
                    .map(|a| m(ACTION_CATEGORY, ACTION_ID, a))
                    .collect()
            ),
        )
    }

    #[test]
    fn flattens_rules_into_rights_and_merges_subjects() {
        let p = policy(&format!(
            "{}{}",
            rule(
                "r1",
                &["DAGL", "REGNA"],
                &[&[(ALTINN_RESOURCE, "ttd-res")]],
                &["read", "write"]
            ),
            rule(
                "r2",
                &["MEDL"],
                &[&[(ALTINN_RESOURCE, "ttd-res")]],
                &["read"]
            ),
        ));
        let rights = rights(&p).unwrap();
        assert_eq!(rights.len(), 2);
        assert_eq!(rights[0].action, "read");
        assert_eq!(rights[0].subjects.len(), 3);
        assert_eq!(rights[1].subjects.len(), 2);
        assert_eq!(
            rights[0].internal_key(),
            "urn:altinn:resource:ttd-res:urn:oasis:names:tc:xacml:1.0:action:action-id:read"
        );
        assert_eq!(rights[0].accessor_subjects(false, false).len(), 3);
        let subjects = subject_values(&p);
        assert!(subjects.contains(&AttributeMatch {
            attribute_id: "urn:altinn:rolecode".into(),
            value: "dagl".into()
        }));
    }

    #[test]
    fn app_rights_use_the_app_resource_key() {
        let p = policy(&rule(
            "r1",
            &["DAGL"],
            &[&[
                (ALTINN_ORG, "skd"),
                (ALTINN_APP, "taxreport"),
                ("urn:altinn:task", "Task_1"),
            ]],
            &["read"],
        ));
        let rights = rights(&p).unwrap();
        assert_eq!(rights[0].internal_key(), "urn:altinn:resource:app_skd_taxreport:urn:altinn:task:Task_1:urn:oasis:names:tc:xacml:1.0:action:action-id:read");
        assert_eq!(check_resource_binding(&p, "app_skd_taxreport"), Ok(()));
        assert!(matches!(
            check_resource_binding(&p, "app_skd_other"),
            Err(BindingError::RuleWithoutResource { .. })
        ));
    }

    #[test]
    fn binding_refuses_other_resources() {
        let p = policy(&format!(
            "{}{}",
            rule(
                "r1",
                &["DAGL"],
                &[&[(ALTINN_RESOURCE, "ttd-res")]],
                &["read"]
            ),
            rule(
                "r2",
                &["DAGL"],
                &[&[(ALTINN_RESOURCE, "ttd-other")]],
                &["read"]
            ),
        ));
        assert_eq!(
            check_resource_binding(&p, "ttd-res"),
            Err(BindingError::OtherResource {
                rule_id: "r2".into(),
                other: "ttd-other".into()
            })
        );
    }

    #[test]
    fn mixed_categories_are_refused() {
        let mixed = format!(
            r#"<xacml:Rule RuleId="bad" Effect="Permit"><xacml:Target><xacml:AnyOf><xacml:AllOf>{}{}</xacml:AllOf></xacml:AnyOf></xacml:Target></xacml:Rule>"#,
            m(SUBJECT_CATEGORY, "urn:altinn:rolecode", "DAGL"),
            m(ACTION_CATEGORY, ACTION_ID, "read")
        );
        let err = rights(&policy(&mixed)).unwrap_err();
        assert_eq!(err.rule_id, "bad");
        assert!(err.reason.contains("mixes categories"));
    }
}
