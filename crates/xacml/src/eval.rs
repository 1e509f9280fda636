//! Evaluation (XACML 3.0 §7): targets, conditions, rules, policies, policy sets and the
//! combining algorithms of Appendix C, with extended Indeterminate values.
//!
//! Evaluation is a pure function of the parsed policies, the request and an explicit `now`;
//! it reads no clock and does no I/O. The PDP supplies the environment attributes
//! `current-time`, `current-date` and `current-dateTime` from `now` when the request does not
//! carry them (XACML 3.0 §10.2.5), so every decision in one request sees the same instant.

use std::borrow::Cow;
use std::sync::Arc;

use crate::decision::*;
use crate::function::{call, call_higher_order, Function, Val};
use crate::policy::*;
use crate::request::{Category, Request};
use crate::temporal::DateTime;
use crate::value::{DataType, Value};
use crate::xpath::XmlContent;

const CURRENT_TIME: &str = "urn:oasis:names:tc:xacml:1.0:environment:current-time";
const CURRENT_DATE: &str = "urn:oasis:names:tc:xacml:1.0:environment:current-date";
const CURRENT_DATE_TIME: &str = "urn:oasis:names:tc:xacml:1.0:environment:current-dateTime";
/// Deepest chain of policy references followed; deeper chains are Indeterminate, so a
/// repository with a reference cycle cannot loop.
const MAX_REFERENCE_DEPTH: usize = 16;
/// Deepest expression nesting evaluated (parsing already bounds XML depth; variables could
/// otherwise chain further).
const MAX_EXPRESSION_DEPTH: usize = 256;

/// Finds policies and policy sets named by PolicyIdReference / PolicySetIdReference.
pub trait PolicyRepository {
    fn find_policy(&self, reference: &IdReference) -> Option<Arc<Policy>>;
    fn find_policy_set(&self, reference: &IdReference) -> Option<Arc<PolicySet>>;
}

/// A repository that holds nothing: every reference is Indeterminate.
pub struct NoRepository;

impl PolicyRepository for NoRepository {
    fn find_policy(&self, _: &IdReference) -> Option<Arc<Policy>> {
        None
    }
    fn find_policy_set(&self, _: &IdReference) -> Option<Arc<PolicySet>> {
        None
    }
}

static NO_REPOSITORY: NoRepository = NoRepository;

/// An in-memory repository of parsed documents, matched by id and, when the reference gives
/// one, by exact version.
#[derive(Debug, Clone, Default)]
pub struct PolicyStore {
    documents: Vec<PolicyDocument>,
}

impl PolicyStore {
    pub fn new() -> Self {
        PolicyStore::default()
    }

    pub fn insert(&mut self, document: PolicyDocument) {
        self.documents.push(document);
    }

    fn version_ok(reference: &IdReference, version: &str) -> bool {
        reference
            .version
            .as_deref()
            .is_none_or(|v| version_matches(v, version))
            && reference
                .earliest_version
                .as_deref()
                .is_none_or(|e| compare_versions(version, e).is_ge())
            && reference
                .latest_version
                .as_deref()
                .is_none_or(|l| compare_versions(version, l).is_le())
    }
}

/// XACML VersionMatchType: dot-separated numbers where `*` matches one component and `+` any
/// remaining ones.
fn version_matches(pattern: &str, version: &str) -> bool {
    let mut p = pattern.split('.');
    let mut v = version.split('.');
    loop {
        match (p.next(), v.next()) {
            (Some("+"), _) => return true,
            (Some("*"), Some(_)) => {}
            (Some(a), Some(b)) if a == b => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

fn compare_versions(a: &str, b: &str) -> std::cmp::Ordering {
    let parse = |s: &str| {
        s.split('.')
            .map(|x| x.parse::<u64>().unwrap_or(0))
            .collect::<Vec<_>>()
    };
    parse(a).cmp(&parse(b))
}

/// Among several stored versions that a reference accepts, the latest is used (XACML 3.0
/// §5.10).
impl PolicyRepository for PolicyStore {
    fn find_policy(&self, reference: &IdReference) -> Option<Arc<Policy>> {
        self.documents
            .iter()
            .filter_map(|d| match d {
                PolicyDocument::Policy(p)
                    if p.id == reference.id && Self::version_ok(reference, &p.version) =>
                {
                    Some(p)
                }
                _ => None,
            })
            .max_by(|a, b| compare_versions(&a.version, &b.version))
            .cloned()
    }
    fn find_policy_set(&self, reference: &IdReference) -> Option<Arc<PolicySet>> {
        self.documents
            .iter()
            .filter_map(|d| match d {
                PolicyDocument::PolicySet(s)
                    if s.id == reference.id && Self::version_ok(reference, &s.version) =>
                {
                    Some(s)
                }
                _ => None,
            })
            .max_by(|a, b| compare_versions(&a.version, &b.version))
            .cloned()
    }
}

/// The decision point: root policies plus a repository for references. Parse policies once,
/// build a `Pdp` per decision (it only borrows), and call [`Pdp::decide`].
pub struct Pdp<'a> {
    roots: &'a [PolicyDocument],
    repository: &'a dyn PolicyRepository,
}

impl<'a> Pdp<'a> {
    /// A PDP with one root policy or policy set.
    pub fn new(root: &'a PolicyDocument) -> Self {
        Pdp {
            roots: std::slice::from_ref(root),
            repository: &NO_REPOSITORY,
        }
    }

    /// Several root policies, chosen by target as a policy repository would (conformance
    /// IID029/IID030): the one root whose target matches decides; two matching roots are
    /// Indeterminate; a root whose target cannot be evaluated is not selected.
    pub fn with_roots(roots: &'a [PolicyDocument]) -> Self {
        Pdp {
            roots,
            repository: &NO_REPOSITORY,
        }
    }

    pub fn repository(mut self, repository: &'a dyn PolicyRepository) -> Self {
        self.repository = repository;
        self
    }

    /// Decides every individual request the request stands for, in order.
    pub fn decide(&self, request: &Request, now: DateTime) -> Response {
        if request.combined_decision {
            // pdp.md §1.4: the reference engine refuses CombinedDecision with this text.
            return Response {
                results: vec![DecisionResult::indeterminate(
                    StatusCode::SyntaxError,
                    "Multiple Decision Profile not implemented",
                )],
            };
        }
        match request.individual_requests() {
            Ok(requests) => Response {
                results: requests
                    .iter()
                    .map(|r| self.decide_individual(r, now))
                    .collect(),
            },
            Err(e) => Response {
                results: vec![DecisionResult::indeterminate(StatusCode::SyntaxError, e.0)],
            },
        }
    }

    /// Decides one individual request. Repeated categories are read as one (their values
    /// are pooled); call [`Request::individual_requests`] first for the XML semantics.
    pub fn decide_individual(&self, request: &Request, now: DateTime) -> DecisionResult {
        let mut ctx = Context {
            request,
            now,
            repository: self.repository,
            reference_depth: 0,
            want_policy_ids: request.return_policy_id_list,
        };
        let outcome = match self.roots {
            [] => Outcome::indeterminate(
                Dec::IndDP,
                EvalError::new(StatusCode::ProcessingError, "no policy to evaluate"),
            ),
            [root] => ctx.document(root),
            roots => ctx.select_root(roots),
        };
        let decision = outcome.dec.decision();
        let status = match (&outcome.status, decision) {
            (Some(e), Decision::Indeterminate) => e.status(),
            (None, Decision::Indeterminate) => Status {
                code: StatusCode::ProcessingError,
                message: None,
            },
            _ => Status::ok(),
        };
        let keep_obligations = matches!(decision, Decision::Permit | Decision::Deny);
        DecisionResult {
            decision,
            status,
            obligations: if keep_obligations {
                outcome.obligations
            } else {
                Vec::new()
            },
            advice: if keep_obligations {
                outcome.advice
            } else {
                Vec::new()
            },
            attributes: included_attributes(request),
            policy_identifiers: request.return_policy_id_list.then_some(outcome.policy_ids),
            deciding_rule: if keep_obligations { outcome.rule } else { None },
        }
    }
}

/// The request attributes marked IncludeInResult, grouped by category element.
pub fn included_attributes(request: &Request) -> Vec<Category> {
    let mut out: Vec<Category> = Vec::new();
    for c in &request.categories {
        // Most requests mark nothing: a plain scan decides that before any collecting.
        if !c.attributes.iter().any(|a| a.include_in_result) {
            continue;
        }
        let attributes: Vec<_> = c
            .attributes
            .iter()
            .filter(|a| a.include_in_result)
            .cloned()
            .collect();
        match out.iter_mut().find(|o| o.category == c.category) {
            Some(existing) => existing.attributes.extend(attributes),
            None => out.push(Category {
                category: c.category.clone(),
                id: c.id.clone(),
                content: c.content.clone(),
                content_xml: None,
                attributes,
            }),
        }
    }
    out
}

/// A decision with the extended Indeterminate values of XACML 3.0 §7.10.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dec {
    Permit,
    Deny,
    NotApplicable,
    IndD,
    IndP,
    IndDP,
}

impl Dec {
    fn decision(self) -> Decision {
        match self {
            Dec::Permit => Decision::Permit,
            Dec::Deny => Decision::Deny,
            Dec::NotApplicable => Decision::NotApplicable,
            _ => Decision::Indeterminate,
        }
    }
    fn of_effect(effect: Effect) -> Dec {
        match effect {
            Effect::Permit => Dec::Permit,
            Effect::Deny => Dec::Deny,
        }
    }
    fn indeterminate_of(effect: Effect) -> Dec {
        match effect {
            Effect::Permit => Dec::IndP,
            Effect::Deny => Dec::IndD,
        }
    }
    fn is_indeterminate(self) -> bool {
        matches!(self, Dec::IndD | Dec::IndP | Dec::IndDP)
    }
}

#[derive(Debug)]
struct Outcome {
    dec: Dec,
    status: Option<EvalError>,
    obligations: Vec<Obligation>,
    advice: Vec<Obligation>,
    rule: Option<RuleRef>,
    /// The policies and policy sets that contributed to this decision, innermost first.
    policy_ids: Vec<PolicyIdentifier>,
}

impl Outcome {
    fn plain(dec: Dec) -> Self {
        Outcome {
            dec,
            status: None,
            obligations: Vec::new(),
            advice: Vec::new(),
            rule: None,
            policy_ids: Vec::new(),
        }
    }
    fn indeterminate(dec: Dec, error: EvalError) -> Self {
        Outcome {
            dec,
            status: Some(error),
            obligations: Vec::new(),
            advice: Vec::new(),
            rule: None,
            policy_ids: Vec::new(),
        }
    }
}

enum TargetResult {
    Match,
    NoMatch,
    Indeterminate(EvalError),
}

/// A child of a combining algorithm.
#[derive(Clone, Copy)]
enum Child<'p> {
    Rule(&'p Rule, &'p Policy),
    Policy(&'p Policy),
    PolicySet(&'p PolicySet),
    PolicyReference(&'p IdReference),
    PolicySetReference(&'p IdReference),
}

/// The children of a policy or policy set, produced on demand so evaluating a policy
/// allocates no list of them.
enum Children<'p> {
    Rules(&'p Policy),
    Policies(&'p PolicySet),
}

impl<'p> Children<'p> {
    fn iter(&self) -> ChildIter<'p> {
        match *self {
            Children::Rules(policy) => ChildIter::Rules(policy, policy.rules.iter()),
            Children::Policies(set) => ChildIter::Policies(set.children.iter()),
        }
    }

    fn are_rules(&self) -> bool {
        matches!(self, Children::Rules(_))
    }
}

enum ChildIter<'p> {
    Rules(&'p Policy, std::slice::Iter<'p, Rule>),
    Policies(std::slice::Iter<'p, PolicySetChild>),
}

impl<'p> Iterator for ChildIter<'p> {
    type Item = Child<'p>;

    fn next(&mut self) -> Option<Child<'p>> {
        match self {
            ChildIter::Rules(policy, rules) => rules.next().map(|r| Child::Rule(r, policy)),
            ChildIter::Policies(children) => children.next().map(|c| match c {
                PolicySetChild::Policy(p) => Child::Policy(p),
                PolicySetChild::PolicySet(s) => Child::PolicySet(s),
                PolicySetChild::PolicyIdReference(r) => Child::PolicyReference(r),
                PolicySetChild::PolicySetIdReference(r) => Child::PolicySetReference(r),
            }),
        }
    }
}

struct Context<'r> {
    request: &'r Request,
    now: DateTime,
    repository: &'r dyn PolicyRepository,
    reference_depth: usize,
    want_policy_ids: bool,
}

fn missing(d: &AttributeDesignator) -> EvalError {
    EvalError::new(
        StatusCode::MissingAttribute,
        format!(
            "attribute {} of type {} in category {} is required but missing",
            d.attribute_id,
            d.data_type.short_name(),
            d.category
        ),
    )
}

fn xpath_error(message: String) -> EvalError {
    EvalError::new(StatusCode::ProcessingError, message)
}

impl<'r> Context<'r> {
    fn document(&mut self, document: &PolicyDocument) -> Outcome {
        match document {
            PolicyDocument::Policy(p) => self.policy(p),
            PolicyDocument::PolicySet(s) => self.policy_set(s),
        }
    }

    // ----- attribute lookup -----

    /// Values of a designator in the request, by category, id, issuer and data type.
    fn request_values<'s>(
        &'s self,
        d: &'s AttributeDesignator,
    ) -> impl Iterator<Item = &'r Value> + 's {
        let request: &'r Request = self.request;
        request
            .categories
            .iter()
            .filter(move |c| c.category == d.category)
            .flat_map(|c| c.attributes.iter())
            .filter(move |a| {
                a.attribute_id == d.attribute_id && (d.issuer.is_none() || a.issuer == d.issuer)
            })
            .flat_map(|a| a.values.iter())
            .filter(move |v| v.is_of(&d.data_type))
    }

    /// The PDP-supplied environment value for a designator the request leaves empty.
    fn environment_value(&self, d: &AttributeDesignator) -> Option<Value> {
        if d.category != ENVIRONMENT_CATEGORY || d.issuer.is_some() {
            return None;
        }
        match (d.attribute_id.as_str(), &d.data_type) {
            (CURRENT_TIME, DataType::Time) => Some(Value::Time(self.now.time())),
            (CURRENT_DATE, DataType::Date) => Some(Value::Date(self.now.date())),
            (CURRENT_DATE_TIME, DataType::DateTime) => Some(Value::DateTime(self.now)),
            _ => None,
        }
    }

    fn designator_bag<'x>(
        &'x self,
        d: &'x AttributeDesignator,
    ) -> Result<Vec<Cow<'x, Value>>, EvalError> {
        let bag: Vec<Cow<'x, Value>> = self.request_values(d).map(Cow::Borrowed).collect();
        if !bag.is_empty() {
            return Ok(bag);
        }
        if let Some(v) = self.environment_value(d) {
            return Ok(vec![Cow::Owned(v)]);
        }
        if d.must_be_present {
            return Err(missing(d));
        }
        Ok(bag)
    }

    // ----- XPath over request Content -----

    /// The `<Content>` of a category (the first one present).
    fn content(&self, category: &str) -> Option<&'r XmlContent> {
        let request: &'r Request = self.request;
        request
            .categories
            .iter()
            .filter(|c| c.category == category)
            .find_map(|c| c.content_xml.as_deref())
    }

    /// Nodes selected by an xpathExpression value in the Content of its XPathCategory.
    fn xpath_nodes(
        &self,
        value: &Value,
    ) -> Result<(Option<&'r XmlContent>, Vec<usize>), EvalError> {
        let Value::XPathExpression {
            path,
            category,
            namespaces,
        } = value
        else {
            return Err(xpath_error(format!(
                "expected an xpathExpression, got {}",
                value.data_type().short_name()
            )));
        };
        match self.content(category) {
            None => Ok((None, Vec::new())),
            Some(content) => Ok((
                Some(content),
                content.select(path, namespaces, 0).map_err(xpath_error)?,
            )),
        }
    }

    /// An AttributeSelector's bag (XACML 3.0 §5.30): the path is applied to the category's
    /// Content (or to the node its ContextSelectorId attribute selects), and each selected
    /// node's string value is read as the selector's data type.
    fn selector_bag<'x>(
        &'x self,
        s: &'x AttributeSelector,
    ) -> Result<Vec<Cow<'x, Value>>, EvalError> {
        let missing = || {
            EvalError::new(
                StatusCode::MissingAttribute,
                format!(
                    "AttributeSelector {} in category {} selects nothing",
                    s.path, s.category
                ),
            )
        };
        let Some(content) = self.content(&s.category) else {
            return if s.must_be_present {
                Err(missing())
            } else {
                Ok(Vec::new())
            };
        };
        let context = match &s.context_selector_id {
            None => 0,
            Some(id) => {
                let request: &'r Request = self.request;
                let values: Vec<&Value> = request
                    .categories
                    .iter()
                    .filter(|c| c.category == s.category)
                    .flat_map(|c| c.attributes.iter())
                    .filter(|a| &a.attribute_id == id)
                    .flat_map(|a| a.values.iter())
                    .filter(|v| v.is_of(&DataType::XPathExpression))
                    .collect();
                let [value] = values.as_slice() else {
                    return Err(xpath_error(format!(
                        "ContextSelectorId {id} must name exactly one xpathExpression value"
                    )));
                };
                match self.xpath_nodes(value)? {
                    (Some(c), nodes) if std::ptr::eq(c, content) && nodes.len() == 1 => nodes[0],
                    _ => {
                        return Err(xpath_error(format!(
                        "the context selector {id} must select exactly one node of this Content"
                    )))
                    }
                }
            }
        };
        let nodes = content
            .select(&s.path, &s.namespaces, context)
            .map_err(xpath_error)?;
        if nodes.is_empty() && s.must_be_present {
            return Err(missing());
        }
        nodes
            .into_iter()
            .map(|n| {
                Value::parse(&s.data_type, &content.string_value(n))
                    .map(Cow::Owned)
                    .map_err(|e| xpath_error(format!("AttributeSelector {}: {e}", s.path)))
            })
            .collect()
    }

    fn xpath_function<'x>(
        &'x self,
        apply: &'x Apply,
        variables: &'x [VariableDefinition],
        depth: usize,
    ) -> Result<Val<'x>, EvalError> {
        let mut args = Vec::with_capacity(2);
        for a in &apply.arguments {
            match self.expression(a, variables, depth + 1)? {
                Val::Atom(v) => args.push(self.xpath_nodes(&v)?),
                Val::Bag(_) => {
                    return Err(xpath_error(format!(
                        "{}: arguments must be single xpathExpressions",
                        apply.function_id
                    )))
                }
            }
        }
        let boolean = |b: bool| Ok(Val::Atom(Cow::Owned(Value::Boolean(b))));
        match (&apply.function, args.as_slice()) {
            (Function::XPathNodeCount, [(_, nodes)]) => {
                Ok(Val::Atom(Cow::Owned(Value::Integer(nodes.len() as i64))))
            }
            (Function::XPathNodeEqual, [(Some(a), first), (Some(b), second)]) => {
                boolean(std::ptr::eq(*a, *b) && first.iter().any(|n| second.contains(n)))
            }
            // True when a node of the second set is a node of the first set or lies below one.
            (Function::XPathNodeMatch, [(Some(a), first), (Some(b), second)]) => boolean(
                std::ptr::eq(*a, *b)
                    && second
                        .iter()
                        .any(|n| first.iter().any(|f| a.is_at_or_below(*n, *f))),
            ),
            (Function::XPathNodeEqual | Function::XPathNodeMatch, [_, _]) => boolean(false),
            _ => Err(xpath_error(format!(
                "{}: wrong number of arguments",
                apply.function_id
            ))),
        }
    }

    // ----- targets -----

    fn target(&self, target: &Target) -> TargetResult {
        let mut error = None;
        for any_of in &target.any_of {
            match self.any_of(any_of) {
                TargetResult::Match => {}
                TargetResult::NoMatch => return TargetResult::NoMatch,
                TargetResult::Indeterminate(e) => {
                    error.get_or_insert(e);
                }
            }
        }
        match error {
            Some(e) => TargetResult::Indeterminate(e),
            None => TargetResult::Match,
        }
    }

    fn any_of(&self, any_of: &AnyOf) -> TargetResult {
        let mut error = None;
        for all_of in &any_of.all_of {
            match self.all_of(all_of) {
                TargetResult::Match => return TargetResult::Match,
                TargetResult::NoMatch => {}
                TargetResult::Indeterminate(e) => {
                    error.get_or_insert(e);
                }
            }
        }
        match error {
            Some(e) => TargetResult::Indeterminate(e),
            None => TargetResult::NoMatch,
        }
    }

    fn all_of(&self, all_of: &AllOf) -> TargetResult {
        let mut error = None;
        for m in &all_of.matches {
            match self.match_element(m) {
                TargetResult::Match => {}
                TargetResult::NoMatch => return TargetResult::NoMatch,
                TargetResult::Indeterminate(e) => {
                    error.get_or_insert(e);
                }
            }
        }
        match error {
            Some(e) => TargetResult::Indeterminate(e),
            None => TargetResult::Match,
        }
    }

    /// The hot path of every decision: compares the literal with each request value without
    /// building a bag; equality functions skip the generic function call.
    fn match_element(&self, m: &Match) -> TargetResult {
        let d = match &m.source {
            AttributeSource::Designator(d) => d,
            AttributeSource::Selector(s) => {
                let bag = match self.selector_bag(s) {
                    Ok(bag) => bag,
                    Err(e) => return TargetResult::Indeterminate(e),
                };
                let mut error = None;
                for v in &bag {
                    match self.match_one(m, v) {
                        Ok(true) => return TargetResult::Match,
                        Ok(false) => {}
                        Err(e) => {
                            error.get_or_insert(e);
                        }
                    }
                }
                return match error {
                    Some(e) => TargetResult::Indeterminate(e),
                    None => TargetResult::NoMatch,
                };
            }
        };
        let mut error = None;
        let mut any = false;
        for v in self.request_values(d) {
            any = true;
            match self.match_one(m, v) {
                Ok(true) => return TargetResult::Match,
                Ok(false) => {}
                Err(e) => {
                    error.get_or_insert(e);
                }
            }
        }
        if !any {
            if let Some(v) = self.environment_value(d) {
                return match self.match_one(m, &v) {
                    Ok(true) => TargetResult::Match,
                    Ok(false) => TargetResult::NoMatch,
                    Err(e) => TargetResult::Indeterminate(e),
                };
            }
            if d.must_be_present {
                return TargetResult::Indeterminate(missing(d));
            }
        }
        match error {
            Some(e) => TargetResult::Indeterminate(e),
            None => TargetResult::NoMatch,
        }
    }

    fn match_one(&self, m: &Match, v: &Value) -> Result<bool, EvalError> {
        match &m.function {
            Function::Equal(t) if m.value.is_of(t) && v.is_of(t) => Ok(m.value.equals(v)),
            Function::StringEqualIgnoreCase => match (&m.value, v) {
                (Value::String(a), Value::String(b)) => Ok(crate::value::equal_ignore_case(a, b)),
                _ => self.match_generic(m, v),
            },
            _ => self.match_generic(m, v),
        }
    }

    fn match_generic(&self, m: &Match, v: &Value) -> Result<bool, EvalError> {
        let args = vec![
            Val::Atom(Cow::Borrowed(&m.value)),
            Val::Atom(Cow::Borrowed(v)),
        ];
        match call(&m.function, args, m.regex.as_deref())? {
            Val::Atom(r) => match r.as_ref() {
                Value::Boolean(b) => Ok(*b),
                _ => Err(EvalError::new(
                    StatusCode::ProcessingError,
                    format!("MatchId {} does not return a boolean", m.match_id),
                )),
            },
            Val::Bag(_) => Err(EvalError::new(
                StatusCode::ProcessingError,
                format!("MatchId {} does not return a boolean", m.match_id),
            )),
        }
    }

    // ----- expressions -----

    fn expression<'x>(
        &'x self,
        e: &'x Expression,
        variables: &'x [VariableDefinition],
        depth: usize,
    ) -> Result<Val<'x>, EvalError> {
        if depth > MAX_EXPRESSION_DEPTH {
            return Err(EvalError::new(
                StatusCode::ProcessingError,
                "expression nesting too deep",
            ));
        }
        match e {
            Expression::Value(v) => Ok(Val::Atom(Cow::Borrowed(v))),
            Expression::Attribute(AttributeSource::Designator(d)) => {
                Ok(Val::Bag(self.designator_bag(d)?))
            }
            Expression::Attribute(AttributeSource::Selector(s)) => {
                Ok(Val::Bag(self.selector_bag(s)?))
            }
            Expression::VariableReference(i) => match variables.get(*i) {
                Some(v) => self.expression(&v.expression, variables, depth + 1),
                None => Err(EvalError::new(
                    StatusCode::ProcessingError,
                    "unknown variable",
                )),
            },
            Expression::Function(_) => Err(EvalError::new(
                StatusCode::ProcessingError,
                "a <Function> may only be the first argument of a higher-order function",
            )),
            Expression::Apply(apply) => self.apply(apply, variables, depth),
        }
    }

    fn boolean_expression(
        &self,
        e: &Expression,
        variables: &[VariableDefinition],
        depth: usize,
    ) -> Result<bool, EvalError> {
        match self.expression(e, variables, depth + 1)? {
            Val::Atom(v) => match v.as_ref() {
                Value::Boolean(b) => Ok(*b),
                other => Err(EvalError::new(
                    StatusCode::ProcessingError,
                    format!("expected a boolean, got {}", other.data_type().short_name()),
                )),
            },
            Val::Bag(_) => Err(EvalError::new(
                StatusCode::ProcessingError,
                "expected a boolean, got a bag",
            )),
        }
    }

    fn apply<'x>(
        &'x self,
        apply: &'x Apply,
        variables: &'x [VariableDefinition],
        depth: usize,
    ) -> Result<Val<'x>, EvalError> {
        let f = &apply.function;
        let boolean = |b: bool| Ok(Val::Atom(Cow::Owned(Value::Boolean(b))));
        match f {
            // and/or stop at the first deciding argument; an error only decides when no later
            // argument does (XACML 3.0 §A.3.5).
            Function::And | Function::Or => {
                let decisive = *f == Function::Or;
                let mut error = None;
                for a in &apply.arguments {
                    match self.boolean_expression(a, variables, depth) {
                        Ok(b) if b == decisive => return boolean(decisive),
                        Ok(_) => {}
                        Err(e) => {
                            error.get_or_insert(e);
                        }
                    }
                }
                match error {
                    Some(e) => Err(e),
                    None => boolean(!decisive),
                }
            }
            Function::NOf => {
                let Some((first, rest)) = apply.arguments.split_first() else {
                    return Err(EvalError::new(
                        StatusCode::ProcessingError,
                        "n-of needs arguments",
                    ));
                };
                let n = match self.expression(first, variables, depth + 1)? {
                    Val::Atom(v) => match v.as_ref() {
                        Value::Integer(n) => *n,
                        _ => {
                            return Err(EvalError::new(
                                StatusCode::ProcessingError,
                                "n-of: the first argument must be an integer",
                            ))
                        }
                    },
                    Val::Bag(_) => {
                        return Err(EvalError::new(
                            StatusCode::ProcessingError,
                            "n-of: the first argument must be an integer",
                        ))
                    }
                };
                if n < 0 || n as usize > rest.len() {
                    return Err(EvalError::new(
                        StatusCode::ProcessingError,
                        format!("n-of: {n} of {} arguments cannot hold", rest.len()),
                    ));
                }
                let (mut trues, mut error) = (0i64, None);
                for (i, a) in rest.iter().enumerate() {
                    if trues >= n {
                        break;
                    }
                    match self.boolean_expression(a, variables, depth) {
                        Ok(true) => trues += 1,
                        Ok(false) => {}
                        Err(e) => {
                            error.get_or_insert(e);
                        }
                    }
                    // Not enough arguments left to reach n.
                    if trues + ((rest.len() - i - 1) as i64) < n && error.is_none() {
                        return boolean(false);
                    }
                }
                if trues >= n {
                    return boolean(true);
                }
                match error {
                    Some(e) => Err(e),
                    None => boolean(false),
                }
            }
            Function::XPathNodeCount | Function::XPathNodeEqual | Function::XPathNodeMatch => {
                self.xpath_function(apply, variables, depth)
            }
            _ if f.is_higher_order() => {
                let Some((Expression::Function(inner), rest)) = apply.arguments.split_first()
                else {
                    return Err(EvalError::new(
                        StatusCode::ProcessingError,
                        format!(
                            "{}: the first argument must be a <Function>",
                            apply.function_id
                        ),
                    ));
                };
                let args = rest
                    .iter()
                    .map(|a| self.expression(a, variables, depth + 1))
                    .collect::<Result<Vec<_>, _>>()?;
                call_higher_order(f, inner, args)
            }
            _ => {
                let args = apply
                    .arguments
                    .iter()
                    .map(|a| self.expression(a, variables, depth + 1))
                    .collect::<Result<Vec<_>, _>>()?;
                call(f, args, apply.regex.as_deref())
            }
        }
    }

    // ----- obligations and advice -----

    fn obligations(
        &self,
        expressions: &[ObligationExpression],
        effect: Effect,
        variables: &[VariableDefinition],
    ) -> Result<Vec<Obligation>, EvalError> {
        let mut out = Vec::new();
        for o in expressions.iter().filter(|o| o.applies_to == effect) {
            let mut assignments = Vec::with_capacity(o.assignments.len());
            for a in &o.assignments {
                let values = match self.expression(&a.expression, variables, 0)? {
                    Val::Atom(v) => vec![v.into_owned()],
                    Val::Bag(b) => b.into_iter().map(Cow::into_owned).collect(),
                };
                for value in values {
                    assignments.push(AttributeAssignment {
                        attribute_id: a.attribute_id.clone(),
                        category: a.category.clone(),
                        issuer: a.issuer.clone(),
                        value,
                    });
                }
            }
            out.push(Obligation {
                id: o.id.clone(),
                assignments,
            });
        }
        Ok(out)
    }

    /// Adds the obligations and advice of a rule, policy or policy set to an outcome whose
    /// decision is Permit or Deny; failing to evaluate them makes it Indeterminate (§7.18).
    fn add_obligations(
        &self,
        outcome: &mut Outcome,
        obligations: &[ObligationExpression],
        advice: &[ObligationExpression],
        variables: &[VariableDefinition],
    ) {
        let effect = match outcome.dec {
            Dec::Permit => Effect::Permit,
            Dec::Deny => Effect::Deny,
            _ => return,
        };
        if obligations.is_empty() && advice.is_empty() {
            return;
        }
        match (
            self.obligations(obligations, effect, variables),
            self.obligations(advice, effect, variables),
        ) {
            (Ok(o), Ok(a)) => {
                outcome.obligations.extend(o);
                outcome.advice.extend(a);
            }
            (Err(e), _) | (_, Err(e)) => {
                *outcome = Outcome::indeterminate(Dec::indeterminate_of(effect), e);
            }
        }
    }

    // ----- rules, policies, policy sets -----

    fn rule(&self, rule: &Rule, policy: &Policy) -> Outcome {
        let rule_ref = || RuleRef {
            policy_id: policy.id.as_str().into(),
            rule_id: rule.id.as_str().into(),
        };
        match self.target(&rule.target) {
            TargetResult::NoMatch => return Outcome::plain(Dec::NotApplicable),
            TargetResult::Indeterminate(e) => {
                return Outcome::indeterminate(Dec::indeterminate_of(rule.effect), e)
            }
            TargetResult::Match => {}
        }
        if let Some(condition) = &rule.condition {
            match self.boolean_expression(condition, &policy.variables, 0) {
                Ok(true) => {}
                Ok(false) => return Outcome::plain(Dec::NotApplicable),
                Err(e) => return Outcome::indeterminate(Dec::indeterminate_of(rule.effect), e),
            }
        }
        let mut outcome = Outcome::plain(Dec::of_effect(rule.effect));
        outcome.rule = Some(rule_ref());
        self.add_obligations(
            &mut outcome,
            &rule.obligations,
            &rule.advice,
            &policy.variables,
        );
        outcome
    }

    fn policy(&mut self, policy: &Policy) -> Outcome {
        let target = self.target(&policy.target);
        if let TargetResult::NoMatch = target {
            return Outcome::plain(Dec::NotApplicable);
        }
        let mut outcome = self.combine(policy.rule_combining, &Children::Rules(policy));
        self.finish(
            &mut outcome,
            target,
            &policy.obligations,
            &policy.advice,
            &policy.variables,
        );
        self.record(&mut outcome, false, &policy.id, &policy.version);
        outcome
    }

    fn policy_set(&mut self, set: &PolicySet) -> Outcome {
        let target = self.target(&set.target);
        if let TargetResult::NoMatch = target {
            return Outcome::plain(Dec::NotApplicable);
        }
        let mut outcome = self.combine(set.policy_combining, &Children::Policies(set));
        self.finish(&mut outcome, target, &set.obligations, &set.advice, &[]);
        self.record(&mut outcome, true, &set.id, &set.version);
        outcome
    }

    /// Applies the target result to the combined outcome (XACML 3.0 Table 7) and adds the
    /// element's own obligations and advice.
    fn finish(
        &self,
        outcome: &mut Outcome,
        target: TargetResult,
        obligations: &[ObligationExpression],
        advice: &[ObligationExpression],
        variables: &[VariableDefinition],
    ) {
        if let TargetResult::Indeterminate(e) = target {
            let dec = match outcome.dec {
                Dec::NotApplicable => Dec::NotApplicable,
                Dec::Permit | Dec::IndP => Dec::IndP,
                Dec::Deny | Dec::IndD => Dec::IndD,
                Dec::IndDP => Dec::IndDP,
            };
            *outcome = if dec == Dec::NotApplicable {
                Outcome::plain(dec)
            } else {
                Outcome::indeterminate(dec, e)
            };
            return;
        }
        self.add_obligations(outcome, obligations, advice, variables);
    }

    /// Notes a policy or policy set in the PolicyIdentifierList of an outcome it decided.
    fn record(&self, outcome: &mut Outcome, is_policy_set: bool, id: &str, version: &str) {
        if self.want_policy_ids && outcome.dec != Dec::NotApplicable {
            outcome.policy_ids.push(PolicyIdentifier {
                is_policy_set,
                id: id.to_owned(),
                version: version.to_owned(),
            });
        }
    }

    fn child(&mut self, child: Child<'_>) -> Outcome {
        match child {
            Child::Rule(rule, policy) => self.rule(rule, policy),
            Child::Policy(p) => self.policy(p),
            Child::PolicySet(s) => self.policy_set(s),
            Child::PolicyReference(r) => match self.resolve_policy(r) {
                Ok(p) => {
                    self.reference_depth += 1;
                    let outcome = self.policy(&p);
                    self.reference_depth -= 1;
                    outcome
                }
                Err(e) => Outcome::indeterminate(Dec::IndDP, e),
            },
            Child::PolicySetReference(r) => match self.resolve_policy_set(r) {
                Ok(s) => {
                    self.reference_depth += 1;
                    let outcome = self.policy_set(&s);
                    self.reference_depth -= 1;
                    outcome
                }
                Err(e) => Outcome::indeterminate(Dec::IndDP, e),
            },
        }
    }

    fn resolve_policy(&self, r: &IdReference) -> Result<Arc<Policy>, EvalError> {
        if self.reference_depth >= MAX_REFERENCE_DEPTH {
            return Err(EvalError::new(
                StatusCode::ProcessingError,
                "policy references nest too deeply (a cycle?)",
            ));
        }
        self.repository.find_policy(r).ok_or_else(|| {
            EvalError::new(
                StatusCode::ProcessingError,
                format!("no policy {} in the repository", r.id),
            )
        })
    }

    fn resolve_policy_set(&self, r: &IdReference) -> Result<Arc<PolicySet>, EvalError> {
        if self.reference_depth >= MAX_REFERENCE_DEPTH {
            return Err(EvalError::new(
                StatusCode::ProcessingError,
                "policy references nest too deeply (a cycle?)",
            ));
        }
        self.repository.find_policy_set(r).ok_or_else(|| {
            EvalError::new(
                StatusCode::ProcessingError,
                format!("no policy set {} in the repository", r.id),
            )
        })
    }

    /// Whether a child's target matches, for only-one-applicable.
    fn applicability(&mut self, child: Child<'_>) -> TargetResult {
        match child {
            Child::Rule(rule, _) => self.target(&rule.target),
            Child::Policy(p) => self.target(&p.target),
            Child::PolicySet(s) => self.target(&s.target),
            Child::PolicyReference(r) => match self.resolve_policy(r) {
                Ok(p) => self.target(&p.target),
                Err(e) => TargetResult::Indeterminate(e),
            },
            Child::PolicySetReference(r) => match self.resolve_policy_set(r) {
                Ok(s) => self.target(&s.target),
                Err(e) => TargetResult::Indeterminate(e),
            },
        }
    }

    fn select_root(&mut self, roots: &[PolicyDocument]) -> Outcome {
        let mut selected = None;
        for root in roots {
            let target = match root {
                PolicyDocument::Policy(p) => &p.target,
                PolicyDocument::PolicySet(s) => &s.target,
            };
            if let TargetResult::Match = self.target(target) {
                if selected.is_some() {
                    return Outcome::indeterminate(
                        Dec::IndDP,
                        EvalError::new(
                            StatusCode::ProcessingError,
                            "more than one root policy is applicable",
                        ),
                    );
                }
                selected = Some(root);
            }
        }
        match selected {
            Some(root) => self.document(root),
            None => Outcome::plain(Dec::NotApplicable),
        }
    }

    fn only_one_applicable(&mut self, children: &Children<'_>) -> Outcome {
        let mut selected = None;
        for child in children.iter() {
            match self.applicability(child) {
                TargetResult::NoMatch => {}
                TargetResult::Indeterminate(e) => return Outcome::indeterminate(Dec::IndDP, e),
                TargetResult::Match => {
                    if selected.is_some() {
                        return Outcome::indeterminate(
                            Dec::IndDP,
                            EvalError::new(
                                StatusCode::ProcessingError,
                                "more than one policy is applicable",
                            ),
                        );
                    }
                    selected = Some(child);
                }
            }
        }
        match selected {
            Some(child) => self.child(child),
            None => Outcome::plain(Dec::NotApplicable),
        }
    }

    fn combine(&mut self, algorithm: CombiningAlgorithm, children: &Children<'_>) -> Outcome {
        use CombiningAlgorithm as C;
        match algorithm {
            C::OnlyOneApplicable => self.only_one_applicable(children),
            C::DenyOverrides | C::OrderedDenyOverrides => self.overrides(children, Dec::Deny),
            C::PermitOverrides | C::OrderedPermitOverrides => self.overrides(children, Dec::Permit),
            C::LegacyDenyOverrides | C::LegacyOrderedDenyOverrides => {
                self.legacy_overrides(children, Dec::Deny)
            }
            C::LegacyPermitOverrides | C::LegacyOrderedPermitOverrides => {
                self.legacy_overrides(children, Dec::Permit)
            }
            C::DenyUnlessPermit => self.unless(children, Dec::Permit),
            C::PermitUnlessDeny => self.unless(children, Dec::Deny),
            C::FirstApplicable => self.first_applicable(children),
        }
    }

    /// Collects the outcomes whose decision is `dec` into one outcome with that decision.
    fn gather(dec: Dec, outcomes: Vec<Outcome>) -> Outcome {
        let mut out = Outcome::plain(dec);
        for o in outcomes.into_iter().filter(|o| o.dec == dec) {
            if out.rule.is_none() {
                out.rule = o.rule;
            }
            out.obligations.extend(o.obligations);
            out.advice.extend(o.advice);
            out.policy_ids.extend(o.policy_ids);
        }
        out
    }

    /// An Indeterminate outcome carrying the policy ids of the Indeterminate children.
    fn indeterminate_from(dec: Dec, error: EvalError, outcomes: &mut [Outcome]) -> Outcome {
        let mut out = Outcome::indeterminate(dec, error);
        for o in outcomes.iter_mut().filter(|o| o.dec.is_indeterminate()) {
            out.policy_ids.append(&mut o.policy_ids);
        }
        out
    }

    /// The first error among outcomes with one of the given decisions.
    fn first_error(outcomes: &[Outcome], decs: &[Dec]) -> EvalError {
        outcomes
            .iter()
            .filter(|o| decs.contains(&o.dec))
            .find_map(|o| o.status.clone())
            .unwrap_or_else(|| EvalError::new(StatusCode::ProcessingError, "indeterminate"))
    }

    /// deny-overrides (winner = Deny) and permit-overrides (winner = Permit), XACML 3.0
    /// §C.2–C.5 with extended Indeterminates; the ordered variants behave the same because
    /// children are always evaluated in document order.
    fn overrides(&mut self, children: &Children<'_>, winner: Dec) -> Outcome {
        let (loser, ind_w, ind_l) = if winner == Dec::Deny {
            (Dec::Permit, Dec::IndD, Dec::IndP)
        } else {
            (Dec::Deny, Dec::IndP, Dec::IndD)
        };
        // Only decided children are kept: a NotApplicable child contributes nothing, and
        // most rules of a policy are NotApplicable to any one request.
        let mut outcomes = Vec::new();
        for child in children.iter() {
            let o = self.child(child);
            if o.dec == winner {
                return o;
            }
            if o.dec != Dec::NotApplicable {
                outcomes.push(o);
            }
        }
        let has = |d: Dec| outcomes.iter().any(|o| o.dec == d);
        if has(Dec::IndDP) {
            let e = Self::first_error(&outcomes, &[Dec::IndDP]);
            return Self::indeterminate_from(Dec::IndDP, e, &mut outcomes);
        }
        if has(ind_w) && (has(ind_l) || has(loser)) {
            let e = Self::first_error(&outcomes, &[ind_w, ind_l]);
            return Self::indeterminate_from(Dec::IndDP, e, &mut outcomes);
        }
        if has(ind_w) {
            let e = Self::first_error(&outcomes, &[ind_w]);
            return Self::indeterminate_from(ind_w, e, &mut outcomes);
        }
        if has(loser) {
            return Self::gather(loser, outcomes);
        }
        if has(ind_l) {
            let e = Self::first_error(&outcomes, &[ind_l]);
            return Self::indeterminate_from(ind_l, e, &mut outcomes);
        }
        Outcome::plain(Dec::NotApplicable)
    }

    /// The XACML 1.0/1.1 overrides algorithms (§C.6–C.9): an Indeterminate child only
    /// counts toward the winner's side for rules; for policies, in deny-overrides any
    /// Indeterminate policy makes the result Deny.
    fn legacy_overrides(&mut self, children: &Children<'_>, winner: Dec) -> Outcome {
        let loser = if winner == Dec::Deny {
            Dec::Permit
        } else {
            Dec::Deny
        };
        let (ind_w, ind_l) = if winner == Dec::Deny {
            (Dec::IndD, Dec::IndP)
        } else {
            (Dec::IndP, Dec::IndD)
        };
        let rules = children.are_rules();
        let mut outcomes = Vec::new();
        for child in children.iter() {
            let o = self.child(child);
            if o.dec == winner {
                return o;
            }
            if !rules && winner == Dec::Deny && o.dec.is_indeterminate() {
                return Outcome::plain(Dec::Deny);
            }
            outcomes.push(o);
        }
        let has = |d: Dec| outcomes.iter().any(|o| o.dec == d);
        if rules {
            if has(ind_w) || has(Dec::IndDP) {
                let e = Self::first_error(&outcomes, &[ind_w, Dec::IndDP]);
                return Outcome::indeterminate(Dec::IndDP, e);
            }
            if has(loser) {
                return Self::gather(loser, outcomes);
            }
            if has(ind_l) {
                let e = Self::first_error(&outcomes, &[ind_l]);
                return Outcome::indeterminate(Dec::IndDP, e);
            }
        } else {
            if has(loser) {
                return Self::gather(loser, outcomes);
            }
            if outcomes.iter().any(|o| o.dec.is_indeterminate()) {
                let e = Self::first_error(&outcomes, &[Dec::IndD, Dec::IndP, Dec::IndDP]);
                return Outcome::indeterminate(Dec::IndDP, e);
            }
        }
        Outcome::plain(Dec::NotApplicable)
    }

    /// deny-unless-permit (`wanted` = Permit) and permit-unless-deny (`wanted` = Deny).
    fn unless(&mut self, children: &Children<'_>, wanted: Dec) -> Outcome {
        let other = if wanted == Dec::Permit {
            Dec::Deny
        } else {
            Dec::Permit
        };
        let mut outcomes = Vec::new();
        for child in children.iter() {
            let o = self.child(child);
            if o.dec == wanted {
                return o;
            }
            outcomes.push(o);
        }
        let mut out = Self::gather(other, outcomes);
        out.dec = other;
        out
    }

    fn first_applicable(&mut self, children: &Children<'_>) -> Outcome {
        for child in children.iter() {
            let o = self.child(child);
            if o.dec != Dec::NotApplicable {
                return o;
            }
        }
        Outcome::plain(Dec::NotApplicable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsed_policies_can_be_shared_across_threads() {
        fn shared<T: Send + Sync>() {}
        shared::<PolicyDocument>();
        shared::<Request>();
        shared::<PolicyStore>();
    }

    #[test]
    fn versions_match_patterns() {
        assert!(version_matches("1.*", "1.4"));
        assert!(version_matches("1.+", "1.4.2"));
        assert!(!version_matches("1.*", "2.0"));
        assert!(compare_versions("1.10", "1.9").is_gt());
    }
}
