//! A template as text: the object's YAML with each hole's Go template
//! expression, literal braces escaped and optional keys in `if` blocks.

use serde_json::{Map, Value};

use super::template::Node;
use super::values::Style;
use crate::export::yaml;

/// Markers standing for holes while a template is written as YAML.
#[derive(Default)]
struct Markers {
    count: usize,
    /// Marker and the expression replacing it.
    holes: Vec<(String, String)>,
    /// Marker of an optional key, its condition and the key.
    optional: Vec<(String, String, String)>,
}

impl Markers {
    fn next(&mut self) -> String {
        self.count += 1;
        format!("STRATAVALUE{:06}X", self.count)
    }
}

/// Template text of `node`: YAML with each hole's expression.
pub(super) fn render_template(node: &Node) -> String {
    let mut markers = Markers::default();
    let value = with_markers(node, &mut markers);
    let text = yaml(&value).replace("{{", "{{ \"{{\" }}");
    // Optional keys: `KEY_MARKER: value` becomes an `if` block.
    let mut lines = Vec::new();
    for line in text.lines() {
        let trimmed = line.trim_start();
        let indent = &line[..line.len() - trimmed.len()];
        let optional = markers
            .optional
            .iter()
            .find(|(marker, _, _)| trimmed.starts_with(&format!("{marker}:")));
        match optional {
            Some((marker, condition, key)) => {
                let rest = &trimmed[marker.len()..];
                lines.push(format!("{indent}{{{{- if {condition} }}}}"));
                lines.push(format!("{indent}{}{rest}", yaml_key(key)));
                lines.push(format!("{indent}{{{{- end }}}}"));
            }
            None => lines.push(line.to_string()),
        }
    }
    let mut text = lines.join("\n") + "\n";
    // Replace the longest markers first so `…1` never eats part of `…12`.
    for (marker, expression) in markers.holes.iter().rev() {
        text = text.replace(marker.as_str(), expression);
    }
    text
}

/// A map key as YAML: plain when it is a simple word, else JSON-quoted.
fn yaml_key(key: &str) -> String {
    let plain = key.starts_with(|c: char| c.is_ascii_alphabetic())
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
        && !matches!(
            key.to_ascii_lowercase().as_str(),
            "y" | "n" | "yes" | "no" | "on" | "off" | "true" | "false" | "null"
        );
    if plain {
        key.to_string()
    } else {
        serde_json::to_string(key).unwrap_or_default()
    }
}

/// `node` as JSON with a unique marker string in place of each hole.
fn with_markers(node: &Node, markers: &mut Markers) -> Value {
    match node {
        Node::Literal(value) => value.clone(),
        Node::Map(fields) => {
            let mut map = Map::new();
            for (key, value) in fields {
                if let Node::Optional(flag, inner) = value {
                    let marker = markers.next();
                    let condition = format!(".Values.{}", flag.join("."));
                    markers
                        .optional
                        .push((marker.clone(), condition, key.clone()));
                    let value = with_markers(inner, markers);
                    map.insert(marker, value);
                } else {
                    map.insert(key.clone(), with_markers(value, markers));
                }
            }
            Value::Object(map)
        }
        Node::Optional(_, inner) => with_markers(inner, markers),
        Node::List(items) => Value::Array(items.iter().map(|v| with_markers(v, markers)).collect()),
        Node::Hole(path, style) => {
            let marker = markers.next();
            let path = path.join(".");
            let expression = match style {
                Style::Plain => format!("{{{{ .Values.{path} }}}}"),
                Style::Quote => format!("{{{{ .Values.{path} | quote }}}}"),
                Style::Json => format!("{{{{ .Values.{path} | toJson }}}}"),
                Style::Image => {
                    format!("\"{{{{ .Values.{path}.repository }}}}:{{{{ .Values.{path}.tag }}}}\"")
                }
            };
            markers.holes.push((marker.clone(), expression));
            Value::String(marker)
        }
    }
}
