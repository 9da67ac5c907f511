//! NetworkPolicy semantics, written from the Kubernetes documentation and
//! independently of the renderer: whether a set of policies lets one pod
//! reach another on a port. A connection is allowed when the source may
//! send it (no egress policy selects the source, or one has a matching
//! rule) and the destination may receive it (likewise for ingress).
//!
//! The NetworkPolicy tests judge the rendered policies with it, and
//! `strata verify` the live ones read from a cluster, so both mean the same
//! by "allowed". Policies are read as JSON and never trusted: a missing or
//! malformed field selects or allows nothing rather than panicking.

use std::collections::BTreeMap;

use serde_json::Value;

/// The label every namespace carries with its own name.
const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";

/// A pod as policies see it: its namespace and labels (pods here have no
/// address, so an `ipBlock` peer matches none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pod {
    /// Its namespace.
    pub namespace: String,
    /// Its labels.
    pub labels: BTreeMap<String, String>,
}

impl Pod {
    /// A pod in `namespace` with these labels.
    pub fn new(namespace: &str, labels: &[(&str, &str)]) -> Self {
        Pod {
            namespace: namespace.to_string(),
            labels: labels
                .iter()
                .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
                .collect(),
        }
    }
}

/// Which way traffic crosses a pod's policies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Into the pod.
    Ingress,
    /// Out of the pod.
    Egress,
}

impl Direction {
    /// The policy type naming it (`Ingress`, `Egress`).
    pub fn policy_type(self) -> &'static str {
        match self {
            Direction::Ingress => "Ingress",
            Direction::Egress => "Egress",
        }
    }
}

/// Whether `policies` let `from` reach `to` on `port` over `protocol`
/// (`TCP`, `UDP` or `SCTP`): `from` may send it and `to` may receive it.
pub fn allowed(policies: &[&Value], from: &Pod, to: &Pod, port: u16, protocol: &str) -> bool {
    side_allows(policies, Direction::Egress, from, to, port, protocol)
        && side_allows(policies, Direction::Ingress, to, from, port, protocol)
}

/// Whether `policies` let `subject` send to (egress) or receive from
/// (ingress) `other` on `port`.
pub fn side_allows(
    policies: &[&Value],
    direction: Direction,
    subject: &Pod,
    other: &Pod,
    port: u16,
    protocol: &str,
) -> bool {
    let selecting = selecting(policies, direction, subject);
    if selecting.is_empty() {
        return true;
    }
    let (rules_key, peers_key) = match direction {
        Direction::Ingress => ("ingress", "from"),
        Direction::Egress => ("egress", "to"),
    };
    selecting.iter().any(|policy| {
        let namespace = policy["metadata"]["namespace"].as_str().unwrap_or("");
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

/// The policies that isolate `subject` in `direction`: in its namespace,
/// of that type, selecting its labels.
pub fn selecting<'a>(
    policies: &[&'a Value],
    direction: Direction,
    subject: &Pod,
) -> Vec<&'a Value> {
    policies
        .iter()
        .copied()
        .filter(|p| p["metadata"]["namespace"] == subject.namespace.as_str())
        .filter(|p| policy_types(p).contains(&direction))
        .filter(|p| matches_labels(&p["spec"]["podSelector"], &subject.labels))
        .collect()
}

/// The types of a policy: `policyTypes` when given; otherwise `Ingress`,
/// plus `Egress` when it has egress rules, as the API server defaults them.
fn policy_types(policy: &Value) -> Vec<Direction> {
    match policy["spec"]["policyTypes"].as_array() {
        Some(types) => types
            .iter()
            .filter_map(|t| match t.as_str() {
                Some("Ingress") => Some(Direction::Ingress),
                Some("Egress") => Some(Direction::Egress),
                _ => None,
            })
            .collect(),
        None if policy["spec"].get("egress").is_some() => {
            vec![Direction::Ingress, Direction::Egress]
        }
        None => vec![Direction::Ingress],
    }
}

/// Whether a label selector matches `labels`; an empty selector matches
/// every set, a selector with an unknown operator none.
pub fn matches_labels(selector: &Value, labels: &BTreeMap<String, String>) -> bool {
    if !selector.is_object() {
        return false;
    }
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
                let value = e["key"].as_str().and_then(|k| labels.get(k));
                let values: Vec<&str> = e["values"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect();
                match e["operator"].as_str() {
                    Some("In") => value.is_some_and(|v| values.contains(&v.as_str())),
                    Some("NotIn") => value.is_none_or(|v| !values.contains(&v.as_str())),
                    Some("Exists") => value.is_some(),
                    Some("DoesNotExist") => value.is_none(),
                    _ => false,
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
            let labels =
                BTreeMap::from([(NAMESPACE_NAME_LABEL.to_string(), pod.namespace.clone())]);
            matches_labels(selector, &labels)
        }
        None => pod.namespace == policy_namespace,
    };
    namespace_ok
        && peer
            .get("podSelector")
            .is_none_or(|s| matches_labels(s, &pod.labels))
}

/// Whether a rule's ports take `port` over `protocol`: no ports take all;
/// a numbered port takes its number, or the range up to `endPort`. A named
/// port is matched by the pod's container ports, which are not known here:
/// it takes none.
fn port_matches(rule: &Value, port: u16, protocol: &str) -> bool {
    rule.get("ports")
        .and_then(Value::as_array)
        .is_none_or(|ports| {
            ports.iter().any(|p| {
                let protocol_ok =
                    p.get("protocol").and_then(Value::as_str).unwrap_or("TCP") == protocol;
                let number_ok = match (p.get("port"), p["endPort"].as_u64()) {
                    (None, _) => true,
                    (Some(start), end) => start.as_u64().is_some_and(|start| {
                        let port = u64::from(port);
                        start == port || end.is_some_and(|end| (start..=end).contains(&port))
                    }),
                };
                protocol_ok && number_ok
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(ns: &str, app: &str) -> Pod {
        Pod::new(ns, &[("app", app)])
    }

    #[test]
    fn without_policies_everything_is_allowed() {
        assert!(allowed(&[], &pod("a", "x"), &pod("b", "y"), 80, "TCP"));
    }

    #[test]
    fn default_deny_denies_and_an_allow_on_both_sides_admits() {
        let deny = json!({"metadata": {"namespace": "a", "name": "deny"},
            "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}});
        let out = json!({"metadata": {"namespace": "a", "name": "web-egress"},
            "spec": {"podSelector": {"matchLabels": {"app": "web"}}, "policyTypes": ["Egress"],
                "egress": [{"to": [{"podSelector": {"matchLabels": {"app": "api"}}}], "ports": [{"port": 8080}]}]}});
        let into = json!({"metadata": {"namespace": "a", "name": "api-ingress"},
            "spec": {"podSelector": {"matchLabels": {"app": "api"}}, "policyTypes": ["Ingress"],
                "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "web"}}}], "ports": [{"protocol": "TCP", "port": 8080}]}]}});
        let (web, api) = (pod("a", "web"), pod("a", "api"));
        assert!(!allowed(&[&deny], &web, &api, 8080, "TCP"));
        assert!(!allowed(&[&deny, &out], &web, &api, 8080, "TCP"));
        assert!(allowed(&[&deny, &out, &into], &web, &api, 8080, "TCP"));
        assert!(!allowed(&[&deny, &out, &into], &web, &api, 9090, "TCP"));
        assert!(!allowed(&[&deny, &out, &into], &web, &api, 8080, "UDP"));
        assert!(!allowed(&[&deny, &out, &into], &api, &web, 8080, "TCP"));
        assert_eq!(
            selecting(&[&deny, &out, &into], Direction::Egress, &web).len(),
            2
        );
    }

    #[test]
    fn namespaces_are_matched_by_their_name_label_or_the_policys_own() {
        let out = json!({"metadata": {"namespace": "a"},
            "spec": {"podSelector": {}, "policyTypes": ["Egress"],
                "egress": [{"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "b"}}}]}]}});
        assert!(allowed(&[&out], &pod("a", "x"), &pod("b", "y"), 1, "TCP"));
        assert!(!allowed(&[&out], &pod("a", "x"), &pod("c", "y"), 1, "TCP"));
        let same = json!({"metadata": {"namespace": "a"},
            "spec": {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{"to": [{"podSelector": {}}]}]}});
        assert!(allowed(&[&same], &pod("a", "x"), &pod("a", "y"), 1, "TCP"));
        assert!(!allowed(&[&same], &pod("a", "x"), &pod("b", "y"), 1, "TCP"));
    }

    #[test]
    fn types_default_as_the_api_server_defaults_them() {
        // No policyTypes and no egress rules: an ingress policy only.
        let ingress_only = json!({"metadata": {"namespace": "a"}, "spec": {"podSelector": {}}});
        assert!(side_allows(
            &[&ingress_only],
            Direction::Egress,
            &pod("a", "x"),
            &pod("b", "y"),
            1,
            "TCP"
        ));
        assert!(!side_allows(
            &[&ingress_only],
            Direction::Ingress,
            &pod("a", "x"),
            &pod("b", "y"),
            1,
            "TCP"
        ));
    }

    #[test]
    fn expressions_ranges_and_malformed_policies() {
        let selector = json!({"matchExpressions": [{"key": "app", "operator": "In", "values": ["a", "b"]},
            {"key": "tier", "operator": "DoesNotExist"}]});
        let labels = |pairs: &[(&str, &str)]| Pod::new("n", pairs).labels;
        assert!(matches_labels(&selector, &labels(&[("app", "b")])));
        assert!(!matches_labels(
            &selector,
            &labels(&[("app", "b"), ("tier", "x")])
        ));
        assert!(!matches_labels(
            &json!({"matchExpressions": [{"key": "app", "operator": "Sometimes"}]}),
            &labels(&[])
        ));
        let range = json!({"ports": [{"port": 8000, "endPort": 8100}]});
        assert!(port_matches(&range, 8080, "TCP"));
        assert!(!port_matches(&range, 8101, "TCP"));
        // A policy with nothing where fields should be selects nothing and
        // does not panic.
        let broken = json!({"metadata": {}, "spec": {"podSelector": "all", "policyTypes": [7]}});
        assert!(allowed(
            &[&broken],
            &pod("a", "x"),
            &pod("a", "y"),
            1,
            "TCP"
        ));
    }
}
