//! Grafana: dashboards, with datasources provisioned for the platform's own
//! Loki, Prometheus and Jaeger services, and dashboards Strata writes from
//! the platform's model.

use serde_json::{Value, json};

use super::recipe::{self, credentials_name, image, reference, resources, user, volume};
use crate::model::{
    Auth, Blueprint, BlueprintInfo, Mode, Objectives, Platform, Recipe, Service, Supplied, Tuning,
};

/// The `grafana` blueprint.
pub(super) struct Grafana;

impl Blueprint for Grafana {
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
    name: "grafana",
    summary: "Grafana with datasources for the platform's Loki, Prometheus and Jaeger, and dashboards of its services",
    modes: &[Mode::new(
        "single",
        "one pod (a Deployment with its volume), the admin password generated; with a Prometheus in the platform, a ConfigMap `NAME-dashboards` of generated dashboards (services per tier, Istio traffic, objectives) and its file provider",
        1,
    )],
    version: "11.3.0",
    takes: &[],
    options: &[],
    auth: Auth::required(
        "user `admin` with the password in `NAME-credentials`, key `admin-password` (export `secret`)",
    ),
};

/// Where the dashboards ConfigMap is mounted: Grafana reads provider files
/// there, and the provider reads the dashboards' JSON from the same place.
const DASHBOARDS: &str = "/etc/grafana/provisioning/dashboards";

/// The Grafana dashboard schema the generated JSON follows (Grafana 10;
/// Grafana 11 migrates it on load).
const SCHEMA_VERSION: u32 = 38;

/// One datasource per Loki, Prometheus and Jaeger service of the platform,
/// each with its service's name as `uid` (what dashboards refer to); the
/// `${…}` references make Grafana wait for them.
fn datasources(tuning: &Tuning) -> String {
    let mut out =
        String::from("# Written by the Strata grafana blueprint.\napiVersion: 1\ndatasources:\n");
    let mut default = true;
    for (blueprint, kind) in [
        ("prometheus", "prometheus"),
        ("loki", "loki"),
        ("jaeger", "jaeger"),
    ] {
        for sibling in tuning.siblings_of(blueprint) {
            let url = if blueprint == "jaeger" {
                reference(&sibling.name, "ui")
            } else {
                reference(&sibling.name, "url")
            };
            out.push_str(&format!(
                "  - name: {name}\n    uid: {name}\n    type: {kind}\n    access: proxy\n    url: {url}\n    isDefault: {default}\n    editable: false\n",
                name = sibling.name,
            ));
            default = false;
        }
    }
    if default {
        out = out.replace("datasources:\n", "datasources: []\n");
    }
    out
}

/// The Prometheus dashboards query: the platform's first, the default
/// datasource.
fn prometheus(tuning: &Tuning) -> Option<String> {
    tuning
        .siblings_of("prometheus")
        .first()
        .map(|s| s.name.clone())
}

fn dashboards_name(service: &str) -> String {
    format!("{service}-dashboards")
}

fn recipe(tuning: &Tuning) -> Recipe {
    let secret = credentials_name(tuning);
    let mut exports = recipe::endpoint(tuning, &tuning.service, "http", 3000);
    exports.push(("secret".into(), secret.clone()));
    let mounts = if prometheus(tuning).is_some() {
        vec![(dashboards_name(&tuning.service), DASHBOARDS.to_string())]
    } else {
        Vec::new()
    };
    Recipe {
        spec: json!({
            "image": image("grafana/grafana", tuning),
            "kind": "stateless",
            "ports": { "http": 3000 },
            "env": {
                "GF_SECURITY_ADMIN_USER": "admin",
                "GF_SECURITY_ADMIN_PASSWORD": { "secret": secret, "key": "admin-password" },
                "GF_LOG_MODE": "console",
                "GF_ANALYTICS_REPORTING_ENABLED": "false",
                "GF_ANALYTICS_CHECK_FOR_UPDATES": "false",
            },
            "storage": volume("5Gi", "/var/lib/grafana"),
            "probes": { "port": "http", "path": "/api/health" },
            "security": user(472, 472, true),
            "resources": resources("100m", "256Mi", "500m", "512Mi"),
            "config": { "mountPath": "/etc/grafana/provisioning/datasources", "files": { "datasources.yaml": datasources(tuning) } },
        }),
        supplied: Supplied {
            exports,
            credentials: Some((secret, vec!["admin-password".into()])),
            mounts,
            ..Supplied::default()
        },
    }
}

/// The dashboards ConfigMap: the file provider and one JSON file per
/// dashboard, generated from the platform.
fn objects(platform: &Platform, service: &Service, tuning: &Tuning) -> Vec<Value> {
    let Some(datasource) = prometheus(tuning) else {
        return Vec::new();
    };
    let provider = format!(
        "# Written by the Strata grafana blueprint.\napiVersion: 1\nproviders:\n  - name: strata\n    folder: {folder}\n    type: file\n    disableDeletion: true\n    allowUiUpdates: false\n    updateIntervalSeconds: 60\n    options:\n      path: {DASHBOARDS}\n",
        folder = platform.name,
    );
    let mut data = serde_json::Map::new();
    data.insert("strata.yaml".into(), json!(provider));
    for (file, dashboard) in dashboards(platform, &datasource) {
        data.insert(
            file,
            json!(serde_json::to_string_pretty(&dashboard).unwrap_or_default()),
        );
    }
    vec![json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": crate::render::metadata(platform, service, &dashboards_name(&service.name)),
        "data": data,
    })]
}

/// Panels laid out two to a row of the 24-column grid.
struct Grid {
    panels: Vec<Value>,
    y: u32,
    x: u32,
    datasource: Value,
}

impl Grid {
    fn new(datasource: &str) -> Grid {
        Grid {
            panels: Vec::new(),
            y: 0,
            x: 0,
            datasource: json!({ "type": "prometheus", "uid": datasource }),
        }
    }

    fn row(&mut self, title: &str) {
        if self.x > 0 {
            self.y += 8;
            self.x = 0;
        }
        let id = self.panels.len() + 1;
        self.panels.push(json!({
            "id": id, "type": "row", "title": title, "collapsed": false, "panels": [],
            "gridPos": { "h": 1, "w": 24, "x": 0, "y": self.y },
        }));
        self.y += 1;
    }

    /// A time series of `expr`, one line per `legend`, in `unit`.
    fn panel(&mut self, title: &str, expr: String, legend: &str, unit: &str) {
        let id = self.panels.len() + 1;
        self.panels.push(json!({
            "id": id,
            "type": "timeseries",
            "title": title,
            "datasource": self.datasource,
            "gridPos": { "h": 8, "w": 12, "x": self.x, "y": self.y },
            "fieldConfig": { "defaults": { "unit": unit }, "overrides": [] },
            "options": { "legend": { "displayMode": "list", "placement": "bottom", "showLegend": true }, "tooltip": { "mode": "multi", "sort": "none" } },
            "targets": [{ "refId": "A", "datasource": self.datasource, "expr": expr, "legendFormat": legend }],
        }));
        if self.x == 0 {
            self.x = 12;
        } else {
            self.x = 0;
            self.y += 8;
        }
    }

    fn dashboard(self, uid: String, title: String, platform: &Platform) -> Value {
        // Grafana takes uids of at most 40 characters.
        let uid = if uid.len() <= 40 {
            uid
        } else {
            recipe::stable_id(&uid)
        };
        json!({
            "uid": uid,
            "title": title,
            "tags": ["strata", platform.name],
            "schemaVersion": SCHEMA_VERSION,
            "version": 1,
            "editable": false,
            "timezone": "browser",
            "refresh": "30s",
            "time": { "from": "now-6h", "to": "now" },
            "templating": { "list": [] },
            "annotations": { "list": [] },
            "panels": self.panels,
        })
    }
}

/// The dashboards of the platform, by file name: `services.json` (per
/// tier, its scraped services' targets up and process restarts; with
/// Istio, each meshed service's request rate, 5xx ratio and p95 latency),
/// `cluster.json` and `infrastructure.json` with a `kube-state-metrics`
/// and a `node-exporter` service, and `slo.json` when objectives are set
/// (the recorded series).
fn dashboards(platform: &Platform, datasource: &str) -> Vec<(String, Value)> {
    let mut grid = Grid::new(datasource);
    for tier in &platform.tiers {
        let scraped: Vec<&str> = tier
            .services
            .iter()
            .map(|id| &platform.services[id.0])
            .filter(|s| s.runtime.metrics.is_some())
            .map(|s| s.name.as_str())
            .collect();
        if scraped.is_empty() {
            continue;
        }
        let selector = format!(
            "namespace=\"{}\", service=~\"{}\"",
            tier.namespace,
            scraped.join("|")
        );
        grid.row(&format!("Tier {}", tier.name));
        grid.panel(
            "Targets up",
            format!("sum by (service) (up{{{selector}}})"),
            "{{service}}",
            "short",
        );
        grid.panel(
            "Restarts (process starts, 1h)",
            format!("sum by (service) (changes(process_start_time_seconds{{{selector}}}[1h]))"),
            "{{service}}",
            "short",
        );
    }
    let meshed: Vec<&str> = platform
        .namespaces
        .iter()
        .map(|n| n.name.as_str())
        .filter(|n| platform.in_mesh(n))
        .collect();
    if !meshed.is_empty() {
        let by = "destination_service_namespace, destination_service_name";
        let istio = |metric: &str, extra: &str| {
            format!(
                "rate({metric}{{reporter=\"destination\", destination_service_namespace=~\"{}\"{extra}}}[5m])",
                meshed.join("|")
            )
        };
        let legend = "{{destination_service_name}}.{{destination_service_namespace}}";
        grid.row("Istio traffic");
        grid.panel(
            "Requests per second",
            format!("sum by ({by}) ({})", istio("istio_requests_total", "")),
            legend,
            "reqps",
        );
        grid.panel(
            "5xx ratio",
            format!(
                "sum by ({by}) ({}) / sum by ({by}) ({})",
                istio("istio_requests_total", ", response_code=~\"5..\""),
                istio("istio_requests_total", "")
            ),
            legend,
            "percentunit",
        );
        grid.panel(
            "p95 latency",
            format!(
                "histogram_quantile(0.95, sum by ({by}, le) ({}))",
                istio("istio_request_duration_milliseconds_bucket", "")
            ),
            legend,
            "ms",
        );
    }
    let mut out = vec![(
        "services.json".to_string(),
        grid.dashboard(
            format!("{}-services", platform.name),
            format!("{}: services", platform.name),
            platform,
        ),
    )];
    out.extend(cluster(platform, datasource));
    out.extend(infrastructure(platform, datasource));
    // The objectives set anywhere: the platform's or a service's own.
    let set = |objective: fn(&Objectives) -> bool| {
        platform
            .slo
            .iter()
            .chain(platform.services.iter().filter_map(|s| s.slo.as_deref()))
            .any(objective)
    };
    let (availability, errors, latency) = (
        set(|o| o.availability.is_some()),
        set(|o| o.errors.is_some()),
        set(|o| o.latency_p95_ms.is_some()),
    );
    if availability || errors || latency {
        let mut grid = Grid::new(datasource);
        grid.row("Objectives");
        if availability {
            grid.panel(
                "Availability (5m)",
                "slo:availability:ratio_5m".into(),
                "{{service}}.{{namespace}}",
                "percentunit",
            );
        }
        let legend = "{{destination_service_name}}.{{destination_service_namespace}}";
        if errors {
            grid.panel(
                "5xx ratio (5m)",
                "slo:errors:ratio_5m".into(),
                legend,
                "percentunit",
            );
        }
        if latency {
            grid.panel(
                "p95 latency (5m)",
                "slo:latency:p95_5m".into(),
                legend,
                "ms",
            );
        }
        out.push((
            "slo.json".to_string(),
            grid.dashboard(
                format!("{}-slo", platform.name),
                format!("{}: service-level objectives", platform.name),
                platform,
            ),
        ));
    }
    out
}

/// The platform's first service of blueprint `name`, as its series carry it:
/// the `service` label the scraper gives its targets (the workload's name
/// in both the annotation and the ServiceMonitor way).
fn exporter<'a>(platform: &'a Platform, name: &str) -> Option<&'a Service> {
    platform.services.iter().find(|s| {
        s.runtime.metrics.is_some()
            && s.tuning
                .as_ref()
                .is_some_and(|t| t.blueprint.name() == name)
    })
}

/// The cluster overview, from kube-state-metrics: nodes ready, the
/// platform's pods by phase per namespace, container restarts, and CPU and
/// memory requested against what each node can allocate. The scraper's own
/// `namespace` and `pod` target labels win over the exporter's, which
/// Prometheus keeps as `exported_namespace` and `exported_pod`.
fn cluster(platform: &Platform, datasource: &str) -> Option<(String, Value)> {
    let ksm = exporter(platform, "kube-state-metrics")?;
    let source = format!("service=\"{}\", namespace=\"{}\"", ksm.name, ksm.namespace);
    let namespaces: Vec<&str> = platform
        .namespaces
        .iter()
        .map(|n| n.name.as_str())
        .collect();
    let ours = format!("{source}, exported_namespace=~\"{}\"", namespaces.join("|"));
    let mut grid = Grid::new(datasource);
    grid.row("Nodes");
    grid.panel(
        "Nodes by Ready status",
        format!(
            "sum by (status) (kube_node_status_condition{{{source}, condition=\"Ready\"}} == 1)"
        ),
        "{{status}}",
        "short",
    );
    grid.panel(
        "Schedulable nodes",
        format!("count(kube_node_spec_unschedulable{{{source}}} == 0)"),
        "schedulable",
        "short",
    );
    for (resource, title) in [
        ("cpu", "CPU requested / allocatable"),
        ("memory", "Memory requested / allocatable"),
    ] {
        grid.panel(
            title,
            format!(
                "sum by (node) (kube_pod_container_resource_requests{{{source}, resource=\"{resource}\"}}) / sum by (node) (kube_node_status_allocatable{{{source}, resource=\"{resource}\"}})"
            ),
            "{{node}}",
            "percentunit",
        );
    }
    grid.row("Pods of the platform");
    grid.panel(
        "Pods by phase",
        format!("sum by (exported_namespace, phase) (kube_pod_status_phase{{{ours}}} == 1)"),
        "{{exported_namespace}} {{phase}}",
        "short",
    );
    grid.panel(
        "Container restarts (1h)",
        format!(
            "sum by (exported_namespace, exported_pod) (increase(kube_pod_container_status_restarts_total{{{ours}}}[1h])) > 0"
        ),
        "{{exported_namespace}}/{{exported_pod}}",
        "short",
    );
    Some((
        "cluster.json".to_string(),
        grid.dashboard(
            format!("{}-cluster", platform.name),
            format!("{}: Kubernetes cluster", platform.name),
            platform,
        ),
    ))
}

/// The nodes' own use, from the node exporter: CPU, memory, disk space and
/// throughput, network traffic, one line per node (`instance`, its address).
fn infrastructure(platform: &Platform, datasource: &str) -> Option<(String, Value)> {
    let exporter = exporter(platform, "node-exporter")?;
    let source = format!(
        "service=\"{}\", namespace=\"{}\"",
        exporter.name, exporter.namespace
    );
    // Filesystems of the node's disks, not memory-backed or image layers.
    let disks = format!("{source}, fstype!~\"tmpfs|overlay|squashfs\"");
    // Interfaces of the node, not pods' virtual ends.
    let nics = format!("{source}, device!~\"lo|veth.*|cali.*|cni.*|flannel.*|cilium.*\"");
    let mut grid = Grid::new(datasource);
    grid.row("Nodes");
    grid.panel(
        "CPU used",
        format!(
            "1 - avg by (instance) (rate(node_cpu_seconds_total{{{source}, mode=\"idle\"}}[5m]))"
        ),
        "{{instance}}",
        "percentunit",
    );
    grid.panel(
        "Memory used",
        format!("1 - node_memory_MemAvailable_bytes{{{source}}} / node_memory_MemTotal_bytes{{{source}}}"),
        "{{instance}}",
        "percentunit",
    );
    grid.panel(
        "Disk space used",
        format!(
            "1 - node_filesystem_avail_bytes{{{disks}}} / node_filesystem_size_bytes{{{disks}}}"
        ),
        "{{instance}} {{mountpoint}}",
        "percentunit",
    );
    grid.panel(
        "Disk read + written",
        format!(
            "sum by (instance) (rate(node_disk_read_bytes_total{{{source}}}[5m]) + rate(node_disk_written_bytes_total{{{source}}}[5m]))"
        ),
        "{{instance}}",
        "Bps",
    );
    grid.panel(
        "Network received",
        format!("sum by (instance) (rate(node_network_receive_bytes_total{{{nics}}}[5m]))"),
        "{{instance}}",
        "Bps",
    );
    grid.panel(
        "Network sent",
        format!("sum by (instance) (rate(node_network_transmit_bytes_total{{{nics}}}[5m]))"),
        "{{instance}}",
        "Bps",
    );
    Some((
        "infrastructure.json".to_string(),
        grid.dashboard(
            format!("{}-infrastructure", platform.name),
            format!("{}: infrastructure", platform.name),
            platform,
        ),
    ))
}
