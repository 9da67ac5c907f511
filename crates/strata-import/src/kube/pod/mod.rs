//! One workload and its pod template to a draft service: image, command,
//! environment, ports, probes, resources, volumes, security, placement.
//! Pod and container settings with no spec key become patches.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1 as core;
use serde_json::{Map, Value, json};

use super::{Index, Object, reserved_label};
use crate::Fate;
use crate::draft::{Draft, DraftPort, DraftService, Kind, Loc};

mod containers;
mod environment;
mod health;
mod privileges;
mod scheduling;
mod sizing;
mod storage;

use containers::{init_step, sidecar};
use environment::env;
use health::probes;
pub(crate) use privileges::read_only_root;
use privileges::{own_security, security};
use scheduling::placement;
use sizing::resources;
pub(crate) use sizing::unset_resources;
use storage::volumes;

/// Images of stores: what a service running one is, for tiers.
const STORES: &[&str] = &[
    "postgres",
    "mysql",
    "mariadb",
    "mongo",
    "redis",
    "valkey",
    "memcached",
    "rabbitmq",
    "kafka",
    "nats",
    "zookeeper",
    "etcd",
    "elasticsearch",
    "opensearch",
    "cassandra",
    "clickhouse",
    "minio",
    "neo4j",
    "qdrant",
    "milvus",
    "influxdb",
    "keydb",
    "couchdb",
];

/// Whether `image` runs a store.
pub(crate) fn store_image(image: &str) -> bool {
    let repo = image.split(['@']).next().unwrap_or(image);
    let repo = repo.rsplit('/').next().unwrap_or(repo);
    let name = repo.split(':').next().unwrap_or(repo);
    STORES
        .iter()
        .any(|s| name == *s || name.starts_with(&format!("{s}-")))
}

/// Pod spec fields the import reads itself; any other becomes a patch.
const POD_FIELDS: &[&str] = &[
    "containers",
    "initContainers",
    "volumes",
    "nodeSelector",
    "tolerations",
    "securityContext",
    "terminationGracePeriodSeconds",
    "serviceAccountName",
    "serviceAccount",
    "automountServiceAccountToken",
];

/// Workload spec fields the import reads itself.
const WORKLOAD_FIELDS: &[&str] = &[
    "replicas",
    "selector",
    "template",
    "jobTemplate",
    "schedule",
    "serviceName",
    "volumeClaimTemplates",
];

/// Container fields the import reads itself.
const CONTAINER_FIELDS: &[&str] = &[
    "name",
    "image",
    "command",
    "args",
    "env",
    "envFrom",
    "ports",
    "livenessProbe",
    "readinessProbe",
    "startupProbe",
    "resources",
    "securityContext",
    "volumeMounts",
    "imagePullPolicy",
    "terminationMessagePath",
    "terminationMessagePolicy",
];

/// The service `object` (a workload of `kind`) becomes.
/// What the probes need once the Services have named the ports.
pub(crate) struct Pending {
    main: core::Container,
    main_index: usize,
    ports: BTreeMap<String, u16>,
    template: Vec<String>,
    origin: String,
}

/// The probes of a service whose ports are final.
pub(crate) fn finish(
    object: &Object,
    pending: &Pending,
    draft: &mut Draft,
    service: &mut DraftService,
) {
    if matches!(
        service.kind,
        Kind::Stateless | Kind::Stateful | Kind::Daemon
    ) {
        probes(
            object,
            &pending.main,
            pending.main_index,
            &pending.ports,
            draft,
            service,
            &pending.origin,
            &pending.template,
        );
    }
}

pub(crate) fn service(
    object: &Object,
    kind: Kind,
    index: &mut Index<'_>,
    draft: &mut Draft,
) -> (DraftService, Option<Pending>) {
    let template: &[&str] = if kind == Kind::Cron {
        &["spec", "jobTemplate", "spec", "template"]
    } else {
        &["spec", "template"]
    };
    // Paths below the pod template.
    let path = |rest: &[&str]| -> Vec<String> {
        template
            .iter()
            .chain(rest)
            .map(|s| (*s).to_string())
            .collect()
    };
    let loc = |rest: &[&str]| {
        let p = path(rest);
        object.loc(&p.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let name = dns_label(&object.name);
    let mut service = DraftService::new(
        name.clone(),
        object.namespace.clone(),
        object.loc(&[]),
        object.id(),
        kind,
    );
    if name != object.name {
        draft.note(
            &object.loc(&["metadata", "name"]),
            Fate::Review,
            object.id(),
            format!("a service name is a DNS label: named `{name}`"),
        );
    }
    let pod: core::PodTemplateSpec = object.typed(template).unwrap_or_default();
    let spec = pod.spec.clone().unwrap_or_default();
    let raw_spec = object
        .at(&template.iter().copied().chain(["spec"]).collect::<Vec<_>>())
        .cloned()
        .unwrap_or(Value::Null);
    let main_index = spec
        .containers
        .iter()
        .position(|c| c.name == object.name)
        .unwrap_or(0);
    let Some(main) = spec.containers.get(main_index).cloned() else {
        draft.note(
            &loc(&["spec"]),
            Fate::Dropped,
            object.id(),
            "the pod has no container",
        );
        return (service, None);
    };
    let origin = format!("{} ({})", object.id(), object.loc(&[]).short());

    // What it runs.
    let image = main.image.clone().unwrap_or_default();
    service.store = store_image(&image) || kind == Kind::Stateful;
    service.set("image", json!(image), &[]);
    let kind_comment = match kind {
        Kind::Stateless => "a Deployment",
        Kind::Stateful => "a StatefulSet",
        Kind::Daemon => "a DaemonSet",
        Kind::Job => "a Job",
        Kind::Cron => "a CronJob",
    };
    service.set(
        "kind",
        json!(kind.word()),
        &[&format!("{kind_comment} in the input")],
    );
    if kind == Kind::Cron
        && let Some(schedule) = object.at(&["spec", "schedule"])
    {
        service.set("schedule", schedule.clone(), &[]);
    }
    if let Some(command) = &main.command {
        service.set("command", json!(command), &[]);
        service.argv.extend(command.iter().cloned());
    }
    if let Some(args) = &main.args {
        service.set("args", json!(args), &[]);
        service.argv.extend(args.iter().cloned());
    }
    if main.name != name {
        service.set("container", json!(main.name), &[]);
    }

    // Replicas.
    if matches!(kind, Kind::Stateless | Kind::Stateful) {
        let replicas = object
            .at(&["spec", "replicas"])
            .and_then(Value::as_u64)
            .unwrap_or(1);
        service.set("replicas", json!(replicas), &[]);
    }

    // Labels and selector, kept so that Strata takes over the live objects.
    let selector: BTreeMap<String, String> = object
        .typed(&["spec", "selector", "matchLabels"])
        .unwrap_or_default();
    if matches!(kind, Kind::Stateless | Kind::Stateful | Kind::Daemon) {
        if object
            .at(&["spec", "selector", "matchExpressions"])
            .is_some()
        {
            draft.note(
                &object.loc(&["spec", "selector", "matchExpressions"]),
                Fate::Dropped,
                object.id(),
                "a selector's `matchExpressions` has no spec form (selectors are labels): the workload cannot be taken over in place; delete it before the first apply",
            );
        }
        if !selector.is_empty() {
            service.set(
                "selector",
                json!(selector),
                &["the live workload's selector, which cannot change: Strata takes it over in place"],
            );
        }
    }
    let pod_labels: BTreeMap<String, String> = pod
        .metadata
        .as_ref()
        .and_then(|m| m.labels.clone())
        .unwrap_or_default()
        .into_iter()
        .filter(|(k, _)| !selector.contains_key(k))
        .filter(|(k, _)| {
            let reserved = reserved_label(k);
            if reserved {
                draft.note(
                    &loc(&["metadata", "labels", k]),
                    Fate::Dropped,
                    object.id(),
                    format!("the pod label `{k}` is Strata's own: it sets its value itself"),
                );
            }
            !reserved
        })
        .collect();
    if !pod_labels.is_empty() {
        service.set("podLabels", json!(pod_labels), &[]);
    }
    if let Some(annotations) = pod.metadata.as_ref().and_then(|m| m.annotations.clone())
        && !annotations.is_empty()
    {
        service.set("podAnnotations", json!(annotations), &[]);
    }
    let labels: BTreeMap<String, String> = object
        .labels()
        .into_iter()
        .filter(|(k, _)| {
            !reserved_label(k) && !selector.contains_key(k) && !pod_labels.contains_key(k)
        })
        .collect();
    if !labels.is_empty() {
        service.set("labels", json!(labels), &[]);
    }

    // Ports of the container; Services add theirs later.
    let mut ports = Vec::new();
    for port in main.ports.iter().flatten() {
        let Ok(number) = u16::try_from(port.container_port) else {
            continue;
        };
        let port_name = port
            .name
            .as_deref()
            .map_or_else(|| format!("port-{number}"), port_name);
        ports.push(DraftPort {
            name: port_name,
            port: number,
            target: number,
            protocol: (port.protocol.as_deref() == Some("UDP")).then_some("udp"),
            node_port: None,
        });
    }
    service.ports = ports;
    let container_port_names: BTreeMap<String, u16> = main
        .ports
        .iter()
        .flatten()
        .filter_map(|p| Some((p.name.clone()?, u16::try_from(p.container_port).ok()?)))
        .collect();

    // Environment.
    env(
        object,
        &loc(&["spec", "containers"]),
        &main,
        index,
        draft,
        &mut service,
    );

    // Resources.
    resources(
        &main,
        kind,
        draft,
        &loc(&["spec", "containers"]),
        object,
        &mut service,
    );

    // Security.
    security(&spec, &main, &mut service);

    // Volumes.
    volumes(
        object,
        kind,
        &spec,
        &main,
        index,
        draft,
        &mut service,
        &path(&[]),
    );

    // Placement.
    placement(object, &spec, draft, &mut service, &path(&[]));

    if let Some(seconds) = spec.termination_grace_period_seconds
        && seconds != 30
    {
        service.set("terminationGracePeriod", json!(format!("{seconds}s")), &[]);
    }
    let account = spec
        .service_account_name
        .clone()
        .or(spec.service_account.clone());
    if let Some(account) = account.filter(|a| a != "default" && *a != name) {
        draft.note(
            &loc(&["spec", "serviceAccountName"]),
            Fate::Review,
            object.id(),
            format!("the pods ran as ServiceAccount `{account}`; Strata's run as `{name}` (its rights, if any, go under `access:`)"),
        );
    }
    if spec.automount_service_account_token == Some(true) {
        service.set("serviceAccountToken", json!(true), &[]);
    }

    // Other containers: native sidecars first among the init containers,
    // then the steps; the main container first among the containers, then
    // the sidecars. Strata gives those without resources its defaults; the
    // input's had none.
    let pod_spec = kind.pod_spec();
    let inits = spec.init_containers.clone().unwrap_or_default();
    let (natives, steps): (Vec<_>, Vec<_>) = inits
        .iter()
        .enumerate()
        .partition(|(_, c)| c.restart_policy.as_deref() == Some("Always"));
    let unbounded = |c: &core::Container| {
        c.resources.as_ref().is_none_or(|r| {
            r.requests
                .as_ref()
                .is_none_or(|m| !m.contains_key("cpu") && !m.contains_key("memory"))
                && r.limits
                    .as_ref()
                    .is_none_or(|m| !m.contains_key("cpu") && !m.contains_key("memory"))
        })
    };
    for (at, (i, container)) in natives.iter().chain(&steps).enumerate() {
        let l = loc(&["spec", "initContainers", &i.to_string()]);
        if container.restart_policy.as_deref() == Some("Always") {
            sidecar(object, container, true, draft, &mut service, &l);
        } else {
            init_step(object, container, draft, &mut service, &l);
        }
        if unbounded(container) {
            let op = json!({ "op": "remove", "path": format!("{pod_spec}/initContainers/{at}/resources") });
            service.patches.push((
                op,
                format!("no resources for `{}`, as the input", container.name),
            ));
        }
        own_security(
            object,
            container,
            &format!("{pod_spec}/initContainers/{at}"),
            draft,
            &mut service,
            &l,
        );
    }
    let mut at = 1;
    for (i, container) in spec.containers.iter().enumerate() {
        if i != main_index {
            sidecar(
                object,
                container,
                false,
                draft,
                &mut service,
                &loc(&["spec", "containers", &i.to_string()]),
            );
            if unbounded(container) {
                let op = json!({ "op": "remove", "path": format!("{pod_spec}/containers/{at}/resources") });
                service.patches.push((
                    op,
                    format!("no resources for `{}`, as the input", container.name),
                ));
            }
            let l = loc(&["spec", "containers", &i.to_string()]);
            own_security(
                object,
                container,
                &format!("{pod_spec}/containers/{at}"),
                draft,
                &mut service,
                &l,
            );
            at += 1;
        }
    }

    // The node's files, network or processes: only a privileged namespace
    // admits such pods (Pod Security's baseline refuses them).
    let host = spec
        .volumes
        .iter()
        .flatten()
        .find(|v| v.host_path.is_some())
        .map(|v| format!("the hostPath volume `{}`", v.name))
        .or_else(|| (spec.host_network == Some(true)).then(|| "`hostNetwork`".to_string()))
        .or_else(|| (spec.host_pid == Some(true)).then(|| "`hostPID`".to_string()))
        .or_else(|| (spec.host_ipc == Some(true)).then(|| "`hostIPC`".to_string()));
    if let Some(what) = host
        && service.get("security") != Some(&json!("privileged"))
    {
        service.set(
            "security",
            json!("privileged"),
            &[&format!("{what} needs a privileged namespace")],
        );
        draft.note(&loc(&["spec"]), Fate::Review, object.id(), format!("{what}: Pod Security's baseline refuses it, so the service is `privileged` (its pods run as the image says), and so is its namespace's enforce level"));
    }

    // A privileged service runs as its image says: the container's own
    // settings (`privileged: true`, its user) stay as written.
    if service.get("security") == Some(&json!("privileged"))
        && let Some(context) = &main.security_context
    {
        let l = loc(&[
            "spec",
            "containers",
            &main_index.to_string(),
            "securityContext",
        ]);
        let op = json!({ "op": "add", "path": format!("{}/containers/0/securityContext", kind.pod_spec()), "value": context });
        patch(
            draft,
            &mut service,
            &l,
            &object.id(),
            op,
            "the container's security context (under `privileged`)",
        );
    }

    // Everything else of the workload, the pod and the main container, as patches.
    workload_patches(object, kind, draft, &mut service);
    if kind == Kind::Stateful
        && let Some(headless) = object.at(&["spec", "serviceName"]).and_then(Value::as_str)
        && headless != format!("{name}-headless")
    {
        draft.note(
            &object.loc(&["spec", "serviceName"]),
            Fate::Review,
            object.id(),
            format!("the pods' governing Service `{headless}` becomes Strata's `{name}-headless`: their DNS names (`{name}-0.{headless}`) change with it"),
        );
    }
    if let Some(fields) = raw_spec.as_object() {
        for (field, value) in fields {
            if POD_FIELDS.contains(&field.as_str()) || default_pod_value(kind, field, value) {
                continue;
            }
            let l = loc(&["spec", field]);
            patch(
                draft,
                &mut service,
                &l,
                &object.id(),
                json!({ "op": "add", "path": format!("{pod_spec}/{field}"), "value": value }),
                &format!("pod `{field}`"),
            );
        }
        if let Some(raw_main) = fields
            .get("containers")
            .and_then(|c| c.get(main_index))
            .and_then(Value::as_object)
        {
            for (field, value) in raw_main {
                if CONTAINER_FIELDS.contains(&field.as_str()) {
                    continue;
                }
                let l = loc(&["spec", "containers", &main_index.to_string(), field]);
                patch(
                    draft,
                    &mut service,
                    &l,
                    &object.id(),
                    json!({ "op": "add", "path": format!("{pod_spec}/containers/0/{field}"), "value": value }),
                    &format!("container `{field}`"),
                );
            }
        }
    }
    if let Some(policy) = &main.image_pull_policy
        && policy == "Always"
    {
        let l = loc(&[
            "spec",
            "containers",
            &main_index.to_string(),
            "imagePullPolicy",
        ]);
        patch(
            draft,
            &mut service,
            &l,
            &object.id(),
            json!({ "op": "replace", "path": format!("{pod_spec}/containers/0/imagePullPolicy"), "value": policy }),
            "`imagePullPolicy: Always`",
        );
    }
    let pending = Pending {
        main,
        main_index,
        ports: container_port_names,
        template: path(&[]),
        origin,
    };
    (service, Some(pending))
}

/// Whether a pod field holds the value Kubernetes gives it anyway, or the
/// one Strata renders.
fn default_pod_value(kind: Kind, field: &str, value: &Value) -> bool {
    match field {
        "dnsPolicy" => value == "ClusterFirst",
        "schedulerName" => value == "default-scheduler",
        "securityContext" => value.as_object().is_some_and(Map::is_empty),
        "restartPolicy" => {
            value
                == if matches!(kind, Kind::Job | Kind::Cron) {
                    "OnFailure"
                } else {
                    "Always"
                }
        }
        _ => false,
    }
}

/// Whether a workload field holds Kubernetes' default or Strata's value.
fn default_workload_value(kind: Kind, field: &str, value: &Value) -> bool {
    match (kind, field) {
        (_, "revisionHistoryLimit") => value == 10,
        (_, "progressDeadlineSeconds") => value == 600,
        (_, "strategy" | "updateStrategy") => {
            value.get("type").is_none_or(|t| t == "RollingUpdate")
                && value.get("rollingUpdate").is_none()
        }
        (_, "podManagementPolicy") => value == "OrderedReady",
        (_, "backoffLimit") => value == 4,
        (_, "completions" | "parallelism" | "failedJobsHistoryLimit") => value == 1,
        (_, "concurrencyPolicy") => value == "Forbid",
        (_, "successfulJobsHistoryLimit") => value == 3,
        (_, "suspend") => value == false,
        (_, "minReadySeconds") => value == 0,
        _ => false,
    }
}

/// Patches for the workload's own settings (`strategy`, `backoffLimit`…)
/// that the spec has no key for, at `/spec` (or a CronJob's job spec).
fn workload_patches(object: &Object, kind: Kind, draft: &mut Draft, service: &mut DraftService) {
    let mut levels: Vec<(Vec<&str>, String)> = vec![(vec!["spec"], "/spec".into())];
    if kind == Kind::Cron {
        levels.push((
            vec!["spec", "jobTemplate", "spec"],
            "/spec/jobTemplate/spec".into(),
        ));
    }
    for (path, pointer) in levels {
        let Some(fields) = object.at(&path).and_then(Value::as_object) else {
            continue;
        };
        for (field, value) in fields {
            if WORKLOAD_FIELDS.contains(&field.as_str())
                || default_workload_value(kind, field, value)
            {
                continue;
            }
            let mut at = path.clone();
            at.push(field);
            let op = json!({ "op": "add", "path": format!("{pointer}/{field}"), "value": value });
            patch(
                draft,
                service,
                &object.loc(&at),
                &object.id(),
                op,
                &format!("`{field}`"),
            );
        }
    }
}

/// Records a JSON patch operation on the service's workload.
pub(crate) fn patch(
    draft: &mut Draft,
    service: &mut DraftService,
    loc: &Loc,
    origin: &str,
    op: Value,
    what: &str,
) {
    draft.note(
        loc,
        Fate::Patch,
        origin.to_string(),
        format!(
            "{what} has no spec key: kept as a patch on {} `{}`",
            service.kind.object(),
            service.name
        ),
    );
    service.patches.push((op, what.to_string()));
}

/// A port name the spec accepts: lowercase, at most 15 characters, a letter.
pub(crate) fn port_name(name: &str) -> String {
    let mut out: String = name
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    out.truncate(15);
    let out = out.trim_matches('-').to_string();
    if out.chars().any(|c| c.is_ascii_alphabetic()) {
        out
    } else {
        format!("port-{out}").chars().take(15).collect()
    }
}

/// A name the spec accepts as a DNS label.
pub(crate) fn dns_label(name: &str) -> String {
    let mut out: String = name
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    out.truncate(63);
    out.trim_matches('-').to_string()
}
