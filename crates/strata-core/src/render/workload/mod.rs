//! Workloads: the controller that runs a service's pods (Deployment,
//! StatefulSet, DaemonSet, Job, CronJob), with its volume claims; the pod
//! template itself is [`pod`]'s.

mod pod;

pub(crate) use pod::{
    NATIVE_SIDECAR_ANNOTATION, operated_container_security, pod_security_context, resource_values,
};

use std::rc::Rc;

use serde_json::{Value, json};

use super::body::{Body, Detail, Head};
use super::service::headless_name;
use super::{labels, object};
use crate::kind;
use crate::model::{AccessMode, Platform, Profile, Service, WorkloadKind};
use crate::quantity::Measure;

/// The name of a stateless service's volume claim.
pub(super) fn claim_name(service: &Service) -> String {
    format!("{}-data", service.name)
}

/// The claims of a service that is not a StatefulSet, with the pod volume
/// name each is mounted under: `storage` (`data`), then `volumes`.
fn claims(service: &Service) -> Vec<(String, String, &crate::model::Volume)> {
    let storage = service
        .storage
        .as_deref()
        .into_iter()
        .map(|v| ("data".to_string(), claim_name(service), v));
    let named = service.rare.volumes.iter().map(|v| {
        (
            v.name.clone(),
            format!("{}-{}", service.name, v.name),
            &v.volume,
        )
    });
    storage.chain(named).collect()
}

/// The controller of a service, and a volume claim for a stateless one:
/// made when a sink reads them, the controller in the detail it reads.
pub(super) fn render<'a>(
    platform: &'a Platform,
    service: &'a Service,
    own: &Rc<labels::ServiceLabels<'a>>,
) -> Vec<Body<'a>> {
    let mut out = Vec::new();
    // A StatefulSet claims per pod; every other controller mounts claims
    // made once, beside it.
    if service.kind != WorkloadKind::Stateful {
        for (_, name, volume) in claims(service) {
            let head = Head::new(
                "v1",
                kind::PERSISTENT_VOLUME_CLAIM,
                &service.namespace,
                name.clone(),
            );
            let own = Rc::clone(own);
            out.push(Body::deferred(head, move || {
                let mut metadata = own.metadata(&name);
                metadata["annotations"] = object([("strata.dev/keep", Value::from("true"))]);
                object([
                    ("apiVersion", Value::from("v1")),
                    ("kind", Value::from("PersistentVolumeClaim")),
                    ("metadata", metadata),
                    ("spec", claim_spec(volume)),
                ])
            }));
        }
    }
    let (api_version, kind) = controller_kind(service.kind);
    let head = Head::new(api_version, kind, &service.namespace, service.name.as_str());
    let own = Rc::clone(own);
    out.push(Body::detailed(head, move |detail| {
        controller(platform, service, &own, detail)
    }));
    out
}

/// The `apiVersion` and kind of the controller of a workload of `kind`.
fn controller_kind(kind: WorkloadKind) -> (&'static str, &'static str) {
    match kind {
        WorkloadKind::Stateless => ("apps/v1", kind::DEPLOYMENT),
        WorkloadKind::Stateful => ("apps/v1", kind::STATEFUL_SET),
        WorkloadKind::Daemon => ("apps/v1", kind::DAEMON_SET),
        WorkloadKind::Job => ("batch/v1", kind::JOB),
        WorkloadKind::Cron => ("batch/v1", kind::CRON_JOB),
    }
}

/// The controller of a service, in `detail`.
fn controller(
    platform: &Platform,
    service: &Service,
    own: &labels::ServiceLabels<'_>,
    detail: Detail,
) -> Value {
    let template = pod::pod_template(platform, service, own, detail);
    let (api_version, kind) = controller_kind(service.kind);
    if detail == Detail::Admission {
        // Its identity and its pod template, where the whole has it.
        let template = if service.kind == WorkloadKind::Cron {
            object([(
                "jobTemplate",
                object([("spec", object([("template", template)]))]),
            )])
        } else {
            object([("template", template)])
        };
        return object([
            ("apiVersion", Value::from(api_version)),
            ("kind", Value::from(kind)),
            (
                "metadata",
                object([
                    ("name", Value::from(service.name.as_str())),
                    ("namespace", Value::from(service.namespace.as_str())),
                ]),
            ),
            ("spec", template),
        ]);
    }
    let selector = own.selector();
    let mut metadata = own.metadata(&service.name);
    let accepted = accepted_exceptions(service);
    if !accepted.is_empty() {
        metadata["annotations"] = json!({ crate::finding::IGNORE_ANNOTATION: accepted.join(",") });
    }
    match service.kind {
        WorkloadKind::Stateless => {
            // One read-write-once volume cannot be attached to two pods
            // at once: replace, do not surge.
            let strategy = if service.all_volumes().any(|v| !v.access.is_shared()) {
                object([("type", Value::from("Recreate"))])
            } else {
                object([
                    ("type", Value::from("RollingUpdate")),
                    (
                        "rollingUpdate",
                        object([
                            ("maxSurge", Value::from("25%")),
                            ("maxUnavailable", Value::from(0)),
                        ]),
                    ),
                ])
            };
            let mut spec = object([
                (
                    "selector",
                    object([("matchLabels", Value::Object(selector))]),
                ),
                ("revisionHistoryLimit", Value::from(10)),
                ("progressDeadlineSeconds", Value::from(600)),
                ("strategy", strategy),
                ("template", template),
            ]);
            if service.runtime.autoscale.is_none() {
                spec["replicas"] = Value::from(service.replicas);
            }
            object([
                ("apiVersion", Value::from(api_version)),
                ("kind", Value::from(kind)),
                ("metadata", metadata),
                ("spec", spec),
            ])
        }
        WorkloadKind::Stateful => {
            let mut spec = object([
                ("serviceName", Value::String(headless_name(service))),
                (
                    "selector",
                    object([("matchLabels", Value::Object(selector))]),
                ),
                ("revisionHistoryLimit", Value::from(10)),
                (
                    "updateStrategy",
                    object([("type", Value::from("RollingUpdate"))]),
                ),
                // Data outlives scale-downs and deletions unless removed on purpose.
                (
                    "persistentVolumeClaimRetentionPolicy",
                    object([
                        ("whenDeleted", Value::from("Retain")),
                        ("whenScaled", Value::from("Retain")),
                    ]),
                ),
                ("template", template),
            ]);
            if service.runtime.autoscale.is_none() {
                spec["replicas"] = Value::from(service.replicas);
            }
            let templates: Vec<Value> = service
                .storage
                .as_deref()
                .into_iter()
                .map(|v| ("data", v))
                .chain(
                    service
                        .rare
                        .volumes
                        .iter()
                        .map(|v| (v.name.as_str(), &v.volume)),
                )
                .map(|(name, volume)| {
                    object([
                        (
                            "metadata",
                            object([
                                ("name", Value::from(name)),
                                ("labels", Value::Object(own.labels())),
                            ]),
                        ),
                        ("spec", claim_spec(volume)),
                    ])
                })
                .collect();
            if !templates.is_empty() {
                spec["volumeClaimTemplates"] = Value::Array(templates);
            }
            object([
                ("apiVersion", Value::from(api_version)),
                ("kind", Value::from(kind)),
                ("metadata", metadata),
                ("spec", spec),
            ])
        }
        WorkloadKind::Daemon => object([
            ("apiVersion", Value::from(api_version)),
            ("kind", Value::from(kind)),
            ("metadata", metadata),
            (
                "spec",
                object([
                    (
                        "selector",
                        object([("matchLabels", Value::Object(selector))]),
                    ),
                    ("revisionHistoryLimit", Value::from(10)),
                    (
                        "updateStrategy",
                        object([
                            ("type", Value::from("RollingUpdate")),
                            (
                                "rollingUpdate",
                                object([("maxUnavailable", Value::from(1))]),
                            ),
                        ]),
                    ),
                    ("template", template),
                ]),
            ),
        ]),
        WorkloadKind::Job => object([
            ("apiVersion", Value::from(api_version)),
            ("kind", Value::from(kind)),
            ("metadata", metadata),
            (
                "spec",
                object([("backoffLimit", Value::from(4)), ("template", template)]),
            ),
        ]),
        WorkloadKind::Cron => object([
            ("apiVersion", Value::from(api_version)),
            ("kind", Value::from(kind)),
            ("metadata", metadata),
            (
                "spec",
                object([
                    (
                        "schedule",
                        Value::String(service.rare.schedule.clone().unwrap_or_default()),
                    ),
                    ("concurrencyPolicy", Value::from("Forbid")),
                    ("successfulJobsHistoryLimit", Value::from(3)),
                    ("failedJobsHistoryLimit", Value::from(3)),
                    (
                        "jobTemplate",
                        object([
                            (
                                "metadata",
                                object([("labels", Value::Object(own.labels()))]),
                            ),
                            (
                                "spec",
                                object([("backoffLimit", Value::from(4)), ("template", template)]),
                            ),
                        ]),
                    ),
                ]),
            ),
        ]),
    }
}

/// Lint checks this workload would fail because the spec switched a default
/// off on purpose: recorded on the object so `strata lint` accepts the
/// decision, while `strata audit` still reports it against the spec.
fn accepted_exceptions(service: &Service) -> Vec<&'static str> {
    let runtime = &service.runtime;
    let security = &runtime.security;
    let mut ids = Vec::new();
    if runtime.probes.is_none() && service.kind.is_long_running() {
        ids.extend(["no-readiness-probe", "no-liveness-probe"]);
    }
    if !security.read_only_root || security.profile == Profile::Privileged {
        ids.push("writable-root-filesystem");
    }
    if security.profile == Profile::Privileged {
        ids.extend([
            "run-as-root",
            "privilege-escalation",
            "capabilities-not-dropped",
        ]);
    } else {
        if !security.non_root() {
            ids.push("run-as-root");
        }
        if security.privilege_escalation {
            ids.push("privilege-escalation");
        }
    }
    if runtime.service_account_token {
        ids.push("service-account-token");
    }
    if !runtime.spread {
        ids.push("no-spread");
    }
    if !runtime.disruption_budget {
        ids.push("no-disruption-budget");
    }
    if let Some(host) = service.host_access() {
        ids.extend(host.accepted_checks());
    }
    ids
}

/// The spec of a claim for one volume: access mode, size and class.
pub(crate) fn claim_spec(volume: &crate::model::Volume) -> Value {
    sized_claim_spec(
        volume.access,
        volume.class.as_deref(),
        &volume.size.to_kubernetes(Measure::Bytes),
    )
}

/// The spec of a claim of `size` (as Kubernetes writes it) with `access`
/// and, when given, a StorageClass: what Strata's claims and the claim
/// templates it hands operators have in common.
pub(crate) fn sized_claim_spec(access: AccessMode, class: Option<&str>, size: &str) -> Value {
    let mut spec = json!({
        "accessModes": [access.as_str()],
        "resources": { "requests": { "storage": size } },
    });
    if let Some(class) = class {
        spec["storageClassName"] = json!(class);
    }
    spec
}

/// Where a service's node pool puts its pods: the pool's node labels and
/// the tolerations of its taints; `None` without a pool.
pub(crate) fn placement(
    platform: &Platform,
    service: &Service,
) -> Option<(std::collections::BTreeMap<String, String>, Vec<Value>)> {
    let pool = service
        .pool
        .as_ref()
        .and_then(|p| platform.node_pools.iter().find(|n| &n.name == p))?;
    let tolerations = pool
        .taints
        .iter()
        .map(|t| match &t.value {
            Some(value) => {
                json!({ "key": t.key, "operator": "Equal", "value": value, "effect": t.effect })
            }
            None => json!({ "key": t.key, "operator": "Exists", "effect": t.effect }),
        })
        .collect();
    Some((pool.selector.clone(), tolerations))
}
