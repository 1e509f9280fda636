//! fullmakt's XACML 3.0 engine: the policy model, XML policy and request parsing, the JSON
//! profile Altinn accepts, evaluation with the standard combining algorithms and functions,
//! XML and Altinn-JSON responses, and the policy introspection the resource registry needs.
//!
//! Pure: no I/O, no async, no clock. Evaluation takes "now" as an argument. Parsed policies
//! are immutable and shared (`Arc`), so a service parses once and evaluates many times.
//!
//! ```
//! use fullmakt_xacml::{parse_policy, parse_request_xml, Pdp, DateTime, Decision};
//! let policy = parse_policy(r#"<Policy xmlns="urn:oasis:names:tc:xacml:3.0:core:schema:wd-17"
//!     PolicyId="p" RuleCombiningAlgId="urn:oasis:names:tc:xacml:3.0:rule-combining-algorithm:deny-overrides">
//!     <Target/><Rule RuleId="r" Effect="Permit"/></Policy>"#).unwrap();
//! let request = parse_request_xml(r#"<Request xmlns="urn:oasis:names:tc:xacml:3.0:core:schema:wd-17"
//!     ReturnPolicyIdList="false" CombinedDecision="false"/>"#).unwrap();
//! let response = Pdp::new(&policy).decide(&request, DateTime::from_unix(0, 0));
//! assert_eq!(response.results[0].decision, Decision::Permit);
//! ```

pub mod altinn;
mod decision;
mod error;
mod eval;
mod function;
mod json_tree;
pub mod introspect;
mod parse_policy;
pub mod policy;
mod request;
mod response;
mod temporal;
mod value;
mod xml;
mod xpath;

pub use decision::{
    AttributeAssignment, Decision, DecisionResult, EvalError, Obligation, PolicyIdentifier,
    Response, RuleRef, Status, StatusCode,
};
pub use error::ParseError;
pub use eval::{included_attributes, NoRepository, Pdp, PolicyRepository, PolicyStore};
pub use function::Function;
pub use parse_policy::{parse_policy, parse_policy_with_limits};
pub use policy::{Policy, PolicyDocument, PolicySet};
pub use request::{
    parse_request_json, parse_request_json_with_limits, parse_request_xml,
    parse_request_xml_with_limits, Attribute, Category, Request, RequestError, RequestFormat,
    RequestReference,
};
pub use response::{
    response_to_altinn_json, response_to_xml, result_to_altinn, AltinnResponse, AltinnResult,
};
pub use temporal::{Date, DateTime, DayTimeDuration, TemporalError, Time, YearMonthDuration};
pub use value::{DataType, Value, ValueError};
pub use xml::Limits;
pub use xpath::XmlContent;
