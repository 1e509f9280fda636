//! Resource policies compiled for system users (DESIGN.md §4.4): for an Altinn-shaped policy,
//! each Permit rule becomes "these actions, for anyone holding one of these packages", so a
//! system-user decision is a bitset AND per rule instead of a general XACML evaluation.
//!
//! Only policies whose outcome for a system user provably depends on nothing else compile:
//! Permit rules without conditions, single-category AnyOfs, no MustBePresent, literal
//! obligations, an empty policy target, and a combining algorithm under which Permit-only rules
//! mean "Permit if any rule applies". Everything else goes to the general evaluator, and a test
//! holds the compiled answers to the evaluator's.

use std::sync::Arc;

use fullmakt_domain::catalogue::{Catalogue, PackageSet};
use fullmakt_xacml::policy::{
    AttributeSource, CombiningAlgorithm, Effect, Expression, Policy, ACTION_CATEGORY, RESOURCE_CATEGORY, SUBJECT_CATEGORY,
};
use fullmakt_xacml::{included_attributes, DateTime, Decision, DecisionResult, Obligation, Request, RuleRef, Status, Value};

const STRING_EQUAL: &str = "urn:oasis:names:tc:xacml:1.0:function:string-equal";
const STRING_EQUAL_IGNORE_CASE: &str = "urn:oasis:names:tc:xacml:3.0:function:string-equal-ignore-case";
const STRING_TYPE: &str = "http://www.w3.org/2001/XMLSchema#string";
const ACCESS_PACKAGE: &str = "urn:altinn:accesspackage";
const SYSTEM_USER: &str = "urn:altinn:systemuser:uuid";
const RESOURCE: &str = "urn:altinn:resource";
const ACTION_ID: &str = "urn:oasis:names:tc:xacml:1.0:action:action-id";

#[derive(Debug, Clone)]
struct CompiledRule {
    id: Arc<str>,
    /// The actions the rule names, as bits over [`CompiledPolicy::actions`]; `None`: the rule
    /// names no action, so it applies to every action.
    actions: Option<u64>,
    packages: PackageSet,
    /// The rule names no subject, so it applies to every system user.
    everyone: bool,
}

#[derive(Debug, Clone)]
pub struct CompiledPolicy {
    policy_id: Arc<str>,
    /// Every action some rule names; bit `i` of a rule's action set is `actions[i]`. A request
    /// is matched against this list once, not once per rule.
    actions: Vec<Box<str>>,
    rules: Vec<CompiledRule>,
    /// The policy's Permit obligations, evaluated once (they are literals).
    obligations: Vec<Obligation>,
}

impl CompiledPolicy {
    /// Compiles `policy` (stored for `resource_id`) if its system-user outcome depends only on
    /// the action and the packages held.
    pub fn compile(policy: &Policy, resource_id: &str, catalogue: &Catalogue) -> Option<Self> {
        use CombiningAlgorithm as C;
        let permit_if_any = matches!(
            policy.rule_combining,
            C::DenyOverrides
                | C::PermitOverrides
                | C::OrderedDenyOverrides
                | C::OrderedPermitOverrides
                | C::LegacyDenyOverrides
                | C::LegacyPermitOverrides
                | C::LegacyOrderedDenyOverrides
                | C::LegacyOrderedPermitOverrides
                | C::FirstApplicable
        );
        if !permit_if_any || !policy.target.any_of.is_empty() || !policy.advice.is_empty() {
            return None;
        }
        let literal = |e: &Expression| matches!(e, Expression::Value(_));
        if policy.obligations.iter().any(|o| o.assignments.iter().any(|a| !literal(&a.expression))) {
            return None;
        }
        let mut rules = Vec::with_capacity(policy.rules.len());
        let mut action_names: Vec<Box<str>> = Vec::new();
        for rule in &policy.rules {
            if rule.effect != Effect::Permit || rule.condition.is_some() || !rule.obligations.is_empty() || !rule.advice.is_empty() {
                return None;
            }
            let mut compiled = CompiledRule { id: rule.id.as_str().into(), actions: None, packages: PackageSet::default(), everyone: true };
            let (mut seen_subject, mut seen_action, mut seen_resource) = (false, false, false);
            for any_of in &rule.target.any_of {
                let mut category: Option<&str> = None;
                for m in any_of.all_of.iter().flat_map(|a| a.matches.iter()) {
                    let AttributeSource::Designator(d) = &m.source else { return None };
                    if d.must_be_present || d.data_type.uri() != STRING_TYPE {
                        return None;
                    }
                    match category {
                        None => category = Some(&d.category),
                        Some(c) if c == d.category => {}
                        Some(_) => return None,
                    }
                }
                match category {
                    Some(c) if c == ACTION_CATEGORY => {
                        if std::mem::replace(&mut seen_action, true) {
                            return None;
                        }
                        let mut actions = 0u64;
                        for all_of in &any_of.all_of {
                            let [m] = all_of.matches.as_slice() else { return None };
                            let (AttributeSource::Designator(d), Value::String(v)) = (&m.source, &m.value) else { return None };
                            if d.attribute_id != ACTION_ID || m.match_id != STRING_EQUAL {
                                return None;
                            }
                            let bit = match action_names.iter().position(|a| a == v) {
                                Some(i) => i,
                                None => {
                                    action_names.push(v.clone());
                                    action_names.len() - 1
                                }
                            };
                            // More distinct actions than bits: the general evaluator decides.
                            actions |= 1u64.checked_shl(u32::try_from(bit).ok()?)?;
                        }
                        compiled.actions = Some(actions);
                    }
                    Some(c) if c == RESOURCE_CATEGORY => {
                        if std::mem::replace(&mut seen_resource, true) {
                            return None;
                        }
                        for all_of in &any_of.all_of {
                            let [m] = all_of.matches.as_slice() else { return None };
                            let (AttributeSource::Designator(d), Value::String(v)) = (&m.source, &m.value) else { return None };
                            if d.attribute_id != RESOURCE || m.match_id != STRING_EQUAL || &**v != resource_id {
                                return None;
                            }
                        }
                    }
                    Some(c) if c == SUBJECT_CATEGORY => {
                        if std::mem::replace(&mut seen_subject, true) {
                            return None;
                        }
                        compiled.everyone = false;
                        for all_of in &any_of.all_of {
                            let ids: Vec<&str> = all_of
                                .matches
                                .iter()
                                .filter_map(|m| match &m.source {
                                    AttributeSource::Designator(d) => Some(d.attribute_id.as_str()),
                                    AttributeSource::Selector(_) => None,
                                })
                                .collect();
                            if ids.contains(&SYSTEM_USER) {
                                return None;
                            }
                            if ids.iter().any(|id| *id != ACCESS_PACKAGE) {
                                // Names an attribute a system user never has: never matches.
                                continue;
                            }
                            let [m] = all_of.matches.as_slice() else { return None };
                            let Value::String(code) = &m.value else { return None };
                            let package = match m.match_id.as_str() {
                                STRING_EQUAL => catalogue.package_by_urn(code).filter(|p| p.code == **code),
                                STRING_EQUAL_IGNORE_CASE => catalogue.package_by_urn(code).filter(|p| p.code.eq_ignore_ascii_case(code)),
                                _ => return None,
                            };
                            if let Some(p) = package {
                                compiled.packages.insert(p.index);
                            }
                        }
                    }
                    Some(_) => return None,
                    // An AnyOf without matches: XACML lets it match nothing.
                    None => return None,
                }
            }
            rules.push(compiled);
        }
        // The obligations a Permit carries, from the evaluator itself.
        let mut permit = policy.clone();
        permit.rules = vec![fullmakt_xacml::policy::Rule {
            id: "compile".into(),
            effect: Effect::Permit,
            description: None,
            target: Default::default(),
            condition: None,
            obligations: Vec::new(),
            advice: Vec::new(),
        }];
        let document = fullmakt_xacml::PolicyDocument::Policy(std::sync::Arc::new(permit));
        let sample = fullmakt_xacml::Pdp::new(&document).decide_individual(&Request::new(), DateTime::from_unix(0, 0));
        if sample.decision != Decision::Permit {
            return None;
        }
        Some(Self { policy_id: policy.id.as_str().into(), actions: action_names, rules, obligations: sample.obligations })
    }

    /// Decides for a system user holding `packages`; also says whether Altinn would echo the
    /// IncludeInResult attributes (some rule applies to the action).
    pub fn decide(&self, packages: &PackageSet, request: &Request) -> (DecisionResult, bool) {
        let mut asked = 0u64;
        for v in request.values(ACTION_CATEGORY, ACTION_ID) {
            if let Value::String(s) = v {
                if let Some(i) = self.actions.iter().position(|a| **a == **s) {
                    asked |= 1 << i;
                }
            }
        }
        let mut echo = false;
        let mut permitted_by = None;
        for rule in &self.rules {
            let action_applies = match rule.actions {
                None => true,
                Some(actions) => actions & asked != 0,
            };
            if !action_applies {
                continue;
            }
            echo = true;
            if rule.everyone || rule.packages.intersects(packages) {
                permitted_by = Some(rule);
                break;
            }
        }
        let result = match permitted_by {
            Some(rule) => DecisionResult {
                decision: Decision::Permit,
                status: Status::ok(),
                obligations: self.obligations.clone(),
                advice: Vec::new(),
                attributes: included_attributes(request),
                policy_identifiers: None,
                deciding_rule: Some(RuleRef { policy_id: self.policy_id.clone(), rule_id: rule.id.clone() }),
            },
            None => DecisionResult {
                decision: Decision::NotApplicable,
                status: Status::ok(),
                obligations: Vec::new(),
                advice: Vec::new(),
                attributes: included_attributes(request),
                policy_identifiers: None,
                deciding_rule: None,
            },
        };
        (result, echo)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fullmakt_xacml::{altinn, parse_policy, parse_request_json, Pdp, PolicyDocument};
    use std::sync::Arc;

    const RESOURCE_ID: &str = "ttd-compiled";

    fn all_of(id: &str, category: &str, value: &str, function: &str, must: bool) -> String {
        format!(
            r#"<xacml:AllOf><xacml:Match MatchId="{function}"><xacml:AttributeValue DataType="{STRING_TYPE}">{value}</xacml:AttributeValue><xacml:AttributeDesignator AttributeId="{id}" Category="{category}" DataType="{STRING_TYPE}" MustBePresent="{must}"/></xacml:Match></xacml:AllOf>"#
        )
    }

    /// A rule: subject alternatives (None: no subject AnyOf), actions (None: no action AnyOf).
    fn rule(id: &str, subjects: Option<&[(&str, &str, &str)]>, actions: Option<&[&str]>) -> String {
        let subject = subjects.map(|s| {
            let alts: String = s.iter().map(|(a, v, f)| all_of(a, SUBJECT_CATEGORY, v, f, false)).collect();
            format!("<xacml:AnyOf>{alts}</xacml:AnyOf>")
        });
        let action = actions.map(|a| {
            let alts: String = a.iter().map(|v| all_of(ACTION_ID, ACTION_CATEGORY, v, STRING_EQUAL, false)).collect();
            format!("<xacml:AnyOf>{alts}</xacml:AnyOf>")
        });
        let resource = format!("<xacml:AnyOf>{}</xacml:AnyOf>", all_of(RESOURCE, RESOURCE_CATEGORY, RESOURCE_ID, STRING_EQUAL, false));
        format!(
            r#"<xacml:Rule RuleId="{id}" Effect="Permit"><xacml:Target>{}{resource}{}</xacml:Target></xacml:Rule>"#,
            subject.unwrap_or_default(),
            action.unwrap_or_default()
        )
    }

    fn policy(rules: &[String], algorithm: &str) -> Arc<Policy> {
        let text = format!(
            r#"<xacml:Policy xmlns:xacml="urn:oasis:names:tc:xacml:3.0:core:schema:wd-17" PolicyId="p" Version="1" RuleCombiningAlgId="urn:oasis:names:tc:xacml:{algorithm}"><xacml:Target/>{}<xacml:ObligationExpressions><xacml:ObligationExpression ObligationId="urn:altinn:obligation:1" FulfillOn="Permit"><xacml:AttributeAssignmentExpression AttributeId="urn:altinn:obligation-assignment:1" Category="urn:altinn:minimum-authenticationlevel"><xacml:AttributeValue DataType="http://www.w3.org/2001/XMLSchema#integer">2</xacml:AttributeValue></xacml:AttributeAssignmentExpression></xacml:ObligationExpression></xacml:ObligationExpressions></xacml:Policy>"#,
            rules.concat()
        );
        match parse_policy(&text).unwrap() {
            PolicyDocument::Policy(p) => p,
            PolicyDocument::PolicySet(_) => unreachable!(),
        }
    }

    /// A request asking `action`; "a,b" asks both (one attribute with two values).
    fn request(action: &str) -> Request {
        let action = match action.split_once(',') {
            Some((a, b)) => format!(r#"["{a}","{b}"]"#),
            None => format!(r#""{action}""#),
        };
        parse_request_json(&format!(
            r#"{{"Request":{{"AccessSubject":[{{"Attribute":[{{"AttributeId":"{SYSTEM_USER}","Value":"47caea5b-a80b-4343-b1d3-31eb523a4e28"}}]}}],
            "Action":[{{"Attribute":[{{"AttributeId":"{ACTION_ID}","Value":{action}}}]}}],
            "Resource":[{{"Attribute":[{{"AttributeId":"{RESOURCE}","Value":"{RESOURCE_ID}","IncludeInResult":true}},{{"AttributeId":"urn:altinn:partyid","Value":"50005545"}}]}}]}}}}"#
        ))
        .unwrap()
    }

    const P: &str = ACCESS_PACKAGE;
    const IC: &str = STRING_EQUAL_IGNORE_CASE;
    const EQ: &str = STRING_EQUAL;

    fn policies() -> Vec<Arc<Policy>> {
        vec![
            // Altinn's common shape: packages or a role, read and write.
            policy(&[rule("r1", Some(&[(P, "ansettelsesforhold", IC), (P, "LONN", IC), ("urn:altinn:rolecode", "DAGL", IC)]), Some(&["read", "write"]))], "3.0:rule-combining-algorithm:deny-overrides"),
            // Several rules, one for everyone, one without actions, a case-sensitive miss.
            policy(
                &[
                    rule("a", Some(&[(P, "skatt-naering", EQ), (P, "Lonn", EQ)]), Some(&["read"])),
                    rule("b", None, Some(&["sign"])),
                    rule("c", Some(&[(P, "regnskapsforer-lonn", IC)]), None),
                    rule("d", Some(&[("urn:altinn:org", "ttd", EQ)]), Some(&["delete"])),
                ],
                "3.0:rule-combining-algorithm:permit-overrides",
            ),
            policy(&[rule("x", Some(&[(P, "lonn", EQ)]), Some(&["write"])), rule("y", Some(&[(P, "ansettelsesforhold", EQ)]), Some(&["write", "read"]))], "1.0:rule-combining-algorithm:first-applicable"),
        ]
    }

    #[test]
    fn compiled_policies_decide_exactly_as_the_evaluator() {
        let catalogue = Catalogue::embedded();
        let codes = ["ansettelsesforhold", "lonn", "skatt-naering", "regnskapsforer-lonn", "tilgangsstyrer"];
        let mut compared = 0;
        for policy in policies() {
            let compiled = CompiledPolicy::compile(&policy, RESOURCE_ID, catalogue).expect("Altinn-shaped policies compile");
            let document = PolicyDocument::Policy(policy.clone());
            for mask in 0..(1u32 << codes.len()) {
                let mut held = PackageSet::default();
                let held_codes: Vec<&str> = codes.iter().enumerate().filter(|(i, _)| mask & (1 << i) != 0).map(|(_, c)| *c).collect();
                for c in &held_codes {
                    held.insert(catalogue.package_by_urn(c).unwrap().index);
                }
                for action in ["read", "write", "sign", "delete", "READ", "sign,delete", "READ,write"] {
                    let req = request(action);
                    let (fast, fast_echo) = compiled.decide(&held, &req);
                    // The evaluator sees the packages as the PDP adds them.
                    let mut enriched = req.clone();
                    for c in &held_codes {
                        enriched.add_attribute(SUBJECT_CATEGORY, ACCESS_PACKAGE, Value::String((*c).into()));
                    }
                    let slow = Pdp::new(&document).decide_individual(&enriched, DateTime::from_unix(0, 0));
                    let context = format!("policy {} holding {held_codes:?} asking {action}", policy.id);
                    assert_eq!(fast.decision, slow.decision, "{context}");
                    assert_eq!(fast.status, slow.status, "{context}");
                    assert_eq!(fast.deciding_rule, slow.deciding_rule, "{context}");
                    assert_eq!(fast.attributes, slow.attributes, "{context}");
                    let ids = |r: &DecisionResult| r.obligations.iter().map(|o| (o.id.clone(), o.assignments.len())).collect::<Vec<_>>();
                    assert_eq!(ids(&fast), ids(&slow), "{context}");
                    assert_eq!(fast_echo, altinn::echoes_attributes(&policy, &enriched, slow.decision), "{context}");
                    compared += 1;
                }
            }
        }
        assert_eq!(compared, 3 * 32 * 7);
    }

    #[test]
    fn policies_whose_outcome_depends_on_more_do_not_compile() {
        let catalogue = Catalogue::embedded();
        let must_be_present = policy(&[rule("r", Some(&[(P, "lonn", EQ)]), Some(&["read"])).replace(r#"MustBePresent="false""#, r#"MustBePresent="true""#)], "3.0:rule-combining-algorithm:deny-overrides");
        let deny_unless_permit = policy(&[rule("r", Some(&[(P, "lonn", EQ)]), Some(&["read"]))], "3.0:rule-combining-algorithm:deny-unless-permit");
        let names_system_users = policy(&[rule("r", Some(&[(SYSTEM_USER, "47caea5b-a80b-4343-b1d3-31eb523a4e28", EQ)]), Some(&["read"]))], "3.0:rule-combining-algorithm:deny-overrides");
        let ignore_case_action = policy(&[rule("r", Some(&[(P, "lonn", EQ)]), Some(&["read"])).replace(
            &format!(r#"MatchId="{EQ}"><xacml:AttributeValue DataType="{STRING_TYPE}">read"#),
            &format!(r#"MatchId="{IC}"><xacml:AttributeValue DataType="{STRING_TYPE}">read"#),
        )], "3.0:rule-combining-algorithm:deny-overrides");
        // Rule action sets are 64-bit masks over the policy's actions.
        let actions: Vec<String> = (0..65).map(|i| format!("action-{i}")).collect();
        let sixty_five_actions = policy(&[rule("r", Some(&[(P, "lonn", EQ)]), Some(&actions.iter().map(String::as_str).collect::<Vec<_>>()))], "3.0:rule-combining-algorithm:deny-overrides");
        let sixty_four_actions = policy(&[rule("r", Some(&[(P, "lonn", EQ)]), Some(&actions[..64].iter().map(String::as_str).collect::<Vec<_>>()))], "3.0:rule-combining-algorithm:deny-overrides");
        let compiled = CompiledPolicy::compile(&sixty_four_actions, RESOURCE_ID, catalogue).expect("64 actions compile");
        let mut lonn = PackageSet::default();
        lonn.insert(catalogue.package_by_urn("lonn").unwrap().index);
        assert_eq!(compiled.decide(&lonn, &request("action-63")).0.decision, Decision::Permit);
        assert_eq!(compiled.decide(&lonn, &request("action-64")).0.decision, Decision::NotApplicable);
        for p in [must_be_present, deny_unless_permit, names_system_users, ignore_case_action, sixty_five_actions] {
            assert!(CompiledPolicy::compile(&p, RESOURCE_ID, catalogue).is_none(), "{p:?}");
        }
    }
}
