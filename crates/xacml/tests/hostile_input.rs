//! Hostile documents are refused quickly, with a clear error, and without holding memory in
//! proportion to what an attacker hopes to expand. Tests never assert on time; each case
//! would take minutes or gigabytes if the defence were missing.

use fullmakt_xacml::{parse_policy, parse_request_json, parse_request_xml, Limits, ParseError};

const NS: &str = "urn:oasis:names:tc:xacml:3.0:core:schema:wd-17";

#[test]
fn billion_laughs_is_refused() {
    let mut doc =
        String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n<!ENTITY lol \"lol\">\n");
    for i in 1..10 {
        let prev = if i == 1 {
            "lol".to_owned()
        } else {
            format!("lol{}", i - 1)
        };
        doc.push_str(&format!(
            "<!ENTITY lol{i} \"{}\">\n",
            format!("&{prev};").repeat(10)
        ));
    }
    doc.push_str(&format!("]>\n<Request xmlns=\"{NS}\"><Attributes Category=\"c\"><Attribute AttributeId=\"a\"><AttributeValue DataType=\"http://www.w3.org/2001/XMLSchema#string\">&lol9;</AttributeValue></Attribute></Attributes></Request>"));
    assert_eq!(parse_request_xml(&doc).unwrap_err(), ParseError::Doctype);
    assert_eq!(parse_policy(&doc).unwrap_err(), ParseError::Doctype);
}

#[test]
fn external_entities_are_refused() {
    let doc = format!(
        "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]><Request xmlns=\"{NS}\">&xxe;</Request>"
    );
    let err = parse_request_xml(&doc).unwrap_err();
    assert_eq!(err, ParseError::Doctype);
    assert!(err.to_string().contains("DOCTYPE"));
    // Even a bare external DTD reference, which defines nothing, is refused.
    let bare =
        format!("<!DOCTYPE Request SYSTEM \"http://example.com/x.dtd\"><Request xmlns=\"{NS}\"/>");
    assert_eq!(parse_request_xml(&bare).unwrap_err(), ParseError::Doctype);
    // An entity reference without a DTD names an undefined entity.
    let undefined = format!("<Request xmlns=\"{NS}\">&xxe;</Request>");
    assert!(matches!(
        parse_request_xml(&undefined).unwrap_err(),
        ParseError::Xml(_)
    ));
}

#[test]
fn deep_nesting_is_refused() {
    let depth = 100_000;
    let doc = format!(
        "<Policy xmlns=\"{NS}\">{}{}</Policy>",
        "<Apply>".repeat(depth),
        "</Apply>".repeat(depth)
    );
    let err = parse_policy(&doc).unwrap_err();
    assert_eq!(err, ParseError::TooDeep { limit: 64 });
    assert_eq!(err.to_string(), "elements are nested deeper than 64 levels");
    let request = format!(
        "<Request xmlns=\"{NS}\">{}{}</Request>",
        "<a>".repeat(depth),
        "</a>".repeat(depth)
    );
    assert_eq!(
        parse_request_xml(&request).unwrap_err(),
        ParseError::TooDeep { limit: 64 }
    );
}

#[test]
fn huge_values_are_refused() {
    let big = "x".repeat(1024 * 1024);
    let request = format!(
        "<Request xmlns=\"{NS}\"><Attributes Category=\"c\"><Attribute AttributeId=\"a\"><AttributeValue DataType=\"http://www.w3.org/2001/XMLSchema#string\">{big}</AttributeValue></Attribute></Attributes></Request>"
    );
    assert_eq!(
        parse_request_xml(&request).unwrap_err(),
        ParseError::ValueTooLong {
            element: "AttributeValue".into(),
            limit: 64 * 1024
        }
    );
    let in_attribute =
        format!("<Request xmlns=\"{NS}\"><Attributes Category=\"{big}\"/></Request>");
    assert!(matches!(
        parse_request_xml(&in_attribute).unwrap_err(),
        ParseError::ValueTooLong { .. }
    ));
    let json = format!(
        r#"{{"Request":{{"Resource":[{{"Attribute":[{{"AttributeId":"a","Value":"{big}"}}]}}]}}}}"#
    );
    assert!(matches!(
        parse_request_json(&json).unwrap_err(),
        ParseError::ValueTooLong { .. }
    ));
}

#[test]
fn huge_documents_are_refused_before_parsing() {
    let limits = Limits::default();
    let huge = format!(
        "<Request xmlns=\"{NS}\">{}</Request>",
        " ".repeat(limits.max_document_bytes)
    );
    assert!(matches!(
        parse_request_xml(&huge).unwrap_err(),
        ParseError::TooLarge { .. }
    ));
    let json = format!(
        "{{\"Request\":{{}},\"pad\":\"{}\"}}",
        "x".repeat(limits.max_document_bytes)
    );
    assert!(matches!(
        parse_request_json(&json).unwrap_err(),
        ParseError::TooLarge { .. }
    ));
}

#[test]
fn deep_and_wide_json_is_refused() {
    let deep = format!(
        "{{\"Request\":{}{}}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let err = parse_request_json(&deep).unwrap_err();
    assert!(
        matches!(err, ParseError::Json(ref m) if m.contains("recursion")),
        "{err}"
    );
    // Many attributes under the size limit are fine; the node limit bounds XML the same way.
    let many = format!(
        "<Request xmlns=\"{NS}\">{}</Request>",
        "<Attributes Category=\"c\"/>".repeat(250_000)
    );
    assert!(matches!(
        parse_request_xml(&many).unwrap_err(),
        ParseError::TooLarge { .. } | ParseError::TooManyNodes { .. }
    ));
}

#[test]
fn hostile_regular_expressions_are_bounded() {
    // A pattern that backtracking engines take exponential time on; regex is linear-time and
    // refuses patterns whose compiled form would exceed its size limit.
    let policy = format!(
        r#"<Policy xmlns="{NS}" PolicyId="p" RuleCombiningAlgId="urn:oasis:names:tc:xacml:3.0:rule-combining-algorithm:deny-overrides"><Target/>
        <Rule RuleId="r" Effect="Permit"><Condition><Apply FunctionId="urn:oasis:names:tc:xacml:1.0:function:string-regexp-match">
        <AttributeValue DataType="http://www.w3.org/2001/XMLSchema#string">^(a+)+$</AttributeValue>
        <AttributeValue DataType="http://www.w3.org/2001/XMLSchema#string">{}b</AttributeValue></Apply></Condition></Rule></Policy>"#,
        "a".repeat(10_000)
    );
    let document = parse_policy(&policy).expect("parses");
    let result = fullmakt_xacml::Pdp::new(&document).decide_individual(
        &fullmakt_xacml::Request::new(),
        fullmakt_xacml::DateTime::from_unix(0, 0),
    );
    assert_eq!(result.decision, fullmakt_xacml::Decision::NotApplicable);
    let huge_pattern = format!(
        r#"<Policy xmlns="{NS}" PolicyId="p" RuleCombiningAlgId="urn:oasis:names:tc:xacml:3.0:rule-combining-algorithm:deny-overrides"><Target/>
        <Rule RuleId="r" Effect="Permit"><Condition><Apply FunctionId="urn:oasis:names:tc:xacml:1.0:function:string-regexp-match">
        <AttributeValue DataType="http://www.w3.org/2001/XMLSchema#string">(\w{{100}}){{100}}</AttributeValue>
        <AttributeValue DataType="http://www.w3.org/2001/XMLSchema#string">x</AttributeValue></Apply></Condition></Rule></Policy>"#
    );
    let document = parse_policy(&huge_pattern).expect("parses");
    let result = fullmakt_xacml::Pdp::new(&document).decide_individual(
        &fullmakt_xacml::Request::new(),
        fullmakt_xacml::DateTime::from_unix(0, 0),
    );
    assert_eq!(result.decision, fullmakt_xacml::Decision::Indeterminate);
    assert!(result
        .status
        .message
        .unwrap_or_default()
        .contains("regular expression"));
}

#[test]
fn garbage_never_panics() {
    // A cheap deterministic fuzz: every prefix and some mutations of a real policy and request.
    let policy = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/conformance/IIIA001Policy.xml"
    ))
    .expect("policy");
    let request = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/conformance/IIA001Request.json"
    ))
    .expect("request");
    let mut seed: u64 = 0x2545F4914F6CDD1D;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for text in [&policy, &request] {
        let bytes = text.as_bytes();
        for end in (0..bytes.len()).step_by(7) {
            let prefix = String::from_utf8_lossy(&bytes[..end]);
            let _ = parse_policy(&prefix);
            let _ = parse_request_xml(&prefix);
            let _ = parse_request_json(&prefix);
        }
        for _ in 0..2_000 {
            let mut mutated = bytes.to_vec();
            for _ in 0..4 {
                let i = (next() as usize) % mutated.len();
                mutated[i] = b"<>/\"'&=:x01 #-"[(next() as usize) % 14];
            }
            let mutated = String::from_utf8_lossy(&mutated);
            if let Ok(d) = parse_policy(&mutated) {
                if let Ok(r) = parse_request_xml(&mutated) {
                    let _ = fullmakt_xacml::Pdp::new(&d)
                        .decide(&r, fullmakt_xacml::DateTime::from_unix(0, 0));
                }
            }
            let _ = parse_request_json(&mutated);
        }
    }
}

#[test]
fn xpath_work_stays_linear() {
    // 20,000 elements and a path of 100 `//*` steps: each step visits every node at most
    // once, however many context nodes it starts from.
    let content: String = "<md:a><md:b x=\"1\"/></md:a>".repeat(10_000);
    let path = "//*".repeat(100);
    let policy = format!(
        r#"<Policy xmlns="{NS}" xmlns:md="urn:md" PolicyId="p" RuleCombiningAlgId="urn:oasis:names:tc:xacml:3.0:rule-combining-algorithm:deny-overrides"><Target/>
        <Rule RuleId="r" Effect="Permit"><Condition><Apply FunctionId="urn:oasis:names:tc:xacml:1.0:function:integer-equal">
        <Apply FunctionId="urn:oasis:names:tc:xacml:3.0:function:xpath-node-count">
        <AttributeValue DataType="urn:oasis:names:tc:xacml:3.0:data-type:xpathExpression" XPathCategory="urn:oasis:names:tc:xacml:3.0:attribute-category:resource">{path}</AttributeValue></Apply>
        <AttributeValue DataType="http://www.w3.org/2001/XMLSchema#integer">0</AttributeValue></Apply></Condition></Rule></Policy>"#
    );
    let request = format!(
        r#"<Request xmlns="{NS}" xmlns:md="urn:md"><Attributes Category="urn:oasis:names:tc:xacml:3.0:attribute-category:resource"><Content>{content}</Content></Attributes></Request>"#
    );
    let document = parse_policy(&policy).expect("parses");
    let request = parse_request_xml(&request).expect("parses");
    let result = fullmakt_xacml::Pdp::new(&document)
        .decide_individual(&request, fullmakt_xacml::DateTime::from_unix(0, 0));
    // Only two levels exist, so a hundred child steps select nothing: Permit.
    assert_eq!(
        result.decision,
        fullmakt_xacml::Decision::Permit,
        "{:?}",
        result.status
    );
}
