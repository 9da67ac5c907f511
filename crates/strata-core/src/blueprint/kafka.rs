//! Kafka in KRaft mode (no ZooKeeper): a StatefulSet of combined broker and
//! controller nodes with a Job creating the spec's topics, or Strimzi's
//! `Kafka`, `KafkaNodePool` and `KafkaTopic` resources.

use serde_json::{Value, json};

use super::recipe::{self, image, resources, stable_id, user, volume};
use crate::diag::Diagnostic;
use crate::image::ImageRef;
use crate::model::{
    Auth, Blueprint, BlueprintInfo, Key, Members, Mode, OperatorRelease, OptionCheck, OptionDoc,
    OptionValue, Platform, PodGroup, Recipe, Release, Releases, Service, Supplied, Topic, Tuning,
};

/// The `kafka` blueprint.
pub(super) struct Kafka;

impl Blueprint for Kafka {
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

    /// Strimzi's images are tagged `STRIMZI-kafka-KAFKA`: the Kafka release
    /// follows `-kafka-`.
    fn image_version(&self, mode: &Mode, image: &ImageRef<'_>) -> Option<String> {
        let tag = image.tag?;
        let kafka = if *mode == STRIMZI {
            tag.rsplit_once("-kafka-")?.1
        } else {
            tag
        };
        Release::prefix(kafka).map(str::to_string)
    }

    /// Strimzi's release precedes `-kafka-` in its images' tags.
    fn image_operator_release(&self, mode: &Mode, image: &ImageRef<'_>) -> Option<String> {
        let (strimzi, _) = image
            .tag
            .filter(|_| *mode == STRIMZI)?
            .rsplit_once("-kafka-")?;
        Release::prefix(strimzi).map(str::to_string)
    }
}

static INFO: BlueprintInfo = BlueprintInfo {
    name: "kafka",
    summary: "Kafka in KRaft mode with the spec's topics",
    modes: &[KRAFT, STRIMZI],
    version: "3.8.1",
    takes: &[Key::Topics, Key::Settings],
    options: &[
        OptionDoc::of(
            OptionValue::Period,
            "retention",
            "A period: how long records are kept unless a topic says otherwise, such as `7d`; `7d` by default.",
        ),
        OptionDoc::text(
            "tls",
            "`strimzi` mode, `true` or `false`: a second, TLS listener on 9093 (Strimzi's cluster CA), exported as `tlsBootstrap` with the CA's Secret as `caSecret`; `false` by default.",
        ),
        OptionDoc::of(
            OptionValue::Number,
            "minInSync",
            "A number: `min.insync.replicas`; 2 with three or more nodes, else 1.",
        ),
    ],
    auth: Auth::none(
        "none: the listeners take no SASL login (`strimzi`'s TLS listener encrypts without checking clients), so any pod the NetworkPolicies admit produces and consumes",
    ),
};

/// The `kraft` mode.
const KRAFT: Mode = Mode::new(
    "kraft",
    "a StatefulSet of combined broker and controller nodes, and a Job that creates the topics",
    3,
)
// `apache/kafka` images, configured by `KAFKA_*` variables, begin at 3.7.
.versions(&[Releases::minors((3, 7), (3, 9))]);

/// The `strimzi` mode.
const STRIMZI: Mode = Mode::new(
    "strimzi",
    "Strimzi `Kafka` (KRaft) with a `KafkaNodePool` of combined nodes and one `KafkaTopic` per topic",
    3,
)
.operator("strimzi")
.operated()
// The Kafka releases of the Strimzi releases below, together.
.versions(&[Releases::minors((4, 1), (4, 3))])
.operator_releases(&[
    // The newest release serving `v1beta2` (deprecated) beside `v1`.
    OperatorRelease {
        release: "0.51.0",
        api: "v1",
        runs: &[Releases::minors((4, 1), (4, 2))],
        version: "4.2.0",
    },
    // `v1` only.
    OperatorRelease {
        release: "1.2.0",
        api: "v1",
        runs: &[Releases::minors((4, 2), (4, 3))],
        version: "4.3.1",
    },
]);

/// `kafka.strimzi.io/VERSION`: the API version the chosen Strimzi release
/// serves.
fn strimzi_api(tuning: &Tuning) -> String {
    format!(
        "kafka.strimzi.io/{}",
        tuning.operator.map_or("v1", |o| o.api)
    )
}

/// The size of each of the entity operator's two containers (topic and
/// user operators): requests, then limits.
const OPERATOR_SIZE: recipe::Size = recipe::Size {
    requests: ("100m", "256Mi"),
    limits: ("500m", "512Mi"),
};

/// `strimzi` runs the node pool's pods and one entity-operator pod of two
/// containers.
fn pods(service: &Service, tuning: &Tuning) -> Vec<PodGroup> {
    let mut groups = vec![PodGroup::of(service)];
    if *tuning.mode == STRIMZI {
        let one = OPERATOR_SIZE.resources();
        let resources = one.plus(one);
        groups.push(PodGroup {
            name: format!("{}-entity-operator", service.name),
            pods: 1,
            resources,
            gpu: 0,
            pvcs: 0,
            storage: crate::quantity::Quantity::default(),
            pool: None,
        });
    }
    groups
}

const CLIENT: u16 = 9092;
const CONTROLLER: u16 = 9093;

fn min_in_sync(tuning: &Tuning) -> u32 {
    tuning.number("minInSync", if tuning.replicas >= 3 { 2 } else { 1 })
}

fn retention_ms(tuning: &Tuning) -> u64 {
    crate::quantity::period_ms(tuning.option("retention", "7d")).unwrap_or(604_800_000)
}

/// The port of Strimzi's JMX Prometheus exporter.
const METRICS_PORT: u16 = 9404;

/// The JMX exporter's rules: broker, request and log gauges and counters,
/// after Strimzi's own example.
const JMX_RULES: &str = "lowercaseOutputName: true\n\
rules:\n\
  - pattern: kafka.server<type=(.+), name=(.+), clientId=(.+), topic=(.+), partition=(.*)><>Value\n\
    name: kafka_server_$1_$2\n\
    type: GAUGE\n\
    labels: { clientId: \"$3\", topic: \"$4\", partition: \"$5\" }\n\
  - pattern: kafka.server<type=(.+), name=(.+)><>Value\n\
    name: kafka_server_$1_$2\n\
    type: GAUGE\n\
  - pattern: kafka.(\\w+)<type=(.+), name=(.+)PerSec\\w*><>Count\n\
    name: kafka_$1_$2_$3_total\n\
    type: COUNTER\n\
  - pattern: kafka.(\\w+)<type=(.+), name=(.+)><>(Count|Value)\n\
    name: kafka_$1_$2_$3\n\
    type: GAUGE\n";

/// The TLS listener's port (`options: { tls: "true" }`, Strimzi only).
const TLS: u16 = 9093;

/// Whether the service asks for the TLS listener.
fn tls(tuning: &Tuning) -> bool {
    *tuning.mode == STRIMZI && tuning.option("tls", "false") == "true"
}

fn recipe(tuning: &Tuning) -> Recipe {
    let strimzi = *tuning.mode == STRIMZI;
    let replication = tuning.replicas.clamp(1, 3);
    let voters = recipe::peers(
        tuning,
        |i| format!("{i}@{}:{CONTROLLER}", tuning.pod_host(i)),
        ",",
    );
    let mut spec = json!({
        "kind": "stateful",
        "ports": { "client": CLIENT, "controller": CONTROLLER },
        "storage": volume("50Gi", "/var/lib/kafka/data"),
        "resources": resources("500m", "2Gi", "2", "4Gi"),
        "terminationGracePeriod": "120s",
        "probes": { "port": "client", "startupSeconds": 600 },
    });
    if strimzi {
        // Strimzi's brokers serve clients on 9092 (and the TLS listener);
        // its controllers listen on 9090, reached only by the cluster's own
        // pods and the operator (the members policy).
        spec["ports"] = json!({ "client": CLIENT });
    }
    if strimzi && tuning.metrics {
        // Strimzi's JMX Prometheus exporter, on every broker.
        spec["ports"]["metrics"] = json!(METRICS_PORT);
    }
    if strimzi {
        // Strimzi's images are tagged with its own release and Kafka's.
        let release = tuning.operator.map_or("1.2.0", |o| o.release);
        spec["image"] = json!(format!(
            "quay.io/strimzi/kafka:{release}-kafka-{}",
            tuning.version
        ));
    } else {
        spec["image"] = json!(image("apache/kafka", tuning));
        // The image's start script writes server.properties under /opt/kafka.
        spec["security"] = user(1000, 1000, false);
        spec["env"] = json!({
            "KAFKA_NODE_ID": "$(POD_INDEX)",
            "KAFKA_PROCESS_ROLES": "broker,controller",
            "CLUSTER_ID": stable_id(&format!("{}/{}/{}", tuning.platform, tuning.namespace, tuning.service)),
            "KAFKA_CONTROLLER_QUORUM_VOTERS": voters,
            "KAFKA_LISTENERS": format!("PLAINTEXT://:{CLIENT},CONTROLLER://:{CONTROLLER}"),
            "KAFKA_ADVERTISED_LISTENERS": format!("PLAINTEXT://$(POD_NAME).{}-headless.{}.svc.cluster.local:{CLIENT}", tuning.service, tuning.namespace),
            "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "KAFKA_CONTROLLER_LISTENER_NAMES": "CONTROLLER",
            "KAFKA_INTER_BROKER_LISTENER_NAME": "PLAINTEXT",
            "KAFKA_LOG_DIRS": "/var/lib/kafka/data/logs",
            "KAFKA_DEFAULT_REPLICATION_FACTOR": replication.to_string(),
            "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR": replication.to_string(),
            "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR": replication.to_string(),
            "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR": min_in_sync(tuning).to_string(),
            "KAFKA_MIN_INSYNC_REPLICAS": min_in_sync(tuning).to_string(),
            "KAFKA_LOG_RETENTION_MS": retention_ms(tuning).to_string(),
            "KAFKA_AUTO_CREATE_TOPICS_ENABLE": "false",
            "KAFKA_HEAP_OPTS": "-Xms1g -Xmx1g",
        });
        // The image turns `KAFKA_*` variables into server properties:
        // `_` stands for `.`, `__` for `_` and `___` for `-`.
        for (name, value) in &tuning.settings {
            let variable: String = name
                .chars()
                .map(|c| match c {
                    '.' => "_".to_string(),
                    '_' => "__".to_string(),
                    '-' => "___".to_string(),
                    c => c.to_ascii_uppercase().to_string(),
                })
                .collect();
            spec["env"][format!("KAFKA_{variable}")] = json!(value);
        }
    }
    let bootstrap = if strimzi {
        format!("{}-kafka-bootstrap", tuning.service)
    } else {
        tuning.service.clone()
    };
    let mut exports = recipe::endpoint(tuning, &bootstrap, "kafka", CLIENT);
    let address = exports[2].1.clone();
    exports.push(("bootstrap".into(), address));
    if tls(tuning) {
        spec["ports"]["tls"] = json!(TLS);
        exports.push((
            "tlsBootstrap".into(),
            format!("{}:{TLS}", tuning.host(&bootstrap)),
        ));
        exports.push((
            "caSecret".into(),
            format!("{}-cluster-ca-cert", tuning.service),
        ));
    }
    Recipe {
        spec,
        supplied: Supplied {
            exports,
            credentials: None,
            // Strimzi labels every pod of the cluster `strimzi.io/cluster`
            // (nodes, entity operator), and the nodes as its bootstrap Service
            // selects them. Its cluster operator reaches the controllers on
            // 9090, the brokers' replication listener on 9091 and the Kafka
            // agent on 8443.
            pods: strimzi.then(|| {
                crate::model::label_map(&[
                    ("strimzi.io/cluster", &tuning.service),
                    ("strimzi.io/kind", "Kafka"),
                    ("strimzi.io/name", &format!("{}-kafka", tuning.service)),
                ])
            }),
            members: if strimzi {
                vec![
                    Members::new("members", &[("strimzi.io/cluster", &tuning.service)])
                        .operated(&[9090, 9091, 8443]),
                ]
            } else {
                Vec::new()
            },
            pod_env: true,
            ..Supplied::default()
        },
    }
}

fn topic_config(topic: &Topic) -> Value {
    json!(topic.config)
}

fn objects(platform: &Platform, service: &Service, tuning: &Tuning) -> Vec<Value> {
    if *tuning.mode == STRIMZI {
        strimzi(platform, service, tuning)
    } else {
        topics_job(platform, service, tuning).into_iter().collect()
    }
}

/// A Job that waits for the brokers and creates each topic once.
fn topics_job(platform: &Platform, service: &Service, tuning: &Tuning) -> Option<Value> {
    if tuning.topics.is_empty() {
        return None;
    }
    let bootstrap = format!("{}:{CLIENT}", tuning.host(&service.name));
    let mut script = format!(
        "set -eu\nuntil /opt/kafka/bin/kafka-broker-api-versions.sh --bootstrap-server {bootstrap} >/dev/null 2>&1; do sleep 5; done\n"
    );
    for topic in &tuning.topics {
        let configs = topic.config.iter().fold(String::new(), |mut text, (k, v)| {
            text.push_str(&format!(" --config {k}={v}"));
            text
        });
        script.push_str(&format!(
            "/opt/kafka/bin/kafka-topics.sh --bootstrap-server {bootstrap} --create --if-not-exists --topic {} --partitions {} --replication-factor {}{configs}\n",
            topic.name, topic.partitions, topic.replicas.min(tuning.replicas.max(1))
        ));
    }
    let name = format!("{}-topics", service.name);
    Some(recipe::setup_job(
        platform,
        service,
        &name,
        &service.name,
        json!(crate::render::service_labels(platform, service)),
        1000,
        json!({
            "name": "create-topics",
            "image": service.image,
            "command": ["sh", "-c", script],
            "resources": { "requests": { "cpu": "100m", "memory": "256Mi" }, "limits": { "cpu": "500m", "memory": "512Mi" } },
        }),
    ))
}

/// The `tls` option: Strimzi's listener, `true` or `false`.
fn check_options(check: &OptionCheck<'_>) -> Vec<crate::diag::Diagnostic> {
    let Some(value) = check.get("tls") else {
        return Vec::new();
    };
    match value.value.as_str() {
        "true" if *check.mode != STRIMZI => vec![
            check
                .error(
                    "unsupported-option",
                    format!(
                        "the `{}` mode of `kafka` has no TLS listener",
                        check.mode.name
                    ),
                    value.span,
                    "not in this mode",
                )
                .help("use `mode: strimzi`, whose cluster CA signs the listener's certificates"),
        ],
        "true" | "false" => Vec::new(),
        other => vec![
            check
                .error(
                    "invalid-option",
                    format!("the option `tls` takes `true` or `false`, not `{other}`"),
                    value.span,
                    "not a boolean",
                )
                .help("write `tls: \"true\"`"),
        ],
    }
}

fn strimzi(platform: &Platform, service: &Service, tuning: &Tuning) -> Vec<Value> {
    let replication = tuning.replicas.clamp(1, 3);
    let mut storage = json!({ "id": 0, "type": "persistent-claim", "size": recipe::storage_size(service), "deleteClaim": false, "kraftMetadata": "shared" });
    if let Some(class) = service.storage.as_ref().and_then(|s| s.class.as_ref()) {
        storage["class"] = json!(class);
    }
    let mut metadata = crate::render::metadata(platform, service, &service.name);
    metadata["annotations"] =
        json!({ "strimzi.io/node-pools": "enabled", "strimzi.io/kraft": "enabled" });
    let mut pool_metadata =
        crate::render::metadata(platform, service, &format!("{}-nodes", service.name));
    pool_metadata["labels"]["strimzi.io/cluster"] = json!(service.name);
    let mut listeners =
        vec![json!({ "name": "plain", "port": CLIENT, "type": "internal", "tls": false })];
    if tls(tuning) {
        listeners.push(json!({ "name": "tls", "port": TLS, "type": "internal", "tls": true }));
    }
    let mut config = json!({
        "default.replication.factor": replication,
        "offsets.topic.replication.factor": replication,
        "transaction.state.log.replication.factor": replication,
        "transaction.state.log.min.isr": min_in_sync(tuning),
        "min.insync.replicas": min_in_sync(tuning),
        "log.retention.ms": retention_ms(tuning),
        "auto.create.topics.enable": false,
    });
    // The service's settings, as written, over the blueprint's.
    for (name, value) in &tuning.settings {
        config[name] = json!(value);
    }
    // Strimzi sets no security context of its own by default: the pods it
    // makes of these templates meet the namespace's level as Strata's do.
    let pod_security = crate::render::pod_security_context(service);
    let container_security = crate::render::operated_container_security(service);
    let mut out = vec![
        json!({
            "apiVersion": strimzi_api(tuning),
            "kind": "Kafka",
            "metadata": metadata,
            "spec": {
                "kafka": {
                    "version": tuning.version,
                    "metadataVersion": tuning.version.rsplit_once('.').map_or(tuning.version.as_str(), |(minor, _)| minor),
                    "listeners": listeners,
                    "config": config,
                },
                "entityOperator": {
                    "topicOperator": { "resources": OPERATOR_SIZE.json() },
                    "userOperator": { "resources": OPERATOR_SIZE.json() },
                    "template": {
                        "pod": { "securityContext": pod_security },
                        "topicOperatorContainer": { "securityContext": container_security },
                        "userOperatorContainer": { "securityContext": container_security },
                    },
                },
            },
        }),
        json!({
            "apiVersion": strimzi_api(tuning),
            "kind": "KafkaNodePool",
            "metadata": pool_metadata,
            "spec": {
                "replicas": service.replicas,
                "roles": ["controller", "broker"],
                "storage": { "type": "jbod", "volumes": [storage] },
                "resources": crate::render::resource_values(&service.resources, service.rare.gpu),
                "template": {
                    "pod": {
                        "securityContext": pod_security,
                        "affinity": { "podAntiAffinity": { "preferredDuringSchedulingIgnoredDuringExecution": [{
                            "weight": 100,
                            "podAffinityTerm": { "topologyKey": "kubernetes.io/hostname", "labelSelector": { "matchLabels": { "strimzi.io/cluster": service.name } } },
                        }] } },
                    },
                    "kafkaContainer": { "securityContext": container_security },
                },
            },
        }),
    ];
    if tuning.metrics {
        let name = format!("{}-metrics", service.name);
        out[0]["spec"]["kafka"]["metricsConfig"] = json!({
            "type": "jmxPrometheusExporter",
            "valueFrom": { "configMapKeyRef": { "name": name, "key": "kafka-metrics-config.yml" } },
        });
        out[1]["spec"]["template"]["pod"]["metadata"] = json!({ "annotations": {
            "prometheus.io/scrape": "true",
            "prometheus.io/port": METRICS_PORT.to_string(),
            "prometheus.io/path": "/metrics",
        } });
        out.push(json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": crate::render::metadata(platform, service, &name),
            "data": { "kafka-metrics-config.yml": JMX_RULES },
        }));
    }
    // Strimzi's pod template has no nodeSelector: the pool's labels become
    // a required node affinity.
    if let Some(pool) = recipe::pool_scheduling(platform, service) {
        let template = &mut out[1]["spec"]["template"]["pod"];
        if let Some(selector) = pool.get("nodeSelector").and_then(Value::as_object) {
            let terms: Vec<Value> = selector
                .iter()
                .map(|(k, v)| json!({ "key": k, "operator": "In", "values": [v] }))
                .collect();
            template["affinity"]["nodeAffinity"] = json!({ "requiredDuringSchedulingIgnoredDuringExecution": { "nodeSelectorTerms": [{ "matchExpressions": terms }] } });
        }
        if let Some(tolerations) = pool.get("tolerations") {
            template["tolerations"] = tolerations.clone();
        }
    }
    for topic in &tuning.topics {
        let mut topic_metadata = crate::render::metadata(platform, service, &topic.name);
        topic_metadata["labels"]["strimzi.io/cluster"] = json!(service.name);
        out.push(json!({
            "apiVersion": strimzi_api(tuning),
            "kind": "KafkaTopic",
            "metadata": topic_metadata,
            "spec": { "partitions": topic.partitions, "replicas": topic.replicas, "config": topic_config(topic) },
        }));
    }
    out
}
