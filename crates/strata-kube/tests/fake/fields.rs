//! What the fake does with an object's fields, as an API server would:
//! merging patches, finding fields another manager owns, refusing changes
//! to immutable fields, turning a Secret's `stringData` into `data`, and
//! holding a custom resource to its CRD's schema (`crds`, the one check the
//! tests have).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use super::crds::{Problem, Schema, What};

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
/// change once `stored`, in the API server's words: a Job's pod template,
/// a Secret's type, a StatefulSet's spec beyond what may change, a
/// workload's selector, a claim's spec beyond its size, a StorageClass.
pub(super) fn immutable_change(stored: &Value, applied: &Value) -> Option<String> {
    let name = stored["metadata"]["name"].as_str().unwrap_or("");
    let changed = |path: &[&str]| {
        let pick = |v: &Value| path.iter().fold(v.clone(), |v, k| v[*k].clone());
        let new = pick(applied);
        !new.is_null() && new != pick(stored)
    };
    match stored["kind"].as_str().unwrap_or("") {
        "Job" if changed(&["spec", "template"]) => {
            Some("Job \"spec.template\": field is immutable".into())
        }
        "Secret" if changed(&["type"]) => Some("Secret \"type\": field is immutable".into()),
        "StatefulSet" => {
            const MUTABLE: &[&str] = &[
                "replicas",
                "ordinals",
                "template",
                "updateStrategy",
                "revisionHistoryLimit",
                "persistentVolumeClaimRetentionPolicy",
                "minReadySeconds",
            ];
            let forbidden = applied["spec"].as_object().is_some_and(|spec| {
                spec.keys()
                    .filter(|k| !MUTABLE.contains(&k.as_str()))
                    .any(|k| changed(&["spec", k]))
            });
            forbidden.then(|| format!("StatefulSet.apps \"{name}\" is invalid: spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"))
        }
        kind @ ("Deployment" | "DaemonSet") if changed(&["spec", "selector"]) => Some(format!(
            "{kind}.apps \"{name}\" is invalid: spec.selector: Invalid value: {}: field is immutable",
            applied["spec"]["selector"]
        )),
        "PersistentVolumeClaim"
            if ["accessModes", "storageClassName", "volumeMode", "selector"]
                .iter()
                .any(|f| changed(&["spec", f])) =>
        {
            Some(format!(
                "PersistentVolumeClaim \"{name}\" is invalid: spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims"
            ))
        }
        "StorageClass" if changed(&["parameters"]) => Some(format!(
            "StorageClass.storage.k8s.io \"{name}\" is invalid: parameters: Forbidden: updates to parameters are forbidden."
        )),
        "StorageClass" if changed(&["provisioner"]) => Some(format!(
            "StorageClass.storage.k8s.io \"{name}\" is invalid: provisioner: Forbidden: updates to provisioner are forbidden."
        )),
        _ => None,
    }
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

/// The fields of `value` its CRD's `schema` does not declare, as a
/// request's `fieldValidation` has the server meet them: with `Strict`,
/// their paths (`spec.retentionHours`) to refuse the request with;
/// otherwise dropped from `value`, each with a warning unless `Ignore`.
pub(super) fn unknown_fields(
    schema: &Schema,
    value: &mut Value,
    validation: Option<&str>,
    warnings: &mut Vec<String>,
) -> Result<(), Vec<String>> {
    let unknown: Vec<Problem> = schema
        .problems(value)
        .into_iter()
        .filter(|p| p.what == What::Unknown)
        .collect();
    if unknown.is_empty() {
        return Ok(());
    }
    if validation == Some("Strict") {
        return Err(unknown.into_iter().map(|p| p.path).collect());
    }
    // Deepest first, so that no removal moves a field still to remove.
    for problem in unknown.iter().rev() {
        let (parent, field) = problem
            .pointer
            .rsplit_once('/')
            .expect("an unknown field is inside an object");
        let field = field.replace("~1", "/").replace("~0", "~");
        if let Some(object) = value.pointer_mut(parent).and_then(Value::as_object_mut) {
            object.remove(&field);
        }
        if validation != Some("Ignore") {
            warnings.push(format!("unknown field \"{}\"", problem.path));
        }
    }
    Ok(())
}

/// Why `value`'s CRD `schema` refuses it, as the API server's 422 says it
/// (`KafkaTopic.kafka.strimzi.io "orders" is invalid: spec.partitions:
/// Invalid value: …`); `None` when the schema takes it. Undeclared fields
/// are [`unknown_fields`]' business.
pub(super) fn invalid_fields(schema: &Schema, value: &Value) -> Option<String> {
    let problems: Vec<String> = schema
        .problems(value)
        .iter()
        .filter(|p| p.what != What::Unknown)
        .map(ToString::to_string)
        .collect();
    let causes = match problems.as_slice() {
        [] => return None,
        [one] => one.clone(),
        many => format!("[{}]", many.join(", ")),
    };
    let (group, _) = value["apiVersion"]
        .as_str()
        .unwrap_or_default()
        .split_once('/')
        .unwrap_or_default();
    Some(format!(
        "{}.{group} \"{}\" is invalid: {causes}",
        value["kind"].as_str().unwrap_or_default(),
        value["metadata"]["name"].as_str().unwrap_or_default()
    ))
}
