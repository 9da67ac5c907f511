//! Evaluates the rendered NetworkPolicies of every example, in every
//! environment, for every pair of services and every port: traffic must be
//! allowed exactly where the call graph has an edge.
//!
//! The evaluator below is written from the Kubernetes NetworkPolicy
//! semantics, independently of the renderer: a connection is allowed when
//! the source may send it (no egress policy selects the source, or one has a
//! matching rule) and the destination may receive it (likewise for ingress).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;
use strata_core::model::{self, Peer, Platform, Protocol};
use strata_core::render::{self, Assets, network::has_peers};
use strata_core::source::SourceFile;
use strata_core::spec;

struct Directory(PathBuf);

impl Assets for Directory {
    fn read(&self, path: &str) -> Result<String, String> {
        std::fs::read_to_string(self.0.join(path)).map_err(|e| e.to_string())
    }
}

/// A pod as policies see it.
#[derive(Clone)]
struct Pod {
    namespace: String,
    labels: BTreeMap<String, String>,
}

fn matches_labels(selector: &Value, labels: &BTreeMap<String, String>) -> bool {
    let labels_ok = selector
        .get("matchLabels")
        .and_then(Value::as_object)
        .is_none_or(|wanted| {
            wanted
                .iter()
                .all(|(k, v)| labels.get(k).map(String::as_str) == v.as_str())
        });
    let expressions_ok = selector
        .get("matchExpressions")
        .and_then(Value::as_array)
        .is_none_or(|expressions| {
            expressions.iter().all(|e| {
                let value = labels.get(e["key"].as_str().unwrap());
                let values: Vec<&str> = e["values"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|v| v.as_str().unwrap())
                    .collect();
                match e["operator"].as_str().unwrap() {
                    "In" => value.is_some_and(|v| values.contains(&v.as_str())),
                    "NotIn" => value.is_none_or(|v| !values.contains(&v.as_str())),
                    "Exists" => value.is_some(),
                    "DoesNotExist" => value.is_none(),
                    other => panic!("unknown selector operator {other}"),
                }
            })
        });
    labels_ok && expressions_ok
}

fn peer_matches(peer: &Value, policy_namespace: &str, pod: &Pod) -> bool {
    if peer.get("ipBlock").is_some() {
        return false;
    }
    let namespace_ok = match peer.get("namespaceSelector") {
        Some(selector) => {
            let labels = BTreeMap::from([(
                "kubernetes.io/metadata.name".to_string(),
                pod.namespace.clone(),
            )]);
            matches_labels(selector, &labels)
        }
        None => pod.namespace == policy_namespace,
    };
    namespace_ok
        && peer
            .get("podSelector")
            .is_none_or(|s| matches_labels(s, &pod.labels))
}

fn port_matches(rule: &Value, port: u16, protocol: &str) -> bool {
    rule.get("ports")
        .and_then(Value::as_array)
        .is_none_or(|ports| {
            ports.iter().any(|p| {
                p["port"].as_u64() == Some(u64::from(port))
                    && p.get("protocol").and_then(Value::as_str).unwrap_or("TCP") == protocol
            })
        })
}

/// Whether `policies` let `subject` send (Egress) to / receive (Ingress) from `other`.
fn side_allows(
    policies: &[&Value],
    direction: &str,
    subject: &Pod,
    other: &Pod,
    port: u16,
    protocol: &str,
) -> bool {
    let (rules_key, peers_key) = if direction == "Ingress" {
        ("ingress", "from")
    } else {
        ("egress", "to")
    };
    let selecting: Vec<&&Value> = policies
        .iter()
        .filter(|p| p["metadata"]["namespace"] == subject.namespace.as_str())
        .filter(|p| {
            p["spec"]["policyTypes"]
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t == direction)
        })
        .filter(|p| matches_labels(&p["spec"]["podSelector"], &subject.labels))
        .collect();
    if selecting.is_empty() {
        return true;
    }
    selecting.iter().any(|policy| {
        let namespace = policy["metadata"]["namespace"].as_str().unwrap();
        policy["spec"][rules_key]
            .as_array()
            .into_iter()
            .flatten()
            .any(|rule| {
                let peer_ok = rule
                    .get(peers_key)
                    .and_then(Value::as_array)
                    .is_none_or(|peers| {
                        peers
                            .iter()
                            .any(|peer| peer_matches(peer, namespace, other))
                    });
                peer_ok && port_matches(rule, port, protocol)
            })
    })
}

fn allowed(policies: &[&Value], from: &Pod, to: &Pod, port: u16, protocol: &str) -> bool {
    side_allows(policies, "Egress", from, to, port, protocol)
        && side_allows(policies, "Ingress", to, from, port, protocol)
}

fn string_map(value: &Value) -> BTreeMap<String, String> {
    value
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect()
}

fn with(mut labels: BTreeMap<String, String>, pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    // The operator's own labels are written last: they win over any a
    // template asks for.
    for (k, v) in pairs {
        labels.insert((*k).to_string(), (*v).to_string());
    }
    labels
}

/// The pods an operator runs for the custom resources rendered for
/// `name`, the pod serving clients first, labelled as the operator labels
/// them (from the operators' documentation, not from the renderer): the
/// labels a template asks for, then the operator's own.
fn operator_pods(objects: &[render::Object], name: &str, namespace: &str) -> Vec<(String, Pod)> {
    let of = |kind: &'static str| {
        objects
            .iter()
            .filter(move |o| o.service.as_deref() == Some(name) && o.kind() == kind)
            .map(|o| &o.value)
    };
    let pod = |labels| Pod {
        namespace: namespace.to_string(),
        labels,
    };
    let mut pods = Vec::new();
    for cluster in of("Cluster") {
        let cluster_name = cluster["metadata"]["name"].as_str().unwrap();
        let instance = format!("{cluster_name}-1");
        let labels = with(
            string_map(&cluster["spec"]["inheritedMetadata"]["labels"]),
            &[
                ("cnpg.io/cluster", cluster_name),
                ("cnpg.io/instanceName", &instance),
                ("cnpg.io/podRole", "instance"),
                ("cnpg.io/instanceRole", "primary"),
                ("role", "primary"),
                // Recommended labels of recent releases: they would replace
                // Strata's, were those inherited.
                ("app.kubernetes.io/name", "postgresql"),
                ("app.kubernetes.io/instance", cluster_name),
                ("app.kubernetes.io/managed-by", "cloudnative-pg"),
            ],
        );
        pods.push(("instance".to_string(), pod(labels)));
        let job = with(
            BTreeMap::new(),
            &[
                ("cnpg.io/cluster", cluster_name),
                ("cnpg.io/jobRole", "join"),
            ],
        );
        pods.push(("join job".to_string(), pod(job)));
    }
    for kafka in of("Kafka") {
        let cluster = kafka["metadata"]["name"].as_str().unwrap();
        let node_name = format!("{cluster}-kafka");
        let part_of = format!("strimzi-{cluster}");
        for pool in of("KafkaNodePool") {
            let mut labels = string_map(&pool["spec"]["template"]["pod"]["metadata"]["labels"]);
            labels.extend(string_map(
                &kafka["spec"]["kafka"]["template"]["pod"]["metadata"]["labels"],
            ));
            let labels = with(
                labels,
                &[
                    ("strimzi.io/cluster", cluster),
                    ("strimzi.io/kind", "Kafka"),
                    ("strimzi.io/name", &node_name),
                    (
                        "strimzi.io/pool-name",
                        pool["metadata"]["name"].as_str().unwrap(),
                    ),
                    ("strimzi.io/component-type", "kafka"),
                    ("strimzi.io/broker-role", "true"),
                    ("strimzi.io/controller-role", "true"),
                    ("app.kubernetes.io/name", "kafka"),
                    ("app.kubernetes.io/instance", cluster),
                    ("app.kubernetes.io/part-of", &part_of),
                    ("app.kubernetes.io/managed-by", "strimzi-cluster-operator"),
                ],
            );
            pods.push(("node".to_string(), pod(labels)));
        }
        let entity = format!("{cluster}-entity-operator");
        let labels = with(
            BTreeMap::new(),
            &[
                ("strimzi.io/cluster", cluster),
                ("strimzi.io/kind", "Kafka"),
                ("strimzi.io/name", &entity),
                ("strimzi.io/component-type", "entity-operator"),
                ("app.kubernetes.io/name", "entity-operator"),
                ("app.kubernetes.io/instance", cluster),
            ],
        );
        pods.push(("entity operator".to_string(), pod(labels)));
    }
    for chi in of("ClickHouseInstallation") {
        let installation = chi["metadata"]["name"].as_str().unwrap();
        let template = &chi["spec"]["templates"]["podTemplates"][0];
        let cluster = chi["spec"]["configuration"]["clusters"][0]["name"]
            .as_str()
            .unwrap();
        let labels = with(
            string_map(&template["metadata"]["labels"]),
            &[
                ("clickhouse.altinity.com/chi", installation),
                ("clickhouse.altinity.com/namespace", namespace),
                ("clickhouse.altinity.com/cluster", cluster),
                ("clickhouse.altinity.com/shard", "0"),
                ("clickhouse.altinity.com/replica", "0"),
                ("clickhouse.altinity.com/app", "chop"),
            ],
        );
        pods.push(("server".to_string(), pod(labels)));
    }
    for redis in of("RedisCluster") {
        let name = redis["metadata"]["name"].as_str().unwrap();
        for role in ["leader", "follower"] {
            let app = format!("{name}-{role}");
            let labels = with(
                BTreeMap::new(),
                &[
                    ("app", &app),
                    ("redis_setup_type", "cluster"),
                    ("role", role),
                ],
            );
            pods.push((role.to_string(), pod(labels)));
        }
    }
    for elasticsearch in of("Elasticsearch") {
        let name = elasticsearch["metadata"]["name"].as_str().unwrap();
        let set = &elasticsearch["spec"]["nodeSets"][0];
        let statefulset = format!("{name}-es-{}", set["name"].as_str().unwrap());
        let labels = with(
            string_map(&set["podTemplate"]["metadata"]["labels"]),
            &[
                ("elasticsearch.k8s.elastic.co/cluster-name", name),
                (
                    "elasticsearch.k8s.elastic.co/statefulset-name",
                    &statefulset,
                ),
                ("common.k8s.elastic.co/type", "elasticsearch"),
            ],
        );
        pods.push(("node".to_string(), pod(labels)));
    }
    for cluster in of("InnoDBCluster") {
        let name = cluster["metadata"]["name"].as_str().unwrap();
        // The MySQL Operator's Service `NAME` selects the routers.
        for component in ["mysqlrouter", "mysqld"] {
            let labels = with(
                BTreeMap::new(),
                &[
                    ("mysql.oracle.com/cluster", name),
                    ("component", component),
                    ("tier", "mysql"),
                ],
            );
            pods.push((component.to_string(), pod(labels)));
        }
    }
    for milvus in of("Milvus") {
        let name = milvus["metadata"]["name"].as_str().unwrap();
        // The proxies serve clients; every component carries the
        // instance's labels and its own `component`.
        for component in ["proxy", "mixcoord", "querynode", "datanode", "indexnode"] {
            let labels = with(
                string_map(&milvus["spec"]["components"]["podLabels"]),
                &[
                    ("app.kubernetes.io/name", "milvus"),
                    ("app.kubernetes.io/instance", name),
                    ("app.kubernetes.io/component", component),
                    ("app.kubernetes.io/managed-by", "milvus-operator"),
                ],
            );
            pods.push((component.to_string(), pod(labels)));
        }
        // Its etcd, a Helm release `NAME-etcd` of the Bitnami chart.
        let release = format!("{name}-etcd");
        let labels = with(
            BTreeMap::new(),
            &[
                ("app.kubernetes.io/name", "etcd"),
                ("app.kubernetes.io/instance", &release),
                ("app.kubernetes.io/component", "etcd"),
            ],
        );
        pods.push(("etcd".to_string(), pod(labels)));
    }
    for cluster in of("RayCluster") {
        let name = cluster["metadata"]["name"].as_str().unwrap();
        let head = &cluster["spec"]["headGroupSpec"];
        let worker = &cluster["spec"]["workerGroupSpecs"][0];
        let group = worker["groupName"].as_str().unwrap();
        for (role, spec, group) in [("head", head, "headgroup"), ("worker", worker, group)] {
            let labels = with(
                string_map(&spec["template"]["metadata"]["labels"]),
                &[
                    ("ray.io/cluster", name),
                    ("ray.io/node-type", role),
                    ("ray.io/group", group),
                    ("ray.io/is-ray-node", "yes"),
                    // KubeRay's own, over the template's.
                    ("app.kubernetes.io/name", "kuberay"),
                    ("app.kubernetes.io/created-by", "kuberay-operator"),
                ],
            );
            pods.push((role.to_string(), pod(labels)));
        }
    }
    for prometheus in of("Prometheus") {
        let name = prometheus["metadata"]["name"].as_str().unwrap();
        let labels = with(
            string_map(&prometheus["spec"]["podMetadata"]["labels"]),
            &[
                ("app.kubernetes.io/name", "prometheus"),
                ("app.kubernetes.io/managed-by", "prometheus-operator"),
                ("app.kubernetes.io/instance", name),
                ("prometheus", name),
                ("operator.prometheus.io/name", name),
                ("operator.prometheus.io/shard", "0"),
            ],
        );
        pods.push(("server".to_string(), pod(labels)));
    }
    for chk in of("ClickHouseKeeperInstallation") {
        let labels = with(
            BTreeMap::new(),
            &[
                (
                    "clickhouse-keeper.altinity.com/chk",
                    chk["metadata"]["name"].as_str().unwrap(),
                ),
                ("clickhouse-keeper.altinity.com/app", "chop"),
            ],
        );
        pods.push(("keeper".to_string(), pod(labels)));
    }
    pods
}

/// The pod of a service that serves its callers: its workload's template,
/// or the pod its operator runs.
fn pod_of(objects: &[render::Object], platform: &Platform, name: &str) -> Pod {
    let service = platform.service(name).unwrap();
    let workload = objects.iter().find(|o| {
        o.service.as_deref() == Some(name)
            && o.name() == name
            && ["Deployment", "StatefulSet", "DaemonSet"].contains(&o.kind())
    });
    match workload {
        Some(workload) => Pod {
            namespace: service.namespace.clone(),
            labels: string_map(&workload.value["spec"]["template"]["metadata"]["labels"]),
        },
        None => {
            operator_pods(objects, name, &service.namespace)
                .into_iter()
                .next()
                .unwrap_or_else(|| panic!("no workload for {name}"))
                .1
        }
    }
}

/// The pods of a service's companions (a Sentinel group), by their workloads.
fn companion_pods(
    objects: &[render::Object],
    service: &model::Service,
) -> Vec<(model::Service, Pod)> {
    service
        .companions()
        .into_iter()
        .map(|companion| {
            let workload = objects
                .iter()
                .find(|o| {
                    o.kind() == "StatefulSet"
                        && o.name() == companion.name
                        && o.namespace() == service.namespace
                })
                .unwrap_or_else(|| panic!("no workload for {}", companion.name));
            let pod = Pod {
                namespace: service.namespace.clone(),
                labels: string_map(&workload.value["spec"]["template"]["metadata"]["labels"]),
            };
            (companion, pod)
        })
        .collect()
}

fn protocol(port: &model::Port) -> &'static str {
    if port.protocol == Protocol::Udp {
        "UDP"
    } else {
        "TCP"
    }
}

fn examples() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let mut specs: Vec<PathBuf> = std::fs::read_dir(root)
        .unwrap()
        .map(|e| e.unwrap().path().join("platform.yaml"))
        .filter(|p| p.exists())
        .collect();
    specs.sort();
    specs
}

/// The ports `from` may reach on `to` by the spec's graph.
fn expected(platform: &Platform, from: usize, to: usize) -> BTreeSet<(u16, &'static str)> {
    let target = &platform.services[to];
    let mut ports = BTreeSet::new();
    let edge = platform
        .edges
        .iter()
        .any(|e| e.from.0 == from && e.to.0 == to);
    // Members of a blueprint's group (a Sentinel group, an operator's pods)
    // talk among themselves, replicated or not.
    let members = target
        .tuning
        .as_ref()
        .is_some_and(|t| !t.supplied.members.is_empty());
    if edge || (from == to && (has_peers(target) || members)) {
        ports.extend(target.ports.iter().map(|p| (p.number, protocol(p))));
    }
    // A group's members reach each other on every port: the sidecar's
    // merged metrics port too.
    if from == to
        && members
        && let Some(port) = render::scrape_port(platform, target)
    {
        ports.insert((port, "TCP"));
    }
    if matches!(platform.network.scraper, Peer::Service(s) if s.0 == from)
        && let Some(port) = render::scrape_port(platform, target)
        && from != to
    {
        ports.insert((port, "TCP"));
    }
    ports
}

#[test]
fn traffic_is_allowed_exactly_along_the_edges() {
    let mut checked_pairs = 0;
    for path in examples() {
        let file = SourceFile::new(
            path.display().to_string(),
            std::fs::read_to_string(&path).unwrap(),
        );
        let doc = spec::parse(&file).unwrap();
        let mut environments = vec![None];
        environments.extend(model::environment_names(&doc.spec).into_iter().map(Some));
        for env in environments {
            let platform = strata_core::resolve(&doc, env).unwrap();
            if !platform.network.policies {
                continue;
            }
            let set = render::render(&platform, &Directory(path.parent().unwrap().to_path_buf()))
                .unwrap();
            let policies: Vec<&Value> = set
                .objects
                .iter()
                .filter(|o| o.kind() == "NetworkPolicy")
                .map(|o| &o.value)
                .collect();
            let running: Vec<usize> = (0..platform.services.len())
                .filter(|&i| platform.services[i].kind.is_long_running())
                .collect();
            let pods: BTreeMap<usize, Pod> = running
                .iter()
                .map(|&i| {
                    (
                        i,
                        pod_of(&set.objects, &platform, &platform.services[i].name),
                    )
                })
                .collect();
            for &from in &running {
                for &to in &running {
                    let target = &platform.services[to];
                    let actual: BTreeSet<(u16, &'static str)> = target
                        .ports
                        .iter()
                        .map(|p| (p.number, protocol(p)))
                        // In a mesh, the sidecar's merged metrics port too.
                        .chain(render::scrape_port(&platform, target).map(|p| (p, "TCP")))
                        .filter(|&(port, proto)| {
                            allowed(&policies, &pods[&from], &pods[&to], port, proto)
                        })
                        .collect();
                    assert_eq!(
                        actual,
                        expected(&platform, from, to),
                        "{} ({env:?}): {} → {}",
                        path.display(),
                        platform.services[from].name,
                        target.name
                    );
                    checked_pairs += 1;
                }
            }
            // A blueprint's companions (Sentinels) are reached on their
            // ports by the service's callers and its own pods, by no one else,
            // and reach the service's pods.
            for &to in &running {
                let service = &platform.services[to];
                for (companion, pod) in companion_pods(&set.objects, service) {
                    for &from in &running {
                        let edge = from == to
                            || platform
                                .edges
                                .iter()
                                .any(|e| e.from.0 == from && e.to.0 == to);
                        for port in &companion.ports {
                            assert_eq!(
                                allowed(&policies, &pods[&from], &pod, port.number, protocol(port)),
                                edge,
                                "{} ({env:?}): {} → {}:{}",
                                path.display(),
                                platform.services[from].name,
                                companion.name,
                                port.number
                            );
                        }
                    }
                    for port in &service.ports {
                        assert!(
                            allowed(&policies, &pod, &pods[&to], port.number, protocol(port)),
                            "{}: {} → {}:{}",
                            path.display(),
                            companion.name,
                            service.name,
                            port.number
                        );
                    }
                }
            }
            // An external inside the cluster is reached on its ports by the
            // services that call it, and by no other.
            for (index, external) in platform.externals.iter().enumerate() {
                let model::Reach::Pods { namespace, labels } = &external.reach else {
                    continue;
                };
                let pod = Pod {
                    namespace: namespace.clone(),
                    labels: labels.clone(),
                };
                for &from in &running {
                    let calls = platform.services[from]
                        .externals
                        .iter()
                        .any(|c| c.external == index);
                    for (_, port) in &external.ports {
                        assert_eq!(
                            side_allows(&policies, "Egress", &pods[&from], &pod, *port, "TCP"),
                            calls,
                            "{} ({env:?}): {} → external {}:{port}",
                            path.display(),
                            platform.services[from].name,
                            external.name,
                        );
                    }
                }
            }
            // The pods a service spawns at run time are reached by that
            // service alone, on their ports, and reach the services they
            // call on those services' ports, no others.
            for &spawner in &running {
                let service = &platform.services[spawner];
                let Some(spawned) = &service.spawns else {
                    continue;
                };
                let pod = Pod {
                    namespace: service.namespace.clone(),
                    labels: spawned.labels.clone(),
                };
                for &other in &running {
                    let name = &platform.services[other].name;
                    for (_, port) in &spawned.ports {
                        assert_eq!(
                            allowed(&policies, &pods[&other], &pod, *port, "TCP"),
                            other == spawner,
                            "{} ({env:?}): {name} → pods spawned by {}:{port}",
                            path.display(),
                            service.name,
                        );
                    }
                    let called = spawned.calls.iter().any(|c| c.0 == other);
                    for port in &platform.services[other].ports {
                        assert_eq!(
                            allowed(&policies, &pod, &pods[&other], port.number, protocol(port)),
                            called,
                            "{} ({env:?}): pods spawned by {} → {name}:{}",
                            path.display(),
                            service.name,
                            port.number,
                        );
                    }
                }
            }
            // Every meshed pod reaches istiod, wherever it runs, and no other
            // pod of its namespace on istiod's ports.
            if let Peer::External { namespace, labels } = &platform.network.control_plane
                && platform.network.mesh.is_some()
            {
                let istiod = Pod {
                    namespace: namespace.clone(),
                    labels: labels.clone(),
                };
                let neighbour = Pod {
                    namespace: namespace.clone(),
                    labels: BTreeMap::from([("app".to_string(), "neighbour".to_string())]),
                };
                for &from in running
                    .iter()
                    .filter(|&&i| platform.in_mesh(&platform.services[i].namespace))
                {
                    let name = &platform.services[from].name;
                    assert!(
                        allowed(&policies, &pods[&from], &istiod, 15012, "TCP"),
                        "{} ({env:?}): {name} → istiod in {namespace}",
                        path.display(),
                    );
                    assert!(
                        !side_allows(&policies, "Egress", &pods[&from], &neighbour, 15012, "TCP"),
                        "{} ({env:?}): {name} → a neighbour of istiod",
                        path.display(),
                    );
                }
            }
            // Every namespace denies by default and still resolves names.
            for namespace in &platform.namespaces {
                let in_ns = |name: &str| {
                    policies.iter().any(|p| {
                        p["metadata"]["namespace"] == namespace.name.as_str()
                            && p["metadata"]["name"] == name
                    })
                };
                assert!(
                    in_ns("default-deny") && in_ns("allow-dns"),
                    "{}: {}",
                    path.display(),
                    namespace.name
                );
            }
        }
    }
    assert!(checked_pairs > 1000, "checked {checked_pairs} pairs");
}

#[test]
fn the_evaluator_denies_what_no_rule_allows() {
    let deny: Value = serde_json::json!({
        "metadata": { "namespace": "a" },
        "spec": { "podSelector": {}, "policyTypes": ["Ingress", "Egress"] },
    });
    let pod = Pod {
        namespace: "a".into(),
        labels: BTreeMap::new(),
    };
    assert!(!allowed(&[&deny], &pod, &pod, 80, "TCP"));
    assert!(
        allowed(&[], &pod, &pod, 80, "TCP"),
        "no policy, no isolation"
    );
}

#[test]
fn each_allow_is_needed() {
    let path = examples()
        .into_iter()
        .find(|p| p.to_string_lossy().contains("isa-cloud"))
        .unwrap();
    let file = SourceFile::new("isa", std::fs::read_to_string(&path).unwrap());
    let platform = strata_core::resolve(&spec::parse(&file).unwrap(), None).unwrap();
    let set = render::render(&platform, &Directory(path.parent().unwrap().to_path_buf())).unwrap();
    let all: Vec<&Value> = set
        .objects
        .iter()
        .filter(|o| o.kind() == "NetworkPolicy")
        .map(|o| &o.value)
        .collect();
    let client = pod_of(&set.objects, &platform, "redis-grpc");
    let redis = pod_of(&set.objects, &platform, "redis");
    assert!(allowed(&all, &client, &redis, 6379, "TCP"));
    for dropped in ["redis-ingress", "redis-grpc-egress"] {
        let fewer: Vec<&Value> = all
            .iter()
            .copied()
            .filter(|p| p["metadata"]["name"] != dropped)
            .collect();
        assert!(
            !allowed(&fewer, &client, &redis, 6379, "TCP"),
            "without {dropped} the call is denied"
        );
    }
    let dns_less: Vec<&Value> = all
        .iter()
        .copied()
        .filter(|p| p["metadata"]["name"] != "allow-dns")
        .collect();
    let dns = Pod {
        namespace: "kube-system".into(),
        labels: BTreeMap::from([("k8s-app".to_string(), "kube-dns".to_string())]),
    };
    assert!(allowed(&all, &client, &dns, 53, "UDP"));
    assert!(!allowed(&dns_less, &client, &dns, 53, "UDP"));
}

/// Raw manifests standing in for an operator's install files.
struct OperatorManifests;

impl Assets for OperatorManifests {
    fn read(&self, _: &str) -> Result<String, String> {
        Ok("apiVersion: v1\nkind: ConfigMap\nmetadata: { name: operator-config, namespace: cnpg-system }\ndata: {}\n".into())
    }
}

#[test]
fn operator_pods_and_companions_serve_clients_of_another_namespace() {
    let text = "platform: t
operators:
  cloudnative-pg: { tier: operators }
  strimzi: { installed: true }
  clickhouse-operator: { installed: true }
  redis-operator: { installed: true }
  eck-operator: { installed: true }
  kuberay-operator: { installed: true }
tiers:
  - name: operators
    namespace: cnpg-system
    manifests: [cnpg.yaml]
  - name: data
    namespace: data
    after: [operators]
    services:
      pg: { blueprint: postgresql, mode: ha }
      events: { blueprint: kafka, mode: strimzi }
      olap: { blueprint: clickhouse, mode: altinity }
      cache: { blueprint: redis, mode: sentinel }
      shards: { blueprint: redis, mode: cluster, shards: 3 }
      search: { blueprint: elasticsearch, mode: eck, options: { retention: 30d, retentionIndices: logs-* } }
      ray: { blueprint: ray }
      bystander: { image: ghcr.io/t/b:1.0.0, ports: { http: 8080 } }
  - name: apps
    namespace: apps
    services:
      api:
        image: ghcr.io/t/api:1.0.0
        ports: { http: 8080 }
        env: { PG: \"${pg.url}\", KAFKA: \"${events.bootstrap}\", CH: \"${olap.url}\", REDIS: \"${cache.url}\", SHARDS: \"${shards.url}\", SEARCH: \"${search.url}\", RAY: \"${ray.url}\" }
      idle: { image: ghcr.io/t/idle:1.0.0, ports: { http: 8080 } }
";
    let file = SourceFile::new("t.yaml", text);
    let platform = strata_core::resolve(&spec::parse(&file).unwrap(), None).unwrap();
    let set = render::render(&platform, &OperatorManifests).unwrap();
    let policies: Vec<&Value> = set
        .objects
        .iter()
        .filter(|o| o.kind() == "NetworkPolicy")
        .map(|o| &o.value)
        .collect();
    let pod = |name: &str| pod_of(&set.objects, &platform, name);
    let extra = |service: &str, role: &str| {
        operator_pods(&set.objects, service, "data")
            .into_iter()
            .find(|(r, _)| r == role)
            .unwrap_or_else(|| panic!("no {role} of {service}"))
            .1
    };
    let sentinel = companion_pods(&set.objects, platform.service("cache").unwrap())
        .remove(0)
        .1;
    let (api, idle, bystander) = (pod("api"), pod("idle"), pod("bystander"));
    let reach = |from: &Pod, to: &Pod, port: u16| allowed(&policies, from, to, port, "TCP");

    // The caller in `apps` reaches every store on its ports, and the Sentinels.
    for (store, port) in [
        ("pg", 5432),
        ("events", 9092),
        ("olap", 9000),
        ("olap", 8123),
        ("cache", 6379),
        ("shards", 6379),
        ("search", 9200),
        ("ray", 8265),
    ] {
        assert!(reach(&api, &pod(store), port), "api → {store}:{port}");
        assert!(!reach(&idle, &pod(store), port), "idle → {store}:{port}");
        assert!(
            !reach(&bystander, &pod(store), port),
            "bystander → {store}:{port}"
        );
    }
    assert!(reach(&api, &sentinel, 26379), "api → cache-sentinel:26379");
    assert!(!reach(&idle, &sentinel, 26379));
    assert!(!reach(&bystander, &sentinel, 26379));
    assert!(!reach(&api, &sentinel, 22), "only the member ports");

    // Group members talk among themselves; clients do not reach the rest.
    assert!(reach(&extra("pg", "join job"), &pod("pg"), 5432));
    assert!(reach(
        &extra("events", "entity operator"),
        &pod("events"),
        9091
    ));
    assert!(reach(&pod("olap"), &extra("olap", "keeper"), 2181));
    assert!(!reach(&api, &extra("olap", "keeper"), 2181));
    assert!(!reach(&api, &pod("events"), 9091));
    let retention = job_pod(&set.objects, "search-retention", "data");
    assert!(
        reach(&retention, &extra("search", "node"), 9200),
        "retention Job → search"
    );
    assert!(
        !reach(&retention, &pod("api"), 8080),
        "the Job reaches its cluster only"
    );
    // Cluster clients are redirected to any node: followers serve them too;
    // nodes gossip on the cluster bus among themselves only.
    let follower = extra("shards", "follower");
    assert!(reach(&api, &follower, 6379), "api → shards follower");
    assert!(reach(&pod("shards"), &follower, 16379), "cluster bus");
    assert!(!reach(&api, &follower, 16379));

    // Ray's nodes reach each other on any port (workers' dynamic ports);
    // clients reach the head only.
    let ray_worker = extra("ray", "worker");
    assert!(reach(&ray_worker, &pod("ray"), 6379), "worker → head GCS");
    assert!(reach(&pod("ray"), &ray_worker, 12345), "head → worker");
    assert!(reach(&ray_worker, &ray_worker, 23456), "worker → worker");
    assert!(!reach(&api, &ray_worker, 8265), "api → a worker");
    assert!(!reach(&bystander, &ray_worker, 12345));

    // Operators reach their ports only; CloudNativePG, installed by a tier,
    // only from that tier's namespace.
    let operator = |namespace: &str| Pod {
        namespace: namespace.into(),
        labels: BTreeMap::from([("app.kubernetes.io/name".to_string(), "operator".to_string())]),
    };
    for port in [8000, 5432] {
        assert!(
            reach(&operator("cnpg-system"), &pod("pg"), port),
            "cnpg → pg:{port}"
        );
        assert!(
            !reach(&operator("elsewhere"), &pod("pg"), port),
            "elsewhere → pg:{port}"
        );
    }
    assert!(!reach(&operator("cnpg-system"), &pod("pg"), 22));
    for port in [9090, 9091, 8443] {
        assert!(
            reach(&operator("strimzi"), &pod("events"), port),
            "strimzi → events:{port}"
        );
    }
    assert!(!reach(&operator("strimzi"), &pod("events"), 9092));
    assert!(reach(&operator("kuberay"), &pod("ray"), 8265));
    assert!(!reach(&operator("kuberay"), &pod("ray"), 6379));
    assert!(reach(&operator("clickhouse"), &pod("olap"), 8123));
    assert!(!reach(&operator("clickhouse"), &pod("olap"), 9000));
}

#[test]
fn an_innodb_cluster_is_reached_through_its_routers_only() {
    let path = examples()
        .into_iter()
        .find(|p| p.to_string_lossy().contains("one-data-studio"))
        .unwrap();
    let file = SourceFile::new("ods", std::fs::read_to_string(&path).unwrap());
    let platform = strata_core::resolve(&spec::parse(&file).unwrap(), None).unwrap();
    let set = render::render(&platform, &Directory(path.parent().unwrap().to_path_buf())).unwrap();
    let policies: Vec<&Value> = set
        .objects
        .iter()
        .filter(|o| o.kind() == "NetworkPolicy")
        .map(|o| &o.value)
        .collect();
    let mysql = platform.service("mysql").unwrap();
    let pods = operator_pods(&set.objects, "mysql", &mysql.namespace);
    let (router, server) = (&pods[0].1, &pods[1].1);
    let job = set
        .objects
        .iter()
        .find(|o| o.kind() == "Job" && o.name() == "mysql-databases")
        .map(|o| Pod {
            namespace: mysql.namespace.clone(),
            labels: string_map(&o.value["spec"]["template"]["metadata"]["labels"]),
        })
        .expect("a Job creates the databases");
    let client = pod_of(&set.objects, &platform, "data-api");
    assert!(allowed(&policies, &client, router, 6446, "TCP"));
    assert!(allowed(&policies, &client, router, 6447, "TCP"));
    assert!(
        !allowed(&policies, &client, server, 3306, "TCP"),
        "servers only behind the routers"
    );
    assert!(allowed(&policies, router, server, 3306, "TCP"));
    assert!(
        allowed(&policies, server, server, 33061, "TCP"),
        "group replication"
    );
    assert!(allowed(&policies, &job, router, 6446, "TCP"));
}

/// The pod of the Job `name`, by its template's labels.
fn job_pod(objects: &[render::Object], name: &str, namespace: &str) -> Pod {
    objects
        .iter()
        .find(|o| o.kind() == "Job" && o.name() == name)
        .map_or_else(
            || panic!("no Job {name}"),
            |o| Pod {
                namespace: namespace.to_string(),
                labels: string_map(&o.value["spec"]["template"]["metadata"]["labels"]),
            },
        )
}

#[test]
fn a_retention_job_reaches_its_elasticsearch() {
    let path = examples()
        .into_iter()
        .find(|p| p.to_string_lossy().contains("voice-assistant"))
        .unwrap();
    let file = SourceFile::new("va", std::fs::read_to_string(&path).unwrap());
    let platform = strata_core::resolve(&spec::parse(&file).unwrap(), None).unwrap();
    let set = render::render(&platform, &Directory(path.parent().unwrap().to_path_buf())).unwrap();
    let policies: Vec<&Value> = set
        .objects
        .iter()
        .filter(|o| o.kind() == "NetworkPolicy")
        .map(|o| &o.value)
        .collect();
    let elasticsearch = platform.service("elasticsearch").unwrap();
    let job = job_pod(
        &set.objects,
        "elasticsearch-retention",
        &elasticsearch.namespace,
    );
    let server = pod_of(&set.objects, &platform, "elasticsearch");
    assert!(allowed(&policies, &job, &server, 9200, "TCP"));
    let minio = pod_of(&set.objects, &platform, "minio");
    assert!(
        !allowed(&policies, &job, &minio, 9000, "TCP"),
        "its cluster only"
    );
    let stranger = pod_of(&set.objects, &platform, "redis");
    assert!(!allowed(&policies, &stranger, &server, 9200, "TCP"));
}

#[test]
fn a_bucket_job_reaches_its_minio() {
    let path = examples()
        .into_iter()
        .find(|p| p.to_string_lossy().contains("voice-assistant"))
        .unwrap();
    let file = SourceFile::new("va", std::fs::read_to_string(&path).unwrap());
    let platform = strata_core::resolve(&spec::parse(&file).unwrap(), None).unwrap();
    let set = render::render(&platform, &Directory(path.parent().unwrap().to_path_buf())).unwrap();
    let policies: Vec<&Value> = set
        .objects
        .iter()
        .filter(|o| o.kind() == "NetworkPolicy")
        .map(|o| &o.value)
        .collect();
    let minio = platform.service("minio").unwrap();
    let job = set
        .objects
        .iter()
        .find(|o| o.kind() == "Job" && o.name() == "minio-buckets")
        .map(|o| Pod {
            namespace: minio.namespace.clone(),
            labels: string_map(&o.value["spec"]["template"]["metadata"]["labels"]),
        })
        .expect("a Job makes the buckets");
    let server = pod_of(&set.objects, &platform, "minio");
    assert!(allowed(&policies, &job, &server, 9000, "TCP"));
    let stranger = pod_of(&set.objects, &platform, "redis");
    assert!(!allowed(&policies, &stranger, &server, 9000, "TCP"));
}

#[test]
fn a_milvus_cluster_s_pods_reach_their_etcd_store_and_stream_and_its_operator_checks_them() {
    let path = examples()
        .into_iter()
        .find(|p| p.to_string_lossy().contains("one-data-studio"))
        .unwrap();
    let file = SourceFile::new("ods", std::fs::read_to_string(&path).unwrap());
    let platform = strata_core::resolve(&spec::parse(&file).unwrap(), None).unwrap();
    let set = render::render(&platform, &Directory(path.parent().unwrap().to_path_buf())).unwrap();
    let policies: Vec<&Value> = set
        .objects
        .iter()
        .filter(|o| o.kind() == "NetworkPolicy")
        .map(|o| &o.value)
        .collect();
    let milvus = platform.service("milvus").unwrap();
    let pods: BTreeMap<String, Pod> = operator_pods(&set.objects, "milvus", &milvus.namespace)
        .into_iter()
        .collect();
    let reach = |from: &Pod, to: &Pod, port: u16| allowed(&policies, from, to, port, "TCP");
    let (minio, kafka, redis) = (
        pod_of(&set.objects, &platform, "minio"),
        pod_of(&set.objects, &platform, "kafka"),
        pod_of(&set.objects, &platform, "redis"),
    );
    // Every component, not only the proxies, keeps segments and messages.
    for component in ["querynode", "datanode", "indexnode", "mixcoord"] {
        let pod = &pods[component];
        assert!(reach(pod, &pods["etcd"], 2379), "{component} → etcd");
        assert!(reach(pod, &minio, 9000), "{component} → minio");
        assert!(reach(pod, &kafka, 9092), "{component} → kafka");
        assert!(reach(pod, &pods["proxy"], 19530), "{component} → proxy");
        assert!(!reach(pod, &redis, 6379), "{component} → redis");
    }
    assert!(
        !reach(&redis, &pods["etcd"], 2379),
        "etcd is Milvus's alone"
    );
    let operator = Pod {
        namespace: "milvus-operator".into(),
        labels: BTreeMap::from([(
            "app.kubernetes.io/name".to_string(),
            "milvus-operator".to_string(),
        )]),
    };
    assert!(reach(&operator, &minio, 9000), "operator → minio");
    assert!(reach(&operator, &kafka, 9092), "operator → kafka");
    assert!(reach(&operator, &pods["etcd"], 2379), "operator → etcd");
    assert!(!reach(&operator, &redis, 6379), "operator → redis");
}
