//! kube-state-metrics: metrics of the Kubernetes objects (nodes ready, pods
//! by phase, restarts, requests against allocatable), read from the API
//! server with a ClusterRole that lists and watches exactly the kinds it
//! exports.

use serde_json::{Value, json};

use super::recipe::{self, image, resources, user};
use crate::model::{
    Auth, Blueprint, BlueprintInfo, Mode, Platform, Recipe, Service, Supplied, Tuning,
};

/// The `kube-state-metrics` blueprint.
pub(super) struct KubeStateMetrics;

impl Blueprint for KubeStateMetrics {
    fn info(&self) -> &'static BlueprintInfo {
        &INFO
    }

    fn recipe(&self, tuning: &Tuning) -> Recipe {
        recipe(tuning)
    }

    fn objects(&self, platform: &Platform, service: &Service, tuning: &Tuning) -> Vec<Value> {
        objects(platform, service, tuning)
    }
}

static INFO: BlueprintInfo = BlueprintInfo {
    name: "kube-state-metrics",
    summary: "kube-state-metrics: metrics of the cluster's Kubernetes objects, on a port named `metrics`, with the read-only RBAC it needs",
    modes: &[Mode::new(
        "single",
        "one pod exporting the kinds its ClusterRole lists and watches (nodes, namespaces, pods, services, volume claims and volumes, resource quotas, Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs, CronJobs, HorizontalPodAutoscalers, PodDisruptionBudgets), bound to its ServiceAccount, with egress to the API server",
        1,
    )],
    version: "v2.13.0",
    takes: &[],
    options: &[],
    auth: Auth::none("none: object metrics for the scraper"),
};

const PORT: u16 = 8080;

/// The kinds it exports, by API group: what `--resources` names and what
/// its ClusterRole allows listing and watching, one list for both.
const KINDS: &[(&str, &[&str])] = &[
    (
        "",
        &[
            "namespaces",
            "nodes",
            "persistentvolumeclaims",
            "persistentvolumes",
            "pods",
            "resourcequotas",
            "services",
        ],
    ),
    (
        "apps",
        &["daemonsets", "deployments", "replicasets", "statefulsets"],
    ),
    ("autoscaling", &["horizontalpodautoscalers"]),
    ("batch", &["cronjobs", "jobs"]),
    ("policy", &["poddisruptionbudgets"]),
];

fn recipe(tuning: &Tuning) -> Recipe {
    let mut kinds: Vec<&str> = KINDS.iter().flat_map(|(_, k)| k.iter().copied()).collect();
    kinds.sort_unstable();
    Recipe {
        spec: json!({
            "image": image("registry.k8s.io/kube-state-metrics/kube-state-metrics", tuning),
            "kind": "stateless",
            "args": [
                format!("--port={PORT}"),
                format!("--resources={}", kinds.join(",")),
            ],
            "ports": { "metrics": { "port": PORT, "protocol": "http" } },
            "probes": { "port": "metrics", "path": "/healthz" },
            "metrics": { "port": "metrics" },
            "security": user(65534, 65534, true),
            "resources": resources("100m", "128Mi", "500m", "512Mi"),
            // It lists and watches the API server with the pod's token.
            "serviceAccountToken": true,
        }),
        supplied: Supplied {
            exports: recipe::endpoint(tuning, &tuning.service, "http", PORT),
            ..Supplied::default()
        },
    }
}

/// Its ClusterRole, bound to its account, and egress to the API server.
fn objects(platform: &Platform, service: &Service, _: &Tuning) -> Vec<Value> {
    let rules: Vec<Value> = KINDS
        .iter()
        .map(|(group, kinds)| json!({ "apiGroups": [group], "resources": kinds, "verbs": ["list", "watch"] }))
        .collect();
    recipe::cluster_reader(platform, service, json!(rules))
}
