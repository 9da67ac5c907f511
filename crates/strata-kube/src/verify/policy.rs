//! Declared calls under the live NetworkPolicies, for the live pods of
//! both sides, judged with [`strata_core::network_policy`], the evaluator
//! the tests use.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};
use strata_core::kind;
use strata_core::model::{Platform, Protocol, Service};
use strata_core::network_policy::{self, Direction, Pod};
use strata_core::render::{self, Object, RenderedSet};

use super::{Check, Next, Outcome};
use crate::cluster::{Cluster, ClusterError, ObjectId};

/// A service's pods as policies see them: for pods an operator runs, the
/// labels the policies find them by; otherwise its workload's pod template
/// (the one named after it first, then any; a Job's or a CronJob's when it
/// has no workload).
fn pod_of(platform: &Platform, set: &RenderedSet, service: &Service) -> Pod {
    let operated = service.tuning.as_ref().is_some_and(|t| t.mode.operated);
    let template = |o: &Object| -> Option<Map<String, Value>> {
        let labels = match o.kind() {
            k if kind::is_workload(k) || k == kind::JOB => {
                &o.value["spec"]["template"]["metadata"]["labels"]
            }
            kind::CRON_JOB => {
                &o.value["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"]
            }
            _ => return None,
        };
        labels.as_object().cloned()
    };
    let own: Vec<&Object> = set
        .objects
        .iter()
        .filter(|o| o.service.as_deref() == Some(&service.name))
        .collect();
    let rank = |o: &&Object| (!kind::is_workload(o.kind()), o.name() != service.name);
    let mut ranked = own;
    ranked.sort_by_key(rank);
    let labels = ranked
        .into_iter()
        .filter(|_| !operated)
        .find_map(template)
        .unwrap_or_else(|| {
            render::network::pod_selector(platform, service)
                .as_object()
                .cloned()
                .unwrap_or_default()
        });
    Pod {
        namespace: service.namespace.clone(),
        labels: labels
            .into_iter()
            .filter_map(|(k, v)| v.as_str().map(|v| (k, v.to_string())))
            .collect(),
    }
}

/// The pods judged for one service: each live pod's name (none for the
/// labels the spec renders) and labels.
type Pods = Vec<(Option<String>, Pod)>;

/// Each declared call, on each port of the service called: admitted by
/// the live NetworkPolicies of the caller (egress) and the called (ingress),
/// for the pods that run.
pub(super) async fn calls(
    cluster: &Cluster,
    platform: &Platform,
    set: &RenderedSet,
) -> Result<Vec<Outcome>, ClusterError> {
    let namespaces: BTreeSet<&str> = platform
        .services
        .iter()
        .map(|s| s.namespace.as_str())
        .collect();
    let mut live = Vec::new();
    for namespace in namespaces {
        live.extend(
            cluster
                .list("networking.k8s.io/v1", "NetworkPolicy", namespace, "")
                .await?,
        );
    }
    let mut pods: BTreeMap<usize, Pods> = BTreeMap::new();
    for edge in &platform.edges {
        for id in [edge.from().0, edge.to().0] {
            if let std::collections::btree_map::Entry::Vacant(entry) = pods.entry(id) {
                let service = &platform.services[id];
                entry.insert(live_pods(cluster, platform, set, service).await?);
            }
        }
    }
    Ok(judge(platform, &pods, &live.iter().collect::<Vec<_>>()))
}

/// The pods of `service` that run, found by the selector its policies use
/// (the one its Service uses, or its operator's labels), each set of
/// labels once; the labels the spec renders when none runs (the
/// `workload` check says why).
async fn live_pods(
    cluster: &Cluster,
    platform: &Platform,
    set: &RenderedSet,
    service: &Service,
) -> Result<Pods, ClusterError> {
    let selector = render::network::pod_selector(platform, service);
    let selector: Vec<String> = selector
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| v.as_str().map(|v| format!("{k}={v}")))
        .collect();
    let mut found: Pods = Vec::new();
    if !selector.is_empty() {
        let mut listed = cluster
            .list("v1", kind::POD, &service.namespace, &selector.join(","))
            .await?;
        listed.sort_by(|a, b| {
            a["metadata"]["name"]
                .as_str()
                .cmp(&b["metadata"]["name"].as_str())
        });
        for pod in listed {
            // A finished pod sends and receives nothing.
            if matches!(
                pod["status"]["phase"].as_str(),
                Some("Succeeded" | "Failed")
            ) {
                continue;
            }
            let labels = pod["metadata"]["labels"]
                .as_object()
                .into_iter()
                .flatten()
                .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                .collect();
            let pod_name = pod["metadata"]["name"].as_str().map(str::to_string);
            let judged = Pod {
                namespace: service.namespace.clone(),
                labels,
            };
            if !found.iter().any(|(_, p)| *p == judged) {
                found.push((pod_name, judged));
            }
        }
    }
    if found.is_empty() {
        found.push((None, pod_of(platform, set, service)));
    }
    Ok(found)
}

/// Each service's pods as the spec renders them.
#[cfg(test)]
fn rendered_pods(platform: &Platform, set: &RenderedSet) -> BTreeMap<usize, Pods> {
    (0..platform.services.len())
        .map(|id| {
            (
                id,
                vec![(None, pod_of(platform, set, &platform.services[id]))],
            )
        })
        .collect()
}

/// Each declared call, on each port of the service called, judged under
/// the `live` policies for every pair of the caller's and the called
/// service's `pods`; the first pair refused names the failure.
fn judge(platform: &Platform, pods: &BTreeMap<usize, Pods>, live: &[&Value]) -> Vec<Outcome> {
    let mut outcomes = Vec::new();
    for edge in &platform.edges {
        let (from, to) = (
            &platform.services[edge.from().0],
            &platform.services[edge.to().0],
        );
        if edge.from() == edge.to() || to.ports.is_empty() {
            continue;
        }
        let none = Vec::new();
        let callers = pods.get(&edge.from().0).unwrap_or(&none);
        let called = pods.get(&edge.to().0).unwrap_or(&none);
        for port in &to.ports {
            let protocol = if port.protocol == Protocol::Udp {
                "UDP"
            } else {
                "TCP"
            };
            let subject = format!("{} → {} {}/{protocol}", from.name, to.name, port.number);
            let mut outcome = None;
            'pairs: for (caller_name, caller) in callers {
                for (called_name, called_pod) in called {
                    let sends = network_policy::side_allows(
                        live,
                        Direction::Egress,
                        caller,
                        called_pod,
                        port.number,
                        protocol,
                    );
                    let receives = network_policy::side_allows(
                        live,
                        Direction::Ingress,
                        called_pod,
                        caller,
                        port.number,
                        protocol,
                    );
                    let (direction, pod, own, other) = match (sends, receives) {
                        (true, true) => continue,
                        (false, _) => (Direction::Egress, caller, &from.name, &to.name),
                        (true, false) => (Direction::Ingress, called_pod, &to.name, &from.name),
                    };
                    let mut refused = denied(live, direction, pod, own, other, subject.clone());
                    // Which pods, when they are live ones.
                    let named = |name: &Option<String>, service: &str| {
                        name.clone()
                            .unwrap_or_else(|| format!("{service} as rendered"))
                    };
                    if caller_name.is_some() || called_name.is_some() {
                        refused.detail = format!(
                            "{} (pod {} → pod {})",
                            refused.detail,
                            named(caller_name, &from.name),
                            named(called_name, &to.name)
                        );
                    }
                    outcome = Some(refused);
                    break 'pairs;
                }
            }
            let outcome =
                outcome.unwrap_or_else(|| Outcome::passed(Check::Policy, subject, "admitted"));
            outcomes.push(outcome.of(Some(&from.name)));
        }
    }
    outcomes
}

/// The failure of a call `direction` refuses at `subject_pod` (of service
/// `own`, talking with `other`): which policies select it, and the most
/// specific of them to look at.
fn denied(
    live: &[&Value],
    direction: Direction,
    pod: &Pod,
    own: &str,
    other: &str,
    subject: String,
) -> Outcome {
    let selecting = network_policy::selecting(live, direction, pod);
    let names: Vec<&str> = selecting
        .iter()
        .filter_map(|p| p["metadata"]["name"].as_str())
        .collect();
    let verb = match direction {
        Direction::Egress => format!("let {own} reach {other}"),
        Direction::Ingress => format!("admit {other} into {own}"),
    };
    let detail = format!(
        "refused: the {} policies selecting {own} in `{}` ({}) do not {verb} on this port",
        direction.policy_type().to_lowercase(),
        pod.namespace,
        names.join(", ")
    );
    // A policy for these pods says more than one for every pod.
    let look = selecting
        .iter()
        .find(|p| {
            p["spec"]["podSelector"]
                .as_object()
                .is_some_and(|s| !s.is_empty())
        })
        .or(selecting.first())
        .map(|p| {
            ObjectId::of(&{
                let mut value = (*p).clone();
                value["apiVersion"] = "networking.k8s.io/v1".into();
                value["kind"] = "NetworkPolicy".into();
                value
            })
        });
    Outcome::failed(
        Check::Policy,
        subject,
        detail,
        look.map_or(Next::Diff, Next::Describe),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::Verdict;
    use std::path::{Path, PathBuf};
    use strata_core::render::Assets;
    use strata_core::source::SourceFile;

    /// Raw manifests read from an example's directory.
    struct Directory(PathBuf);

    impl Assets for Directory {
        fn read(&self, path: &str) -> Result<String, String> {
            std::fs::read_to_string(self.0.join(path)).map_err(|e| e.to_string())
        }
    }

    /// With the rendered policies live, every declared call of every
    /// example is admitted: the pods verify stands in for each service
    /// (operated ones too) are the ones the policies are written for.
    #[test]
    fn every_example_admits_its_declared_calls_under_its_own_policies() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
        let mut judged = 0;
        for entry in std::fs::read_dir(root).unwrap() {
            let path = entry.unwrap().path().join("platform.yaml");
            if !path.exists() {
                continue;
            }
            let file = SourceFile::new(
                path.display().to_string(),
                std::fs::read_to_string(&path).unwrap(),
            );
            let doc = strata_core::spec::parse(&file).unwrap();
            let platform = strata_core::resolve(&doc, None).unwrap();
            let set = render::render(&platform, &Directory(path.parent().unwrap().into())).unwrap();
            let live: Vec<&Value> = set
                .objects
                .iter()
                .filter(|o| o.kind() == "NetworkPolicy")
                .map(|o| &o.value)
                .collect();
            let pods = rendered_pods(&platform, &set);
            let outcomes = judge(&platform, &pods, &live);
            let refused: Vec<&Outcome> = outcomes
                .iter()
                .filter(|o| o.verdict != Verdict::Passed)
                .collect();
            assert!(refused.is_empty(), "{}: {refused:#?}", path.display());
            judged += outcomes.len();
            // Without the policies of the services called, the calls into
            // them are refused (when there are policies at all).
            if platform.network.policies && !outcomes.is_empty() {
                let deny_only: Vec<&Value> = live
                    .iter()
                    .copied()
                    .filter(|p| p["metadata"]["name"] == "default-deny")
                    .collect();
                let denied = judge(&platform, &pods, &deny_only);
                assert!(
                    denied.iter().all(|o| o.verdict == Verdict::Failed),
                    "{}",
                    path.display()
                );
            }
        }
        assert!(judged > 50, "only {judged} calls judged");
    }
}
