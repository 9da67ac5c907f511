//! Declared calls under the live NetworkPolicies, judged with
//! [`strata_core::network_policy`], the evaluator the tests use.

use std::collections::BTreeSet;

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

/// Each declared call, on each port of the service called: admitted by
/// the live NetworkPolicies of the caller (egress) and the called (ingress).
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
    Ok(judge(platform, set, &live.iter().collect::<Vec<_>>()))
}

/// Each declared call, on each port of the service called, judged under
/// the `live` policies.
fn judge(platform: &Platform, set: &RenderedSet, live: &[&Value]) -> Vec<Outcome> {
    let mut outcomes = Vec::new();
    for edge in &platform.edges {
        let (from, to) = (
            &platform.services[edge.from.0],
            &platform.services[edge.to.0],
        );
        if edge.from == edge.to || to.ports.is_empty() {
            continue;
        }
        let (caller, called) = (pod_of(platform, set, from), pod_of(platform, set, to));
        for port in &to.ports {
            let protocol = if port.protocol == Protocol::Udp {
                "UDP"
            } else {
                "TCP"
            };
            let subject = format!("{} → {} {}/{protocol}", from.name, to.name, port.number);
            let sends = network_policy::side_allows(
                live,
                Direction::Egress,
                &caller,
                &called,
                port.number,
                protocol,
            );
            let receives = network_policy::side_allows(
                live,
                Direction::Ingress,
                &called,
                &caller,
                port.number,
                protocol,
            );
            let outcome = match (sends, receives) {
                (true, true) => Outcome::passed(Check::Policy, subject, "admitted"),
                (false, _) => denied(
                    live,
                    Direction::Egress,
                    &caller,
                    &from.name,
                    &to.name,
                    subject,
                ),
                (true, false) => denied(
                    live,
                    Direction::Ingress,
                    &called,
                    &to.name,
                    &from.name,
                    subject,
                ),
            };
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
            let outcomes = judge(&platform, &set, &live);
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
                let denied = judge(&platform, &set, &deny_only);
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
