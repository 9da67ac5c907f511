//! What the fake does with an object's fields, as an API server would:
//! merging patches, finding fields another manager owns, refusing changes
//! to immutable fields, and turning a Secret's `stringData` into `data`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

/// Deep merge: maps merge, other values replace; `null` removes with
/// `nulls_delete` (merge patches).
pub(super) fn merge(target: &mut Value, patch: &Value, nulls_delete: bool) {
    match (target.as_object_mut(), patch.as_object()) {
        (Some(t), Some(p)) => {
            for (k, v) in p {
                if v.is_null() && nulls_delete {
                    t.remove(k);
                } else {
                    merge(t.entry(k.clone()).or_insert(Value::Null), v, nulls_delete);
                }
            }
        }
        _ => *target = patch.clone(),
    }
}

/// Leaf fields of `applied` whose value in `live` differs: `.spec.replicas`.
pub(super) fn conflicts(applied: &Value, live: &Value, path: &str, out: &mut Vec<String>) {
    match applied.as_object() {
        Some(map) => {
            for (k, v) in map {
                if path.is_empty() && matches!(k.as_str(), "apiVersion" | "kind") {
                    continue;
                }
                if path == ".metadata" && matches!(k.as_str(), "name" | "namespace") {
                    continue;
                }
                if let Some(l) = live.get(k) {
                    conflicts(v, l, &format!("{path}.{k}"), out);
                }
            }
        }
        None => {
            if applied != live {
                out.push(path.to_string());
            }
        }
    }
}

/// The message refusing `applied` when it changes a field that cannot
/// change once `stored`: a Job's pod template, a Secret's type.
pub(super) fn immutable_change(stored: &Value, applied: &Value) -> Option<&'static str> {
    if stored["kind"] == "Job"
        && !applied["spec"]["template"].is_null()
        && applied["spec"]["template"] != stored["spec"]["template"]
    {
        return Some("Job \"spec.template\": field is immutable");
    }
    if stored["kind"] == "Secret" && !applied["type"].is_null() && applied["type"] != stored["type"]
    {
        return Some("Secret \"type\": field is immutable");
    }
    None
}

/// Secrets: the server turns `stringData` into base64 `data`.
pub(super) fn fold_string_data(value: &mut Value) {
    if value["kind"] != "Secret" {
        return;
    }
    if let Some(string_data) = value.as_object_mut().and_then(|o| o.remove("stringData"))
        && let Some(map) = string_data.as_object()
    {
        if !value["data"].is_object() {
            value["data"] = json!({});
        }
        for (k, v) in map {
            value["data"][k] = json!(STANDARD.encode(v.as_str().unwrap_or("")));
        }
    }
}
