//! The lint checks: one entry each, with its documentation and its test.

use super::value::{Map, Value};

use super::Manifest;
use super::index::Index;
use crate::finding::{CheckInfo, Priority};
use crate::image::ImageRef;
use crate::secret_names::{looks_secret, may_be_secret};

/// A check: its documentation and the function that finds violations
/// (one message per violation).
pub struct Check {
    /// What it is.
    pub info: CheckInfo,
    /// Messages for a manifest.
    pub run: Run,
}

/// How a check looks at a manifest.
#[derive(Clone, Copy)]
pub enum Run {
    /// At the manifest alone: run as each manifest is read, on all of it.
    Object(fn(&Manifest) -> Vec<String>),
    /// At the manifest among the whole set, through the index: run once
    /// every manifest is read, on what `kept.rs` keeps of each.
    Set(fn(&Manifest, &Index<'_>) -> Vec<String>),
}

/// The pod spec of a workload or pod.
fn pod(m: &Manifest) -> Option<&Value> {
    let spec = &m.value["spec"];
    let pod = match m.kind() {
        "Pod" => spec,
        "Deployment"
        | "StatefulSet"
        | "DaemonSet"
        | "ReplicaSet"
        | "Job"
        | "ReplicationController" => &spec["template"]["spec"],
        "CronJob" => &spec["jobTemplate"]["spec"]["template"]["spec"],
        _ => return None,
    };
    pod.is_object().then_some(pod)
}

/// The labels of a workload's pods.
pub(super) fn pod_labels(m: &Manifest) -> Option<&Map> {
    let template = match m.kind() {
        "Pod" => &m.value,
        "CronJob" => &m.value["spec"]["jobTemplate"]["spec"]["template"],
        _ => &m.value["spec"]["template"],
    };
    template["metadata"]["labels"].as_object()
}

pub(super) fn long_running(m: &Manifest) -> bool {
    matches!(
        m.kind(),
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Pod" | "ReplicationController"
    )
}

pub(super) fn list(value: &Value) -> &[Value] {
    value.as_array().map_or(&[], Vec::as_slice)
}

/// Main containers (not init containers).
fn containers(m: &Manifest) -> &[Value] {
    pod(m).map_or(&[], |p| list(&p["containers"]))
}

/// Every container, init containers included.
fn all_containers(m: &Manifest) -> Vec<&Value> {
    pod(m).map_or_else(Vec::new, |p| {
        list(&p["initContainers"])
            .iter()
            .chain(list(&p["containers"]))
            .collect()
    })
}

fn name(c: &Value) -> &str {
    c["name"].as_str().unwrap_or("?")
}

/// For each container lacking what `has` looks for, a message.
fn each_container<'a>(
    cs: impl IntoIterator<Item = &'a Value>,
    has: impl Fn(&Value) -> bool,
    what: &str,
) -> Vec<String> {
    cs.into_iter()
        .filter(|c| !has(c))
        .map(|c| format!("container `{}` {what}", name(c)))
        .collect()
}

/// The effective value of a container security field, the container's
/// setting winning over the pod's.
fn security<'a>(m: &'a Manifest, c: &'a Value, field: &str) -> &'a Value {
    let own = &c["securityContext"][field];
    if own.is_null() {
        pod(m).map_or(&Value::Null, |p| &p["securityContext"][field])
    } else {
        own
    }
}

fn replicas(m: &Manifest) -> u64 {
    m.value["spec"]["replicas"].as_u64().unwrap_or(1)
}

pub(super) fn selects(selector: &Map, labels: &Map) -> bool {
    !selector.is_empty() && selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

fn selector_of(m: &Manifest) -> Option<&Map> {
    m.value["spec"]["selector"]["matchLabels"].as_object()
}

/// `resource` (`cpu` or `memory`) of a requests, limits or LimitRange
/// mapping, as a quantity; `None` when absent or not a quantity.
fn amount(values: &Value, resource: &str) -> Option<crate::quantity::Quantity> {
    let value = &values[resource];
    let text = value
        .as_str()
        .map(str::to_string)
        .or_else(|| value.as_f64().map(|f| f.to_string()))?;
    let measure = if resource == "cpu" {
        crate::quantity::Measure::Cpu
    } else {
        crate::quantity::Measure::Bytes
    };
    crate::quantity::Quantity::parse(&text, measure).ok()
}

const DANGEROUS_CAPABILITIES: [&str; 8] = [
    "ALL",
    "SYS_ADMIN",
    "NET_ADMIN",
    "SYS_PTRACE",
    "SYS_MODULE",
    "NET_RAW",
    "DAC_READ_SEARCH",
    "BPF",
];

/// Removed API versions and the version to use instead.
const REMOVED_APIS: [(&str, &str, &str); 12] = [
    ("extensions/v1beta1", "Deployment", "apps/v1"),
    ("extensions/v1beta1", "DaemonSet", "apps/v1"),
    ("extensions/v1beta1", "Ingress", "networking.k8s.io/v1"),
    (
        "extensions/v1beta1",
        "NetworkPolicy",
        "networking.k8s.io/v1",
    ),
    ("apps/v1beta1", "*", "apps/v1"),
    ("apps/v1beta2", "*", "apps/v1"),
    (
        "networking.k8s.io/v1beta1",
        "Ingress",
        "networking.k8s.io/v1",
    ),
    ("policy/v1beta1", "PodDisruptionBudget", "policy/v1"),
    ("batch/v1beta1", "CronJob", "batch/v1"),
    (
        "autoscaling/v2beta1",
        "HorizontalPodAutoscaler",
        "autoscaling/v2",
    ),
    (
        "autoscaling/v2beta2",
        "HorizontalPodAutoscaler",
        "autoscaling/v2",
    ),
    (
        "flowcontrol.apiserver.k8s.io/v1beta2",
        "*",
        "flowcontrol.apiserver.k8s.io/v1",
    ),
];

/// Every check, in no particular order (`check_infos` sorts them).
pub static CHECKS: &[Check] = &[
    Check {
        info: CheckInfo::new(
            "no-readiness-probe",
            Priority::P1,
            "a long-running container has no readiness probe",
            "Without one, traffic reaches pods before they can serve and during their shutdown.",
            "add a readinessProbe (HTTP, gRPC or TCP) on the port the container serves",
        ),
        run: Run::Object(|m| {
            if long_running(m) {
                each_container(
                    containers(m),
                    |c| c.get("readinessProbe").is_some(),
                    "has no readiness probe",
                )
            } else {
                Vec::new()
            }
        }),
    },
    Check {
        info: CheckInfo::new(
            "no-liveness-probe",
            Priority::P2,
            "a long-running container has no liveness probe",
            "A process that hangs without exiting is never restarted.",
            "add a livenessProbe that fails only when the process is stuck",
        ),
        run: Run::Object(|m| {
            if long_running(m) {
                each_container(
                    containers(m),
                    |c| c.get("livenessProbe").is_some(),
                    "has no liveness probe",
                )
            } else {
                Vec::new()
            }
        }),
    },
    Check {
        info: CheckInfo::new(
            "identical-probes",
            Priority::P2,
            "the liveness probe is the readiness probe",
            "A dependency outage that fails readiness then also restarts every pod, turning degradation into a crash loop.",
            "make liveness check only the process itself, or give it a higher failure threshold",
        ),
        run: Run::Object(|m| {
            containers(m)
                .iter()
                .filter(|c| {
                    c.get("livenessProbe").is_some() && c["livenessProbe"] == c["readinessProbe"]
                })
                .map(|c| {
                    format!(
                        "container `{}` has identical liveness and readiness probes",
                        name(c)
                    )
                })
                .collect()
        }),
    },
    Check {
        info: CheckInfo::new(
            "no-cpu-request",
            Priority::P1,
            "a container requests no CPU",
            "The scheduler places it as if it used nothing; it starves under contention and quotas reject it.",
            "set resources.requests.cpu",
        ),
        run: Run::Object(|m| {
            each_container(
                all_containers(m),
                |c| !c["resources"]["requests"]["cpu"].is_null(),
                "requests no CPU",
            )
        }),
    },
    Check {
        info: CheckInfo::new(
            "no-memory-request",
            Priority::P1,
            "a container requests no memory",
            "The scheduler overcommits nodes and the kernel kills it first under pressure.",
            "set resources.requests.memory",
        ),
        run: Run::Object(|m| {
            each_container(
                all_containers(m),
                |c| !c["resources"]["requests"]["memory"].is_null(),
                "requests no memory",
            )
        }),
    },
    Check {
        info: CheckInfo::new(
            "no-memory-limit",
            Priority::P1,
            "a container has no memory limit",
            "A leak takes the whole node's memory and evicts its neighbours.",
            "set resources.limits.memory",
        ),
        run: Run::Object(|m| {
            each_container(
                all_containers(m),
                |c| !c["resources"]["limits"]["memory"].is_null(),
                "has no memory limit",
            )
        }),
    },
    Check {
        info: CheckInfo::new(
            "no-cpu-limit",
            Priority::P2,
            "a container has no CPU limit",
            "A busy loop takes every core of its node.",
            "set resources.limits.cpu",
        ),
        run: Run::Object(|m| {
            each_container(
                all_containers(m),
                |c| !c["resources"]["limits"]["cpu"].is_null(),
                "has no CPU limit",
            )
        }),
    },
    Check {
        info: CheckInfo::new(
            "limit-below-request",
            Priority::P0,
            "a limit is below its request",
            "The API server rejects the pod.",
            "raise the limit to at least the request",
        ),
        run: Run::Object(|m| {
            let mut out = Vec::new();
            for c in all_containers(m) {
                for resource in ["cpu", "memory"] {
                    if let (Some(request), Some(limit)) = (
                        amount(&c["resources"]["requests"], resource),
                        amount(&c["resources"]["limits"], resource),
                    ) && limit < request
                    {
                        out.push(format!(
                            "container `{}` limits {resource} below its request",
                            name(c)
                        ));
                    }
                }
            }
            out
        }),
    },
    Check {
        info: CheckInfo::new(
            "run-as-root",
            Priority::P1,
            "a container may run as root",
            "A root process that escapes its container is root on the node.",
            "set securityContext.runAsNonRoot: true and a non-zero runAsUser",
        ),
        run: Run::Object(|m| {
            all_containers(m)
                .into_iter()
                .filter(|c| {
                    security(m, c, "runAsNonRoot") != &Value::Bool(true)
                        || security(m, c, "runAsUser").as_i64() == Some(0)
                })
                .map(|c| format!("container `{}` may run as root", name(c)))
                .collect()
        }),
    },
    Check {
        info: CheckInfo::new(
            "privilege-escalation",
            Priority::P1,
            "a container allows privilege escalation",
            "setuid binaries can gain more privileges than the process started with.",
            "set securityContext.allowPrivilegeEscalation: false",
        ),
        run: Run::Object(|m| {
            each_container(
                all_containers(m),
                |c| c["securityContext"]["allowPrivilegeEscalation"] == Value::Bool(false),
                "allows privilege escalation",
            )
        }),
    },
    Check {
        info: CheckInfo::new(
            "privileged-container",
            Priority::P0,
            "a container is privileged",
            "A privileged container has every capability and every device of the node.",
            "remove securityContext.privileged, or add only the capability the container needs",
        ),
        run: Run::Object(|m| {
            all_containers(m)
                .into_iter()
                .filter(|c| c["securityContext"]["privileged"] == Value::Bool(true))
                .map(|c| format!("container `{}` is privileged", name(c)))
                .collect()
        }),
    },
    Check {
        info: CheckInfo::new(
            "writable-root-filesystem",
            Priority::P2,
            "a container can write to its root filesystem",
            "An attacker can drop tools and change binaries; a read-only root keeps the image as built.",
            "set securityContext.readOnlyRootFilesystem: true and mount an emptyDir where the process writes (/tmp)",
        ),
        run: Run::Object(|m| {
            each_container(
                all_containers(m),
                |c| c["securityContext"]["readOnlyRootFilesystem"] == Value::Bool(true),
                "can write to its root filesystem",
            )
        }),
    },
    Check {
        info: CheckInfo::new(
            "capabilities-not-dropped",
            Priority::P1,
            "a container keeps the default capabilities",
            "The runtime's default set includes NET_RAW and others most services never need.",
            "set securityContext.capabilities.drop: [ALL] and add back only what is needed",
        ),
        run: Run::Object(|m| {
            each_container(
                all_containers(m),
                |c| {
                    list(&c["securityContext"]["capabilities"]["drop"])
                        .iter()
                        .any(|d| d.as_str().is_some_and(|s| s.eq_ignore_ascii_case("ALL")))
                },
                "does not drop all capabilities",
            )
        }),
    },
    Check {
        info: CheckInfo::new(
            "dangerous-capability",
            Priority::P0,
            "a container adds a dangerous capability",
            "SYS_ADMIN, NET_ADMIN, SYS_PTRACE and the like are nearly root on the node.",
            "remove the capability; if it is truly needed, isolate the workload on dedicated nodes",
        ),
        run: Run::Object(|m| {
            let mut out = Vec::new();
            for c in all_containers(m) {
                for cap in list(&c["securityContext"]["capabilities"]["add"])
                    .iter()
                    .filter_map(Value::as_str)
                {
                    let cap = cap.trim_start_matches("CAP_").to_ascii_uppercase();
                    if DANGEROUS_CAPABILITIES.contains(&cap.as_str()) {
                        out.push(format!("container `{}` adds {cap}", name(c)));
                    }
                }
            }
            out
        }),
    },
    Check {
        info: CheckInfo::new(
            "no-seccomp-profile",
            Priority::P2,
            "a pod runs without a seccomp profile",
            "Every system call stays open to the container.",
            "set securityContext.seccompProfile.type: RuntimeDefault on the pod",
        ),
        run: Run::Object(|m| {
            let Some(p) = pod(m) else { return Vec::new() };
            let pod_profile = !p["securityContext"]["seccompProfile"]["type"].is_null();
            each_container(
                all_containers(m),
                |c| pod_profile || !c["securityContext"]["seccompProfile"]["type"].is_null(),
                "runs without a seccomp profile",
            )
        }),
    },
    Check {
        info: CheckInfo::new(
            "host-network",
            Priority::P0,
            "a pod uses the node's network",
            "It sees every connection of the node and bypasses NetworkPolicies.",
            "remove hostNetwork; expose the port with a Service",
        ),
        run: Run::Object(|m| {
            pod(m)
                .filter(|p| p["hostNetwork"] == Value::Bool(true))
                .map(|_| vec!["the pod uses the host network".to_string()])
                .unwrap_or_default()
        }),
    },
    Check {
        info: CheckInfo::new(
            "host-pid",
            Priority::P0,
            "a pod shares the node's process namespace",
            "It can see and signal every process of the node.",
            "remove hostPID",
        ),
        run: Run::Object(|m| {
            pod(m)
                .filter(|p| p["hostPID"] == Value::Bool(true))
                .map(|_| vec!["the pod shares the host PID namespace".to_string()])
                .unwrap_or_default()
        }),
    },
    Check {
        info: CheckInfo::new(
            "host-ipc",
            Priority::P0,
            "a pod shares the node's IPC namespace",
            "It can read other processes' shared memory.",
            "remove hostIPC",
        ),
        run: Run::Object(|m| {
            pod(m)
                .filter(|p| p["hostIPC"] == Value::Bool(true))
                .map(|_| vec!["the pod shares the host IPC namespace".to_string()])
                .unwrap_or_default()
        }),
    },
    Check {
        info: CheckInfo::new(
            "host-path-volume",
            Priority::P0,
            "a pod mounts a path of the node",
            "A hostPath mount reads or writes the node's files: credentials, the container runtime socket.",
            "use a PersistentVolumeClaim, a ConfigMap or an emptyDir instead",
        ),
        run: Run::Object(|m| {
            pod(m)
                .map(|p| {
                    list(&p["volumes"])
                        .iter()
                        .filter(|v| v.get("hostPath").is_some())
                        .map(|v| {
                            format!(
                                "volume `{}` mounts {} from the node",
                                name(v),
                                v["hostPath"]["path"].as_str().unwrap_or("?")
                            )
                        })
                        .collect()
                })
                .unwrap_or_default()
        }),
    },
    Check {
        info: CheckInfo::new(
            "host-port",
            Priority::P1,
            "a container binds a port of the node",
            "Only one such pod fits per node, and it bypasses Services and policies.",
            "remove hostPort; use a Service",
        ),
        run: Run::Object(|m| {
            all_containers(m)
                .into_iter()
                .flat_map(|c| {
                    list(&c["ports"])
                        .iter()
                        .filter(|p| p.get("hostPort").is_some())
                        .map(move |p| {
                            format!("container `{}` binds host port {}", name(c), p["hostPort"])
                        })
                })
                .collect()
        }),
    },
    Check {
        info: CheckInfo::new(
            "latest-tag",
            Priority::P1,
            "an image has no version tag, or `latest`",
            "The same manifest runs different code on each pull; rollbacks roll back nothing.",
            "pin the image to a version tag or a digest",
        ),
        run: Run::Object(|m| {
            all_containers(m)
                .into_iter()
                .filter_map(|c| {
                    let image = c["image"].as_str().unwrap_or("");
                    let reference = ImageRef::parse(image);
                    let pinned = reference.digest.is_some()
                        || reference.tag.is_some_and(|tag| tag != "latest");
                    (!pinned).then(|| format!("container `{}` uses `{image}`", name(c)))
                })
                .collect()
        }),
    },
    Check {
        info: CheckInfo::new(
            "service-account-token",
            Priority::P2,
            "a pod mounts a service account token it may not need",
            "A stolen token talks to the API server with the pod's permissions.",
            "set automountServiceAccountToken: false unless the process calls the Kubernetes API",
        ),
        run: Run::Object(|m| {
            pod(m)
                .filter(|p| p["automountServiceAccountToken"] != Value::Bool(false))
                .map(|_| vec!["the pod mounts a service account token".to_string()])
                .unwrap_or_default()
        }),
    },
    Check {
        info: CheckInfo::new(
            "default-service-account",
            Priority::P2,
            "a pod runs as the namespace's default service account",
            "Permissions granted to `default` leak to every pod of the namespace.",
            "give the workload a ServiceAccount of its own",
        ),
        run: Run::Object(|m| {
            pod(m)
                .filter(|p| matches!(p["serviceAccountName"].as_str(), None | Some("default")))
                .map(|_| vec!["the pod uses the default service account".to_string()])
                .unwrap_or_default()
        }),
    },
    Check {
        info: CheckInfo::new(
            "no-disruption-budget",
            Priority::P1,
            "a replicated workload has no PodDisruptionBudget",
            "A node drain may evict every replica at once.",
            "add a PodDisruptionBudget with maxUnavailable: 1 selecting its pods",
        ),
        run: Run::Set(|m, all| {
            if !matches!(m.kind(), "Deployment" | "StatefulSet") || replicas(m) < 2 {
                return Vec::new();
            }
            if all.budgeted(m) {
                Vec::new()
            } else {
                vec![format!("{} replicas and no disruption budget", replicas(m))]
            }
        }),
    },
    Check {
        info: CheckInfo::new(
            "no-spread",
            Priority::P2,
            "a replicated workload may land on one node",
            "Replicas on the same node fail together.",
            "add topologySpreadConstraints on kubernetes.io/hostname, or a podAntiAffinity",
        ),
        run: Run::Object(|m| {
            let Some(p) = pod(m) else { return Vec::new() };
            let spread = p.get("topologySpreadConstraints").is_some()
                || p["affinity"].get("podAntiAffinity").is_some();
            if matches!(m.kind(), "Deployment" | "StatefulSet") && replicas(m) > 1 && !spread {
                vec![format!(
                    "{} replicas without spread constraints",
                    replicas(m)
                )]
            } else {
                Vec::new()
            }
        }),
    },
    Check {
        info: CheckInfo::new(
            "blocking-disruption-budget",
            Priority::P1,
            "a PodDisruptionBudget allows no disruption",
            "maxUnavailable: 0 (or minAvailable: 100%) blocks every node drain and cluster upgrade.",
            "allow at least one pod to be unavailable",
        ),
        run: Run::Object(|m| {
            let spec = &m.value["spec"];
            let blocks = m.kind() == "PodDisruptionBudget"
                && (spec["maxUnavailable"].as_u64() == Some(0)
                    || spec["maxUnavailable"] == "0%"
                    || spec["minAvailable"] == "100%");
            if blocks {
                vec!["this budget never lets a pod be evicted".to_string()]
            } else {
                Vec::new()
            }
        }),
    },
    Check {
        info: CheckInfo::new(
            "selector-mismatch",
            Priority::P0,
            "a workload's selector does not match its pod template",
            "The API server rejects it, or the controller never sees its own pods.",
            "make spec.selector.matchLabels a subset of spec.template.metadata.labels",
        ),
        run: Run::Object(|m| match (selector_of(m), pod_labels(m)) {
            (Some(selector), Some(labels))
                if matches!(
                    m.kind(),
                    "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet"
                ) && !selects(selector, labels) =>
            {
                vec!["the selector does not match the template's labels".to_string()]
            }
            _ => Vec::new(),
        }),
    },
    Check {
        info: CheckInfo::new(
            "service-selects-nothing",
            Priority::P1,
            "a Service's selector matches no pod",
            "It has no endpoints: every request to it fails.",
            "fix the selector, or the workload's pod labels",
        ),
        run: Run::Set(|m, all| {
            if m.kind() != "Service" {
                return Vec::new();
            }
            match m.value["spec"]["selector"].as_object() {
                Some(selector)
                    if !selector.is_empty()
                        && all.selected_workloads(m.namespace(), selector).is_empty() =>
                {
                    vec!["no workload in this set has pods it selects".to_string()]
                }
                _ => Vec::new(),
            }
        }),
    },
    Check {
        info: CheckInfo::new(
            "service-port-missing",
            Priority::P1,
            "a Service targets a port name no selected container declares",
            "Connections to that port are refused.",
            "name the container port as the Service's targetPort, or target a number",
        ),
        run: Run::Set(|m, all| {
            if m.kind() != "Service" {
                return Vec::new();
            }
            let Some(selector) = m.value["spec"]["selector"]
                .as_object()
                .filter(|s| !s.is_empty())
            else {
                return Vec::new();
            };
            let targets = all.selected_workloads(m.namespace(), selector);
            if targets.is_empty() {
                return Vec::new();
            }
            list(&m.value["spec"]["ports"])
                .iter()
                .filter_map(|p| p["targetPort"].as_str())
                .filter(|port| {
                    !targets.iter().any(|t| {
                        containers(t)
                            .iter()
                            .any(|c| list(&c["ports"]).iter().any(|cp| cp["name"] == *port))
                    })
                })
                .map(|port| format!("target port `{port}` is not a port of the selected pods"))
                .collect()
        }),
    },
    Check {
        info: CheckInfo::new(
            "route-to-missing-service",
            Priority::P1,
            "an Ingress or route sends traffic to a Service that is not there",
            "Requests on that route fail with 503.",
            "fix the backend's name, or add the Service",
        ),
        run: Run::Set(|m, all| {
            let exists = |name: &str| all.has("Service", m.namespace(), name);
            let backends: Vec<&str> = match m.kind() {
                "Ingress" => list(&m.value["spec"]["rules"])
                    .iter()
                    .flat_map(|r| list(&r["http"]["paths"]))
                    .chain(
                        std::iter::once(&m.value["spec"]["defaultBackend"])
                            .filter(|b| !b.is_null()),
                    )
                    .filter_map(|p| {
                        p["backend"]["service"]["name"]
                            .as_str()
                            .or_else(|| p["service"]["name"].as_str())
                    })
                    .collect(),
                "HTTPRoute" | "GRPCRoute" => list(&m.value["spec"]["rules"])
                    .iter()
                    .flat_map(|r| list(&r["backendRefs"]))
                    .filter(|b| b["kind"].as_str().is_none_or(|k| k == "Service"))
                    .filter(|b| b["namespace"].is_null())
                    .filter_map(|b| b["name"].as_str())
                    .collect(),
                _ => Vec::new(),
            };
            backends
                .into_iter()
                .filter(|b| !exists(b))
                .map(|b| format!("backend Service `{b}` is not in this set"))
                .collect()
        }),
    },
    Check {
        info: CheckInfo::new(
            "autoscaler-target-missing",
            Priority::P1,
            "a HorizontalPodAutoscaler scales a workload that is not there",
            "It does nothing, and the workload never scales.",
            "fix scaleTargetRef",
        ),
        run: Run::Set(|m, all| {
            if m.kind() != "HorizontalPodAutoscaler" {
                return Vec::new();
            }
            let target = &m.value["spec"]["scaleTargetRef"];
            let (kind, target_name) = (
                target["kind"].as_str().unwrap_or(""),
                target["name"].as_str().unwrap_or(""),
            );
            if all.has(kind, m.namespace(), target_name) {
                Vec::new()
            } else {
                vec![format!("{kind}/{target_name} is not in this set")]
            }
        }),
    },
    Check {
        info: CheckInfo::new(
            "autoscaled-replicas-pinned",
            Priority::P2,
            "an autoscaled workload also sets replicas",
            "Every apply resets the replica count the autoscaler chose.",
            "remove spec.replicas from workloads an HPA scales",
        ),
        run: Run::Set(|m, all| {
            if m.value["spec"]["replicas"].is_null()
                || !matches!(m.kind(), "Deployment" | "StatefulSet")
            {
                return Vec::new();
            }
            if all.autoscaled(m) {
                vec!["an autoscaler scales it, yet replicas is set".to_string()]
            } else {
                Vec::new()
            }
        }),
    },
    Check {
        info: CheckInfo::new(
            "headless-service-missing",
            Priority::P1,
            "a StatefulSet's serviceName names no headless Service",
            "Its pods get no stable DNS names; clustered systems cannot find their peers.",
            "add a Service with clusterIP: None and the StatefulSet's serviceName",
        ),
        run: Run::Set(|m, all| {
            if m.kind() != "StatefulSet" {
                return Vec::new();
            }
            let Some(service) = m.value["spec"]["serviceName"].as_str() else {
                return vec!["spec.serviceName is not set".to_string()];
            };
            if all.has_headless_service(m.namespace(), service) {
                Vec::new()
            } else {
                vec![format!("no headless Service `{service}` in this set")]
            }
        }),
    },
    Check {
        info: CheckInfo::new(
            "no-network-policy",
            Priority::P2,
            "no NetworkPolicy selects a workload's pods",
            "Any pod of the cluster can connect to it.",
            "add a default-deny policy to the namespace and allow only its callers",
        ),
        run: Run::Set(|m, all| {
            if !long_running(m) {
                return Vec::new();
            }
            if pod_labels(m).is_none() || all.isolated(m) {
                Vec::new()
            } else {
                vec!["its pods are not isolated".to_string()]
            }
        }),
    },
    Check {
        info: CheckInfo::new(
            "removed-api-version",
            Priority::P0,
            "the object uses an API version removed from Kubernetes",
            "Current clusters reject it.",
            "move to the stable API version",
        ),
        run: Run::Object(|m| {
            let version = m.value["apiVersion"].as_str().unwrap_or("");
            REMOVED_APIS
                .iter()
                .find(|(v, k, _)| *v == version && (*k == "*" || *k == m.kind()))
                .map(|(v, _, to)| vec![format!("{v} {} is removed: use {to}", m.kind())])
                .unwrap_or_default()
        }),
    },
    Check {
        info: CheckInfo::new(
            "missing-namespace",
            Priority::P2,
            "the object's namespace is not created by this set",
            "Applied on its own, the set fails on the first object of that namespace.",
            "add the Namespace to the set, or create it beforehand",
        ),
        run: Run::Set(|m, all| match m.value["metadata"]["namespace"].as_str() {
            Some(ns) if all.lacks_namespace(ns) && m.kind() != "Namespace" => {
                vec![format!("namespace `{ns}` is not in this set")]
            }
            _ => Vec::new(),
        }),
    },
    Check {
        info: CheckInfo::new(
            "secret-in-env",
            Priority::P0,
            "a secret-looking environment variable has a literal value",
            "The value is in the manifest, in Git, and readable by anyone who can read the workload.",
            "move it to a Secret and use valueFrom.secretKeyRef",
        ),
        run: Run::Object(|m| {
            let mut out = Vec::new();
            for c in all_containers(m) {
                for var in list(&c["env"]) {
                    let var_name = var["name"].as_str().unwrap_or("");
                    let literal = var["value"].as_str().is_some_and(may_be_secret);
                    if literal && looks_secret(var_name) {
                        out.push(format!(
                            "container `{}` sets {} in plain text",
                            name(c),
                            var["name"].as_str().unwrap_or("")
                        ));
                    }
                }
            }
            out
        }),
    },
    Check {
        info: CheckInfo::new(
            "duplicate-env",
            Priority::P2,
            "a container sets the same variable twice",
            "Only the last value is used; the other is a silent mistake.",
            "remove one of them",
        ),
        run: Run::Object(|m| {
            let mut out = Vec::new();
            for c in all_containers(m) {
                let mut seen = std::collections::BTreeSet::new();
                for var in list(&c["env"]).iter().filter_map(|v| v["name"].as_str()) {
                    if !seen.insert(var) {
                        out.push(format!("container `{}` sets {var} twice", name(c)));
                    }
                }
            }
            out
        }),
    },
    Check {
        info: CheckInfo::new(
            "outside-limit-range",
            Priority::P0,
            "a container requests less than its namespace's LimitRange minimum, or limits itself above the maximum",
            "The API server refuses its pods: the workload exists but never runs (sidecars, init containers and setup Jobs count too).",
            "raise the request to the minimum or lower the limit to the maximum, or widen the namespace's `limits`",
        ),
        run: Run::Set(|m, all| {
            let ranges = all.container_limits(m.namespace());
            let mut out = Vec::new();
            for c in all_containers(m) {
                for range in ranges {
                    for resource in ["cpu", "memory"] {
                        let resources = &c["resources"];
                        if let (Some(request), Some(min)) = (
                            amount(&resources["requests"], resource),
                            amount(&range["min"], resource),
                        ) && request < min
                        {
                            out.push(format!(
                                "container `{}` requests {resource} {} in {}, below the LimitRange minimum {}",
                                name(c),
                                resources["requests"][resource],
                                m.namespace(),
                                range["min"][resource]
                            ));
                        }
                        if let (Some(limit), Some(max)) = (
                            amount(&resources["limits"], resource),
                            amount(&range["max"], resource),
                        ) && limit > max
                        {
                            out.push(format!(
                                "container `{}` limits {resource} to {} in {}, above the LimitRange maximum {}",
                                name(c),
                                resources["limits"][resource],
                                m.namespace(),
                                range["max"][resource]
                            ));
                        }
                    }
                }
            }
            out
        }),
    },
    Check {
        info: CheckInfo::new(
            "duplicate-object",
            Priority::P0,
            "two objects have the same group, kind, namespace and name",
            "`kubectl apply` keeps only the last one: the others (a route, a policy…) silently disappear.",
            "give each object its own name, or merge them into one",
        ),
        run: Run::Set(|m, all| {
            // Reported once, on every copy after the first.
            if all.repeats_earlier(m) {
                vec![format!("{} is defined more than once", m.display())]
            } else {
                Vec::new()
            }
        }),
    },
];

#[cfg(test)]
mod tests {
    use super::super::{Linter, Options, lint, read};
    use crate::source::SourceFile;

    /// Each check, on a manifest made to trip it and nothing else of note.
    /// The findings of `lint` on the whole set and those of `Linter`, which
    /// keeps only what the cross-object checks read, must be the same; and
    /// those of `Linter` reading the text split at every document, each
    /// stretch on a thread of its own, must be those of one piece: the same
    /// findings in the same order at the same places.
    fn ids(text: &str) -> Vec<&'static str> {
        let file = SourceFile::new("t.yaml", text);
        let found = lint(&read(&file).unwrap().manifests, &Options::default());
        let mut linter = Linter::new(Options::default());
        linter.read_split(&file, 1, 0).unwrap();
        let streamed = linter.finish();
        let mut split = Linter::new(Options::default());
        split.read_split(&file, usize::MAX, 1).unwrap();
        assert_eq!(split.finish(), streamed, "split at every document:\n{text}");
        let messages = |findings: &[crate::finding::Finding]| -> Vec<(String, String)> {
            findings
                .iter()
                .map(|f| (f.object.clone(), f.diagnostic.message.clone()))
                .collect()
        };
        assert_eq!(messages(&found), messages(&streamed), "in\n{text}");
        let mut ids: Vec<&'static str> = found.iter().map(|f| f.check.id).collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    const CLEAN: &str = "
apiVersion: v1
kind: Namespace
metadata: { name: shop }
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: default-deny, namespace: shop }
spec: { podSelector: {}, policyTypes: [Ingress, Egress] }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: api, namespace: shop }
spec:
  replicas: 2
  selector: { matchLabels: { app: api } }
  template:
    metadata: { labels: { app: api } }
    spec:
      serviceAccountName: api
      automountServiceAccountToken: false
      securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: RuntimeDefault } }
      topologySpreadConstraints: [{ maxSkew: 1, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: ScheduleAnyway, labelSelector: { matchLabels: { app: api } } }]
      containers:
        - name: api
          image: shop/api:1.2.0
          ports: [{ name: http, containerPort: 8080 }]
          env: [{ name: DB_PASSWORD, valueFrom: { secretKeyRef: { name: db, key: password } } }]
          readinessProbe: { httpGet: { path: /ready, port: http } }
          livenessProbe: { httpGet: { path: /healthz, port: http } }
          resources: { requests: { cpu: 100m, memory: 128Mi }, limits: { cpu: 500m, memory: 256Mi } }
          securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: [ALL] } }
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: { name: api, namespace: shop }
spec: { maxUnavailable: 1, selector: { matchLabels: { app: api } } }
---
apiVersion: v1
kind: Service
metadata: { name: api, namespace: shop }
spec: { selector: { app: api }, ports: [{ port: 80, targetPort: http }] }
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: api, namespace: shop }
spec: { rules: [{ http: { paths: [{ path: /, pathType: Prefix, backend: { service: { name: api, port: { number: 80 } } } }] } }] }
";

    #[test]
    fn a_well_made_set_is_clean() {
        assert_eq!(ids(CLEAN), Vec::<&str>::new());
    }

    fn tripped(from: &str, to: &str) -> Vec<&'static str> {
        assert!(CLEAN.contains(from), "fixture lacks {from}");
        ids(&CLEAN.replacen(from, to, 1))
    }

    #[test]
    fn each_change_trips_its_check() {
        let cases: [(&str, &str, &str); 24] = [
            (
                "readinessProbe: { httpGet: { path: /ready, port: http } }",
                "",
                "no-readiness-probe",
            ),
            (
                "livenessProbe: { httpGet: { path: /healthz, port: http } }",
                "",
                "no-liveness-probe",
            ),
            ("path: /ready", "path: /healthz", "identical-probes"),
            (
                "requests: { cpu: 100m, memory: 128Mi }",
                "requests: { memory: 128Mi }",
                "no-cpu-request",
            ),
            (
                "requests: { cpu: 100m, memory: 128Mi }",
                "requests: { cpu: 100m }",
                "no-memory-request",
            ),
            (
                "limits: { cpu: 500m, memory: 256Mi }",
                "limits: { cpu: 500m }",
                "no-memory-limit",
            ),
            (
                "limits: { cpu: 500m, memory: 256Mi }",
                "limits: { memory: 256Mi }",
                "no-cpu-limit",
            ),
            (
                "limits: { cpu: 500m, memory: 256Mi }",
                "limits: { cpu: 50m, memory: 256Mi }",
                "limit-below-request",
            ),
            (
                "runAsNonRoot: true, runAsUser: 1000",
                "runAsUser: 0",
                "run-as-root",
            ),
            (
                "allowPrivilegeEscalation: false",
                "allowPrivilegeEscalation: true",
                "privilege-escalation",
            ),
            (
                "readOnlyRootFilesystem: true",
                "readOnlyRootFilesystem: false",
                "writable-root-filesystem",
            ),
            ("drop: [ALL]", "drop: [NET_RAW]", "capabilities-not-dropped"),
            (
                "drop: [ALL] }",
                "drop: [ALL], add: [SYS_ADMIN] }",
                "dangerous-capability",
            ),
            (
                "seccompProfile: { type: RuntimeDefault } ",
                "",
                "no-seccomp-profile",
            ),
            ("image: shop/api:1.2.0", "image: shop/api", "latest-tag"),
            (
                "automountServiceAccountToken: false",
                "automountServiceAccountToken: true",
                "service-account-token",
            ),
            (
                "serviceAccountName: api",
                "serviceAccountName: default",
                "default-service-account",
            ),
            (
                "spec: { maxUnavailable: 1, selector: { matchLabels: { app: api } } }",
                "spec: { maxUnavailable: 1, selector: { matchLabels: { app: web } } }",
                "no-disruption-budget",
            ),
            ("topologySpreadConstraints:", "x-spread:", "no-spread"),
            (
                "maxUnavailable: 1,",
                "maxUnavailable: 0,",
                "blocking-disruption-budget",
            ),
            (
                "selector: { app: api }, ports",
                "selector: { app: apj }, ports",
                "service-selects-nothing",
            ),
            (
                "targetPort: http",
                "targetPort: web",
                "service-port-missing",
            ),
            (
                "service: { name: api, port",
                "service: { name: apj, port",
                "route-to-missing-service",
            ),
            (
                "env: [{ name: DB_PASSWORD, valueFrom: { secretKeyRef: { name: db, key: password } } }]",
                "env: [{ name: DB_PASSWORD, value: hunter2 }]",
                "secret-in-env",
            ),
        ];
        for (from, to, id) in cases {
            assert!(
                tripped(from, to).contains(&id),
                "{id}: {:?}",
                tripped(from, to)
            );
        }
    }

    #[test]
    fn a_limit_range_refuses_requests_below_its_minimum_and_limits_above_its_maximum() {
        let range = |min: &str, max: &str| {
            format!(
                "{CLEAN}---\napiVersion: v1\nkind: LimitRange\nmetadata: {{ name: defaults, namespace: shop }}\nspec: {{ limits: [{{ type: Container, min: {min}, max: {max} }}] }}\n"
            )
        };
        let within = range(
            "{ cpu: 100m, memory: 128Mi }",
            "{ cpu: 500m, memory: 256Mi }",
        );
        assert!(!ids(&within).contains(&"outside-limit-range"));
        for (min, max) in [
            ("{ cpu: 200m }", "{ cpu: 1 }"),
            ("{ memory: 256Mi }", "{ memory: 1Gi }"),
            ("{ cpu: 50m }", "{ cpu: 250m }"),
            ("{ memory: 64Mi }", "{ memory: 200Mi }"),
        ] {
            assert!(
                ids(&range(min, max)).contains(&"outside-limit-range"),
                "{min} {max}"
            );
        }
        let other_namespace = range("{ cpu: 1 }", "{ cpu: 2 }").replace(
            "name: defaults, namespace: shop",
            "name: defaults, namespace: other",
        );
        assert!(!ids(&other_namespace).contains(&"outside-limit-range"));
    }

    #[test]
    fn host_access_and_old_apis_are_caught() {
        let pod = "apiVersion: v1\nkind: Pod\nmetadata: { name: p, namespace: other, labels: { app: p } }\nspec:\n  hostNetwork: true\n  hostPID: true\n  hostIPC: true\n  volumes: [{ name: sock, hostPath: { path: /var/run/docker.sock } }]\n  containers: [{ name: c, image: busybox:1.36, ports: [{ containerPort: 80, hostPort: 80 }], securityContext: { privileged: true }, env: [{ name: A, value: '1' }, { name: A, value: '2' }] }]\n";
        let found = ids(&format!("{CLEAN}---\n{pod}"));
        for id in [
            "host-network",
            "host-pid",
            "host-ipc",
            "host-path-volume",
            "host-port",
            "privileged-container",
            "missing-namespace",
            "duplicate-env",
            "no-network-policy",
        ] {
            assert!(found.contains(&id), "{id}: {found:?}");
        }
        let old = "apiVersion: extensions/v1beta1\nkind: Ingress\nmetadata: { name: i, namespace: shop }\nspec: {}\n---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: { name: h, namespace: shop }\nspec: { scaleTargetRef: { kind: Deployment, name: api } }\n---\napiVersion: apps/v1\nkind: StatefulSet\nmetadata: { name: db, namespace: shop }\nspec: { serviceName: db-headless, selector: { matchLabels: { app: db } }, template: { metadata: { labels: { app: dc } }, spec: { containers: [] } } }\n";
        let found = ids(&format!("{CLEAN}---\n{old}"));
        for id in [
            "removed-api-version",
            "autoscaled-replicas-pinned",
            "headless-service-missing",
            "selector-mismatch",
        ] {
            assert!(found.contains(&id), "{id}: {found:?}");
        }
        let orphan = "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: { name: h, namespace: shop }\nspec: { scaleTargetRef: { kind: Deployment, name: gone } }\n";
        assert!(ids(&format!("{CLEAN}---\n{orphan}")).contains(&"autoscaler-target-missing"));
    }

    #[test]
    fn a_name_given_twice_is_a_duplicate_but_not_across_api_groups() {
        let vs = "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: { name: edge, namespace: shop }\nspec: {}\n";
        let twice = format!("{CLEAN}---\n{vs}---\n{vs}");
        let manifests = read(&SourceFile::new("t.yaml", &twice)).unwrap().manifests;
        let found: Vec<_> = lint(&manifests, &Options::default())
            .into_iter()
            .filter(|f| f.check.id == "duplicate-object")
            .collect();
        assert_eq!(found.len(), 1, "reported once, on the second copy");
        let other_group = vs.replace("networking.istio.io/v1", "gateway.networking.k8s.io/v1");
        assert!(!ids(&format!("{CLEAN}---\n{vs}---\n{other_group}")).contains(&"duplicate-object"));
        assert!(!ids(CLEAN).contains(&"duplicate-object"));
    }

    #[test]
    fn annotations_and_options_switch_checks_off() {
        let annotated = CLEAN.replacen("metadata: { name: api, namespace: shop }\nspec:\n  replicas", "metadata: { name: api, namespace: shop, annotations: { strata.dev/ignore: 'no-liveness-probe, latest-tag' } }\nspec:\n  replicas", 1)
            .replacen("livenessProbe: { httpGet: { path: /healthz, port: http } }", "", 1)
            .replacen("image: shop/api:1.2.0", "image: shop/api:latest", 1);
        assert_eq!(ids(&annotated), Vec::<&str>::new());
        let manifests = read(&SourceFile::new(
            "t.yaml",
            CLEAN.replacen("image: shop/api:1.2.0", "image: shop/api", 1),
        ))
        .unwrap()
        .manifests;
        let options = Options {
            disabled: ["latest-tag".to_string()].into(),
        };
        assert!(lint(&manifests, &options).is_empty());
    }

    #[test]
    fn an_image_is_pinned_by_a_tag_other_than_latest_or_by_a_digest() {
        let latest = |image: &str| {
            tripped("image: shop/api:1.2.0", &format!("image: '{image}'")).contains(&"latest-tag")
        };
        for unpinned in [
            "nginx",
            "nginx:latest",
            "localhost:5000/a/b",
            "localhost:5000/a/b:latest",
            "registry:5000/x",
            "",
        ] {
            assert!(latest(unpinned), "{unpinned}");
        }
        for pinned in [
            "nginx:1.27",
            "nginx@sha256:abc",
            "nginx:latest@sha256:abc",
            "localhost:5000/a/b:1.0",
            "docker.io/library/redis:7",
            // `5000` is the tag of a reference without `/`.
            "registry:5000",
            "a/b:",
            "a:1:latest",
        ] {
            assert!(!latest(pinned), "{pinned}");
        }
    }

    #[test]
    fn secret_looking_names_with_literal_values_are_caught_unless_they_name_a_file() {
        let caught = |name: &str, value: &str| {
            let env = format!("env: [{{ name: {name}, value: '{value}' }}]");
            tripped(
                "env: [{ name: DB_PASSWORD, valueFrom: { secretKeyRef: { name: db, key: password } } }]",
                &env,
            )
            .contains(&"secret-in-env")
        };
        for name in [
            "DB_PASSWORD",
            "db_passwd",
            "MySecret",
            "TOKEN",
            "x_api_key",
            "PRIVATE_KEY_PEM",
            "Credentials",
        ] {
            assert!(caught(name, "x"), "{name}");
        }
        assert!(!caught("DB_PASSWORD", ""), "an empty value");
        assert!(caught("APIKEY", "x"));
        assert!(caught("stripeKey", "x"));
        assert!(!caught("FEATURE_TOKEN_ENABLED", "true"));
        assert!(!caught("PASSWORD_FILE", "/run/secret"));
        assert!(!caught("token_path", "/run/token"));
    }

    #[test]
    fn there_are_at_least_thirty_documented_checks() {
        assert!(super::CHECKS.len() >= 30, "{}", super::CHECKS.len());
        let mut ids: Vec<&str> = super::CHECKS.iter().map(|c| c.info.id).collect();
        ids.sort_unstable();
        let count = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), count, "check ids are unique");
        for check in super::CHECKS {
            assert!(
                !check.info.rationale.is_empty() && !check.info.fix.is_empty(),
                "{}",
                check.info.id
            );
        }
    }
}
