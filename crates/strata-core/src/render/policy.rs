//! Objects that act on a running service: PodDisruptionBudget,
//! HorizontalPodAutoscaler and ServiceMonitor.

use serde_json::{Value, json};

use super::labels;
use crate::model::{Platform, Scaling, Service, WorkloadKind};

/// The availability and scaling objects of a service.
pub(super) fn render(platform: &Platform, service: &Service) -> Vec<Value> {
    let runtime = &service.runtime;
    let mut out = Vec::new();
    let scalable = matches!(
        service.kind,
        WorkloadKind::Stateless | WorkloadKind::Stateful
    );
    let least = runtime.autoscale.map_or(service.replicas, |a| a.min);
    if scalable && runtime.disruption_budget && least > 1 {
        out.push(json!({
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": labels::metadata(platform, service, &service.name),
            "spec": {
                "maxUnavailable": 1,
                "selector": { "matchLabels": labels::selector(platform, service) },
                // Evict pods that never became ready, or a broken rollout blocks node drains.
                "unhealthyPodEvictionPolicy": "AlwaysAllow",
            },
        }));
    }
    if let Some(autoscale) = runtime.autoscale.filter(|_| scalable) {
        let target = |name: &str, percent: u32| json!({ "type": "Resource", "resource": { "name": name, "target": { "type": "Utilization", "averageUtilization": percent } } });
        let metrics: Vec<Value> = [("cpu", autoscale.cpu), ("memory", autoscale.memory)]
            .into_iter()
            .filter_map(|(name, percent)| percent.map(|p| target(name, p)))
            .collect();
        let kind = if service.kind == WorkloadKind::Stateful {
            "StatefulSet"
        } else {
            "Deployment"
        };
        let mut hpa = json!({
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": labels::metadata(platform, service, &service.name),
            "spec": {
                "scaleTargetRef": { "apiVersion": "apps/v1", "kind": kind, "name": service.name },
                "minReplicas": autoscale.min,
                "maxReplicas": autoscale.max,
                "metrics": metrics,
            },
        });
        for (key, rules) in [
            ("scaleUp", autoscale.scale_up),
            ("scaleDown", autoscale.scale_down),
        ] {
            if let Some(rules) = rules {
                hpa["spec"]["behavior"][key] = behavior(rules);
            }
        }
        out.push(hpa);
    }
    if let Some(metrics) = runtime
        .metrics
        .as_ref()
        .filter(|_| platform.service_monitors && service.kind.is_long_running())
    {
        out.push(json!({
            "apiVersion": "monitoring.coreos.com/v1",
            "kind": "ServiceMonitor",
            "metadata": labels::metadata(platform, service, &service.name),
            "spec": {
                "selector": { "matchLabels": labels::selector(platform, service) },
                "endpoints": [{ "port": metrics.port, "path": metrics.path, "interval": "30s" }],
            },
        }));
    }
    out
}

/// One direction of an HPA's `behavior`: with both limits, the larger
/// change wins (`selectPolicy: Max`), as Kubernetes' own defaults do.
fn behavior(rules: Scaling) -> Value {
    let period = rules.every_seconds;
    let policies: Vec<Value> = [("Pods", rules.pods), ("Percent", rules.percent)]
        .into_iter()
        .filter_map(|(kind, value)| {
            value.map(|v| json!({ "type": kind, "value": v, "periodSeconds": period }))
        })
        .collect();
    let mut out = json!({});
    if let Some(wait) = rules.wait_seconds {
        out["stabilizationWindowSeconds"] = json!(wait);
    }
    if !policies.is_empty() {
        out["selectPolicy"] = json!("Max");
        out["policies"] = json!(policies);
    }
    out
}
