//! Altinn's policy shapes decide the same under standard XACML target semantics as under the
//! reference engine's per-category OR semantics (pdp.md §4.2, DESIGN.md §5).
//!
//! A small matcher written here from pdp.md §4.2 plays the reference engine. Sample policies
//! follow the shapes Altinn uses: Permit-only rules; one subject, one resource and one action
//! AnyOf per rule, resource AnyOfs with several AllOfs (org+app+task | org+app+end-event);
//! string-equal and string-equal-ignore-case; deny-overrides (and permit-overrides for
//! instance delegations). Every policy meets a grid of requests; both must agree on each.

use fullmakt_xacml::altinn::{category_matches, echoes_attributes};
use fullmakt_xacml::policy::{
    AttributeSource, CombiningAlgorithm, Effect, Policy, Rule, ACTION_CATEGORY, RESOURCE_CATEGORY,
    SUBJECT_CATEGORY,
};
use fullmakt_xacml::{
    parse_policy, DateTime, Decision, Function, Pdp, PolicyDocument, Request, StatusCode, Value,
};

const ACTION_ID: &str = "urn:oasis:names:tc:xacml:1.0:action:action-id";

// ----- the reference engine's semantics (pdp.md §4.2) -----

enum CategoryMatch {
    Match,
    NoMatch,
    RequiredAttributeMissing,
}

/// `MatchAttributes(category)`: candidates are the AllOfs of any AnyOf holding a Match of the
/// category; any candidate whose same-category Matches all find a value matches; no
/// candidate is a wildcard match.
fn match_attributes(rule: &Rule, request: &Request, category: &str) -> CategoryMatch {
    if rule.target.any_of.is_empty() {
        return CategoryMatch::Match;
    }
    let mut candidates = 0;
    for all_of in rule.target.any_of.iter().flat_map(|a| a.all_of.iter()) {
        let own: Vec<_> = all_of
            .matches
            .iter()
            .filter_map(|m| match &m.source {
                AttributeSource::Designator(d) if d.category == category => Some((m, d)),
                _ => None,
            })
            .collect();
        if own.is_empty() {
            continue;
        }
        candidates += 1;
        let mut all = true;
        for (m, d) in own {
            let values: Vec<&Value> = request.values(category, &d.attribute_id).collect();
            if values.is_empty() && d.must_be_present {
                return CategoryMatch::RequiredAttributeMissing;
            }
            let found = values.iter().any(|v| {
                v.data_type() == d.data_type
                    && match (&m.function, &m.value, v) {
                        (Function::Equal(_), a, b) => a.lexical() == b.lexical(),
                        (Function::StringEqualIgnoreCase, a, b) => {
                            a.lexical().to_lowercase() == b.lexical().to_lowercase()
                        }
                        _ => false,
                    }
            });
            if !found {
                all = false;
            }
        }
        if all {
            return CategoryMatch::Match;
        }
    }
    if candidates == 0 {
        CategoryMatch::Match
    } else {
        CategoryMatch::NoMatch
    }
}

fn reference_decide(policy: &Policy, request: &Request) -> (Decision, StatusCode) {
    let mut decisions = Vec::new();
    for rule in &policy.rules {
        let resource = match_attributes(rule, request, RESOURCE_CATEGORY);
        let action = match_attributes(rule, request, ACTION_CATEGORY);
        if matches!(resource, CategoryMatch::RequiredAttributeMissing)
            || matches!(action, CategoryMatch::RequiredAttributeMissing)
        {
            return (Decision::Indeterminate, StatusCode::MissingAttribute);
        }
        if !(matches!(resource, CategoryMatch::Match) && matches!(action, CategoryMatch::Match)) {
            continue;
        }
        decisions.push(match match_attributes(rule, request, SUBJECT_CATEGORY) {
            CategoryMatch::Match => Some(rule.effect),
            CategoryMatch::RequiredAttributeMissing => {
                return (Decision::Indeterminate, StatusCode::Ok)
            }
            CategoryMatch::NoMatch => None,
        });
    }
    let any = |e: Effect| decisions.contains(&Some(e));
    let decision = match policy.rule_combining {
        CombiningAlgorithm::DenyOverrides if any(Effect::Deny) => Decision::Deny,
        CombiningAlgorithm::PermitOverrides if any(Effect::Permit) => Decision::Permit,
        _ if any(Effect::Deny) => Decision::Deny,
        _ if any(Effect::Permit) => Decision::Permit,
        _ => Decision::NotApplicable,
    };
    (decision, StatusCode::Ok)
}

// ----- sample policies -----

const NS: &str = "urn:oasis:names:tc:xacml:3.0:core:schema:wd-17";
const EQ: &str = "urn:oasis:names:tc:xacml:1.0:function:string-equal";
const EQ_IC: &str = "urn:oasis:names:tc:xacml:3.0:function:string-equal-ignore-case";

fn m(function: &str, category: &str, id: &str, value: &str) -> String {
    format!(
        r#"<xacml:Match MatchId="{function}"><xacml:AttributeValue DataType="http://www.w3.org/2001/XMLSchema#string">{value}</xacml:AttributeValue><xacml:AttributeDesignator AttributeId="{id}" Category="{category}" DataType="http://www.w3.org/2001/XMLSchema#string" MustBePresent="false"/></xacml:Match>"#
    )
}

fn any_of(all_ofs: &[String]) -> String {
    format!(
        "<xacml:AnyOf>{}</xacml:AnyOf>",
        all_ofs
            .iter()
            .map(|a| format!("<xacml:AllOf>{a}</xacml:AllOf>"))
            .collect::<String>()
    )
}

fn rule(id: &str, subjects: &[String], resources: &[String], actions: &[&str]) -> String {
    let actions: Vec<String> = actions
        .iter()
        .map(|a| m(EQ, ACTION_CATEGORY, ACTION_ID, a))
        .collect();
    format!(
        r#"<xacml:Rule RuleId="{id}" Effect="Permit"><xacml:Target>{}{}{}</xacml:Target></xacml:Rule>"#,
        any_of(subjects),
        any_of(resources),
        any_of(&actions)
    )
}

fn policy(algorithm: &str, rules: &[String]) -> PolicyDocument {
    let text = format!(
        r#"<xacml:Policy xmlns:xacml="{NS}" PolicyId="urn:altinn:example:policyid:1" Version="1.0" RuleCombiningAlgId="{algorithm}"><xacml:Target/>{}
        <xacml:ObligationExpressions><xacml:ObligationExpression FulfillOn="Permit" ObligationId="urn:altinn:obligation:1">
        <xacml:AttributeAssignmentExpression AttributeId="urn:altinn:obligation-assignment:1" Category="urn:altinn:minimum-authenticationlevel">
        <xacml:AttributeValue DataType="http://www.w3.org/2001/XMLSchema#integer">2</xacml:AttributeValue></xacml:AttributeAssignmentExpression>
        </xacml:ObligationExpression></xacml:ObligationExpressions></xacml:Policy>"#,
        rules.concat()
    );
    parse_policy(&text).expect("sample policy parses")
}

const RULE_DENY_OVERRIDES: &str =
    "urn:oasis:names:tc:xacml:3.0:rule-combining-algorithm:deny-overrides";
const POLICY_DENY_OVERRIDES: &str =
    "urn:oasis:names:tc:xacml:3.0:policy-combining-algorithm:deny-overrides";
const POLICY_PERMIT_OVERRIDES: &str =
    "urn:oasis:names:tc:xacml:3.0:policy-combining-algorithm:permit-overrides";

fn role(value: &str) -> String {
    m(EQ_IC, SUBJECT_CATEGORY, "urn:altinn:rolecode", value)
}

fn resource(id: &str) -> String {
    m(EQ, RESOURCE_CATEGORY, "urn:altinn:resource", id)
}

fn app(org: &str, app: &str, extra: &[(&str, &str)]) -> String {
    let mut s = m(EQ, RESOURCE_CATEGORY, "urn:altinn:org", org)
        + &m(EQ, RESOURCE_CATEGORY, "urn:altinn:app", app);
    for (id, v) in extra {
        s += &m(EQ, RESOURCE_CATEGORY, id, v);
    }
    s
}

fn sample_policies() -> Vec<(&'static str, PolicyDocument)> {
    vec![
        // pdp.md §5.4 case 1: roles (ignore-case) or the service owner; read/write.
        (
            "resource registry, roles or org",
            policy(
                RULE_DENY_OVERRIDES,
                &[rule(
                    "r1",
                    &[
                        role("REGNA"),
                        role("DAGL"),
                        role("MEDL"),
                        m(EQ, SUBJECT_CATEGORY, "urn:altinn:org", "ttd"),
                    ],
                    &[resource("ttd-externalpdp-resource1")],
                    &["read", "write"],
                )],
            ),
        ),
        // pdp.md §5.4 case 2: access package.
        (
            "access package",
            policy(
                RULE_DENY_OVERRIDES,
                &[rule(
                    "r1",
                    &[m(
                        EQ_IC,
                        SUBJECT_CATEGORY,
                        "urn:altinn:accesspackage",
                        "ansettelsesforhold",
                    )],
                    &[resource("ttd-accesspackage-resource")],
                    &["read", "write"],
                )],
            ),
        ),
        // pdp.md §5.4 case 3: an app policy with tasks and end events, several AllOfs per
        // resource AnyOf, lower-case roles under string-equal.
        (
            "app skd/taxreport",
            policy(
                RULE_DENY_OVERRIDES,
                &[
                    rule(
                        "r1",
                        &[
                            m(EQ, SUBJECT_CATEGORY, "urn:altinn:rolecode", "regna"),
                            m(EQ, SUBJECT_CATEGORY, "urn:altinn:rolecode", "dagl"),
                        ],
                        &[app("skd", "taxreport", &[])],
                        &["instantiate", "read"],
                    ),
                    rule(
                        "r2",
                        &[
                            m(EQ, SUBJECT_CATEGORY, "urn:altinn:rolecode", "regna"),
                            m(EQ, SUBJECT_CATEGORY, "urn:altinn:rolecode", "dagl"),
                        ],
                        &[
                            app("skd", "taxreport", &[("urn:altinn:task", "Task_1")]),
                            app("skd", "taxreport", &[("urn:altinn:task", "Task_2")]),
                        ],
                        &["read", "write"],
                    ),
                    rule(
                        "r3",
                        &[m(EQ, SUBJECT_CATEGORY, "urn:altinn:rolecode", "dagl")],
                        &[app(
                            "skd",
                            "taxreport",
                            &[("urn:altinn:end-event", "EndEvent_1")],
                        )],
                        &["read", "delete"],
                    ),
                    rule(
                        "r4",
                        &[m(EQ, SUBJECT_CATEGORY, "urn:altinn:org", "skd")],
                        &[
                            app("skd", "taxreport", &[]),
                            app("skd", "taxreport", &[("urn:altinn:task", "Task_1")]),
                        ],
                        &["read", "write", "complete"],
                    ),
                    rule(
                        "r5",
                        &[m(EQ, SUBJECT_CATEGORY, "urn:altinn:rolecode", "apiadm")],
                        &[app(
                            "skd",
                            "taxreport",
                            &[("urn:altinn:appresource", "events")],
                        )],
                        &["read"],
                    ),
                    rule(
                        "r6",
                        &[role("PRIV")],
                        &[app("skd", "taxreport", &[("urn:altinn:task", "Task_1")])],
                        &["sign", "confirm"],
                    ),
                ],
            ),
        ),
        // A system-user delegation policy (pdp.md §3 path 2).
        (
            "delegation to a system user",
            policy(
                POLICY_DENY_OVERRIDES,
                &[
                    rule(
                        "r1",
                        &[m(
                            EQ,
                            SUBJECT_CATEGORY,
                            "urn:altinn:systemuser:uuid",
                            "47caea5b-a80b-4343-b1d3-31eb523a4e28",
                        )],
                        &[resource("ttd-externalpdp-resource1")],
                        &["read"],
                    ),
                    rule(
                        "r2",
                        &[m(EQ, SUBJECT_CATEGORY, "urn:altinn:userid", "20000490")],
                        &[resource("ttd-externalpdp-resource1")],
                        &["write"],
                    ),
                ],
            ),
        ),
        // An instance delegation: permit-overrides, ignore-case, instance and task.
        (
            "instance delegation",
            policy(
                POLICY_PERMIT_OVERRIDES,
                &[rule(
                    "r1",
                    &[m(
                        EQ_IC,
                        SUBJECT_CATEGORY,
                        "urn:altinn:person:uuid",
                        "ce4ba72b-d111-404f-95b5-313fb3847fa1",
                    )],
                    &[resource("ttd-externalpdp-resource1")
                        + &m(
                            EQ_IC,
                            RESOURCE_CATEGORY,
                            "urn:altinn:resource:instance-id",
                            "0191579e-72bc-7977-af5d-f9e92af4393b",
                        )
                        + &m(EQ_IC, RESOURCE_CATEGORY, "urn:altinn:task", "Task_1")],
                    &["read", "sign"],
                )],
            ),
        ),
    ]
}

// ----- the request grid -----

type Attr = (&'static str, &'static str, &'static str);

fn subjects() -> Vec<Vec<Attr>> {
    let s = SUBJECT_CATEGORY;
    vec![
        vec![],
        vec![(s, "urn:altinn:rolecode", "DAGL")],
        vec![
            (s, "urn:altinn:rolecode", "dagl"),
            (s, "urn:altinn:rolecode", "regna"),
        ],
        vec![(s, "urn:altinn:rolecode", "apiadm")],
        vec![(s, "urn:altinn:rolecode", "priv")],
        vec![(s, "urn:altinn:org", "ttd")],
        vec![(s, "urn:altinn:org", "skd")],
        vec![(
            s,
            "urn:altinn:systemuser:uuid",
            "47caea5b-a80b-4343-b1d3-31eb523a4e28",
        )],
        vec![(
            s,
            "urn:altinn:systemuser:uuid",
            "47caea5b-a80b-4343-b1d3-31eb523a00ff",
        )],
        vec![
            (
                s,
                "urn:altinn:systemuser:uuid",
                "e2eba2c3-b369-4ff9-8418-99a810d6bb58",
            ),
            (s, "urn:altinn:accesspackage", "skatt-naering"),
            (s, "urn:altinn:accesspackage", "ansettelsesforhold"),
        ],
        vec![(s, "urn:altinn:userid", "20000490")],
        vec![(
            s,
            "urn:altinn:person:uuid",
            "CE4BA72B-D111-404F-95B5-313FB3847FA1",
        )],
    ]
}

fn resources() -> Vec<Vec<Attr>> {
    let r = RESOURCE_CATEGORY;
    vec![
        vec![],
        vec![
            (r, "urn:altinn:resource", "ttd-externalpdp-resource1"),
            (r, "urn:altinn:partyid", "50005545"),
        ],
        vec![
            (r, "urn:altinn:resource", "ttd-accesspackage-resource"),
            (
                r,
                "urn:altinn:party:uuid",
                "066148fe-7077-4484-b7ea-44b5ede0014e",
            ),
        ],
        vec![(r, "urn:altinn:resource", "ttd-other")],
        vec![
            (r, "urn:altinn:org", "skd"),
            (r, "urn:altinn:app", "taxreport"),
            (r, "urn:altinn:partyid", "1000"),
        ],
        vec![
            (r, "urn:altinn:org", "skd"),
            (r, "urn:altinn:app", "taxreport"),
            (r, "urn:altinn:task", "Task_1"),
        ],
        vec![
            (r, "urn:altinn:org", "skd"),
            (r, "urn:altinn:app", "taxreport"),
            (r, "urn:altinn:task", "Task_2"),
        ],
        vec![
            (r, "urn:altinn:org", "skd"),
            (r, "urn:altinn:app", "taxreport"),
            (r, "urn:altinn:end-event", "EndEvent_1"),
        ],
        vec![
            (r, "urn:altinn:org", "skd"),
            (r, "urn:altinn:app", "taxreport"),
            (r, "urn:altinn:appresource", "events"),
        ],
        vec![
            (r, "urn:altinn:org", "skd"),
            (r, "urn:altinn:app", "othereport"),
        ],
        vec![
            (r, "urn:altinn:resource", "ttd-externalpdp-resource1"),
            (
                r,
                "urn:altinn:resource:instance-id",
                "0191579E-72BC-7977-AF5D-F9E92AF4393B",
            ),
            (r, "urn:altinn:task", "task_1"),
        ],
    ]
}

const ACTIONS: [&str; 8] = [
    "",
    "read",
    "write",
    "sign",
    "instantiate",
    "delete",
    "complete",
    "confirm",
];

fn request(subject: &[Attr], resource: &[Attr], action: &str) -> Request {
    let mut r = Request::new();
    for (category, id, value) in subject.iter().chain(resource) {
        r.add_attribute(category, id, Value::String((*value).into()));
    }
    if !action.is_empty() {
        r.add_attribute(ACTION_CATEGORY, ACTION_ID, Value::String(action.into()));
    }
    r
}

#[test]
fn altinn_policy_shapes_decide_the_same_under_both_semantics() {
    let now = DateTime::from_unix(1_767_225_600, 0);
    let mut compared = 0;
    let mut permits = 0;
    for (name, document) in sample_policies() {
        let PolicyDocument::Policy(policy) = &document else {
            unreachable!("samples are policies")
        };
        let pdp = Pdp::new(&document);
        for subject in subjects() {
            for resource in resources() {
                for action in ACTIONS {
                    let req = request(&subject, &resource, action);
                    let standard = pdp.decide_individual(&req, now);
                    let (reference, status) = reference_decide(policy, &req);
                    assert_eq!(
                        (standard.decision, standard.status.code),
                        (reference, status),
                        "{name}: subject {subject:?} resource {resource:?} action {action:?}"
                    );
                    if standard.decision == Decision::Permit {
                        permits += 1;
                        assert_eq!(
                            standard.obligations.len(),
                            1,
                            "{name}: the Permit carries the policy's obligation"
                        );
                        let rule = standard
                            .deciding_rule
                            .as_ref()
                            .expect("a Permit names its rule");
                        assert_eq!(&*rule.policy_id, "urn:altinn:example:policyid:1");
                    }
                    // The echo rule: some rule matched resource and action under the
                    // reference reading, and the decision is not Indeterminate.
                    let selected = policy.rules.iter().any(|r| {
                        category_matches(r, &req, RESOURCE_CATEGORY)
                            && category_matches(r, &req, ACTION_CATEGORY)
                    });
                    assert_eq!(
                        echoes_attributes(policy, &req, standard.decision),
                        selected && standard.decision != Decision::Indeterminate
                    );
                    compared += 1;
                }
            }
        }
    }
    assert_eq!(compared, 5 * 12 * 11 * 8);
    assert!(
        permits > 20,
        "the grid must exercise Permit, not only NotApplicable ({permits})"
    );
}

/// Where the two readings differ (two resource AnyOfs are ANDed by the standard and ORed by
/// the reference), which no Altinn policy relies on (pdp.md §4.2).
#[test]
fn the_readings_differ_only_on_shapes_altinn_does_not_use() {
    let two_resource_any_ofs = format!(
        r#"<xacml:Rule RuleId="r" Effect="Permit"><xacml:Target>{}{}{}</xacml:Target></xacml:Rule>"#,
        any_of(&[resource("a")]),
        any_of(&[m(EQ, RESOURCE_CATEGORY, "urn:altinn:task", "Task_1")]),
        any_of(&[m(EQ, ACTION_CATEGORY, ACTION_ID, "read")])
    );
    let document = policy(RULE_DENY_OVERRIDES, &[two_resource_any_ofs]);
    let PolicyDocument::Policy(p) = &document else {
        unreachable!()
    };
    let req = request(
        &[],
        &[(RESOURCE_CATEGORY, "urn:altinn:resource", "a")],
        "read",
    );
    assert_eq!(
        Pdp::new(&document)
            .decide_individual(&req, DateTime::from_unix(0, 0))
            .decision,
        Decision::NotApplicable
    );
    assert_eq!(reference_decide(p, &req).0, Decision::Permit);
}

/// An absent resource or action attribute whose Match says MustBePresent gives Indeterminate
/// with missing-attribute, as in the reference (pdp.md §1.5).
#[test]
fn absent_must_be_present_attribute_is_missing_attribute() {
    let text = format!(
        r#"<xacml:Policy xmlns:xacml="{NS}" PolicyId="p" RuleCombiningAlgId="{RULE_DENY_OVERRIDES}"><xacml:Target/>
        <xacml:Rule RuleId="r" Effect="Permit"><xacml:Target><xacml:AnyOf><xacml:AllOf>
        <xacml:Match MatchId="{EQ}"><xacml:AttributeValue DataType="http://www.w3.org/2001/XMLSchema#string">x</xacml:AttributeValue>
        <xacml:AttributeDesignator AttributeId="urn:altinn:resource" Category="{RESOURCE_CATEGORY}" DataType="http://www.w3.org/2001/XMLSchema#string" MustBePresent="true"/>
        </xacml:Match></xacml:AllOf></xacml:AnyOf></xacml:Target></xacml:Rule></xacml:Policy>"#
    );
    let document = parse_policy(&text).expect("parses");
    let result = Pdp::new(&document).decide_individual(&Request::new(), DateTime::from_unix(0, 0));
    assert_eq!(
        (result.decision, result.status.code),
        (Decision::Indeterminate, StatusCode::MissingAttribute)
    );
    assert!(result
        .status
        .message
        .as_deref()
        .is_some_and(|m| m.contains("urn:altinn:resource")));
}
