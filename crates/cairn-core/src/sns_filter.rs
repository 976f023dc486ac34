//! SNS subscription filter policies over message attributes (`FilterPolicyScope`
//! `MessageAttributes`): every key of the policy must match an attribute, and a key matches
//! when any of its conditions does. Conditions: exact strings and numbers, `prefix`, `suffix`,
//! `equals-ignore-case`, `anything-but` (values or a prefix), `numeric` ranges, `exists` and
//! `cidr` (an IP address attribute within a block), and the literals `true`, `false` and
//! `null`, which only a `String.Array` element can equal. A `String.Array` attribute matches
//! when one of its elements does. A `$or` key holds a list of policies, of which one must match
//! (the SNS developer guide, "OR logic").

use serde_json::Value;

/// Most keys a policy may have (AWS's limit).
pub const MAX_KEYS: usize = 5;

/// Most combinations a policy may make: the product of its keys' value counts (AWS's limit).
pub const MAX_COMBINATIONS: usize = 150;
/// Largest policy, in bytes ("The maximum size of a filter policy is 256 KB").
const MAX_BYTES: usize = 256 * 1024;
/// Numeric matching compares values from -10⁹ to 10⁹ (the filter policy constraints).
const MAX_NUMERIC: f64 = 1e9;

/// One condition on an attribute.
#[derive(Clone, Debug, PartialEq)]
enum Condition {
    Exact(String),
    Number(f64),
    Prefix(String),
    Suffix(String),
    IgnoreCase(String),
    AnythingBut(Vec<Value>),
    AnythingButPrefix(String),
    Numeric(Vec<(String, f64)>),
    Exists(bool),
    Cidr(crate::net::Cidr),
    /// `true`, `false` or `null`: matches that JSON value in a `String.Array` attribute.
    Literal(Value),
}

/// A parsed filter policy.
#[derive(Clone, Debug, PartialEq)]
pub struct FilterPolicy {
    keys: Vec<(String, Vec<Condition>)>,
    /// `$or` lists: each needs one of its policies to match.
    any_of: Vec<Vec<FilterPolicy>>,
}

/// A message attribute as the filter sees it: its data type and string value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attribute<'a> {
    /// Name.
    pub name: &'a str,
    /// `String`, `Number`, `String.Array`, `Binary`, possibly with a custom suffix.
    pub data_type: &'a str,
    /// The value (base64 for binary).
    pub value: &'a str,
}

fn condition(v: &Value, strict: bool) -> Result<Condition, String> {
    match v {
        Value::String(s) => Ok(Condition::Exact(s.clone())),
        Value::Number(n) => Ok(Condition::Number(n.as_f64().unwrap_or(f64::NAN))),
        Value::Bool(_) | Value::Null => Ok(Condition::Literal(v.clone())),
        Value::Object(m) if m.len() == 1 => {
            let (op, arg) = m.iter().next().expect("one member");
            let text = || {
                arg.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| format!("{op} match pattern must be a string"))
            };
            match op.as_str() {
                "prefix" => Ok(Condition::Prefix(text()?)),
                "suffix" => Ok(Condition::Suffix(text()?)),
                "equals-ignore-case" => Ok(Condition::IgnoreCase(text()?)),
                "cidr" => cidr(&text()?).map(Condition::Cidr),
                "exists" => arg
                    .as_bool()
                    .map(Condition::Exists)
                    .ok_or_else(|| "exists match pattern must be either true or false.".into()),
                "anything-but" => match arg {
                    Value::Array(a) if strict => anything_but_list(a),
                    Value::Array(a) => Ok(Condition::AnythingBut(a.clone())),
                    Value::Bool(_) | Value::Null if strict => Err(
                        "Inside anything but list, only strings and numbers are supported".into(),
                    ),
                    Value::Object(p) => match p.get("prefix").and_then(Value::as_str) {
                        Some(x) => Ok(Condition::AnythingButPrefix(x.to_owned())),
                        None => Err("Unsupported anything-but pattern".into()),
                    },
                    other => Ok(Condition::AnythingBut(vec![other.clone()])),
                },
                "numeric" => numeric(arg, strict).map(Condition::Numeric),
                other => Err(format!("Unrecognized match type {other}")),
            }
        }
        _ => Err("Match value must be String, number, true, false, or null".into()),
    }
}

/// An `anything-but` list of a new policy: SNS's filter engine takes a non-empty list of
/// strings or of numbers, never both, nor objects, `null` or booleans (sns7: such lists were
/// taken and then excluded nothing).
fn anything_but_list(a: &[Value]) -> Result<Condition, String> {
    if a.is_empty() {
        return Err("Empty arrays are not allowed".into());
    }
    let strings = a.iter().all(Value::is_string);
    let numbers = a.iter().all(Value::is_number);
    if let Some(bad) = a.iter().find(|v| !v.is_string() && !v.is_number()) {
        let kind = match bad {
            Value::Object(_) => "start of JSON object",
            Value::Array(_) => "start of array",
            Value::Null => "null",
            _ => "boolean",
        };
        return Err(format!(
            "Inside anything but list, {kind} is not supported."
        ));
    }
    if !strings && !numbers {
        return Err("Inside anything but list, all values must be strings or all numbers.".into());
    }
    Ok(Condition::AnythingBut(a.to_vec()))
}

/// A `cidr` block, refused in SNS's words: it needs its `/`, whole mask bits in range, and a
/// standard address.
fn cidr(block: &str) -> Result<crate::net::Cidr, String> {
    let Some((addr, mask)) = block.split_once('/') else {
        return Err(format!("Malformed CIDR, one '/' required: {block}"));
    };
    let ip: std::net::IpAddr = addr
        .parse()
        .map_err(|_| format!("Nonstandard IP address: {addr}"))?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    if !mask.parse::<u8>().is_ok_and(|m| m <= max) {
        return Err("Malformed CIDR, mask bits must be an integer".into());
    }
    block
        .parse()
        .map_err(|_| format!("Malformed CIDR: {block}"))
}

/// A `numeric` condition: one comparison, or a range of a lower bound (`>`, `>=`) then an
/// upper one (`<`, `<=`) with the bottom below the top; `=` stands alone. Not `strict` (a
/// policy stored by an earlier release), any two comparisons are taken, as they were then.
fn numeric(arg: &Value, strict: bool) -> Result<Vec<(String, f64)>, String> {
    let a = arg.as_array().ok_or("Value of numeric must be an array.")?;
    if a.is_empty() || a.len() % 2 != 0 {
        return Err("Value of numeric must be an array.".into());
    }
    if a.len() > 4 {
        return Err("Too many elements in numeric expression".into());
    }
    let mut ops = Vec::new();
    for pair in a.chunks(2) {
        let op = pair[0].as_str().unwrap_or_default();
        if !matches!(op, "=" | "<" | "<=" | ">" | ">=") {
            return Err(format!("Unrecognized numeric range operator: {op}"));
        }
        let n = pair[1]
            .as_f64()
            .ok_or("Value of numeric must be a number.")?;
        if n.abs() > MAX_NUMERIC {
            return Err("Numeric value must be between -1.0E9 and 1.0E9 inclusive.".into());
        }
        ops.push((op.to_owned(), n));
    }
    if let [(low, bottom), (high, top)] = ops.as_slice()
        && strict
    {
        if low == "=" {
            return Err("Too many elements in numeric expression".into());
        }
        if !matches!(low.as_str(), ">" | ">=") {
            return Err(format!("Bad numeric range operator: {low}"));
        }
        if !matches!(high.as_str(), "<" | "<=") {
            return Err(format!("Bad numeric range operator: {high}"));
        }
        if bottom >= top {
            return Err("Bottom must be less than top".into());
        }
    }
    Ok(ops)
}

fn numeric_ok(op: &str, x: f64, n: f64) -> bool {
    match op {
        "=" => x == n,
        "<" => x < n,
        "<=" => x <= n,
        ">" => x > n,
        _ => x >= n,
    }
}

impl Condition {
    /// Whether one value (of a Number attribute when `number`) matches.
    fn matches_value(&self, value: &str, number: bool) -> bool {
        let as_num = || value.trim().parse::<f64>().ok();
        match self {
            Condition::Exact(s) => !number && s == value,
            Condition::Number(n) => number && as_num() == Some(*n),
            // The string operators match String values only, as the SNS guide documents
            // them (sns6: a Number attribute matched `prefix`); case is ignored in every
            // script, not only ASCII.
            Condition::Prefix(p) => !number && value.starts_with(p.as_str()),
            Condition::Suffix(p) => !number && value.ends_with(p.as_str()),
            Condition::IgnoreCase(s) => !number && s.to_lowercase() == value.to_lowercase(),
            Condition::AnythingBut(list) => !list.iter().any(|v| match v {
                Value::String(s) => !number && s == value,
                Value::Number(n) => number && as_num() == n.as_f64(),
                _ => false,
            }),
            Condition::AnythingButPrefix(p) => !number && !value.starts_with(p.as_str()),
            Condition::Numeric(ops) => {
                number && as_num().is_some_and(|x| ops.iter().all(|(o, n)| numeric_ok(o, x, *n)))
            }
            Condition::Exists(_) => true,
            // A String or Number attribute's value is text, never a JSON literal.
            Condition::Literal(_) => false,
            Condition::Cidr(block) => {
                !number
                    && value
                        .trim()
                        .parse::<std::net::IpAddr>()
                        .is_ok_and(|ip| block.contains(ip))
            }
        }
    }
}

impl FilterPolicy {
    /// Parses a policy given now; the error is AWS's reason text.
    pub fn parse(text: &str) -> Result<Self, String> {
        Self::parse_with(text, true)
    }

    /// Parses a policy a subscription holds: one an earlier release accepted is read as it
    /// was then (a numeric range written upper bound first, say), never dropped, which would
    /// send the subscriber every message.
    pub fn parse_stored(text: &str) -> Result<Self, String> {
        Self::parse_with(text, false)
    }

    /// [`Self::parse_stored`], remembered by its text: a Publish reads every filter policy
    /// of its topic (up to 200, each up to 256 KB), which are parsed once, not per message
    /// (sns7). `None` for a text that does not parse.
    pub fn parse_cached(text: &str) -> Option<std::sync::Arc<Self>> {
        type Parsed = std::collections::HashMap<String, Option<std::sync::Arc<FilterPolicy>>>;
        /// The cache and the bytes of policy text it holds.
        static CACHE: std::sync::LazyLock<std::sync::Mutex<(Parsed, usize)>> =
            std::sync::LazyLock::new(Default::default);
        /// Policy text remembered at most (recheck35b: 1,000 policies of 250 KB held 500 MB);
        /// past it the cache starts over.
        const HELD_BYTES: usize = 16 << 20;
        if let Some(hit) = CACHE.lock().ok().and_then(|c| c.0.get(text).cloned()) {
            return hit;
        }
        let parsed = Self::parse_stored(text).ok().map(std::sync::Arc::new);
        if let Ok(mut c) = CACHE.lock() {
            if c.1 + text.len() > HELD_BYTES {
                *c = Default::default();
            }
            if text.len() <= HELD_BYTES {
                c.1 += text.len();
                c.0.insert(text.to_owned(), parsed.clone());
            }
        }
        parsed
    }

    fn parse_with(text: &str, strict: bool) -> Result<Self, String> {
        if text.len() > MAX_BYTES {
            return Err(format!(
                "Filter policy is larger than the limit of {MAX_BYTES} bytes"
            ));
        }
        let v: Value =
            serde_json::from_str(text).map_err(|_| "failed to parse JSON.".to_owned())?;
        let policy = Self::of(&v, strict)?;
        if policy.combinations() > MAX_COMBINATIONS {
            return Err("Filter policy is too complex".into());
        }
        Ok(policy)
    }

    fn of(v: &Value, strict: bool) -> Result<Self, String> {
        let Value::Object(m) = v else {
            return Err("Filter policy must be a JSON object".into());
        };
        if m.keys().filter(|k| *k != "$or").count() > MAX_KEYS {
            return Err(format!(
                "Filter policy can not have more than {MAX_KEYS} keys"
            ));
        }
        let (mut keys, mut any_of) = (Vec::new(), Vec::new());
        for (k, v) in m {
            if k == "$or" {
                let branches = match v {
                    Value::Array(a) if a.len() >= 2 => a
                        .iter()
                        .map(|b| Self::of(b, strict))
                        .collect::<Result<Vec<_>, _>>()?,
                    _ => return Err("Or operator requires at least two patterns".into()),
                };
                any_of.push(branches);
                continue;
            }
            let conds = match v {
                Value::Array(a) if !a.is_empty() => a
                    .iter()
                    .map(|c| condition(c, strict))
                    .collect::<Result<Vec<_>, _>>()?,
                Value::Array(_) => return Err("Empty arrays are not allowed".into()),
                // Nesting is for message-body policies, which Cairn does not serve.
                Value::Object(_) => {
                    return Err(
                        "Filter policy scope MessageAttributes does not support nested filter policy"
                            .into(),
                    );
                }
                _ => {
                    return Err(format!("\"{k}\" must be an object or an array"));
                }
            };
            keys.push((k.clone(), conds));
        }
        Ok(Self { keys, any_of })
    }

    /// How many combinations the policy makes: the product of its keys' value counts, each
    /// `$or` multiplying by the sum of its branches' (saturating).
    fn combinations(&self) -> usize {
        let keys = self
            .keys
            .iter()
            .fold(1usize, |n, (_, c)| n.saturating_mul(c.len()));
        self.any_of.iter().fold(keys, |n, branches| {
            n.saturating_mul(
                branches
                    .iter()
                    .fold(0usize, |s, b| s.saturating_add(b.combinations())),
            )
        })
    }

    /// Whether a message with these attributes passes.
    pub fn matches(&self, attributes: &[Attribute<'_>]) -> bool {
        // SNS ignores Binary attributes in filtering: to the policy they are absent (sns6:
        // `exists: true` matched one).
        let binary = |a: &Attribute<'_>| a.data_type.split('.').next() == Some("Binary");
        if attributes.iter().any(binary) {
            let kept: Vec<Attribute<'_>> =
                attributes.iter().filter(|a| !binary(a)).cloned().collect();
            return self.matches(&kept);
        }
        let branches_pass = self
            .any_of
            .iter()
            .all(|branches| branches.iter().any(|b| b.matches(attributes)));
        branches_pass
            && self.keys.iter().all(|(key, conds)| {
                let attr = attributes.iter().find(|a| a.name == key);
                conds.iter().any(|c| match (c, attr) {
                    // "`exists: false` only matches if at least one attribute is present"
                    // (SNS guide, "Key matching").
                    (Condition::Exists(false), None) => !attributes.is_empty(),
                    (Condition::Exists(want), a) => *want == a.is_some(),
                    (_, None) => false,
                    (c, Some(a)) => {
                        let base = a.data_type.split('.').next().unwrap_or_default();
                        if a.data_type.starts_with("String.Array") {
                            match serde_json::from_str::<Value>(a.value) {
                                Ok(Value::Array(items)) => items.iter().any(|i| match i {
                                    Value::String(s) => c.matches_value(s, false),
                                    Value::Number(n) => c.matches_value(&n.to_string(), true),
                                    literal => c == &Condition::Literal(literal.clone()),
                                }),
                                _ => false,
                            }
                        } else if base == "Binary" {
                            false
                        } else {
                            c.matches_value(a.value, base == "Number")
                        }
                    }
                })
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attr<'a>(name: &'a str, data_type: &'a str, value: &'a str) -> Attribute<'a> {
        Attribute {
            name,
            data_type,
            value,
        }
    }

    #[test]
    fn binary_attributes_are_ignored_and_string_operators_need_strings() {
        let exists = FilterPolicy::parse(r#"{"blob":[{"exists":true}]}"#).unwrap();
        let absent = FilterPolicy::parse(r#"{"blob":[{"exists":false}]}"#).unwrap();
        let blob = [attr("blob", "Binary", "AAEC"), attr("k", "String", "v")];
        assert!(!exists.matches(&blob));
        assert!(absent.matches(&blob));
        for policy in [
            r#"{"n":[{"prefix":"12"}]}"#,
            r#"{"n":[{"suffix":"34"}]}"#,
            r#"{"n":[{"equals-ignore-case":"1234"}]}"#,
            r#"{"n":[{"anything-but":{"prefix":"9"}}]}"#,
        ] {
            let p = FilterPolicy::parse(policy).unwrap();
            assert!(!p.matches(&[attr("n", "Number", "1234")]), "{policy}");
            assert!(p.matches(&[attr("n", "String", "1234")]), "{policy}");
        }
        for bad in [
            r#"{"n":[{"anything-but":[{"prefix":"p"}]}]}"#,
            r#"{"n":[{"anything-but":[null]}]}"#,
            r#"{"n":[{"anything-but":[]}]}"#,
            r#"{"n":[{"anything-but":["a", 1]}]}"#,
            r#"{"n":[{"anything-but":true}]}"#,
        ] {
            assert!(FilterPolicy::parse(bad).is_err(), "{bad}");
        }
        let anything_but = FilterPolicy::parse(r#"{"n":[{"anything-but":["5"]}]}"#).unwrap();
        assert!(anything_but.matches(&[attr("n", "Number", "5")]));
        assert!(!anything_but.matches(&[attr("n", "String", "5")]));
        let ignore = FilterPolicy::parse(r#"{"s":[{"equals-ignore-case":"ÉTÉ"}]}"#).unwrap();
        assert!(ignore.matches(&[attr("s", "String", "été")]));
    }

    #[test]
    fn policies_match_like_sns() {
        let p = FilterPolicy::parse(
            r#"{"store":["example_corp"],"price":[{"numeric":[">=",100,"<",200]}],"event":[{"anything-but":["cancelled"]}]}"#,
        )
        .unwrap();
        let hit = [
            attr("store", "String", "example_corp"),
            attr("price", "Number", "150"),
            attr("event", "String", "order_placed"),
        ];
        assert!(p.matches(&hit));
        let miss = [
            attr("store", "String", "example_corp"),
            attr("price", "Number", "250"),
            attr("event", "String", "order_placed"),
        ];
        assert!(!p.matches(&miss));
        let cancelled = [
            attr("store", "String", "example_corp"),
            attr("price", "Number", "150"),
            attr("event", "String", "cancelled"),
        ];
        assert!(!p.matches(&cancelled));
        assert!(!p.matches(&hit[..2]), "a missing key does not match");
    }

    #[test]
    fn arrays_prefixes_and_exists() {
        let p = FilterPolicy::parse(
            r#"{"colors":["red"],"name":[{"prefix":"ca"}],"debug":[{"exists":false}]}"#,
        )
        .unwrap();
        let a = [
            attr("colors", "String.Array", r#"["blue","red"]"#),
            attr("name", "String", "cairn"),
        ];
        assert!(p.matches(&a));
        let b = [
            attr("colors", "String.Array", r#"["blue","red"]"#),
            attr("name", "String", "cairn"),
            attr("debug", "String", "1"),
        ];
        assert!(!p.matches(&b));
        // sns4: "An empty set of attributes results in the filter not matching."
        let absent = FilterPolicy::parse(r#"{"store":[{"exists":false}]}"#).unwrap();
        assert!(!absent.matches(&[]));
        assert!(absent.matches(&[attr("x", "String", "1")]));
        assert!(!absent.matches(&[attr("store", "String", "1")]));
    }

    /// The SNS developer guide's `$or` and IP address examples.
    #[test]
    fn or_branches_and_cidr_blocks() {
        let p = FilterPolicy::parse(
            r#"{"source":["aws.cloudwatch"],"$or":[{"metricName":["CPUUtilization"]},{"namespace":["AWS/EC2"]}]}"#,
        )
        .unwrap();
        let source = attr("source", "String", "aws.cloudwatch");
        assert!(p.matches(&[
            source.clone(),
            attr("metricName", "String", "CPUUtilization")
        ]));
        assert!(p.matches(&[source.clone(), attr("namespace", "String", "AWS/EC2")]));
        assert!(!p.matches(&[source.clone(), attr("namespace", "String", "AWS/S3")]));
        assert!(!p.matches(&[attr("namespace", "String", "AWS/EC2")]));

        let ip = FilterPolicy::parse(
            r#"{"source_ip":[{"cidr":"10.0.0.0/24"},{"cidr":"2001:db8::/32"}]}"#,
        )
        .unwrap();
        for (value, hit) in [
            ("10.0.0.255", true),
            ("10.0.1.0", false),
            ("2001:db8::1", true),
            ("not an ip", false),
        ] {
            assert_eq!(
                ip.matches(&[attr("source_ip", "String", value)]),
                hit,
                "{value}"
            );
        }
        for bad in [
            r#"{"a":[{"cidr":"10.0.0.1"}]}"#,
            r#"{"a":[{"cidr":"10.0.0.0/33"}]}"#,
            r#"{"$or":[{"a":["x"]}]}"#,
            r#"{"$or":{"a":["x"]}}"#,
        ] {
            assert!(FilterPolicy::parse(bad).is_err(), "{bad}");
        }
        // Each `$or` branch multiplies in: 2 × (100 + 100) combinations is too many.
        let values = |n: usize| {
            (0..n)
                .map(|i| format!("\"v{i}\""))
                .collect::<Vec<_>>()
                .join(",")
        };
        let big = format!(
            r#"{{"k":["a","b"],"$or":[{{"x":[{}]}},{{"y":[{}]}}]}}"#,
            values(100),
            values(100)
        );
        assert!(FilterPolicy::parse(&big).is_err());
    }

    #[test]
    fn malformed_policies_are_refused() {
        for bad in [
            "[]",
            "{",
            r#"{"a":"x"}"#,
            r#"{"a":[]}"#,
            r#"{"a":[{"numeric":["!",1]}]}"#,
            r#"{"a":[{"wat":1}]}"#,
            r#"{"a":[1],"b":[1],"c":[1],"d":[1],"e":[1],"f":[1]}"#,
        ] {
            assert!(FilterPolicy::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn numbers_and_size_are_bounded_as_the_constraints_say() {
        assert!(FilterPolicy::parse(r#"{"a":[{"numeric":[">",-1e9,"<=",1e9]}]}"#).is_ok());
        for bad in [
            r#"{"a":[{"numeric":[">",1000000001]}]}"#,
            r#"{"a":[{"numeric":["<",-5e12]}]}"#,
        ] {
            assert!(
                FilterPolicy::parse(bad).unwrap_err().contains("1.0E9"),
                "{bad}"
            );
        }
        let padded = format!(r#"{{"a":["x"]{}}}"#, " ".repeat(256 * 1024));
        assert!(
            FilterPolicy::parse(&padded)
                .unwrap_err()
                .contains("larger than")
        );
    }

    #[test]
    fn literals_match_string_array_elements_only() {
        // The SNS developer guide's "A policy that rejects messages" example.
        let p = FilterPolicy::parse(
            r#"{"store":["example_corp"],"event":["order_cancelled"],"encrypted":[false],"customer_interests":["basketball","baseball"]}"#,
        )
        .unwrap();
        let msg = |encrypted: &'static str| {
            [
                attr("store", "String", "example_corp"),
                attr("event", "String", "order_cancelled"),
                attr("encrypted", "String.Array", encrypted),
                attr("customer_interests", "String", "baseball"),
            ]
        };
        assert!(p.matches(&msg("[false]")));
        assert!(!p.matches(&msg("[true]")));
        assert!(!p.matches(&msg(r#"["false"]"#)));
        let null = FilterPolicy::parse(r#"{"a":[null]}"#).unwrap();
        assert!(null.matches(&[attr("a", "String.Array", r#"["x",null]"#)]));
        assert!(!null.matches(&[attr("a", "String", "null")]));
    }

    #[test]
    fn numeric_ranges_and_cidr_blocks_are_refused_in_sns_words() {
        for (bad, why) in [
            (
                r#"{"a":[{"numeric":["<",10,">",0]}]}"#,
                "Bad numeric range operator: <",
            ),
            (
                r#"{"a":[{"numeric":[">",10,"<",5]}]}"#,
                "Bottom must be less than top",
            ),
            (r#"{"a":[{"numeric":["=",5,"<",7]}]}"#, "Too many elements"),
            (
                r#"{"a":[{"numeric":[">",5,">",7]}]}"#,
                "Bad numeric range operator: >",
            ),
            (
                r#"{"a":[{"cidr":"10.0.0.300/24"}]}"#,
                "Nonstandard IP address: 10.0.0.300",
            ),
            (
                r#"{"a":[{"cidr":"10.0.0.0/x"}]}"#,
                "mask bits must be an integer",
            ),
            (
                r#"{"a":[{"cidr":"10.0.0.0/33"}]}"#,
                "mask bits must be an integer",
            ),
            (r#"{"a":[{"cidr":"10.0.0.0"}]}"#, "one '/' required"),
            (
                r#"{"a":{"b":["x"]}}"#,
                "does not support nested filter policy",
            ),
        ] {
            let e = FilterPolicy::parse(bad).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
        assert!(FilterPolicy::parse(r#"{"a":[{"numeric":[">=",0,"<=",0.5]}]}"#).is_ok());
        // A policy an earlier release stored is read as it was: a reversed range still
        // filters (it is never dropped, which would pass every message).
        let stored = FilterPolicy::parse_stored(r#"{"a":[{"numeric":["<",10,">",0]}]}"#).unwrap();
        assert!(stored.matches(&[attr("a", "Number", "5")]));
        assert!(!stored.matches(&[attr("a", "Number", "50")]));
        assert!(FilterPolicy::parse(r#"{"a":[{"cidr":"2001:db8::/32"}]}"#).is_ok());
    }
}
