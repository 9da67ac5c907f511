//! Volumes and claims: `storage`, `volumes`, `scratch` and `config`.

use super::{dns_label, read_only_root};
use crate::Fate;
use crate::draft::{Draft, DraftService, Kind};
use crate::kube::{Index, Object, config_map};
use k8s_openapi::api::core::v1 as core;
use serde_json::{Map, Value, json};

#[allow(clippy::too_many_arguments)]
pub(super) fn volumes(
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
