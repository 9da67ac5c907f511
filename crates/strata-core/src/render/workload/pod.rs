//! The pod template every production default lives in, built once from the
//! service as the model settled it: its container, init steps and waits,
//! security, volumes, probes, placement and spread, then what its blueprint
//! adds to the image's pod (the node's namespaces and paths, scratch
//! directories, the ConfigMaps its objects render, sidecars, the pod's
//! identity).

use std::collections::HashSet;

use serde_json::{Map, Value, json};

use super::super::body::Detail;
use super::super::gateway::ProxyPod;
use super::super::scheduling::QUEUE_ANNOTATION;
use super::super::service::{config_name, env_config_name};
use super::super::{labels, object};
use super::{claims, placement};
use crate::model::{
    Amounts, Container, EnvValue, Platform, Probe, ProbeCheck, Profile, Protocol, Resources,
    Service, Sidecar, Supplied, WorkloadKind,
};
use crate::quantity::Measure;

/// Seconds a pod keeps serving after it is told to stop, so that endpoints
/// and load balancers stop sending it traffic first.
const DRAIN_SECONDS: u64 = 5;

/// The prefix of the volumes of the service's `scratch` directories.
const SCRATCH_VOLUME: &str = "writable-";

/// The image of the init containers that wait for a service to answer.
const WAIT_IMAGE: &str = "busybox:1.36.1";

/// One init container per service `service` waits for (a tier counts as
/// each of its services), each polling the first TCP port of its Service
/// until it answers.
fn wait_containers(platform: &Platform, service: &Service) -> Vec<Value> {
    let mut targets: Vec<&Service> = Vec::new();
    for need in service.needs.iter().filter(|n| n.wait && n.from_pods()) {
        let ids = match need.target {
            crate::model::DependencyTarget::Service(id) => vec![id],
            crate::model::DependencyTarget::Tier(t) => platform.tiers[t.0].services.clone(),
        };
        for id in ids {
            let target = &platform.services[id.0];
            if target.name != service.name && !targets.iter().any(|t| t.name == target.name) {
                targets.push(target);
            }
        }
    }
    targets
        .into_iter()
        .filter_map(|target| {
            // A blueprint's clients dial its exported host and port (an
            // operator's Service such as `NAME-rw`); others the Service.
            let port = match target.exported("port").and_then(|p| p.parse::<u16>().ok()) {
                Some(port) => port,
                None => target
                    .ports
                    .iter()
                    .find(|p| p.protocol != Protocol::Udp)?
                    .service_port(),
            };
            let host = target.dialed_host();
            let command = format!(
                "until nc -z -w 2 {host} {port}; do echo waiting for {name}; sleep 2; done",
                name = target.name,
            );
            Some(object([
                ("name", Value::String(format!("wait-{}", target.name))),
                ("image", Value::from(WAIT_IMAGE)),
                ("imagePullPolicy", Value::from("IfNotPresent")),
                (
                    "command",
                    Value::Array(vec![
                        Value::from("sh"),
                        Value::from("-c"),
                        Value::String(command),
                    ]),
                ),
                (
                    "resources",
                    object([
                        ("requests", amounts("10m", "16Mi")),
                        ("limits", amounts("50m", "32Mi")),
                    ]),
                ),
                ("securityContext", container_security(service)),
            ]))
        })
        .collect()
}

/// The pod annotation asking Istio's injector for its proxy as a native
/// sidecar: an init container that runs beside the later ones (init steps
/// reach the network through it) and stops with the main containers (a
/// setup Job completes).
pub(crate) const NATIVE_SIDECAR_ANNOTATION: &str = "sidecar.istio.io/nativeSidecar";

/// A container of the service's pods besides its main one, with the
/// service's security context and the `mounts` given: an init step gets
/// every mount of the main container (it fills its volumes), a sidecar the
/// ones it names and its own ports.
fn added_container(service: &Service, added: &Container, mounts: &[&Value]) -> Value {
    let mut container = object([
        ("name", Value::String(added.name.clone())),
        ("image", Value::String(added.image.clone())),
        ("imagePullPolicy", Value::from("IfNotPresent")),
        ("resources", resource_values(&added.resources, 0)),
        ("securityContext", container_security(service)),
    ]);
    if !added.command.is_empty() {
        container["command"] = json!(added.command);
    }
    if !added.args.is_empty() {
        container["args"] = json!(added.args);
    }
    let ports = container_ports(service, Some(&added.name));
    if !ports.is_empty() {
        container["ports"] = Value::Array(ports);
    }
    if !added.env.is_empty() {
        container["env"] = added.env.iter().map(env_var).collect();
    }
    if !mounts.is_empty() {
        container["volumeMounts"] = mounts.iter().map(|&mount| mount.clone()).collect();
    }
    container
}

/// The container of one of the service's `sidecars:`.
fn sidecar_container(service: &Service, sidecar: &Sidecar, mounts: &[Value]) -> Value {
    let shared: Vec<&Value> = mounts
        .iter()
        .filter(|mount| {
            let volume = mount["name"].as_str().unwrap_or_default();
            sidecar.mounts.iter().any(|wanted| {
                volume == wanted || (wanted == "scratch" && volume.starts_with(SCRATCH_VOLUME))
            })
        })
        .collect();
    added_container(service, &sidecar.container, &shared)
}

/// The ports of the main container (`sidecar` `None`) or of one sidecar.
fn container_ports(service: &Service, sidecar: Option<&String>) -> Vec<Value> {
    service
        .ports
        .iter()
        .filter(|p| p.sidecar.as_ref() == sidecar)
        .map(|p| {
            object([
                ("name", Value::String(p.name.clone())),
                ("containerPort", Value::from(p.number)),
                (
                    "protocol",
                    Value::from(if p.protocol == Protocol::Udp {
                        "UDP"
                    } else {
                        "TCP"
                    }),
                ),
            ])
        })
        .collect()
}

/// The pod template of `service`'s controller, in `detail`: in
/// [`Detail::Admission`], only what the Pod Security Standards evaluate
/// (the pod's security context, host namespaces and volumes, each
/// container's name and security context, the annotations) and the images
/// that name pull secrets. Strata's own container ports bind no host port,
/// so they are left out with the rest.
pub(super) fn pod_template(
    platform: &Platform,
    service: &Service,
    own: &labels::ServiceLabels<'_>,
    detail: Detail,
) -> Value {
    let whole = detail == Detail::Whole;
    let runtime = &service.runtime;
    let mut annotations = Map::new();
    if let Some(metrics) = runtime
        .metrics
        .as_ref()
        .filter(|_| !platform.service_monitors)
    {
        annotations.insert("prometheus.io/scrape".into(), json!("true"));
        annotations.insert(
            "prometheus.io/port".into(),
            json!(metrics.number.to_string()),
        );
        annotations.insert("prometheus.io/path".into(), json!(metrics.path));
    }
    let pod_security = pod_security_context(service);
    let (volumes, mounts) = volumes(service);
    // Sized for every key it may get, so that it never grows.
    let mut container = Map::with_capacity(16);
    container.insert("name".into(), Value::String(service.container.clone()));
    container.insert(
        "image".into(),
        Value::String(service.image.clone().unwrap_or_default()),
    );
    if whole {
        container.insert("imagePullPolicy".into(), Value::from("IfNotPresent"));
        container.insert(
            "resources".into(),
            resource_values(&service.resources, service.rare.gpu),
        );
    }
    container.insert("securityContext".into(), container_security(service));
    if whole {
        add_run_settings(platform, service, &mounts, &mut container);
    }
    let (native, classic): (Vec<&Sidecar>, Vec<&Sidecar>) =
        service.rare.sidecars.iter().partition(|s| s.native);
    let mut containers = vec![Value::Object(container)];
    containers.extend(
        classic
            .iter()
            .map(|sidecar| sidecar_container(service, sidecar, &mounts)),
    );
    // Sized for every key it may get, so that it never grows.
    let mut spec = Map::with_capacity(20);
    if whole {
        spec.insert(
            "serviceAccountName".into(),
            Value::String(service.name.clone()),
        );
        spec.insert(
            "automountServiceAccountToken".into(),
            Value::Bool(runtime.service_account_token),
        );
        spec.insert(
            "terminationGracePeriodSeconds".into(),
            Value::from(runtime.termination_grace_seconds),
        );
    }
    spec.insert("securityContext".into(), pod_security);
    spec.insert("containers".into(), Value::Array(containers));
    if whole && !service.kind.is_long_running() {
        spec.insert("restartPolicy".into(), json!("OnFailure"));
    }
    // Native sidecars first: running before the waits and steps, which may
    // need them, and stopped after the main container.
    let mut init: Vec<Value> = native
        .iter()
        .map(|sidecar| {
            let mut container = sidecar_container(service, sidecar, &mounts);
            container["restartPolicy"] = json!("Always");
            container
        })
        .collect();
    if service.wait_in_pod {
        init.extend(wait_containers(platform, service));
    }
    init.extend(
        service
            .rare
            .init
            .iter()
            .map(|step| added_container(service, step, &mounts.iter().collect::<Vec<_>>())),
    );
    if !init.is_empty() {
        spec.insert("initContainers".into(), Value::Array(init));
    }
    let runs_to_completion = matches!(service.kind, WorkloadKind::Job | WorkloadKind::Cron);
    let starts_early = !service.rare.init.is_empty() || !native.is_empty();
    if (starts_early || runs_to_completion) && platform.in_mesh(&service.namespace) {
        // A classic sidecar starts after the init containers, whose calls
        // its iptables rules send to a proxy not yet there, and never exits,
        // so a Job's pod never completes; injected as a native sidecar
        // (Istio 1.24+, Kubernetes 1.29+), the proxy is an init container
        // itself, started before these steps and stopped with the job.
        annotations.insert(NATIVE_SIDECAR_ANNOTATION.into(), json!("true"));
    }
    if let Some(priority) = service.rare.priority.as_ref().filter(|_| whole) {
        spec.insert("priorityClassName".into(), json!(priority));
    }
    if let Some(scheduler) = service.rare.scheduler {
        if whole {
            spec.insert("schedulerName".into(), json!(scheduler.as_str()));
        }
        // Volcano files a pod of no job of its own under the queue this
        // annotation names (the namespace's, see `scheduling::queues`).
        annotations.insert(QUEUE_ANNOTATION.into(), json!(service.namespace));
    }
    if !volumes.is_empty() {
        spec.insert("volumes".into(), Value::Array(volumes));
    }
    if whole {
        add_scheduling(platform, service, own, &mut spec);
    }
    let mut spec = Value::Object(spec);
    add_proxy_config(
        &mut spec,
        &super::super::gateway::proxy_pod(platform, service),
    );
    if let Some(tuning) = service.tuning.as_ref().filter(|t| !t.mode.operated) {
        add_blueprint_facts(&mut spec, &tuning.supplied, service.kind);
    }
    if platform.merges_metrics(service) {
        // Asked for explicitly, whatever the mesh-wide default
        // (`enablePrometheusMerge`).
        annotations.insert("prometheus.istio.io/merge-metrics".into(), json!("true"));
    }
    super::super::add_pull_secrets(platform, &mut spec);
    // The spec's annotations win over Strata's of the same key.
    for (key, value) in &service.rare.pod_annotations {
        annotations.insert(key.clone(), Value::String(value.clone()));
    }
    let mut metadata = Map::with_capacity(2);
    if whole {
        metadata.insert(
            "labels".into(),
            Value::Object(pod_labels(platform, service, own)),
        );
    }
    if !annotations.is_empty() {
        metadata.insert("annotations".into(), Value::Object(annotations));
    }
    let metadata = Value::Object(metadata);
    object([("metadata", metadata), ("spec", spec)])
}

/// Where the pods run: the node pool's selector and tolerations, and the
/// spread of a replicated service over nodes and zones.
fn add_scheduling(
    platform: &Platform,
    service: &Service,
    own: &labels::ServiceLabels<'_>,
    spec: &mut Map<String, Value>,
) {
    let runtime = &service.runtime;
    if let Some((selector, tolerations)) = placement(platform, service) {
        if !selector.is_empty() {
            spec.insert("nodeSelector".into(), json!(selector));
        }
        if !tolerations.is_empty() {
            spec.insert("tolerations".into(), Value::Array(tolerations));
        }
    }
    let replicated = service.replicas > 1 || runtime.autoscale.as_ref().is_some_and(|a| a.max > 1);
    if runtime.spread
        && replicated
        && matches!(
            service.kind,
            WorkloadKind::Stateless | WorkloadKind::Stateful
        )
    {
        let selector = object([("matchLabels", Value::Object(own.selector()))]);
        let spread = |key: &str, selector: Value| {
            object([
                ("maxSkew", Value::from(1)),
                ("topologyKey", Value::from(key)),
                ("whenUnsatisfiable", Value::from("ScheduleAnyway")),
                ("labelSelector", selector),
            ])
        };
        spec.insert(
            "topologySpreadConstraints".into(),
            Value::Array(vec![
                spread("kubernetes.io/hostname", selector.clone()),
                spread("topology.kubernetes.io/zone", selector),
            ]),
        );
    }
}

/// The labels of the service's pods: its own, the labels by which a tier
/// needed as a whole selects its callers, and the spec's `podLabels`.
fn pod_labels(
    platform: &Platform,
    service: &Service,
    own: &labels::ServiceLabels<'_>,
) -> Map<String, Value> {
    let mut pod_labels = own.labels();
    // The callee side of a tier needed as a whole selects its callers by
    // this label (render/network.rs).
    for tier in super::super::network::needs_label(platform, service) {
        let key = super::super::network::needs_key(&platform.tiers[tier.0].name);
        pod_labels.insert(key, json!("true"));
    }
    for (key, value) in &service.rare.pod_labels {
        pod_labels.insert(key.clone(), Value::String(value.clone()));
    }
    pod_labels
}

/// What the main container runs and how: its command, ports, variables,
/// mounts, probes and stop hook, after its security context.
fn add_run_settings(
    platform: &Platform,
    service: &Service,
    mounts: &[Value],
    container: &mut Map<String, Value>,
) {
    let runtime = &service.runtime;
    if !service.rare.command.is_empty() {
        container.insert("command".into(), json!(service.rare.command));
    }
    if !service.rare.args.is_empty() {
        container.insert("args".into(), json!(service.rare.args));
    }
    let ports = container_ports(service, None);
    if !ports.is_empty() {
        container.insert("ports".into(), Value::Array(ports));
    }
    let env: Vec<Value> = service
        .env
        .iter()
        .filter(|var| !(service.env_config_map && matches!(var.value, EnvValue::Literal(_))))
        .map(env_var)
        .chain(super::super::traffic::env(platform, service))
        .chain(super::super::external::env(platform, service))
        .collect();
    if service.env_config_map {
        // `env` wins over `envFrom`, so the variables Strata sets itself
        // cannot be shadowed by an edit of the ConfigMap.
        container.insert(
            "envFrom".into(),
            Value::Array(vec![object([(
                "configMapRef",
                object([("name", Value::String(env_config_name(service)))]),
            )])]),
        );
    }
    if !env.is_empty() {
        container.insert("env".into(), Value::Array(env));
    }
    if !mounts.is_empty() {
        container.insert("volumeMounts".into(), Value::Array(mounts.to_vec()));
    }
    if let Some(probes) = &runtime.probes {
        for (key, probe) in [
            ("startupProbe", &probes.startup),
            ("readinessProbe", &probes.readiness),
            ("livenessProbe", &probes.liveness),
        ] {
            if let Some(probe) = probe {
                container.insert(key.into(), probe_value(probe));
            }
        }
    }
    let long_running = service.kind.is_long_running();
    if long_running
        && !service.ports.is_empty()
        && runtime.termination_grace_seconds > DRAIN_SECONDS
    {
        container.insert(
            "lifecycle".into(),
            object([(
                "preStop",
                object([("sleep", object([("seconds", Value::from(DRAIN_SECONDS))]))]),
            )]),
        );
    }
}

/// The configuration a gateway proxy the service runs reads (Kong's
/// declarative configuration and TLS listener), over its own settings.
fn add_proxy_config(spec: &mut Value, proxy: &ProxyPod) {
    extend(spec, "volumes", proxy.volumes.clone());
    let container = &mut spec["containers"][0];
    extend(container, "volumeMounts", proxy.mounts.clone());
    for (name, value) in &proxy.env {
        let var = json!({ "name": name, "value": value });
        match container["env"].as_array_mut() {
            Some(vars) => match vars.iter_mut().find(|v| v["name"] == *name) {
                Some(existing) => *existing = var,
                None => vars.push(var),
            },
            None => container["env"] = json!([var]),
        }
    }
}

/// What a blueprint adds to its image's pod, after the service's own
/// settings: the node's namespaces and paths, directories the image writes
/// to, the ConfigMaps its objects render, sidecars (which take over the
/// ports named like theirs), and the pod's identity in the environment,
/// with one value per variable (the user's, which come last, win).
///
/// Lists the service's own settings started are extended; a list it left
/// empty starts after its other keys.
fn add_blueprint_facts(spec: &mut Value, supplied: &Supplied, kind: WorkloadKind) {
    let mut volumes = Vec::new();
    let mut mounts = Vec::new();
    if let Some(host) = &supplied.host {
        if host.network {
            spec["hostNetwork"] = json!(true);
            // Cluster names still resolve from the node's network.
            spec["dnsPolicy"] = json!("ClusterFirstWithHostNet");
        }
        if host.pid {
            spec["hostPID"] = json!(true);
        }
        for (name, path, mount) in host.paths {
            volumes.push(json!({ "name": name, "hostPath": { "path": path } }));
            let mut volume_mount = json!({ "name": name, "mountPath": mount, "readOnly": true });
            if *path == "/" {
                // Filesystems mounted on the node later show up in the pod too.
                volume_mount["mountPropagation"] = json!("HostToContainer");
            }
            mounts.push(volume_mount);
        }
        // Before its volumes: the node's paths are all the pod has.
        extend(spec, "volumes", std::mem::take(&mut volumes));
        if host.every_node {
            spec["tolerations"] = json!([{ "operator": "Exists" }]);
        }
    }
    for (i, path) in supplied.scratch.iter().enumerate() {
        let name = format!("scratch-{i}");
        volumes.push(json!({ "name": name, "emptyDir": {} }));
        mounts.push(json!({ "name": name, "mountPath": path }));
    }
    for (i, (config_map, path)) in supplied.mounts.iter().enumerate() {
        let name = format!("mount-{i}");
        volumes.push(json!({ "name": name, "configMap": { "name": config_map } }));
        mounts.push(json!({ "name": name, "mountPath": path, "readOnly": true }));
    }
    extend(spec, "volumes", volumes);
    let container = &mut spec["containers"][0];
    extend(container, "volumeMounts", mounts);
    if !supplied.sidecars.is_empty() {
        let theirs: Vec<&Value> = supplied
            .sidecars
            .iter()
            .flat_map(|c| c["ports"].as_array().into_iter().flatten())
            .map(|p| &p["name"])
            .collect();
        if let Some(ports) = container["ports"].as_array_mut() {
            ports.retain(|p| !theirs.contains(&&p["name"]));
        }
    }
    let mut env: Vec<Value> = container["env"].as_array().cloned().unwrap_or_default();
    if supplied.pod_env {
        let field = |name: &str, path: &str| json!({ "name": name, "valueFrom": { "fieldRef": { "fieldPath": path } } });
        let mut identity = vec![
            field("POD_NAME", "metadata.name"),
            field("POD_NAMESPACE", "metadata.namespace"),
            field("POD_IP", "status.podIP"),
        ];
        if kind == WorkloadKind::Stateful {
            identity.push(field(
                "POD_INDEX",
                "metadata.labels['apps.kubernetes.io/pod-index']",
            ));
        }
        env.splice(0..0, identity);
    }
    let mut seen = HashSet::new();
    let mut unique: Vec<Value> = env
        .into_iter()
        .rev()
        .filter(|v| seen.insert(v["name"].as_str().unwrap_or_default().to_string()))
        .collect();
    unique.reverse();
    if !unique.is_empty() {
        container["env"] = json!(unique);
    }
    extend(spec, "containers", supplied.sidecars.clone());
}

/// Appends `items` to the list under `key` of `object`, starting it (after
/// the object's other keys) when there is none.
fn extend(object: &mut Value, key: &str, items: Vec<Value>) {
    if items.is_empty() {
        return;
    }
    match object[key].as_array_mut() {
        Some(list) => list.extend(items),
        None => object[key] = json!(items),
    }
}

/// Requests and limits as Kubernetes writes them, with `gpu` GPUs: an
/// extended resource is always limited, so a pod without limits
/// (`limits: none`) still limits its GPUs.
pub(crate) fn resource_values(resources: &Resources, gpu: u32) -> Value {
    let amounts = |a: &Amounts| {
        amounts(
            a.cpu.to_kubernetes(Measure::Cpu),
            a.memory.to_kubernetes(Measure::Bytes),
        )
    };
    let mut out = Map::with_capacity(2);
    out.insert("requests".into(), amounts(&resources.requests));
    let mut out = Value::Object(out);
    if let Some(limits) = &resources.limits {
        out["limits"] = amounts(limits);
    }
    if gpu > 0 {
        out["requests"]["nvidia.com/gpu"] = json!(gpu.to_string());
        out["limits"]["nvidia.com/gpu"] = json!(gpu.to_string());
    }
    out
}

/// An amount of CPU and of memory, as requests and limits give them.
fn amounts(cpu: impl Into<String>, memory: impl Into<String>) -> Value {
    object([
        ("cpu", Value::String(cpu.into())),
        ("memory", Value::String(memory.into())),
    ])
}

/// A service's pod security context: the seccomp profile, and under any
/// profile but privileged its user, groups and `runAsNonRoot`. Operated
/// modes hand the same to their operator's pod templates.
pub(crate) fn pod_security_context(service: &Service) -> Value {
    let security = &service.runtime.security;
    let mut pod_security = Map::with_capacity(6);
    pod_security.insert(
        "seccompProfile".into(),
        object([("type", Value::from("RuntimeDefault"))]),
    );
    let mut pod_security = Value::Object(pod_security);
    if security.profile != Profile::Privileged {
        // Left out, the image's own user and group run.
        if let Some(user) = security.run_as_user {
            pod_security["runAsUser"] = json!(user);
        }
        if let Some(group) = security.run_as_group {
            pod_security["runAsGroup"] = json!(group);
        }
        if let Some(group) = security.fs_group {
            pod_security["fsGroup"] = json!(group);
            pod_security["fsGroupChangePolicy"] = json!("OnRootMismatch");
        }
        if security.non_root() {
            pod_security["runAsNonRoot"] = json!(true);
        }
    }
    pod_security
}

/// The security context of a container Strata names in an operator's pod
/// template: a plain container's, but for the root filesystem, which the
/// operator's own configuration of its containers decides (where they
/// write their settings and logs).
pub(crate) fn operated_container_security(service: &Service) -> Value {
    let mut context = container_security(service);
    if let Some(fields) = context.as_object_mut() {
        fields.remove("readOnlyRootFilesystem");
    }
    context
}

fn container_security(service: &Service) -> Value {
    let security = &service.runtime.security;
    if security.profile == Profile::Privileged {
        return object([("allowPrivilegeEscalation", Value::Bool(true))]);
    }
    let mut capabilities = object([("drop", Value::Array(vec![Value::from("ALL")]))]);
    if !security.capabilities.is_empty() {
        capabilities["add"] = json!(security.capabilities);
    }
    let mut context = Map::with_capacity(5);
    for (key, value) in [
        (
            "allowPrivilegeEscalation",
            Value::Bool(security.privilege_escalation),
        ),
        ("privileged", Value::Bool(false)),
        (
            "readOnlyRootFilesystem",
            Value::Bool(security.read_only_root),
        ),
        ("capabilities", capabilities),
    ] {
        context.insert(key.into(), value);
    }
    if security.non_root() {
        context.insert("runAsNonRoot".into(), Value::Bool(true));
    }
    Value::Object(context)
}

fn env_var(var: &crate::model::EnvVar) -> Value {
    // `valueFrom` of a reference to key `key` of the `kind` object `name`.
    let from = |kind: &str, name: &String, key: &String| {
        object([(
            kind,
            object([
                ("name", Value::String(name.clone())),
                ("key", Value::String(key.clone())),
            ]),
        )])
    };
    let (key, value) = match &var.value {
        EnvValue::Literal(value) => ("value", Value::String(value.clone())),
        EnvValue::Secret(r) => ("valueFrom", from("secretKeyRef", &r.name, &r.key)),
        EnvValue::Config(r) => ("valueFrom", from("configMapKeyRef", &r.name, &r.key)),
    };
    object([("name", Value::String(var.name.clone())), (key, value)])
}

fn volumes(service: &Service) -> (Vec<Value>, Vec<Value>) {
    let mut volumes = Vec::new();
    let mut mounts = Vec::new();
    if service.runtime.security.read_only_root
        && service.runtime.security.profile != Profile::Privileged
    {
        volumes.push(object([
            ("name", Value::from("tmp")),
            ("emptyDir", Value::Object(Map::new())),
        ]));
        mounts.push(object([
            ("name", Value::from("tmp")),
            ("mountPath", Value::from("/tmp")),
        ]));
    }
    for (i, scratch) in service.rare.scratch.iter().enumerate() {
        // Named apart from a blueprint's own `scratch-N` directories.
        let name = format!("{SCRATCH_VOLUME}{i}");
        let mut empty = json!({});
        if scratch.memory {
            empty["medium"] = json!("Memory");
        }
        if let Some(size) = scratch.size {
            empty["sizeLimit"] = json!(size.to_kubernetes(Measure::Bytes));
        }
        volumes.push(json!({ "name": name, "emptyDir": empty }));
        mounts.push(json!({ "name": name, "mountPath": scratch.path }));
    }
    for (name, claim, volume) in claims(service) {
        let read_only = volume.access == crate::model::AccessMode::ReadOnlyMany;
        let mut mount = object([
            ("name", Value::String(name.clone())),
            ("mountPath", Value::String(volume.mount_path.clone())),
        ]);
        if read_only {
            mount["readOnly"] = Value::Bool(true);
        }
        mounts.push(mount);
        if service.kind != WorkloadKind::Stateful {
            volumes.push(object([
                ("name", Value::String(name)),
                (
                    "persistentVolumeClaim",
                    object([("claimName", Value::String(claim))]),
                ),
            ]));
        }
    }
    if let Some(config) = &service.config {
        volumes.push(object([
            ("name", Value::from("config")),
            (
                "configMap",
                object([("name", Value::String(config_name(service)))]),
            ),
        ]));
        mounts.push(object([
            ("name", Value::from("config")),
            ("mountPath", Value::String(config.mount_path.clone())),
            ("readOnly", Value::Bool(true)),
        ]));
    }
    (volumes, mounts)
}

/// A probe as Kubernetes takes it.
fn probe_value(probe: &Probe) -> Value {
    let check = match &*probe.check {
        ProbeCheck::Http {
            port,
            path,
            headers,
        } => {
            let mut get = object([("path", json!(path)), ("port", json!(port))]);
            if !headers.is_empty() {
                get["httpHeaders"] = headers
                    .iter()
                    .map(|(name, value)| json!({ "name": name, "value": value }))
                    .collect();
            }
            ("httpGet", get)
        }
        ProbeCheck::Grpc { port } => ("grpc", object([("port", json!(port))])),
        ProbeCheck::Tcp { port } => ("tcpSocket", object([("port", json!(port))])),
        ProbeCheck::Exec { command } => ("exec", object([("command", json!(command))])),
    };
    let mut value = Map::with_capacity(6);
    value.insert(check.0.into(), check.1);
    for (key, number) in [
        ("periodSeconds", Some(probe.period_seconds)),
        ("timeoutSeconds", Some(probe.timeout_seconds)),
        ("failureThreshold", Some(u64::from(probe.failure_threshold))),
        ("initialDelaySeconds", probe.initial_delay_seconds),
        ("successThreshold", probe.success_threshold.map(u64::from)),
    ] {
        if let Some(number) = number {
            value.insert(key.into(), json!(number));
        }
    }
    Value::Object(value)
}
