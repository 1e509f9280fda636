//! Writes responses: XACML 3.0 XML, and the Altinn JSON shape of pdp.md §1.3 (camelCase keys,
//! nulls written out, the `associateAdvice` spelling, obligations only on Permit).

use serde::Serialize;

use crate::decision::{Decision, DecisionResult, Obligation, Response};
use crate::request::Category;
use crate::xml::{escape, XACML3_NS};

/// The XACML 3.0 XML form of a response.
pub fn response_to_xml(response: &Response) -> String {
    let mut out = String::with_capacity(512);
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response xmlns=\"");
    out.push_str(XACML3_NS);
    out.push_str("\">");
    for result in &response.results {
        write_result(result, &mut out);
    }
    out.push_str("</Response>\n");
    out
}

fn attr(out: &mut String, name: &str, value: &str) {
    out.push(' ');
    out.push_str(name);
    out.push_str("=\"");
    escape(value, out);
    out.push('"');
}

fn write_result(result: &DecisionResult, out: &mut String) {
    out.push_str("<Result><Decision>");
    out.push_str(result.decision.as_str());
    out.push_str("</Decision><Status><StatusCode");
    attr(out, "Value", result.status.code.uri());
    out.push_str("/>");
    if let Some(message) = &result.status.message {
        out.push_str("<StatusMessage>");
        escape(message, out);
        out.push_str("</StatusMessage>");
    }
    out.push_str("</Status>");
    write_obligations(
        out,
        "Obligations",
        "Obligation",
        "ObligationId",
        &result.obligations,
    );
    write_obligations(
        out,
        "AssociatedAdvice",
        "Advice",
        "AdviceId",
        &result.advice,
    );
    for category in &result.attributes {
        write_category(out, category);
    }
    if let Some(ids) = &result.policy_identifiers {
        out.push_str("<PolicyIdentifierList>");
        for id in ids {
            let element = if id.is_policy_set {
                "PolicySetIdReference"
            } else {
                "PolicyIdReference"
            };
            out.push('<');
            out.push_str(element);
            attr(out, "Version", &id.version);
            out.push('>');
            escape(&id.id, out);
            out.push_str("</");
            out.push_str(element);
            out.push('>');
        }
        out.push_str("</PolicyIdentifierList>");
    }
    out.push_str("</Result>");
}

fn write_obligations(
    out: &mut String,
    list: &str,
    element: &str,
    id_attribute: &str,
    obligations: &[Obligation],
) {
    if obligations.is_empty() {
        return;
    }
    out.push('<');
    out.push_str(list);
    out.push('>');
    for o in obligations {
        out.push('<');
        out.push_str(element);
        attr(out, id_attribute, &o.id);
        out.push('>');
        for a in &o.assignments {
            out.push_str("<AttributeAssignment");
            attr(out, "AttributeId", &a.attribute_id);
            attr(out, "DataType", a.value.data_type().uri());
            if let Some(c) = &a.category {
                attr(out, "Category", c);
            }
            if let Some(i) = &a.issuer {
                attr(out, "Issuer", i);
            }
            out.push('>');
            escape(&a.value.lexical(), out);
            out.push_str("</AttributeAssignment>");
        }
        out.push_str("</");
        out.push_str(element);
        out.push('>');
    }
    out.push_str("</");
    out.push_str(list);
    out.push('>');
}

fn write_category(out: &mut String, category: &Category) {
    out.push_str("<Attributes");
    attr(out, "Category", &category.category);
    out.push('>');
    for a in &category.attributes {
        out.push_str("<Attribute");
        attr(out, "AttributeId", &a.attribute_id);
        if let Some(i) = &a.issuer {
            attr(out, "Issuer", i);
        }
        attr(out, "IncludeInResult", "true");
        out.push('>');
        for v in &a.values {
            out.push_str("<AttributeValue");
            attr(out, "DataType", v.data_type().uri());
            if let crate::value::Value::XPathExpression { category, .. } = v {
                attr(out, "XPathCategory", category);
            }
            out.push('>');
            escape(&v.lexical(), out);
            out.push_str("</AttributeValue>");
        }
        out.push_str("</Attribute>");
    }
    out.push_str("</Attributes>");
}

// Altinn's JSON shape as structs, so keys come out in the reference's order whatever
// features serde_json is built with.

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AltinnResponse {
    pub response: Vec<AltinnResult>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AltinnResult {
    pub decision: &'static str,
    pub status: AltinnStatus,
    pub obligations: Option<Vec<AltinnObligation>>,
    /// Always null; the spelling is Altinn's.
    pub associate_advice: Option<Vec<AltinnObligation>>,
    pub category: Option<Vec<AltinnCategory>>,
    pub policy_identifier_list: Option<()>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AltinnStatus {
    pub status_message: Option<String>,
    pub status_details: Option<()>,
    pub status_code: AltinnStatusCode,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AltinnStatusCode {
    pub value: &'static str,
    pub status_code: Option<()>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AltinnObligation {
    pub id: String,
    pub attribute_assignment: Vec<AltinnAssignment>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AltinnAssignment {
    pub attribute_id: String,
    pub value: String,
    pub category: Option<String>,
    pub data_type: String,
    pub issuer: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AltinnCategory {
    pub category_id: String,
    pub id: Option<String>,
    pub content: Option<String>,
    pub attribute: Vec<AltinnAttribute>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AltinnAttribute {
    pub attribute_id: String,
    pub value: String,
    pub issuer: Option<String>,
    pub data_type: String,
    pub include_in_result: bool,
}

/// One result in Altinn's JSON shape. `echo` says whether the IncludeInResult attributes are
/// written; Altinn writes them only when the decision is not Indeterminate and some rule
/// matched the request's resource and action (see [`crate::altinn::echoes_attributes`]).
pub fn result_to_altinn(result: &DecisionResult, echo: bool) -> AltinnResult {
    let obligations =
        (result.decision == Decision::Permit && !result.obligations.is_empty()).then(|| {
            result
                .obligations
                .iter()
                .map(|o| AltinnObligation {
                    id: o.id.clone(),
                    attribute_assignment: o
                        .assignments
                        .iter()
                        .map(|a| AltinnAssignment {
                            attribute_id: a.attribute_id.clone(),
                            value: a.value.lexical().into_owned(),
                            category: a.category.clone(),
                            data_type: a.value.data_type().uri().to_owned(),
                            issuer: a.issuer.clone(),
                        })
                        .collect(),
                })
                .collect()
        });
    let category = (echo
        && result.decision != Decision::Indeterminate
        && !result.attributes.is_empty())
    .then(|| {
        result
            .attributes
            .iter()
            .map(|c| AltinnCategory {
                category_id: c.category.clone(),
                // Altinn writes id:null and includeInResult:false in the echo.
                id: None,
                content: c.content.clone(),
                attribute: c
                    .attributes
                    .iter()
                    .flat_map(|a| {
                        a.values.iter().map(move |v| AltinnAttribute {
                            attribute_id: a.attribute_id.clone(),
                            value: v.lexical().into_owned(),
                            issuer: a.issuer.clone(),
                            data_type: v.data_type().uri().to_owned(),
                            include_in_result: false,
                        })
                    })
                    .collect(),
            })
            .collect()
    });
    AltinnResult {
        decision: result.decision.as_str(),
        status: AltinnStatus {
            status_message: result.status.message.clone(),
            status_details: None,
            status_code: AltinnStatusCode {
                value: result.status.code.uri(),
                status_code: None,
            },
        },
        obligations,
        associate_advice: None,
        category,
        policy_identifier_list: None,
    }
}

/// A whole Altinn JSON response, `{"response":[…]}`; `echo[i]` applies to result `i`.
pub fn response_to_altinn_json(response: &Response, echo: &[bool]) -> String {
    let body = AltinnResponse {
        response: response
            .results
            .iter()
            .enumerate()
            .map(|(i, r)| result_to_altinn(r, echo.get(i).copied().unwrap_or(false)))
            .collect(),
    };
    // Serialising plain structs of strings cannot fail.
    serde_json::to_string(&body).unwrap_or_default()
}
