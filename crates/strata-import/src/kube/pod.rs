//! One workload and its pod template to a draft service: image, command,
//! environment, ports, probes, resources, volumes, security, placement.
//! Pod and container settings with no spec key become patches.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::{Map, Value, json};

use super::{Index, Object, config_map, reserved_label, secret_keys};
use crate::Fate;
use crate::draft::{Draft, DraftEnv, DraftPort, DraftService, EnvValue, Kind, Loc};
use strata_core::model::{BASELINE_CAPABILITIES, RESTRICTED_CAPABILITY};

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

fn env(
    object: &Object,
    loc: &Loc,
    main: &core::Container,
    index: &mut Index<'_>,
    draft: &mut Draft,
    service: &mut DraftService,
) {
    let mut out: Vec<DraftEnv> = Vec::new();
    let mut push = |var: DraftEnv| {
        out.retain(|v| v.name != var.name);
        out.push(var);
    };
    let pod_spec = service.kind.pod_spec();
    let mut patched_env = Vec::new();
    for source in main.env_from.iter().flatten() {
        let prefix = source.prefix.clone().unwrap_or_default();
        if let Some(reference) = &source.config_map_ref {
            match config_map(index, &object.namespace, &reference.name) {
                Some((i, data)) => {
                    index.used.insert(i);
                    for (key, value) in data {
                        push(DraftEnv {
                            name: format!("{prefix}{key}"),
                            value: EnvValue::Literal(value),
                            comment: Some(format!("from ConfigMap {} (envFrom)", reference.name)),
                        });
                    }
                }
                None => patched_env.push(json!({ "configMapRef": reference })),
            }
        }
        if let Some(reference) = &source.secret_ref {
            match index.find("Secret", &object.namespace, &reference.name) {
                Some((i, secret)) => {
                    index.used.insert(i);
                    let keys = secret_keys(secret);
                    draft
                        .secrets
                        .entry(reference.name.clone())
                        .or_default()
                        .extend(keys.clone());
                    draft.note(
                        &secret.loc(&[]),
                        Fate::Dropped,
                        secret.id(),
                        "its values are not imported: each key is read with `{ secret, key }`; the Secret must exist in the cluster, or be declared under `secrets:`",
                    );
                    for key in keys {
                        push(DraftEnv {
                            name: format!("{prefix}{key}"),
                            value: EnvValue::Secret {
                                name: reference.name.clone(),
                                key,
                            },
                            comment: None,
                        });
                    }
                }
                None => patched_env.push(json!({ "secretRef": reference })),
            }
        }
    }
    if !patched_env.is_empty() {
        patch(
            draft,
            service,
            loc,
            &object.id(),
            json!({ "op": "add", "path": format!("{pod_spec}/containers/0/envFrom"), "value": patched_env }),
            "`envFrom` of an object the input does not hold",
        );
    }
    let mut field_refs = Vec::new();
    for var in main.env.iter().flatten() {
        if let Some(from) = &var.value_from {
            if let Some(secret) = &from.secret_key_ref {
                // The Secret object itself, if the input has it, is listed
                // with the leftovers: its values are never imported.
                draft
                    .secrets
                    .entry(secret.name.clone())
                    .or_default()
                    .insert(secret.key.clone());
                push(DraftEnv {
                    name: var.name.clone(),
                    value: EnvValue::Secret {
                        name: secret.name.clone(),
                        key: secret.key.clone(),
                    },
                    comment: None,
                });
            } else if let Some(config) = &from.config_map_key_ref {
                let inline = config_map(index, &object.namespace, &config.name)
                    .and_then(|(i, data)| Some((i, data.get(&config.key)?.clone())));
                match inline {
                    Some((i, value)) => {
                        index.used.insert(i);
                        push(DraftEnv {
                            name: var.name.clone(),
                            value: EnvValue::Literal(value),
                            comment: Some(format!(
                                "from ConfigMap {}, key {}",
                                config.name, config.key
                            )),
                        });
                    }
                    None => push(DraftEnv {
                        name: var.name.clone(),
                        value: EnvValue::Config {
                            name: config.name.clone(),
                            key: config.key.clone(),
                        },
                        comment: None,
                    }),
                }
            } else {
                field_refs.push(json!(var));
            }
        } else {
            push(DraftEnv {
                name: var.name.clone(),
                value: EnvValue::Literal(var.value.clone().unwrap_or_default()),
                comment: None,
            });
        }
    }
    service.env = out;
    if !field_refs.is_empty() {
        // Appended to Strata's own list when there is one.
        let what = "an env variable read from the pod's fields (`fieldRef`/`resourceFieldRef`)";
        if service.env.is_empty() {
            patch(
                draft,
                service,
                loc,
                &object.id(),
                json!({ "op": "add", "path": format!("{pod_spec}/containers/0/env"), "value": field_refs }),
                what,
            );
        } else {
            for var in field_refs {
                patch(
                    draft,
                    service,
                    loc,
                    &object.id(),
                    json!({ "op": "add", "path": format!("{pod_spec}/containers/0/env/-"), "value": var }),
                    what,
                );
            }
        }
    }
}

/// A Kubernetes duration in seconds as the spec writes it.
fn seconds(n: i32) -> Value {
    json!(format!("{n}s"))
}

#[allow(clippy::too_many_arguments)]
fn probes(
    object: &Object,
    main: &core::Container,
    main_index: usize,
    container_ports: &BTreeMap<String, u16>,
    draft: &mut Draft,
    service: &mut DraftService,
    origin: &str,
    template: &[String],
) {
    let mut settings = Map::new();
    let mut any = false;
    for (key, field, probe) in [
        ("startup", "startupProbe", &main.startup_probe),
        ("readiness", "readinessProbe", &main.readiness_probe),
        ("liveness", "livenessProbe", &main.liveness_probe),
    ] {
        let Some(probe) = probe else {
            settings.insert(key.into(), json!(false));
            continue;
        };
        any = true;
        match probe_settings(probe, container_ports, service) {
            Ok(value) => {
                settings.insert(key.into(), value);
            }
            Err(why) => {
                settings.insert(key.into(), json!(false));
                let path: Vec<String> = template
                    .iter()
                    .cloned()
                    .chain([
                        "spec".into(),
                        "containers".into(),
                        main_index.to_string(),
                        field.into(),
                    ])
                    .collect();
                let l = object.loc(&path.iter().map(String::as_str).collect::<Vec<_>>());
                let pod_spec = service.kind.pod_spec();
                patch(
                    draft,
                    service,
                    &l,
                    &object.id(),
                    json!({ "op": "add", "path": format!("{pod_spec}/containers/0/{field}"), "value": probe }),
                    &format!("`{field}` ({why})"),
                );
            }
        }
    }
    if any {
        service.set(
            "probes",
            Value::Object(settings),
            &[&format!("the probes of {origin}, as they are")],
        );
    } else {
        service.set(
            "probes",
            json!(false),
            &["the input has no probes; `probes: true` gives it Strata's (a TCP or gRPC check of the first port)"],
        );
    }
}

/// One probe as the spec's settings, or why it has none.
fn probe_settings(
    probe: &core::Probe,
    container_ports: &BTreeMap<String, u16>,
    service: &DraftService,
) -> Result<Value, String> {
    let port_of = |port: &IntOrString| -> Result<String, String> {
        let number = match port {
            IntOrString::Int(n) => {
                u16::try_from(*n).map_err(|_| "a port out of range".to_string())?
            }
            IntOrString::String(name) => *container_ports
                .get(name)
                .ok_or_else(|| format!("the port `{name}` is not declared"))?,
        };
        service
            .ports
            .iter()
            .find(|p| p.target == number)
            .map(|p| p.name.clone())
            .ok_or_else(|| format!("the port {number} is not one of the container's ports"))
    };
    let mut out = Map::new();
    if let Some(http) = &probe.http_get {
        if http.scheme.as_deref().is_some_and(|s| s != "HTTP") || http.host.is_some() {
            return Err("an HTTPS or host-bound check".into());
        }
        out.insert("kind".into(), json!("http"));
        out.insert("port".into(), json!(port_of(&http.port)?));
        out.insert(
            "path".into(),
            json!(http.path.clone().unwrap_or_else(|| "/".into())),
        );
        if let Some(headers) = &http.http_headers
            && !headers.is_empty()
        {
            let map: BTreeMap<_, _> = headers
                .iter()
                .map(|h| (h.name.clone(), h.value.clone()))
                .collect();
            out.insert("headers".into(), json!(map));
        }
    } else if let Some(tcp) = &probe.tcp_socket {
        if tcp.host.is_some() {
            return Err("a host-bound check".into());
        }
        out.insert("kind".into(), json!("tcp"));
        out.insert("port".into(), json!(port_of(&tcp.port)?));
    } else if let Some(grpc) = &probe.grpc {
        if grpc.service.as_deref().is_some_and(|s| !s.is_empty()) {
            return Err("a named gRPC health service".into());
        }
        out.insert("kind".into(), json!("grpc"));
        out.insert("port".into(), json!(port_of(&IntOrString::Int(grpc.port))?));
    } else if let Some(exec) = &probe.exec {
        out.insert("kind".into(), json!("exec"));
        out.insert(
            "command".into(),
            json!(exec.command.clone().unwrap_or_default()),
        );
    } else {
        return Err("no check".into());
    }
    if let Some(delay) = probe.initial_delay_seconds.filter(|d| *d > 0) {
        out.insert("initialDelay".into(), seconds(delay));
    }
    out.insert(
        "period".into(),
        seconds(probe.period_seconds.unwrap_or(10).max(1)),
    );
    out.insert(
        "timeout".into(),
        seconds(probe.timeout_seconds.unwrap_or(1).max(1)),
    );
    out.insert(
        "failureThreshold".into(),
        json!(probe.failure_threshold.unwrap_or(3)),
    );
    let success = probe.success_threshold.unwrap_or(1);
    if success != 1 {
        out.insert("successThreshold".into(), json!(success));
    }
    Ok(Value::Object(out))
}

fn resources(
    main: &core::Container,
    kind: Kind,
    draft: &mut Draft,
    loc: &Loc,
    object: &Object,
    service: &mut DraftService,
) {
    let pod_spec = kind.pod_spec();
    let resources = main.resources.clone().unwrap_or_default();
    let requests = resources.requests.unwrap_or_default();
    let limits = resources.limits.unwrap_or_default();
    let pick =
        |list: &BTreeMap<String, k8s_openapi::apimachinery::pkg::api::resource::Quantity>| {
            let mut out = Map::new();
            for key in ["cpu", "memory"] {
                if let Some(q) = list.get(key) {
                    out.insert(key.into(), json!(q.0));
                }
            }
            out
        };
    let (req, lim) = (pick(&requests), pick(&limits));
    let mut value = Map::new();
    if !req.is_empty() {
        value.insert("requests".into(), Value::Object(req.clone()));
    }
    if lim.is_empty() {
        value.insert("limits".into(), json!("none"));
    } else {
        value.insert("limits".into(), Value::Object(lim.clone()));
    }
    service.set(
        "resources",
        Value::Object(value),
        &["as the input has them"],
    );
    if let Some(gpu) = limits
        .get("nvidia.com/gpu")
        .or(requests.get("nvidia.com/gpu"))
    {
        service.set("gpu", json!(gpu.0.parse::<u64>().unwrap_or(1)), &[]);
    }
    service
        .patches
        .extend(unset_resources(&req, &lim, pod_spec));
    for (list, field) in [(&requests, "requests"), (&limits, "limits")] {
        for (key, q) in list {
            if matches!(key.as_str(), "cpu" | "memory" | "nvidia.com/gpu") {
                continue;
            }
            let op = json!({ "op": "add", "path": format!("{pod_spec}/containers/0/resources/{field}/{}", key.replace('~', "~0").replace('/', "~1")), "value": q.0 });
            patch(
                draft,
                service,
                loc,
                &object.id(),
                op,
                &format!("the resource `{key}`"),
            );
        }
    }
}

/// Patches that take back out the requests and limits Strata fills in
/// where the input (its `requests` and `limits` of CPU and memory) has none.
pub(crate) fn unset_resources(
    req: &Map<String, Value>,
    lim: &Map<String, Value>,
    pod_spec: &str,
) -> Vec<(Value, String)> {
    let mut out = Vec::new();
    let resources = format!("{pod_spec}/containers/0/resources");
    if req.is_empty() && lim.is_empty() {
        out.push((
            json!({ "op": "remove", "path": format!("{resources}/requests") }),
            "no requests, as the input".into(),
        ));
        return out;
    }
    for key in ["cpu", "memory"] {
        if !lim.is_empty() && !lim.contains_key(key) {
            out.push((
                json!({ "op": "remove", "path": format!("{resources}/limits/{key}") }),
                format!("no {key} limit, as the input"),
            ));
        }
        if !req.contains_key(key) && !lim.contains_key(key) {
            out.push((
                json!({ "op": "remove", "path": format!("{resources}/requests/{key}") }),
                format!("no {key} request, as the input"),
            ));
        }
    }
    out
}

fn security(spec: &core::PodSpec, main: &core::Container, service: &mut DraftService) {
    let pod = spec.security_context.clone().unwrap_or_default();
    let own = main.security_context.clone().unwrap_or_default();
    if own.privileged == Some(true) {
        service.set(
            "security",
            json!("privileged"),
            &["the container is privileged"],
        );
        return;
    }
    let user = own.run_as_user.or(pod.run_as_user);
    let group = own.run_as_group.or(pod.run_as_group);
    let non_root =
        own.run_as_non_root.or(pod.run_as_non_root) == Some(true) || user.is_some_and(|u| u != 0);
    let added: Vec<String> = own
        .capabilities
        .as_ref()
        .and_then(|c| c.add.clone())
        .unwrap_or_default();
    let escalation = own.allow_privilege_escalation == Some(true);
    let mut out = Map::new();
    let mut why = Vec::new();
    let profile = if added
        .iter()
        .any(|c| !BASELINE_CAPABILITIES.contains(&c.as_str()))
    {
        why.push("it adds a capability beyond baseline's");
        "privileged"
    } else if !non_root || escalation || added.iter().any(|c| c != RESTRICTED_CAPABILITY) {
        if !non_root {
            why.push("the input does not say it runs as a non-root user, so it keeps the image's user and may start as root");
        }
        if escalation {
            why.push("it allows privilege escalation");
        }
        "baseline"
    } else {
        "restricted"
    };
    if profile == "privileged" {
        service.set("security", json!("privileged"), &why);
        return;
    }
    out.insert("profile".into(), json!(profile));
    match user {
        Some(u) => out.insert("runAsUser".into(), json!(u)),
        None => out.insert("runAsUser".into(), json!("image")),
    };
    if let Some(g) = group {
        out.insert("runAsGroup".into(), json!(g));
    }
    if let Some(fs) = pod.fs_group {
        out.insert("fsGroup".into(), json!(fs));
    }
    out.insert(
        "readOnlyRootFilesystem".into(),
        json!(own.read_only_root_filesystem == Some(true)),
    );
    if !added.is_empty() {
        out.insert("capabilities".into(), json!(added));
    }
    if escalation {
        out.insert("privilegeEscalation".into(), json!(true));
    }
    let mut comment = vec!["the security context of the input"];
    comment.extend(why);
    service.set("security", Value::Object(out), &comment);
}

/// Whether the service runs with a read-only root filesystem, and so gets
/// Strata's writable `/tmp`.
pub(crate) fn read_only_root(service: &DraftService) -> bool {
    service
        .get("security")
        .and_then(|s| s.get("readOnlyRootFilesystem"))
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

#[allow(clippy::too_many_arguments)]
fn volumes(
    object: &Object,
    kind: Kind,
    spec: &core::PodSpec,
    main: &core::Container,
    index: &mut Index<'_>,
    draft: &mut Draft,
    service: &mut DraftService,
    template: &[String],
) {
    let loc_of = |rest: &[&str]| {
        let p: Vec<&str> = template
            .iter()
            .map(String::as_str)
            .chain(rest.iter().copied())
            .collect();
        object.loc(&p)
    };
    let mounts: Vec<core::VolumeMount> = main.volume_mounts.clone().unwrap_or_default();
    let mut storage: Option<Value> = None;
    let mut extra = Vec::new();
    let mut scratch = Vec::new();
    let mut config: Option<Value> = None;
    let mut patched_volumes = Vec::new();
    let mut patched_mounts = Vec::new();
    let claim = |size: Option<&str>, class: Option<&str>, access: Option<&str>, mount: &str| {
        let mut v = Map::new();
        v.insert("size".into(), json!(size.unwrap_or("1Gi")));
        v.insert("mountPath".into(), json!(mount));
        if let Some(class) = class {
            v.insert("class".into(), json!(class));
        }
        if let Some(access) = access.filter(|a| *a != "ReadWriteOnce") {
            v.insert("access".into(), json!(access));
        }
        v
    };
    // Claim templates of a StatefulSet.
    if kind == Kind::Stateful {
        let templates: Vec<core::PersistentVolumeClaim> = object
            .typed(&["spec", "volumeClaimTemplates"])
            .unwrap_or_default();
        for t in templates {
            let name = t.metadata.name.clone().unwrap_or_default();
            let Some(mount) = mounts.iter().find(|m| m.name == name) else {
                continue;
            };
            let spec = t.spec.clone().unwrap_or_default();
            let size = spec
                .resources
                .as_ref()
                .and_then(|r| r.requests.as_ref())
                .and_then(|r| r.get("storage"))
                .map(|q| q.0.clone());
            let access = spec.access_modes.as_ref().and_then(|a| a.first().cloned());
            let mut v = claim(
                size.as_deref(),
                spec.storage_class_name.as_deref(),
                access.as_deref(),
                &mount.mount_path,
            );
            if name == "data" && storage.is_none() {
                storage = Some(Value::Object(v));
            } else {
                v.insert("name".into(), json!(name));
                extra.push(Value::Object(v));
            }
        }
    }
    for volume in spec.volumes.iter().flatten() {
        let mount = mounts.iter().find(|m| m.name == volume.name);
        let raw_index = spec
            .volumes
            .iter()
            .flatten()
            .position(|v| v.name == volume.name)
            .unwrap_or(0);
        let vloc = loc_of(&["spec", "volumes", &raw_index.to_string()]);
        let plain_mount = mount.is_some_and(|m| m.sub_path.is_none() && m.sub_path_expr.is_none());
        if let (Some(empty), Some(mount)) = (&volume.empty_dir, mount)
            && plain_mount
        {
            if mount.mount_path == "/tmp" && read_only_root(service) {
                draft.note(&vloc, Fate::Review, object.id(), "an emptyDir at /tmp: Strata mounts a writable /tmp itself under a read-only root filesystem");
                continue;
            }
            let memory = empty.medium.as_deref() == Some("Memory");
            let size = empty.size_limit.as_ref().map(|q| q.0.clone());
            if memory || size.is_some() {
                let mut v = Map::new();
                v.insert("path".into(), json!(mount.mount_path));
                if memory {
                    v.insert("memory".into(), json!(true));
                }
                if let Some(size) = size {
                    v.insert("size".into(), json!(size));
                }
                scratch.push(Value::Object(v));
            } else {
                scratch.push(json!(mount.mount_path));
            }
            continue;
        }
        if let (Some(pvc), Some(mount)) = (&volume.persistent_volume_claim, mount)
            && plain_mount
            && kind != Kind::Stateful
        {
            let found = index.find("PersistentVolumeClaim", &object.namespace, &pvc.claim_name);
            let (size, class, access) = match found {
                Some((i, o)) => {
                    index.used.insert(i);
                    let c: core::PersistentVolumeClaim = o.typed(&[]).unwrap_or_default();
                    let s = c.spec.unwrap_or_default();
                    (
                        s.resources
                            .and_then(|r| r.requests)
                            .and_then(|r| r.get("storage").map(|q| q.0.clone())),
                        s.storage_class_name,
                        s.access_modes.and_then(|a| a.first().cloned()),
                    )
                }
                None => (None, None, None),
            };
            let suffix = pvc
                .claim_name
                .strip_prefix(&format!("{}-", service.name))
                .map(str::to_string);
            let name = suffix.clone().unwrap_or_else(|| dns_label(&volume.name));
            if suffix.is_none() || found.is_none() {
                draft.note(
                    &vloc,
                    Fate::Review,
                    object.id(),
                    format!(
                        "the claim `{}` becomes Strata's claim `{}-{name}`{}: move the data, or keep the old claim until it is copied",
                        pvc.claim_name,
                        service.name,
                        if found.is_none() { " (the input does not hold the claim: its size is a guess, 1Gi)" } else { "" }
                    ),
                );
            }
            let mut v = claim(
                size.as_deref(),
                class.as_deref(),
                access.as_deref(),
                &mount.mount_path,
            );
            if name == "data" && storage.is_none() {
                storage = Some(Value::Object(v));
            } else {
                v.insert(
                    "name".into(),
                    json!(if name == "data" {
                        "data-1".into()
                    } else {
                        name
                    }),
                );
                extra.push(Value::Object(v));
            }
            continue;
        }
        if let (Some(cm), Some(mount)) = (&volume.config_map, mount)
            && plain_mount
            && cm.items.is_none()
            && config.is_none()
            && let Some((i, data)) = config_map(index, &object.namespace, &cm.name)
        {
            index.used.insert(i);
            draft.note(
                &vloc,
                Fate::Review,
                object.id(),
                format!(
                    "ConfigMap `{}` becomes `config:`, rendered as ConfigMap `{}-config`",
                    cm.name, service.name
                ),
            );
            service.argv.extend(data.values().cloned());
            config = Some(json!({ "mountPath": mount.mount_path, "files": data }));
            continue;
        }
        // Anything else stays as written, volume and mounts.
        if let Some(secret) = &volume.secret {
            draft
                .secrets
                .entry(secret.secret_name.clone().unwrap_or_default())
                .or_default();
        }
        patched_volumes.push(json!(volume));
        for m in mounts.iter().filter(|m| m.name == volume.name) {
            patched_mounts.push(json!(m));
        }
        draft.note(
            &vloc,
            Fate::Patch,
            object.id(),
            format!(
                "the volume `{}` has no spec key: it and its mounts are kept as a patch on {} `{}`",
                volume.name,
                kind.object(),
                service.name
            ),
        );
    }
    // A patch appends to the lists Strata renders, or writes them when it
    // renders none: a StatefulSet's claims are templates, not pod volumes.
    let claims = storage.is_some() || !extra.is_empty();
    let writable = !scratch.is_empty() || config.is_some() || read_only_root(service);
    let has_volumes = writable || (claims && kind != Kind::Stateful);
    let has_mounts = writable || claims;
    let pod_spec = kind.pod_spec();
    let mut append = |list: &str, items: Vec<Value>, exists: bool, what: &str| {
        if items.is_empty() {
            return;
        }
        if exists {
            for item in items {
                service.patches.push((
                    json!({ "op": "add", "path": format!("{pod_spec}/{list}/-"), "value": item }),
                    what.to_string(),
                ));
            }
        } else {
            service.patches.push((
                json!({ "op": "add", "path": format!("{pod_spec}/{list}"), "value": items }),
                what.to_string(),
            ));
        }
    };
    append("volumes", patched_volumes, has_volumes, "a volume");
    append(
        "containers/0/volumeMounts",
        patched_mounts,
        has_mounts,
        "a mount",
    );
    if let Some(storage) = storage {
        service.set("storage", storage, &[]);
    }
    if !extra.is_empty() {
        service.set("volumes", json!(extra), &[]);
    }
    if !scratch.is_empty() {
        service.set("scratch", json!(scratch), &[]);
    }
    if let Some(config) = config {
        service.set("config", config, &[]);
    }
}

fn placement(
    object: &Object,
    spec: &core::PodSpec,
    draft: &mut Draft,
    service: &mut DraftService,
    template: &[String],
) {
    let selector = spec.node_selector.clone().unwrap_or_default();
    let tolerations = spec.tolerations.clone().unwrap_or_default();
    if selector.is_empty() && tolerations.is_empty() {
        return;
    }
    let mut taints = Vec::new();
    let mut kept = Vec::new();
    for t in &tolerations {
        let effect = t.effect.clone().unwrap_or_default();
        let Some(key) = t.key.clone() else {
            kept.push(t.clone());
            continue;
        };
        if t.toleration_seconds.is_some() {
            kept.push(t.clone());
            continue;
        }
        let mut taint = key;
        if t.operator.as_deref() != Some("Exists")
            && let Some(v) = &t.value
        {
            taint = format!("{taint}={v}");
        }
        if !effect.is_empty() {
            taint = format!("{taint}:{effect}");
        }
        taints.push(taint);
    }
    if selector.is_empty() && taints.is_empty() {
        let p: Vec<&str> = template
            .iter()
            .map(String::as_str)
            .chain(["spec", "tolerations"])
            .collect();
        let op = json!({ "op": "add", "path": format!("{}/tolerations", service.kind.pod_spec()), "value": tolerations });
        patch(
            draft,
            service,
            &object.loc(&p),
            &object.id(),
            op,
            "tolerations",
        );
        return;
    }
    let mut pool = json!({ "selector": selector });
    if !taints.is_empty() {
        pool["taints"] = json!(taints);
    }
    let existing = draft
        .pools
        .iter()
        .find(|(_, p)| **p == pool)
        .map(|(n, _)| n.clone());
    let name = existing.unwrap_or_else(|| {
        // The selector's value names the pool (`general`), unless it is a
        // flag (`"true"`): then its key does (`gpu-present`).
        let base = selector.iter().next().map_or_else(
            || "tainted".to_string(),
            |(k, v)| {
                let flag = matches!(
                    v.to_ascii_lowercase().as_str(),
                    "true" | "false" | "yes" | "no" | "1" | "0" | ""
                );
                if flag {
                    dns_label(k.rsplit('/').next().unwrap_or(k))
                } else {
                    dns_label(v)
                }
            },
        );
        let base = if base.is_empty() {
            "pool".to_string()
        } else {
            base
        };
        let mut name = base.clone();
        let mut n = 2;
        while draft.pools.contains_key(&name) {
            name = format!("{base}-{n}");
            n += 1;
        }
        draft.pools.insert(name.clone(), pool);
        name
    });
    service.set(
        "pool",
        json!(name),
        &["the node selector and tolerations of the input, as a node pool"],
    );
    if !kept.is_empty() {
        let p: Vec<&str> = template
            .iter()
            .map(String::as_str)
            .chain(["spec", "tolerations"])
            .collect();
        draft.note(&object.loc(&p), Fate::Dropped, object.id(), "a toleration without a key or with `tolerationSeconds` has no pool form: add it with a patch");
    }
}

fn container_common(
    container: &core::Container,
    out: &mut Map<String, Value>,
    argv: &mut Vec<String>,
) -> Vec<String> {
    let mut unsupported = Vec::new();
    out.insert(
        "image".into(),
        json!(container.image.clone().unwrap_or_default()),
    );
    if let Some(command) = &container.command {
        out.insert("command".into(), json!(command));
        argv.extend(command.iter().cloned());
    }
    if let Some(args) = &container.args {
        out.insert("args".into(), json!(args));
        argv.extend(args.iter().cloned());
    }
    let mut env = Map::new();
    for var in container.env.iter().flatten() {
        if let Some(from) = &var.value_from {
            if let Some(s) = &from.secret_key_ref {
                env.insert(var.name.clone(), json!({ "secret": s.name, "key": s.key }));
            } else if let Some(c) = &from.config_map_key_ref {
                env.insert(var.name.clone(), json!({ "config": c.name, "key": c.key }));
            } else {
                unsupported.push(var.name.clone());
            }
        } else {
            let value = var.value.clone().unwrap_or_default();
            // Its hosts are calls of the service, found with its arguments.
            argv.push(value.clone());
            env.insert(var.name.clone(), json!(value.replace("${", "$${")));
        }
    }
    if !env.is_empty() {
        out.insert("env".into(), Value::Object(env));
    }
    if let Some(resources) = &container.resources {
        let mut r = Map::new();
        for (field, list) in [
            ("requests", &resources.requests),
            ("limits", &resources.limits),
        ] {
            if let Some(list) = list {
                let m: Map<String, Value> = list
                    .iter()
                    .filter(|(k, _)| matches!(k.as_str(), "cpu" | "memory"))
                    .map(|(k, q)| (k.clone(), json!(q.0)))
                    .collect();
                if !m.is_empty() {
                    r.insert(field.into(), Value::Object(m));
                }
            }
        }
        if !r.is_empty() {
            if !r.contains_key("limits") {
                r.insert("limits".into(), json!("none"));
            }
            out.insert("resources".into(), Value::Object(r));
        }
    }
    unsupported
}

fn sidecar(
    object: &Object,
    container: &core::Container,
    native: bool,
    draft: &mut Draft,
    service: &mut DraftService,
    loc: &Loc,
) {
    let mut out = Map::new();
    for var in container_common(container, &mut out, &mut service.argv) {
        draft.note(
            loc,
            Fate::Dropped,
            object.id(),
            format!("the variable `{var}` of `{}` reads the pod's fields, which a step's or sidecar's `env` cannot: add it with a patch", container.name),
        );
    }
    let mut ports = Map::new();
    for p in container.ports.iter().flatten() {
        if let Ok(n) = u16::try_from(p.container_port) {
            let name = p
                .name
                .as_deref()
                .map_or_else(|| format!("port-{n}"), port_name);
            ports.insert(name, json!(n));
        }
    }
    if !ports.is_empty() {
        out.insert("ports".into(), Value::Object(ports));
    }
    if native {
        out.insert("native".into(), json!(true));
    }
    if container
        .volume_mounts
        .as_ref()
        .is_some_and(|m| !m.is_empty())
    {
        draft.note(loc, Fate::Dropped, object.id(), format!("the mounts of sidecar `{}`: a sidecar mounts the pod's volumes by name (`mounts:`); add them once the volumes are imported", container.name));
    }
    if container.liveness_probe.is_some()
        || container.readiness_probe.is_some()
        || container.startup_probe.is_some()
    {
        draft.note(
            loc,
            Fate::Dropped,
            object.id(),
            format!(
                "the probes of sidecar `{}`: sidecars have no probes in the spec",
                container.name
            ),
        );
    }
    let mut sidecars = service
        .get("sidecars")
        .cloned()
        .unwrap_or_else(|| json!({}));
    sidecars[step_name(object, container, draft, service, loc)] = Value::Object(out);
    service.set("sidecars", sidecars, &[]);
}

/// The security context of an init step or sidecar that has its own: a
/// patch, since they run as the service does. A privileged one makes the
/// service's profile `privileged`, which its namespace must allow.
fn own_security(
    object: &Object,
    container: &core::Container,
    pointer: &str,
    draft: &mut Draft,
    service: &mut DraftService,
    loc: &Loc,
) {
    let Some(context) = &container.security_context else {
        return;
    };
    if context.privileged == Some(true) && service.get("security") != Some(&json!("privileged")) {
        service.set(
            "security",
            json!("privileged"),
            &[&format!("the container `{}` is privileged", container.name)],
        );
        draft.note(loc, Fate::Review, object.id(), format!("the container `{}` is privileged: the service's pods, and so its namespace's Pod Security level, are `privileged`", container.name));
    }
    patch(
        draft,
        service,
        loc,
        &object.id(),
        json!({ "op": "add", "path": format!("{pointer}/securityContext"), "value": context }),
        &format!("the security context of `{}`", container.name),
    );
}

/// The name of an init step or sidecar: its container's, unless the spec
/// keeps that name for its own containers (`wait-…`, `istio-…`, the main
/// container's).
fn step_name(
    object: &Object,
    container: &core::Container,
    draft: &mut Draft,
    service: &DraftService,
    loc: &Loc,
) -> String {
    let name = dns_label(&container.name);
    let main = service
        .get("container")
        .and_then(Value::as_str)
        .unwrap_or(&service.name)
        .to_string();
    if name.starts_with("wait-") || name.starts_with("istio-") || name == main {
        let renamed: String = format!("step-{name}").chars().take(63).collect();
        draft.note(
            loc,
            Fate::Review,
            object.id(),
            format!("the container `{}` is named `{renamed}`: Strata keeps `wait-…`, `istio-…` and the main container's name for its own", container.name),
        );
        renamed
    } else {
        name
    }
}

fn init_step(
    object: &Object,
    container: &core::Container,
    draft: &mut Draft,
    service: &mut DraftService,
    loc: &Loc,
) {
    let mut out = Map::new();
    for var in container_common(container, &mut out, &mut service.argv) {
        draft.note(
            loc,
            Fate::Dropped,
            object.id(),
            format!("the variable `{var}` of `{}` reads the pod's fields, which a step's or sidecar's `env` cannot: add it with a patch", container.name),
        );
    }
    if container
        .volume_mounts
        .as_ref()
        .is_some_and(|m| !m.is_empty())
    {
        draft.note(loc, Fate::Review, object.id(), format!("init step `{}` mounts every mount of the service's container; its own mounts are not imported", container.name));
    }
    // A step mounts every mount of the service's container; the input's
    // mounted nothing.
    let mounts = ["storage", "volumes", "scratch", "config"]
        .iter()
        .any(|k| service.get(k).is_some())
        || read_only_root(service);
    if mounts && container.volume_mounts.as_ref().is_none_or(Vec::is_empty) {
        let at = service
            .get("init")
            .and_then(Value::as_object)
            .map_or(0, Map::len)
            + service
                .get("sidecars")
                .and_then(Value::as_object)
                .map_or(0, |s| {
                    s.values().filter(|v| v.get("native").is_some()).count()
                });
        let op = json!({ "op": "remove", "path": format!("{}/initContainers/{at}/volumeMounts", service.kind.pod_spec()) });
        service.patches.push((
            op,
            format!("no mounts for `{}`, as the input", container.name),
        ));
    }
    let mut init = service.get("init").cloned().unwrap_or_else(|| json!({}));
    init[step_name(object, container, draft, service, loc)] = Value::Object(out);
    service.set("init", init, &[]);
}
