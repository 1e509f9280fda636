//! Errors from reading policies and requests. Each names the element and attribute at fault so
//! a policy author or API caller can fix the input; none of them is ever a panic.

/// A policy or request that could not be read. In a decision this becomes Indeterminate with
/// status `syntax-error` (XACML 3.0 §B.8).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("the document is {size} bytes, more than the limit of {limit}")]
    TooLarge { size: usize, limit: usize },
    #[error("DOCTYPE declarations are refused: DTDs and entities are not allowed")]
    Doctype,
    #[error("elements are nested deeper than {limit} levels")]
    TooDeep { limit: usize },
    #[error("the document has more than {limit} XML nodes")]
    TooManyNodes { limit: usize },
    #[error("<{element}> has a value longer than {limit} bytes")]
    ValueTooLong { element: String, limit: usize },
    #[error("not well-formed XML: {0}")]
    Xml(String),
    #[error("not valid JSON: {0}")]
    Json(String),
    #[error("<{element}> is missing the required attribute {attribute}")]
    MissingAttribute {
        element: String,
        attribute: &'static str,
    },
    #[error("<{element}> attribute {attribute}=\"{value}\": {reason}")]
    InvalidAttribute {
        element: String,
        attribute: &'static str,
        value: String,
        reason: String,
    },
    #[error("<{element}>: {reason}")]
    InvalidElement { element: String, reason: String },
    #[error("{0}")]
    Invalid(String),
}

impl ParseError {
    pub(crate) fn element(element: &str, reason: impl Into<String>) -> Self {
        ParseError::InvalidElement {
            element: element.to_owned(),
            reason: reason.into(),
        }
    }
}
