//! The standard XACML 3.0 functions (Appendix A.3), resolved from their identifiers once when
//! a policy is parsed, and applied to already-evaluated arguments.
//!
//! `and`, `or` and `n-of` evaluate their arguments lazily and live in the evaluator; the
//! higher-order functions are applied here once their first argument names a function.

use std::borrow::Cow;

use crate::decision::{EvalError, StatusCode};
use crate::value::{format_double, rfc822_equal, x500_normal_rdn, x500_rdns, DataType, Value};

/// An evaluated expression: one value or a bag of values of one type.
#[derive(Debug, Clone)]
pub(crate) enum Val<'a> {
    Atom(Cow<'a, Value>),
    Bag(Vec<Cow<'a, Value>>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    GreaterThan,
    GreaterThanOrEqual,
    LessThan,
    LessThanOrEqual,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arithmetic {
    Add,
    Subtract,
    Multiply,
    Divide,
    Mod,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StringTest {
    StartsWith,
    EndsWith,
    Contains,
}

/// A resolved function identifier.
#[derive(Debug, Clone, PartialEq)]
pub enum Function {
    Equal(DataType),
    StringEqualIgnoreCase,
    Compare(DataType, Comparison),
    Arithmetic(DataType, Arithmetic),
    Abs(DataType),
    Round,
    Floor,
    StringNormalizeSpace,
    StringNormalizeToLowerCase,
    DoubleToInteger,
    IntegerToDouble,
    Or,
    And,
    NOf,
    Not,
    /// dateTime ± dayTimeDuration.
    DateTimeDayTime {
        subtract: bool,
    },
    /// dateTime ± yearMonthDuration.
    DateTimeYearMonth {
        subtract: bool,
    },
    /// date ± yearMonthDuration.
    DateYearMonth {
        subtract: bool,
    },
    TimeInRange,
    OneAndOnly(DataType),
    BagSize(DataType),
    IsIn(DataType),
    Bag(DataType),
    Intersection(DataType),
    AtLeastOneMemberOf(DataType),
    Union(DataType),
    Subset(DataType),
    SetEquals(DataType),
    AnyOf,
    AllOf,
    AnyOfAny,
    AllOfAny,
    AnyOfAll,
    AllOfAll,
    Map,
    RegexpMatch(DataType),
    X500NameMatch,
    Rfc822NameMatch,
    StringConcatenate,
    StringTest(DataType, StringTest),
    Substring(DataType),
    /// `{type}-from-string`.
    FromString(DataType),
    /// `string-from-{type}`.
    ToString(DataType),
    /// `xpath-node-count`, `xpath-node-equal`, `xpath-node-match`: evaluated by the
    /// evaluator, which holds the request's Content.
    XPathNodeCount,
    XPathNodeEqual,
    XPathNodeMatch,
    /// A function this engine does not implement (the XPath functions, unknown ids):
    /// applying it is Indeterminate with `processing-error`.
    Unsupported(Box<str>),
}

const PREFIXES: [&str; 3] = [
    "urn:oasis:names:tc:xacml:1.0:function:",
    "urn:oasis:names:tc:xacml:2.0:function:",
    "urn:oasis:names:tc:xacml:3.0:function:",
];

/// Data types in the order to try as a prefix of a function name (longest first where one
/// name starts another: `dateTime` before `date`).
const TYPE_NAMES: [&str; 16] = [
    "dateTime",
    "dayTimeDuration",
    "yearMonthDuration",
    "date",
    "time",
    "string",
    "boolean",
    "integer",
    "double",
    "anyURI",
    "hexBinary",
    "base64Binary",
    "rfc822Name",
    "x500Name",
    "ipAddress",
    "dnsName",
];

impl Function {
    /// Resolves a FunctionId or MatchId. Version prefixes (1.0, 2.0, 3.0) are accepted
    /// interchangeably so XACML 2.0-era ids keep working.
    pub fn from_id(id: &str) -> Function {
        let Some(name) = PREFIXES.iter().find_map(|p| id.strip_prefix(p)) else {
            return Function::Unsupported(id.into());
        };
        Function::from_name(name).unwrap_or_else(|| Function::Unsupported(id.into()))
    }

    fn from_name(name: &str) -> Option<Function> {
        use Function as F;
        let plain = match name {
            "string-equal-ignore-case" => Some(F::StringEqualIgnoreCase),
            "round" => Some(F::Round),
            "floor" => Some(F::Floor),
            "or" => Some(F::Or),
            "and" => Some(F::And),
            "n-of" => Some(F::NOf),
            "not" => Some(F::Not),
            "any-of" => Some(F::AnyOf),
            "all-of" => Some(F::AllOf),
            "any-of-any" => Some(F::AnyOfAny),
            "all-of-any" => Some(F::AllOfAny),
            "any-of-all" => Some(F::AnyOfAll),
            "all-of-all" => Some(F::AllOfAll),
            "map" => Some(F::Map),
            "x500Name-match" => Some(F::X500NameMatch),
            "rfc822Name-match" => Some(F::Rfc822NameMatch),
            "string-concatenate" => Some(F::StringConcatenate),
            "double-to-integer" => Some(F::DoubleToInteger),
            "integer-to-double" => Some(F::IntegerToDouble),
            "time-in-range" => Some(F::TimeInRange),
            "dateTime-add-dayTimeDuration" => Some(F::DateTimeDayTime { subtract: false }),
            "dateTime-subtract-dayTimeDuration" => Some(F::DateTimeDayTime { subtract: true }),
            "dateTime-add-yearMonthDuration" => Some(F::DateTimeYearMonth { subtract: false }),
            "dateTime-subtract-yearMonthDuration" => Some(F::DateTimeYearMonth { subtract: true }),
            "date-add-yearMonthDuration" => Some(F::DateYearMonth { subtract: false }),
            "date-subtract-yearMonthDuration" => Some(F::DateYearMonth { subtract: true }),
            "string-normalize-space" => Some(F::StringNormalizeSpace),
            "xpath-node-count" => Some(F::XPathNodeCount),
            "xpath-node-equal" => Some(F::XPathNodeEqual),
            "xpath-node-match" => Some(F::XPathNodeMatch),
            "string-normalize-to-lower-case" => Some(F::StringNormalizeToLowerCase),
            _ => None,
        };
        if plain.is_some() {
            return plain;
        }
        if let Some(from) = name.strip_prefix("string-from-") {
            let t = DataType::from_short_name(from)?;
            return (t != DataType::String).then_some(F::ToString(t));
        }
        let (type_name, op) = TYPE_NAMES.iter().find_map(|t| {
            name.strip_prefix(t)
                .and_then(|rest| rest.strip_prefix('-'))
                .map(|op| (*t, op))
        })?;
        let t = DataType::from_short_name(type_name)?;
        let numeric = matches!(t, DataType::Integer | DataType::Double);
        let ordered = matches!(
            t,
            DataType::Integer
                | DataType::Double
                | DataType::String
                | DataType::Time
                | DataType::Date
                | DataType::DateTime
        );
        let textual = matches!(t, DataType::String | DataType::AnyUri);
        Some(match op {
            "equal" if !matches!(t, DataType::IpAddress | DataType::DnsName) => F::Equal(t),
            "greater-than" if ordered => F::Compare(t, Comparison::GreaterThan),
            "greater-than-or-equal" if ordered => F::Compare(t, Comparison::GreaterThanOrEqual),
            "less-than" if ordered => F::Compare(t, Comparison::LessThan),
            "less-than-or-equal" if ordered => F::Compare(t, Comparison::LessThanOrEqual),
            "add" if numeric => F::Arithmetic(t, Arithmetic::Add),
            "subtract" if numeric => F::Arithmetic(t, Arithmetic::Subtract),
            "multiply" if numeric => F::Arithmetic(t, Arithmetic::Multiply),
            "divide" if numeric => F::Arithmetic(t, Arithmetic::Divide),
            "mod" if t == DataType::Integer => F::Arithmetic(t, Arithmetic::Mod),
            "abs" if numeric => F::Abs(t),
            "one-and-only" => F::OneAndOnly(t),
            "bag-size" => F::BagSize(t),
            "is-in" => F::IsIn(t),
            "bag" => F::Bag(t),
            "intersection" => F::Intersection(t),
            "at-least-one-member-of" => F::AtLeastOneMemberOf(t),
            "union" => F::Union(t),
            "subset" => F::Subset(t),
            "set-equals" => F::SetEquals(t),
            "regexp-match" if !numeric => F::RegexpMatch(t),
            "starts-with" if textual => F::StringTest(t, StringTest::StartsWith),
            "ends-with" if textual => F::StringTest(t, StringTest::EndsWith),
            "contains" if textual => F::StringTest(t, StringTest::Contains),
            "substring" if textual => F::Substring(t),
            "from-string" if t != DataType::String => F::FromString(t),
            _ => return None,
        })
    }

    /// Whether the first argument of an Apply with this function is itself a function.
    pub(crate) fn is_higher_order(&self) -> bool {
        matches!(
            self,
            Function::AnyOf
                | Function::AllOf
                | Function::AnyOfAny
                | Function::AllOfAny
                | Function::AnyOfAll
                | Function::AllOfAll
                | Function::Map
        )
    }
}

fn processing(message: impl Into<String>) -> EvalError {
    EvalError::new(StatusCode::ProcessingError, message)
}

fn atom<'v, 'a>(
    args: &'v [Val<'a>],
    i: usize,
    expected: &DataType,
    name: &str,
) -> Result<&'v Value, EvalError> {
    match args.get(i) {
        Some(Val::Atom(v)) if v.is_of(expected) => Ok(v),
        Some(Val::Atom(v)) => Err(processing(format!(
            "{name}: argument {} is {}, expected {}",
            i + 1,
            v.data_type().short_name(),
            expected.short_name()
        ))),
        Some(Val::Bag(_)) => Err(processing(format!(
            "{name}: argument {} is a bag, expected a single {}",
            i + 1,
            expected.short_name()
        ))),
        None => Err(processing(format!("{name}: missing argument {}", i + 1))),
    }
}

fn bag<'v, 'a>(
    args: &'v [Val<'a>],
    i: usize,
    expected: &DataType,
    name: &str,
) -> Result<&'v [Cow<'a, Value>], EvalError> {
    match args.get(i) {
        Some(Val::Bag(values)) => {
            if let Some(bad) = values.iter().find(|v| !v.is_of(expected)) {
                return Err(processing(format!(
                    "{name}: bag holds {}, expected {}",
                    bad.data_type().short_name(),
                    expected.short_name()
                )));
            }
            Ok(values)
        }
        Some(Val::Atom(_)) => Err(processing(format!(
            "{name}: argument {} must be a bag",
            i + 1
        ))),
        None => Err(processing(format!("{name}: missing argument {}", i + 1))),
    }
}

fn arity(args: &[Val<'_>], n: usize, name: &str) -> Result<(), EvalError> {
    if args.len() == n {
        Ok(())
    } else {
        Err(processing(format!(
            "{name} takes {n} arguments, got {}",
            args.len()
        )))
    }
}

fn boolean(b: bool) -> Result<Val<'static>, EvalError> {
    Ok(Val::Atom(Cow::Owned(Value::Boolean(b))))
}

fn owned(v: Value) -> Result<Val<'static>, EvalError> {
    Ok(Val::Atom(Cow::Owned(v)))
}

fn text(v: &Value) -> &str {
    match v {
        Value::String(s) | Value::AnyUri(s) => s,
        _ => "",
    }
}

/// A bag-of-values set operation helper: values of `a` without duplicates, in order.
fn distinct<'a>(values: impl IntoIterator<Item = Cow<'a, Value>>) -> Vec<Cow<'a, Value>> {
    let mut out: Vec<Cow<'a, Value>> = Vec::new();
    for v in values {
        if !out.iter().any(|o| o.equals(&v)) {
            out.push(v);
        }
    }
    out
}

fn contains(bag: &[Cow<'_, Value>], v: &Value) -> bool {
    bag.iter().any(|b| b.equals(v))
}

/// A compiled pattern for the `*-regexp-match` functions. XACML uses XML Schema regular
/// expressions, which are a subset of what `regex` accepts; matching is unanchored as with
/// XPath `fn:matches` (XACML 3.0 §A.3.13). The size limit bounds memory for hostile patterns.
pub(crate) fn compile_regex(pattern: &str) -> Result<regex::Regex, EvalError> {
    regex::RegexBuilder::new(pattern)
        .size_limit(1 << 20)
        .nest_limit(64)
        .build()
        .map_err(|e| processing(format!("invalid regular expression: {e}")))
}

/// Applies a first-order function. `precompiled` is the regular expression of a literal
/// pattern argument, compiled once at policy load.
pub(crate) fn call<'a>(
    function: &Function,
    args: Vec<Val<'a>>,
    precompiled: Option<&regex::Regex>,
) -> Result<Val<'a>, EvalError> {
    use Function as F;
    let name = function_name(function);
    let name = name.as_ref();
    match function {
        F::Equal(t) => {
            arity(&args, 2, name)?;
            let (a, b) = (atom(&args, 0, t, name)?, atom(&args, 1, t, name)?);
            boolean(a.equals(b))
        }
        F::StringEqualIgnoreCase => {
            arity(&args, 2, name)?;
            let (a, b) = (
                atom(&args, 0, &DataType::String, name)?,
                atom(&args, 1, &DataType::String, name)?,
            );
            boolean(crate::value::equal_ignore_case(text(a), text(b)))
        }
        F::Compare(t, cmp) => {
            arity(&args, 2, name)?;
            let (a, b) = (atom(&args, 0, t, name)?, atom(&args, 1, t, name)?);
            let ord = match (a, b) {
                (Value::Integer(x), Value::Integer(y)) => x.partial_cmp(y),
                (Value::Double(x), Value::Double(y)) => x.partial_cmp(y),
                (Value::String(x), Value::String(y)) => x.partial_cmp(y),
                (Value::Time(x), Value::Time(y)) => x.partial_cmp(y),
                (Value::Date(x), Value::Date(y)) => x.partial_cmp(y),
                (Value::DateTime(x), Value::DateTime(y)) => x.partial_cmp(y),
                _ => None,
            };
            let Some(ord) = ord else {
                return boolean(false);
            };
            boolean(match cmp {
                Comparison::GreaterThan => ord.is_gt(),
                Comparison::GreaterThanOrEqual => ord.is_ge(),
                Comparison::LessThan => ord.is_lt(),
                Comparison::LessThanOrEqual => ord.is_le(),
            })
        }
        F::Arithmetic(t, op) => {
            // add and multiply take two or more arguments; the others exactly two.
            if matches!(op, Arithmetic::Add | Arithmetic::Multiply) {
                if args.len() < 2 {
                    return Err(processing(format!("{name} takes at least 2 arguments")));
                }
            } else {
                arity(&args, 2, name)?;
            }
            if *t == DataType::Integer {
                let mut acc = match atom(&args, 0, t, name)? {
                    Value::Integer(i) => *i,
                    _ => 0,
                };
                for i in 1..args.len() {
                    let Value::Integer(x) = *atom(&args, i, t, name)? else {
                        continue;
                    };
                    acc = match op {
                        Arithmetic::Add => acc.checked_add(x),
                        Arithmetic::Subtract => acc.checked_sub(x),
                        Arithmetic::Multiply => acc.checked_mul(x),
                        Arithmetic::Divide if x == 0 => {
                            return Err(processing(format!("{name}: division by zero")))
                        }
                        Arithmetic::Divide => acc.checked_div(x),
                        Arithmetic::Mod if x == 0 => {
                            return Err(processing(format!("{name}: division by zero")))
                        }
                        Arithmetic::Mod => acc.checked_rem(x),
                    }
                    .ok_or_else(|| processing(format!("{name}: integer overflow")))?;
                }
                owned(Value::Integer(acc))
            } else {
                let mut acc = match atom(&args, 0, t, name)? {
                    Value::Double(d) => *d,
                    _ => 0.0,
                };
                for i in 1..args.len() {
                    let Value::Double(x) = *atom(&args, i, t, name)? else {
                        continue;
                    };
                    acc = match op {
                        Arithmetic::Add => acc + x,
                        Arithmetic::Subtract => acc - x,
                        Arithmetic::Multiply => acc * x,
                        Arithmetic::Divide if x == 0.0 => {
                            return Err(processing(format!("{name}: division by zero")))
                        }
                        Arithmetic::Divide => acc / x,
                        Arithmetic::Mod => acc % x,
                    };
                }
                owned(Value::Double(acc))
            }
        }
        F::Abs(t) => {
            arity(&args, 1, name)?;
            match atom(&args, 0, t, name)? {
                Value::Integer(i) => {
                    owned(Value::Integer(i.checked_abs().ok_or_else(|| {
                        processing(format!("{name}: integer overflow"))
                    })?))
                }
                Value::Double(d) => owned(Value::Double(d.abs())),
                _ => Err(processing(format!("{name}: expected a number"))),
            }
        }
        F::Round | F::Floor => {
            arity(&args, 1, name)?;
            let Value::Double(d) = *atom(&args, 0, &DataType::Double, name)? else {
                return Err(processing(name.to_owned()));
            };
            // XPath fn:round rounds halves towards positive infinity.
            owned(Value::Double(if *function == F::Round {
                (d + 0.5).floor()
            } else {
                d.floor()
            }))
        }
        F::StringNormalizeSpace => {
            arity(&args, 1, name)?;
            let s = text(atom(&args, 0, &DataType::String, name)?);
            owned(Value::String(
                s.trim_matches(|c: char| c.is_ascii_whitespace()).into(),
            ))
        }
        F::StringNormalizeToLowerCase => {
            arity(&args, 1, name)?;
            let s = text(atom(&args, 0, &DataType::String, name)?);
            owned(Value::String(s.to_lowercase().into()))
        }
        F::DoubleToInteger => {
            arity(&args, 1, name)?;
            let Value::Double(d) = *atom(&args, 0, &DataType::Double, name)? else {
                return Err(processing(name.to_owned()));
            };
            let t = d.trunc();
            if !t.is_finite() || t < i64::MIN as f64 || t > i64::MAX as f64 {
                return Err(processing(format!(
                    "{name}: {} does not fit an integer",
                    format_double(d)
                )));
            }
            owned(Value::Integer(t as i64))
        }
        F::IntegerToDouble => {
            arity(&args, 1, name)?;
            let Value::Integer(i) = *atom(&args, 0, &DataType::Integer, name)? else {
                return Err(processing(name.to_owned()));
            };
            owned(Value::Double(i as f64))
        }
        F::Not => {
            arity(&args, 1, name)?;
            let Value::Boolean(b) = *atom(&args, 0, &DataType::Boolean, name)? else {
                return Err(processing(name.to_owned()));
            };
            boolean(!b)
        }
        F::DateTimeDayTime { subtract } => {
            arity(&args, 2, name)?;
            let (Value::DateTime(a), Value::DayTimeDuration(d)) = (
                atom(&args, 0, &DataType::DateTime, name)?,
                atom(&args, 1, &DataType::DayTimeDuration, name)?,
            ) else {
                return Err(processing(name.to_owned()));
            };
            owned(Value::DateTime(
                a.add_day_time(*d, *subtract)
                    .ok_or_else(|| processing(format!("{name}: out of range")))?,
            ))
        }
        F::DateTimeYearMonth { subtract } => {
            arity(&args, 2, name)?;
            let (Value::DateTime(a), Value::YearMonthDuration(d)) = (
                atom(&args, 0, &DataType::DateTime, name)?,
                atom(&args, 1, &DataType::YearMonthDuration, name)?,
            ) else {
                return Err(processing(name.to_owned()));
            };
            owned(Value::DateTime(
                a.add_year_month(d.0, *subtract)
                    .ok_or_else(|| processing(format!("{name}: out of range")))?,
            ))
        }
        F::DateYearMonth { subtract } => {
            arity(&args, 2, name)?;
            let (Value::Date(a), Value::YearMonthDuration(d)) = (
                atom(&args, 0, &DataType::Date, name)?,
                atom(&args, 1, &DataType::YearMonthDuration, name)?,
            ) else {
                return Err(processing(name.to_owned()));
            };
            owned(Value::Date(
                a.add_year_month(d.0, *subtract)
                    .ok_or_else(|| processing(format!("{name}: out of range")))?,
            ))
        }
        F::TimeInRange => {
            arity(&args, 3, name)?;
            let (Value::Time(t), Value::Time(lo), Value::Time(hi)) = (
                atom(&args, 0, &DataType::Time, name)?,
                atom(&args, 1, &DataType::Time, name)?,
                atom(&args, 2, &DataType::Time, name)?,
            ) else {
                return Err(processing(name.to_owned()));
            };
            let (t, lo, hi) = (t.utc_nanos(), lo.utc_nanos(), hi.utc_nanos());
            // A range whose end is before its start wraps past midnight.
            boolean(if lo <= hi {
                lo <= t && t <= hi
            } else {
                t >= lo || t <= hi
            })
        }
        F::OneAndOnly(t) => {
            arity(&args, 1, name)?;
            let values = bag(&args, 0, t, name)?;
            if values.len() != 1 {
                return Err(processing(format!(
                    "{name}: the bag holds {} values, expected exactly one",
                    values.len()
                )));
            }
            let mut args = args;
            match args.pop() {
                Some(Val::Bag(mut v)) => match v.pop() {
                    Some(one) => Ok(Val::Atom(one)),
                    None => Err(processing(name.to_owned())),
                },
                _ => Err(processing(name.to_owned())),
            }
        }
        F::BagSize(t) => {
            arity(&args, 1, name)?;
            let n = bag(&args, 0, t, name)?.len();
            owned(Value::Integer(n as i64))
        }
        F::IsIn(t) => {
            arity(&args, 2, name)?;
            let v = atom(&args, 0, t, name)?;
            boolean(contains(bag(&args, 1, t, name)?, v))
        }
        F::Bag(t) => {
            for i in 0..args.len() {
                atom(&args, i, t, name)?;
            }
            Ok(Val::Bag(
                args.into_iter()
                    .filter_map(|a| if let Val::Atom(v) = a { Some(v) } else { None })
                    .collect(),
            ))
        }
        F::Intersection(t) => {
            arity(&args, 2, name)?;
            let (a, b) = (bag(&args, 0, t, name)?, bag(&args, 1, t, name)?);
            let out = distinct(a.iter().filter(|v| contains(b, v)).cloned());
            Ok(Val::Bag(out))
        }
        F::AtLeastOneMemberOf(t) => {
            arity(&args, 2, name)?;
            let (a, b) = (bag(&args, 0, t, name)?, bag(&args, 1, t, name)?);
            boolean(a.iter().any(|v| contains(b, v)))
        }
        F::Union(t) => {
            if args.len() < 2 {
                return Err(processing(format!("{name} takes at least 2 arguments")));
            }
            for i in 0..args.len() {
                bag(&args, i, t, name)?;
            }
            let all = args
                .into_iter()
                .flat_map(|a| if let Val::Bag(v) = a { v } else { Vec::new() });
            Ok(Val::Bag(distinct(all)))
        }
        F::Subset(t) => {
            arity(&args, 2, name)?;
            let (a, b) = (bag(&args, 0, t, name)?, bag(&args, 1, t, name)?);
            boolean(a.iter().all(|v| contains(b, v)))
        }
        F::SetEquals(t) => {
            arity(&args, 2, name)?;
            let (a, b) = (bag(&args, 0, t, name)?, bag(&args, 1, t, name)?);
            boolean(a.iter().all(|v| contains(b, v)) && b.iter().all(|v| contains(a, v)))
        }
        F::RegexpMatch(t) => {
            arity(&args, 2, name)?;
            let pattern = text(atom(&args, 0, &DataType::String, name)?);
            let subject = atom(&args, 1, t, name)?.lexical();
            let is_match = match precompiled {
                Some(re) => re.is_match(&subject),
                None => compile_regex(pattern)?.is_match(&subject),
            };
            boolean(is_match)
        }
        F::X500NameMatch => {
            arity(&args, 2, name)?;
            let (Value::X500Name(a), Value::X500Name(b)) = (
                atom(&args, 0, &DataType::X500Name, name)?,
                atom(&args, 1, &DataType::X500Name, name)?,
            ) else {
                return Err(processing(name.to_owned()));
            };
            // True when `a` equals the trailing RDNs of `b` (XACML §A.3.14).
            let (ra, rb) = (x500_rdns(a), x500_rdns(b));
            boolean(
                ra.len() <= rb.len()
                    && ra
                        .iter()
                        .rev()
                        .zip(rb.iter().rev())
                        .all(|(x, y)| x500_normal_rdn(x) == x500_normal_rdn(y)),
            )
        }
        F::Rfc822NameMatch => {
            arity(&args, 2, name)?;
            let pattern = text(atom(&args, 0, &DataType::String, name)?);
            let Value::Rfc822Name(address) = atom(&args, 1, &DataType::Rfc822Name, name)? else {
                return Err(processing(name.to_owned()));
            };
            boolean(rfc822_match(pattern, address))
        }
        F::StringConcatenate => {
            if args.len() < 2 {
                return Err(processing(format!("{name} takes at least 2 arguments")));
            }
            let mut out = String::new();
            for i in 0..args.len() {
                out.push_str(text(atom(&args, i, &DataType::String, name)?));
            }
            owned(Value::String(out.into()))
        }
        F::StringTest(t, test) => {
            arity(&args, 2, name)?;
            // The first argument is always a string; the second is of the function's type.
            let needle = text(atom(&args, 0, &DataType::String, name)?);
            let haystack = text(atom(&args, 1, t, name)?);
            boolean(match test {
                StringTest::StartsWith => haystack.starts_with(needle),
                StringTest::EndsWith => haystack.ends_with(needle),
                StringTest::Contains => haystack.contains(needle),
            })
        }
        F::Substring(t) => {
            arity(&args, 3, name)?;
            let s = text(atom(&args, 0, t, name)?);
            let (Value::Integer(begin), Value::Integer(end)) = (
                atom(&args, 1, &DataType::Integer, name)?,
                atom(&args, 2, &DataType::Integer, name)?,
            ) else {
                return Err(processing(name.to_owned()));
            };
            let len = s.chars().count() as i64;
            let end = if *end == -1 { len } else { *end };
            if *begin < 0 || *begin > len || end < *begin || end > len {
                return Err(processing(format!(
                    "{name}: indexes {begin}..{end} are outside the string of length {len}"
                )));
            }
            let sub: String = s
                .chars()
                .skip(*begin as usize)
                .take((end - begin) as usize)
                .collect();
            owned(Value::String(sub.into()))
        }
        F::FromString(t) => {
            arity(&args, 1, name)?;
            let s = text(atom(&args, 0, &DataType::String, name)?);
            owned(
                Value::parse(t, s)
                    .map_err(|e| EvalError::new(StatusCode::SyntaxError, e.to_string()))?,
            )
        }
        F::ToString(t) => {
            arity(&args, 1, name)?;
            owned(Value::String(atom(&args, 0, t, name)?.lexical().into()))
        }
        F::Or | F::And | F::NOf | F::XPathNodeCount | F::XPathNodeEqual | F::XPathNodeMatch => {
            Err(processing(format!("{name} is evaluated by the evaluator")))
        }
        F::AnyOf | F::AllOf | F::AnyOfAny | F::AllOfAny | F::AnyOfAll | F::AllOfAll | F::Map => {
            Err(processing(format!(
                "{name} needs a function as its first argument"
            )))
        }
        F::Unsupported(id) => Err(processing(format!("function {id} is not supported"))),
    }
}

/// `rfc822Name-match` (XACML §A.3.14): a pattern with '@' matches the whole address (domain
/// case-insensitively); a pattern starting with '.' matches any subdomain; otherwise the
/// pattern is a domain that must equal the address's domain.
fn rfc822_match(pattern: &str, address: &str) -> bool {
    let Some((_, domain)) = address.split_once('@') else {
        return false;
    };
    if pattern.contains('@') {
        rfc822_equal(pattern, address)
    } else if pattern.starts_with('.') {
        domain
            .to_ascii_lowercase()
            .ends_with(&pattern.to_ascii_lowercase())
    } else {
        domain.eq_ignore_ascii_case(pattern)
    }
}

/// Applies a higher-order function (`any-of` …, `map`) whose function argument is `inner`.
pub(crate) fn call_higher_order<'a>(
    function: &Function,
    inner: &Function,
    args: Vec<Val<'a>>,
) -> Result<Val<'a>, EvalError> {
    let name = function_name(function);
    let apply = |values: Vec<Val<'a>>| -> Result<bool, EvalError> {
        match call(inner, values, None)? {
            Val::Atom(v) => match v.as_ref() {
                Value::Boolean(b) => Ok(*b),
                _ => Err(processing(format!(
                    "{name}: the function must return a boolean"
                ))),
            },
            Val::Bag(_) => Err(processing(format!(
                "{name}: the function must return a boolean"
            ))),
        }
    };
    let as_bag = |v: &Val<'a>| -> Result<Vec<Cow<'a, Value>>, EvalError> {
        match v {
            Val::Bag(b) => Ok(b.clone()),
            Val::Atom(_) => Err(processing(format!("{name}: expected a bag argument"))),
        }
    };
    match function {
        Function::AnyOf | Function::AllOf | Function::Map => {
            // XACML 3.0 form: any number of single values, then exactly one bag (last).
            let Some((last, firsts)) = args.split_last() else {
                return Err(processing(format!("{name} needs a bag argument")));
            };
            // XACML 2.0 wrote any-of/all-of with the bag first for two arguments; keep both.
            let (bag_values, singles): (Vec<Cow<'a, Value>>, Vec<Val<'a>>) = match (last, firsts) {
                (Val::Bag(b), _) => (b.clone(), firsts.to_vec()),
                (Val::Atom(_), [Val::Bag(b)]) if *function != Function::Map => {
                    (b.clone(), vec![last.clone()])
                }
                _ => {
                    return Err(processing(format!(
                        "{name}: the last argument must be a bag"
                    )))
                }
            };
            if firsts.iter().any(|a| matches!(a, Val::Bag(_))) && matches!(last, Val::Bag(_)) {
                return Err(processing(format!(
                    "{name}: only one argument may be a bag"
                )));
            }
            if *function == Function::Map {
                let mut out = Vec::with_capacity(bag_values.len());
                for v in bag_values {
                    let mut call_args = singles.clone();
                    call_args.push(Val::Atom(v));
                    match call(inner, call_args, None)? {
                        Val::Atom(r) => out.push(r),
                        Val::Bag(_) => {
                            return Err(processing(format!(
                                "{name}: the function must return a single value"
                            )))
                        }
                    }
                }
                return Ok(Val::Bag(out));
            }
            let want_any = *function == Function::AnyOf;
            for v in bag_values {
                let mut call_args = singles.clone();
                call_args.push(Val::Atom(v));
                let r = apply(call_args)?;
                if r == want_any {
                    return boolean(want_any);
                }
            }
            boolean(!want_any)
        }
        Function::AnyOfAny => {
            // Every combination of one value from each argument (a single value counts as a
            // bag of one); true when the function holds for any combination.
            let lists: Vec<Vec<Cow<'a, Value>>> = args
                .iter()
                .map(|a| match a {
                    Val::Bag(b) => b.clone(),
                    Val::Atom(v) => vec![v.clone()],
                })
                .collect();
            let mut index = vec![0usize; lists.len()];
            if lists.iter().any(Vec::is_empty) {
                return boolean(false);
            }
            loop {
                let call_args = lists
                    .iter()
                    .zip(&index)
                    .map(|(l, &i)| Val::Atom(l[i].clone()))
                    .collect();
                if apply(call_args)? {
                    return boolean(true);
                }
                let mut k = lists.len();
                loop {
                    if k == 0 {
                        return boolean(false);
                    }
                    k -= 1;
                    index[k] += 1;
                    if index[k] < lists[k].len() {
                        break;
                    }
                    index[k] = 0;
                }
            }
        }
        Function::AllOfAny | Function::AnyOfAll | Function::AllOfAll => {
            if args.len() != 2 {
                return Err(processing(format!("{name} takes a function and two bags")));
            }
            let (a, b) = (as_bag(&args[0])?, as_bag(&args[1])?);
            let holds = |x: &Cow<'a, Value>, y: &Cow<'a, Value>| {
                apply(vec![Val::Atom(x.clone()), Val::Atom(y.clone())])
            };
            let mut result = match function {
                Function::AllOfAny => true,
                Function::AnyOfAll => false,
                _ => true,
            };
            match function {
                Function::AllOfAny => {
                    for x in &a {
                        let mut any = false;
                        for y in &b {
                            if holds(x, y)? {
                                any = true;
                                break;
                            }
                        }
                        if !any {
                            result = false;
                            break;
                        }
                    }
                }
                Function::AnyOfAll => {
                    for x in &a {
                        let mut all = true;
                        for y in &b {
                            if !holds(x, y)? {
                                all = false;
                                break;
                            }
                        }
                        if all {
                            result = true;
                            break;
                        }
                    }
                }
                _ => {
                    'outer: for x in &a {
                        for y in &b {
                            if !holds(x, y)? {
                                result = false;
                                break 'outer;
                            }
                        }
                    }
                }
            }
            boolean(result)
        }
        _ => Err(processing(format!("{name} is not a higher-order function"))),
    }
}

/// A short human name for messages (`integer-equal`).
pub(crate) fn function_name(function: &Function) -> Cow<'static, str> {
    use Function as F;
    let typed = |t: &DataType, op: &str| Cow::Owned(format!("{}-{op}", t.short_name()));
    match function {
        F::Equal(t) => typed(t, "equal"),
        F::Compare(t, c) => typed(
            t,
            match c {
                Comparison::GreaterThan => "greater-than",
                Comparison::GreaterThanOrEqual => "greater-than-or-equal",
                Comparison::LessThan => "less-than",
                Comparison::LessThanOrEqual => "less-than-or-equal",
            },
        ),
        F::Arithmetic(t, a) => typed(
            t,
            match a {
                Arithmetic::Add => "add",
                Arithmetic::Subtract => "subtract",
                Arithmetic::Multiply => "multiply",
                Arithmetic::Divide => "divide",
                Arithmetic::Mod => "mod",
            },
        ),
        F::OneAndOnly(t) => typed(t, "one-and-only"),
        F::BagSize(t) => typed(t, "bag-size"),
        F::IsIn(t) => typed(t, "is-in"),
        F::Bag(t) => typed(t, "bag"),
        F::Unsupported(id) => Cow::Owned(id.to_string()),
        other => Cow::Owned(format!("{other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(value: Value) -> Val<'static> {
        Val::Atom(Cow::Owned(value))
    }

    fn truth(r: Result<Val<'_>, EvalError>) -> bool {
        matches!(r, Ok(Val::Atom(b)) if matches!(b.as_ref(), Value::Boolean(true)))
    }

    #[test]
    fn resolves_ids() {
        assert_eq!(
            Function::from_id("urn:oasis:names:tc:xacml:1.0:function:dateTime-one-and-only"),
            Function::OneAndOnly(DataType::DateTime)
        );
        assert_eq!(
            Function::from_id("urn:oasis:names:tc:xacml:1.0:function:date-bag"),
            Function::Bag(DataType::Date)
        );
        assert_eq!(
            Function::from_id("urn:oasis:names:tc:xacml:3.0:function:string-equal-ignore-case"),
            Function::StringEqualIgnoreCase
        );
        assert_eq!(
            Function::from_id("urn:oasis:names:tc:xacml:3.0:function:string-from-integer"),
            Function::ToString(DataType::Integer)
        );
        assert!(matches!(
            Function::from_id("urn:oasis:names:tc:xacml:1.0:function:boolean-add"),
            Function::Unsupported(_)
        ));
        assert!(matches!(
            Function::from_id("urn:example:f"),
            Function::Unsupported(_)
        ));
    }

    #[test]
    fn arithmetic_refuses_overflow_and_zero() {
        let add = Function::Arithmetic(DataType::Integer, Arithmetic::Add);
        assert!(call(
            &add,
            vec![v(Value::Integer(i64::MAX)), v(Value::Integer(1))],
            None
        )
        .is_err());
        let div = Function::Arithmetic(DataType::Integer, Arithmetic::Divide);
        assert!(call(&div, vec![v(Value::Integer(1)), v(Value::Integer(0))], None).is_err());
    }

    #[test]
    fn name_matching() {
        assert!(rfc822_match("medico.com", "hibbert@MEDICO.com"));
        assert!(rfc822_match(".com", "hibbert@medico.com"));
        assert!(!rfc822_match("Hibbert@medico.com", "hibbert@medico.com"));
        let m = call(
            &Function::X500NameMatch,
            vec![
                v(Value::X500Name("O=Medico Corp,C=US".into())),
                v(Value::X500Name(
                    "cn=Julius Hibbert,ou=Office, o=Medico Corp, c=US".into(),
                )),
            ],
            None,
        );
        assert!(truth(m));
    }

    #[test]
    fn higher_order_any_of_any() {
        let eq = Function::Equal(DataType::String);
        let bag = |xs: &[&str]| {
            Val::Bag(
                xs.iter()
                    .map(|s| Cow::Owned(Value::String((*s).into())))
                    .collect(),
            )
        };
        assert!(truth(call_higher_order(
            &Function::AnyOfAny,
            &eq,
            vec![bag(&["a", "b"]), bag(&["c", "b"])]
        )));
        assert!(!truth(call_higher_order(
            &Function::AllOfAll,
            &eq,
            vec![bag(&["a", "b"]), bag(&["b"])]
        )));
        assert!(truth(call_higher_order(
            &Function::AnyOf,
            &eq,
            vec![v(Value::String("b".into())), bag(&["a", "b"])]
        )));
    }
}
