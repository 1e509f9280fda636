//! XACML data types (XACML 3.0 §B.3) and typed attribute values.
//!
//! A value is parsed from its lexical form once, when the policy or request is parsed, so
//! evaluation compares typed values and never re-parses text.

use std::borrow::Cow;
use std::fmt;

use base64::Engine as _;

use crate::temporal::{Date, DateTime, DayTimeDuration, Time, YearMonthDuration};
use crate::xpath::Namespaces;

const XS: &str = "http://www.w3.org/2001/XMLSchema#";

/// The data types this engine knows; any other identifier is carried as [`DataType::Other`]
/// and compared only by its text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DataType {
    String,
    Boolean,
    Integer,
    Double,
    Time,
    Date,
    DateTime,
    DayTimeDuration,
    YearMonthDuration,
    AnyUri,
    HexBinary,
    Base64Binary,
    Rfc822Name,
    X500Name,
    IpAddress,
    DnsName,
    XPathExpression,
    Other(Box<str>),
}

impl DataType {
    pub fn from_uri(uri: &str) -> DataType {
        if let Some(local) = uri.strip_prefix(XS) {
            if let Some(t) = DataType::from_short_name(local) {
                if !matches!(
                    t,
                    DataType::Rfc822Name
                        | DataType::X500Name
                        | DataType::IpAddress
                        | DataType::DnsName
                ) {
                    return t;
                }
            }
        }
        match uri {
            "urn:oasis:names:tc:xacml:1.0:data-type:rfc822Name" => DataType::Rfc822Name,
            "urn:oasis:names:tc:xacml:1.0:data-type:x500Name" => DataType::X500Name,
            "urn:oasis:names:tc:xacml:2.0:data-type:ipAddress" => DataType::IpAddress,
            "urn:oasis:names:tc:xacml:2.0:data-type:dnsName" => DataType::DnsName,
            "urn:oasis:names:tc:xacml:3.0:data-type:xpathExpression" => DataType::XPathExpression,
            // XACML 1.x/2.0 named the durations after the XQuery working draft.
            "http://www.w3.org/TR/2002/WD-xquery-operators-20020816#dayTimeDuration" => {
                DataType::DayTimeDuration
            }
            "http://www.w3.org/TR/2002/WD-xquery-operators-20020816#yearMonthDuration" => {
                DataType::YearMonthDuration
            }
            other => DataType::Other(other.into()),
        }
    }

    /// The name used inside function identifiers (`integer` in `integer-equal`).
    pub(crate) fn from_short_name(name: &str) -> Option<DataType> {
        Some(match name {
            "string" => DataType::String,
            "boolean" => DataType::Boolean,
            "integer" => DataType::Integer,
            "double" => DataType::Double,
            "time" => DataType::Time,
            "date" => DataType::Date,
            "dateTime" => DataType::DateTime,
            "dayTimeDuration" => DataType::DayTimeDuration,
            "yearMonthDuration" => DataType::YearMonthDuration,
            "anyURI" => DataType::AnyUri,
            "hexBinary" => DataType::HexBinary,
            "base64Binary" => DataType::Base64Binary,
            "rfc822Name" => DataType::Rfc822Name,
            "x500Name" => DataType::X500Name,
            "ipAddress" => DataType::IpAddress,
            "dnsName" => DataType::DnsName,
            _ => return None,
        })
    }

    pub fn uri(&self) -> &str {
        match self {
            DataType::String => "http://www.w3.org/2001/XMLSchema#string",
            DataType::Boolean => "http://www.w3.org/2001/XMLSchema#boolean",
            DataType::Integer => "http://www.w3.org/2001/XMLSchema#integer",
            DataType::Double => "http://www.w3.org/2001/XMLSchema#double",
            DataType::Time => "http://www.w3.org/2001/XMLSchema#time",
            DataType::Date => "http://www.w3.org/2001/XMLSchema#date",
            DataType::DateTime => "http://www.w3.org/2001/XMLSchema#dateTime",
            DataType::DayTimeDuration => "http://www.w3.org/2001/XMLSchema#dayTimeDuration",
            DataType::YearMonthDuration => "http://www.w3.org/2001/XMLSchema#yearMonthDuration",
            DataType::AnyUri => "http://www.w3.org/2001/XMLSchema#anyURI",
            DataType::HexBinary => "http://www.w3.org/2001/XMLSchema#hexBinary",
            DataType::Base64Binary => "http://www.w3.org/2001/XMLSchema#base64Binary",
            DataType::Rfc822Name => "urn:oasis:names:tc:xacml:1.0:data-type:rfc822Name",
            DataType::X500Name => "urn:oasis:names:tc:xacml:1.0:data-type:x500Name",
            DataType::IpAddress => "urn:oasis:names:tc:xacml:2.0:data-type:ipAddress",
            DataType::DnsName => "urn:oasis:names:tc:xacml:2.0:data-type:dnsName",
            DataType::XPathExpression => "urn:oasis:names:tc:xacml:3.0:data-type:xpathExpression",
            DataType::Other(uri) => uri,
        }
    }

    pub(crate) fn short_name(&self) -> &str {
        match self {
            DataType::Other(uri) => uri,
            known => known.uri().rsplit(['#', ':']).next().unwrap_or(""),
        }
    }
}

impl fmt::Display for DataType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.uri())
    }
}

/// One typed attribute value.
#[derive(Debug, Clone)]
pub enum Value {
    String(Box<str>),
    Boolean(bool),
    Integer(i64),
    Double(f64),
    Time(Time),
    Date(Date),
    DateTime(DateTime),
    DayTimeDuration(DayTimeDuration),
    YearMonthDuration(YearMonthDuration),
    AnyUri(Box<str>),
    HexBinary(Box<[u8]>),
    Base64Binary(Box<[u8]>),
    Rfc822Name(Box<str>),
    X500Name(Box<str>),
    IpAddress(Box<str>),
    DnsName(Box<str>),
    /// An XPath expression over the Content of `category`, with the namespace bindings in
    /// scope where it was written.
    XPathExpression {
        path: Box<str>,
        category: Box<str>,
        namespaces: Namespaces,
    },
    /// A value of a data type this engine does not interpret; equal only to the same text.
    Other {
        data_type: Box<str>,
        text: Box<str>,
    },
}

/// A lexical form that does not fit its data type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("\"{text}\" is not a valid {data_type}: {reason}")]
pub struct ValueError {
    pub data_type: String,
    pub text: String,
    pub reason: String,
}

impl Value {
    /// Parses `text` as a value of `data_type`. Whitespace around non-string values is
    /// ignored, as XML Schema's whitespace facet `collapse` says.
    pub fn parse(data_type: &DataType, text: &str) -> Result<Value, ValueError> {
        let fail = |reason: &str| ValueError {
            data_type: data_type.uri().to_owned(),
            text: truncate(text, 200).into_owned(),
            reason: reason.to_owned(),
        };
        let trimmed = text.trim_matches(|c| matches!(c, ' ' | '\t' | '\n' | '\r'));
        Ok(match data_type {
            DataType::String => Value::String(text.into()),
            DataType::Boolean => match trimmed {
                "true" | "1" => Value::Boolean(true),
                "false" | "0" => Value::Boolean(false),
                _ => return Err(fail("expected true or false")),
            },
            DataType::Integer => Value::Integer(
                parse_integer(trimmed)
                    .ok_or_else(|| fail("expected an integer that fits in 64 bits"))?,
            ),
            DataType::Double => {
                Value::Double(parse_double(trimmed).ok_or_else(|| fail("expected a double"))?)
            }
            DataType::Time => Value::Time(Time::parse(trimmed).map_err(|e| fail(e.0))?),
            DataType::Date => Value::Date(Date::parse(trimmed).map_err(|e| fail(e.0))?),
            DataType::DateTime => Value::DateTime(DateTime::parse(trimmed).map_err(|e| fail(e.0))?),
            DataType::DayTimeDuration => {
                Value::DayTimeDuration(DayTimeDuration::parse(trimmed).map_err(|e| fail(e.0))?)
            }
            DataType::YearMonthDuration => {
                Value::YearMonthDuration(YearMonthDuration::parse(trimmed).map_err(|e| fail(e.0))?)
            }
            DataType::AnyUri => Value::AnyUri(trimmed.into()),
            DataType::HexBinary => Value::HexBinary(
                parse_hex(trimmed).ok_or_else(|| fail("expected an even number of hex digits"))?,
            ),
            DataType::Base64Binary => {
                let compact: String = trimmed
                    .chars()
                    .filter(|c| !c.is_ascii_whitespace())
                    .collect();
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(compact.as_bytes())
                    .map_err(|_| fail("expected base64"))?;
                Value::Base64Binary(bytes.into())
            }
            DataType::Rfc822Name => {
                let (local, domain) = trimmed
                    .split_once('@')
                    .ok_or_else(|| fail("expected local-part@domain"))?;
                if local.is_empty() || domain.is_empty() || domain.contains('@') {
                    return Err(fail("expected local-part@domain"));
                }
                Value::Rfc822Name(trimmed.into())
            }
            DataType::X500Name => {
                if !trimmed.is_empty() && x500_rdns(trimmed).iter().any(|rdn| !rdn.contains('=')) {
                    return Err(fail("expected attribute=value pairs separated by commas"));
                }
                Value::X500Name(trimmed.into())
            }
            DataType::IpAddress => Value::IpAddress(trimmed.into()),
            DataType::DnsName => Value::DnsName(trimmed.into()),
            // Without its element there is no XPathCategory or namespace context; the XML
            // parsers build these values with both (see `xpath_value`).
            DataType::XPathExpression => Value::XPathExpression {
                path: trimmed.into(),
                category: "".into(),
                namespaces: Namespaces::default(),
            },
            DataType::Other(uri) => Value::Other {
                data_type: uri.clone(),
                text: text.into(),
            },
        })
    }

    pub fn data_type(&self) -> DataType {
        match self {
            Value::String(_) => DataType::String,
            Value::Boolean(_) => DataType::Boolean,
            Value::Integer(_) => DataType::Integer,
            Value::Double(_) => DataType::Double,
            Value::Time(_) => DataType::Time,
            Value::Date(_) => DataType::Date,
            Value::DateTime(_) => DataType::DateTime,
            Value::DayTimeDuration(_) => DataType::DayTimeDuration,
            Value::YearMonthDuration(_) => DataType::YearMonthDuration,
            Value::AnyUri(_) => DataType::AnyUri,
            Value::HexBinary(_) => DataType::HexBinary,
            Value::Base64Binary(_) => DataType::Base64Binary,
            Value::Rfc822Name(_) => DataType::Rfc822Name,
            Value::X500Name(_) => DataType::X500Name,
            Value::IpAddress(_) => DataType::IpAddress,
            Value::DnsName(_) => DataType::DnsName,
            Value::XPathExpression { .. } => DataType::XPathExpression,
            Value::Other { data_type, .. } => DataType::Other(data_type.clone()),
        }
    }

    /// Whether this value is of `data_type`, without allocating.
    pub fn is_of(&self, data_type: &DataType) -> bool {
        match (self, data_type) {
            (Value::Other { data_type: a, .. }, DataType::Other(b)) => a == b,
            (Value::Other { .. }, _) | (_, DataType::Other(_)) => false,
            _ => std::mem::discriminant(&self.data_type()) == std::mem::discriminant(data_type),
        }
    }

    /// The XACML `*-equal` function of the value's type; values of different types are unequal.
    pub fn equals(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::String(a), Value::String(b)) => a == b,
            (Value::Boolean(a), Value::Boolean(b)) => a == b,
            (Value::Integer(a), Value::Integer(b)) => a == b,
            // NaN equals NaN here, as conformance IIC350 expects of double-equal.
            (Value::Double(a), Value::Double(b)) => a == b || (a.is_nan() && b.is_nan()),
            (Value::Time(a), Value::Time(b)) => a == b,
            (Value::Date(a), Value::Date(b)) => a == b,
            (Value::DateTime(a), Value::DateTime(b)) => a == b,
            (Value::DayTimeDuration(a), Value::DayTimeDuration(b)) => a == b,
            (Value::YearMonthDuration(a), Value::YearMonthDuration(b)) => a == b,
            (Value::AnyUri(a), Value::AnyUri(b)) => a == b,
            (Value::HexBinary(a), Value::HexBinary(b)) => a == b,
            (Value::Base64Binary(a), Value::Base64Binary(b)) => a == b,
            (Value::Rfc822Name(a), Value::Rfc822Name(b)) => rfc822_equal(a, b),
            (Value::X500Name(a), Value::X500Name(b)) => x500_equal(a, b),
            (Value::IpAddress(a), Value::IpAddress(b)) => a == b,
            (Value::DnsName(a), Value::DnsName(b)) => a.eq_ignore_ascii_case(b),
            (
                Value::XPathExpression {
                    path: a,
                    category: ca,
                    ..
                },
                Value::XPathExpression {
                    path: b,
                    category: cb,
                    ..
                },
            ) => a == b && ca == cb,
            (
                Value::Other {
                    data_type: ta,
                    text: a,
                },
                Value::Other {
                    data_type: tb,
                    text: b,
                },
            ) => ta == tb && a == b,
            _ => false,
        }
    }

    /// The canonical lexical form, as written into responses.
    pub fn lexical(&self) -> Cow<'_, str> {
        match self {
            Value::String(s)
            | Value::AnyUri(s)
            | Value::Rfc822Name(s)
            | Value::X500Name(s)
            | Value::IpAddress(s)
            | Value::DnsName(s) => Cow::Borrowed(s),
            Value::Other { text, .. } => Cow::Borrowed(text),
            Value::XPathExpression { path, .. } => Cow::Borrowed(path),
            Value::Boolean(b) => Cow::Borrowed(if *b { "true" } else { "false" }),
            Value::Integer(i) => Cow::Owned(i.to_string()),
            Value::Double(d) => Cow::Owned(format_double(*d)),
            Value::Time(t) => Cow::Owned(t.to_string()),
            Value::Date(d) => Cow::Owned(d.to_string()),
            Value::DateTime(d) => Cow::Owned(d.to_string()),
            Value::DayTimeDuration(d) => Cow::Owned(d.to_string()),
            Value::YearMonthDuration(d) => Cow::Owned(d.to_string()),
            Value::HexBinary(b) => Cow::Owned(b.iter().map(|x| format!("{x:02X}")).collect()),
            Value::Base64Binary(b) => {
                Cow::Owned(base64::engine::general_purpose::STANDARD.encode(b))
            }
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.lexical())
    }
}

pub(crate) fn truncate(text: &str, max: usize) -> Cow<'_, str> {
    if text.len() <= max {
        return Cow::Borrowed(text);
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    Cow::Owned(format!("{}…", &text[..end]))
}

fn parse_integer(text: &str) -> Option<i64> {
    let digits = text.strip_prefix('+').unwrap_or(text);
    if digits.is_empty() || digits.starts_with('+') {
        return None;
    }
    digits.parse().ok()
}

/// xs:double: decimal or exponent notation, `INF`, `-INF`, `NaN` (not Rust's `inf`/`infinity`).
fn parse_double(text: &str) -> Option<f64> {
    match text {
        "INF" | "+INF" => return Some(f64::INFINITY),
        "-INF" => return Some(f64::NEG_INFINITY),
        "NaN" => return Some(f64::NAN),
        _ => {}
    }
    let ok = !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.' | b'e' | b'E'))
        && text.bytes().any(|b| b.is_ascii_digit());
    if !ok {
        return None;
    }
    text.parse().ok()
}

pub(crate) fn format_double(d: f64) -> String {
    if d.is_nan() {
        "NaN".into()
    } else if d.is_infinite() {
        if d > 0.0 {
            "INF".into()
        } else {
            "-INF".into()
        }
    } else if d == d.trunc() && d.abs() < 1e15 {
        format!("{d:.1}")
    } else {
        format!("{d}")
    }
}

fn parse_hex(text: &str) -> Option<Box<[u8]>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len() / 2);
    for pair in bytes.chunks(2) {
        let hi = (pair[0] as char).to_digit(16)?;
        let lo = (pair[1] as char).to_digit(16)?;
        out.push((hi * 16 + lo) as u8);
    }
    Some(out.into())
}

/// An xpathExpression AttributeValue: its XPathCategory and in-scope namespaces come from
/// the element (XACML 3.0 §A.2).
pub(crate) fn xpath_value(node: roxmltree::Node<'_, '_>, text: &str) -> Result<Value, String> {
    let category = node
        .attribute("XPathCategory")
        .ok_or("an xpathExpression value needs an XPathCategory attribute")?;
    Ok(Value::XPathExpression {
        path: text.trim().into(),
        category: category.into(),
        namespaces: crate::xpath::namespaces_of(node),
    })
}

/// `string-equal-ignore-case`: equal after lower-casing (XACML 3.0 §A.3.1, fn:lower-case),
/// compared character by character so the hot path allocates nothing.
pub(crate) fn equal_ignore_case(a: &str, b: &str) -> bool {
    a == b
        || a.chars()
            .flat_map(char::to_lowercase)
            .eq(b.chars().flat_map(char::to_lowercase))
}

/// rfc822Name equality: the local part is case-sensitive, the domain is not (XACML §A.3.1).
pub(crate) fn rfc822_equal(a: &str, b: &str) -> bool {
    match (a.split_once('@'), b.split_once('@')) {
        (Some((la, da)), Some((lb, db))) => la == lb && da.eq_ignore_ascii_case(db),
        _ => a == b,
    }
}

/// Splits a distinguished name into its RDNs at commas that are not escaped or quoted.
pub(crate) fn x500_rdns(name: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut escaped = false;
    let mut quoted = false;
    for (i, c) in name.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => quoted = !quoted,
            ',' | ';' if !quoted => {
                out.push(name[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(name[start..].trim());
    out
}

/// One RDN normalised for comparison: attribute type and value case-folded, spaces around
/// `=` and `+` removed (RFC 4517 caseIgnoreMatch is the usual matching rule).
pub(crate) fn x500_normal_rdn(rdn: &str) -> String {
    let mut parts: Vec<String> = rdn
        .split('+')
        .map(|ava| match ava.split_once('=') {
            Some((t, v)) => format!(
                "{}={}",
                t.trim().to_ascii_lowercase(),
                collapse_spaces(v.trim()).to_lowercase()
            ),
            None => ava.trim().to_lowercase(),
        })
        .collect();
    parts.sort();
    parts.join("+")
}

fn collapse_spaces(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

pub(crate) fn x500_equal(a: &str, b: &str) -> bool {
    let ra = x500_rdns(a);
    let rb = x500_rdns(b);
    ra.len() == rb.len()
        && ra
            .iter()
            .zip(rb.iter())
            .all(|(x, y)| x500_normal_rdn(x) == x500_normal_rdn(y))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_type_uris_round_trip() {
        for t in [
            "string",
            "integer",
            "dateTime",
            "anyURI",
            "base64Binary",
            "yearMonthDuration",
        ] {
            let uri = format!("{XS}{t}");
            assert_eq!(DataType::from_uri(&uri).uri(), uri);
        }
        assert_eq!(
            DataType::from_uri("urn:oasis:names:tc:xacml:1.0:data-type:x500Name"),
            DataType::X500Name
        );
        assert_eq!(
            DataType::from_uri("urn:x:custom"),
            DataType::Other("urn:x:custom".into())
        );
        assert_eq!(DataType::Integer.short_name(), "integer");
        assert_eq!(DataType::Rfc822Name.short_name(), "rfc822Name");
    }

    #[test]
    fn values_parse_strictly() {
        assert!(Value::parse(&DataType::Integer, " 42 ")
            .unwrap()
            .equals(&Value::Integer(42)));
        assert!(Value::parse(&DataType::Integer, "4.2").is_err());
        assert!(Value::parse(&DataType::Double, "inf").is_err());
        assert!(Value::parse(&DataType::Double, "1e3")
            .unwrap()
            .equals(&Value::Double(1000.0)));
        assert!(Value::parse(&DataType::Boolean, "yes").is_err());
        assert!(Value::parse(&DataType::HexBinary, "0fA").is_err());
        let hex = Value::parse(&DataType::HexBinary, "0fA0").unwrap();
        assert_eq!(hex.lexical(), "0FA0");
        assert!(Value::parse(&DataType::Rfc822Name, "nobody").is_err());
    }

    #[test]
    fn name_equality_rules() {
        assert!(rfc822_equal("Anne@MEDICO.com", "Anne@medico.COM"));
        assert!(!rfc822_equal("anne@medico.com", "Anne@medico.com"));
        assert!(x500_equal(
            "cn=Julius Hibbert, o=Medico Corp, c=US",
            "CN=julius hibbert,O=Medico Corp,C=US"
        ));
        assert!(!x500_equal("cn=A, c=US", "cn=A"));
    }
}
