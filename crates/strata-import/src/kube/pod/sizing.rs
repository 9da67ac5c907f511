//! Requests and limits as they are, none included.

use super::patch;
use crate::draft::{Draft, DraftService, Kind, Loc};
use crate::kube::Object;
use k8s_openapi::api::core::v1 as core;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

pub(super) fn resources(
    main: &core::Container,
    kind: Kind,
    draft: &mut Draft,
    loc: &Loc,
    object: &Object,
    service: &mut DraftService,
) {
    let pod_spec = kind.pod_spec();
    let resources = main.resources.clone().unwrap_or_default();
    let requests = resources.requests.unwrap_or_default();
    let limits = resources.limits.unwrap_or_default();
    let pick =
        |list: &BTreeMap<String, k8s_openapi::apimachinery::pkg::api::resource::Quantity>| {
            let mut out = Map::new();
            for key in ["cpu", "memory"] {
                if let Some(q) = list.get(key) {
                    out.insert(key.into(), json!(q.0));
                }
            }
            out
        };
    let (req, lim) = (pick(&requests), pick(&limits));
    let mut value = Map::new();
    if !req.is_empty() {
        value.insert("requests".into(), Value::Object(req.clone()));
    }
    if lim.is_empty() {
        value.insert("limits".into(), json!("none"));
    } else {
        value.insert("limits".into(), Value::Object(lim.clone()));
    }
    service.set(
        "resources",
        Value::Object(value),
        &["as the input has them"],
    );
    if let Some(gpu) = limits
        .get("nvidia.com/gpu")
        .or(requests.get("nvidia.com/gpu"))
    {
        service.set("gpu", json!(gpu.0.parse::<u64>().unwrap_or(1)), &[]);
    }
    service
        .patches
        .extend(unset_resources(&req, &lim, pod_spec));
    for (list, field) in [(&requests, "requests"), (&limits, "limits")] {
        for (key, q) in list {
            if matches!(key.as_str(), "cpu" | "memory" | "nvidia.com/gpu") {
                continue;
            }
            let op = json!({ "op": "add", "path": format!("{pod_spec}/containers/0/resources/{field}/{}", key.replace('~', "~0").replace('/', "~1")), "value": q.0 });
            patch(
                draft,
                service,
                loc,
                &object.id(),
                op,
                &format!("the resource `{key}`"),
            );
        }
    }
}

/// Patches that take back out the requests and limits Strata fills in
/// where the input (its `requests` and `limits` of CPU and memory) has none.
pub(crate) fn unset_resources(
    req: &Map<String, Value>,
    lim: &Map<String, Value>,
    pod_spec: &str,
) -> Vec<(Value, String)> {
    let mut out = Vec::new();
    let resources = format!("{pod_spec}/containers/0/resources");
    if req.is_empty() && lim.is_empty() {
        out.push((
            json!({ "op": "remove", "path": format!("{resources}/requests") }),
            "no requests, as the input".into(),
        ));
        return out;
    }
    for key in ["cpu", "memory"] {
        if !lim.is_empty() && !lim.contains_key(key) {
            out.push((
                json!({ "op": "remove", "path": format!("{resources}/limits/{key}") }),
                format!("no {key} limit, as the input"),
            ));
        }
        if !req.contains_key(key) && !lim.contains_key(key) {
            out.push((
                json!({ "op": "remove", "path": format!("{resources}/requests/{key}") }),
                format!("no {key} request, as the input"),
            ));
        }
    }
    out
}
