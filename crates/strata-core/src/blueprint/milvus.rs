//! Milvus: standalone, a vector database with its metadata in embedded etcd
//! and its segments on local storage, all on one volume; or a cluster run by
//! the Milvus Operator, its segments in the platform's MinIO (as a user of
//! its own) and its message stream in the platform's Kafka.

use serde_json::{Value, json};

use super::recipe::{self, image, resources, user, volume};
use crate::diag::Diagnostic;
use crate::model::{
    Auth, Blueprint, BlueprintInfo, Members, Mode, OptionCheck, OptionDoc, Platform, PodGroup,
    Recipe, Service, Supplied, Tuning,
};

/// The `milvus` blueprint.
pub(super) struct Milvus;

impl Blueprint for Milvus {
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
}

static INFO: BlueprintInfo = BlueprintInfo {
    name: "milvus",
    summary: "Milvus vector database, standalone with embedded etcd and local storage, or a cluster run by the Milvus Operator",
    modes: &[STANDALONE, CLUSTER],
    version: "v2.4.15",
    takes: &[],
    options: &[
        OptionDoc::text(
            "objectStore",
            "`cluster` mode, required: the platform's `minio` service holding the segments; Milvus calls it (an edge) with the keys of `objectStoreUser`, in that user's first bucket under the prefix `NAME`.",
        ),
        OptionDoc::text(
            "objectStoreUser",
            "`cluster` mode: the user of `objectStore`'s `users` Milvus signs with (its Secret `STORE-USER` is read by the operator's `secretRef`, and copied into Milvus's namespace); the service's name by default.",
        ),
        OptionDoc::text(
            "messageStream",
            "`cluster` mode, required: the platform's `kafka` service carrying Milvus's message stream (`msgStreamType: kafka`, external brokers); Milvus calls it (an edge).",
        ),
    ],
    auth: Auth::none(
        "none: Milvus's user authentication is off; any pod the NetworkPolicies admit reads and writes collections",
    ),
};

/// The `standalone` mode.
const STANDALONE: Mode = Mode::new(
    "standalone",
    "one pod running every Milvus role, its metadata and data on one volume",
    1,
);

/// The `cluster` mode.
const CLUSTER: Mode = Mode::new(
    "cluster",
    "a Milvus Operator `Milvus` in cluster mode: `replicas` proxies, coordinators (a mixed coordinator, active-standby when replicated), query, data and index nodes; metadata in an in-cluster etcd (3 members, 1 when unreplicated) on the service's storage; segments in the platform's MinIO (`objectStore`) as a user of its own; messages through the platform's Kafka (`messageStream`)",
    2,
)
.operator("milvus-operator")
.operated()
.unset_security("the config init container and the components' containers");

const EMBEDDED_ETCD: &str = "listen-client-urls: http://0.0.0.0:2379\n\
advertise-client-urls: http://0.0.0.0:2379\n\
quota-backend-bytes: 4294967296\n\
auto-compaction-mode: revision\n\
auto-compaction-retention: '1000'\n";

/// The proxies' client port.
const GRPC: u16 = 19530;
/// Every component's metrics and health port.
const METRICS: u16 = 9091;
/// etcd's client port, where the operator checks its health.
const ETCD: u16 = 2379;
/// The operator's label on its own pods (its Helm chart's and manifests').
const OPERATOR_POD: (&str, &str) = ("app.kubernetes.io/name", "milvus-operator");
/// Each member of the in-cluster etcd, rendered in its values and counted by `plan`.
const ETCD_SIZE: recipe::Size = recipe::Size {
    requests: ("250m", "512Mi"),
    limits: ("1", "2Gi"),
};
/// The components of cluster mode, as the `Milvus` resource names them.
const COMPONENTS: [&str; 5] = ["proxy", "mixCoord", "queryNode", "dataNode", "indexNode"];

fn cluster(tuning: &Tuning) -> bool {
    *tuning.mode == CLUSTER
}

/// The user Milvus signs its object-store requests with.
fn store_user(tuning: &Tuning) -> &str {
    tuning.option("objectStoreUser", &tuning.service)
}

/// Members of the in-cluster etcd: a quorum of 3, or 1 when unreplicated.
fn etcd_members(tuning: &Tuning) -> u32 {
    if tuning.replicas > 1 { 3 } else { 1 }
}

/// The labels the operator gives every Milvus pod of the instance `name`.
fn milvus_pods(name: &str) -> [(&str, &str); 2] {
    [
        ("app.kubernetes.io/name", "milvus"),
        ("app.kubernetes.io/instance", name),
    ]
}

fn recipe(tuning: &Tuning) -> Recipe {
    if cluster(tuning) {
        return cluster_recipe(tuning);
    }
    Recipe {
        spec: json!({
            "image": image("milvusdb/milvus", tuning),
            "kind": "stateful",
            "command": ["milvus", "run", "standalone"],
            "ports": { "grpc": { "port": GRPC, "protocol": "tcp" }, "metrics": METRICS },
            "env": {
                "ETCD_USE_EMBED": "true",
                "ETCD_DATA_DIR": "/var/lib/milvus/etcd",
                "ETCD_CONFIG_PATH": "/milvus/strata/embedEtcd.yaml",
                "COMMON_STORAGETYPE": "local",
            },
            "storage": volume("50Gi", "/var/lib/milvus"),
            "probes": { "port": "metrics", "path": "/healthz", "startupSeconds": 600 },
            "security": user(1000, 1000, false),
            "resources": resources("1", "4Gi", "4", "8Gi"),
            "config": { "mountPath": "/milvus/strata", "files": { "embedEtcd.yaml": EMBEDDED_ETCD } },
        }),
        supplied: Supplied {
            exports: recipe::endpoint(tuning, &tuning.service, "http", GRPC),
            ..Supplied::default()
        },
    }
}

/// Cluster mode: the operator's Service `NAME-milvus` in front of the
/// proxies; the storage is etcd's, the pods are the operator's.
fn cluster_recipe(tuning: &Tuning) -> Recipe {
    let etcd_release = format!("{}-etcd", tuning.service);
    let store = tuning.options.get("objectStore");
    Recipe {
        spec: json!({
            "image": image("milvusdb/milvus", tuning),
            "kind": "stateful",
            "ports": { "grpc": { "port": GRPC, "protocol": "tcp" }, "metrics": METRICS },
            "storage": volume("10Gi", "/bitnami/etcd"),
            // Every component's pods: query nodes hold vectors in memory and
            // index nodes build indexes up to the limit; proxies and
            // coordinators stay near the request.
            "resources": resources("500m", "2Gi", "2", "8Gi"),
        }),
        supplied: Supplied {
            exports: recipe::endpoint(tuning, &format!("{}-milvus", tuning.service), "http", GRPC),
            // The operator reads the user's keys in Milvus's own namespace.
            secrets: store
                .map(|s| super::minio::user_secret(s, store_user(tuning)))
                .into_iter()
                .collect(),
            needs: store
                .into_iter()
                .chain(tuning.options.get("messageStream"))
                .cloned()
                .collect(),
            pods: Some(crate::model::label_map(&milvus_pods(&tuning.service))),
            // Milvus's components and its etcd talk among themselves; the
            // operator checks etcd's health on its client port.
            members: vec![
                Members::new("members", &milvus_pods(&tuning.service)),
                Members::new(
                    "etcd",
                    &[
                        ("app.kubernetes.io/name", "etcd"),
                        ("app.kubernetes.io/instance", &etcd_release),
                    ],
                )
                .operated(&[ETCD]),
            ],
            ..Supplied::default()
        },
    }
}

/// The options of cluster mode: required there, each naming a service of
/// the right blueprint, the user one its store lists; refused in standalone
/// mode, which would ignore them.
fn check_options(check: &OptionCheck<'_>) -> Vec<crate::diag::Diagnostic> {
    let mut errors = Vec::new();
    if *check.mode != CLUSTER {
        for name in ["objectStore", "objectStoreUser", "messageStream"] {
            if let Some(value) = check.get(name) {
                errors.push(
                    check
                        .error(
                            "unsupported-option",
                            format!("the option `{name}` is for `mode: cluster`"),
                            value.span,
                            "not used by standalone",
                        )
                        .help("remove it, or write `mode: cluster`"),
                );
            }
        }
        return errors;
    }
    for (name, blueprint, label) in [
        ("objectStore", "minio", "needs an object store"),
        ("messageStream", "kafka", "needs a message stream"),
    ] {
        let Some(value) = check.get(name) else {
            errors.push(
                check
                    .error(
                        "missing-option",
                        format!("a Milvus cluster needs the option `{name}`"),
                        check.span,
                        label,
                    )
                    .help(format!(
                        "name the platform's `{blueprint}` service: `options: {{ {name}: NAME }}`"
                    )),
            );
            continue;
        };
        let sibling = check.siblings.iter().find(|s| s.name == value.value);
        if sibling.is_some_and(|s| s.blueprint.as_deref() != Some(blueprint)) {
            errors.push(
                check
                    .error(
                        "invalid-option",
                        format!("`{}` is not a `{blueprint}` service", value.value),
                        value.span,
                        "wrong blueprint",
                    )
                    .help(format!("name a service with `blueprint: {blueprint}`")),
            );
            continue;
        }
        if name == "objectStore"
            && let Some(store) = sibling
        {
            let user = check
                .get("objectStoreUser")
                .map_or((check.service, value.span), |u| (u.value.as_str(), u.span));
            if !store.users.iter().any(|u| u.name == user.0) {
                errors.push(
                    check
                        .error(
                            "invalid-option",
                            format!("`{}` lists no user `{}`", store.name, user.0),
                            user.1,
                            "no such user",
                        )
                        .help(format!(
                            "add `users: {{ {}: [BUCKET] }}` to `{}`, or name one of its users with `objectStoreUser`",
                            user.0, store.name
                        )),
                );
            }
        }
    }
    errors
}

/// What the cluster's pods are: `replicas` of each component at the
/// service's size, and the etcd members with their volumes.
fn pods(service: &Service, tuning: &Tuning) -> Vec<PodGroup> {
    if !cluster(tuning) {
        return vec![PodGroup::of(service)];
    }
    let mut groups: Vec<PodGroup> = COMPONENTS
        .iter()
        .map(|component| PodGroup {
            name: format!("{}-{}", service.name, component.to_ascii_lowercase()),
            pvcs: 0,
            storage: crate::quantity::Quantity::default(),
            ..PodGroup::of(service)
        })
        .collect();
    let members = etcd_members(tuning);
    groups.push(PodGroup {
        name: format!("{}-etcd", service.name),
        pods: members,
        resources: ETCD_SIZE.resources(),
        gpu: 0,
        pvcs: members,
        storage: service
            .storage
            .as_ref()
            .map(|v| v.size.times(u64::from(members)))
            .unwrap_or_default(),
        pool: service.pool.clone(),
    });
    groups
}

/// The `Milvus` resource of cluster mode, the ServiceAccount its pods run
/// as (their identity in the mesh and to NetworkPolicies' callers), and what
/// lets the operator check the store and the stream from its namespace.
fn objects(platform: &Platform, service: &Service, tuning: &Tuning) -> Vec<Value> {
    if !cluster(tuning) {
        return Vec::new();
    }
    let replicated = service.replicas > 1;
    let mut components = json!({
        "image": service.image,
        "serviceAccountName": service.name,
        "resources": crate::render::resource_values(&service.resources, service.rare.gpu),
    });
    let pool = recipe::pool_scheduling(platform, service);
    for component in COMPONENTS {
        components[component] = json!({ "replicas": service.replicas });
    }
    components["proxy"]["serviceType"] = json!("ClusterIP");
    let user = store_user(tuning);
    let store = tuning
        .options
        .get("objectStore")
        .and_then(|name| platform.service(name));
    let bucket = store
        .and_then(|s| s.tuning.as_ref())
        .and_then(|t| t.users.iter().find(|u| u.name == user))
        .and_then(|u| u.buckets.first())
        .cloned()
        .unwrap_or_default();
    let mut config = json!({ "minio": { "bucketName": bucket, "rootPath": service.name } });
    if replicated {
        // Coordinators in pairs: one active, the other standing by in etcd.
        for coordinator in ["rootCoord", "dataCoord", "queryCoord", "indexCoord"] {
            config[coordinator] = json!({ "enableActiveStandby": true });
        }
    }
    let stream = tuning
        .options
        .get("messageStream")
        .and_then(|name| platform.service(name));
    let mut etcd_values = json!({
        "replicaCount": etcd_members(tuning),
        "persistence": { "size": recipe::storage_size(service) },
        "resources": ETCD_SIZE.json(),
    });
    if let Some(class) = service.storage.as_ref().and_then(|s| s.class.as_ref()) {
        etcd_values["persistence"]["storageClass"] = json!(class);
    }
    // The components and the etcd members on the service's node pool (the
    // Bitnami chart's keys are the pod spec's).
    for key in ["nodeSelector", "tolerations"] {
        if let Some(value) = pool.as_ref().and_then(|p| p.get(key)) {
            components[key] = value.clone();
            etcd_values[key] = value.clone();
        }
    }
    if let Some(refs) = crate::render::pull_secret_refs(platform, service.image.as_deref()) {
        components["imagePullSecrets"] = refs;
    }
    let address = |s: Option<&Service>, field: &str| {
        s.and_then(|s| s.exported(field))
            .unwrap_or_default()
            .to_string()
    };
    let milvus = json!({
        "apiVersion": "milvus.io/v1beta1",
        "kind": "Milvus",
        "metadata": crate::render::metadata(platform, service, &service.name),
        "spec": {
            "mode": "cluster",
            "components": components,
            "config": config,
            "dependencies": {
                "etcd": { "inCluster": { "deletionPolicy": "Retain", "pvcDeletion": false, "values": etcd_values } },
                "storage": {
                    "external": true,
                    "type": "MinIO",
                    "endpoint": address(store, "address"),
                    "secretRef": store.map(|s| super::minio::user_secret_name(&s.name, user)).unwrap_or_default(),
                },
                "msgStreamType": "kafka",
                "kafka": { "external": true, "brokerList": [address(stream, "bootstrap")] },
            },
        },
    });
    let mut account = crate::render::metadata(platform, service, &service.name);
    account["namespace"] = json!(service.namespace);
    let mut out = vec![
        milvus,
        json!({
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": account,
            "automountServiceAccountToken": false,
        }),
    ];
    if platform.network.policies {
        out.extend(operator_checks(platform, service, tuning, [store, stream]));
    }
    out
}

/// The operator connects to the store and the stream before it deploys
/// Milvus (it checks that they answer): an ingress to each from the
/// operator's pods, and, when a tier of the platform installs the operator,
/// the egress from its namespace.
fn operator_checks(
    platform: &Platform,
    service: &Service,
    tuning: &Tuning,
    dependencies: [Option<&Service>; 2],
) -> Vec<Value> {
    let operator = match &tuning.operator_namespace {
        Some(namespace) => json!({
            "namespaceSelector": { "matchLabels": { "kubernetes.io/metadata.name": namespace } },
            "podSelector": { "matchLabels": { OPERATOR_POD.0: OPERATOR_POD.1 } },
        }),
        None => json!({
            "namespaceSelector": {},
            "podSelector": { "matchLabels": { OPERATOR_POD.0: OPERATOR_POD.1 } },
        }),
    };
    let mut out = Vec::new();
    let mut egress = Vec::new();
    for dependency in dependencies.into_iter().flatten() {
        let Some(port) = dependency.ports.first() else {
            continue;
        };
        let ports = json!([{ "protocol": "TCP", "port": port.number }]);
        let mut meta = crate::render::metadata(
            platform,
            service,
            &format!("{}-operator-to-{}", service.name, dependency.name),
        );
        meta["namespace"] = json!(dependency.namespace);
        out.push(json!({
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": meta,
            "spec": {
                "podSelector": { "matchLabels": crate::render::network::pod_selector(platform, dependency) },
                "policyTypes": ["Ingress"],
                "ingress": [{ "from": [operator.clone()], "ports": ports.clone() }],
            },
        }));
        egress.push(json!({
            "to": [crate::render::network::service_peer(platform, dependency)],
            "ports": ports,
        }));
    }
    if let Some(namespace) = tuning
        .operator_namespace
        .as_ref()
        .filter(|n| platform.namespaces.iter().any(|own| own.name == **n))
        && !egress.is_empty()
    {
        let mut meta = crate::render::metadata(
            platform,
            service,
            &format!("{}-operator-checks", service.name),
        );
        meta["namespace"] = json!(namespace);
        out.push(json!({
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": meta,
            "spec": {
                "podSelector": { "matchLabels": { OPERATOR_POD.0: OPERATOR_POD.1 } },
                "policyTypes": ["Egress"],
                "egress": egress,
            },
        }));
    }
    out
}
