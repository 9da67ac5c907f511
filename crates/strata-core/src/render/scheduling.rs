//! Pods placed by a scheduler other than Kubernetes' own (`scheduler:`):
//! Volcano's queue for each namespace whose services it schedules, bounded
//! by the namespace's budget.

use serde_json::{Value, json};

use super::{Object, labels};
use crate::model::{Platform, PodScheduler};
use crate::quantity::Measure;

/// The pod annotation naming the Volcano queue of a pod that belongs to no
/// Volcano job (its PodGroup is made for it in that queue).
pub(super) const QUEUE_ANNOTATION: &str = "scheduling.volcano.sh/queue-name";
/// The label naming the Volcano queue of a KubeRay `RayCluster`.
pub(crate) const QUEUE_LABEL: &str = "volcano.sh/queue-name";

/// The Volcano queue of a namespace: named after it.
pub(crate) fn queue_name(namespace: &str) -> &str {
    namespace
}

/// A cluster-scoped Volcano `Queue` per namespace with services it
/// schedules, in the wave of the first of them (after Volcano's CRDs when
/// a tier installs it): the namespace's budget as its capability, so the
/// scheduler holds back what the ResourceQuota would refuse.
pub(super) fn queues(platform: &Platform) -> Vec<Object> {
    let mut out = Vec::new();
    for namespace in &platform.namespaces {
        let Some(first) = platform
            .services
            .iter()
            .filter(|s| {
                s.namespace == namespace.name && s.rare.scheduler == Some(PodScheduler::Volcano)
            })
            .min_by_key(|s| s.wave)
        else {
            continue;
        };
        let mut spec = json!({ "weight": 1 });
        if let Some(budget) = &namespace.budget {
            let mut capability = serde_json::Map::new();
            if let Some(cpu) = budget.cpu {
                capability.insert("cpu".into(), json!(cpu.to_kubernetes(Measure::Cpu)));
            }
            if let Some(memory) = budget.memory {
                capability.insert("memory".into(), json!(memory.to_kubernetes(Measure::Bytes)));
            }
            if let Some(gpu) = budget.gpu {
                capability.insert("nvidia.com/gpu".into(), json!(gpu.to_string()));
            }
            if !capability.is_empty() {
                spec["capability"] = Value::Object(capability);
            }
        }
        out.push(Object::new(
            first.wave,
            Some(&platform.tier_of(first).name),
            None,
            json!({
                "apiVersion": "scheduling.volcano.sh/v1beta1",
                "kind": "Queue",
                "metadata": { "name": queue_name(&namespace.name), "labels": labels::platform(platform) },
                "spec": spec,
            }),
        ));
    }
    out
}
