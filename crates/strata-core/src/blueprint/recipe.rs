//! What blueprints share: filling a service from a recipe (the user's fields
//! win), the small builders recipes are written with, and the amendments
//! render makes to a blueprint's workload (scratch directories, pod identity).

use serde_json::{Value, json};

use super::Tuning;
use crate::diag::Diagnostic;
use crate::model::Service;
use crate::source::{SourceFile, Span};
use crate::spec::decode::{Decode, Decoder};
use crate::spec::runtime::{ProbesSpec, SecuritySpec};
use crate::spec::service::{ResourceList, ResourcesSpec, ServiceSpec, StorageSpec, VolumeSpec};
use crate::spec::yaml::{self, Node, NodeKind};
use crate::spec::{Map, Spanned};

/// The service `own` as written, with every field it leaves out taken from
/// its blueprint's recipe. Mappings the user writes in part (`env`,
/// `security`, `resources`, `probes`, `storage`) are merged key by key, so
/// `storage: 100Gi` keeps the image's data path.
///
/// Recipe values get the span of the `blueprint:` line, so a problem in them
/// is reported there.
///
/// # Errors
/// A recipe that does not decode as a service: a bug of the blueprint, which
/// the catalog's tests rule out.
pub fn fill(own: &ServiceSpec, tuning: &Tuning, span: Span) -> Result<ServiceSpec, Diagnostic> {
    let mut recipe = (tuning.blueprint.recipe)(tuning);
    if recipe.spec.get("replicas").is_none() && recipe.spec["kind"] != "daemon" {
        recipe.spec["replicas"] = tuning.mode.replicas.into();
    }
    let file = SourceFile::new(
        format!("blueprint {}", tuning.blueprint.name),
        recipe.spec.to_string(),
    );
    let internal = |message: String| {
        Diagnostic::error(
            "blueprint-failed",
            format!(
                "the `{}` blueprint gave an invalid service: {message}",
                tuning.blueprint.name
            ),
        )
    };
    let mut node = yaml::parse(&file).map_err(|d| internal(d.message))?;
    respan(&mut node, span);
    let mut decoder = Decoder::new(&file);
    let base = ServiceSpec::decode(&node, &mut decoder);
    let base = match base {
        Some(base) if decoder.is_clean() => base,
        _ => {
            let messages: Vec<String> = decoder
                .into_diagnostics()
                .into_iter()
                .map(|d| d.message)
                .collect();
            return Err(internal(messages.join("; ")));
        }
    };
    Ok(merge(own, base))
}

fn respan(node: &mut Node, span: Span) {
    node.span = span;
    match &mut node.kind {
        NodeKind::Map(entries) => {
            for (k, v) in entries {
                respan(k, span);
                respan(v, span);
            }
        }
        NodeKind::Seq(items) => items.iter_mut().for_each(|i| respan(i, span)),
        _ => {}
    }
}

fn merge(own: &ServiceSpec, base: ServiceSpec) -> ServiceSpec {
    let mut out = own.clone();
    macro_rules! prefer_own {
        ($($field:ident),*) => { $( if out.$field.is_none() { out.$field = base.$field.clone(); } )* };
    }
    prefer_own!(
        image,
        kind,
        command,
        args,
        ports,
        replicas,
        config,
        needs,
        labels,
        spread,
        disruption_budget,
        termination_grace_period,
        service_account_token,
        metrics
    );
    out.env = merge_map(own.env.as_ref(), base.env);
    // The rights the blueprint's own process needs stay beside the user's.
    out.access = match (own.access.clone(), base.access) {
        (Some(mut mine), Some(theirs)) => {
            mine.value.extend(theirs.value);
            Some(mine)
        }
        (mine, theirs) => mine.or(theirs),
    };
    out.resources = match (own.resources.clone(), base.resources) {
        (Some(mine), Some(theirs)) => Some(Spanned {
            span: mine.span,
            value: ResourcesSpec {
                requests: merge_list(mine.value.requests, theirs.value.requests),
                limits: merge_list(mine.value.limits, theirs.value.limits),
            },
        }),
        (mine, theirs) => mine.or(theirs),
    };
    out.security = match (own.security.clone(), base.security) {
        (Some(mine), Some(theirs)) => Some(match (mine.value, theirs.value) {
            (SecuritySpec::Profile(p), SecuritySpec::Settings(mut s)) => {
                s.profile = Some(Spanned {
                    value: p,
                    span: mine.span,
                });
                Spanned {
                    value: SecuritySpec::Settings(s),
                    span: mine.span,
                }
            }
            (SecuritySpec::Settings(mut m), SecuritySpec::Settings(t)) => {
                m.profile = m.profile.or(t.profile);
                // A user id of their own means their own group too, unless given.
                if m.run_as_user.is_none() {
                    m.run_as_user = t.run_as_user;
                    m.run_as_group = m.run_as_group.or(t.run_as_group);
                    m.fs_group = m.fs_group.or(t.fs_group);
                }
                m.read_only_root_filesystem =
                    m.read_only_root_filesystem.or(t.read_only_root_filesystem);
                m.capabilities = m.capabilities.or(t.capabilities);
                Spanned {
                    value: SecuritySpec::Settings(m),
                    span: mine.span,
                }
            }
            (value, _) => Spanned {
                value,
                span: mine.span,
            },
        }),
        (mine, theirs) => mine.or(theirs),
    };
    out.probes = match (own.probes.clone(), base.probes) {
        (Some(mine), Some(theirs)) => Some(match (mine.value, theirs.value) {
            (ProbesSpec::Settings(mut m), ProbesSpec::Settings(t)) => {
                if m.port.is_none() {
                    m.port = t.port;
                    m.path = m.path.or(t.path);
                    m.readiness_path = m.readiness_path.or(t.readiness_path);
                }
                m.startup_seconds = m.startup_seconds.or(t.startup_seconds);
                Spanned {
                    value: ProbesSpec::Settings(m),
                    span: mine.span,
                }
            }
            (value, _) => Spanned {
                value,
                span: mine.span,
            },
        }),
        (mine, theirs) => mine.or(theirs),
    };
    out.storage = match (own.storage.clone(), base.storage) {
        (Some(mine), Some(theirs)) => {
            let path = match &theirs.value {
                StorageSpec::Volume(v) => v.mount_path.clone(),
                StorageSpec::Size(_) => None,
            };
            let volume = match mine.value {
                StorageSpec::Size(size) => VolumeSpec {
                    size: Spanned {
                        value: size,
                        span: mine.span,
                    },
                    class: None,
                    mount_path: path,
                    access: None,
                },
                StorageSpec::Volume(mut v) => {
                    v.mount_path = v.mount_path.or(path);
                    v
                }
            };
            Some(Spanned {
                value: StorageSpec::Volume(volume),
                span: mine.span,
            })
        }
        (mine, theirs) => mine.or(theirs),
    };
    out
}

fn merge_list(
    mine: Option<Spanned<ResourceList>>,
    theirs: Option<Spanned<ResourceList>>,
) -> Option<Spanned<ResourceList>> {
    match (mine, theirs) {
        (Some(mut m), Some(t)) => {
            m.value.cpu = m.value.cpu.or(t.value.cpu);
            m.value.memory = m.value.memory.or(t.value.memory);
            Some(m)
        }
        (m, t) => m.or(t),
    }
}

fn merge_map<K: Clone + PartialEq, V: Clone>(
    own: Option<&Spanned<Map<K, V>>>,
    base: Option<Spanned<Map<K, V>>>,
) -> Option<Spanned<Map<K, V>>> {
    let Some(mut base) = base else {
        return own.cloned();
    };
    let Some(own) = own else { return Some(base) };
    for (key, value) in own.value.iter() {
        match base.value.0.iter_mut().find(|(k, _)| k.value == key.value) {
            Some(entry) => entry.1 = value.clone(),
            None => base.value.0.push((key.clone(), value.clone())),
        }
    }
    base.span = own.span;
    Some(base)
}

/// `repository:TAG` with the tuned version.
pub fn image(repository: &str, tuning: &Tuning) -> String {
    format!("{repository}:{}", tuning.version)
}

/// Requests and limits, written as a spec would.
pub fn resources(cpu: &str, memory: &str, cpu_limit: &str, memory_limit: &str) -> Value {
    json!({ "requests": { "cpu": cpu, "memory": memory }, "limits": { "cpu": cpu_limit, "memory": memory_limit } })
}

/// The fixed size of a pod or container a blueprint adds of its own (a
/// sidecar, an operator's helper): one constant for what is rendered and
/// what `plan` counts.
#[derive(Debug, Clone, Copy)]
pub struct Size {
    /// CPU and memory requested, as Kubernetes writes them.
    pub requests: (&'static str, &'static str),
    /// CPU and memory limits.
    pub limits: (&'static str, &'static str),
}

impl Size {
    /// A container's `resources`.
    pub fn json(self) -> Value {
        resources(
            self.requests.0,
            self.requests.1,
            self.limits.0,
            self.limits.1,
        )
    }

    /// The same, as the model counts it.
    pub fn resources(self) -> crate::model::Resources {
        use crate::quantity::{Measure, Quantity};
        let amounts = |(cpu, memory): (&str, &str)| crate::model::Amounts {
            cpu: Quantity::parse(cpu, Measure::Cpu).unwrap_or_default(),
            memory: Quantity::parse(memory, Measure::Bytes).unwrap_or_default(),
        };
        crate::model::Resources {
            requests: amounts(self.requests),
            limits: amounts(self.limits),
        }
    }
}

/// A restricted security context for an image's own user and group.
pub fn user(id: u32, group: u32, read_only_root: bool) -> Value {
    json!({ "runAsUser": id, "runAsGroup": group, "fsGroup": group, "readOnlyRootFilesystem": read_only_root })
}

/// A volume of `size` at the path the image keeps its data in.
pub fn volume(size: &str, path: &str) -> Value {
    json!({ "size": size, "mountPath": path })
}

/// The `${service.field}` reference to another service's export.
pub fn reference(service: &str, field: &str) -> String {
    format!("${{{service}.{field}}}")
}

/// Comma-separated `f(ordinal)` for every pod of the service.
pub fn peers(tuning: &Tuning, f: impl Fn(u32) -> String, separator: &str) -> String {
    (0..tuning.replicas.max(1))
        .map(f)
        .collect::<Vec<_>>()
        .join(separator)
}

/// The exports of a service reached at `host:port` with `scheme`.
pub fn endpoint(
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
pub fn credentials_name(tuning: &Tuning) -> String {
    format!("{}-credentials", tuning.service)
}

/// Whether `word` can be written unquoted in SQL as a database, role or schema.
pub fn is_sql_identifier(word: &str) -> bool {
    word.len() <= 63
        && word.starts_with(|c: char| c.is_ascii_lowercase())
        && word
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// `7d`, `12h`, `30m` in milliseconds.
pub fn milliseconds(period: &str) -> Option<u64> {
    let (number, unit) = period.split_at(period.find(|c: char| !c.is_ascii_digit())?);
    let factor = match unit {
        "d" => 86_400_000,
        "h" => 3_600_000,
        "m" => 60_000,
        _ => return None,
    };
    number.parse::<u64>().ok()?.checked_mul(factor)
}

/// A stable 22-character identifier from `seed` (Kafka's cluster id is a
/// base64 UUID of that length), so renders stay byte-identical.
pub fn stable_id(seed: &str) -> String {
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

/// No objects beyond the service's own.
pub fn no_objects(_: &crate::model::Platform, _: &Service, _: &Tuning) -> Vec<Value> {
    Vec::new()
}

/// No checks of `options:` beyond the catalog's.
pub fn no_option_checks(_: &super::OptionCheck<'_>) -> Vec<Diagnostic> {
    Vec::new()
}

/// No services beside the declared one.
pub fn no_companions(_: &Service, _: &Tuning) -> Vec<Service> {
    Vec::new()
}

/// The service's pods are `replicas` of its size.
pub fn own_pods(service: &Service, _: &Tuning) -> Vec<super::PodGroup> {
    vec![super::PodGroup::of(service)]
}

fn workload(objects: &mut [Value]) -> Option<&mut Value> {
    objects.iter_mut().find(|o| {
        matches!(
            o["kind"].as_str(),
            Some("Deployment" | "StatefulSet" | "DaemonSet")
        )
    })
}

/// The pod spec of a workload object.
pub fn pod_spec(workload: &mut Value) -> &mut Value {
    &mut workload["spec"]["template"]["spec"]
}

fn push(array: &mut Value, item: Value) {
    match array.as_array_mut() {
        Some(items) => items.push(item),
        None => *array = json!([item]),
    }
}

/// Makes the render of a blueprint service fit its image: scratch
/// directories where it writes, the ConfigMaps its objects render, its
/// pod's identity in the environment, and one value per variable (the
/// user's last).
pub fn amend(tuning: &Tuning, objects: &mut [Value]) {
    let Some(workload) = workload(objects) else {
        return;
    };
    let stateful = workload["kind"] == "StatefulSet";
    if let Some(host) = &tuning.supplied.host {
        host_access(host, workload);
    }
    let pod = pod_spec(workload);
    for (i, path) in tuning.supplied.scratch.iter().enumerate() {
        let name = format!("scratch-{i}");
        push(&mut pod["volumes"], json!({ "name": name, "emptyDir": {} }));
        push(
            &mut pod["containers"][0]["volumeMounts"],
            json!({ "name": name, "mountPath": path }),
        );
    }
    for (i, (config_map, path)) in tuning.supplied.mounts.iter().enumerate() {
        let name = format!("mount-{i}");
        push(
            &mut pod["volumes"],
            json!({ "name": name, "configMap": { "name": config_map } }),
        );
        push(
            &mut pod["containers"][0]["volumeMounts"],
            json!({ "name": name, "mountPath": path, "readOnly": true }),
        );
    }
    if !tuning.supplied.sidecars.is_empty() {
        let theirs: Vec<&Value> = tuning
            .supplied
            .sidecars
            .iter()
            .flat_map(|c| c["ports"].as_array().into_iter().flatten())
            .map(|p| &p["name"])
            .collect();
        if let Some(ports) = pod["containers"][0]["ports"].as_array_mut() {
            ports.retain(|p| !theirs.contains(&&p["name"]));
        }
        for sidecar in &tuning.supplied.sidecars {
            push(&mut pod["containers"], sidecar.clone());
        }
    }
    let container = &mut pod["containers"][0];
    let mut env: Vec<Value> = container["env"].as_array().cloned().unwrap_or_default();
    if tuning.supplied.pod_env {
        let field = |name: &str, path: &str| json!({ "name": name, "valueFrom": { "fieldRef": { "fieldPath": path } } });
        let mut identity = vec![
            field("POD_NAME", "metadata.name"),
            field("POD_NAMESPACE", "metadata.namespace"),
            field("POD_IP", "status.podIP"),
        ];
        if stateful {
            identity.push(field(
                "POD_INDEX",
                "metadata.labels['apps.kubernetes.io/pod-index']",
            ));
        }
        env.splice(0..0, identity);
    }
    let mut seen = std::collections::HashSet::new();
    let mut unique: Vec<Value> = env
        .into_iter()
        .rev()
        .filter(|v| seen.insert(v["name"].as_str().unwrap_or_default().to_string()))
        .collect();
    unique.reverse();
    if !unique.is_empty() {
        container["env"] = json!(unique);
    }
}

/// Puts a workload's pods on their node's network and process namespaces
/// with the node's paths mounted read-only, on every node if asked, and
/// records the lint checks this trips on purpose beside the workload's own.
fn host_access(host: &super::HostAccess, workload: &mut Value) {
    let accepted = host.accepted_checks();
    if !accepted.is_empty() {
        let annotation = &mut workload["metadata"]["annotations"][crate::lint::IGNORE_ANNOTATION];
        let mut ids: Vec<&str> = annotation
            .as_str()
            .map(|s| s.split(',').filter(|id| !id.is_empty()).collect())
            .unwrap_or_default();
        ids.extend(accepted);
        *annotation = json!(ids.join(","));
    }
    let pod = pod_spec(workload);
    if host.network {
        pod["hostNetwork"] = json!(true);
        // Cluster names still resolve from the node's network.
        pod["dnsPolicy"] = json!("ClusterFirstWithHostNet");
    }
    if host.pid {
        pod["hostPID"] = json!(true);
    }
    for (name, path, mount) in host.paths {
        push(
            &mut pod["volumes"],
            json!({ "name": name, "hostPath": { "path": path } }),
        );
        let mut volume_mount = json!({ "name": name, "mountPath": mount, "readOnly": true });
        if *path == "/" {
            // Filesystems mounted on the node later show up in the pod too.
            volume_mount["mountPropagation"] = json!("HostToContainer");
        }
        push(&mut pod["containers"][0]["volumeMounts"], volume_mount);
    }
    if host.every_node {
        pod["tolerations"] = json!([{ "operator": "Exists" }]);
    }
}

/// Metadata of an extra object of a service.
pub fn metadata(platform: &crate::model::Platform, service: &Service, name: &str) -> Value {
    json!({
        "name": name,
        "namespace": service.namespace,
        "labels": crate::render::service_labels(platform, service),
    })
}

/// Kubernetes quantity text of a service's resources, GPUs included.
pub fn resource_values(service: &Service) -> Value {
    use crate::quantity::Measure;
    let r = &service.resources;
    let mut out = json!({
        "requests": { "cpu": r.requests.cpu.to_kubernetes(Measure::Cpu), "memory": r.requests.memory.to_kubernetes(Measure::Bytes) },
        "limits": { "cpu": r.limits.cpu.to_kubernetes(Measure::Cpu), "memory": r.limits.memory.to_kubernetes(Measure::Bytes) },
    });
    if service.gpu > 0 {
        out["requests"]["nvidia.com/gpu"] = json!(service.gpu.to_string());
        out["limits"]["nvidia.com/gpu"] = json!(service.gpu.to_string());
    }
    out
}

/// The node pool of a service as an operator's pod template takes it:
/// `nodeSelector` and `tolerations` (empty ones left out); `None` without
/// a pool.
pub fn pool_scheduling(platform: &crate::model::Platform, service: &Service) -> Option<Value> {
    let (selector, tolerations) = crate::render::workload::placement(platform, service)?;
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
pub fn claim_spec(service: &Service, size: &str) -> Value {
    let access = service
        .storage
        .as_ref()
        .map_or("ReadWriteOnce", |s| s.access.as_str());
    let mut spec =
        json!({ "accessModes": [access], "resources": { "requests": { "storage": size } } });
    if let Some(class) = service.storage.as_ref().and_then(|s| s.class.as_ref()) {
        spec["storageClassName"] = json!(class);
    }
    spec
}

/// A Job running one setup script beside a blueprint's servers (topics,
/// buckets, databases), as `user`, under the ServiceAccount `account`: the
/// restricted profile, `/tmp` its only writable place. `container` gives
/// the name, image, command, env and resources. In a meshed namespace the
/// Istio sidecar is injected as a native sidecar, which stops when the
/// script ends: a classic one would keep the Job from completing, and none
/// at all would leave the script without the mTLS its servers demand.
pub fn setup_job(
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
        template["annotations"] =
            json!({ crate::render::workload::NATIVE_SIDECAR_ANNOTATION: "true" });
    }
    json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": metadata(platform, service, name),
        "spec": {
            "backoffLimit": 6,
            "template": {
                "metadata": template,
                "spec": {
                    "restartPolicy": "OnFailure",
                    "serviceAccountName": account,
                    "automountServiceAccountToken": false,
                    "securityContext": { "runAsNonRoot": true, "runAsUser": user, "runAsGroup": user, "seccompProfile": { "type": "RuntimeDefault" } },
                    "containers": [container],
                    "volumes": [{ "name": "tmp", "emptyDir": {} }],
                },
            },
        },
    })
}

/// What a metrics exporter beside a server asks for and may use.
pub const EXPORTER_SIZE: Size = Size {
    requests: ("25m", "32Mi"),
    limits: ("100m", "64Mi"),
};

/// A metrics exporter sidecar: `image` running as `user`, reading its
/// server on localhost as `env` says, serving Prometheus metrics on `port`
/// (named `metrics`), probed on that port, restricted, of [`EXPORTER_SIZE`].
pub fn exporter(name: &str, image: &str, port: u16, user: u32, env: Value) -> Value {
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
pub const DATABASES_JOB_LABEL: &str = "strata.dev/databases-of";

/// What a setup Job that reaches its servers asks for and may use.
const SETUP_SIZE: Size = Size {
    requests: ("50m", "64Mi"),
    limits: ("200m", "256Mi"),
};

/// A setup Job that talks to its service's servers (creating databases,
/// buckets, users…): its pods are a member group of the service, labelled
/// `label: SERVICE`.
pub struct MemberSetup<'a> {
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
pub fn member_setup(
    platform: &crate::model::Platform,
    service: &Service,
    setup: MemberSetup<'_>,
) -> Vec<Value> {
    let name = format!("{}-{}", service.name, setup.what);
    let mut labels = metadata(platform, service, &name)["labels"].clone();
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
pub fn setup_account(platform: &crate::model::Platform, service: &Service, name: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": metadata(platform, service, name),
        "automountServiceAccountToken": false,
    })
}

/// The storage size of a service's volume, as Kubernetes writes it.
pub fn storage_size(service: &Service) -> String {
    service.storage.as_ref().map_or_else(
        || "10Gi".to_string(),
        |v| v.size.to_kubernetes(crate::quantity::Measure::Bytes),
    )
}

/// Cluster-wide read access for a service's own account: a ClusterRole
/// `PLATFORM-NAMESPACE-NAME` of `rules`, bound to the account, and, with
/// NetworkPolicies, egress to the API server (`NAME-api-server`).
pub fn cluster_reader(
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
            "metadata": metadata(platform, service, &format!("{}-api-server", service.name)),
            "spec": {
                "podSelector": { "matchLabels": crate::render::network::pod_selector(platform, service) },
                "policyTypes": ["Egress"],
                "egress": [api_server(platform)],
            },
        }));
    }
    out
}

/// Egress to the API server: to `network.apiServer` when the platform
/// says where it is, else to any address on its ports.
pub fn api_server(platform: &crate::model::Platform) -> Value {
    match &platform.network.api_server {
        Some(cidr) => crate::render::network::api_server_rule(cidr),
        None => json!({ "ports": tcp(&[443, 6443]) }),
    }
}

/// Ports as NetworkPolicy ports.
fn tcp(ports: &[u16]) -> Vec<Value> {
    ports
        .iter()
        .map(|p| json!({ "protocol": "TCP", "port": p }))
        .collect()
}

/// NetworkPolicies for the groups of pods the platform's graph does not
/// name (a Sentinel group, an operator's pods, a Keeper ensemble), one per
/// group: the groups talk among themselves; the service's callers reach the
/// first group on the member ports; an operator reaches its ports, from its
/// namespace when a tier of the platform installs it; operated pods reach
/// the API server.
pub fn member_policies(
    platform: &crate::model::Platform,
    service: &Service,
    tuning: &Tuning,
) -> Vec<Value> {
    let groups = &tuning.supplied.members;
    let peers: Vec<Value> = groups
        .iter()
        .map(|g| json!({ "podSelector": g.selector }))
        .collect();
    let callers: Vec<Value> = platform
        .edges
        .iter()
        .filter(|e| platform.services[e.to.0].name == service.name)
        .map(|e| crate::render::network::service_peer(platform, &platform.services[e.from.0]))
        .collect();
    let operator = match &tuning.operator_namespace {
        Some(namespace) => {
            json!({ "namespaceSelector": { "matchLabels": { "kubernetes.io/metadata.name": namespace } } })
        }
        None => json!({ "namespaceSelector": {} }),
    };
    let mut out: Vec<Value> = groups
        .iter()
        .enumerate()
        .map(|(i, group)| {
            let mut ingress = vec![json!({ "from": peers })];
            if i == 0 && !callers.is_empty() && !tuning.supplied.member_ports.is_empty() {
                ingress.push(json!({ "from": callers, "ports": tcp(&tuning.supplied.member_ports) }));
            }
            if !group.operator_ports.is_empty() {
                ingress.push(json!({ "from": [operator], "ports": tcp(&group.operator_ports) }));
            }
            let mut egress = vec![json!({ "to": peers })];
            if tuning.mode.operated {
                egress.push(api_server(platform));
            }
            json!({
                "apiVersion": "networking.k8s.io/v1",
                "kind": "NetworkPolicy",
                "metadata": metadata(platform, service, &format!("{}-{}", service.name, group.name)),
                "spec": { "podSelector": group.selector, "policyTypes": ["Ingress", "Egress"], "ingress": ingress, "egress": egress },
            })
        })
        .collect();
    // An operator in a namespace of the platform (installed by a tier) sits
    // behind that namespace's default deny: let it reach its pods and the
    // API server. Another namespace's policies are not this platform's.
    if let Some(namespace) = tuning
        .operator_namespace
        .as_ref()
        .filter(|n| platform.namespaces.iter().any(|own| own.name == **n))
    {
        let mut egress: Vec<Value> = groups
            .iter()
            .filter(|g| !g.operator_ports.is_empty())
            .map(|g| {
                json!({
                    "to": [{ "namespaceSelector": { "matchLabels": { "kubernetes.io/metadata.name": service.namespace } }, "podSelector": g.selector }],
                    "ports": tcp(&g.operator_ports),
                })
            })
            .collect();
        if !egress.is_empty() {
            egress.push(api_server(platform));
            let mut meta = metadata(platform, service, &format!("{}-operator", service.name));
            meta["namespace"] = json!(namespace);
            out.push(json!({
                "apiVersion": "networking.k8s.io/v1",
                "kind": "NetworkPolicy",
                "metadata": meta,
                "spec": { "podSelector": {}, "policyTypes": ["Egress"], "egress": egress },
            }));
        }
    }
    out
}
