//! A chart's values: the holes of its templates, each with its value in
//! every render, and what an environment's values file must change.

use serde_json::{Map, Value, json};

/// How a value is written into a template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Style {
    /// `{{ .Values.x }}`: small integers and booleans.
    Plain,
    /// `{{ .Values.x | quote }}`: strings.
    Quote,
    /// `{{ .Values.x | toJson }}`: anything else.
    Json,
    /// `"{{ .Values.x.repository }}:{{ .Values.x.tag }}"`: a tagged image.
    Image,
}

/// A place in a template filled from values.
#[derive(Debug, Clone)]
pub(super) struct Hole {
    /// Where the value is, under `.Values`.
    pub(super) path: Vec<String>,
    /// Its value in each render.
    pub(super) values: Vec<Value>,
    /// How it is written.
    pub(super) style: Style,
}

/// A chart's values: holes and where they live.
#[derive(Default)]
pub(super) struct Values {
    /// Its holes, in the order they were placed.
    pub(super) holes: Vec<Hole>,
}

impl Values {
    /// The hole at `group.name` (or `name2`, `name3`… when that is taken by
    /// different values); an identical hole is shared.
    pub(super) fn place(
        &mut self,
        group: &[String],
        name: &str,
        values: Vec<Value>,
        style: Style,
    ) -> Vec<String> {
        for n in 1..10_000 {
            let mut path = group.to_vec();
            path.push(if n == 1 {
                name.to_string()
            } else {
                format!("{name}{n}")
            });
            let clashes = self
                .holes
                .iter()
                .find(|h| h.path == path || h.path.starts_with(&path) || path.starts_with(&h.path));
            match clashes {
                Some(h) if h.path == path && h.values == values && h.style == style => return path,
                Some(_) => {}
                None => {
                    self.holes.push(Hole {
                        path: path.clone(),
                        values,
                        style,
                    });
                    return path;
                }
            }
        }
        // Identifiers never start with `_` and a letter: this path is free.
        let path = vec![
            "_strataUnplaced".to_string(),
            format!("v{}", self.holes.len()),
        ];
        self.holes.push(Hole {
            path: path.clone(),
            values,
            style,
        });
        path
    }

    /// Every hole's value in render `r`, as a tree.
    pub(super) fn tree(&self, r: usize) -> Value {
        let mut root = Value::Object(Map::new());
        for hole in &self.holes {
            let mut node = &mut root;
            for step in &hole.path {
                node = node
                    .as_object_mut()
                    .map(|m| m.entry(step.clone()).or_insert_with(|| json!({})))
                    .expect("hole paths never pass through a leaf");
            }
            *node = hole.values[r].clone();
        }
        root
    }
}

/// How values are best written.
pub(super) fn style_of(values: &[Value]) -> Style {
    if values
        .iter()
        .all(|v| v.is_boolean() || v.as_i64().is_some_and(|i| i.abs() < 1_000_000))
    {
        Style::Plain
    } else if values.iter().all(Value::is_string) {
        Style::Quote
    } else {
        Style::Json
    }
}

/// What `values-<env>.yaml` must say to turn `base` into `env` under
/// Helm's merge (maps merge key by key, `null` removes a key, anything else
/// replaces); `None` when nothing changes.
pub fn values_change(base: &Value, env: &Value) -> Option<Value> {
    if base == env {
        return None;
    }
    match (base, env) {
        (Value::Object(a), Value::Object(b)) => {
            let mut out = Map::new();
            for key in a.keys().filter(|k| !b.contains_key(*k)) {
                out.insert(key.clone(), Value::Null);
            }
            for (key, value) in b {
                match a.get(key) {
                    Some(old) => {
                        if let Some(change) = values_change(old, value) {
                            out.insert(key.clone(), change);
                        }
                    }
                    None => {
                        out.insert(key.clone(), value.clone());
                    }
                }
            }
            Some(Value::Object(out))
        }
        _ => Some(env.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_change_removes_keys_with_null() {
        assert_eq!(
            values_change(
                &json!({ "a": { "b": 1, "c": 2 }, "d": 3 }),
                &json!({ "a": { "b": 1 }, "d": 4 })
            ),
            Some(json!({ "a": { "c": null }, "d": 4 }))
        );
        assert_eq!(values_change(&json!({ "a": 1 }), &json!({ "a": 1 })), None);
    }
}
