//! YAML in and out: input documents read with strata-core's reader, which
//! keeps where each value was written, and values written back as YAML that
//! people read (flow style when short, block style otherwise).

use serde_json::Value;
use strata_core::diag::Diagnostic;
use strata_core::source::{SourceFile, Span};
use strata_core::spec::yaml::{self, Node, NodeKind};

/// One document of an input file.
#[derive(Debug, Clone)]
pub struct Doc {
    /// The document with its spans.
    pub node: Node,
    /// The document as JSON.
    pub value: Value,
}

impl Doc {
    /// The span of the value at `path` (keys, or indices of lists written as
    /// numbers), or of its deepest ancestor the document has.
    pub fn span(&self, path: &[&str]) -> Span {
        let mut node = &self.node;
        for step in path {
            let next = match &node.kind {
                NodeKind::Map(_) => node.get(step),
                NodeKind::Seq(items) => step.parse::<usize>().ok().and_then(|i| items.get(i)),
                NodeKind::Scalar { .. } => None,
            };
            match next {
                Some(n) => node = n,
                None => break,
            }
        }
        node.span
    }
}

/// Every non-empty document of `file`.
///
/// # Errors
/// The file is not YAML.
pub fn documents(file: &SourceFile) -> Result<Vec<Doc>, Diagnostic> {
    Ok(yaml::parse_all(file)?
        .into_iter()
        .filter(|node| !node.is_null())
        .map(|node| Doc {
            value: node.to_json(),
            node,
        })
        .collect())
}

/// Longest line a value is written on in flow style.
const FLOW_WIDTH: usize = 90;

/// A scalar as YAML: plain when YAML reads it back as the same string,
/// else double-quoted (JSON's escapes are YAML's).
pub fn scalar(value: &Value) -> String {
    match value {
        Value::String(s) => {
            if plain(s) {
                s.clone()
            } else {
                Value::String(s.clone()).to_string()
            }
        }
        Value::Null => "~".into(),
        other => other.to_string(),
    }
}

/// Whether `s` can be written unquoted and still read as this string.
fn plain(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    if matches!(
        s.to_ascii_lowercase().as_str(),
        "true" | "false" | "null" | "yes" | "no" | "on" | "off" | "y" | "n" | "~"
    ) {
        return false;
    }
    if s.parse::<f64>().is_ok() || s.starts_with("0x") || s.starts_with("0o") {
        return false;
    }
    (first.is_ascii_alphanumeric() || first == '/' || first == '_')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
}

/// `value` in flow style, on one line.
pub fn flow(value: &Value) -> String {
    match value {
        Value::Object(map) if map.is_empty() => "{}".into(),
        Value::Object(map) => {
            let items: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{}: {}", scalar(&Value::String(k.clone())), flow(v)))
                .collect();
            format!("{{ {} }}", items.join(", "))
        }
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(flow).collect();
            format!("[{}]", items.join(", "))
        }
        other => scalar(other),
    }
}

/// Writes `key: value` at `indent`, the value in flow style when it fits on
/// the line, else in block style.
pub fn entry(out: &mut String, indent: usize, key: &str, value: &Value) {
    let pad = " ".repeat(indent);
    let key = scalar(&Value::String(key.to_string()));
    let one_line = flow(value);
    let multi_line_text = matches!(value, Value::String(s) if s.contains('\n'));
    if multi_line_text {
        block_text(out, indent, &key, value.as_str().unwrap_or_default());
    } else if indent + key.len() + 2 + one_line.len() <= FLOW_WIDTH
        || !matches!(value, Value::Object(_) | Value::Array(_))
    {
        out.push_str(&format!("{pad}{key}: {one_line}\n"));
    } else {
        out.push_str(&format!("{pad}{key}:\n"));
        block(out, indent + 2, value);
    }
}

/// A multi-line string as a literal block when that reads back exactly.
fn block_text(out: &mut String, indent: usize, key: &str, text: &str) {
    let pad = " ".repeat(indent);
    let literal_safe = !text.starts_with([' ', '\n'])
        && !text.contains('\t')
        && text.lines().all(|l| !l.ends_with(' '));
    if !literal_safe {
        out.push_str(&format!("{pad}{key}: {}\n", Value::String(text.into())));
        return;
    }
    let chomp = if text.ends_with("\n\n") {
        "+"
    } else if text.ends_with('\n') {
        ""
    } else {
        "-"
    };
    out.push_str(&format!("{pad}{key}: |{chomp}\n"));
    for line in text.trim_end_matches('\n').split('\n') {
        if line.is_empty() {
            out.push('\n');
        } else {
            out.push_str(&format!("{pad}  {line}\n"));
        }
    }
    if chomp == "+" {
        for _ in 0..text.len() - text.trim_end_matches('\n').len() - 1 {
            out.push('\n');
        }
    }
}

/// The items of a mapping or list, one per line, at `indent`.
pub fn block(out: &mut String, indent: usize, value: &Value) {
    let pad = " ".repeat(indent);
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                entry(out, indent, k, v);
            }
        }
        Value::Array(items) => {
            for item in items {
                let one_line = flow(item);
                if indent + 2 + one_line.len() <= FLOW_WIDTH
                    || !matches!(item, Value::Object(_) | Value::Array(_))
                {
                    out.push_str(&format!("{pad}- {one_line}\n"));
                } else {
                    let mut inner = String::new();
                    block(&mut inner, indent + 2, item);
                    out.push_str(&format!("{pad}- {}", &inner[indent + 2..]));
                }
            }
        }
        other => out.push_str(&format!("{pad}{}\n", scalar(other))),
    }
}

/// A whole document in block style.
pub fn document(value: &Value) -> String {
    let mut out = String::new();
    block(&mut out, 0, value);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn reads_back(value: &Value) {
        let text = document(&json!({ "v": value }));
        let file = SourceFile::new("t.yaml", text.clone());
        let back = yaml::parse(&file).unwrap().to_json();
        assert_eq!(back["v"], *value, "{text}");
    }

    #[test]
    fn scalars_read_back_as_written() {
        for s in [
            "8080",
            "true",
            "no",
            "",
            " x",
            "a: b",
            "${redis.address}",
            "#x",
            "-x",
            "1.0",
            "0x1F",
            "http://a:1/b?c=d",
            "line\nline\n",
            "tab\there",
            "end \n",
            "x\n\n",
            "'q'",
        ] {
            reads_back(&json!(s));
        }
        reads_back(&json!({ "a b": [1, "2", null, true, { "k": "v: w" }] }));
    }

    #[test]
    fn long_values_go_to_block_style() {
        let long = json!({ "command": ["sh", "-c", "x".repeat(100)], "k": { "a": "b" } });
        let text = document(&long);
        assert!(text.contains("command:\n  - sh\n"), "{text}");
        reads_back(&long);
    }
}
