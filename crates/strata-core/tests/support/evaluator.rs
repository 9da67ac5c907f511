//! A NetworkPolicy evaluator written from the Kubernetes semantics,
//! independently of the renderer: a connection is allowed when the source
//! may send it (no egress policy selects the source, or one has a matching
//! rule) and the destination may receive it (likewise for ingress).

use std::collections::BTreeMap;

use serde_json::Value;

/// A pod as policies see it.
#[derive(Clone)]
pub(crate) struct Pod {
    pub(crate) namespace: String,
    pub(crate) labels: BTreeMap<String, String>,
}

impl Pod {
    /// A pod in `namespace` with these labels.
    pub(crate) fn new(namespace: &str, labels: &[(&str, &str)]) -> Self {
        Pod {
            namespace: namespace.to_string(),
            labels: labels
                .iter()
                .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
                .collect(),
        }
    }
}

/// Whether `policies` let `from` reach `to` on `port` over `protocol`
/// (`TCP` or `UDP`): `from` may send it and `to` may receive it.
pub(crate) fn allowed(
    policies: &[&Value],
    from: &Pod,
    to: &Pod,
    port: u16,
    protocol: &str,
) -> bool {
    side_allows(policies, "Egress", from, to, port, protocol)
        && side_allows(policies, "Ingress", to, from, port, protocol)
}

/// Whether `policies` let `subject` send (Egress) to / receive (Ingress) from `other`.
pub(crate) fn side_allows(
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
    // The pods here have no address, so an ipBlock matches none of them.
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
