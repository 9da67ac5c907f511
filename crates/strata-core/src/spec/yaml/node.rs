//! The tree a YAML text parses to: [`Node`]s that remember where they were
//! written, what a reader asks of them, their JSON form, and overlaying one
//! on another (an environment's overrides on the base spec).

use crate::source::Span;

/// One YAML value and its place in the source.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Where the value was written.
    pub span: Span,
    /// The value.
    pub kind: NodeKind,
}

/// The shape of a YAML value.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    /// A scalar as written; `quoted` when it can only be a string.
    Scalar {
        /// The scalar's text after YAML unescaping.
        text: String,
        /// Written quoted or as a block, or tagged `!!str`.
        quoted: bool,
    },
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in source order.
    Map(Vec<(Node, Node)>),
}

impl Node {
    /// The scalar text, if this is a scalar.
    pub fn as_scalar(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    /// Whether this is YAML null (`~`, `null` or nothing).
    pub fn is_null(&self) -> bool {
        matches!(&self.kind, NodeKind::Scalar { text, quoted: false }
            if matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL"))
    }

    /// The value under `key`, if this is a mapping that has it.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.kind {
            NodeKind::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.as_scalar() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// The value under `key`, mutable, if this is a mapping that has it.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Node> {
        match &mut self.kind {
            NodeKind::Map(entries) => entries
                .iter_mut()
                .find(|(k, _)| k.as_scalar() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// What kind of value this is, for messages ("a mapping", "a number"…).
    pub fn describe(&self) -> &'static str {
        match &self.kind {
            NodeKind::Seq(_) => "a list",
            NodeKind::Map(_) => "a mapping",
            NodeKind::Scalar { .. } if self.is_null() => "nothing (null)",
            NodeKind::Scalar { quoted: true, .. } => "a string",
            NodeKind::Scalar { text, .. } => {
                if matches!(
                    text.as_str(),
                    "true" | "false" | "True" | "False" | "TRUE" | "FALSE"
                ) {
                    "a boolean"
                } else if text.parse::<f64>().is_ok() {
                    "a number"
                } else {
                    "a string"
                }
            }
        }
    }

    /// The value as JSON, with plain scalars typed by the YAML 1.2 core
    /// schema (null, booleans, integers, floats) and quoted ones as strings.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match &self.kind {
            NodeKind::Seq(items) => Value::Array(items.iter().map(Node::to_json).collect()),
            NodeKind::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.json_key(), v.to_json()))
                    .collect(),
            ),
            NodeKind::Scalar { text, quoted } => {
                scalar_json(text, *quoted).unwrap_or_else(|| Value::String(text.clone()))
            }
        }
    }

    /// [`Node::to_json`], consuming the node: its strings move into the
    /// value instead of being copied, which halves the allocations of
    /// reading a large stream.
    pub fn into_json(self) -> serde_json::Value {
        use serde_json::Value;
        match self.kind {
            NodeKind::Seq(items) => Value::Array(items.into_iter().map(Node::into_json).collect()),
            NodeKind::Map(entries) => Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| {
                        let key = match k.kind {
                            NodeKind::Scalar { text, .. } => text,
                            _ => k.to_json().to_string(),
                        };
                        (key, v.into_json())
                    })
                    .collect(),
            ),
            NodeKind::Scalar { text, quoted } => {
                scalar_json(&text, quoted).unwrap_or(Value::String(text))
            }
        }
    }

    /// A mapping key as a JSON object key: a scalar's text, anything else
    /// as its JSON.
    fn json_key(&self) -> String {
        self.as_scalar()
            .map_or_else(|| self.to_json().to_string(), str::to_string)
    }

    /// Overlays `other` on this node: mappings merge key by key (recursively),
    /// anything else is replaced.
    pub fn merge(&mut self, other: &Node) {
        match (&mut self.kind, &other.kind) {
            (NodeKind::Map(base), NodeKind::Map(over)) => {
                for (key, value) in over {
                    let existing = base
                        .iter_mut()
                        .find(|(k, _)| k.as_scalar().is_some() && k.as_scalar() == key.as_scalar());
                    match existing {
                        Some((_, v)) => v.merge(value),
                        None => base.push((key.clone(), value.clone())),
                    }
                }
            }
            _ => *self = other.clone(),
        }
    }
}

/// The JSON of a scalar that is not a string under the YAML 1.2 core
/// schema (null, a boolean, an integer, a float); `None` for a string.
fn scalar_json(text: &str, quoted: bool) -> Option<serde_json::Value> {
    use serde_json::Value;
    if quoted {
        return None;
    }
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Some(Value::Null),
        "true" | "True" | "TRUE" => return Some(Value::Bool(true)),
        "false" | "False" | "FALSE" => return Some(Value::Bool(false)),
        _ => {}
    }
    // Most scalars of a manifest are names: skip the number parsers unless
    // the text could be one.
    let numeric = |b: u8| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E');
    if !text.bytes().all(numeric) {
        return None;
    }
    if let Ok(i) = text.parse::<i64>() {
        return Some(Value::from(i));
    }
    text.parse::<f64>()
        .ok()
        .filter(|f| f.is_finite())
        .map(Value::from)
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use super::*;
    use crate::source::SourceFile;

    fn parse_str(text: &str) -> Node {
        parse(&SourceFile::new("t.yaml", text)).unwrap()
    }

    #[test]
    fn into_json_types_scalars_like_to_json() {
        let text = "a: [1, -2, +3, 1.5, 1e3, .5, 0x1F, '7', ~, null, \"\", true, False, \"no\", x, inf, 1.2.3]\n{b: 1}: {c: d}\n";
        let node = parse_str(text);
        assert_eq!(node.to_json(), node.clone().into_json());
        assert_eq!(
            node.to_json()["a"],
            serde_json::json!([
                1, -2, 3, 1.5, 1000.0, 0.5, "0x1F", "7", null, null, "", true, false, "no", "x",
                "inf", "1.2.3"
            ])
        );
    }

    #[test]
    fn merging_overlays_maps_recursively() {
        let mut base = parse_str("a: { b: 1, c: 2 }\n");
        let over = parse_str("a: { c: 3, d: 4 }\n");
        base.merge(&over);
        let a = base.get("a").unwrap();
        assert_eq!(a.get("b").unwrap().as_scalar(), Some("1"));
        assert_eq!(a.get("c").unwrap().as_scalar(), Some("3"));
        assert_eq!(a.get("d").unwrap().as_scalar(), Some("4"));
    }
}
