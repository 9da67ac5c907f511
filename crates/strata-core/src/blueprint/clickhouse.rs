//! ClickHouse: one server, or an Altinity `ClickHouseInstallation` with
//! shards and replicas coordinated by a ClickHouse Keeper ensemble.

use serde_json::{Value, json};

use super::recipe::{self, credentials_name, image, resources, user, volume};
use crate::model::{
    Auth, Blueprint, BlueprintInfo, Key, Members, Mode, OptionDoc, Platform, PodGroup, Recipe,
    Service, Supplied, Tuning,
};

/// The `clickhouse` blueprint.
pub(super) struct ClickHouse;

impl Blueprint for ClickHouse {
    fn info(&self) -> &'static BlueprintInfo {
        &INFO
    }

    fn profiled_settings(&self) -> bool {
        true
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
}

static INFO: BlueprintInfo = BlueprintInfo {
    name: "clickhouse",
    summary: "ClickHouse, single or sharded and replicated by the Altinity operator",
    modes: &[SINGLE, ALTINITY],
    version: "24.8.6.70",
    takes: &[Key::Databases, Key::Shards, Key::Settings],
    options: &[OptionDoc::text(
        "cluster",
        "`altinity` mode: the cluster's name in `remote_servers`; `default` by default.",
    )],
    auth: Auth::required(
        "user `app` with the password in `NAME-credentials`, key `password` (export `secret`)",
    ),
};

/// The `single` mode.
const SINGLE: Mode = Mode::new(
    "single",
    "one server (a StatefulSet of the official image)",
    1,
);

/// The `altinity` mode.
const ALTINITY: Mode = Mode::new(
    "altinity",
    "an Altinity `ClickHouseInstallation` of `shards` × `replicas`, and a `ClickHouseKeeperInstallation` of 3 nodes when replicated",
    2,
)
.operator("clickhouse-operator")
.operated()
.sharded()
// The installation's pod templates take the service's extra volumes.
.with_operated_volumes();

const HTTP: u16 = 8123;

/// Keeper nodes of a replicated `altinity` cluster, a quorum surviving one loss.
const KEEPERS: u32 = 3;
/// The size of one Keeper node.
const KEEPER_SIZE: recipe::Size = recipe::Size {
    requests: ("250m", "512Mi"),
    limits: ("1", "1Gi"),
};
/// The volume of one Keeper node.
const KEEPER_STORAGE: &str = "10Gi";

/// `altinity` runs `shards` × `replicas` servers, each with its volume, and
/// the Keeper ensemble when replicated.
fn pods(service: &Service, tuning: &Tuning) -> Vec<PodGroup> {
    use crate::quantity::{Measure, Quantity};
    if *tuning.mode != ALTINITY {
        return vec![PodGroup::of(service)];
    }
    let mut servers = PodGroup::of(service);
    servers.pods = tuning.shards * service.replicas;
    servers.pvcs = if service.storage.is_some() {
        servers.pods
    } else {
        0
    };
    servers.storage = service.storage.as_ref().map_or(Quantity::default(), |v| {
        v.size.times(u64::from(servers.pvcs))
    });
    if keeps_logs(service) {
        // The `clickhouse-log` sidecar beside each server.
        servers.resources = servers.resources.plus(LOG_SIZE.resources());
    }
    let mut groups = vec![servers];
    if service.replicas > 1 {
        let resources = KEEPER_SIZE.resources();
        groups.push(PodGroup {
            name: keeper_name(&service.name),
            pods: KEEPERS,
            resources,
            gpu: 0,
            pvcs: KEEPERS,
            storage: Quantity::parse(KEEPER_STORAGE, Measure::Bytes)
                .unwrap_or_default()
                .times(u64::from(KEEPERS)),
            pool: None,
        });
    }
    groups
}

/// The `ClickHouseKeeperInstallation` of a replicated cluster.
fn keeper_name(service: &str) -> String {
    format!("{service}-keeper")
}
const NATIVE: u16 = 9000;
/// ClickHouse's Prometheus endpoint, when the platform is monitored.
const METRICS_PORT: u16 = 9363;

/// The service's `PROFILE/SETTING` settings as a `users.d` file, which
/// ClickHouse merges into its users configuration.
fn profiles_xml(tuning: &Tuning) -> String {
    let mut profiles: Vec<(&str, Vec<(&str, &str)>)> = Vec::new();
    for (key, value) in &tuning.settings {
        let (profile, setting) = key.split_once('/').unwrap_or(("default", key));
        match profiles.iter_mut().find(|(p, _)| *p == profile) {
            Some((_, settings)) => settings.push((setting, value)),
            None => profiles.push((profile, vec![(setting, value)])),
        }
    }
    let mut xml = String::from(
        "<!-- Written by the Strata clickhouse blueprint: the service's settings. -->\n<clickhouse>\n  <profiles>\n",
    );
    for (profile, settings) in profiles {
        xml.push_str(&format!("    <{profile}>\n"));
        for (setting, value) in settings {
            let value = value
                .replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;");
            xml.push_str(&format!("      <{setting}>{value}</{setting}>\n"));
        }
        xml.push_str(&format!("    </{profile}>\n"));
    }
    xml.push_str("  </profiles>\n</clickhouse>\n");
    xml
}

fn recipe(tuning: &Tuning) -> Recipe {
    let secret = credentials_name(tuning);
    let altinity = *tuning.mode == ALTINITY;
    let mut env = json!({
        "CLICKHOUSE_USER": "app",
        "CLICKHOUSE_PASSWORD": { "secret": secret, "key": "password" },
        "CLICKHOUSE_DEFAULT_ACCESS_MANAGEMENT": "1",
    });
    if let Some(db) = tuning.databases.first() {
        env["CLICKHOUSE_DB"] = json!(db.name);
    }
    let mut spec = json!({
        "image": image("clickhouse/clickhouse-server", tuning),
        "kind": "stateful",
        "ports": { "http": HTTP, "native": NATIVE, "interserver": 9009 },
        "env": env,
        "storage": volume("50Gi", "/var/lib/clickhouse"),
        "probes": { "port": "http", "path": "/ping" },
        "security": user(101, 101, false),
        "resources": resources("1", "4Gi", "4", "8Gi"),
        "terminationGracePeriod": "60s",
    });
    if altinity && tuning.metrics {
        spec["ports"]["metrics"] = json!(METRICS_PORT);
    }
    if !altinity && !tuning.settings.is_empty() {
        spec["config"] = json!({
            "mountPath": "/etc/clickhouse-server/users.d",
            "files": { "strata-settings.xml": profiles_xml(tuning) },
        });
    }
    let service = if altinity {
        format!("clickhouse-{}", tuning.service)
    } else {
        tuning.service.clone()
    };
    let mut exports = recipe::endpoint(tuning, &service, "clickhouse", NATIVE);
    let host = exports[0].1.clone();
    exports.retain(|(k, _)| k != "url");
    exports.push((
        "url".into(),
        format!(
            "clickhouse://{host}:{NATIVE}/{}",
            tuning
                .databases
                .first()
                .map_or("default", |d| d.name.as_str())
        ),
    ));
    exports.push(("httpUrl".into(), format!("http://{host}:{HTTP}")));
    exports.push(("secret".into(), secret.clone()));
    Recipe {
        spec,
        supplied: Supplied {
            exports,
            credentials: Some((secret, vec!["password".into()])),
            // The Altinity operator labels the servers
            // `clickhouse.altinity.com/chi` and the Keeper nodes
            // `clickhouse-keeper.altinity.com/chk`; it queries the servers
            // over HTTP on 8123 (schema propagation, metrics).
            pods: altinity.then(|| {
                crate::model::label_map(&[("clickhouse.altinity.com/chi", &tuning.service)])
            }),
            members: if altinity {
                let mut groups = vec![
                    Members::new(
                        "members",
                        &[("clickhouse.altinity.com/chi", &tuning.service)],
                    )
                    .operated(&[HTTP]),
                ];
                if tuning.replicas > 1 {
                    groups.push(Members::new(
                        "keeper",
                        &[(
                            "clickhouse-keeper.altinity.com/chk",
                            &keeper_name(&tuning.service),
                        )],
                    ));
                }
                groups
            } else {
                Vec::new()
            },
            ..Supplied::default()
        },
    }
}

fn objects(platform: &Platform, service: &Service, tuning: &Tuning) -> Vec<Value> {
    if *tuning.mode != ALTINITY {
        return Vec::new();
    }
    let replicated = service.replicas > 1;
    let keeper = keeper_name(&service.name);
    let claim = recipe::claim_spec(service, &recipe::storage_size(service));
    let secret = credentials_name(tuning);
    let mut configuration = json!({
        "clusters": [{ "name": tuning.option("cluster", "default"), "layout": { "shardsCount": tuning.shards, "replicasCount": service.replicas } }],
        "users": {
            "app/k8s_secret_password": format!("{}/{secret}/password", service.namespace),
            "app/networks/ip": ["::/0"],
            "app/profile": "default",
            "app/access_management": 1,
        },
    });
    if tuning.metrics {
        // ClickHouse's own Prometheus endpoint.
        configuration["settings"] = json!({
            "prometheus/endpoint": "/metrics",
            "prometheus/port": METRICS_PORT,
            "prometheus/metrics": true,
            "prometheus/events": true,
            "prometheus/asynchronous_metrics": true,
        });
    }
    if !tuning.settings.is_empty() {
        configuration["profiles"] = tuning
            .settings
            .iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect::<serde_json::Map<String, Value>>()
            .into();
    }
    if replicated {
        configuration["zookeeper"] = json!({ "nodes": [{ "host": format!("keeper-{keeper}.{}.svc.cluster.local", service.namespace), "port": 2181 }] });
    }
    let mut pod = json!({
        "name": "clickhouse",
        "podDistribution": [{ "type": "ClickHouseAntiAffinity", "scope": "ClickHouseInstallation" }],
        "spec": {
            "securityContext": crate::render::pod_security_context(service),
            "containers": [{ "name": "clickhouse", "image": service.image, "resources": crate::render::resource_values(&service.resources, service.rare.gpu), "securityContext": crate::render::operated_container_security(service) }],
        },
    });
    if tuning.metrics {
        pod["metadata"] = json!({ "annotations": {
            "prometheus.io/scrape": "true",
            "prometheus.io/port": METRICS_PORT.to_string(),
            "prometheus.io/path": "/metrics",
        } });
    }
    if let Some(pool) = recipe::pool_scheduling(platform, service)
        && let Some(fields) = pool.as_object()
    {
        for (key, value) in fields {
            pod["spec"][key] = value.clone();
        }
    }
    crate::render::add_pull_secrets(platform, &mut pod["spec"]);
    let mut out = vec![json!({
        "apiVersion": "clickhouse.altinity.com/v1",
        "kind": "ClickHouseInstallation",
        "metadata": crate::render::metadata(platform, service, &service.name),
        "spec": {
            "defaults": { "templates": { "podTemplate": "clickhouse", "dataVolumeClaimTemplate": "data" } },
            "configuration": configuration,
            "templates": {
                "podTemplates": [pod],
                "volumeClaimTemplates": [{ "name": "data", "reclaimPolicy": "Retain", "spec": claim }],
            },
        },
    })];
    add_volumes(&mut out[0], service);
    if replicated {
        let mut keeper_pod = json!({
            "securityContext": crate::render::pod_security_context(service),
            "containers": [{
                "name": "clickhouse-keeper",
                "image": image("clickhouse/clickhouse-keeper", tuning),
                "resources": KEEPER_SIZE.json(),
                "securityContext": crate::render::operated_container_security(service),
            }],
        });
        crate::render::add_pull_secrets(platform, &mut keeper_pod);
        out.push(json!({
            "apiVersion": "clickhouse-keeper.altinity.com/v1",
            "kind": "ClickHouseKeeperInstallation",
            "metadata": crate::render::metadata(platform, service, &keeper),
            "spec": {
                "configuration": { "clusters": [{ "name": "keeper", "layout": { "replicasCount": KEEPERS } }] },
                "defaults": { "templates": { "podTemplate": "keeper", "dataVolumeClaimTemplate": "data" } },
                "templates": {
                    "podTemplates": [{ "name": "keeper", "spec": keeper_pod }],
                    "volumeClaimTemplates": [{ "name": "data", "spec": { "accessModes": ["ReadWriteOnce"], "resources": { "requests": { "storage": KEEPER_STORAGE } } } }],
                },
            },
        }));
    }
    out
}

/// The server's log directory: a volume mounted there becomes the
/// installation's `logVolumeClaimTemplate`.
const LOG_DIR: &str = "/var/log/clickhouse-server";

fn is_log_volume(named: &crate::model::NamedVolume) -> bool {
    named.volume.mount_path.trim_end_matches('/') == LOG_DIR
}

/// Whether the operator keeps the server's logs on a volume of their own,
/// with the `clickhouse-log` sidecar beside each server.
fn keeps_logs(service: &Service) -> bool {
    service.rare.volumes.iter().any(is_log_volume)
}

/// The image of the `clickhouse-log` sidecar, which only holds the log
/// volume mounted (as the operator's own does): pinned.
const LOG_IMAGE: &str = "busybox:1.36.1";

/// The `clickhouse-log` sidecar's size: requests, then limits.
pub(super) const LOG_SIZE: recipe::Size = recipe::Size {
    requests: ("10m", "16Mi"),
    limits: ("50m", "32Mi"),
};

/// The service's `volumes` as claim templates of the installation, mounted
/// into the ClickHouse container by name (the operator then claims one per
/// pod); `logs` mounted at the server's log directory becomes the
/// `logVolumeClaimTemplate`.
fn add_volumes(installation: &mut Value, service: &Service) {
    for named in &service.rare.volumes {
        let claim = json!({
            "name": named.name,
            "reclaimPolicy": "Retain",
            "spec": crate::render::claim_spec(&named.volume),
        });
        let spec = &mut installation["spec"];
        if let Some(templates) = spec["templates"]["volumeClaimTemplates"].as_array_mut() {
            templates.push(claim);
        }
        if is_log_volume(named) {
            spec["defaults"]["templates"]["logVolumeClaimTemplate"] = json!(named.name);
            // The operator adds its `clickhouse-log` sidecar, with no
            // security context, unless the template names it: named here,
            // it meets the namespace's level like the server beside it.
            if let Some(containers) =
                spec["templates"]["podTemplates"][0]["spec"]["containers"].as_array_mut()
            {
                containers.push(json!({
                    "name": "clickhouse-log",
                    "image": LOG_IMAGE,
                    "command": ["/bin/sh", "-c", "--"],
                    "args": ["while true; do sleep 30; done;"],
                    "resources": LOG_SIZE.json(),
                    "securityContext": crate::render::operated_container_security(service),
                }));
            }
            continue;
        }
        let container = &mut spec["templates"]["podTemplates"][0]["spec"]["containers"][0];
        let mount = json!({ "name": named.name, "mountPath": named.volume.mount_path });
        match container["volumeMounts"].as_array_mut() {
            Some(mounts) => mounts.push(mount),
            None => container["volumeMounts"] = json!([mount]),
        }
    }
}
