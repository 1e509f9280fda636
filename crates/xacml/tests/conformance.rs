//! Runs all 490 cases of the OASIS XACML 3.0 conformance suite (tests/conformance, the copy
//! Altinn keeps; see its README.md) and compares each response semantically: decisions,
//! status codes, obligations and advice with their assignments, echoed attributes and the
//! PolicyIdentifierList.
//!
//! The cases expected to fail are listed below with a reason each. The test fails when a
//! listed case passes (take it off the list) or an unlisted case fails, so the pass count
//! can only go up.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use fullmakt_xacml::{
    parse_policy, parse_request_json, parse_request_xml, response_to_altinn_json, response_to_xml,
    DataType, DateTime, Decision, DecisionResult, Pdp, PolicyDocument, PolicyStore, Response,
    StatusCode, Value,
};

/// Cases this engine does not pass, and why.
const EXPECTED_FAILURES: &[(&str, &str)] = &[
    (
        "IIIC002",
        "hierarchical resources (scope=Children) need a resource hierarchy the PDP does not have",
    ),
    (
        "IIIC003",
        "hierarchical resources (scope=Descendants) need a resource hierarchy the PDP does not have",
    ),
];

/// Altinn edited the expected responses of these three cases to Indeterminate because its PDP
/// does not supply the current date/time. The OASIS original expects Permit: the PDP supplies
/// `current-time`, `current-date` and `current-dateTime` when the request lacks them, as
/// fullmakt does (README.md of the corpus, "Altinn changes").
const OASIS_ORIGINAL: &[&str] = &["IIA017", "IIA019", "IIA021"];

/// The cases Altinn's own test class runs; every one must pass.
const ALTINN_RUNS: &[&str] = &[
    "IIA001", "IIA002", "IIA003", "IIA004", "IIA005", "IIA006", "IIA007", "IIA008", "IIA009",
    "IIA010", "IIA011", "IIA012", "IIA013", "IIA014", "IIA015", "IIA016", "IIA017", "IIA017B",
    "IIA018", "IIA019", "IIA019B", "IIA020", "IIA021", "IIA021B", "IIA022", "IIA023", "IIA024",
    "IIB001", "IIB002", "IIB003", "IIB004", "IIB005", "IIB006", "IIB007", "IIB008",
];

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance")
}

/// A fixed "now" so runs are repeatable.
fn now() -> DateTime {
    DateTime::parse("2026-01-15T12:00:00Z").expect("valid dateTime")
}

fn read(name: &str) -> Option<String> {
    let dir = corpus();
    let exact = dir.join(name);
    if let Ok(text) = fs::read_to_string(&exact) {
        return Some(text);
    }
    // IIE001's file is named Policyid1 upstream; match file names case-insensitively.
    let lower = name.to_lowercase();
    fs::read_dir(&dir)
        .ok()?
        .flatten()
        .find(|e| e.file_name().to_string_lossy().to_lowercase() == lower)
        .and_then(|e| fs::read_to_string(e.path()).ok())
}

fn case_ids() -> Vec<String> {
    let index: serde_json::Value =
        serde_json::from_str(&read("INDEX.json").expect("INDEX.json")).expect("INDEX.json is JSON");
    index
        .as_array()
        .expect("array")
        .iter()
        .map(|c| c["case"].as_str().expect("case id").to_owned())
        .collect()
}

fn properties(case: &str) -> Option<(Vec<String>, Vec<String>)> {
    let text = read(&format!("{case}Repository.properties"))?;
    let list = |key: &str| -> Vec<String> {
        text.lines()
            .filter_map(|l| l.trim().strip_prefix(key))
            .flat_map(|v| {
                v.split(',')
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
            })
            .collect()
    };
    Some((
        list("xacml.rootPolicies="),
        list("xacml.referencedPolicies="),
    ))
}

/// Evaluates one case the way a PDP loading the case's files would. A policy or request that
/// cannot be parsed gives Indeterminate with syntax-error.
fn run_case(case: &str) -> Response {
    let (mut roots, referenced) = properties(case).unwrap_or_default();
    if roots.is_empty() {
        roots.push(format!("{case}Policy.xml"));
    }
    let mut root_docs: Vec<PolicyDocument> = Vec::new();
    for file in &roots {
        match parse_policy(&read(file).unwrap_or_default()) {
            Ok(d) => root_docs.push(d),
            Err(e) => {
                return Response {
                    results: vec![DecisionResult::indeterminate(
                        StatusCode::SyntaxError,
                        e.to_string(),
                    )],
                }
            }
        }
    }
    let mut store = PolicyStore::new();
    for file in &referenced {
        // A referenced policy that does not parse is simply absent from the repository.
        if let Ok(d) = parse_policy(&read(file).unwrap_or_default()) {
            store.insert(d);
        }
    }
    let request = match parse_request_xml(&read(&format!("{case}Request.xml")).unwrap_or_default())
    {
        Ok(r) => r,
        Err(e) => {
            return Response {
                results: vec![DecisionResult::indeterminate(
                    StatusCode::SyntaxError,
                    e.to_string(),
                )],
            }
        }
    };
    Pdp::with_roots(&root_docs)
        .repository(&store)
        .decide(&request, now())
}

/// A result reduced to what the comparison looks at, values in canonical lexical form.
#[derive(Debug, PartialEq, Eq)]
struct Comparable {
    decision: String,
    status: String,
    obligations: BTreeSet<String>,
    advice: BTreeSet<String>,
    attributes: BTreeSet<String>,
    policy_ids: Option<BTreeSet<String>>,
}

fn canonical(data_type: &str, text: &str) -> String {
    match Value::parse(&DataType::from_uri(data_type), text) {
        Ok(v) => format!("{}|{}", v.data_type().uri(), v.lexical()),
        Err(_) => format!("{data_type}|{}", text.trim()),
    }
}

fn comparable(result: &DecisionResult) -> Comparable {
    let obligation = |o: &fullmakt_xacml::Obligation| {
        let mut parts: Vec<String> = o
            .assignments
            .iter()
            .map(|a| {
                format!(
                    "{}|{}|{}",
                    a.attribute_id,
                    a.category.clone().unwrap_or_default(),
                    canonical(a.value.data_type().uri(), &a.value.lexical())
                )
            })
            .collect();
        parts.sort();
        format!("{}[{}]", o.id, parts.join(";"))
    };
    Comparable {
        decision: result.decision.as_str().to_owned(),
        status: result.status.code.uri().to_owned(),
        obligations: result.obligations.iter().map(obligation).collect(),
        advice: result.advice.iter().map(obligation).collect(),
        attributes: result
            .attributes
            .iter()
            .flat_map(|c| {
                c.attributes.iter().flat_map(move |a| {
                    a.values.iter().map(move |v| {
                        format!(
                            "{}|{}|{}|{}",
                            c.category,
                            a.attribute_id,
                            a.issuer.clone().unwrap_or_default(),
                            canonical(v.data_type().uri(), &v.lexical())
                        )
                    })
                })
            })
            .collect(),
        policy_ids: result.policy_identifiers.as_ref().map(|ids| {
            ids.iter()
                .map(|p| {
                    format!(
                        "{}|{}|{}",
                        if p.is_policy_set { "set" } else { "policy" },
                        p.id,
                        p.version
                    )
                })
                .collect()
        }),
    }
}

fn child<'a, 'i>(n: roxmltree::Node<'a, 'i>, name: &str) -> Option<roxmltree::Node<'a, 'i>> {
    n.children().find(|c| c.tag_name().name() == name)
}

fn children<'a, 'i>(n: roxmltree::Node<'a, 'i>, name: &str) -> Vec<roxmltree::Node<'a, 'i>> {
    n.children()
        .filter(|c| c.tag_name().name() == name)
        .collect()
}

fn text(n: roxmltree::Node<'_, '_>) -> String {
    n.text().unwrap_or("").to_owned()
}

fn expected(xml: &str) -> Vec<Comparable> {
    let doc = roxmltree::Document::parse(xml).expect("expected response parses");
    let obligations =
        |r: roxmltree::Node<'_, '_>, list: &str, element: &str, id: &str| -> BTreeSet<String> {
            let Some(l) = child(r, list) else {
                return BTreeSet::new();
            };
            children(l, element)
                .into_iter()
                .map(|o| {
                    let mut parts: Vec<String> = children(o, "AttributeAssignment")
                        .into_iter()
                        .map(|a| {
                            format!(
                                "{}|{}|{}",
                                a.attribute("AttributeId").unwrap_or(""),
                                a.attribute("Category").unwrap_or(""),
                                canonical(a.attribute("DataType").unwrap_or(""), &text(a))
                            )
                        })
                        .collect();
                    parts.sort();
                    format!("{}[{}]", o.attribute(id).unwrap_or(""), parts.join(";"))
                })
                .collect()
        };
    children(doc.root_element(), "Result")
        .into_iter()
        .map(|r| Comparable {
            decision: child(r, "Decision")
                .map(text)
                .unwrap_or_default()
                .trim()
                .to_owned(),
            status: child(r, "Status")
                .and_then(|s| child(s, "StatusCode"))
                .and_then(|c| c.attribute("Value"))
                .unwrap_or("urn:oasis:names:tc:xacml:1.0:status:ok")
                .to_owned(),
            obligations: obligations(r, "Obligations", "Obligation", "ObligationId"),
            advice: obligations(r, "AssociatedAdvice", "Advice", "AdviceId"),
            attributes: children(r, "Attributes")
                .into_iter()
                .flat_map(|c| {
                    let category = c.attribute("Category").unwrap_or("").to_owned();
                    children(c, "Attribute").into_iter().flat_map(move |a| {
                        let category = category.clone();
                        children(a, "AttributeValue").into_iter().map(move |v| {
                            format!(
                                "{}|{}|{}|{}",
                                category,
                                a.attribute("AttributeId").unwrap_or(""),
                                a.attribute("Issuer").unwrap_or(""),
                                canonical(
                                    v.attribute("DataType").unwrap_or(""),
                                    v.text().unwrap_or("")
                                )
                            )
                        })
                    })
                })
                .collect(),
            policy_ids: child(r, "PolicyIdentifierList").map(|l| {
                l.children()
                    .filter(|c| c.is_element())
                    .map(|p| {
                        let kind = if p.tag_name().name() == "PolicySetIdReference" {
                            "set"
                        } else {
                            "policy"
                        };
                        format!(
                            "{kind}|{}|{}",
                            text(p).trim(),
                            p.attribute("Version").unwrap_or("1.0")
                        )
                    })
                    .collect()
            }),
        })
        .collect()
}

fn check_case(case: &str) -> Result<(), String> {
    let response = run_case(case);
    let mut want = expected(&read(&format!("{case}Response.xml")).ok_or("no Response.xml")?);
    if OASIS_ORIGINAL.contains(&case) {
        for w in &mut want {
            w.decision = "Permit".into();
        }
    }
    let got: Vec<Comparable> = response.results.iter().map(comparable).collect();
    // A response without ReturnPolicyIdList has no list on either side; when the expected
    // response has none but we produced one, that is a difference too.
    if got == want {
        Ok(())
    } else {
        let messages: Vec<_> = response
            .results
            .iter()
            .filter_map(|r| r.status.message.clone())
            .collect();
        Err(format!(
            "expected {want:#?}\n got {got:#?}\n messages {messages:?}"
        ))
    }
}

#[test]
fn conformance_suite() {
    let cases = case_ids();
    assert_eq!(cases.len(), 490, "INDEX.json lists every case");
    let mut failed: BTreeSet<String> = BTreeSet::new();
    let verbose = std::env::var_os("XACML_CONFORMANCE_VERBOSE").is_some();
    for case in &cases {
        if let Err(diff) = check_case(case) {
            if verbose {
                eprintln!("--- {case}\n{diff}");
            }
            failed.insert(case.clone());
        }
    }
    let expected: BTreeSet<String> = EXPECTED_FAILURES
        .iter()
        .map(|(c, _)| (*c).to_owned())
        .collect();
    let passed = cases.len() - failed.len();
    println!(
        "XACML conformance: {passed} of {} cases pass ({} expected failures)",
        cases.len(),
        expected.len()
    );
    for case in ALTINN_RUNS {
        assert!(
            !failed.contains(*case),
            "{case} is run by Altinn and must pass"
        );
    }
    let newly_failing: Vec<_> = failed.difference(&expected).collect();
    let newly_passing: Vec<_> = expected.difference(&failed).collect();
    assert!(newly_failing.is_empty(), "cases failing that are not listed as expected failures: {newly_failing:?} (set XACML_CONFORMANCE_VERBOSE=1 for diffs)");
    assert!(
        newly_passing.is_empty(),
        "listed expected failures that now pass; remove them from the list: {newly_passing:?}"
    );
}

/// Altinn's JSON-profile test: IIA001 as JSON gives Permit, and the Altinn JSON response has
/// the reference's shape.
#[test]
fn iia001_json_profile() {
    let policy = parse_policy(&read("IIA001Policy.xml").expect("policy")).expect("parses");
    let request =
        parse_request_json(&read("IIA001Request.json").expect("request")).expect("parses");
    let response = Pdp::new(&policy).decide(&request, now());
    let expected: serde_json::Value =
        serde_json::from_str(&read("IIA001Response.json").expect("response")).expect("json");
    assert_eq!(response.results.len(), 1);
    assert_eq!(
        response.results[0].decision.as_str(),
        expected["Response"][0]["Decision"]
    );
    assert_eq!(
        response.results[0].status.code.uri(),
        expected["Response"][0]["Status"]["StatusCode"]["Value"]
    );
    let body = response_to_altinn_json(&response, &[true]);
    assert_eq!(
        body,
        r#"{"response":[{"decision":"Permit","status":{"statusMessage":null,"statusDetails":null,"statusCode":{"value":"urn:oasis:names:tc:xacml:1.0:status:ok","statusCode":null}},"obligations":null,"associateAdvice":null,"category":null,"policyIdentifierList":null}]}"#
    );
}

/// Responses written as XML read back to the same comparison, so the XML writer is covered by
/// the whole suite too.
#[test]
fn xml_responses_round_trip() {
    for case in case_ids() {
        let response = run_case(&case);
        let written = response_to_xml(&response);
        let reread = expected(&written);
        let direct: Vec<Comparable> = response.results.iter().map(comparable).collect();
        assert_eq!(
            reread, direct,
            "{case}: the written XML differs from the result"
        );
    }
}

#[test]
fn every_decision_kind_is_exercised() {
    let mut seen = BTreeSet::new();
    for case in ["IIA001", "IID002", "IIA003", "IIA007"] {
        for r in run_case(case).results {
            seen.insert(r.decision.as_str());
        }
    }
    let all: BTreeSet<_> = [
        Decision::Permit,
        Decision::Deny,
        Decision::NotApplicable,
        Decision::Indeterminate,
    ]
    .iter()
    .map(|d| d.as_str())
    .collect();
    assert_eq!(seen, all);
}
