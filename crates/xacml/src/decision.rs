//! What evaluation produces: decisions, status codes, obligations and advice, and the result
//! of one individual decision (XACML 3.0 §5.47–§5.57).

use std::fmt;

use crate::request::Category;
use crate::value::{DataType, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Decision {
    Permit,
    Deny,
    NotApplicable,
    Indeterminate,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Permit => "Permit",
            Decision::Deny => "Deny",
            Decision::NotApplicable => "NotApplicable",
            Decision::Indeterminate => "Indeterminate",
        }
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The standard status codes (XACML 3.0 §B.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusCode {
    Ok,
    MissingAttribute,
    SyntaxError,
    ProcessingError,
}

impl StatusCode {
    pub fn uri(self) -> &'static str {
        match self {
            StatusCode::Ok => "urn:oasis:names:tc:xacml:1.0:status:ok",
            StatusCode::MissingAttribute => "urn:oasis:names:tc:xacml:1.0:status:missing-attribute",
            StatusCode::SyntaxError => "urn:oasis:names:tc:xacml:1.0:status:syntax-error",
            StatusCode::ProcessingError => "urn:oasis:names:tc:xacml:1.0:status:processing-error",
        }
    }

    pub fn from_uri(uri: &str) -> Option<StatusCode> {
        [
            StatusCode::Ok,
            StatusCode::MissingAttribute,
            StatusCode::SyntaxError,
            StatusCode::ProcessingError,
        ]
        .into_iter()
        .find(|c| c.uri() == uri)
    }
}

/// A decision's status: its code and, for errors, a message for the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub code: StatusCode,
    pub message: Option<String>,
}

impl Status {
    pub fn ok() -> Status {
        Status {
            code: StatusCode::Ok,
            message: None,
        }
    }
}

/// Why an expression, target or policy evaluated to Indeterminate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalError {
    pub code: StatusCode,
    pub message: String,
}

impl EvalError {
    pub fn new(code: StatusCode, message: impl Into<String>) -> Self {
        EvalError {
            code,
            message: message.into(),
        }
    }

    pub fn status(&self) -> Status {
        Status {
            code: self.code,
            message: Some(self.message.clone()),
        }
    }
}

/// One AttributeAssignment of an obligation or advice, its value already evaluated.
#[derive(Debug, Clone)]
pub struct AttributeAssignment {
    pub attribute_id: String,
    pub category: Option<String>,
    pub issuer: Option<String>,
    pub value: Value,
}

impl AttributeAssignment {
    pub fn data_type(&self) -> DataType {
        self.value.data_type()
    }
}

/// An obligation or advice as returned in a result.
#[derive(Debug, Clone)]
pub struct Obligation {
    pub id: String,
    pub assignments: Vec<AttributeAssignment>,
}

/// The policy and rule whose effect became the decision, for explaining a decision. Shared
/// text, so a precompiled policy can name its rule without copying it per decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleRef {
    pub policy_id: std::sync::Arc<str>,
    pub rule_id: std::sync::Arc<str>,
}

/// A policy or policy set that contributed to a decision (for `PolicyIdentifierList`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyIdentifier {
    pub is_policy_set: bool,
    pub id: String,
    pub version: String,
}

/// The result of one individual decision request.
#[derive(Debug, Clone)]
pub struct DecisionResult {
    pub decision: Decision,
    pub status: Status,
    pub obligations: Vec<Obligation>,
    pub advice: Vec<Obligation>,
    /// The request attributes marked IncludeInResult, grouped by category.
    pub attributes: Vec<Category>,
    /// Present when the request asked for `ReturnPolicyIdList`.
    pub policy_identifiers: Option<Vec<PolicyIdentifier>>,
    /// The first rule (in evaluation order) whose effect is the decision, when the decision
    /// is Permit or Deny and came from a rule.
    pub deciding_rule: Option<RuleRef>,
}

impl DecisionResult {
    /// An Indeterminate result for a request that could not be read or evaluated at all.
    pub fn indeterminate(code: StatusCode, message: impl Into<String>) -> Self {
        DecisionResult {
            decision: Decision::Indeterminate,
            status: Status {
                code,
                message: Some(message.into()),
            },
            obligations: Vec::new(),
            advice: Vec::new(),
            attributes: Vec::new(),
            policy_identifiers: None,
            deciding_rule: None,
        }
    }
}

/// A response: one result per individual decision.
#[derive(Debug, Clone)]
pub struct Response {
    pub results: Vec<DecisionResult>,
}
