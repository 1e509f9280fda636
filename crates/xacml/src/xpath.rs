//! A small XPath 1.0 subset over a request's `<Content>`, for AttributeSelector and the
//! `xpath-node-*` functions (XACML 3.0 §5.30, §A.3.15).
//!
//! Supported: absolute and relative location paths with `/` and `//`, `.` and `..`, name
//! tests (`prefix:name`, `prefix:*`, `*`), `@name`, `text()`, `node()`, and predicates
//! `[n]`, `[text()='…']`, `[@name='…']` and `[name='…']`. Anything else is an error (Indeterminate `processing-error`), never a
//! guess. Content is copied out of the request document into a flat arena once, when the
//! request is parsed, so evaluation needs no XML parser and cannot recurse deeply.

use std::sync::Arc;

use roxmltree::Node;

/// One node of a request's Content.
#[derive(Debug, Clone, PartialEq)]
struct XNode {
    kind: Kind,
    parent: Option<usize>,
    children: Vec<usize>,
    attributes: Vec<usize>,
    /// One past the last node of this node's subtree: nodes are stored in document order,
    /// so a subtree is a contiguous range.
    end: usize,
}

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Element {
        namespace: Option<String>,
        name: String,
    },
    Attribute {
        namespace: Option<String>,
        name: String,
        value: String,
    },
    Text(String),
}

/// The `<Content>` of one request category: node 0 is the Content element, which is the
/// context node of absolute and relative paths alike.
#[derive(Debug, Clone, PartialEq)]
pub struct XmlContent {
    nodes: Vec<XNode>,
}

/// Namespace bindings in scope where an XPath expression was written.
pub type Namespaces = Arc<Vec<(String, String)>>;

pub(crate) fn namespaces_of(node: Node<'_, '_>) -> Namespaces {
    Arc::new(
        node.namespaces()
            .filter_map(|ns| {
                ns.name()
                    .map(|prefix| (prefix.to_owned(), ns.uri().to_owned()))
            })
            .collect(),
    )
}

impl XmlContent {
    /// Copies the subtree of a `<Content>` element. The document was already bounded in
    /// depth and size when it was loaded; the copy walks it without recursion.
    pub(crate) fn from_node(content: Node<'_, '_>) -> XmlContent {
        let mut nodes = vec![XNode {
            kind: Kind::Element {
                namespace: None,
                name: "Content".into(),
            },
            parent: None,
            children: Vec::new(),
            attributes: Vec::new(),
            end: 0,
        }];
        let mut stack: Vec<(Node<'_, '_>, usize)> =
            content.children().rev().map(|c| (c, 0)).collect();
        while let Some((node, parent)) = stack.pop() {
            let kind = if node.is_element() {
                Kind::Element {
                    namespace: node.tag_name().namespace().map(str::to_owned),
                    name: node.tag_name().name().to_owned(),
                }
            } else if node.is_text() {
                Kind::Text(node.text().unwrap_or("").to_owned())
            } else {
                continue;
            };
            let index = nodes.len();
            nodes.push(XNode {
                kind,
                parent: Some(parent),
                children: Vec::new(),
                attributes: Vec::new(),
                end: 0,
            });
            nodes[parent].children.push(index);
            if node.is_element() {
                for a in node.attributes() {
                    let attribute = nodes.len();
                    nodes.push(XNode {
                        kind: Kind::Attribute {
                            namespace: a.namespace().map(str::to_owned),
                            name: a.name().to_owned(),
                            value: a.value().to_owned(),
                        },
                        parent: Some(index),
                        children: Vec::new(),
                        attributes: Vec::new(),
                        end: 0,
                    });
                    nodes[index].attributes.push(attribute);
                }
                stack.extend(node.children().rev().map(|c| (c, index)));
            }
        }
        for i in (0..nodes.len()).rev() {
            let node = &nodes[i];
            let end = node
                .children
                .iter()
                .chain(&node.attributes)
                .map(|&c| nodes[c].end)
                .max()
                .unwrap_or(i + 1)
                .max(i + 1);
            nodes[i].end = end;
        }
        XmlContent { nodes }
    }

    /// The XPath string value of a node: an attribute's value, a text node's text, or the
    /// concatenated text of an element's descendants.
    pub(crate) fn string_value(&self, node: usize) -> String {
        match &self.nodes[node].kind {
            Kind::Attribute { value, .. } => value.clone(),
            Kind::Text(t) => t.clone(),
            Kind::Element { .. } => {
                let mut out = String::new();
                let mut stack = vec![node];
                while let Some(n) = stack.pop() {
                    match &self.nodes[n].kind {
                        Kind::Text(t) => out.push_str(t),
                        _ => stack.extend(self.nodes[n].children.iter().rev()),
                    }
                }
                out
            }
        }
    }

    /// Whether `node` is `ancestor` or lies below it (attributes included).
    pub(crate) fn is_at_or_below(&self, node: usize, ancestor: usize) -> bool {
        let mut current = Some(node);
        while let Some(n) = current {
            if n == ancestor {
                return true;
            }
            current = self.nodes[n].parent;
        }
        false
    }

    /// Evaluates `path` with `context` as the context node; nodes come back in document order.
    pub(crate) fn select(
        &self,
        path: &str,
        namespaces: &[(String, String)],
        context: usize,
    ) -> Result<Vec<usize>, String> {
        let steps = parse(path)?;
        let mut current = vec![context];
        for step in &steps {
            let mut next = vec![false; self.nodes.len()];
            // Context nodes inside a subtree already searched by `//` add nothing new;
            // skipping them keeps every step linear in the size of the Content.
            let mut searched_until = 0;
            for &n in &current {
                if step.axis == Axis::DescendantOrSelfChild {
                    if n < searched_until {
                        continue;
                    }
                    searched_until = self.nodes[n].end;
                }
                let mut candidates = Vec::new();
                match step.axis {
                    Axis::Root => candidates.push(0),
                    Axis::SelfNode => candidates.push(n),
                    Axis::Parent => candidates.extend(self.nodes[n].parent),
                    Axis::Child => candidates.extend(self.nodes[n].children.iter().copied()),
                    Axis::Attribute => candidates.extend(self.nodes[n].attributes.iter().copied()),
                    Axis::DescendantOrSelfChild => {
                        // `//x` is /descendant-or-self::node()/child::x.
                        let mut stack = vec![n];
                        while let Some(d) = stack.pop() {
                            candidates.extend(self.nodes[d].children.iter().copied());
                            stack.extend(self.nodes[d].children.iter().rev());
                        }
                        candidates.sort_unstable_by_key(|&c| (self.nodes[c].parent, c));
                    }
                }
                // A position counts among the matching children of one parent, as
                // `descendant-or-self::node()/child::x[n]` does.
                let mut last_parent = None;
                let mut position = 0;
                for c in candidates {
                    if !self.test(c, &step.test, namespaces)? {
                        continue;
                    }
                    if self.nodes[c].parent != last_parent {
                        last_parent = self.nodes[c].parent;
                        position = 0;
                    }
                    position += 1;
                    let keep = match &step.predicate {
                        None => true,
                        Some(Predicate::Position(p)) => *p == position,
                        Some(Predicate::Equals(operand, literal)) => {
                            self.operand_equals(c, operand, literal, namespaces)?
                        }
                    };
                    if keep {
                        next[c] = true;
                    }
                }
            }
            current = next
                .iter()
                .enumerate()
                .filter_map(|(i, &on)| on.then_some(i))
                .collect();
        }
        Ok(current)
    }

    /// Whether some node the operand selects from `node` has `literal` as its string value.
    fn operand_equals(
        &self,
        node: usize,
        operand: &Operand,
        literal: &str,
        namespaces: &[(String, String)],
    ) -> Result<bool, String> {
        let (pool, test) = match operand {
            Operand::Text => (&self.nodes[node].children, &NodeTest::Text),
            Operand::Attribute(test) => (&self.nodes[node].attributes, test),
            Operand::Child(test) => (&self.nodes[node].children, test),
        };
        for &n in pool {
            if self.test(n, test, namespaces)? && self.string_value(n) == literal {
                return Ok(true);
            }
        }
        Ok(false)
    }

    fn test(
        &self,
        node: usize,
        test: &NodeTest,
        namespaces: &[(String, String)],
    ) -> Result<bool, String> {
        let resolve = |prefix: &str| -> Result<Option<String>, String> {
            if prefix.is_empty() {
                return Ok(None);
            }
            namespaces
                .iter()
                .find(|(p, _)| p == prefix)
                .map(|(_, uri)| Some(uri.clone()))
                .ok_or_else(|| format!("namespace prefix {prefix} is not declared"))
        };
        Ok(match (test, &self.nodes[node].kind) {
            (NodeTest::Node, _) => true,
            (NodeTest::Text, Kind::Text(_)) => true,
            (
                NodeTest::Name { prefix, local },
                Kind::Element { namespace, name }
                | Kind::Attribute {
                    namespace, name, ..
                },
            ) => {
                let wanted = resolve(prefix)?;
                let namespace_ok = (local == "*" && prefix.is_empty())
                    || wanted.as_deref() == namespace.as_deref();
                namespace_ok && (local == "*" || local == name)
            }
            _ => false,
        })
    }
}

#[derive(Debug, PartialEq)]
enum Axis {
    Root,
    SelfNode,
    Parent,
    Child,
    Attribute,
    DescendantOrSelfChild,
}

#[derive(Debug, PartialEq)]
enum NodeTest {
    Name { prefix: String, local: String },
    Text,
    Node,
}

#[derive(Debug, PartialEq)]
enum Operand {
    Text,
    Attribute(NodeTest),
    Child(NodeTest),
}

#[derive(Debug, PartialEq)]
enum Predicate {
    Position(usize),
    Equals(Operand, String),
}

#[derive(Debug, PartialEq)]
struct Step {
    axis: Axis,
    test: NodeTest,
    predicate: Option<Predicate>,
}

fn parse(path: &str) -> Result<Vec<Step>, String> {
    let path = path.trim();
    if path.is_empty() || path.len() > 1024 {
        return Err("empty or overlong XPath expression".into());
    }
    let mut steps = Vec::new();
    let mut rest = path;
    let mut descendant = false;
    if let Some(r) = rest.strip_prefix("//") {
        steps.push(Step {
            axis: Axis::Root,
            test: NodeTest::Node,
            predicate: None,
        });
        descendant = true;
        rest = r;
    } else if let Some(r) = rest.strip_prefix('/') {
        steps.push(Step {
            axis: Axis::Root,
            test: NodeTest::Node,
            predicate: None,
        });
        rest = r;
        if rest.is_empty() {
            return Ok(steps);
        }
    }
    loop {
        let end = separator(rest);
        let (text, after) = rest.split_at(end);
        steps.push(step(text.trim(), descendant)?);
        if after.is_empty() {
            return Ok(steps);
        }
        if let Some(r) = after.strip_prefix("//") {
            descendant = true;
            rest = r;
        } else {
            descendant = false;
            rest = &after[1..];
        }
    }
}

/// The index of the next `/` outside a predicate and outside quotes.
fn separator(text: &str) -> usize {
    let (mut depth, mut quote) = (0usize, None);
    for (i, c) in text.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '[') => depth += 1,
            (None, ']') => depth = depth.saturating_sub(1),
            (None, '/') if depth == 0 => return i,
            _ => {}
        }
    }
    text.len()
}

fn name_test(name: &str) -> Option<NodeTest> {
    let (prefix, local) = name.split_once(':').unwrap_or(("", name));
    let valid = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
    };
    ((local == "*" || valid(local)) && (prefix.is_empty() || valid(prefix))).then(|| {
        NodeTest::Name {
            prefix: prefix.into(),
            local: local.into(),
        }
    })
}

fn predicate(text: &str) -> Option<Predicate> {
    let text = text.trim();
    if let Ok(n) = text.parse::<usize>() {
        return (n > 0).then_some(Predicate::Position(n));
    }
    let (left, right) = text.split_once('=')?;
    let right = right.trim();
    let literal = right
        .strip_prefix('\'')
        .and_then(|r| r.strip_suffix('\''))
        .or_else(|| right.strip_prefix('"').and_then(|r| r.strip_suffix('"')))?;
    let left = left.trim();
    let operand = match left {
        "text()" => Operand::Text,
        _ => match left.strip_prefix('@') {
            Some(name) => Operand::Attribute(name_test(name)?),
            None => Operand::Child(name_test(left)?),
        },
    };
    Some(Predicate::Equals(operand, literal.to_owned()))
}

fn step(text: &str, descendant: bool) -> Result<Step, String> {
    let unsupported = || format!("XPath step \"{text}\" is not supported");
    let (body, predicate) = match text.split_once('[') {
        Some((body, rest)) => {
            let inner = rest.strip_suffix(']').ok_or_else(unsupported)?;
            (body, Some(predicate(inner).ok_or_else(unsupported)?))
        }
        None => (text, None),
    };
    let child_axis = if descendant {
        Axis::DescendantOrSelfChild
    } else {
        Axis::Child
    };
    let (axis, test) = match body {
        "." if !descendant => (Axis::SelfNode, NodeTest::Node),
        ".." if !descendant => (Axis::Parent, NodeTest::Node),
        "text()" => (child_axis, NodeTest::Text),
        "node()" => (child_axis, NodeTest::Node),
        _ => match body.strip_prefix('@') {
            Some(name) if !descendant => {
                (Axis::Attribute, name_test(name).ok_or_else(unsupported)?)
            }
            Some(_) => return Err(unsupported()),
            None => (child_axis, name_test(body).ok_or_else(unsupported)?),
        },
    };
    Ok(Step {
        axis,
        test,
        predicate,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn content(xml: &str) -> XmlContent {
        let doc = roxmltree::Document::parse(xml).unwrap();
        XmlContent::from_node(doc.root_element())
    }

    #[test]
    fn selects_paths() {
        let c = content(
            r#"<Content xmlns:md="urn:md"><md:records><md:record><md:name>Bart</md:name><md:m type="yes"/></md:record><md:record><md:name>Homer</md:name></md:record></md:records></Content>"#,
        );
        let ns = vec![("md".to_owned(), "urn:md".to_owned())];
        let names = c.select("//md:record/md:name/text()", &ns, 0).unwrap();
        assert_eq!(
            names.iter().map(|n| c.string_value(*n)).collect::<Vec<_>>(),
            ["Bart", "Homer"]
        );
        let types = c.select("//md:record/md:m/@type", &ns, 0).unwrap();
        assert_eq!(c.string_value(types[0]), "yes");
        assert_eq!(c.select("//md:record[2]", &ns, 0).unwrap().len(), 1);
        assert_eq!(c.select("//*", &ns, 0).unwrap().len(), 6);
        let record = c.select("/md:records/md:record", &ns, 0).unwrap()[0];
        assert_eq!(c.select("md:name/text()", &ns, record).unwrap().len(), 1);
        assert!(c.select("//md:record[?]", &ns, 0).is_err());
        let bart = c.select("//md:name[text()='Bart']", &ns, 0).unwrap();
        assert_eq!(bart.len(), 1);
        assert_eq!(
            c.select("//md:record[md:name='Homer']/md:name/text()", &ns, 0)
                .unwrap()
                .iter()
                .map(|n| c.string_value(*n))
                .collect::<Vec<_>>(),
            ["Homer"]
        );
        assert_eq!(c.select("//md:m[@type='yes']", &ns, 0).unwrap().len(), 1);
        assert_eq!(
            c.select("//md:name[text()='a/b']", &ns, 0).unwrap().len(),
            0
        );
        assert!(c.select("//x:y", &ns, 0).is_err());
        assert!(c.select("count(//a)", &ns, 0).is_err());
    }
}
