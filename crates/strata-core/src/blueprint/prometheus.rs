//! Prometheus: metrics scraped from annotated pods found by Kubernetes
//! service discovery, or a `Prometheus` of the Prometheus Operator reading
//! the platform's ServiceMonitors, PodMonitors and PrometheusRules; either
//! way with the read-only RBAC discovery needs.

use serde_json::{Value, json};

use super::recipe::{self, image, reference, resources, user, volume};
use crate::diag::Diagnostic;
use crate::model::{
    Auth, Blueprint, BlueprintInfo, Mode, Objectives, OptionCheck, OptionDoc, Platform, PodGroup,
    Recipe, Service, Supplied, Tuning,
};

/// The `prometheus` blueprint.
pub(super) struct Prometheus;

impl Blueprint for Prometheus {
    fn info(&self) -> &'static BlueprintInfo {
        &INFO
    }

    fn recipe(&self, tuning: &Tuning) -> Recipe {
        recipe(tuning)
    }

    fn objects(&self, platform: &Platform, service: &Service, tuning: &Tuning) -> Vec<Value> {
        objects(platform, service, tuning)
    }

    fn pods(&self, service: &Service, tuning: &Tuning) -> Vec<PodGroup> {
        pods(service, tuning)
    }

    fn check_options(&self, check: &OptionCheck<'_>) -> Vec<Diagnostic> {
        check_options(check)
    }

    fn evaluates_rules(&self) -> bool {
        true
    }
}

static INFO: BlueprintInfo = BlueprintInfo {
    name: "prometheus",
    summary: "Prometheus scraping annotated pods via Kubernetes service discovery, or run by the Prometheus Operator from the platform's monitors; with its RBAC and the rules of the services' objectives (`slo`)",
    modes: &[SINGLE, OPERATOR],
    version: "v2.55.1",
    takes: &[],
    options: &[OptionDoc::text(
        "retention",
        "How long samples are kept, such as `15d`; `15d` by default.",
    )],
    auth: Auth::none("none: the query API and UI answer any pod the NetworkPolicies admit"),
};

/// The `single` mode.
const SINGLE: Mode = Mode::new(
    "single",
    "one server on a volume, a ClusterRole to discover pods, rule files from a ConfigMap `NAME-rules` (the objectives), alerts sent to the platform's Alertmanagers",
    1,
);

/// The `operator` mode.
const OPERATOR: Mode = Mode::new(
    "operator",
    "a `Prometheus` of the Prometheus Operator reading every ServiceMonitor, PodMonitor and PrometheusRule in the platform's namespaces (for `monitoring: { serviceMonitors: true }`), on a volume, with its ServiceAccount and ClusterRole, reached through the operator's Service `prometheus-operated`; the objectives as a PrometheusRule `NAME-slo`; alerts sent to the platform's Alertmanagers",
    1,
)
.operator("prometheus-operator")
.operated();

const PORT: u16 = 9090;

/// The Service the Prometheus Operator makes in front of the servers of a
/// namespace's `Prometheus` resources.
const OPERATED_SERVICE: &str = "prometheus-operated";

/// The Prometheus Operator's config-reloader beside each server, at the
/// operator's default requests and limits: what `plan` adds per pod.
const RELOADER_SIZE: recipe::Size = recipe::Size {
    requests: ("10m", "50Mi"),
    limits: ("10m", "50Mi"),
};

/// The labels the Prometheus Operator gives the pods of the `Prometheus`
/// called `name` (and selects them by), whatever the resource asks for.
fn operated_pods(name: &str) -> std::collections::BTreeMap<String, String> {
    crate::model::label_map(&[
        ("app.kubernetes.io/name", "prometheus"),
        ("operator.prometheus.io/name", name),
    ])
}

/// The platform's scraper must read what the platform renders: scrape
/// annotations (`single`) or ServiceMonitors (`operator`), not the other.
fn check_options(check: &OptionCheck<'_>) -> Vec<Diagnostic> {
    let Some(monitoring) = &check.platform.monitoring else {
        return Vec::new();
    };
    let scraper = monitoring
        .value
        .scraper
        .as_ref()
        .is_some_and(|s| s.value.0 == check.service);
    let monitors = monitoring
        .value
        .service_monitors
        .as_ref()
        .is_some_and(|m| m.value);
    let operator = *check.mode == OPERATOR;
    if !scraper || monitors == operator {
        return Vec::new();
    }
    let (message, label, help) = if operator {
        (
            format!(
                "the scraper `{}` runs the Prometheus Operator, which reads ServiceMonitors, but the platform renders scrape annotations",
                check.service
            ),
            "reads ServiceMonitors only",
            "set `monitoring: { serviceMonitors: true }`, or remove `mode: operator` so Prometheus reads the annotations",
        )
    } else {
        (
            format!(
                "the scraper `{}` reads scrape annotations, but `monitoring.serviceMonitors` renders ServiceMonitors instead",
                check.service
            ),
            "reads annotations only",
            "write `mode: operator` (and declare `prometheus-operator` under `operators:`), or remove `serviceMonitors: true`",
        )
    };
    vec![
        check
            .error("scraper-mismatch", message, check.span, label)
            .help(help),
    ]
}

/// What `plan` counts: in `operator` mode each pod also runs the
/// operator's config-reloader.
fn pods(service: &Service, tuning: &Tuning) -> Vec<PodGroup> {
    let mut group = PodGroup::of(service);
    if tuning.mode.operated {
        group.resources = group.resources.plus(RELOADER_SIZE.resources());
    }
    vec![group]
}

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
    conf.push_str(&format!("rule_files:\n  - {RULES}/*.yml\n"));
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
    if tuning.mode.operated {
        return Recipe {
            spec: json!({
                "image": image("prom/prometheus", tuning),
                "kind": "stateful",
                "ports": { "http": PORT },
                "storage": volume("50Gi", "/prometheus"),
                "security": user(65534, 65534, true),
                "resources": resources("500m", "2Gi", "2", "4Gi"),
            }),
            supplied: Supplied {
                // The Service the operator makes for the servers of its
                // `Prometheus` resources in the namespace.
                exports: recipe::endpoint(tuning, OPERATED_SERVICE, "http", PORT),
                pods: Some(operated_pods(&tuning.service)),
                // The operator points the servers at the Alertmanagers:
                // calls the graph does not see in a config file.
                needs: tuning
                    .siblings_of("alertmanager")
                    .iter()
                    .map(|s| s.name.clone())
                    .collect(),
                ..Supplied::default()
            },
        };
    }
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
            "ports": { "http": PORT },
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
            exports: recipe::endpoint(tuning, &tuning.service, "http", PORT),
            mounts: vec![(rules_name(&tuning.service), RULES.to_string())],
            ..Supplied::default()
        },
    }
}

/// A ClusterRole to discover and scrape pods, bound to the service's
/// account, and egress to the API server discovery reads; in `operator`
/// mode also the account itself and the `Prometheus`.
fn objects(platform: &Platform, service: &Service, tuning: &Tuning) -> Vec<Value> {
    let mut out = recipe::cluster_reader(
        platform,
        service,
        json!([
            { "apiGroups": [""], "resources": ["nodes", "nodes/metrics", "services", "endpoints", "pods"], "verbs": ["get", "list", "watch"] },
            { "apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"] },
            { "apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": ["get", "list", "watch"] },
            { "nonResourceURLs": ["/metrics"], "verbs": ["get"] },
        ]),
    );
    if tuning.mode.operated {
        out.extend(operated(platform, service, tuning));
    } else {
        let mut data = serde_json::Map::new();
        if let Some(groups) = slo_groups(platform) {
            data.insert(
                RULES_FILE.into(),
                json!(format!(
                    "# Written by the Strata prometheus blueprint: the services' objectives (slo).\n{}",
                    crate::render::yaml(&json!({ "groups": groups }))
                )),
            );
        }
        out.push(json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": crate::render::metadata(platform, service, &rules_name(&service.name)),
            "data": data,
        }));
    }
    out
}

/// The `operator` mode's account and `Prometheus`: monitors and
/// rules of any label in the platform's namespaces (operators make
/// PodMonitors of their own, CloudNativePG's say), alerts to each
/// Alertmanager of the platform on its `http` port.
fn operated(platform: &Platform, service: &Service, tuning: &Tuning) -> Vec<Value> {
    let namespaces: Vec<&str> = platform
        .namespaces
        .iter()
        .map(|n| n.name.as_str())
        .collect();
    let in_platform = json!({ "matchExpressions": [{ "key": "kubernetes.io/metadata.name", "operator": "In", "values": namespaces }] });
    let alertmanagers: Vec<Value> = platform
        .services
        .iter()
        .filter(|s| s.tuning.as_ref().is_some_and(|t| t.blueprint.name() == "alertmanager"))
        .map(|s| json!({ "namespace": s.namespace, "name": s.name, "port": "http", "apiVersion": "v2" }))
        .collect();
    let mut spec = json!({
        "replicas": service.replicas,
        "image": service.image,
        "version": tuning.version,
        "retention": tuning.option("retention", "15d"),
        "serviceAccountName": service.name,
        "securityContext": {
            "runAsUser": 65534, "runAsGroup": 65534, "runAsNonRoot": true, "fsGroup": 65534,
            "seccompProfile": { "type": "RuntimeDefault" },
        },
        "resources": crate::render::resource_values(&service.resources, service.rare.gpu),
        "storage": { "volumeClaimTemplate": { "spec": recipe::claim_spec(service, &recipe::storage_size(service)) } },
        "serviceMonitorSelector": {},
        "serviceMonitorNamespaceSelector": in_platform,
        "podMonitorSelector": {},
        "podMonitorNamespaceSelector": in_platform,
        "ruleSelector": {},
        "ruleNamespaceSelector": in_platform,
    });
    if !alertmanagers.is_empty() {
        spec["alerting"] = json!({ "alertmanagers": alertmanagers });
    }
    if let Some(pool) = recipe::pool_scheduling(platform, service) {
        for key in ["nodeSelector", "tolerations"] {
            if let Some(value) = pool.get(key) {
                spec[key] = value.clone();
            }
        }
    }
    let mut out = vec![
        json!({
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": crate::render::metadata(platform, service, &service.name),
        }),
        json!({
            "apiVersion": "monitoring.coreos.com/v1",
            "kind": "Prometheus",
            "metadata": crate::render::metadata(platform, service, &service.name),
            "spec": spec,
        }),
    ];
    if let Some(groups) = slo_groups(platform) {
        out.push(json!({
            "apiVersion": "monitoring.coreos.com/v1",
            "kind": "PrometheusRule",
            "metadata": crate::render::metadata(platform, service, &format!("{}-slo", service.name)),
            "spec": { "groups": groups },
        }));
    }
    out
}

/// Where `single` mode reads rule files: the ConfigMap `NAME-rules`.
const RULES: &str = "/etc/prometheus-rules";

/// The rules file of the objectives.
const RULES_FILE: &str = "slo-rules.yml";

fn rules_name(service: &str) -> String {
    format!("{service}-rules")
}

/// How long each objective must be missed before its alert fires, and the
/// window its ratio is computed over.
const WINDOW: &str = "5m";

/// One kind of objective as rules check it.
struct Kind {
    record: &'static str,
    alert: &'static str,
    /// The labels naming the service and its namespace in the series.
    name: &'static str,
    namespace: &'static str,
    /// `<` for a floor, `>` for a ceiling.
    op: &'static str,
    objective: fn(&Objectives) -> Option<f64>,
    /// The bound as PromQL writes it, and as people read it.
    bound: fn(f64) -> (String, String),
    summary: &'static str,
}

const AVAILABILITY: Kind = Kind {
    record: "slo:availability:ratio_5m",
    alert: "SLOAvailability",
    name: "service",
    namespace: "namespace",
    op: "<",
    objective: |o| o.availability,
    bound: |ratio| (number(ratio), percent(ratio)),
    summary: "is up {{ $value | humanizePercentage }} of the time, under its",
};

const ERRORS: Kind = Kind {
    record: "slo:errors:ratio_5m",
    alert: "SLOErrors",
    name: "destination_service_name",
    namespace: "destination_service_namespace",
    op: ">",
    objective: |o| o.errors,
    bound: |ratio| (number(ratio), percent(ratio)),
    summary: "answers {{ $value | humanizePercentage }} of requests with 5xx, over its",
};

const LATENCY: Kind = Kind {
    record: "slo:latency:p95_5m",
    alert: "SLOLatency",
    name: "destination_service_name",
    namespace: "destination_service_namespace",
    op: ">",
    objective: |o| {
        o.latency_p95_ms
            .map(|ms| f64::from(u32::try_from(ms).unwrap_or(u32::MAX)))
    },
    bound: |ms| (number(ms), format!("{}ms", number(ms))),
    summary: "answers 95% of requests within {{ $value }}ms, over its",
};

/// The recording and alerting rules of the objectives, `None` when nothing
/// sets one: one series per service, and an alert once an objective is
/// missed for 5 minutes. The platform's objective covers every service but
/// those with their own, each of which gets an alert of its own.
/// Availability is the share of the service's scraped pods that are up
/// (`up`, by the `service` label both the annotation job and ServiceMonitors
/// set); errors and latency come from the Istio sidecars'
/// `istio_requests_total` and `istio_request_duration_milliseconds_bucket`,
/// as the destination reports them, in the namespaces of the mesh.
pub(super) fn slo_groups(platform: &Platform) -> Option<Value> {
    let namespaces: Vec<&str> = platform
        .namespaces
        .iter()
        .map(|n| n.name.as_str())
        .collect();
    let meshed: Vec<&str> = namespaces
        .iter()
        .copied()
        .filter(|n| platform.in_mesh(n))
        .collect();
    let by = "destination_service_namespace, destination_service_name";
    let istio = |metric: &str, extra: &str| {
        format!(
            "rate({metric}{{reporter=\"destination\", destination_service_namespace=~\"{}\"{extra}}}[{WINDOW}])",
            meshed.join("|")
        )
    };
    let expressions = [
        (
            AVAILABILITY,
            format!(
                "avg by (namespace, service) (avg_over_time(up{{namespace=~\"{}\", service!=\"\"}}[{WINDOW}]))",
                namespaces.join("|")
            ),
        ),
        (
            ERRORS,
            format!(
                "sum by ({by}) ({}) / sum by ({by}) ({})",
                istio("istio_requests_total", ", response_code=~\"5..\""),
                istio("istio_requests_total", ""),
            ),
        ),
        (
            LATENCY,
            format!(
                "histogram_quantile(0.95, sum by ({by}, le) ({}))",
                istio("istio_request_duration_milliseconds_bucket", ""),
            ),
        ),
    ];
    let mut records = Vec::new();
    let mut alerts = Vec::new();
    for (kind, expr) in expressions {
        let default = platform.slo.as_ref().and_then(|o| (kind.objective)(o));
        let own: Vec<(&Service, f64)> = platform
            .services
            .iter()
            .filter_map(|s| Some((s, s.slo.as_ref().and_then(|o| (kind.objective)(o))?)))
            .collect();
        if default.is_none() && own.is_empty() {
            continue;
        }
        records.push(json!({ "record": kind.record, "expr": expr }));
        let mut alert = |selector: String, value: f64, whose: String| {
            let (bound, shown) = (kind.bound)(value);
            alerts.push(json!({
                "alert": kind.alert,
                "expr": format!("{}{selector} {} {bound}", kind.record, kind.op),
                "for": WINDOW,
                "labels": { "severity": "critical" },
                "annotations": { "summary": format!("{{{{ $labels.{} }}}} in {{{{ $labels.{} }}}} {} {whose}{shown} objective", kind.name, kind.namespace, kind.summary) },
            }));
        };
        if let Some(value) = default {
            let selector = if own.is_empty() {
                String::new()
            } else {
                let names: Vec<&str> = own.iter().map(|(s, _)| s.name.as_str()).collect();
                format!("{{{}!~\"{}\"}}", kind.name, names.join("|"))
            };
            alert(selector, value, String::new());
        }
        for (service, value) in own {
            let selector = format!(
                "{{{}=\"{}\", {}=\"{}\"}}",
                kind.name, service.name, kind.namespace, service.namespace
            );
            alert(selector, value, "own ".into());
        }
    }
    if records.is_empty() {
        return None;
    }
    records.extend(alerts);
    Some(json!([{ "name": "slo", "rules": records }]))
}

/// A number as PromQL writes it, without float noise (`0.999`, `500`).
fn number(value: f64) -> String {
    let text = format!("{value:.6}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// A ratio as a percentage for people (`99.9%`).
fn percent(ratio: f64) -> String {
    format!("{}%", number(ratio * 100.0))
}
