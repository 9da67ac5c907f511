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
    assert!(
        selector.get("matchExpressions").is_none(),
        "the evaluator handles matchLabels only"
    );
    selector
        .get("matchLabels")
        .and_then(Value::as_object)
        .is_none_or(|wanted| {
            wanted
                .iter()
                .all(|(k, v)| labels.get(k).map(String::as_str) == v.as_str())
        })
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

fn pod_of(objects: &[render::Object], platform: &Platform, name: &str) -> Pod {
    let service = platform.service(name).unwrap();
    let workload = objects
        .iter()
        .find(|o| {
            o.service.as_deref() == Some(name)
                && ["Deployment", "StatefulSet", "DaemonSet"].contains(&o.kind())
        })
        .unwrap_or_else(|| panic!("no workload for {name}"));
    let labels = workload.value["spec"]["template"]["metadata"]["labels"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect();
    Pod {
        namespace: service.namespace.clone(),
        labels,
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
    let proto = |p: &model::Port| {
        if p.protocol == Protocol::Udp {
            "UDP"
        } else {
            "TCP"
        }
    };
    let mut ports = BTreeSet::new();
    let edge = platform
        .edges
        .iter()
        .any(|e| e.from.0 == from && e.to.0 == to);
    if edge || (from == to && has_peers(target)) {
        ports.extend(target.ports.iter().map(|p| (p.number, proto(p))));
    }
    if matches!(platform.network.scraper, Peer::Service(s) if s.0 == from)
        && let Some(metrics) = &target.runtime.metrics
        && from != to
    {
        ports.insert((metrics.number, "TCP"));
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
            let platform = model::resolve(&doc, env).unwrap();
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
                        .map(|p| {
                            (
                                p.number,
                                if p.protocol == Protocol::Udp {
                                    "UDP"
                                } else {
                                    "TCP"
                                },
                            )
                        })
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
    let platform = model::resolve(&spec::parse(&file).unwrap(), None).unwrap();
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
