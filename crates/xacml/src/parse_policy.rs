//! Reads XACML 3.0 policy XML into the model of [`crate::policy`].
//!
//! Syntax is checked here (required attributes, element structure, literal values, known
//! combining algorithms); types of function arguments are checked when a function is applied,
//! so a static type error surfaces as Indeterminate `processing-error` at decision time, as the
//! conformance suite expects (IIC003 and friends).

use std::collections::HashMap;
use std::sync::Arc;

use roxmltree::Node;

use crate::error::ParseError;
use crate::function::{compile_regex, Function};
use crate::policy::*;
use crate::value::{truncate, DataType, Value};
use crate::xml::{self, boolean_attribute, check_namespace, elements, name, required, Limits};

/// Parses a `<Policy>` or `<PolicySet>` document with the default [`Limits`].
pub fn parse_policy(text: &str) -> Result<PolicyDocument, ParseError> {
    parse_policy_with_limits(text, &Limits::default())
}

pub fn parse_policy_with_limits(text: &str, limits: &Limits) -> Result<PolicyDocument, ParseError> {
    let doc = xml::load(text, limits)?;
    let root = doc.root_element();
    check_namespace(root)?;
    match name(root) {
        "Policy" => Ok(PolicyDocument::Policy(Arc::new(policy(root)?))),
        "PolicySet" => Ok(PolicyDocument::PolicySet(Arc::new(policy_set(root)?))),
        other => Err(ParseError::element(
            other,
            "expected <Policy> or <PolicySet> at the root",
        )),
    }
}

fn unexpected(parent: Node<'_, '_>, child: Node<'_, '_>) -> ParseError {
    ParseError::element(
        name(parent),
        format!("unexpected child element <{}>", name(child)),
    )
}

fn description(node: Node<'_, '_>) -> Option<String> {
    Some(xml::text_content(node).trim().to_owned())
}

fn combining(
    node: Node<'_, '_>,
    attribute: &'static str,
    for_rules: bool,
) -> Result<CombiningAlgorithm, ParseError> {
    let id = required(node, attribute)?;
    CombiningAlgorithm::from_id(id, for_rules).ok_or_else(|| ParseError::InvalidAttribute {
        element: name(node).to_owned(),
        attribute,
        value: truncate(id, 200).into_owned(),
        reason: "unknown combining algorithm".into(),
    })
}

fn policy(node: Node<'_, '_>) -> Result<Policy, ParseError> {
    let id = required(node, "PolicyId")?.to_owned();
    let version = node.attribute("Version").unwrap_or("1.0").to_owned();
    let rule_combining = combining(node, "RuleCombiningAlgId", true)?;
    // Variables may be referenced before their definition in document order, so their
    // indexes are assigned first.
    let mut variable_ids: HashMap<&str, usize> = HashMap::new();
    for child in elements(node).filter(|c| name(*c) == "VariableDefinition") {
        let vid = required(child, "VariableId")?;
        let next = variable_ids.len();
        if variable_ids.insert(vid, next).is_some() {
            return Err(ParseError::element(
                "VariableDefinition",
                format!("VariableId {} is defined twice", truncate(vid, 100)),
            ));
        }
    }
    let mut p = Policy {
        id,
        version,
        description: None,
        target: Target::default(),
        rule_combining,
        variables: Vec::with_capacity(variable_ids.len()),
        rules: Vec::new(),
        obligations: Vec::new(),
        advice: Vec::new(),
    };
    let scope = Scope {
        variables: &variable_ids,
    };
    for child in elements(node) {
        check_namespace(child)?;
        match name(child) {
            "Description" => p.description = description(child),
            "PolicyIssuer" | "PolicyDefaults" | "CombinerParameters" | "RuleCombinerParameters" => {
            }
            "Target" => p.target = target(child)?,
            "VariableDefinition" => {
                let expression = single_expression(child, &scope)?;
                p.variables.push(VariableDefinition {
                    id: required(child, "VariableId")?.to_owned(),
                    expression,
                });
            }
            "Rule" => p.rules.push(rule(child, &scope)?),
            "ObligationExpressions" => {
                p.obligations = obligation_expressions(child, &scope, false)?
            }
            "AdviceExpressions" => p.advice = obligation_expressions(child, &scope, true)?,
            _ => return Err(unexpected(node, child)),
        }
    }
    check_variable_cycles(&p.variables)?;
    Ok(p)
}

/// A variable that refers to itself, directly or through others, would never finish.
fn check_variable_cycles(variables: &[VariableDefinition]) -> Result<(), ParseError> {
    fn refs(e: &Expression, out: &mut Vec<usize>) {
        match e {
            Expression::VariableReference(i) => out.push(*i),
            Expression::Apply(a) => a.arguments.iter().for_each(|x| refs(x, out)),
            _ => {}
        }
    }
    // state: 0 unvisited, 1 on the stack, 2 done
    fn visit(
        i: usize,
        variables: &[VariableDefinition],
        state: &mut [u8],
    ) -> Result<(), ParseError> {
        match state[i] {
            1 => {
                return Err(ParseError::element(
                    "VariableDefinition",
                    format!("variable {} refers to itself", variables[i].id),
                ))
            }
            2 => return Ok(()),
            _ => {}
        }
        state[i] = 1;
        let mut out = Vec::new();
        refs(&variables[i].expression, &mut out);
        for j in out {
            visit(j, variables, state)?;
        }
        state[i] = 2;
        Ok(())
    }
    let mut state = vec![0u8; variables.len()];
    for i in 0..variables.len() {
        visit(i, variables, &mut state)?;
    }
    Ok(())
}

fn policy_set(node: Node<'_, '_>) -> Result<PolicySet, ParseError> {
    let mut s = PolicySet {
        id: required(node, "PolicySetId")?.to_owned(),
        version: node.attribute("Version").unwrap_or("1.0").to_owned(),
        description: None,
        target: Target::default(),
        policy_combining: combining(node, "PolicyCombiningAlgId", false)?,
        children: Vec::new(),
        obligations: Vec::new(),
        advice: Vec::new(),
    };
    let no_variables = HashMap::new();
    let scope = Scope {
        variables: &no_variables,
    };
    for child in elements(node) {
        check_namespace(child)?;
        match name(child) {
            "Description" => s.description = description(child),
            "PolicyIssuer"
            | "PolicySetDefaults"
            | "CombinerParameters"
            | "PolicyCombinerParameters"
            | "PolicySetCombinerParameters" => {}
            "Target" => s.target = target(child)?,
            "Policy" => s
                .children
                .push(PolicySetChild::Policy(Arc::new(policy(child)?))),
            "PolicySet" => s
                .children
                .push(PolicySetChild::PolicySet(Arc::new(policy_set(child)?))),
            "PolicyIdReference" => s
                .children
                .push(PolicySetChild::PolicyIdReference(id_reference(child)?)),
            "PolicySetIdReference" => s
                .children
                .push(PolicySetChild::PolicySetIdReference(id_reference(child)?)),
            "ObligationExpressions" => {
                s.obligations = obligation_expressions(child, &scope, false)?
            }
            "AdviceExpressions" => s.advice = obligation_expressions(child, &scope, true)?,
            _ => return Err(unexpected(node, child)),
        }
    }
    Ok(s)
}

fn id_reference(node: Node<'_, '_>) -> Result<IdReference, ParseError> {
    let id = xml::text_content(node).trim().to_owned();
    if id.is_empty() {
        return Err(ParseError::element(
            name(node),
            "the referenced id is empty",
        ));
    }
    Ok(IdReference {
        id,
        version: node.attribute("Version").map(str::to_owned),
        earliest_version: node.attribute("EarliestVersion").map(str::to_owned),
        latest_version: node.attribute("LatestVersion").map(str::to_owned),
    })
}

struct Scope<'a> {
    variables: &'a HashMap<&'a str, usize>,
}

fn rule(node: Node<'_, '_>, scope: &Scope<'_>) -> Result<Rule, ParseError> {
    let id = required(node, "RuleId")?.to_owned();
    let effect = effect(node, "Effect")?;
    let mut r = Rule {
        id,
        effect,
        description: None,
        target: Target::default(),
        condition: None,
        obligations: Vec::new(),
        advice: Vec::new(),
    };
    for child in elements(node) {
        check_namespace(child)?;
        match name(child) {
            "Description" => r.description = description(child),
            "Target" => r.target = target(child)?,
            "Condition" => r.condition = Some(single_expression(child, scope)?),
            "ObligationExpressions" => r.obligations = obligation_expressions(child, scope, false)?,
            "AdviceExpressions" => r.advice = obligation_expressions(child, scope, true)?,
            _ => return Err(unexpected(node, child)),
        }
    }
    Ok(r)
}

fn effect(node: Node<'_, '_>, attribute: &'static str) -> Result<Effect, ParseError> {
    match required(node, attribute)? {
        "Permit" => Ok(Effect::Permit),
        "Deny" => Ok(Effect::Deny),
        other => Err(ParseError::InvalidAttribute {
            element: name(node).to_owned(),
            attribute,
            value: truncate(other, 100).into_owned(),
            reason: "expected Permit or Deny".into(),
        }),
    }
}

fn target(node: Node<'_, '_>) -> Result<Target, ParseError> {
    let mut t = Target::default();
    for any_of in elements(node) {
        check_namespace(any_of)?;
        if name(any_of) != "AnyOf" {
            return Err(unexpected(node, any_of));
        }
        let mut a = AnyOf { all_of: Vec::new() };
        for all_of in elements(any_of) {
            check_namespace(all_of)?;
            if name(all_of) != "AllOf" {
                return Err(unexpected(any_of, all_of));
            }
            let mut matches = Vec::new();
            for m in elements(all_of) {
                check_namespace(m)?;
                if name(m) != "Match" {
                    return Err(unexpected(all_of, m));
                }
                matches.push(match_element(m)?);
            }
            if matches.is_empty() {
                return Err(ParseError::element("AllOf", "needs at least one <Match>"));
            }
            a.all_of.push(AllOf { matches });
        }
        if a.all_of.is_empty() {
            return Err(ParseError::element("AnyOf", "needs at least one <AllOf>"));
        }
        t.any_of.push(a);
    }
    Ok(t)
}

fn match_element(node: Node<'_, '_>) -> Result<Match, ParseError> {
    let match_id = required(node, "MatchId")?.to_owned();
    let function = Function::from_id(&match_id);
    let mut value = None;
    let mut source = None;
    for child in elements(node) {
        check_namespace(child)?;
        match name(child) {
            "AttributeValue" if value.is_none() => value = Some(attribute_value(child)?),
            "AttributeDesignator" if source.is_none() => {
                source = Some(AttributeSource::Designator(designator(child)?))
            }
            "AttributeSelector" if source.is_none() => {
                source = Some(AttributeSource::Selector(selector(child)?))
            }
            _ => return Err(unexpected(node, child)),
        }
    }
    let value = value.ok_or_else(|| ParseError::element("Match", "needs an <AttributeValue>"))?;
    let source = source.ok_or_else(|| {
        ParseError::element(
            "Match",
            "needs an <AttributeDesignator> or <AttributeSelector>",
        )
    })?;
    let regex = literal_regex(&function, &value);
    Ok(Match {
        match_id,
        function,
        value,
        source,
        regex,
    })
}

fn literal_regex(function: &Function, value: &Value) -> Option<Arc<regex::Regex>> {
    match (function, value) {
        (Function::RegexpMatch(_), Value::String(pattern)) => {
            compile_regex(pattern).ok().map(Arc::new)
        }
        _ => None,
    }
}

fn attribute_value(node: Node<'_, '_>) -> Result<Value, ParseError> {
    let data_type = DataType::from_uri(required(node, "DataType")?);
    if elements(node).next().is_some() {
        return Err(ParseError::element(
            "AttributeValue",
            "structured content is not supported; expected text",
        ));
    }
    let text = xml::text_content(node);
    if data_type == DataType::XPathExpression {
        return crate::value::xpath_value(node, &text)
            .map_err(|e| ParseError::element("AttributeValue", e));
    }
    Value::parse(&data_type, &text)
        .map_err(|e| ParseError::element("AttributeValue", e.to_string()))
}

fn must_be_present(node: Node<'_, '_>) -> Result<bool, ParseError> {
    // XACML 3.0 makes MustBePresent required; 2.0-style documents omit it, so accept that.
    boolean_attribute(node, "MustBePresent", false)
}

fn designator(node: Node<'_, '_>) -> Result<AttributeDesignator, ParseError> {
    Ok(AttributeDesignator {
        category: required(node, "Category")?.to_owned(),
        attribute_id: required(node, "AttributeId")?.to_owned(),
        data_type: DataType::from_uri(required(node, "DataType")?),
        issuer: node.attribute("Issuer").map(str::to_owned),
        must_be_present: must_be_present(node)?,
    })
}

fn selector(node: Node<'_, '_>) -> Result<AttributeSelector, ParseError> {
    Ok(AttributeSelector {
        category: required(node, "Category")?.to_owned(),
        path: required(node, "Path")?.to_owned(),
        context_selector_id: node.attribute("ContextSelectorId").map(str::to_owned),
        data_type: DataType::from_uri(required(node, "DataType")?),
        must_be_present: must_be_present(node)?,
        namespaces: crate::xpath::namespaces_of(node),
    })
}

fn single_expression(node: Node<'_, '_>, scope: &Scope<'_>) -> Result<Expression, ParseError> {
    let mut children = elements(node).filter(|c| name(*c) != "Description");
    let first = children
        .next()
        .ok_or_else(|| ParseError::element(name(node), "needs an expression"))?;
    if let Some(extra) = children.next() {
        return Err(unexpected(node, extra));
    }
    expression(first, scope)
}

fn expression(node: Node<'_, '_>, scope: &Scope<'_>) -> Result<Expression, ParseError> {
    check_namespace(node)?;
    Ok(match name(node) {
        "AttributeValue" => Expression::Value(attribute_value(node)?),
        "AttributeDesignator" => {
            Expression::Attribute(AttributeSource::Designator(designator(node)?))
        }
        "AttributeSelector" => Expression::Attribute(AttributeSource::Selector(selector(node)?)),
        "Function" => Expression::Function(Function::from_id(required(node, "FunctionId")?)),
        "VariableReference" => {
            let id = required(node, "VariableId")?;
            let index =
                scope
                    .variables
                    .get(id)
                    .copied()
                    .ok_or_else(|| ParseError::InvalidAttribute {
                        element: "VariableReference".into(),
                        attribute: "VariableId",
                        value: truncate(id, 100).into_owned(),
                        reason: "no VariableDefinition with this id in the policy".into(),
                    })?;
            Expression::VariableReference(index)
        }
        "Apply" => {
            let function_id = required(node, "FunctionId")?.to_owned();
            let function = Function::from_id(&function_id);
            let mut arguments = Vec::new();
            for child in elements(node) {
                if name(child) == "Description" {
                    continue;
                }
                arguments.push(expression(child, scope)?);
            }
            let regex = match arguments.first() {
                Some(Expression::Value(v)) => literal_regex(&function, v),
                _ => None,
            };
            Expression::Apply(Box::new(Apply {
                function_id,
                function,
                arguments,
                regex,
            }))
        }
        other => return Err(ParseError::element(other, "is not an expression")),
    })
}

fn obligation_expressions(
    node: Node<'_, '_>,
    scope: &Scope<'_>,
    advice: bool,
) -> Result<Vec<ObligationExpression>, ParseError> {
    let (element, id_attribute, effect_attribute) = if advice {
        ("AdviceExpression", "AdviceId", "AppliesTo")
    } else {
        ("ObligationExpression", "ObligationId", "FulfillOn")
    };
    let mut out = Vec::new();
    for child in elements(node) {
        check_namespace(child)?;
        if name(child) != element {
            return Err(unexpected(node, child));
        }
        let mut assignments = Vec::new();
        for a in elements(child) {
            check_namespace(a)?;
            if name(a) != "AttributeAssignmentExpression" {
                return Err(unexpected(child, a));
            }
            assignments.push(AttributeAssignmentExpression {
                attribute_id: required(a, "AttributeId")?.to_owned(),
                category: a.attribute("Category").map(str::to_owned),
                issuer: a.attribute("Issuer").map(str::to_owned),
                expression: single_expression(a, scope)?,
            });
        }
        out.push(ObligationExpression {
            id: required(child, id_attribute)?.to_owned(),
            applies_to: effect(child, effect_attribute)?,
            assignments,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NS: &str = "urn:oasis:names:tc:xacml:3.0:core:schema:wd-17";

    #[test]
    fn errors_name_the_element_and_attribute() {
        let missing = format!(r#"<Policy xmlns="{NS}" PolicyId="p"><Target/></Policy>"#);
        assert_eq!(
            parse_policy(&missing).unwrap_err(),
            ParseError::MissingAttribute {
                element: "Policy".into(),
                attribute: "RuleCombiningAlgId"
            }
        );
        let bad_alg = format!(
            r#"<Policy xmlns="{NS}" PolicyId="p" RuleCombiningAlgId="x"><Target/></Policy>"#
        );
        assert!(matches!(
            parse_policy(&bad_alg).unwrap_err(),
            ParseError::InvalidAttribute {
                attribute: "RuleCombiningAlgId",
                ..
            }
        ));
        let bad_value = format!(
            r#"<Policy xmlns="{NS}" PolicyId="p" RuleCombiningAlgId="urn:oasis:names:tc:xacml:3.0:rule-combining-algorithm:deny-overrides">
            <Target/><Rule RuleId="r" Effect="Permit"><Condition><AttributeValue DataType="http://www.w3.org/2001/XMLSchema#integer">x</AttributeValue></Condition></Rule></Policy>"#
        );
        let err = parse_policy(&bad_value).unwrap_err().to_string();
        assert!(
            err.contains("AttributeValue") && err.contains("integer"),
            "{err}"
        );
        let wrong_ns =
            r#"<Policy xmlns="urn:oasis:names:tc:xacml:2.0:policy:schema:os" PolicyId="p"/>"#;
        assert!(parse_policy(wrong_ns)
            .unwrap_err()
            .to_string()
            .contains("namespace"));
    }

    #[test]
    fn variable_cycles_are_refused() {
        let p = format!(
            r#"<Policy xmlns="{NS}" PolicyId="p" RuleCombiningAlgId="urn:oasis:names:tc:xacml:3.0:rule-combining-algorithm:deny-overrides">
            <Target/><VariableDefinition VariableId="a"><VariableReference VariableId="a"/></VariableDefinition></Policy>"#
        );
        assert!(parse_policy(&p)
            .unwrap_err()
            .to_string()
            .contains("refers to itself"));
    }
}
