//! The value lint reads objects into: JSON's data model, like
//! `serde_json::Value`, with mappings kept as a plain list of entries.
//!
//! Objects are read once and each key looked up a few times, in mappings
//! of a handful of keys: a list is cheaper to build than a hash map (one
//! allocation, no hashing) and as quick to search at that size. It is the
//! largest part of lint's time and memory on a long stream.

use std::borrow::Cow;
use std::fmt;
use std::ops::Index;

use serde_json::Number;

use crate::spec::yaml::{Node, NodeKind};

/// A JSON value.
#[derive(Debug, Clone, Default)]
pub enum Value {
    /// `null`, or nothing.
    #[default]
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number.
    Number(Number),
    /// A string.
    String(String),
    /// A list.
    Array(Vec<Value>),
    /// A mapping.
    Object(Map),
}

/// A mapping, in the order written; each key once.
#[derive(Debug, Clone, Default)]
pub struct Map(Vec<(Key, Value)>);

/// A mapping's key: the text read, or one of the names lint knows (what
/// it keeps of a manifest is keyed so, which saves a string per key).
pub type Key = Cow<'static, str>;

static NULL: Value = Value::Null;

impl Value {
    /// The value under `key`, if this is a mapping that has it.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_object()?.get(key)
    }

    /// The text, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The number, if this is a whole number from 0 up.
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Value::Number(n) => n.as_u64(),
            _ => None,
        }
    }

    /// The number, if this is a whole number that fits an `i64`.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Number(n) => n.as_i64(),
            _ => None,
        }
    }

    /// The number, if this is one.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(n) => n.as_f64(),
            _ => None,
        }
    }

    /// The items, if this is a list.
    pub fn as_array(&self) -> Option<&Vec<Value>> {
        match self {
            Value::Array(items) => Some(items),
            _ => None,
        }
    }

    /// The entries, if this is a mapping.
    pub fn as_object(&self) -> Option<&Map> {
        match self {
            Value::Object(map) => Some(map),
            _ => None,
        }
    }

    /// Whether this is `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// Whether this is a mapping.
    pub fn is_object(&self) -> bool {
        matches!(self, Value::Object(_))
    }

    /// The value of a YAML node, its strings moved, plain scalars typed as
    /// [`Node::into_json`] types them.
    pub fn from_node(node: Node) -> Value {
        match node.kind {
            NodeKind::Seq(items) => Value::Array(items.into_iter().map(Value::from_node).collect()),
            NodeKind::Map(entries) => {
                let complex = entries.iter().any(|(k, _)| k.as_scalar().is_none());
                let mut map = Vec::with_capacity(entries.len());
                for (key, value) in entries {
                    let key = Key::Owned(match key.kind {
                        NodeKind::Scalar { text, .. } => text,
                        _ => key.to_json().to_string(),
                    });
                    let value = Value::from_node(value);
                    // The parser refuses a scalar key written twice; a list
                    // or mapping as a key may still meet another key as
                    // JSON text: the last wins, in the first one's place.
                    if complex && let Some(slot) = map.iter_mut().find(|(k, _)| *k == key) {
                        let (_, slot): &mut (Key, Value) = slot;
                        *slot = value;
                    } else {
                        map.push((key, value));
                    }
                }
                Value::Object(Map(map))
            }
            NodeKind::Scalar { .. } => Value::from(node.into_json()),
        }
    }
}

impl Value {
    /// This value with every string, list and mapping holding no more
    /// memory than its contents: what lint keeps of each manifest until the
    /// end of the run (a scalar's text is read into a larger buffer).
    pub(super) fn shrunk(self) -> Value {
        match self {
            Value::String(text) => Value::String(shrunk_text(text)),
            Value::Array(items) => {
                let mut items: Vec<Value> = items.into_iter().map(Value::shrunk).collect();
                items.shrink_to_fit();
                Value::Array(items)
            }
            Value::Object(Map(entries)) => {
                let mut map = Map(entries
                    .into_iter()
                    .map(|(key, value)| (shrunk_key(key), value.shrunk()))
                    .collect());
                map.shrink_to_fit();
                Value::Object(map)
            }
            other => other,
        }
    }
}

/// `text` in a buffer of its own length.
fn shrunk_text(mut text: String) -> String {
    text.shrink_to_fit();
    text
}

/// `key` without a string of its own if it is a [`KNOWN_KEYS`] one, else
/// its text shrunk.
fn shrunk_key(key: Key) -> Key {
    match key {
        Key::Owned(text) => match KNOWN_KEYS.iter().find(|known| **known == text) {
            Some(known) => Key::Borrowed(known),
            None => Key::Owned(shrunk_text(text)),
        },
        named @ Key::Borrowed(_) => named,
    }
}

/// Keys written in most manifests' labels, selectors, resources and ports,
/// which what lint keeps of each manifest holds over and over: the
/// recommended labels of Kubernetes and Strata's own.
const KNOWN_KEYS: &[&str] = &[
    "app",
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/version",
    "app.kubernetes.io/component",
    "app.kubernetes.io/part-of",
    "app.kubernetes.io/managed-by",
    "kubernetes.io/metadata.name",
    "strata.dev/tier",
    "matchLabels",
    "matchExpressions",
    "key",
    "operator",
    "values",
    "requests",
    "limits",
    "cpu",
    "memory",
    "ephemeral-storage",
    "name",
    "port",
    "number",
    "protocol",
    "targetPort",
    "kind",
    "apiVersion",
    "service",
    "backend",
    "http",
    "paths",
    "path",
    "pathType",
    "host",
];

impl Map {
    /// Gives back the room of entries not used.
    pub(super) fn shrink_to_fit(&mut self) {
        self.0.shrink_to_fit();
    }

    /// The value under `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// The entries, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.0.iter().map(|(k, v)| (k.as_ref(), v))
    }

    /// How many entries.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there is no entry.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl FromIterator<(Key, Value)> for Map {
    /// Entries in order; a key given again replaces the first one's value.
    fn from_iter<I: IntoIterator<Item = (Key, Value)>>(entries: I) -> Map {
        let mut map = Map::default();
        for (key, value) in entries {
            match map.0.iter_mut().find(|(k, _)| *k == key) {
                Some((_, slot)) => *slot = value,
                None => map.0.push((key, value)),
            }
        }
        map
    }
}

impl IntoIterator for Map {
    type Item = (Key, Value);
    type IntoIter = std::vec::IntoIter<(Key, Value)>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

/// Mappings are equal with the same entries in any order, as JSON's are.
impl PartialEq for Map {
    fn eq(&self, other: &Map) -> bool {
        self.len() == other.len() && self.iter().all(|(k, v)| other.get(k) == Some(v))
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Null, Value::Null) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Number(a), Value::Number(b)) => a == b,
            (Value::String(a), Value::String(b)) => a == b,
            (Value::Array(a), Value::Array(b)) => a == b,
            (Value::Object(a), Value::Object(b)) => a == b,
            _ => false,
        }
    }
}

impl PartialEq<str> for Value {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == Some(other)
    }
}

impl PartialEq<&str> for Value {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == Some(*other)
    }
}

impl Index<&str> for Value {
    type Output = Value;

    /// The value under `key`; `null` when there is none or this is no
    /// mapping.
    fn index(&self, key: &str) -> &Value {
        self.get(key).unwrap_or(&NULL)
    }
}

impl From<serde_json::Value> for Value {
    fn from(value: serde_json::Value) -> Value {
        match value {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(b),
            serde_json::Value::Number(n) => Value::Number(n),
            serde_json::Value::String(s) => Value::String(s),
            serde_json::Value::Array(items) => {
                Value::Array(items.into_iter().map(Value::from).collect())
            }
            serde_json::Value::Object(map) => Value::Object(Map(map
                .into_iter()
                .map(|(k, v)| (Key::Owned(k), Value::from(v)))
                .collect())),
        }
    }
}

impl From<Value> for serde_json::Value {
    fn from(value: Value) -> serde_json::Value {
        match value {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(b),
            Value::Number(n) => serde_json::Value::Number(n),
            Value::String(s) => serde_json::Value::String(s),
            Value::Array(items) => {
                serde_json::Value::Array(items.into_iter().map(serde_json::Value::from).collect())
            }
            Value::Object(map) => serde_json::Value::Object(
                map.into_iter()
                    .map(|(k, v)| (k.into_owned(), serde_json::Value::from(v)))
                    .collect(),
            ),
        }
    }
}

/// As JSON text, like `serde_json::Value`'s: what messages quote.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        serde_json::Value::from(self.clone()).fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{Key, Value};
    use crate::source::SourceFile;
    use crate::spec::yaml;

    #[test]
    fn reads_yaml_as_into_json_does() {
        let text = "a: 1\nb: '1'\nc: [true, ~, 1.5, -2, x]\nd: { e: f }\n? [k]\n: v\n";
        let node = yaml::parse(&SourceFile::new("t.yaml", text)).unwrap();
        let expected = node.to_json();
        let value = Value::from_node(node);
        assert_eq!(serde_json::Value::from(value.clone()), expected);
        assert_eq!(value["c"].as_array().map(Vec::len), Some(5));
        assert_eq!(value["b"], "1");
        assert_eq!(value["a"].as_u64(), Some(1));
        assert!(value["d"]["nothing"]["deeper"].is_null());
        assert_eq!(value["c"].to_string(), r#"[true,null,1.5,-2,"x"]"#);
    }

    #[test]
    fn shrunk_values_are_equal_and_hold_no_spare_room() {
        let mut text = String::with_capacity(64);
        text.push_str("shop");
        let value = Value::Object(
            [
                (
                    Key::Owned("app.kubernetes.io/name".into()),
                    Value::String(text),
                ),
                (
                    Key::Owned("x-custom".into()),
                    Value::Array(Vec::with_capacity(8)),
                ),
            ]
            .into_iter()
            .collect(),
        );
        let shrunk = value.clone().shrunk();
        assert_eq!(shrunk, value);
        let map = shrunk.as_object().unwrap();
        assert!(matches!(
            map.0[0].0,
            Key::Borrowed("app.kubernetes.io/name")
        ));
        assert!(matches!(&map.0[1].0, Key::Owned(k) if k == "x-custom"));
        assert!(matches!(&map.0[0].1, Value::String(s) if s.capacity() == 4));
        assert!(matches!(&map.0[1].1, Value::Array(items) if items.capacity() == 0));
    }

    #[test]
    fn mappings_are_equal_in_any_order() {
        let a = Value::from(json!({ "x": 1, "y": [1, 2] }));
        let b = Value::from(json!({ "y": [1, 2], "x": 1 }));
        let c = Value::from(json!({ "y": [2, 1], "x": 1 }));
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, Value::from(json!({ "x": 1 })));
    }
}
