//! The containers beside the main one: sidecars and init steps.

use super::{dns_label, port_name, read_only_root};
use crate::Fate;
use crate::draft::{Draft, DraftService, Loc};
use crate::kube::Object;
use k8s_openapi::api::core::v1 as core;
use serde_json::{Map, Value, json};

pub(super) fn container_common(
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

/// The settings of a sidecar or init step that the spec has keys for; the
/// variables reading the pod's fields, which such a container's `env`
/// cannot, noted as dropped.
fn added_container(
    object: &Object,
    container: &core::Container,
    draft: &mut Draft,
    service: &mut DraftService,
    loc: &Loc,
) -> Map<String, Value> {
    let mut out = Map::new();
    for var in container_common(container, &mut out, &mut service.argv) {
        draft.note(
            loc,
            Fate::Dropped,
            object.id(),
            format!("the variable `{var}` of `{}` reads the pod's fields, which a step's or sidecar's `env` cannot: add it with a patch", container.name),
        );
    }
    out
}

/// Adds `settings` under the service's `key` (`sidecars` or `init`), by
/// the container's name.
fn add_named(
    object: &Object,
    container: &core::Container,
    draft: &mut Draft,
    service: &mut DraftService,
    loc: &Loc,
    key: &'static str,
    settings: Map<String, Value>,
) {
    let mut named = service.get(key).cloned().unwrap_or_else(|| json!({}));
    named[step_name(object, container, draft, service, loc)] = Value::Object(settings);
    service.set(key, named, &[]);
}

pub(super) fn sidecar(
    object: &Object,
    container: &core::Container,
    native: bool,
    draft: &mut Draft,
    service: &mut DraftService,
    loc: &Loc,
) {
    let mut out = added_container(object, container, draft, service, loc);
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
    add_named(object, container, draft, service, loc, "sidecars", out);
}

/// The name of an init step or sidecar: its container's, unless the spec
/// keeps that name for its own containers (`wait-…`, `istio-…`, the main
/// container's).
pub(super) fn step_name(
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

pub(super) fn init_step(
    object: &Object,
    container: &core::Container,
    draft: &mut Draft,
    service: &mut DraftService,
    loc: &Loc,
) {
    let out = added_container(object, container, draft, service, loc);
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
    add_named(object, container, draft, service, loc, "init", out);
}
