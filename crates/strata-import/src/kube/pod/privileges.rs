//! Security contexts: the profile they amount to, and what else is kept.

use super::patch;
use crate::Fate;
use crate::draft::{Draft, DraftService, Loc};
use crate::kube::Object;
use k8s_openapi::api::core::v1 as core;
use serde_json::{Map, Value, json};
use strata_core::pod_security::{BASELINE_CAPABILITIES, RESTRICTED_CAPABILITY};

pub(super) fn security(spec: &core::PodSpec, main: &core::Container, service: &mut DraftService) {
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

/// The security context of an init step or sidecar that has its own: a
/// patch, since they run as the service does. A privileged one makes the
/// service's profile `privileged`, which its namespace must allow.
pub(super) fn own_security(
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
