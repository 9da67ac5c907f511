//! `values.schema.json` of each chart: the type of every value, so that
//! Helm rejects a values file that misspells or mistypes one.

use serde_json::{Map, Value, json};

use super::chart::Chart;
use super::values::{Hole, Style, Values};

/// The JSON Schema of a value seen as `values` across renders.
fn value_schema(values: &[&Value]) -> Value {
    if values.iter().all(|v| v.is_object()) {
        let first = values[0].as_object().cloned().unwrap_or_default();
        let same_keys = values.iter().all(|v| {
            v.as_object()
                .is_some_and(|m| m.len() == first.len() && first.keys().all(|k| m.contains_key(k)))
        });
        if same_keys && !first.is_empty() {
            let properties: Map<String, Value> = first
                .keys()
                .map(|k| {
                    let children: Vec<&Value> = values.iter().map(|v| &v[k.as_str()]).collect();
                    (k.clone(), value_schema(&children))
                })
                .collect();
            return json!({ "type": "object", "properties": properties });
        }
        return json!({ "type": "object" });
    }
    let mut types: Vec<&str> = Vec::new();
    for value in values {
        let t = match value {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        };
        if !types.contains(&t) {
            types.push(t);
        }
    }
    match types.as_slice() {
        [one] => json!({ "type": one }),
        many => json!({ "type": many }),
    }
}

/// The schema of a values tree built from `holes` (under `prefix`).
fn tree_schema(holes: &[&Hole], depth: usize) -> Value {
    if let [hole] = holes
        && hole.path.len() == depth
    {
        let values: Vec<&Value> = hole.values.iter().collect();
        let mut schema = value_schema(&values);
        if hole.style == Style::Image {
            schema["required"] = json!(["repository", "tag"]);
        }
        return schema;
    }
    let mut keys: Vec<&str> = Vec::new();
    for hole in holes {
        if let Some(key) = hole.path.get(depth)
            && !keys.contains(&key.as_str())
        {
            keys.push(key);
        }
    }
    let properties: Map<String, Value> = keys
        .iter()
        .map(|key| {
            let below: Vec<&Hole> = holes
                .iter()
                .copied()
                .filter(|h| h.path.get(depth).map(String::as_str) == Some(*key))
                .collect();
            (key.to_string(), tree_schema(&below, depth + 1))
        })
        .collect();
    json!({
        "type": "object",
        "properties": properties,
        "required": keys,
        "additionalProperties": false,
    })
}

fn global_property(global: &Values) -> Value {
    let holes: Vec<&Hole> = global.holes.iter().collect();
    let mut schema = tree_schema(&holes, 0);
    // Helm adds its own keys under `global`.
    schema["additionalProperties"] = json!(true);
    schema
}

/// The schema of a chart's values, `global` included.
pub(super) fn chart_schema(chart: &Chart, global: &Values) -> Value {
    let holes: Vec<&Hole> = chart.values.holes.iter().collect();
    let mut schema = tree_schema(&holes, 0);
    schema["$schema"] = json!("https://json-schema.org/draft-07/schema#");
    schema["properties"]["global"] = global_property(global);
    schema
}

/// The schema of the umbrella chart, its subcharts' values included.
pub(super) fn umbrella_schema(charts: &[Chart], global: &Values) -> Value {
    let mut schema = chart_schema(&charts[0], global);
    for chart in &charts[1..] {
        let holes: Vec<&Hole> = chart.values.holes.iter().collect();
        let tier = chart.tier.clone().unwrap_or_default();
        let mut sub = tree_schema(&holes, 0);
        // A subchart also takes Helm's own keys (`global`, `enabled`…).
        sub["additionalProperties"] = json!(true);
        schema["properties"][tier.as_str()] = sub;
    }
    schema["additionalProperties"] = json!(true);
    schema
}

/// A schema as the text of its file.
pub(super) fn schema_text(schema: &Value) -> String {
    format!(
        "{}\n",
        serde_json::to_string_pretty(schema).unwrap_or_default()
    )
}
