//! Prometheus: metrics scraped from annotated pods found by Kubernetes
//! service discovery, with the read-only RBAC that needs.

use serde_json::{Value, json};

use super::recipe::{self, image, reference, resources, user, volume};
use super::{Blueprint, Mode, OptionDoc, Recipe, Supplied, Tuning};
use crate::model::{Platform, Service};

/// The `prometheus` blueprint.
pub static BLUEPRINT: Blueprint = Blueprint {
    name: "prometheus",
    summary: "Prometheus scraping annotated pods via Kubernetes service discovery, with its RBAC",
    modes: &[Mode {
        name: "single",
        summary: "one server on a volume, a ClusterRole to discover pods, alerts sent to the platform's Alertmanagers",
        replicas: 1,
        operator: None,
        operated: false,
        sharded: false,
    }],
    version: "v2.55.1",
    takes: &[],
    options: &[OptionDoc {
        name: "retention",
        summary: "How long samples are kept, such as `15d`; `15d` by default.",
    }],
    recipe,
    objects,
    companions: recipe::no_companions,
    pods: recipe::own_pods,
    check_options: recipe::no_option_checks,
};

fn config(tuning: &Tuning) -> String {
    let mut conf = String::from(
        "# Written by the Strata prometheus blueprint.\n\
         global:\n  scrape_interval: 30s\n  evaluation_interval: 30s\n\
         scrape_configs:\n\
         \x20 - job_name: prometheus\n    static_configs:\n      - targets: [localhost:9090]\n\
         \x20 # Pods annotated prometheus.io/scrape, port and path (Strata annotates them).\n\
         \x20 - job_name: pods\n    kubernetes_sd_configs:\n      - role: pod\n    relabel_configs:\n\
         \x20     - source_labels: [__meta_kubernetes_pod_annotation_prometheus_io_scrape]\n        action: keep\n        regex: \"true\"\n\
         \x20     - source_labels: [__meta_kubernetes_pod_annotation_prometheus_io_path]\n        action: replace\n        target_label: __metrics_path__\n        regex: (.+)\n\
         \x20     - source_labels: [__address__, __meta_kubernetes_pod_annotation_prometheus_io_port]\n        action: replace\n        regex: ([^:]+)(?::[0-9]+)?;([0-9]+)\n        replacement: $1:$2\n        target_label: __address__\n\
         \x20     - source_labels: [__meta_kubernetes_namespace]\n        target_label: namespace\n\
         \x20     - source_labels: [__meta_kubernetes_pod_name]\n        target_label: pod\n\
         \x20     - source_labels: [__meta_kubernetes_pod_label_app_kubernetes_io_name]\n        target_label: service\n",
    );
    let managers = tuning.siblings_of("alertmanager");
    if !managers.is_empty() {
        conf.push_str("alerting:\n  alertmanagers:\n    - static_configs:\n        - targets:\n");
        for manager in managers {
            conf.push_str(&format!(
                "            - {}\n",
                reference(&manager.name, "address")
            ));
        }
    }
    conf
}

fn recipe(tuning: &Tuning) -> Recipe {
    Recipe {
        spec: json!({
            "image": image("prom/prometheus", tuning),
            "kind": "stateful",
            "args": [
                "--config.file=/etc/prometheus/prometheus.yml",
                "--storage.tsdb.path=/prometheus",
                format!("--storage.tsdb.retention.time={}", tuning.option("retention", "15d")),
                "--web.enable-lifecycle",
            ],
            "ports": { "http": 9090 },
            "storage": volume("50Gi", "/prometheus"),
            "probes": { "port": "http", "path": "/-/healthy", "readinessPath": "/-/ready" },
            "metrics": { "port": "http" },
            "security": user(65534, 65534, true),
            "resources": resources("500m", "2Gi", "2", "4Gi"),
            // Service discovery reads the API server with the pod's token.
            "serviceAccountToken": true,
            "config": { "mountPath": "/etc/prometheus", "files": { "prometheus.yml": config(tuning) } },
        }),
        supplied: Supplied {
            exports: recipe::endpoint(tuning, &tuning.service, "http", 9090),
            ..Supplied::default()
        },
    }
}

/// A ClusterRole to discover and scrape pods, bound to the service's account.
fn objects(platform: &Platform, service: &Service, _: &Tuning) -> Vec<Value> {
    let name = format!("{}-{}-{}", platform.name, service.namespace, service.name);
    let labels = crate::render::service_labels(platform, service);
    vec![
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": { "name": name, "labels": labels },
            "rules": [
                { "apiGroups": [""], "resources": ["nodes", "nodes/metrics", "services", "endpoints", "pods"], "verbs": ["get", "list", "watch"] },
                { "apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": ["get", "list", "watch"] },
                { "nonResourceURLs": ["/metrics"], "verbs": ["get"] },
            ],
        }),
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": { "name": name, "labels": labels },
            "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name },
            "subjects": [{ "kind": "ServiceAccount", "name": service.name, "namespace": service.namespace }],
        }),
    ]
}
