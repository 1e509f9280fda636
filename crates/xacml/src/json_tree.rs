//! A JSON document as the JSON profile reads it, parsed in one pass without `serde_json::Value`.
//!
//! A decision request is parsed once per HTTP call, and building a `Value` (a sorted map and an
//! owned string for every key, an owned string for every value) was a tenth of the decision
//! route's time. Here objects keep their members as written and strings borrow from the text
//! unless they contain escapes. Lookups answer exactly as the `Value` version did: keys match
//! case-insensitively, the byte-wise smallest matching key wins, a repeated key counts in its
//! last occurrence, and null means absent.

use std::borrow::Cow;
use std::fmt;

use serde::de::{Deserialize, Deserializer, Error as _, MapAccess, SeqAccess, Visitor};

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node<'a> {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    Text(Cow<'a, str>),
    List(Vec<Node<'a>>),
    Object(Vec<(Cow<'a, str>, Node<'a>)>),
}

impl<'a> Node<'a> {
    pub(crate) fn parse(text: &'a str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }

    pub(crate) fn is_object(&self) -> bool {
        matches!(self, Node::Object(_))
    }

    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Node::Text(s) => Some(s),
            _ => None,
        }
    }

    /// A member by case-insensitive key (the profile's keys are case-insensitive).
    pub(crate) fn get(&self, key: &str) -> Option<&Node<'a>> {
        let Node::Object(members) = self else { return None };
        let mut found: Option<(&str, &Node<'a>)> = None;
        for (k, v) in members {
            if k.eq_ignore_ascii_case(key) && found.is_none_or(|(best, _)| k.as_ref() <= best) {
                found = Some((k, v));
            }
        }
        found.map(|(_, v)| v).filter(|v| !matches!(v, Node::Null))
    }

    /// The profile allows a single object where an array is expected.
    pub(crate) fn as_list(&self) -> Vec<&Node<'a>> {
        match self {
            Node::List(items) => items.iter().collect(),
            Node::Null => Vec::new(),
            other => vec![other],
        }
    }
}

impl<'de> Deserialize<'de> for Node<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Node::Null)
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(Node::Null)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Node::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Node::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Node::Number(v.into()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        // As serde_json's own Value: a float JSON cannot hold becomes null.
        Ok(serde_json::Number::from_f64(v).map_or(Node::Null, Node::Number))
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Node::Text(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Node::Text(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Node::Text(Cow::Owned(v)))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Node::List(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut members = Vec::new();
        // serde_json hands object keys to the same visitor, always as strings.
        while let Some((key, v)) = map.next_entry::<Node<'de>, Node<'de>>()? {
            let Node::Text(k) = key else { return Err(A::Error::custom("an object key must be a string")) };
            members.push((k, v));
        }
        Ok(Node::Object(members))
    }
}

#[cfg(test)]
mod tests {
    use super::Node;

    /// The lookups answer as `serde_json::Value`'s did for the same text.
    fn same_as_value(text: &str, key: &str) {
        let value: serde_json::Value = serde_json::from_str(text).unwrap();
        let expected = value
            .as_object()
            .unwrap()
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
            .filter(|v| !v.is_null())
            .map(|v| v.to_string());
        let node = Node::parse(text).unwrap();
        let got = node.get(key).map(|n| match n {
            Node::Text(s) => serde_json::Value::String(s.to_string()).to_string(),
            Node::Number(n) => n.to_string(),
            Node::Bool(b) => b.to_string(),
            other => format!("{other:?}"),
        });
        assert_eq!(got, expected, "{text} / {key}");
    }

    #[test]
    fn lookups_match_the_value_semantics_for_odd_keys() {
        same_as_value(r#"{"Request":"a"}"#, "request");
        same_as_value(r#"{"request":"lower","Request":"upper"}"#, "REQUEST");
        same_as_value(r#"{"Request":"first","Request":"last"}"#, "Request");
        same_as_value(r#"{"Request":null,"request":"x"}"#, "Request");
        same_as_value(r#"{"request":"x","REQUEST":null}"#, "Request");
        same_as_value(r#"{"Value":1.5e3}"#, "value");
        same_as_value(r#"{"Value":-7}"#, "value");
        same_as_value(r#"{"Value":18446744073709551615}"#, "value");
        same_as_value(r#"{"Value":"esc\"aped\u00e6"}"#, "value");
        same_as_value(r#"{"other":1}"#, "value");
    }

    #[test]
    fn strings_without_escapes_borrow_from_the_text() {
        let node = Node::parse(r#"{"k":"plain","e":"a\nb"}"#).unwrap();
        assert!(matches!(node.get("k"), Some(Node::Text(std::borrow::Cow::Borrowed("plain")))));
        assert!(matches!(node.get("e"), Some(Node::Text(std::borrow::Cow::Owned(s))) if s == "a\nb"));
    }

    #[test]
    fn single_values_stand_for_lists() {
        let node = Node::parse(r#"{"a":[1,2],"b":{"x":1},"c":null}"#).unwrap();
        assert_eq!(node.get("a").unwrap().as_list().len(), 2);
        assert_eq!(node.get("b").unwrap().as_list().len(), 1);
        assert!(node.get("c").is_none());
    }
}
