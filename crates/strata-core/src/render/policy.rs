//! Objects that act on a running service: PodDisruptionBudget,
//! HorizontalPodAutoscaler and ServiceMonitor.

use std::rc::Rc;

use serde_json::{Value, json};

use super::body::{Body, Head};
use super::{labels, object};
use crate::kind;
use crate::model::{Autoscale, Platform, Scaling, Service, WorkloadKind};

/// The availability and scaling objects of a service.
pub(super) fn render<'a>(
    platform: &Platform,
    service: &'a Service,
    own: &Rc<labels::ServiceLabels<'a>>,
) -> Vec<Body<'a>> {
    let runtime = &service.runtime;
    let head =
        |api_version, kind| Head::new(api_version, kind, &service.namespace, service.name.as_str());
    let mut out = Vec::new();
    let scalable = matches!(
        service.kind,
        WorkloadKind::Stateless | WorkloadKind::Stateful
    );
    let least = runtime
        .autoscale
        .as_deref()
        .map_or(service.replicas, |a| a.min);
    if scalable && runtime.disruption_budget && least > 1 {
        let own = Rc::clone(own);
        let head = head("policy/v1", kind::POD_DISRUPTION_BUDGET);
        out.push(Body::deferred(head, move || {
            object([
                ("apiVersion", Value::from("policy/v1")),
                ("kind", Value::from("PodDisruptionBudget")),
                ("metadata", own.metadata(&service.name)),
                (
                    "spec",
                    object([
                        ("maxUnavailable", Value::from(1)),
                        (
                            "selector",
                            object([("matchLabels", Value::Object(own.selector()))]),
                        ),
                        // Evict pods that never became ready, or a broken rollout blocks node drains.
                        ("unhealthyPodEvictionPolicy", Value::from("AlwaysAllow")),
                    ]),
                ),
            ])
        }));
    }
    if let Some(autoscale) = runtime.autoscale.as_deref().copied().filter(|_| scalable) {
        let own = Rc::clone(own);
        let head = head("autoscaling/v2", kind::HORIZONTAL_POD_AUTOSCALER);
        out.push(Body::deferred(head, move || {
            autoscaler(service, &own, autoscale)
        }));
    }
    if let Some(metrics) = runtime
        .metrics
        .as_ref()
        .filter(|_| platform.service_monitors && service.kind.is_long_running())
    {
        let own = Rc::clone(own);
        let head = head("monitoring.coreos.com/v1", "ServiceMonitor");
        out.push(Body::deferred(head, move || object([
            ("apiVersion", Value::from("monitoring.coreos.com/v1")),
            ("kind", Value::from("ServiceMonitor")),
            ("metadata", own.metadata(&service.name)),
            (
                "spec",
                object([
                    (
                        "selector",
                        object([("matchLabels", Value::Object(own.selector()))]),
                    ),
                    (
                        "endpoints",
                        json!([{ "port": metrics.port, "path": metrics.path, "interval": "30s" }]),
                    ),
                ]),
            ),
        ])));
    }
    out
}

/// The HorizontalPodAutoscaler of a service that `autoscale` scales.
fn autoscaler(service: &Service, own: &labels::ServiceLabels<'_>, autoscale: Autoscale) -> Value {
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
    let mut hpa = object([
        ("apiVersion", Value::from("autoscaling/v2")),
        ("kind", Value::from("HorizontalPodAutoscaler")),
        ("metadata", own.metadata(&service.name)),
        (
            "spec",
            object([
                (
                    "scaleTargetRef",
                    json!({ "apiVersion": "apps/v1", "kind": kind, "name": service.name }),
                ),
                ("minReplicas", Value::from(autoscale.min)),
                ("maxReplicas", Value::from(autoscale.max)),
                ("metrics", Value::Array(metrics)),
            ]),
        ),
    ]);
    for (key, rules) in [
        ("scaleUp", autoscale.scale_up),
        ("scaleDown", autoscale.scale_down),
    ] {
        if let Some(rules) = rules {
            hpa["spec"]["behavior"][key] = behavior(rules);
        }
    }
    hpa
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
