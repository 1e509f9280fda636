//! The policy model (XACML 3.0 §5): policy sets, policies, rules, targets, expressions,
//! obligation and advice expressions, and combining algorithms. Built by [`crate::parse_policy`];
//! immutable afterwards, so one parsed policy serves any number of evaluations.

use std::sync::Arc;

use crate::function::Function;
use crate::value::{DataType, Value};

pub const SUBJECT_CATEGORY: &str = "urn:oasis:names:tc:xacml:1.0:subject-category:access-subject";
pub const RESOURCE_CATEGORY: &str = "urn:oasis:names:tc:xacml:3.0:attribute-category:resource";
pub const ACTION_CATEGORY: &str = "urn:oasis:names:tc:xacml:3.0:attribute-category:action";
pub const ENVIRONMENT_CATEGORY: &str =
    "urn:oasis:names:tc:xacml:3.0:attribute-category:environment";

/// A parsed policy document: a Policy or a PolicySet at the root.
#[derive(Debug, Clone)]
pub enum PolicyDocument {
    Policy(Arc<Policy>),
    PolicySet(Arc<PolicySet>),
}

impl PolicyDocument {
    pub fn id(&self) -> &str {
        match self {
            PolicyDocument::Policy(p) => &p.id,
            PolicyDocument::PolicySet(s) => &s.id,
        }
    }

    pub fn version(&self) -> &str {
        match self {
            PolicyDocument::Policy(p) => &p.version,
            PolicyDocument::PolicySet(s) => &s.version,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Policy {
    pub id: String,
    pub version: String,
    pub description: Option<String>,
    pub target: Target,
    pub rule_combining: CombiningAlgorithm,
    pub variables: Vec<VariableDefinition>,
    pub rules: Vec<Rule>,
    pub obligations: Vec<ObligationExpression>,
    pub advice: Vec<ObligationExpression>,
}

#[derive(Debug, Clone)]
pub struct PolicySet {
    pub id: String,
    pub version: String,
    pub description: Option<String>,
    pub target: Target,
    pub policy_combining: CombiningAlgorithm,
    pub children: Vec<PolicySetChild>,
    pub obligations: Vec<ObligationExpression>,
    pub advice: Vec<ObligationExpression>,
}

#[derive(Debug, Clone)]
pub enum PolicySetChild {
    Policy(Arc<Policy>),
    PolicySet(Arc<PolicySet>),
    PolicyIdReference(IdReference),
    PolicySetIdReference(IdReference),
}

/// A reference by id to a policy or policy set held by a [`crate::PolicyRepository`].
#[derive(Debug, Clone)]
pub struct IdReference {
    pub id: String,
    pub version: Option<String>,
    pub earliest_version: Option<String>,
    pub latest_version: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Permit,
    Deny,
}

#[derive(Debug, Clone)]
pub struct Rule {
    pub id: String,
    pub effect: Effect,
    pub description: Option<String>,
    pub target: Target,
    pub condition: Option<Expression>,
    pub obligations: Vec<ObligationExpression>,
    pub advice: Vec<ObligationExpression>,
}

/// A target: AND across AnyOf, OR across AllOf inside each, AND across Matches inside each
/// AllOf (XACML 3.0 §7.7). An empty target matches everything.
#[derive(Debug, Clone, Default)]
pub struct Target {
    pub any_of: Vec<AnyOf>,
}

#[derive(Debug, Clone)]
pub struct AnyOf {
    pub all_of: Vec<AllOf>,
}

#[derive(Debug, Clone)]
pub struct AllOf {
    pub matches: Vec<Match>,
}

/// `MatchId(literal, each value of the designator's bag)`.
#[derive(Debug, Clone)]
pub struct Match {
    pub match_id: String,
    pub function: Function,
    pub value: Value,
    pub source: AttributeSource,
    /// The literal compiled once when MatchId is a regexp-match function.
    pub(crate) regex: Option<Arc<regex::Regex>>,
}

/// Where a Match or an expression reads attribute values from.
#[derive(Debug, Clone)]
pub enum AttributeSource {
    Designator(AttributeDesignator),
    Selector(AttributeSelector),
}

#[derive(Debug, Clone)]
pub struct AttributeDesignator {
    pub category: String,
    pub attribute_id: String,
    pub data_type: DataType,
    pub issuer: Option<String>,
    pub must_be_present: bool,
}

/// An XPath selector over the request's `<Content>` of `category` (see
/// [`crate::XmlContent`] for the XPath subset).
#[derive(Debug, Clone)]
pub struct AttributeSelector {
    pub category: String,
    pub path: String,
    pub context_selector_id: Option<String>,
    pub data_type: DataType,
    pub must_be_present: bool,
    /// Namespace bindings in scope at the selector, for the prefixes in `path`.
    pub namespaces: crate::xpath::Namespaces,
}

#[derive(Debug, Clone)]
pub enum Expression {
    Value(Value),
    Attribute(AttributeSource),
    Apply(Box<Apply>),
    Function(Function),
    /// Index into the enclosing policy's `variables`.
    VariableReference(usize),
}

#[derive(Debug, Clone)]
pub struct Apply {
    pub function_id: String,
    pub function: Function,
    pub arguments: Vec<Expression>,
    /// The pattern of a regexp-match function given as a literal, compiled once.
    pub(crate) regex: Option<Arc<regex::Regex>>,
}

#[derive(Debug, Clone)]
pub struct VariableDefinition {
    pub id: String,
    pub expression: Expression,
}

/// An ObligationExpression or AdviceExpression.
#[derive(Debug, Clone)]
pub struct ObligationExpression {
    pub id: String,
    /// The effect the obligation applies to (FulfillOn / AppliesTo).
    pub applies_to: Effect,
    pub assignments: Vec<AttributeAssignmentExpression>,
}

#[derive(Debug, Clone)]
pub struct AttributeAssignmentExpression {
    pub attribute_id: String,
    pub category: Option<String>,
    pub issuer: Option<String>,
    pub expression: Expression,
}

/// Rule and policy combining algorithms (XACML 3.0 Appendix C). The legacy 1.0/1.1 ids map to
/// the same behaviour as their 3.0 counterparts except where the standard defines the legacy
/// algorithm differently (they do not distinguish extended Indeterminates).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CombiningAlgorithm {
    DenyOverrides,
    PermitOverrides,
    OrderedDenyOverrides,
    OrderedPermitOverrides,
    LegacyDenyOverrides,
    LegacyPermitOverrides,
    LegacyOrderedDenyOverrides,
    LegacyOrderedPermitOverrides,
    DenyUnlessPermit,
    PermitUnlessDeny,
    FirstApplicable,
    OnlyOneApplicable,
}

impl CombiningAlgorithm {
    /// Resolves a RuleCombiningAlgId (`for_rules`) or PolicyCombiningAlgId.
    ///
    /// A RuleCombiningAlgId may also name a policy-combining algorithm: Altinn writes its
    /// delegation policies that way (pdp.md §3, §4.1), and the algorithms behave alike.
    pub fn from_id(id: &str, for_rules: bool) -> Option<CombiningAlgorithm> {
        use CombiningAlgorithm as C;
        let (version, name) = id
            .strip_prefix("urn:oasis:names:tc:xacml:")?
            .split_once(':')?;
        let name = match name.strip_prefix("policy-combining-algorithm:") {
            Some(policy_name) => policy_name,
            None if for_rules => name.strip_prefix("rule-combining-algorithm:")?,
            None => return None,
        };
        Some(match (version, name) {
            ("3.0", "deny-overrides") => C::DenyOverrides,
            ("3.0", "permit-overrides") => C::PermitOverrides,
            ("3.0", "ordered-deny-overrides") => C::OrderedDenyOverrides,
            ("3.0", "ordered-permit-overrides") => C::OrderedPermitOverrides,
            ("3.0", "deny-unless-permit") => C::DenyUnlessPermit,
            ("3.0", "permit-unless-deny") => C::PermitUnlessDeny,
            ("1.0", "deny-overrides") => C::LegacyDenyOverrides,
            ("1.0", "permit-overrides") => C::LegacyPermitOverrides,
            ("1.1", "ordered-deny-overrides") => C::LegacyOrderedDenyOverrides,
            ("1.1", "ordered-permit-overrides") => C::LegacyOrderedPermitOverrides,
            ("1.0", "first-applicable") => C::FirstApplicable,
            ("1.0", "only-one-applicable") if !for_rules => C::OnlyOneApplicable,
            _ => return None,
        })
    }
}

impl Target {
    pub fn is_empty(&self) -> bool {
        self.any_of.is_empty()
    }

    pub(crate) fn designators(&self) -> impl Iterator<Item = &AttributeDesignator> {
        self.any_of
            .iter()
            .flat_map(|a| a.all_of.iter())
            .flat_map(|a| a.matches.iter())
            .filter_map(|m| match &m.source {
                AttributeSource::Designator(d) => Some(d),
                AttributeSource::Selector(_) => None,
            })
    }
}

impl Expression {
    /// Calls `visit` for every designator in this expression, variables included.
    pub(crate) fn for_each_designator<'a>(
        &'a self,
        variables: &'a [VariableDefinition],
        visit: &mut dyn FnMut(&'a AttributeDesignator),
        depth: usize,
    ) {
        if depth > 64 {
            return;
        }
        match self {
            Expression::Attribute(AttributeSource::Designator(d)) => visit(d),
            Expression::Apply(apply) => {
                for a in &apply.arguments {
                    a.for_each_designator(variables, visit, depth + 1);
                }
            }
            Expression::VariableReference(i) => {
                if let Some(v) = variables.get(*i) {
                    v.expression
                        .for_each_designator(variables, visit, depth + 1);
                }
            }
            _ => {}
        }
    }
}

impl Policy {
    /// The AttributeIds of `category` that any rule target or condition, or the policy
    /// target, refers to; the service uses it to look attributes up only when a policy needs
    /// them (pdp.md §0 step 1).
    pub fn referenced_attribute_ids(&self, category: &str) -> std::collections::BTreeSet<&str> {
        let mut designators: Vec<&AttributeDesignator> = self.target.designators().collect();
        for rule in &self.rules {
            designators.extend(rule.target.designators());
            if let Some(c) = &rule.condition {
                c.for_each_designator(&self.variables, &mut |d| designators.push(d), 0);
            }
        }
        designators
            .into_iter()
            .filter(|d| d.category == category)
            .map(|d| d.attribute_id.as_str())
            .collect()
    }

    /// The subject (access-subject) AttributeIds the policy refers to.
    pub fn subject_attribute_ids(&self) -> std::collections::BTreeSet<&str> {
        self.referenced_attribute_ids(SUBJECT_CATEGORY)
    }
}
