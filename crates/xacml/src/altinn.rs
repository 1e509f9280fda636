//! Altinn's observable behaviour around evaluation that the service reproduces (pdp.md §4.2):
//! when the echo of IncludeInResult attributes is written.
//!
//! The reference engine matches per category: within one category every AllOf of every AnyOf
//! is ORed, and a category no Match mentions matches anything. fullmakt evaluates with
//! standard target semantics; the only thing it takes from the per-category reading is the
//! "some rule matched resource and action" test that decides the echo.

use crate::decision::Decision;
use crate::policy::{AttributeSource, Policy, Rule, ACTION_CATEGORY, RESOURCE_CATEGORY};
use crate::request::Request;
use crate::value::Value;

/// Whether Altinn writes the echoed attributes for this decision: the decision is not
/// Indeterminate and some rule's resource and action matches hold (pdp.md §1.3, §4.2 step 5).
/// So a NotApplicable can echo too, when only the subject did not match.
pub fn echoes_attributes(policy: &Policy, request: &Request, decision: Decision) -> bool {
    decision != Decision::Indeterminate
        && policy.rules.iter().any(|rule| {
            category_matches(rule, request, RESOURCE_CATEGORY)
                && category_matches(rule, request, ACTION_CATEGORY)
        })
}

/// The reference engine's `MatchAttributes(category)` for one rule, where an absent
/// MustBePresent attribute counts as no match (the reference then answers Indeterminate for
/// the whole request, which echoes nothing either way).
pub fn category_matches(rule: &Rule, request: &Request, category: &str) -> bool {
    let mut candidates = rule
        .target
        .any_of
        .iter()
        .flat_map(|a| a.all_of.iter())
        .filter(|all_of| {
            all_of.matches.iter().any(
                |m| matches!(&m.source, AttributeSource::Designator(d) if d.category == category),
            )
        })
        .peekable();
    if candidates.peek().is_none() {
        return true;
    }
    candidates.any(|all_of| {
        all_of.matches.iter().all(|m| {
            let AttributeSource::Designator(d) = &m.source else {
                return true;
            };
            if d.category != category {
                return true;
            }
            request
                .values(category, &d.attribute_id)
                .any(|v| v.is_of(&d.data_type) && literal_matches(&m.function, &m.value, v))
        })
    })
}

fn literal_matches(function: &crate::function::Function, literal: &Value, v: &Value) -> bool {
    use crate::function::Function as F;
    match (function, literal, v) {
        (F::StringEqualIgnoreCase, Value::String(a), Value::String(b)) => {
            crate::value::equal_ignore_case(a, b)
        }
        (F::Equal(_), a, b) => a.equals(b),
        (F::IsIn(_), a, b) => a.equals(b),
        _ => false,
    }
}
