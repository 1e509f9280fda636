//! Hardened XML loading shared by the policy and request parsers.
//!
//! Hostile XML is refused before any tree is built where that is cheap (size, DOCTYPE) and
//! right after otherwise (depth, node count, value length), so no input can make the engine
//! expand entities, fetch files, recurse deeply or hold unbounded memory.

use roxmltree::{Document, Node, ParsingOptions};

use crate::error::ParseError;
use crate::value::truncate;

pub const XACML3_NS: &str = "urn:oasis:names:tc:xacml:3.0:core:schema:wd-17";
pub const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";

/// Bounds applied to every XML or JSON document this crate reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest document in bytes.
    pub max_document_bytes: usize,
    /// Deepest element nesting; real policies stay under 15.
    pub max_depth: usize,
    /// Most XML nodes (elements, text, comments) in one document.
    pub max_nodes: u32,
    /// Longest attribute value or text node in bytes.
    pub max_value_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_document_bytes: 4 * 1024 * 1024,
            max_depth: 64,
            max_nodes: 200_000,
            max_value_bytes: 64 * 1024,
        }
    }
}

/// Parses `text` under `limits`. Any DOCTYPE is refused outright, even an empty one: XACML
/// never needs one, and refusing is simpler to reason about than allowing some.
pub(crate) fn load<'t>(text: &'t str, limits: &Limits) -> Result<Document<'t>, ParseError> {
    if text.len() > limits.max_document_bytes {
        return Err(ParseError::TooLarge {
            size: text.len(),
            limit: limits.max_document_bytes,
        });
    }
    if contains_doctype(text) {
        return Err(ParseError::Doctype);
    }
    // roxmltree's tokenizer recurses per nesting level, so depth is checked on the raw text
    // before it runs; the walk after parsing checks the exact depth again.
    if markup_depth(text) > limits.max_depth {
        return Err(ParseError::TooDeep {
            limit: limits.max_depth,
        });
    }
    let options = ParsingOptions {
        allow_dtd: false,
        nodes_limit: limits.max_nodes,
    };
    let doc = Document::parse_with_options(text, options).map_err(|e| match e {
        roxmltree::Error::DtdDetected => ParseError::Doctype,
        roxmltree::Error::NodesLimitReached => ParseError::TooManyNodes {
            limit: limits.max_nodes as usize,
        },
        other => ParseError::Xml(other.to_string()),
    })?;
    // Iterative walk in document order (a parent comes before its children), so checking
    // depth needs no recursion; the recursive parsers that follow stay within `max_depth`.
    let mut depths: Vec<u16> = Vec::new();
    for node in doc.descendants() {
        let index = node.id().get_usize();
        if depths.len() <= index {
            depths.resize(index + 1, 0);
        }
        let parent_depth = node
            .parent()
            .map_or(0, |p| depths.get(p.id().get_usize()).copied().unwrap_or(0));
        if node.is_element() {
            let depth = usize::from(parent_depth) + 1;
            if depth > limits.max_depth {
                return Err(ParseError::TooDeep {
                    limit: limits.max_depth,
                });
            }
            depths[index] = depth as u16;
            for attribute in node.attributes() {
                if attribute.value().len() > limits.max_value_bytes {
                    return Err(ParseError::ValueTooLong {
                        element: node.tag_name().name().to_owned(),
                        limit: limits.max_value_bytes,
                    });
                }
            }
        } else {
            depths[index] = parent_depth;
            if node.is_text()
                && node
                    .text()
                    .is_some_and(|t| t.len() > limits.max_value_bytes)
            {
                let parent = node
                    .parent()
                    .map(|p| p.tag_name().name().to_owned())
                    .unwrap_or_default();
                return Err(ParseError::ValueTooLong {
                    element: parent,
                    limit: limits.max_value_bytes,
                });
            }
        }
    }
    Ok(doc)
}

/// The deepest element nesting of `text`, read without building anything: start tags open a
/// level, end tags close one; comments, CDATA sections and processing instructions are
/// skipped, and quoted attribute values may hold `>`. On malformed input the figure is only
/// approximate, which is enough: the parser then refuses the document anyway.
fn markup_depth(text: &str) -> usize {
    let bytes = text.as_bytes();
    let find = |from: usize, needle: &[u8]| -> usize {
        bytes[from.min(bytes.len())..]
            .windows(needle.len())
            .position(|w| w == needle)
            .map_or(bytes.len(), |p| from + p + needle.len())
    };
    let (mut i, mut depth, mut deepest) = (0usize, 0usize, 0usize);
    while i < bytes.len() {
        if bytes[i] != b'<' {
            i += 1;
            continue;
        }
        let rest = &bytes[i + 1..];
        if rest.starts_with(b"!--") {
            i = find(i + 4, b"-->");
        } else if rest.starts_with(b"![CDATA[") {
            i = find(i + 9, b"]]>");
        } else if rest.starts_with(b"?") {
            i = find(i + 2, b"?>");
        } else if rest.starts_with(b"!") {
            i = find(i + 2, b">");
        } else if rest.starts_with(b"/") {
            depth = depth.saturating_sub(1);
            i = find(i + 2, b">");
        } else {
            let mut j = i + 1;
            let mut quote = None;
            while j < bytes.len() {
                match (quote, bytes[j]) {
                    (None, b'"' | b'\'') => quote = Some(bytes[j]),
                    (Some(q), c) if c == q => quote = None,
                    (None, b'>') => break,
                    _ => {}
                }
                j += 1;
            }
            if bytes.get(j.wrapping_sub(1)) != Some(&b'/') {
                depth += 1;
                deepest = deepest.max(depth);
            }
            i = j + 1;
        }
    }
    deepest
}

fn contains_doctype(text: &str) -> bool {
    text.as_bytes()
        .windows(9)
        .any(|w| w.eq_ignore_ascii_case(b"<!DOCTYPE"))
}

/// Child elements, skipping text, comments and processing instructions.
pub(crate) fn elements<'a, 'input>(
    node: Node<'a, 'input>,
) -> impl Iterator<Item = Node<'a, 'input>> {
    node.children().filter(|n| n.is_element())
}

pub(crate) fn name<'a>(node: Node<'a, '_>) -> &'a str {
    node.tag_name().name()
}

/// Elements must be in the XACML 3.0 namespace; an element from another namespace (or a 2.0
/// document) is refused with a specific error rather than misread.
pub(crate) fn check_namespace(node: Node<'_, '_>) -> Result<(), ParseError> {
    match node.tag_name().namespace() {
        Some(XACML3_NS) => Ok(()),
        Some(other) => Err(ParseError::element(
            name(node),
            format!(
                "is in namespace {}, expected {XACML3_NS}",
                truncate(other, 100)
            ),
        )),
        None => Err(ParseError::element(
            name(node),
            format!("has no namespace, expected {XACML3_NS}"),
        )),
    }
}

pub(crate) fn required<'a>(
    node: Node<'a, '_>,
    attribute: &'static str,
) -> Result<&'a str, ParseError> {
    node.attribute(attribute)
        .ok_or_else(|| ParseError::MissingAttribute {
            element: name(node).to_owned(),
            attribute,
        })
}

pub(crate) fn boolean_attribute(
    node: Node<'_, '_>,
    attribute: &'static str,
    default: bool,
) -> Result<bool, ParseError> {
    match node.attribute(attribute).map(str::trim) {
        None => Ok(default),
        Some("true" | "1") => Ok(true),
        Some("false" | "0") => Ok(false),
        Some(other) => Err(ParseError::InvalidAttribute {
            element: name(node).to_owned(),
            attribute,
            value: truncate(other, 100).into_owned(),
            reason: "expected true or false".into(),
        }),
    }
}

/// The text content of an element that should hold only text (AttributeValue).
pub(crate) fn text_content(node: Node<'_, '_>) -> String {
    let mut out = String::new();
    for child in node.children() {
        if let Some(t) = child.text() {
            if child.is_text() {
                out.push_str(t);
            }
        }
    }
    out
}

/// XML-escapes text for element content and attribute values.
pub(crate) fn escape(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_doctype_and_depth() {
        let limits = Limits::default();
        assert_eq!(
            load("<!DOCTYPE a><a/>", &limits).err(),
            Some(ParseError::Doctype)
        );
        let deep = "<a>".repeat(65) + &"</a>".repeat(65);
        assert_eq!(
            load(&deep, &limits).err(),
            Some(ParseError::TooDeep { limit: 64 })
        );
        let ok = "<a>".repeat(64) + &"</a>".repeat(64);
        assert!(load(&ok, &limits).is_ok());
    }

    #[test]
    fn depth_scan_skips_comments_and_quotes() {
        assert_eq!(
            markup_depth("<a><!-- <b><c> --><b x='>' y=\"<\"/><![CDATA[<d>]]><?p <e>?></a>"),
            1
        );
        assert_eq!(markup_depth("<a><b><c/></b></a>"), 2);
    }

    #[test]
    fn escapes_markup() {
        let mut s = String::new();
        escape("a<b & \"c\"", &mut s);
        assert_eq!(s, "a&lt;b &amp; &quot;c&quot;");
    }
}
