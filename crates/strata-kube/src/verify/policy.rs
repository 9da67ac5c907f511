//! Declared calls under the live NetworkPolicies, judged with
//! [`strata_core::network_policy`], the evaluator the tests use.

use std::collections::BTreeSet;

use serde_json::Value;
use strata_core::kind;
use strata_core::model::{Platform, Protocol, Service};
use strata_core::network_policy::{self, Direction, Pod};
use strata_core::render::{self, RenderedSet};

use super::{Check, Next, Outcome};
use crate::cluster::{Cluster, ClusterError, ObjectId};

/// A service's pods as policies see them: its workload's pod template (a
/// CronJob's job template), or the labels its operator gives them.
fn pod_of(platform: &Platform, set: &RenderedSet, service: &Service) -> Pod {
    let template = set
        .objects
        .iter()
        .filter(|o| o.service.as_deref() == Some(&service.name))
        .find_map(|o| {
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
        });
    let labels = template.unwrap_or_else(|| {
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
    let live: Vec<&Value> = live.iter().collect();
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
                &live,
                Direction::Egress,
                &caller,
                &called,
                port.number,
                protocol,
            );
            let receives = network_policy::side_allows(
                &live,
                Direction::Ingress,
                &called,
                &caller,
                port.number,
                protocol,
            );
            let outcome = match (sends, receives) {
                (true, true) => Outcome::passed(Check::Policy, subject, "admitted"),
                (false, _) => denied(
                    &live,
                    Direction::Egress,
                    &caller,
                    &from.name,
                    &to.name,
                    subject,
                ),
                (true, false) => denied(
                    &live,
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
    Ok(outcomes)
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
