//! Prints how fast one Altinn-shaped decision is: parse once, evaluate many times.
//! `cargo run --release -p fullmakt-xacml --example decide`

use std::time::Instant;

use fullmakt_xacml::{parse_policy, parse_request_json, DateTime, Decision, Pdp};

const POLICY: &str = r#"<xacml:Policy xmlns:xacml="urn:oasis:names:tc:xacml:3.0:core:schema:wd-17" PolicyId="urn:altinn:example:policyid:1" Version="1.0" RuleCombiningAlgId="urn:oasis:names:tc:xacml:3.0:rule-combining-algorithm:deny-overrides"><xacml:Target/>
RULES
<xacml:ObligationExpressions><xacml:ObligationExpression FulfillOn="Permit" ObligationId="urn:altinn:obligation:1"><xacml:AttributeAssignmentExpression AttributeId="urn:altinn:obligation-assignment:1" Category="urn:altinn:minimum-authenticationlevel"><xacml:AttributeValue DataType="http://www.w3.org/2001/XMLSchema#integer">2</xacml:AttributeValue></xacml:AttributeAssignmentExpression></xacml:ObligationExpression></xacml:ObligationExpressions></xacml:Policy>"#;

fn m(function: &str, category: &str, id: &str, value: &str) -> String {
    format!(
        r#"<xacml:Match MatchId="{function}"><xacml:AttributeValue DataType="http://www.w3.org/2001/XMLSchema#string">{value}</xacml:AttributeValue><xacml:AttributeDesignator AttributeId="{id}" Category="{category}" DataType="http://www.w3.org/2001/XMLSchema#string" MustBePresent="false"/></xacml:Match>"#
    )
}

fn main() {
    let s = "urn:oasis:names:tc:xacml:1.0:subject-category:access-subject";
    let r = "urn:oasis:names:tc:xacml:3.0:attribute-category:resource";
    let a = "urn:oasis:names:tc:xacml:3.0:attribute-category:action";
    let ic = "urn:oasis:names:tc:xacml:3.0:function:string-equal-ignore-case";
    let eq = "urn:oasis:names:tc:xacml:1.0:function:string-equal";
    // Ten rules, each: four subject alternatives, the resource, two actions.
    let mut rules = String::new();
    for i in 0..10 {
        let subjects: String = ["REGNA", "DAGL", "MEDL", "ansettelsesforhold"]
            .iter()
            .map(|v| {
                format!(
                    "<xacml:AllOf>{}</xacml:AllOf>",
                    m(
                        ic,
                        s,
                        if v.len() > 5 {
                            "urn:altinn:accesspackage"
                        } else {
                            "urn:altinn:rolecode"
                        },
                        &format!("{v}{i}")
                    )
                )
            })
            .collect();
        let actions: String = ["read", "write"]
            .iter()
            .map(|v| {
                format!(
                    "<xacml:AllOf>{}</xacml:AllOf>",
                    m(eq, a, "urn:oasis:names:tc:xacml:1.0:action:action-id", v)
                )
            })
            .collect();
        rules += &format!(
            r#"<xacml:Rule RuleId="r{i}" Effect="Permit"><xacml:Target><xacml:AnyOf>{subjects}</xacml:AnyOf><xacml:AnyOf><xacml:AllOf>{}</xacml:AllOf></xacml:AnyOf><xacml:AnyOf>{actions}</xacml:AnyOf></xacml:Target></xacml:Rule>"#,
            m(eq, r, "urn:altinn:resource", "ttd-resource")
        );
    }
    let policy = parse_policy(&POLICY.replace("RULES", &rules)).expect("policy");
    let request = parse_request_json(
        r#"{"Request":{"AccessSubject":[{"Attribute":[{"AttributeId":"urn:altinn:systemuser:uuid","Value":"47caea5b-a80b-4343-b1d3-31eb523a4e28"},{"AttributeId":"urn:altinn:accesspackage","Value":"ansettelsesforhold9"}]}],
        "Action":[{"Attribute":[{"AttributeId":"urn:oasis:names:tc:xacml:1.0:action:action-id","Value":"write"}]}],
        "Resource":[{"Attribute":[{"AttributeId":"urn:altinn:resource","Value":"ttd-resource"},{"AttributeId":"urn:altinn:partyid","Value":"50005545"}]}]}}"#,
    )
    .expect("request");
    let pdp = Pdp::new(&policy);
    let now = DateTime::from_unix(1_767_225_600, 0);
    assert_eq!(
        pdp.decide_individual(&request, now).decision,
        Decision::Permit
    );
    let n = 200_000;
    let start = Instant::now();
    for _ in 0..n {
        std::hint::black_box(pdp.decide_individual(std::hint::black_box(&request), now));
    }
    let elapsed = start.elapsed();
    println!(
        "{n} decisions (10-rule policy, Permit by the last rule) in {elapsed:?}: {:.2} µs each",
        elapsed.as_secs_f64() * 1e6 / n as f64
    );
}
