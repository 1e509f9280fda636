//! The request context (XACML 3.0 §5.42–§5.46) and its two wire forms: XACML 3.0 XML and the
//! JSON profile subset Altinn accepts (pdp.md §1.2).
//!
//! A request may stand for several individual decisions: `<MultiRequests>` (XML, and JSON with
//! at least two references), or, in XML only, an Attributes category that occurs more than
//! once (the Multiple Decision Profile's repeated categories). [`Request::individual_requests`]
//! splits it; evaluation always works on one individual request.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use crate::error::ParseError;
use crate::json_tree::Node;
use crate::policy::{ACTION_CATEGORY, ENVIRONMENT_CATEGORY, RESOURCE_CATEGORY, SUBJECT_CATEGORY};
use crate::value::{truncate, DataType, Value, ValueError};
use crate::xml::{
    self, boolean_attribute, check_namespace, elements, name, required, Limits, XML_NS,
};
use crate::xpath::XmlContent;

const MULTIPLE_CONTENT_SELECTOR: &str = "urn:oasis:names:tc:xacml:3.0:multiple:content-selector";
const CONTENT_SELECTOR: &str = "urn:oasis:names:tc:xacml:3.0:content-selector";

/// Which wire form a request came in; responses are written in the same form, and the two
/// differ in how MultiRequests and repeated categories are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestFormat {
    Xml,
    Json,
}

#[derive(Debug, Clone)]
pub struct Request {
    pub format: RequestFormat,
    pub return_policy_id_list: bool,
    pub combined_decision: bool,
    pub categories: Vec<Category>,
    pub multi_requests: Vec<RequestReference>,
}

/// One `<Attributes>` element (a JSON category object).
#[derive(Debug, Clone, PartialEq)]
pub struct Category {
    pub category: String,
    /// `xml:id` in XML, `Id` in JSON: what RequestReferences point at.
    pub id: Option<String>,
    /// JSON `Content` as given; XML `<Content>` is not kept (no XPath here).
    pub content: Option<String>,
    /// XML `<Content>`, for AttributeSelector and the xpath-node functions.
    pub content_xml: Option<Arc<XmlContent>>,
    pub attributes: Vec<Attribute>,
}

#[derive(Debug, Clone)]
pub struct Attribute {
    pub attribute_id: String,
    pub issuer: Option<String>,
    pub include_in_result: bool,
    pub values: Vec<Value>,
}

impl PartialEq for Attribute {
    fn eq(&self, other: &Self) -> bool {
        self.attribute_id == other.attribute_id
            && self.issuer == other.issuer
            && self.include_in_result == other.include_in_result
            && self.values.len() == other.values.len()
            && self
                .values
                .iter()
                .zip(&other.values)
                .all(|(a, b)| a.equals(b))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestReference {
    pub reference_ids: Vec<String>,
}

/// A request that cannot be split into individual requests.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RequestError(pub String);

impl Request {
    /// An empty XML-form request, for building requests in code.
    pub fn new() -> Request {
        Request {
            format: RequestFormat::Xml,
            return_policy_id_list: false,
            combined_decision: false,
            categories: Vec::new(),
            multi_requests: Vec::new(),
        }
    }

    /// Adds one value to the request, as enrichment by a context handler does: into the first
    /// category element of that category (created if missing) and the attribute with that id
    /// and no issuer (created with IncludeInResult=false if missing).
    pub fn add_attribute(&mut self, category: &str, attribute_id: &str, value: Value) {
        self.add_attribute_with(category, attribute_id, value, false)
    }

    /// Like [`Request::add_attribute`], but the value is echoed in the result when the
    /// attribute is new (`include_in_result`), as Altinn does for an enriched party id.
    pub fn add_attribute_with(
        &mut self,
        category: &str,
        attribute_id: &str,
        value: Value,
        include_in_result: bool,
    ) {
        let index = match self.categories.iter().position(|c| c.category == category) {
            Some(i) => i,
            None => {
                self.categories.push(Category {
                    category: category.to_owned(),
                    id: None,
                    content: None,
                    content_xml: None,
                    attributes: Vec::new(),
                });
                self.categories.len() - 1
            }
        };
        let attributes = &mut self.categories[index].attributes;
        match attributes
            .iter_mut()
            .find(|a| a.attribute_id == attribute_id && a.issuer.is_none())
        {
            Some(a) => a.values.push(value),
            None => attributes.push(Attribute {
                attribute_id: attribute_id.to_owned(),
                issuer: None,
                include_in_result,
                values: vec![value],
            }),
        }
    }

    /// [`Request::add_attribute`] from a data type URI and lexical form.
    pub fn add_attribute_text(
        &mut self,
        category: &str,
        attribute_id: &str,
        data_type: &str,
        text: &str,
    ) -> Result<(), ValueError> {
        let value = Value::parse(&DataType::from_uri(data_type), text)?;
        self.add_attribute(category, attribute_id, value);
        Ok(())
    }

    /// All values of an attribute in a category, across repeated category elements.
    pub fn values<'a>(
        &'a self,
        category: &'a str,
        attribute_id: &'a str,
    ) -> impl Iterator<Item = &'a Value> + 'a {
        self.categories
            .iter()
            .filter(move |c| c.category == category)
            .flat_map(|c| c.attributes.iter())
            .filter(move |a| a.attribute_id == attribute_id)
            .flat_map(|a| a.values.iter())
    }

    /// Whether this request stands for more than one individual decision.
    pub fn is_multiple(&self) -> bool {
        match self.format {
            RequestFormat::Xml => {
                !self.multi_requests.is_empty()
                    || self.has_repeated_category()
                    || self.content_selector().is_some()
            }
            RequestFormat::Json => self.multi_requests.len() >= 2,
        }
    }

    fn has_repeated_category(&self) -> bool {
        self.categories.iter().enumerate().any(|(i, c)| {
            self.categories[..i]
                .iter()
                .any(|d| d.category == c.category)
        })
    }

    /// The individual requests in reference order (pdp.md §1.2 for JSON; XACML Multiple
    /// Decision Profile §2.3–2.4 for XML). A request that is already individual is returned
    /// borrowed, so the common case does not copy.
    pub fn individual_requests(&self) -> Result<Vec<Cow<'_, Request>>, RequestError> {
        if !self.is_multiple() {
            return Ok(vec![Cow::Borrowed(self)]);
        }
        let split = self.split_references_and_categories()?;
        if self.format == RequestFormat::Json {
            return Ok(split);
        }
        let mut out = Vec::with_capacity(split.len());
        for request in split {
            if request.content_selector().is_some() {
                out.extend(
                    request
                        .expand_content_selector()?
                        .into_iter()
                        .map(Cow::Owned),
                );
            } else {
                out.push(request);
            }
        }
        Ok(out)
    }

    /// Where the `multiple:content-selector` attribute is: (category index, attribute index).
    fn content_selector(&self) -> Option<(usize, usize)> {
        self.categories.iter().enumerate().find_map(|(i, c)| {
            c.attributes
                .iter()
                .position(|a| a.attribute_id == MULTIPLE_CONTENT_SELECTOR)
                .map(|j| (i, j))
        })
    }

    /// One request per node the content-selector selects, each with a `content-selector`
    /// attribute naming its node (Multiple Decision Profile §2.2; conformance IIIE301).
    fn expand_content_selector(&self) -> Result<Vec<Request>, RequestError> {
        let fail = |why: String| RequestError(format!("multiple:content-selector: {why}"));
        let Some((ci, ai)) = self.content_selector() else {
            return Ok(vec![self.clone()]);
        };
        let attribute = &self.categories[ci].attributes[ai];
        let [Value::XPathExpression {
            path,
            category,
            namespaces,
        }] = attribute.values.as_slice()
        else {
            return Err(fail("expected exactly one xpathExpression value".into()));
        };
        let content = self
            .categories
            .iter()
            .filter(|c| c.category == category.as_ref())
            .find_map(|c| c.content_xml.as_deref())
            .ok_or_else(|| fail(format!("no <Content> in category {category}")))?;
        let nodes = content.select(path, namespaces, 0).map_err(fail)?;
        if nodes.len() > 1024 {
            return Err(fail(format!(
                "selects {} nodes; at most 1024 are allowed",
                nodes.len()
            )));
        }
        let mut out = Vec::with_capacity(nodes.len());
        for node in nodes {
            // The node's own path: the selector with the position among its siblings that
            // selects exactly this node.
            let own_path = (1..=1024)
                .map(|k| format!("{path}[{k}]"))
                .find(|p| {
                    content
                        .select(p, namespaces, 0)
                        .is_ok_and(|found| found == [node])
                })
                .ok_or_else(|| fail(format!("cannot name selected node {node} by position")))?;
            let mut request = self.clone();
            request.categories[ci].attributes[ai] = Attribute {
                attribute_id: CONTENT_SELECTOR.to_owned(),
                issuer: attribute.issuer.clone(),
                include_in_result: attribute.include_in_result,
                values: vec![Value::XPathExpression {
                    path: own_path.into(),
                    category: category.clone(),
                    namespaces: namespaces.clone(),
                }],
            };
            out.push(request);
        }
        Ok(out)
    }

    fn split_references_and_categories(&self) -> Result<Vec<Cow<'_, Request>>, RequestError> {
        if self.multi_requests.is_empty() && !self.has_repeated_category() {
            return Ok(vec![Cow::Borrowed(self)]);
        }
        let single = |categories: Vec<Category>| Request {
            format: self.format,
            return_policy_id_list: self.return_policy_id_list,
            combined_decision: false,
            categories,
            multi_requests: Vec::new(),
        };
        if !self.multi_requests.is_empty() {
            let mut out = Vec::with_capacity(self.multi_requests.len());
            for reference in &self.multi_requests {
                let categories = match self.format {
                    RequestFormat::Xml => self.referenced_categories_xml(reference)?,
                    RequestFormat::Json => self.referenced_categories_json(reference),
                };
                out.push(Cow::Owned(single(categories)));
            }
            return Ok(out);
        }
        // Repeated categories: one individual request per combination, the first category's
        // instances varying slowest.
        let mut groups: Vec<(&str, Vec<&Category>)> = Vec::new();
        for c in &self.categories {
            match groups.iter_mut().find(|(name, _)| *name == c.category) {
                Some((_, list)) => list.push(c),
                None => groups.push((&c.category, vec![c])),
            }
        }
        let total: usize = groups.iter().map(|(_, l)| l.len()).product();
        if total > 1024 {
            return Err(RequestError(format!(
                "the request expands to {total} individual requests; at most 1024 are allowed"
            )));
        }
        let mut out = Vec::with_capacity(total);
        let mut index = vec![0usize; groups.len()];
        loop {
            out.push(Cow::Owned(single(
                groups
                    .iter()
                    .zip(&index)
                    .map(|((_, l), &i)| l[i].clone())
                    .collect(),
            )));
            let mut k = groups.len();
            loop {
                if k == 0 {
                    return Ok(out);
                }
                k -= 1;
                index[k] += 1;
                if index[k] < groups[k].1.len() {
                    break;
                }
                index[k] = 0;
            }
        }
    }

    fn referenced_categories_xml(
        &self,
        reference: &RequestReference,
    ) -> Result<Vec<Category>, RequestError> {
        let mut out = Vec::with_capacity(reference.reference_ids.len());
        for id in &reference.reference_ids {
            let category = self
                .categories
                .iter()
                .find(|c| c.id.as_deref() == Some(id.as_str()))
                .ok_or_else(|| {
                    RequestError(format!(
                        "RequestReference names {}, which no <Attributes> has as xml:id",
                        truncate(id, 100)
                    ))
                })?;
            out.push(category.clone());
        }
        Ok(out)
    }

    /// Altinn's controller (pdp.md §1.2): subjects and actions with a listed Id, and resources
    /// with a listed Id held in a map sorted by Id; the generic `Category` list is ignored.
    fn referenced_categories_json(&self, reference: &RequestReference) -> Vec<Category> {
        let listed = |c: &&Category| {
            c.id.as_ref()
                .is_some_and(|id| reference.reference_ids.contains(id))
        };
        let mut out: Vec<Category> = Vec::new();
        for wanted in [SUBJECT_CATEGORY, ACTION_CATEGORY] {
            out.extend(
                self.categories
                    .iter()
                    .filter(|c| c.category == wanted && c.id.is_some())
                    .filter(listed)
                    .cloned(),
            );
        }
        let mut resources: BTreeMap<&str, &Category> = BTreeMap::new();
        for c in self
            .categories
            .iter()
            .filter(|c| c.category == RESOURCE_CATEGORY)
            .filter(listed)
        {
            if let Some(id) = c.id.as_deref() {
                resources.entry(id).or_insert(c);
            }
        }
        out.extend(resources.into_values().cloned());
        out
    }
}

impl Default for Request {
    fn default() -> Self {
        Request::new()
    }
}

/// Parses a XACML 3.0 `<Request>` with the default [`Limits`].
pub fn parse_request_xml(text: &str) -> Result<Request, ParseError> {
    parse_request_xml_with_limits(text, &Limits::default())
}

pub fn parse_request_xml_with_limits(text: &str, limits: &Limits) -> Result<Request, ParseError> {
    let doc = xml::load(text, limits)?;
    let root = doc.root_element();
    check_namespace(root)?;
    if name(root) != "Request" {
        return Err(ParseError::element(
            name(root),
            "expected <Request> at the root",
        ));
    }
    let mut request = Request {
        format: RequestFormat::Xml,
        return_policy_id_list: boolean_attribute(root, "ReturnPolicyIdList", false)?,
        combined_decision: boolean_attribute(root, "CombinedDecision", false)?,
        categories: Vec::new(),
        multi_requests: Vec::new(),
    };
    for child in elements(root) {
        check_namespace(child)?;
        match name(child) {
            "RequestDefaults" => {}
            "Attributes" => request.categories.push(attributes_element(child)?),
            "MultiRequests" => {
                for reference in elements(child) {
                    check_namespace(reference)?;
                    if name(reference) != "RequestReference" {
                        return Err(ParseError::element(
                            "MultiRequests",
                            format!("unexpected child element <{}>", name(reference)),
                        ));
                    }
                    let mut ids = Vec::new();
                    for r in elements(reference) {
                        if name(r) != "AttributesReference" {
                            return Err(ParseError::element(
                                "RequestReference",
                                format!("unexpected child element <{}>", name(r)),
                            ));
                        }
                        ids.push(required(r, "ReferenceId")?.to_owned());
                    }
                    request
                        .multi_requests
                        .push(RequestReference { reference_ids: ids });
                }
            }
            other => {
                return Err(ParseError::element(
                    "Request",
                    format!("unexpected child element <{other}>"),
                ))
            }
        }
    }
    Ok(request)
}

fn attributes_element(node: roxmltree::Node<'_, '_>) -> Result<Category, ParseError> {
    let mut category = Category {
        category: required(node, "Category")?.to_owned(),
        id: node.attribute((XML_NS, "id")).map(str::to_owned),
        content: None,
        content_xml: None,
        attributes: Vec::new(),
    };
    for child in elements(node) {
        check_namespace(child)?;
        match name(child) {
            "Content" => category.content_xml = Some(Arc::new(XmlContent::from_node(child))),
            "Attribute" => {
                let mut attribute = Attribute {
                    attribute_id: required(child, "AttributeId")?.to_owned(),
                    issuer: child.attribute("Issuer").map(str::to_owned),
                    include_in_result: boolean_attribute(child, "IncludeInResult", false)?,
                    values: Vec::new(),
                };
                for v in elements(child) {
                    check_namespace(v)?;
                    if name(v) != "AttributeValue" {
                        return Err(ParseError::element(
                            "Attribute",
                            format!("unexpected child element <{}>", name(v)),
                        ));
                    }
                    let data_type = DataType::from_uri(required(v, "DataType")?);
                    let text = xml::text_content(v);
                    let value = if data_type == DataType::XPathExpression {
                        crate::value::xpath_value(v, &text)
                    } else {
                        Value::parse(&data_type, &text).map_err(|e| e.to_string())
                    }
                    .map_err(|e| {
                        ParseError::element(
                            "AttributeValue",
                            format!("attribute {}: {e}", truncate(&attribute.attribute_id, 200)),
                        )
                    })?;
                    attribute.values.push(value);
                }
                if attribute.values.is_empty() {
                    return Err(ParseError::element(
                        "Attribute",
                        format!(
                            "{} has no <AttributeValue>",
                            truncate(&attribute.attribute_id, 200)
                        ),
                    ));
                }
                category.attributes.push(attribute);
            }
            other => {
                return Err(ParseError::element(
                    "Attributes",
                    format!("unexpected child element <{other}>"),
                ))
            }
        }
    }
    Ok(category)
}

/// Parses a JSON-profile request (pdp.md §1.2) with the default [`Limits`].
pub fn parse_request_json(text: &str) -> Result<Request, ParseError> {
    parse_request_json_with_limits(text, &Limits::default())
}

pub fn parse_request_json_with_limits(text: &str, limits: &Limits) -> Result<Request, ParseError> {
    if text.len() > limits.max_document_bytes {
        return Err(ParseError::TooLarge {
            size: text.len(),
            limit: limits.max_document_bytes,
        });
    }
    // serde_json refuses nesting deeper than 128 levels on its own, without recursing further.
    let root = Node::parse(text).map_err(|e| ParseError::Json(e.to_string()))?;
    let body = root
        .get("Request")
        .ok_or_else(|| ParseError::Invalid("the JSON body has no \"Request\" object".into()))?;
    if !body.is_object() {
        return Err(ParseError::Invalid("\"Request\" must be an object".into()));
    }
    let mut request = Request {
        format: RequestFormat::Json,
        // Altinn ignores ReturnPolicyIdList and CombinedDecision in JSON (pdp.md §1.2).
        return_policy_id_list: false,
        combined_decision: false,
        categories: Vec::new(),
        multi_requests: Vec::new(),
    };
    for (key, category) in [
        ("AccessSubject", Some(SUBJECT_CATEGORY)),
        ("Action", Some(ACTION_CATEGORY)),
        ("Resource", Some(RESOURCE_CATEGORY)),
        ("Environment", Some(ENVIRONMENT_CATEGORY)),
        ("Category", None),
    ] {
        let Some(list) = body.get(key) else { continue };
        for item in list.as_list() {
            request
                .categories
                .push(json_category(item, key, category, limits)?);
        }
    }
    if let Some(multi) = body.get("MultiRequests") {
        if let Some(references) = multi.get("RequestReference") {
            for reference in references.as_list() {
                let ids = reference
                    .get("ReferenceId")
                    .map(Node::as_list)
                    .unwrap_or_default();
                let ids = ids
                    .into_iter()
                    .map(|id| {
                        id.as_str().map(str::to_owned).ok_or_else(|| {
                            ParseError::Invalid("ReferenceId entries must be strings".into())
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                request
                    .multi_requests
                    .push(RequestReference { reference_ids: ids });
            }
        }
    }
    Ok(request)
}

fn json_string(value: &Node<'_>, what: &str) -> Result<String, ParseError> {
    match value {
        Node::Text(s) => Ok(s.to_string()),
        Node::Number(n) => Ok(n.to_string()),
        Node::Bool(b) => Ok(b.to_string()),
        _ => Err(ParseError::Invalid(format!("{what} must be a string"))),
    }
}

/// pdp.md §1.2: JSON requests can express only string, anyURI and integer.
fn json_data_type(given: Option<&str>) -> Result<DataType, ParseError> {
    match given {
        None | Some("string") | Some("http://www.w3.org/2001/XMLSchema#string") => {
            Ok(DataType::String)
        }
        Some("anyURI") | Some("http://www.w3.org/2001/XMLSchema#anyURI") => Ok(DataType::AnyUri),
        Some("http://www.w3.org/2001/XMLSchema#integer") => Ok(DataType::Integer),
        Some(other) => Err(ParseError::Invalid(format!(
            "Given data type; {}, is not supported.",
            truncate(other, 200)
        ))),
    }
}

fn json_category(
    item: &Node<'_>,
    key: &str,
    fixed: Option<&str>,
    limits: &Limits,
) -> Result<Category, ParseError> {
    if !item.is_object() {
        return Err(ParseError::Invalid(format!(
            "each {key} entry must be an object"
        )));
    }
    let category = match fixed {
        Some(c) => c.to_owned(),
        None => json_string(
            item.get("CategoryId").ok_or_else(|| {
                ParseError::Invalid("a \"Category\" entry must set CategoryId".into())
            })?,
            "CategoryId",
        )?,
    };
    let mut out = Category {
        category,
        id: item.get("Id").map(|v| json_string(v, "Id")).transpose()?,
        content: item
            .get("Content")
            .map(|v| json_string(v, "Content"))
            .transpose()?,
        content_xml: None,
        attributes: Vec::new(),
    };
    for attribute in item.get("Attribute").map(Node::as_list).unwrap_or_default() {
        let attribute_id = json_string(
            attribute
                .get("AttributeId")
                .ok_or_else(|| ParseError::Invalid("an Attribute has no AttributeId".into()))?,
            "AttributeId",
        )?;
        let data_type = json_data_type(attribute.get("DataType").and_then(Node::as_str))?;
        let issuer = attribute
            .get("Issuer")
            .map(|v| json_string(v, "Issuer"))
            .transpose()?;
        let include_in_result = match attribute.get("IncludeInResult") {
            None => false,
            Some(Node::Bool(b)) => *b,
            Some(Node::Text(s)) if s.eq_ignore_ascii_case("true") => true,
            Some(Node::Text(s)) if s.eq_ignore_ascii_case("false") => false,
            Some(_) => {
                return Err(ParseError::Invalid(
                    "IncludeInResult must be true or false".into(),
                ))
            }
        };
        let mut values = Vec::new();
        for v in attribute.get("Value").map(Node::as_list).unwrap_or_default() {
            let text = json_string(v, "Value")?;
            if text.len() > limits.max_value_bytes {
                return Err(ParseError::ValueTooLong {
                    element: "Attribute".into(),
                    limit: limits.max_value_bytes,
                });
            }
            values.push(Value::parse(&data_type, &text).map_err(|e| {
                ParseError::Invalid(format!("attribute {}: {e}", truncate(&attribute_id, 200)))
            })?);
        }
        // A repeated AttributeId in one category becomes one attribute with a bag of values.
        match out
            .attributes
            .iter_mut()
            .find(|a| a.attribute_id == attribute_id && a.issuer == issuer)
        {
            Some(existing) => {
                existing.values.extend(values);
                existing.include_in_result |= include_in_result;
            }
            None => out.attributes.push(Attribute {
                attribute_id,
                issuer,
                include_in_result,
                values,
            }),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_keys_are_case_insensitive_and_ids_merge() {
        let r = parse_request_json(
            r#"{"request":{"accesssubject":[{"attribute":[{"attributeid":"urn:a","value":"1"},{"AttributeId":"urn:a","Value":"2"}]}],
               "Resource":{"Attribute":[{"AttributeId":"urn:n","Value":"7","DataType":"http://www.w3.org/2001/XMLSchema#integer"}]}}}"#,
        )
        .unwrap();
        assert_eq!(r.categories[0].attributes.len(), 1);
        assert_eq!(r.categories[0].attributes[0].values.len(), 2);
        assert!(r
            .values(RESOURCE_CATEGORY, "urn:n")
            .next()
            .unwrap()
            .equals(&Value::Integer(7)));
    }

    #[test]
    fn json_refuses_other_data_types_with_altinn_text() {
        let err = parse_request_json(r#"{"Request":{"Action":[{"Attribute":[{"AttributeId":"a","Value":"1","DataType":"boolean"}]}]}}"#).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Given data type; boolean, is not supported."
        );
        let err = parse_request_json(r#"{"Request":{"Category":[{"Attribute":[]}]}}"#).unwrap_err();
        assert!(err.to_string().contains("CategoryId"));
    }

    #[test]
    fn json_multi_requests_need_two_references() {
        let body = |refs: &str| {
            format!(
                r#"{{"Request":{{"AccessSubject":[{{"Id":"s1","Attribute":[{{"AttributeId":"u","Value":"x"}}]}}],
                "Action":[{{"Id":"a1","Attribute":[{{"AttributeId":"urn:oasis:names:tc:xacml:1.0:action:action-id","Value":"read"}}]}}],
                "Resource":[{{"Id":"r2","Attribute":[{{"AttributeId":"urn:altinn:resource","Value":"b"}}]}},{{"Id":"r1","Attribute":[{{"AttributeId":"urn:altinn:resource","Value":"a"}}]}}],
                "MultiRequests":{{"RequestReference":[{refs}]}}}}}}"#
            )
        };
        let one = parse_request_json(&body(r#"{"ReferenceId":["s1","a1","r1"]}"#)).unwrap();
        assert!(!one.is_multiple());
        assert_eq!(one.individual_requests().unwrap().len(), 1);
        let two = parse_request_json(&body(
            r#"{"ReferenceId":["s1","a1","r2"]},{"ReferenceId":["r1","s1","a1"]}"#,
        ))
        .unwrap();
        let split = two.individual_requests().unwrap();
        assert_eq!(split.len(), 2);
        let resource = |r: &Request| {
            r.values(RESOURCE_CATEGORY, "urn:altinn:resource")
                .next()
                .unwrap()
                .lexical()
                .into_owned()
        };
        assert_eq!(resource(&split[0]), "b");
        assert_eq!(resource(&split[1]), "a");
        assert_eq!(split[1].categories.len(), 3);
    }

    #[test]
    fn add_attribute_extends_or_creates() {
        let mut r = Request::new();
        r.add_attribute(
            SUBJECT_CATEGORY,
            "urn:altinn:rolecode",
            Value::String("DAGL".into()),
        );
        r.add_attribute(
            SUBJECT_CATEGORY,
            "urn:altinn:rolecode",
            Value::String("REGNA".into()),
        );
        r.add_attribute_text(
            RESOURCE_CATEGORY,
            "urn:altinn:partyid",
            "http://www.w3.org/2001/XMLSchema#integer",
            "50005545",
        )
        .unwrap();
        assert_eq!(r.categories.len(), 2);
        assert_eq!(r.values(SUBJECT_CATEGORY, "urn:altinn:rolecode").count(), 2);
        assert!(r
            .add_attribute_text(
                RESOURCE_CATEGORY,
                "x",
                "http://www.w3.org/2001/XMLSchema#integer",
                "x"
            )
            .is_err());
    }
}
