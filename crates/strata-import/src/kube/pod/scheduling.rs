//! Node selectors, tolerations and affinity: the pool a service runs in.

use super::{dns_label, patch};
use crate::Fate;
use crate::draft::{Draft, DraftService};
use crate::kube::Object;
use k8s_openapi::api::core::v1 as core;
use serde_json::json;

pub(super) fn placement(
    object: &Object,
    spec: &core::PodSpec,
    draft: &mut Draft,
    service: &mut DraftService,
    template: &[String],
) {
    let selector = spec.node_selector.clone().unwrap_or_default();
    let tolerations = spec.tolerations.clone().unwrap_or_default();
    if selector.is_empty() && tolerations.is_empty() {
        return;
    }
    let mut taints = Vec::new();
    let mut kept = Vec::new();
    for t in &tolerations {
        let effect = t.effect.clone().unwrap_or_default();
        let Some(key) = t.key.clone() else {
            kept.push(t.clone());
            continue;
        };
        if t.toleration_seconds.is_some() {
            kept.push(t.clone());
            continue;
        }
        let mut taint = key;
        if t.operator.as_deref() != Some("Exists")
            && let Some(v) = &t.value
        {
            taint = format!("{taint}={v}");
        }
        if !effect.is_empty() {
            taint = format!("{taint}:{effect}");
        }
        taints.push(taint);
    }
    if selector.is_empty() && taints.is_empty() {
        let p: Vec<&str> = template
            .iter()
            .map(String::as_str)
            .chain(["spec", "tolerations"])
            .collect();
        let op = json!({ "op": "add", "path": format!("{}/tolerations", service.kind.pod_spec()), "value": tolerations });
        patch(
            draft,
            service,
            &object.loc(&p),
            &object.id(),
            op,
            "tolerations",
        );
        return;
    }
    let mut pool = json!({ "selector": selector });
    if !taints.is_empty() {
        pool["taints"] = json!(taints);
    }
    let existing = draft
        .pools
        .iter()
        .find(|(_, p)| **p == pool)
        .map(|(n, _)| n.clone());
    let name = existing.unwrap_or_else(|| {
        // The selector's value names the pool (`general`), unless it is a
        // flag (`"true"`): then its key does (`gpu-present`).
        let base = selector.iter().next().map_or_else(
            || "tainted".to_string(),
            |(k, v)| {
                let flag = matches!(
                    v.to_ascii_lowercase().as_str(),
                    "true" | "false" | "yes" | "no" | "1" | "0" | ""
                );
                if flag {
                    dns_label(k.rsplit('/').next().unwrap_or(k))
                } else {
                    dns_label(v)
                }
            },
        );
        let base = if base.is_empty() {
            "pool".to_string()
        } else {
            base
        };
        let mut name = base.clone();
        let mut n = 2;
        while draft.pools.contains_key(&name) {
            name = format!("{base}-{n}");
            n += 1;
        }
        draft.pools.insert(name.clone(), pool);
        name
    });
    service.set(
        "pool",
        json!(name),
        &["the node selector and tolerations of the input, as a node pool"],
    );
    if !kept.is_empty() {
        let p: Vec<&str> = template
            .iter()
            .map(String::as_str)
            .chain(["spec", "tolerations"])
            .collect();
        draft.note(&object.loc(&p), Fate::Dropped, object.id(), "a toleration without a key or with `tolerationSeconds` has no pool form: add it with a patch");
    }
}
