//! `fullmakt xacml evaluate` run as the built binary on conformance cases.

use std::path::PathBuf;
use std::process::Command;

fn corpus(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../xacml/tests/conformance")
        .join(file)
}

fn evaluate(policy: &str, request: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_fullmakt"))
        .args(["xacml", "evaluate", "--policy"])
        .arg(corpus(policy))
        .arg("--request")
        .arg(corpus(request))
        .args(["--now", "2026-01-15T12:00:00Z"])
        .output()
        .expect("the binary runs");
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

#[test]
fn xml_request_gets_an_xml_response() {
    let xml = evaluate("IIIA001Policy.xml", "IIIA001Request.xml");
    assert!(xml.starts_with("<?xml"), "{xml}");
    assert!(xml.contains("<Decision>Permit</Decision>"), "{xml}");
    assert!(xml.contains("urn:oasis:names:tc:xacml:1.0:status:ok"));
    assert!(
        xml.contains(
            "ObligationId=\"urn:oasis:names:tc:xacml:2.0:conformance-test:IIIA001:obligation-1\""
        ),
        "{xml}"
    );
}

#[test]
fn json_request_gets_an_altinn_json_response() {
    let json = evaluate("IIA001Policy.xml", "IIA001Request.json");
    let body: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(body["response"][0]["decision"], "Permit");
    assert_eq!(
        body["response"][0]["status"]["statusCode"]["value"],
        "urn:oasis:names:tc:xacml:1.0:status:ok"
    );
    assert!(body["response"][0]["associateAdvice"].is_null());
}

#[test]
fn unreadable_policy_is_indeterminate_syntax_error() {
    let xml = evaluate("IIA004Policy.xml", "IIA004Request.xml");
    assert!(xml.contains("<Decision>Indeterminate</Decision>"), "{xml}");
    assert!(
        xml.contains("syntax-error") && xml.contains("AttributeId"),
        "{xml}"
    );
}
