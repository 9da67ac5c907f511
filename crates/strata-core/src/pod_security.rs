//! Kubernetes' Pod Security Standards, evaluated on a pod spec as the API
//! server's admission does: each control of the baseline and restricted
//! levels, and the level that refuses what the pod does.
//!
//! One evaluator for every pod Strata writes or reads: rendered pod
//! templates after patches and raw manifests (`check`, `render`), the
//! review (`audit`), and the operated pods' test.

use serde_json::Value;

use crate::spec::runtime::Profile;

/// The capability the restricted level allows adding.
pub const RESTRICTED_CAPABILITY: &str = "NET_BIND_SERVICE";

/// The capabilities the baseline level allows adding; any other needs
/// privileged.
pub const BASELINE_CAPABILITIES: [&str; 13] = [
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

/// Sysctls baseline allows: those namespaced to the pod.
const SAFE_SYSCTLS: [&str; 10] = [
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
];

/// SELinux types baseline allows.
const SELINUX_TYPES: [&str; 5] = [
    "",
    "container_t",
    "container_init_t",
    "container_kvm_t",
    "container_engine_t",
];

/// Volume sources restricted allows.
const RESTRICTED_VOLUMES: [&str; 8] = [
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
];

/// One thing a pod does that a level refuses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The strictest level that still allows it: `Baseline` for a
    /// restricted control, `Privileged` for a baseline one. A namespace
    /// enforcing a stricter level refuses the pod.
    pub needs: Profile,
    /// The control, as the standard names it (`Host Namespaces`).
    pub control: &'static str,
    /// What the pod does: `hostNetwork: true`, `container `app` is privileged`.
    pub what: String,
}

impl Violation {
    /// Whether a namespace enforcing `level` refuses it.
    pub fn refused_by(&self, level: Profile) -> bool {
        level < self.needs
    }
}

/// A field of a JSON value, as indexing (`value["key"]`) reads it (`Null`
/// when `value` is no object or has no such key), found by comparing the
/// keys in turn: the maps of a pod spec are small, and indexing hashes the
/// key each time, which cost more than the evaluation itself.
trait Field {
    /// The field `key`, or `Null`.
    fn field(&self, key: &str) -> &Value;
}

impl Field for Value {
    fn field(&self, key: &str) -> &Value {
        static NULL: Value = Value::Null;
        match self {
            Value::Object(map) => map
                .iter()
                .find_map(|(name, value)| (name == key).then_some(value))
                .unwrap_or(&NULL),
            _ => &NULL,
        }
    }
}

/// The pod spec and pod template metadata of a workload object (`Pod`,
/// `Deployment`, `StatefulSet`, `DaemonSet`, `ReplicaSet`, `Job`,
/// `CronJob`, `ReplicationController`), `None` for any other kind.
pub fn pod_template(object: &Value) -> Option<(&Value, &Value)> {
    let template = match object.field("kind").as_str()? {
        "Pod" => return Some((object.field("spec"), object.field("metadata"))),
        "Deployment"
        | "StatefulSet"
        | "DaemonSet"
        | "ReplicaSet"
        | "Job"
        | "ReplicationController" => object.field("spec").field("template"),
        "CronJob" => object
            .field("spec")
            .field("jobTemplate")
            .field("spec")
            .field("template"),
        _ => return None,
    };
    Some((template.field("spec"), template.field("metadata")))
}

/// Every control `pod` (a pod spec, with its `metadata` for AppArmor's
/// annotations) fails, at either level.
pub fn evaluate(pod: &Value, metadata: &Value) -> Vec<Violation> {
    let mut found = Vec::new();
    let mut refuse = |needs: Profile, control: &'static str, what: String| {
        found.push(Violation {
            needs,
            control,
            what,
        });
    };
    let (baseline, restricted) = (Profile::Privileged, Profile::Baseline);
    let context = pod.field("securityContext");
    for key in ["hostNetwork", "hostPID", "hostIPC"] {
        if pod.field(key) == true {
            refuse(baseline, "Host Namespaces", format!("`{key}: true`"));
        }
    }
    if context.field("windowsOptions").field("hostProcess") == true {
        refuse(
            baseline,
            "HostProcess",
            "the pod is a Windows host process".into(),
        );
    }
    for sysctl in context.field("sysctls").as_array().into_iter().flatten() {
        let name = sysctl.field("name").as_str().unwrap_or_default();
        if !SAFE_SYSCTLS.contains(&name) {
            refuse(baseline, "Sysctls", format!("the sysctl `{name}`"));
        }
    }
    for volume in pod.field("volumes").as_array().into_iter().flatten() {
        let name = volume.field("name").as_str().unwrap_or_default();
        if let Some(source) = volume
            .as_object()
            .and_then(|v| v.keys().find(|k| *k != "name"))
        {
            if source == "hostPath" {
                refuse(
                    baseline,
                    "HostPath Volumes",
                    format!(
                        "the volume `{name}` mounts the host's `{}`",
                        volume
                            .field("hostPath")
                            .field("path")
                            .as_str()
                            .unwrap_or_default()
                    ),
                );
            } else if !RESTRICTED_VOLUMES.contains(&source.as_str()) {
                refuse(
                    restricted,
                    "Volume Types",
                    format!("the volume `{name}` is of type `{source}`"),
                );
            }
        }
    }
    shared_controls(context, "the pod", &mut refuse);
    if context.field("runAsUser") == 0 {
        refuse(
            restricted,
            "Running as Non-root user",
            "the pod runs as user 0".into(),
        );
    }
    let pod_non_root = context.field("runAsNonRoot") == true;
    let pod_seccomp = matches!(
        context.field("seccompProfile").field("type").as_str(),
        Some("RuntimeDefault" | "Localhost")
    );
    if let Some(annotations) = metadata.field("annotations").as_object() {
        for (key, value) in annotations {
            let value = value.as_str().unwrap_or_default();
            if key.starts_with("container.apparmor.security.beta.kubernetes.io/")
                && value != "runtime/default"
                && !value.starts_with("localhost/")
            {
                refuse(baseline, "AppArmor", format!("`{key}: {value}`"));
            }
        }
    }
    let containers = ["containers", "initContainers", "ephemeralContainers"]
        .into_iter()
        .flat_map(|list| pod.field(list).as_array().into_iter().flatten());
    for container in containers {
        let name = container.field("name").as_str().unwrap_or_default();
        let who = format!("container `{name}`");
        let context = container.field("securityContext");
        if context.field("privileged") == true {
            refuse(
                baseline,
                "Privileged Containers",
                format!("{who} is privileged"),
            );
        }
        for port in container.field("ports").as_array().into_iter().flatten() {
            if port.field("hostPort").as_u64().is_some_and(|p| p != 0) {
                refuse(
                    baseline,
                    "Host Ports",
                    format!("{who} binds the host's port {}", port.field("hostPort")),
                );
            }
        }
        shared_controls(context, &who, &mut refuse);
        let added: Vec<&str> = context
            .field("capabilities")
            .field("add")
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        for capability in &added {
            if !BASELINE_CAPABILITIES.contains(capability) {
                refuse(
                    baseline,
                    "Capabilities",
                    format!("{who} adds `{capability}`"),
                );
            } else if *capability != RESTRICTED_CAPABILITY {
                refuse(
                    restricted,
                    "Capabilities",
                    format!("{who} adds `{capability}`"),
                );
            }
        }
        let drops_all = context
            .field("capabilities")
            .field("drop")
            .as_array()
            .is_some_and(|d| d.iter().any(|c| c == "ALL"));
        if !drops_all {
            refuse(
                restricted,
                "Capabilities",
                format!("{who} does not drop `ALL` capabilities"),
            );
        }
        if context.field("allowPrivilegeEscalation") != false {
            refuse(
                restricted,
                "Privilege Escalation",
                format!("{who} does not set `allowPrivilegeEscalation: false`"),
            );
        }
        let non_root = match context.field("runAsNonRoot") {
            Value::Bool(own) => *own,
            _ => pod_non_root,
        };
        if !non_root {
            refuse(
                restricted,
                "Running as Non-root",
                format!("{who} may run as root (no `runAsNonRoot: true`)"),
            );
        }
        if context.field("runAsUser") == 0 {
            refuse(
                restricted,
                "Running as Non-root user",
                format!("{who} runs as user 0"),
            );
        }
        let seccomp = match context.field("seccompProfile").field("type").as_str() {
            Some(kind) => matches!(kind, "RuntimeDefault" | "Localhost"),
            None => pod_seccomp,
        };
        if !seccomp && *context.field("seccompProfile").field("type") != "Unconfined" {
            refuse(
                restricted,
                "Seccomp",
                format!("{who} has no `RuntimeDefault` or `Localhost` seccomp profile"),
            );
        }
    }
    found
}

/// The baseline controls a pod's and a container's security context share:
/// AppArmor, SELinux, `/proc` mount, an unconfined seccomp profile, Windows
/// host processes.
fn shared_controls(
    context: &Value,
    who: &str,
    refuse: &mut impl FnMut(Profile, &'static str, String),
) {
    let baseline = Profile::Privileged;
    if let Some(kind) = context.field("appArmorProfile").field("type").as_str()
        && !matches!(kind, "RuntimeDefault" | "Localhost")
    {
        refuse(
            baseline,
            "AppArmor",
            format!("{who} has the AppArmor profile `{kind}`"),
        );
    }
    let selinux = context.field("seLinuxOptions");
    if let Some(kind) = selinux.field("type").as_str()
        && !SELINUX_TYPES.contains(&kind)
    {
        refuse(
            baseline,
            "SELinux",
            format!("{who} has the SELinux type `{kind}`"),
        );
    }
    for key in ["user", "role"] {
        if selinux.field(key).as_str().is_some_and(|v| !v.is_empty()) {
            refuse(baseline, "SELinux", format!("{who} sets the SELinux {key}"));
        }
    }
    if context
        .field("procMount")
        .as_str()
        .is_some_and(|m| m != "Default")
    {
        refuse(
            baseline,
            "/proc Mount Type",
            format!("{who} unmasks `/proc`"),
        );
    }
    if *context.field("seccompProfile").field("type") == "Unconfined" {
        refuse(
            baseline,
            "Seccomp",
            format!("{who} runs `Unconfined` by seccomp"),
        );
    }
    if context.field("windowsOptions").field("hostProcess") == true && who != "the pod" {
        refuse(
            baseline,
            "HostProcess",
            format!("{who} is a Windows host process"),
        );
    }
}

/// What a namespace enforcing `level` refuses in `pod`.
pub fn refusals(pod: &Value, metadata: &Value, level: Profile) -> Vec<Violation> {
    evaluate(pod, metadata)
        .into_iter()
        .filter(|v| v.refused_by(level))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn restricted_pod() -> Value {
        json!({
            "securityContext": { "runAsNonRoot": true, "seccompProfile": { "type": "RuntimeDefault" } },
            "containers": [{ "name": "app", "securityContext": { "allowPrivilegeEscalation": false, "capabilities": { "drop": ["ALL"], "add": ["NET_BIND_SERVICE"] } } }],
            "volumes": [{ "name": "data", "persistentVolumeClaim": { "claimName": "d" } }]
        })
    }

    fn controls(pod: &Value, level: Profile) -> Vec<&'static str> {
        refusals(pod, &json!({}), level)
            .into_iter()
            .map(|v| v.control)
            .collect()
    }

    #[test]
    fn a_restricted_pod_passes_every_level() {
        assert!(evaluate(&restricted_pod(), &json!({})).is_empty());
    }

    #[test]
    fn host_namespaces_privilege_and_host_paths_are_refused_by_baseline() {
        let mut pod = restricted_pod();
        pod["hostNetwork"] = json!(true);
        pod["hostPID"] = json!(true);
        pod["containers"][0]["securityContext"]["privileged"] = json!(true);
        pod["volumes"] = json!([{ "name": "root", "hostPath": { "path": "/" } }]);
        let refused = controls(&pod, Profile::Baseline);
        assert_eq!(
            refused,
            [
                "Host Namespaces",
                "Host Namespaces",
                "HostPath Volumes",
                "Privileged Containers"
            ]
        );
        assert!(controls(&pod, Profile::Privileged).is_empty());
    }

    #[test]
    fn restricted_asks_more_than_baseline() {
        let pod = json!({ "containers": [{ "name": "app" }], "volumes": [{ "name": "n", "nfs": { "server": "s", "path": "/" } }] });
        assert!(controls(&pod, Profile::Baseline).is_empty());
        let refused = controls(&pod, Profile::Restricted);
        for control in [
            "Volume Types",
            "Capabilities",
            "Privilege Escalation",
            "Running as Non-root",
            "Seccomp",
        ] {
            assert!(refused.contains(&control), "{control}: {refused:?}");
        }
    }

    #[test]
    fn capabilities_sysctls_ports_and_profiles_follow_the_standard() {
        let mut pod = restricted_pod();
        let container = &mut pod["containers"][0]["securityContext"];
        container["capabilities"]["add"] = json!(["CHOWN", "SYS_ADMIN"]);
        container["seccompProfile"] = json!({ "type": "Unconfined" });
        container["procMount"] = json!("Unmasked");
        container["seLinuxOptions"] = json!({ "type": "spc_t" });
        container["appArmorProfile"] = json!({ "type": "Unconfined" });
        container["runAsNonRoot"] = json!(false);
        pod["containers"][0]["ports"] = json!([{ "containerPort": 80, "hostPort": 80 }]);
        pod["securityContext"]["sysctls"] = json!([{ "name": "kernel.msgmax", "value": "1" }, { "name": "net.ipv4.tcp_syncookies", "value": "1" }]);
        let baseline = controls(&pod, Profile::Baseline);
        for control in [
            "Sysctls",
            "Host Ports",
            "AppArmor",
            "SELinux",
            "/proc Mount Type",
            "Seccomp",
            "Capabilities",
        ] {
            assert!(baseline.contains(&control), "{control}: {baseline:?}");
        }
        assert_eq!(baseline.iter().filter(|c| **c == "Sysctls").count(), 1);
        let restricted = controls(&pod, Profile::Restricted);
        // CHOWN is baseline's, not restricted's; the container's own
        // `runAsNonRoot: false` overrides the pod's.
        assert!(restricted.contains(&"Running as Non-root"));
        assert_eq!(
            restricted.iter().filter(|c| **c == "Capabilities").count(),
            2
        );
    }

    #[test]
    fn apparmor_annotations_are_read_from_the_metadata() {
        let metadata = json!({ "annotations": { "container.apparmor.security.beta.kubernetes.io/app": "unconfined" } });
        let found = refusals(&restricted_pod(), &metadata, Profile::Baseline);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].control, "AppArmor");
    }

    #[test]
    fn templates_are_found_in_every_workload_kind() {
        let template =
            json!({ "metadata": { "labels": { "a": "b" } }, "spec": { "containers": [] } });
        for kind in ["Deployment", "StatefulSet", "DaemonSet", "Job"] {
            let object = json!({ "kind": kind, "spec": { "template": template } });
            assert_eq!(
                pod_template(&object).unwrap().0,
                &template["spec"],
                "{kind}"
            );
        }
        let cron = json!({ "kind": "CronJob", "spec": { "jobTemplate": { "spec": { "template": template } } } });
        assert_eq!(pod_template(&cron).unwrap().1, &template["metadata"]);
        assert!(pod_template(&json!({ "kind": "Service" })).is_none());
    }
}
