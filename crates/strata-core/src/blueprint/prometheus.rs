//! Prometheus: metrics scraped from annotated pods found by Kubernetes
//! service discovery, or a `Prometheus` of the Prometheus Operator reading
//! the platform's ServiceMonitors, PodMonitors and PrometheusRules; either
//! way with the read-only RBAC discovery needs.

use serde_json::{Value, json};

use super::recipe::{self, image, reference, resources, user, volume};
use super::{Blueprint, Mode, OptionCheck, OptionDoc, Recipe, Slo, Supplied, Tuning};
use crate::diag::Diagnostic;
use crate::model::{Platform, Service};
use crate::source::SourceFile;
use crate::spec::platform::PlatformSpec;

/// The `prometheus` blueprint.
pub static BLUEPRINT: Blueprint = Blueprint {
    name: "prometheus",
    summary: "Prometheus scraping annotated pods via Kubernetes service discovery, or run by the Prometheus Operator from the platform's monitors; with its RBAC and the rules of `monitoring.slo`",
    modes: &[
        Mode {
            name: "single",
            summary: "one server on a volume, a ClusterRole to discover pods, alerts sent to the platform's Alertmanagers",
            replicas: 1,
            operator: None,
            operated: false,
            sharded: false,
        },
        Mode {
            name: "operator",
            summary: "a `Prometheus` of the Prometheus Operator reading every ServiceMonitor, PodMonitor and PrometheusRule in the platform's namespaces (for `monitoring: { serviceMonitors: true }`), on a volume, with its ServiceAccount and ClusterRole, reached through the operator's Service `prometheus-operated`; alerts sent to the platform's Alertmanagers",
            replicas: 1,
            operator: Some("prometheus-operator"),
            operated: true,
            sharded: false,
        },
    ],
    version: "v2.55.1",
    takes: &[],
    options: &[OptionDoc {
        name: "retention",
        summary: "How long samples are kept, such as `15d`; `15d` by default.",
    }],
    recipe,
    objects,
    companions: recipe::no_companions,
    pods,
    check_options,
};

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
    super::labels(&[
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
    let operator = check.mode.name == "operator";
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
            .error("scraper-mismatch", message, check.mode_span, label)
            .help(help),
    ]
}

/// What `plan` counts: in `operator` mode each pod also runs the
/// operator's config-reloader.
fn pods(service: &Service, tuning: &Tuning) -> Vec<super::PodGroup> {
    let mut group = super::PodGroup::of(service);
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
    if tuning.slo.is_some() {
        conf.push_str(&format!("rule_files:\n  - /etc/prometheus/{RULES_FILE}\n"));
    }
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
    let mut files = json!({ "prometheus.yml": config(tuning) });
    if let Some(slo) = &tuning.slo {
        files[RULES_FILE] = json!(format!(
            "# Written by the Strata prometheus blueprint: monitoring.slo.\n{}",
            crate::export::yaml(&json!({ "groups": slo_groups(slo) }))
        ));
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
            "config": { "mountPath": "/etc/prometheus", "files": files },
        }),
        supplied: Supplied {
            exports: recipe::endpoint(tuning, &tuning.service, "http", PORT),
            ..Supplied::default()
        },
    }
}

/// A ClusterRole to discover and scrape pods, bound to the service's
/// account, and egress to the API server discovery reads; in `operator`
/// mode also the account itself and the `Prometheus`.
fn objects(platform: &Platform, service: &Service, tuning: &Tuning) -> Vec<Value> {
    let name = format!("{}-{}-{}", platform.name, service.namespace, service.name);
    let labels = crate::render::service_labels(platform, service);
    let mut out = vec![
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": { "name": name, "labels": labels },
            "rules": [
                { "apiGroups": [""], "resources": ["nodes", "nodes/metrics", "services", "endpoints", "pods"], "verbs": ["get", "list", "watch"] },
                { "apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"] },
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
    ];
    if platform.network.policies {
        out.push(json!({
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": recipe::metadata(platform, service, &format!("{}-api-server", service.name)),
            "spec": {
                "podSelector": { "matchLabels": crate::render::network::pod_selector(platform, service) },
                "policyTypes": ["Egress"],
                "egress": [recipe::api_server(platform)],
            },
        }));
    }
    if tuning.mode.operated {
        out.extend(operated(platform, service, tuning));
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
        .filter(|s| s.tuning.as_ref().is_some_and(|t| t.blueprint.name == "alertmanager"))
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
        "resources": recipe::resource_values(service),
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
            "metadata": recipe::metadata(platform, service, &service.name),
        }),
        json!({
            "apiVersion": "monitoring.coreos.com/v1",
            "kind": "Prometheus",
            "metadata": recipe::metadata(platform, service, &service.name),
            "spec": spec,
        }),
    ];
    if let Some(slo) = &tuning.slo {
        out.push(json!({
            "apiVersion": "monitoring.coreos.com/v1",
            "kind": "PrometheusRule",
            "metadata": recipe::metadata(platform, service, &format!("{}-slo", service.name)),
            "spec": { "groups": slo_groups(slo) },
        }));
    }
    out
}

/// The rules file of `single` mode, beside `prometheus.yml`.
const RULES_FILE: &str = "slo-rules.yml";

/// How long each objective must be missed before its alert fires, and the
/// window its ratio is computed over.
const WINDOW: &str = "5m";

/// A namespace matcher of the platform's `namespaces`.
fn matcher(namespaces: &[String]) -> String {
    namespaces.join("|")
}

/// The recording and alerting rules of the objectives: one series, and one
/// alert, per service. Availability is the share of the service's scraped
/// pods that are up (`up`, by the `service` label both the annotation job
/// and ServiceMonitors set); errors and latency come from the Istio
/// sidecars' `istio_requests_total` and
/// `istio_request_duration_milliseconds_bucket`, as the destination
/// reports them, in the namespaces of the mesh.
pub(super) fn slo_groups(slo: &Slo) -> Value {
    let by_service = "destination_service_namespace, destination_service_name";
    let meshed = matcher(&slo.meshed);
    let istio = |metric: &str, extra: &str| {
        format!(
            "rate({metric}{{reporter=\"destination\", destination_service_namespace=~\"{meshed}\"{extra}}}[{WINDOW}])"
        )
    };
    let mut rules = Vec::new();
    let mut alert = |record: &str, name: &str, op: &str, bound: String, summary: String| {
        rules.push(json!({
            "alert": name,
            "expr": format!("{record} {op} {bound}"),
            "for": WINDOW,
            "labels": { "severity": "critical" },
            "annotations": { "summary": summary },
        }));
    };
    let mut records = Vec::new();
    if let Some(ratio) = slo.availability {
        let record = "slo:availability:ratio_5m";
        records.push(json!({
            "record": record,
            "expr": format!("avg by (namespace, service) (avg_over_time(up{{namespace=~\"{}\", service!=\"\"}}[{WINDOW}]))", matcher(&slo.namespaces)),
        }));
        alert(
            record,
            "SLOAvailability",
            "<",
            number(ratio),
            format!(
                "{{{{ $labels.service }}}} in {{{{ $labels.namespace }}}} is up {{{{ $value | humanizePercentage }}}} of the time, under its {} objective",
                percent(ratio)
            ),
        );
    }
    if let Some(ratio) = slo.errors {
        let record = "slo:errors:ratio_5m";
        records.push(json!({
            "record": record,
            "expr": format!(
                "sum by ({by_service}) ({}) / sum by ({by_service}) ({})",
                istio("istio_requests_total", ", response_code=~\"5..\""),
                istio("istio_requests_total", ""),
            ),
        }));
        alert(
            record,
            "SLOErrors",
            ">",
            number(ratio),
            format!(
                "{{{{ $labels.destination_service_name }}}} in {{{{ $labels.destination_service_namespace }}}} answers {{{{ $value | humanizePercentage }}}} of requests with 5xx, over its {} objective",
                percent(ratio)
            ),
        );
    }
    if let Some(bound) = slo.latency_p95_ms {
        let record = "slo:latency:p95_5m";
        records.push(json!({
            "record": record,
            "expr": format!(
                "histogram_quantile(0.95, sum by ({by_service}, le) ({}))",
                istio("istio_request_duration_milliseconds_bucket", ""),
            ),
        }));
        alert(
            record,
            "SLOLatency",
            ">",
            bound.to_string(),
            format!(
                "{{{{ $labels.destination_service_name }}}} in {{{{ $labels.destination_service_namespace }}}} answers 95% of requests within {{{{ $value }}}}ms, over its {bound}ms objective"
            ),
        );
    }
    records.extend(rules);
    json!([{ "name": "slo", "rules": records }])
}

/// A ratio as PromQL writes it, without float noise (`0.999`).
fn number(ratio: f64) -> String {
    let text = format!("{ratio:.6}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// A ratio as a percentage for people (`99.9%`).
fn percent(ratio: f64) -> String {
    format!("{}%", number(ratio * 100.0))
}

/// `monitoring.slo` is checked by the platform's own Prometheus, the
/// `scraper`; errors and latency need Istio's request metrics, which reach
/// it through the sidecars' merged scrape port (annotation mode).
pub fn check_slo(spec: &PlatformSpec, file: &SourceFile) -> Vec<Diagnostic> {
    let Some(monitoring) = &spec.monitoring else {
        return Vec::new();
    };
    let Some(slo) = &monitoring.value.slo else {
        return Vec::new();
    };
    let error = |code, message: String, span, label: &str, help: &str| {
        Diagnostic::error(code, message)
            .at(file, span, label)
            .help(help.to_string())
    };
    let mut errors = Vec::new();
    let scraper = monitoring.value.scraper.as_ref().map(|s| &s.value.0);
    let checked = spec
        .tiers
        .value
        .iter()
        .flat_map(|t| t.value.services.iter().flat_map(|s| s.value.iter()))
        .any(|(name, service)| {
            Some(&name.value.0) == scraper
                && service
                    .value
                    .blueprint
                    .as_ref()
                    .is_some_and(|b| b.value.0 == "prometheus")
        });
    if !checked {
        errors.push(error(
            "unsupported-slo",
            "`monitoring.slo` needs a Prometheus of the platform to check it".into(),
            slo.span,
            "checked by nothing",
            "name a service of the `prometheus` blueprint as the scraper: `monitoring: { scraper: prometheus, slo: … }`",
        ));
    }
    let mesh = spec
        .network
        .as_ref()
        .is_some_and(|n| n.value.mesh.is_some());
    let monitors = monitoring
        .value
        .service_monitors
        .as_ref()
        .is_some_and(|m| m.value);
    let istio = [
        ("errors", slo.value.errors.as_ref().map(|e| e.span)),
        ("latency", slo.value.latency.as_ref().map(|l| l.span)),
    ];
    for (key, span) in istio {
        let Some(span) = span else { continue };
        if !mesh {
            errors.push(error(
                "slo-needs-mesh",
                format!("the `{key}` objective reads Istio's request metrics, and the platform has no mesh"),
                span,
                "no request metrics",
                &format!("set `network: {{ mesh: istio }}`, or remove `{key}`"),
            ));
        } else if monitors {
            errors.push(error(
                "unsupported-slo",
                format!("the `{key}` objective reads Istio's request metrics, which ServiceMonitors do not scrape"),
                span,
                "not scraped",
                &format!("scrape by annotations (no `serviceMonitors: true`), where the sidecars merge them into the scrape port, or remove `{key}`"),
            ));
        }
    }
    errors
}
