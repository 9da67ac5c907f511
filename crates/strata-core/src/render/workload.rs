//! Workloads: the pod template every production default lives in, and the
//! controller that runs it (Deployment, StatefulSet, DaemonSet, Job, CronJob).

use serde_json::{Map, Value, json};

use super::labels;
use super::scheduling::QUEUE_ANNOTATION;
use super::service::{config_name, headless_name};
use crate::model::{
    EnvValue, HostAccess, InitStep, Platform, Probes, Profile, Protocol, Service, Tuning,
    WorkloadKind,
};
use crate::quantity::Measure;

/// The name of a stateless service's volume claim.
pub fn claim_name(service: &Service) -> String {
    format!("{}-data", service.name)
}

/// The claims of a service that is not a StatefulSet, with the pod volume
/// name each is mounted under: `storage` (`data`), then `volumes`.
fn claims(service: &Service) -> Vec<(String, String, &crate::model::Volume)> {
    let storage = service
        .storage
        .iter()
        .map(|v| ("data".to_string(), claim_name(service), v));
    let named = service.volumes.iter().map(|v| {
        (
            v.name.clone(),
            format!("{}-{}", service.name, v.name),
            &v.volume,
        )
    });
    storage.chain(named).collect()
}

/// Seconds a pod keeps serving after it is told to stop, so that endpoints
/// and load balancers stop sending it traffic first.
const DRAIN_SECONDS: u64 = 5;

/// The controller of a service, and a volume claim for a stateless one.
pub fn render(platform: &Platform, service: &Service) -> Vec<Value> {
    let selector = labels::selector(platform, service);
    let mut metadata = labels::metadata(platform, service, &service.name);
    let accepted = accepted_exceptions(service);
    if !accepted.is_empty() {
        metadata["annotations"] = json!({ crate::lint::IGNORE_ANNOTATION: accepted.join(",") });
    }
    let template = pod_template(platform, service);
    let mut out = Vec::new();
    // A StatefulSet claims per pod; every other controller mounts claims
    // made once, beside it.
    if service.kind != WorkloadKind::Stateful {
        for (_, name, volume) in claims(service) {
            let mut claim = json!({
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "metadata": labels::metadata(platform, service, &name),
                "spec": claim_spec(volume),
            });
            claim["metadata"]["annotations"] = json!({ "strata.dev/keep": "true" });
            out.push(claim);
        }
    }
    match service.kind {
        WorkloadKind::Stateless => {
            let mut spec = json!({
                "selector": { "matchLabels": selector },
                "revisionHistoryLimit": 10,
                "progressDeadlineSeconds": 600,
                "strategy": { "type": "RollingUpdate", "rollingUpdate": { "maxSurge": "25%", "maxUnavailable": 0 } },
                "template": template,
            });
            if service.all_volumes().any(|v| !v.access.is_shared()) {
                // One read-write-once volume cannot be attached to two pods
                // at once: replace, do not surge.
                spec["strategy"] = json!({ "type": "Recreate" });
            }
            if service.runtime.autoscale.is_none() {
                spec["replicas"] = json!(service.replicas);
            }
            out.push(json!({ "apiVersion": "apps/v1", "kind": "Deployment", "metadata": metadata, "spec": spec }));
        }
        WorkloadKind::Stateful => {
            let mut spec = json!({
                "serviceName": headless_name(service),
                "selector": { "matchLabels": selector },
                "revisionHistoryLimit": 10,
                "updateStrategy": { "type": "RollingUpdate" },
                // Data outlives scale-downs and deletions unless removed on purpose.
                "persistentVolumeClaimRetentionPolicy": { "whenDeleted": "Retain", "whenScaled": "Retain" },
                "template": template,
            });
            if service.runtime.autoscale.is_none() {
                spec["replicas"] = json!(service.replicas);
            }
            let templates: Vec<Value> = service
                .storage
                .iter()
                .map(|v| ("data", v))
                .chain(service.volumes.iter().map(|v| (v.name.as_str(), &v.volume)))
                .map(|(name, volume)| {
                    json!({
                        "metadata": { "name": name, "labels": labels::service(platform, service) },
                        "spec": claim_spec(volume),
                    })
                })
                .collect();
            if !templates.is_empty() {
                spec["volumeClaimTemplates"] = json!(templates);
            }
            out.push(json!({ "apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": metadata, "spec": spec }));
        }
        WorkloadKind::Daemon => out.push(json!({
            "apiVersion": "apps/v1",
            "kind": "DaemonSet",
            "metadata": metadata,
            "spec": {
                "selector": { "matchLabels": selector },
                "revisionHistoryLimit": 10,
                "updateStrategy": { "type": "RollingUpdate", "rollingUpdate": { "maxUnavailable": 1 } },
                "template": template,
            },
        })),
        WorkloadKind::Job => out.push(json!({
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": metadata,
            "spec": { "backoffLimit": 4, "template": template },
        })),
        WorkloadKind::Cron => out.push(json!({
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "metadata": metadata,
            "spec": {
                "schedule": service.schedule.clone().unwrap_or_default(),
                "concurrencyPolicy": "Forbid",
                "successfulJobsHistoryLimit": 3,
                "failedJobsHistoryLimit": 3,
                "jobTemplate": { "metadata": { "labels": labels::service(platform, service) }, "spec": { "backoffLimit": 4, "template": template } },
            },
        })),
    }
    out
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
    } else if security.run_as_user == 0 {
        ids.push("run-as-root");
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
    ids
}

/// The spec of a claim for one volume: access mode, size and class.
pub(crate) fn claim_spec(volume: &crate::model::Volume) -> Value {
    let mut spec = json!({
        "accessModes": [volume.access.as_str()],
        "resources": { "requests": { "storage": volume.size.to_kubernetes(Measure::Bytes) } },
    });
    if let Some(class) = &volume.class {
        spec["storageClassName"] = json!(class);
    }
    spec
}

/// The image of the init containers that wait for a service to answer.
const WAIT_IMAGE: &str = "busybox:1.36.1";

/// One init container per service `service` waits for (a tier counts as
/// each of its services), each polling the first TCP port of its Service
/// until it answers.
fn wait_containers(platform: &Platform, service: &Service) -> Vec<Value> {
    let mut targets: Vec<&Service> = Vec::new();
    for need in service.needs.iter().filter(|n| n.wait) {
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
            Some(json!({
                "name": format!("wait-{}", target.name),
                "image": WAIT_IMAGE,
                "imagePullPolicy": "IfNotPresent",
                "command": ["sh", "-c", format!(
                    "until nc -z -w 2 {host} {port}; do echo waiting for {name}; sleep 2; done",
                    name = target.name,
                )],
                "resources": { "requests": { "cpu": "10m", "memory": "16Mi" }, "limits": { "cpu": "50m", "memory": "32Mi" } },
                "securityContext": container_security(service),
            }))
        })
        .collect()
}

/// The pod annotation asking Istio's injector for its proxy as a native
/// sidecar: an init container that runs beside the later ones (init steps
/// reach the network through it) and stops with the main containers (a
/// setup Job completes).
pub(crate) const NATIVE_SIDECAR_ANNOTATION: &str = "sidecar.istio.io/nativeSidecar";

/// The init container of one `init:` step: the service's security context
/// and every mount of its container, so it can fill its volumes.
fn init_container(service: &Service, step: &InitStep, mounts: &[Value]) -> Value {
    let r = &step.resources;
    let mut container = json!({
        "name": step.name,
        "image": step.image,
        "imagePullPolicy": "IfNotPresent",
        "resources": {
            "requests": { "cpu": r.requests.cpu.to_kubernetes(Measure::Cpu), "memory": r.requests.memory.to_kubernetes(Measure::Bytes) },
            "limits": { "cpu": r.limits.cpu.to_kubernetes(Measure::Cpu), "memory": r.limits.memory.to_kubernetes(Measure::Bytes) },
        },
        "securityContext": container_security(service),
    });
    if !step.command.is_empty() {
        container["command"] = json!(step.command);
    }
    if !step.args.is_empty() {
        container["args"] = json!(step.args);
    }
    if !step.env.is_empty() {
        container["env"] = step.env.iter().map(env_var).collect();
    }
    if !mounts.is_empty() {
        container["volumeMounts"] = json!(mounts);
    }
    container
}

fn pod_template(platform: &Platform, service: &Service) -> Value {
    let runtime = &service.runtime;
    let security = &runtime.security;
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
    let mut pod_security = json!({ "seccompProfile": { "type": "RuntimeDefault" } });
    if security.profile != Profile::Privileged {
        pod_security["runAsUser"] = json!(security.run_as_user);
        pod_security["runAsGroup"] = json!(security.run_as_group);
        pod_security["fsGroup"] = json!(security.fs_group);
        pod_security["fsGroupChangePolicy"] = json!("OnRootMismatch");
        if security.run_as_user != 0 {
            pod_security["runAsNonRoot"] = json!(true);
        }
    }
    let (volumes, mounts) = volumes(service);
    let mut container = json!({
        "name": service.name,
        "image": service.image.clone().unwrap_or_default(),
        "imagePullPolicy": "IfNotPresent",
        "resources": resources(service),
        "securityContext": container_security(service),
    });
    if !service.command.is_empty() {
        container["command"] = json!(service.command);
    }
    if !service.args.is_empty() {
        container["args"] = json!(service.args);
    }
    if !service.ports.is_empty() {
        container["ports"] = service
            .ports
            .iter()
            .map(|p| json!({ "name": p.name, "containerPort": p.number, "protocol": if p.protocol == Protocol::Udp { "UDP" } else { "TCP" } }))
            .collect();
    }
    let env: Vec<Value> = service
        .env
        .iter()
        .filter(|var| !(service.env_config_map && matches!(var.value, EnvValue::Literal(_))))
        .map(env_var)
        .chain(super::traffic::env(platform, service))
        .chain(super::external::env(platform, service))
        .collect();
    if service.env_config_map {
        // `env` wins over `envFrom`, so the variables Strata sets itself
        // cannot be shadowed by an edit of the ConfigMap.
        container["envFrom"] =
            json!([{ "configMapRef": { "name": super::service::env_config_name(service) } }]);
    }
    if !env.is_empty() {
        container["env"] = json!(env);
    }
    if !mounts.is_empty() {
        container["volumeMounts"] = json!(mounts);
    }
    if let Some(probes) = &runtime.probes {
        let port = service
            .ports
            .iter()
            .find(|p| p.name == probes.port)
            .map_or(0, |p| p.number);
        container["startupProbe"] = probe(
            probes,
            port,
            &probes.path,
            5,
            probes.startup_seconds.div_ceil(5),
        );
        container["readinessProbe"] = probe(probes, port, &probes.readiness_path, 10, 3);
        container["livenessProbe"] = probe(probes, port, &probes.path, 20, 3);
    }
    let long_running = service.kind.is_long_running();
    if long_running
        && !service.ports.is_empty()
        && runtime.termination_grace_seconds > DRAIN_SECONDS
    {
        container["lifecycle"] = json!({ "preStop": { "sleep": { "seconds": DRAIN_SECONDS } } });
    }
    let mut spec = json!({
        "serviceAccountName": service.name,
        "automountServiceAccountToken": runtime.service_account_token,
        "terminationGracePeriodSeconds": runtime.termination_grace_seconds,
        "securityContext": pod_security,
        "containers": [container],
    });
    if !long_running {
        spec["restartPolicy"] = json!("OnFailure");
    }
    let mut init = if service.wait_in_pod {
        wait_containers(platform, service)
    } else {
        Vec::new()
    };
    init.extend(
        service
            .init
            .iter()
            .map(|step| init_container(service, step, &mounts)),
    );
    if !init.is_empty() {
        spec["initContainers"] = json!(init);
    }
    let runs_to_completion = matches!(service.kind, WorkloadKind::Job | WorkloadKind::Cron);
    if (!service.init.is_empty() || runs_to_completion) && platform.in_mesh(&service.namespace) {
        // A classic sidecar starts after the init containers, whose calls
        // its iptables rules send to a proxy not yet there, and never exits,
        // so a Job's pod never completes; injected as a native sidecar
        // (Istio 1.24+, Kubernetes 1.29+), the proxy is an init container
        // itself, started before these steps and stopped with the job.
        annotations.insert(NATIVE_SIDECAR_ANNOTATION.into(), json!("true"));
    }
    if let Some(priority) = &service.priority {
        spec["priorityClassName"] = json!(priority);
    }
    if let Some(scheduler) = service.scheduler {
        spec["schedulerName"] = json!(scheduler.as_str());
        // Volcano files a pod of no job of its own under the queue this
        // annotation names (the namespace's, see `scheduling::queues`).
        annotations.insert(QUEUE_ANNOTATION.into(), json!(service.namespace));
    }
    if !volumes.is_empty() {
        spec["volumes"] = json!(volumes);
    }
    if let Some((selector, tolerations)) = placement(platform, service) {
        if !selector.is_empty() {
            spec["nodeSelector"] = json!(selector);
        }
        if !tolerations.is_empty() {
            spec["tolerations"] = json!(tolerations);
        }
    }
    let replicated = service.replicas > 1 || runtime.autoscale.is_some_and(|a| a.max > 1);
    if runtime.spread
        && replicated
        && matches!(
            service.kind,
            WorkloadKind::Stateless | WorkloadKind::Stateful
        )
    {
        let selector = json!({ "matchLabels": labels::selector(platform, service) });
        spec["topologySpreadConstraints"] = json!([
            { "maxSkew": 1, "topologyKey": "kubernetes.io/hostname", "whenUnsatisfiable": "ScheduleAnyway", "labelSelector": selector },
            { "maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "ScheduleAnyway", "labelSelector": selector },
        ]);
    }
    let mut metadata = json!({ "labels": labels::service(platform, service) });
    if !annotations.is_empty() {
        metadata["annotations"] = Value::Object(annotations);
    }
    json!({ "metadata": metadata, "spec": spec })
}

/// Where a service's node pool puts its pods: the pool's node labels and
/// the tolerations of its taints; `None` without a pool.
pub fn placement(
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

fn resources(service: &Service) -> Value {
    let r = &service.resources;
    let mut requests = json!({
        "cpu": r.requests.cpu.to_kubernetes(Measure::Cpu),
        "memory": r.requests.memory.to_kubernetes(Measure::Bytes),
    });
    let mut limits = json!({
        "cpu": r.limits.cpu.to_kubernetes(Measure::Cpu),
        "memory": r.limits.memory.to_kubernetes(Measure::Bytes),
    });
    if service.gpu > 0 {
        requests["nvidia.com/gpu"] = json!(service.gpu.to_string());
        limits["nvidia.com/gpu"] = json!(service.gpu.to_string());
    }
    json!({ "requests": requests, "limits": limits })
}

fn container_security(service: &Service) -> Value {
    let security = &service.runtime.security;
    match security.profile {
        Profile::Privileged => json!({ "allowPrivilegeEscalation": true }),
        profile => {
            let mut capabilities = json!({ "drop": ["ALL"] });
            if !security.capabilities.is_empty() {
                capabilities["add"] = json!(security.capabilities);
            }
            let mut context = json!({
                "allowPrivilegeEscalation": false,
                "privileged": false,
                "readOnlyRootFilesystem": security.read_only_root,
                "capabilities": capabilities,
            });
            if profile == Profile::Restricted || security.run_as_user != 0 {
                context["runAsNonRoot"] = json!(security.run_as_user != 0);
            }
            context
        }
    }
}

fn env_var(var: &crate::model::EnvVar) -> Value {
    match &var.value {
        EnvValue::Literal(value) => json!({ "name": var.name, "value": value }),
        EnvValue::Secret { name, key } => {
            json!({ "name": var.name, "valueFrom": { "secretKeyRef": { "name": name, "key": key } } })
        }
        EnvValue::Config { name, key } => {
            json!({ "name": var.name, "valueFrom": { "configMapKeyRef": { "name": name, "key": key } } })
        }
    }
}

fn volumes(service: &Service) -> (Vec<Value>, Vec<Value>) {
    let mut volumes = Vec::new();
    let mut mounts = Vec::new();
    if service.runtime.security.read_only_root
        && service.runtime.security.profile != Profile::Privileged
    {
        volumes.push(json!({ "name": "tmp", "emptyDir": {} }));
        mounts.push(json!({ "name": "tmp", "mountPath": "/tmp" }));
    }
    for (i, path) in service.scratch.iter().enumerate() {
        // Named apart from a blueprint's own `scratch-N` directories.
        let name = format!("writable-{i}");
        volumes.push(json!({ "name": name, "emptyDir": {} }));
        mounts.push(json!({ "name": name, "mountPath": path }));
    }
    for (name, claim, volume) in claims(service) {
        let read_only = volume.access == crate::model::AccessMode::ReadOnlyMany;
        let mut mount = json!({ "name": name, "mountPath": volume.mount_path });
        if read_only {
            mount["readOnly"] = json!(true);
        }
        mounts.push(mount);
        if service.kind != WorkloadKind::Stateful {
            volumes.push(json!({ "name": name, "persistentVolumeClaim": { "claimName": claim } }));
        }
    }
    if let Some(config) = &service.config {
        volumes.push(json!({ "name": "config", "configMap": { "name": config_name(service) } }));
        mounts.push(json!({ "name": "config", "mountPath": config.mount_path, "readOnly": true }));
    }
    (volumes, mounts)
}

fn probe(probes: &Probes, port: u16, path: &str, period: u32, failures: u32) -> Value {
    let mut probe = match probes.protocol {
        Protocol::Http => json!({ "httpGet": { "path": path, "port": probes.port } }),
        // The gRPC health protocol needs the port number, not its name.
        Protocol::Grpc => json!({ "grpc": { "port": port } }),
        Protocol::Tcp | Protocol::Udp => json!({ "tcpSocket": { "port": probes.port } }),
    };
    probe["periodSeconds"] = json!(period);
    probe["timeoutSeconds"] = json!(3);
    probe["failureThreshold"] = json!(failures.max(1));
    probe
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
fn pod_spec(workload: &mut Value) -> &mut Value {
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
pub(super) fn amend(tuning: &Tuning, objects: &mut [Value]) {
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
fn host_access(host: &HostAccess, workload: &mut Value) {
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
