//! Redis: one server with AOF and RDB persistence, a Sentinel group (a
//! master, its replicas and a quorum of sentinels that fail over), or a
//! sharded Redis Cluster run by the OT-Container-Kit redis-operator.
//!
//! Clients log in with a generated password unless `auth: off` says the
//! apps cannot send one. The password never reaches a command line: each
//! pod's start script writes it from the environment into a file of its own
//! `/tmp`, which `redis.conf` includes.

use serde_json::{Value, json};

use super::recipe::{self, credentials_name, image, resources, user, volume};
use crate::model::{
    Amounts, Auth, BackupMethod, Blueprint, BlueprintInfo, Config, ConfigFile, Dump, FileContent,
    Front, Key, Members, Mode, OptionDoc, OptionValue, Platform, PodGroup, Port, ProbeCheck,
    Probes, Protocol, Recipe, Releases, Service, Supplied, Tuning, WorkloadKind,
};
use crate::quantity::{Measure, Quantity};

/// The `redis` blueprint.
pub(super) struct Redis;

impl Blueprint for Redis {
    fn info(&self) -> &'static BlueprintInfo {
        &INFO
    }

    fn recipe(&self, tuning: &Tuning) -> Recipe {
        recipe(tuning)
    }

    fn backup(&self, tuning: &Tuning) -> Option<BackupMethod> {
        backup(tuning)
    }

    fn objects(&self, platform: &Platform, service: &Service, tuning: &Tuning) -> Vec<Value> {
        objects(platform, service, tuning)
    }

    fn companions(&self, service: &Service, tuning: &Tuning) -> Vec<Service> {
        companions(service, tuning)
    }

    fn pods(&self, service: &Service, tuning: &Tuning) -> Vec<PodGroup> {
        pods(service, tuning)
    }

    fn authenticates(&self, tuning: &Tuning) -> bool {
        authenticated(tuning)
    }
}

static INFO: BlueprintInfo = BlueprintInfo {
    name: "redis",
    summary: "Redis with AOF + RDB persistence; standalone, a Sentinel group that fails over, or a sharded cluster",
    modes: &[STANDALONE, SENTINEL, CLUSTER],
    // Published both as the official image and as the operator's.
    version: "7.4.5",
    takes: &[Key::Shards, Key::Settings],
    options: &[
        OptionDoc::of(
            OptionValue::Number,
            "sentinels",
            "A number: Sentinel pods in `sentinel` mode; 3 by default (1 when the environment pins one replica).",
        ),
        OptionDoc::of(
            OptionValue::Number,
            "quorum",
            "A number: sentinels that must agree the master is down; a majority of the sentinels (2 of 3) by default.",
        ),
        OptionDoc::of(
            OptionValue::Cpu,
            "sentinelCpu",
            "A CPU quantity: what each Sentinel pod requests, such as `50m`; a quarter of the Redis pod's request by default. Its limit stays a quarter of the Redis pod's limit, raised to the request when lower.",
        ),
        OptionDoc::of(
            OptionValue::Memory,
            "sentinelMemory",
            "A memory quantity: what each Sentinel pod requests, such as `64Mi`; a quarter of the Redis pod's request by default. Its limit stays a quarter of the Redis pod's limit, raised to the request when lower.",
        ),
        OptionDoc::text(
            "maxmemory",
            "Memory Redis may use for data, such as `768mb`; unlimited by default (set it below the memory limit for caches).",
        ),
        OptionDoc::of(
            OptionValue::OneOf(&["on", "off"]),
            "auth",
            "`on` or `off`: whether clients log in with the generated password; `on` by default. `off`, for apps that cannot send one, runs the servers, replicas and Sentinels of every mode without a password: no Secret `NAME-credentials`, no `secret` export, the exporter reads the server without one (`strata audit` reports it as `store-without-auth`).",
        ),
    ],
    auth: Auth::required(
        "the password in the Secret `NAME-credentials`, key `password` (export `secret`), sent with `AUTH`: `REDIS_PASSWORD: { secret: NAME-credentials, key: password }`; Sentinels take none",
    )
    .switched_off_by("auth: \"off\""),
};

/// The releases every mode renders for: one-line `save` rules and
/// Sentinel's host names need Redis 7.
const VERSIONS: &[Releases] = &[Releases::minors((7, 0), (7, 4))];

/// The `standalone` mode.
const STANDALONE: Mode = Mode::new("standalone", "one Redis server", 1).versions(VERSIONS);

/// The `sentinel` mode.
const SENTINEL: Mode = Mode::new(
    "sentinel",
    "a master and replicas (a StatefulSet) watched by a Sentinel StatefulSet that promotes a replica when the master fails",
    3,
)
.versions(VERSIONS);

/// The `cluster` mode.
const CLUSTER: Mode = Mode::new(
    "cluster",
    "a Redis Cluster (`RedisCluster` of the OT-Container-Kit redis-operator): `shards` leaders (3 by default), each with `replicas` − 1 followers, anti-affinity and PodDisruptionBudgets, data and node configuration on volumes",
    2,
)
.operator("redis-operator")
.operated()
.sharded()
.versions(VERSIONS);

const PORT: u16 = 6379;
const SENTINEL_PORT: u16 = 26379;
/// redis_exporter's port, when the platform is monitored.
const EXPORTER_PORT: u16 = 9121;
/// The exporter's image, pinned.
const EXPORTER_IMAGE: &str = "oliver006/redis_exporter:v1.66.0";
/// The redis_exporter sidecar: reads the server on localhost, with its
/// password (from the environment) unless the server has none.
fn exporter(tuning: &Tuning) -> Value {
    let mut env =
        vec![json!({ "name": "REDIS_ADDR", "value": format!("redis://localhost:{PORT}") })];
    if authenticated(tuning) {
        env.push(json!({ "name": "REDIS_PASSWORD", "valueFrom": { "secretKeyRef": { "name": credentials_name(tuning), "key": "password" } } }));
    }
    recipe::exporter(
        "redis-exporter",
        EXPORTER_IMAGE,
        EXPORTER_PORT,
        59000,
        json!(env),
    )
}

/// Whether clients log in with the generated password (`auth` is not `off`).
fn authenticated(tuning: &Tuning) -> bool {
    tuning.option("auth", "on") != "off"
}

/// The file of the pod's own `/tmp` (an empty directory) holding the
/// password, which `redis.conf` includes.
const AUTH_FILE: &str = "/tmp/redis-auth.conf";

/// The lines of a start script writing [`AUTH_FILE`] from `REDIS_PASSWORD`:
/// a here-document, so the password goes to `cat` on its standard input,
/// never as an argument `ps` shows. Replicas log in to their master with it.
fn write_auth_file() -> String {
    format!(
        "# The password, from the Secret, into the file redis.conf includes.\n\
         umask 077\n\
         cat > {AUTH_FILE} <<EOF\n\
         requirepass \"$REDIS_PASSWORD\"\n\
         masterauth \"$REDIS_PASSWORD\"\n\
         EOF\n"
    )
}

fn sentinels(tuning: &Tuning) -> u32 {
    let default = if tuning.replicas <= 1 { 1 } else { 3 };
    tuning.number("sentinels", default).max(1)
}

fn quorum(tuning: &Tuning) -> u32 {
    tuning.number("quorum", sentinels(tuning) / 2 + 1)
}

fn sentinel_name(tuning: &Tuning) -> String {
    format!("{}-sentinel", tuning.service)
}

fn redis_conf(tuning: &Tuning) -> String {
    let mut conf = String::from(
        "# Written by the Strata redis blueprint.\n\
         dir /data\n\
         # Both persistence methods: the append-only file for durability,\n\
         # RDB snapshots for fast restarts and backups.\n\
         appendonly yes\n\
         appendfsync everysec\n\
         save 3600 1 300 100 60 10000\n",
    );
    if authenticated(tuning) {
        conf.push_str(&format!(
            "# The password, written from the Secret by the start script.\ninclude {AUTH_FILE}\n"
        ));
    } else {
        conf.push_str("# No password (`auth: off`): the NetworkPolicies decide who connects.\n");
    }
    conf.push_str(
        "# Clients connect through the Service, not from localhost.\n\
         protected-mode no\n\
         tcp-keepalive 60\n",
    );
    if let Some(max) = tuning.options.get("maxmemory") {
        conf.push_str(&format!("maxmemory {max}\nmaxmemory-policy allkeys-lru\n"));
    }
    conf.push_str(&settings_conf(tuning));
    conf
}

/// The service's `settings:` as `redis.conf` directives; later lines win,
/// so they override the blueprint's.
fn settings_conf(tuning: &Tuning) -> String {
    if tuning.settings.is_empty() {
        return String::new();
    }
    let mut conf = String::from("# The service's settings.\n");
    for (name, value) in &tuning.settings {
        conf.push_str(&format!("{name} {value}\n"));
    }
    conf
}

/// Asks the sentinels for the current master, so a restarted pod rejoins as
/// a replica; the first pod is the master only when no sentinel answers.
fn find_master(tuning: &Tuning) -> String {
    format!(
        "master=\"\"\n\
         for attempt in 1 2 3; do\n  \
           master=$(redis-cli -h {sentinels} -p {SENTINEL_PORT} --raw sentinel get-master-addr-by-name {set} 2>/dev/null | head -n 1) || true\n  \
           [ -n \"$master\" ] && break\n  \
           sleep 2\n\
         done\n\
         [ -n \"$master\" ] || master=\"{first}\"\n",
        sentinels = tuning.host(&sentinel_name(tuning)),
        set = tuning.service,
        first = tuning.pod_host(0),
    )
}

/// The start script of `standalone` mode with a password.
fn standalone_script() -> String {
    format!(
        "#!/bin/sh\n# Starts Redis with the password of the Secret.\nset -eu\n{}\
         exec redis-server /etc/redis/redis.conf\n",
        write_auth_file()
    )
}

/// The start script of `sentinel` mode's data pods.
fn start_script(tuning: &Tuning) -> String {
    format!(
        "#!/bin/sh\n# Starts Redis as the master or as a replica of the current master.\nset -eu\n{auth}\
         self=\"$HOSTNAME.{svc}-headless.{ns}.svc.cluster.local\"\n{find}\
         set -- /etc/redis/redis.conf --replica-announce-ip \"$self\"\n\
         if [ \"$master\" != \"$self\" ]; then set -- \"$@\" --replicaof \"$master\" {PORT}; fi\n\
         exec redis-server \"$@\"\n",
        auth = if authenticated(tuning) {
            write_auth_file()
        } else {
            String::new()
        },
        svc = tuning.service,
        ns = tuning.namespace,
        find = find_master(tuning),
    )
}

/// Sentinel's start script. Its configuration, with the master's password
/// when it has one, is a here-document: on no command line.
fn sentinel_script(tuning: &Tuning) -> String {
    let auth = if authenticated(tuning) {
        format!("sentinel auth-pass {} $REDIS_PASSWORD\n", tuning.service)
    } else {
        String::new()
    };
    format!(
        "#!/bin/sh\n# Writes a fresh sentinel.conf (Sentinel rewrites it) and starts Sentinel.\nset -eu\n{find}\
         mkdir -p /tmp/sentinel\n\
         umask 077\n\
         cat > /tmp/sentinel/sentinel.conf <<EOF\n\
         port {SENTINEL_PORT}\n\
         sentinel resolve-hostnames yes\n\
         sentinel announce-hostnames yes\n\
         sentinel announce-ip $HOSTNAME.{sentinel}-headless.{ns}.svc.cluster.local\n\
         sentinel monitor {set} $master {PORT} {quorum}\n\
         {auth}\
         sentinel down-after-milliseconds {set} 5000\n\
         sentinel failover-timeout {set} 60000\n\
         sentinel parallel-syncs {set} 1\n\
         EOF\n\
         exec redis-sentinel /tmp/sentinel/sentinel.conf\n",
        find = find_master(tuning),
        sentinel = sentinel_name(tuning),
        ns = tuning.namespace,
        set = tuning.service,
        quorum = quorum(tuning),
    )
}

/// The `RedisCluster` of `cluster` mode: the operator runs the pods, forms
/// the cluster and heals it.
fn objects(platform: &Platform, service: &Service, tuning: &Tuning) -> Vec<Value> {
    if *tuning.mode != CLUSTER {
        return Vec::new();
    }
    let claim = |size: &str| json!({ "spec": recipe::claim_spec(service, size) });
    let restricted = json!({
        "runAsUser": 1000, "runAsGroup": 1000, "runAsNonRoot": true,
        "allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true,
        "capabilities": { "drop": ["ALL"] }, "seccompProfile": { "type": "RuntimeDefault" },
    });
    let role = |role: &str, replicas: u32| {
        json!({
            "replicas": replicas,
            "securityContext": restricted,
            "pdb": { "enabled": true, "minAvailable": (replicas / 2).max(1) },
            // Spread each role over nodes; preferred, so a small cluster still schedules.
            "affinity": { "podAntiAffinity": { "preferredDuringSchedulingIgnoredDuringExecution": [{
                "weight": 100,
                "podAffinityTerm": { "topologyKey": "kubernetes.io/hostname", "labelSelector": { "matchLabels": { "app": format!("{}-{role}", service.name) } } },
            }] } },
        })
    };
    let followers = tuning.shards * service.replicas.saturating_sub(1);
    let mut spec = json!({
        "clusterSize": tuning.shards,
        "clusterVersion": "v7",
        "persistenceEnabled": true,
        "podSecurityContext": { "runAsUser": 1000, "fsGroup": 1000, "runAsNonRoot": true, "seccompProfile": { "type": "RuntimeDefault" } },
        "kubernetesConfig": {
            "image": service.image,
            "imagePullPolicy": "IfNotPresent",
            "resources": crate::render::resource_values(&service.resources, service.rare.gpu),
        },
        "redisLeader": role("leader", tuning.shards),
        "storage": {
            "volumeClaimTemplate": claim(&recipe::storage_size(service)),
            "nodeConfVolume": true,
            "nodeConfVolumeClaimTemplate": claim("1Gi"),
        },
    });
    // Without `redisSecret` the operator runs the nodes without a password.
    if authenticated(tuning) {
        spec["kubernetesConfig"]["redisSecret"] =
            json!({ "name": credentials_name(tuning), "key": "password" });
    }
    if followers > 0 {
        spec["redisFollower"] = role("follower", followers);
    }
    if tuning.metrics {
        // The operator runs its exporter beside each node on 9121.
        spec["redisExporter"] = json!({
            "enabled": true,
            "image": "quay.io/opstree/redis-exporter:v1.44.0",
            "imagePullPolicy": "IfNotPresent",
            "resources": recipe::EXPORTER_SIZE.json(),
            // The operator's exporter runs with no security context unless given one.
            "securityContext": restricted,
        });
    }
    if let Some(refs) = crate::render::pull_secret_refs(platform, service.image.as_deref()) {
        spec["kubernetesConfig"]["imagePullSecrets"] = refs;
    }
    let mut out = Vec::new();
    // The operator appends the ConfigMap's `redis-additional.conf` to the
    // configuration of the pods of each role that names it.
    if !tuning.settings.is_empty() {
        let name = format!("{}-settings", service.name);
        out.push(json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": crate::render::metadata(platform, service, &name),
            "data": { "redis-additional.conf": settings_conf(tuning) },
        }));
        for role in ["redisLeader", "redisFollower"] {
            if spec.get(role).is_some() {
                spec[role]["redisConfig"] = json!({ "additionalRedisConfig": name });
            }
        }
    }
    let mut metadata = crate::render::metadata(platform, service, &service.name);
    if tuning.metrics && !platform.service_monitors {
        // The operator copies the resource's annotations onto its
        // StatefulSets' pods: Prometheus finds the exporters by them.
        metadata["annotations"] = json!({
            "prometheus.io/scrape": "true",
            "prometheus.io/port": EXPORTER_PORT.to_string(),
            "prometheus.io/path": "/metrics",
        });
    }
    if tuning.metrics && platform.service_monitors {
        // The operator's Services carry no port for the exporter: a
        // PodMonitor scrapes the pods' `redis-exporter` port.
        out.push(json!({
            "apiVersion": "monitoring.coreos.com/v1",
            "kind": "PodMonitor",
            "metadata": crate::render::metadata(platform, service, &service.name),
            "spec": {
                "selector": {
                    "matchLabels": { "redis_setup_type": "cluster" },
                    "matchExpressions": [{ "key": "app", "operator": "In", "values": [format!("{}-leader", service.name), format!("{}-follower", service.name)] }],
                },
                "podMetricsEndpoints": [{ "port": "redis-exporter", "path": "/metrics", "interval": "30s" }],
            },
        }));
    }
    out.push(json!({
        "apiVersion": "redis.redis.opstreelabs.in/v1beta2",
        "kind": "RedisCluster",
        "metadata": metadata,
        "spec": spec,
    }));
    out
}

fn recipe(tuning: &Tuning) -> Recipe {
    if *tuning.mode == CLUSTER {
        return cluster_recipe(tuning);
    }
    let secret = credentials_name(tuning);
    let sentinel = *tuning.mode == SENTINEL;
    let auth = authenticated(tuning);
    let mut files = json!({ "redis.conf": redis_conf(tuning) });
    let (command, args) = if sentinel {
        files["start.sh"] = json!(start_script(tuning));
        (json!(["sh", "/etc/redis/start.sh"]), json!([]))
    } else if auth {
        files["start.sh"] = json!(standalone_script());
        (json!(["sh", "/etc/redis/start.sh"]), json!([]))
    } else {
        (json!(["redis-server"]), json!(["/etc/redis/redis.conf"]))
    };
    let mut spec = json!({
        "image": image("redis", tuning),
        "kind": "stateful",
        "command": command,
        "ports": { "redis": PORT },
        "storage": volume("8Gi", "/data"),
        "security": user(999, 999, true),
        "resources": resources("250m", "512Mi", "1", "1Gi"),
        "config": { "mountPath": "/etc/redis", "files": files },
        "terminationGracePeriod": "30s",
    });
    if args.as_array().is_some_and(|a| !a.is_empty()) {
        spec["args"] = args;
    }
    if auth {
        spec["env"] = json!({ "REDIS_PASSWORD": { "secret": secret, "key": "password" } });
    }
    if tuning.metrics {
        spec["ports"]["metrics"] = json!(EXPORTER_PORT);
    }
    let mut exports = recipe::endpoint(tuning, &tuning.service, "redis", PORT);
    if auth {
        exports.push(("secret".into(), secret.clone()));
    }
    if sentinel {
        let host = tuning.host(&sentinel_name(tuning));
        exports.push(("sentinels".into(), format!("{host}:{SENTINEL_PORT}")));
        exports.push(("master".into(), tuning.service.clone()));
        exports.retain(|(k, _)| k != "url");
        exports.push((
            "url".into(),
            format!("redis+sentinel://{host}:{SENTINEL_PORT}/{}", tuning.service),
        ));
    }
    Recipe {
        spec,
        supplied: Supplied {
            exports,
            credentials: auth.then(|| (secret, vec!["password".into()])),
            members: if sentinel {
                vec![Members {
                    name: "members",
                    selector: json!({
                        "matchLabels": { "app.kubernetes.io/instance": tuning.platform },
                        "matchExpressions": [{ "key": "app.kubernetes.io/name", "operator": "In", "values": [tuning.service.clone(), sentinel_name(tuning)] }],
                    }),
                    operator_ports: Vec::new(),
                    setup_job: false,
                }]
            } else {
                Vec::new()
            },
            member_ports: if sentinel {
                vec![SENTINEL_PORT]
            } else {
                Vec::new()
            },
            sidecars: if tuning.metrics {
                vec![exporter(tuning)]
            } else {
                Vec::new()
            },
            ..Supplied::default()
        },
    }
}

/// What `plan` counts: in `cluster` mode, `shards` × `replicas` nodes, each
/// with its data claim and a 1Gi claim for the cluster's node table.
fn pods(service: &Service, tuning: &Tuning) -> Vec<PodGroup> {
    let mut nodes = PodGroup::of(service);
    if tuning.metrics {
        // Each pod runs the exporter beside the server.
        nodes.resources = nodes.resources.plus(recipe::EXPORTER_SIZE.resources());
    }
    if *tuning.mode != CLUSTER {
        return vec![nodes];
    }
    nodes.pods = tuning.shards * service.replicas;
    let node_table = crate::quantity::Quantity::units(1 << 30);
    let data = service
        .storage
        .as_ref()
        .map_or(crate::quantity::Quantity::default(), |v| v.size);
    nodes.pvcs = 2 * nodes.pods;
    nodes.storage = data.saturating_add(node_table).times(u64::from(nodes.pods));
    vec![nodes]
}

/// `cluster` mode: the operator's image, its Services and its pod labels.
fn cluster_recipe(tuning: &Tuning) -> Recipe {
    let secret = credentials_name(tuning);
    // The operator's client Service sends each client to a leader; cluster
    // clients learn every node from there.
    let leader = format!("{}-leader", tuning.service);
    let mut exports = recipe::endpoint(tuning, &leader, "redis", PORT);
    let auth = authenticated(tuning);
    if auth {
        exports.push(("secret".into(), secret.clone()));
    }
    Recipe {
        spec: json!({
            "image": format!("quay.io/opstree/redis:v{}", tuning.version),
            "kind": "stateful",
            "ports": if tuning.metrics {
                json!({ "redis": PORT, "metrics": EXPORTER_PORT })
            } else {
                json!({ "redis": PORT })
            },
            "storage": volume("8Gi", "/data"),
            "resources": resources("250m", "512Mi", "1", "1Gi"),
        }),
        supplied: Supplied {
            exports,
            credentials: auth.then(|| (secret, vec!["password".into()])),
            // The operator labels every node `redis_setup_type: cluster`
            // (leaders and followers alike: cluster clients reach both) and
            // runs CLUSTER commands against them on the client port.
            pods: Some(crate::model::label_map(&[("redis_setup_type", "cluster")])),
            members: vec![
                Members::new("members", &[("redis_setup_type", "cluster")]).operated(&[PORT]),
            ],
            ..Supplied::default()
        },
    }
}

/// The Sentinel group of `sentinel` mode, a StatefulSet beside the data pods.
fn companions(service: &Service, tuning: &Tuning) -> Vec<Service> {
    if *tuning.mode != SENTINEL {
        return Vec::new();
    }
    let mut sentinel = service.clone();
    sentinel.name = sentinel_name(tuning);
    sentinel.front = Front::cluster_ip(&sentinel.name);
    sentinel.container.clone_from(&sentinel.name);
    sentinel.tuning = None;
    sentinel.kind = WorkloadKind::Stateful;
    sentinel.replicas = sentinels(tuning);
    sentinel.storage = None;
    sentinel.rare.make_mut().volumes.clear();
    sentinel.rare.make_mut().sidecars.clear();
    sentinel.rare.make_mut().command = vec!["sh".into(), "/etc/redis/sentinel.sh".into()];
    sentinel.rare.make_mut().args = Vec::new();
    sentinel.ports = vec![Port {
        name: "sentinel".into(),
        number: SENTINEL_PORT,
        protocol: Protocol::Tcp,
        service_number: None,
        node_port: None,
        sidecar: None,
    }];
    sentinel.env.retain(|e| e.name == "REDIS_PASSWORD");
    sentinel.config = Some(Box::new(Config {
        mount_path: "/etc/redis".into(),
        files: vec![ConfigFile {
            name: "sentinel.sh".into(),
            content: FileContent::Inline(sentinel_script(tuning)),
        }],
    }));
    sentinel.runtime.probes = Some(Probes::defaulted(
        ProbeCheck::Tcp {
            port: "sentinel".into(),
        },
        60,
    ));
    sentinel.runtime.autoscale = None;
    sentinel.runtime.metrics = None;
    // Sentinels only watch and vote: a quarter of a Redis pod unless the
    // options say what they request. A limit below the request is invalid.
    let quarter = |q: Quantity| q.scaled(0.25);
    let request = |option: &str, measure, of: Quantity| {
        tuning
            .options
            .get(option)
            .and_then(|text| Quantity::parse(text, measure).ok())
            .unwrap_or_else(|| quarter(of))
    };
    let r = &mut sentinel.resources;
    r.requests.cpu = request("sentinelCpu", Measure::Cpu, service.resources.requests.cpu);
    r.requests.memory = request(
        "sentinelMemory",
        Measure::Bytes,
        service.resources.requests.memory,
    );
    // Unbounded like the Redis pods when they are.
    r.limits = service.resources.limits.map(|limits| Amounts {
        cpu: quarter(limits.cpu).max(r.requests.cpu),
        memory: quarter(limits.memory).max(r.requests.memory),
    });
    vec![sentinel]
}

/// `standalone` and `sentinel`: an RDB snapshot streamed from a server
/// (`redis-cli --rdb`, a replica's as good as the master's); restored
/// offline as the base of the append-only file, which Redis loads before
/// any RDB. A cluster's shards are the operator's.
fn backup(tuning: &Tuning) -> Option<BackupMethod> {
    if *tuning.mode == CLUSTER {
        return None;
    }
    let mut env = Vec::new();
    if authenticated(tuning) {
        // redis-cli reads the password from REDISCLI_AUTH, not its arguments.
        env.push(json!({ "name": "REDISCLI_AUTH", "valueFrom": { "secretKeyRef": { "name": credentials_name(tuning), "key": "password" } } }));
    }
    Some(BackupMethod::Dump(Dump {
        image: image("redis", tuning),
        user: 999,
        command: Dump::shell(String::from(
            "set -eu\n\
             # A point-in-time RDB snapshot, streamed from the server.\n\
             redis-cli -h \"$BACKUP_HOST\" -p \"$BACKUP_PORT\" --rdb \"$BACKUP_DIR/dump.rdb\"\n"
        )),
        env,
        ports: vec![PORT],
        contains: "`dump.rdb`: a point-in-time RDB snapshot of every key (`redis-cli --rdb`)",
        restore: "set -eu\n\
                  # With the server stopped: the snapshot becomes the base of the append-only\n\
                  # file, which Redis loads at start instead of any dump.rdb. What was there\n\
                  # is moved aside, never deleted.\n\
                  aside=\"$DATA_DIR/before-restore-$(date -u +%Y%m%dT%H%M%SZ)\"\n\
                  mkdir \"$aside\"\n\
                  for old in appendonlydir dump.rdb; do\n  \
                    if [ -e \"$DATA_DIR/$old\" ]; then mv \"$DATA_DIR/$old\" \"$aside/\"; fi\n\
                  done\n\
                  echo \"the data before the restore is in $aside\"\n\
                  mkdir \"$DATA_DIR/appendonlydir\"\n\
                  cp \"$BACKUP_DIR/dump.rdb\" \"$DATA_DIR/appendonlydir/appendonly.aof.1.base.rdb\"\n\
                  echo 'file appendonly.aof.1.base.rdb seq 1 type b' > \"$DATA_DIR/appendonlydir/appendonly.aof.manifest\"\n"
            .to_string(),
        offline: true,
    }))
}
