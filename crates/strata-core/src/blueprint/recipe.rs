//! What blueprints share: filling a service from a recipe (the user's fields
//! win), the small builders recipes are written with, and the amendments
//! render makes to a blueprint's workload (scratch directories, pod identity).

use serde_json::{Value, json};

use crate::model::{Service, Tuning};

/// `repository:TAG` with the tuned version.
pub(super) fn image(repository: &str, tuning: &Tuning) -> String {
    format!("{repository}:{}", tuning.version)
}

/// Requests and limits, written as a spec would.
pub(super) fn resources(cpu: &str, memory: &str, cpu_limit: &str, memory_limit: &str) -> Value {
    json!({ "requests": { "cpu": cpu, "memory": memory }, "limits": { "cpu": cpu_limit, "memory": memory_limit } })
}

/// The fixed size of a pod or container a blueprint adds of its own (a
/// sidecar, an operator's helper): one constant for what is rendered and
/// what `plan` counts.
#[derive(Debug, Clone, Copy)]
pub(super) struct Size {
    /// CPU and memory requested, as Kubernetes writes them.
    pub requests: (&'static str, &'static str),
    /// CPU and memory limits.
    pub limits: (&'static str, &'static str),
}

impl Size {
    /// A container's `resources`.
    pub(super) fn json(self) -> Value {
        resources(
            self.requests.0,
            self.requests.1,
            self.limits.0,
            self.limits.1,
        )
    }

    /// The same, as the model counts it.
    pub(super) fn resources(self) -> crate::model::Resources {
        use crate::quantity::{Measure, Quantity};
        let amounts = |(cpu, memory): (&str, &str)| crate::model::Amounts {
            cpu: Quantity::parse(cpu, Measure::Cpu).unwrap_or_default(),
            memory: Quantity::parse(memory, Measure::Bytes).unwrap_or_default(),
        };
        crate::model::Resources {
            requests: amounts(self.requests),
            limits: Some(amounts(self.limits)),
        }
    }
}

/// A restricted security context for an image's own user and group.
pub(super) fn user(id: u32, group: u32, read_only_root: bool) -> Value {
    json!({ "runAsUser": id, "runAsGroup": group, "fsGroup": group, "readOnlyRootFilesystem": read_only_root })
}

/// A volume of `size` at the path the image keeps its data in.
pub(super) fn volume(size: &str, path: &str) -> Value {
    json!({ "size": size, "mountPath": path })
}

/// The `${service.field}` reference to another service's export.
pub(super) fn reference(service: &str, field: &str) -> String {
    format!("${{{service}.{field}}}")
}

/// Comma-separated `f(ordinal)` for every pod of the service.
pub(super) fn peers(tuning: &Tuning, f: impl Fn(u32) -> String, separator: &str) -> String {
    (0..tuning.replicas.max(1))
        .map(f)
        .collect::<Vec<_>>()
        .join(separator)
}

/// The exports of a service reached at `host:port` with `scheme`.
pub(super) fn endpoint(
    tuning: &Tuning,
    service_name: &str,
    scheme: &str,
    port: u16,
) -> Vec<(String, String)> {
    let host = tuning.host(service_name);
    vec![
        ("host".into(), host.clone()),
        ("port".into(), port.to_string()),
        ("address".into(), format!("{host}:{port}")),
        ("url".into(), format!("{scheme}://{host}:{port}")),
    ]
}

/// The name of a blueprint service's generated credentials.
pub(super) fn credentials_name(tuning: &Tuning) -> String {
    format!("{}-credentials", tuning.service)
}

/// A stable 22-character identifier from `seed` (Kafka's cluster id is a
/// base64 UUID of that length), so renders stay byte-identical.
pub(super) fn stable_id(seed: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    // FNV-1a, twice with different offsets, for 128 bits.
    let hash = |offset: u64| {
        seed.bytes().fold(offset, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        })
    };
    let bits =
        (u128::from(hash(0xcbf2_9ce4_8422_2325)) << 64) | u128::from(hash(0x8422_2325_cbf2_9ce4));
    (0..22)
        .map(|i| ALPHABET[((bits >> (i * 6)) & 63) as usize] as char)
        .collect()
}

/// The node pool of a service as an operator's pod template takes it:
/// `nodeSelector` and `tolerations` (empty ones left out); `None` without
/// a pool.
pub(super) fn pool_scheduling(
    platform: &crate::model::Platform,
    service: &Service,
) -> Option<Value> {
    let (selector, tolerations) = crate::render::placement(platform, service)?;
    let mut out = json!({});
    if !selector.is_empty() {
        out["nodeSelector"] = json!(selector);
    }
    if !tolerations.is_empty() {
        out["tolerations"] = json!(tolerations);
    }
    Some(out)
}

/// The spec of a PersistentVolumeClaim an operator makes for the service's
/// pods: `size`, and the service's access mode and storage class.
pub(super) fn claim_spec(service: &Service, size: &str) -> Value {
    let storage = service.storage.as_ref();
    crate::render::sized_claim_spec(
        storage.map_or(crate::model::AccessMode::ReadWriteOnce, |s| s.access),
        storage.and_then(|s| s.class.as_deref()),
        size,
    )
}

/// A Job running one setup script beside a blueprint's servers (topics,
/// buckets, databases), as `user`, under the ServiceAccount `account`: the
/// restricted profile, `/tmp` its only writable place. `container` gives
/// the name, image, command, env and resources. In a meshed namespace the
/// Istio sidecar is injected as a native sidecar, which stops when the
/// script ends: a classic one would keep the Job from completing, and none
/// at all would leave the script without the mTLS its servers demand.
pub(super) fn setup_job(
    platform: &crate::model::Platform,
    service: &Service,
    name: &str,
    account: &str,
    labels: Value,
    user: u32,
    mut container: Value,
) -> Value {
    container["securityContext"] = json!({ "allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true, "capabilities": { "drop": ["ALL"] } });
    container["volumeMounts"] = json!([{ "name": "tmp", "mountPath": "/tmp" }]);
    let mut template = json!({ "labels": labels });
    if platform.in_mesh(&service.namespace) {
        template["annotations"] = json!({ crate::render::NATIVE_SIDECAR_ANNOTATION: "true" });
    }
    let mut pod = json!({
        "restartPolicy": "OnFailure",
        "serviceAccountName": account,
        "automountServiceAccountToken": false,
        "securityContext": { "runAsNonRoot": true, "runAsUser": user, "runAsGroup": user, "seccompProfile": { "type": "RuntimeDefault" } },
        "containers": [container],
        "volumes": [{ "name": "tmp", "emptyDir": {} }],
    });
    crate::render::add_pull_secrets(platform, &mut pod);
    json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": crate::render::metadata(platform, service, name),
        "spec": {
            "backoffLimit": 6,
            "template": { "metadata": template, "spec": pod },
        },
    })
}

/// What a metrics exporter beside a server asks for and may use.
pub(super) const EXPORTER_SIZE: Size = Size {
    requests: ("25m", "32Mi"),
    limits: ("100m", "64Mi"),
};

/// A metrics exporter sidecar: `image` running as `user`, reading its
/// server on localhost as `env` says, serving Prometheus metrics on `port`
/// (named `metrics`), probed on that port, restricted, of [`EXPORTER_SIZE`].
pub(super) fn exporter(name: &str, image: &str, port: u16, user: u32, env: Value) -> Value {
    json!({
        "name": name,
        "image": image,
        "ports": [{ "name": "metrics", "containerPort": port, "protocol": "TCP" }],
        "readinessProbe": { "tcpSocket": { "port": "metrics" }, "periodSeconds": 10 },
        "livenessProbe": { "tcpSocket": { "port": "metrics" }, "periodSeconds": 20, "failureThreshold": 6 },
        "env": env,
        "resources": EXPORTER_SIZE.json(),
        "securityContext": {
            "runAsNonRoot": true, "runAsUser": user, "runAsGroup": user,
            "allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true,
            "capabilities": { "drop": ["ALL"] }, "seccompProfile": { "type": "RuntimeDefault" },
        },
    })
}

/// The label of the pods of a Job creating a database service's databases,
/// whose value is the service's name: the NetworkPolicies' member group.
pub(super) const DATABASES_JOB_LABEL: &str = "strata.dev/databases-of";

/// What a setup Job that reaches its servers asks for and may use.
const SETUP_SIZE: Size = Size {
    requests: ("50m", "64Mi"),
    limits: ("200m", "256Mi"),
};

/// A setup Job that talks to its service's servers (creating databases,
/// buckets, users…): its pods are a member group of the service, labelled
/// `label: SERVICE`.
pub(super) struct MemberSetup<'a> {
    /// What it sets up: the Job and its ServiceAccount are `SERVICE-WHAT`,
    /// its container `WHAT`; the member group is `Members::setup_job(WHAT, …)`.
    pub what: &'a str,
    /// The label that makes its pods a member group.
    pub label: &'a str,
    /// The user and group it runs as.
    pub user: u32,
    /// The image with the client it runs.
    pub image: &'a str,
    /// The shell script.
    pub script: &'a str,
    /// Its environment.
    pub env: Vec<Value>,
}

/// The Job of `setup` and its ServiceAccount.
pub(super) fn member_setup(
    platform: &crate::model::Platform,
    service: &Service,
    setup: MemberSetup<'_>,
) -> Vec<Value> {
    let name = format!("{}-{}", service.name, setup.what);
    let mut labels = crate::render::metadata(platform, service, &name)["labels"].clone();
    labels[setup.label] = json!(service.name);
    vec![
        setup_account(platform, service, &name),
        setup_job(
            platform,
            service,
            &name,
            &name,
            labels,
            setup.user,
            json!({
                "name": setup.what,
                "image": setup.image,
                "command": ["sh", "-c", setup.script],
                "env": setup.env,
                "resources": SETUP_SIZE.json(),
            }),
        ),
    ]
}

/// The ServiceAccount, without a token, of a blueprint's setup Job.
pub(super) fn setup_account(
    platform: &crate::model::Platform,
    service: &Service,
    name: &str,
) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": crate::render::metadata(platform, service, name),
        "automountServiceAccountToken": false,
    })
}

/// The storage size of a service's volume, as Kubernetes writes it.
pub(super) fn storage_size(service: &Service) -> String {
    service.storage.as_ref().map_or_else(
        || "10Gi".to_string(),
        |v| v.size.to_kubernetes(crate::quantity::Measure::Bytes),
    )
}

/// Cluster-wide read access for a service's own account: a ClusterRole
/// `PLATFORM-NAMESPACE-NAME` of `rules`, bound to the account, and, with
/// NetworkPolicies, egress to the API server (`NAME-api-server`).
pub(super) fn cluster_reader(
    platform: &crate::model::Platform,
    service: &Service,
    rules: Value,
) -> Vec<Value> {
    let name = format!("{}-{}-{}", platform.name, service.namespace, service.name);
    let labels = crate::render::service_labels(platform, service);
    let mut out = vec![
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": { "name": name, "labels": labels },
            "rules": rules,
        }),
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": { "name": name, "labels": labels },
            "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name },
            "subjects": [{ "kind": "ServiceAccount", "name": service.name, "namespace": service.namespace }],
        }),
    ];
    if platform.network.policies {
        out.push(json!({
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": crate::render::metadata(platform, service, &format!("{}-api-server", service.name)),
            "spec": {
                "podSelector": { "matchLabels": crate::render::network::pod_selector(platform, service) },
                "policyTypes": ["Egress"],
                "egress": [crate::render::api_server(platform)],
            },
        }));
    }
    out
}
