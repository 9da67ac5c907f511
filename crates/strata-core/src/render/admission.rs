//! Pod Security admission of the rendered set: every pod template, after
//! patches and with the raw manifests, against its namespace's enforced
//! level, as the API server will judge it. Reported where the spec makes
//! the pod: the patch that changed it, the manifest, or the service.

use std::collections::HashMap;

use super::Object;
use super::origin::{Origin, Origins};
use crate::diag::Diagnostic;
use crate::model::{Platform, Service};
use crate::pod_security::{self, Violation};
use crate::spec::runtime::Profile;

/// The label a Namespace enforces its level with.
const ENFORCE: &str = "pod-security.kubernetes.io/enforce";

/// Every pod template of `objects` its namespace refuses.
pub(super) fn refusals(
    platform: &Platform,
    objects: &[Object],
    origins: &Origins<'_>,
) -> Vec<Diagnostic> {
    let levels: HashMap<&str, Profile> = objects
        .iter()
        .filter(|o| o.kind() == crate::kind::NAMESPACE)
        .filter_map(|o| Some((o.name(), enforced(o)?)))
        .collect();
    let mut found = Vec::new();
    for (index, object) in objects.iter().enumerate() {
        let Some(&level) = levels.get(object.namespace()) else {
            continue;
        };
        let Some((pod, metadata)) = pod_security::pod_template(&object.value) else {
            continue;
        };
        let refused = pod_security::refusals(pod, metadata, level);
        if refused.is_empty() {
            continue;
        }
        found.push(diagnostic(
            platform,
            object,
            origins.of(index),
            level,
            &refused,
        ));
    }
    found
}

/// The level a Namespace object enforces, if its labels say.
pub(super) fn enforced(namespace: &Object) -> Option<Profile> {
    Some(
        match namespace.value["metadata"]["labels"][ENFORCE].as_str()? {
            "restricted" => Profile::Restricted,
            "baseline" => Profile::Baseline,
            _ => Profile::Privileged,
        },
    )
}

fn diagnostic(
    platform: &Platform,
    object: &Object,
    origin: Origin<'_>,
    level: Profile,
    refused: &[Violation],
) -> Diagnostic {
    let needs = refused.iter().map(|v| v.needs).max().unwrap_or(level);
    let what: Vec<&str> = refused.iter().map(|v| v.what.as_str()).collect();
    let object_name = format!("{} `{}`", object.kind(), object.name());
    let namespace = object.namespace();
    let refusal = format!(
        "the namespace `{namespace}` (enforce: {}) refuses the pods of {object_name}: {}",
        level.as_str(),
        what.join(", ")
    );
    let raise = format!(
        "or set `namespaces: {{ {namespace}: {{ podSecurity: {{ enforce: {} }} }} }}`",
        needs.as_str()
    );
    match origin {
        Origin::Service(service) => match patch_of(service, object) {
            Some(span) => Diagnostic::error(
                "pod-security-violation",
                format!("after a patch of `{}`, {refusal}", service.name),
            )
            .at(&platform.file, span, "makes the pods need more")
            .help(format!(
                "drop what the patch adds ({}), {raise}",
                controls(refused)
            )),
            None => Diagnostic::error(
                "pod-security-violation",
                format!("`{}` renders {refusal}", service.name),
            )
            .at(&platform.file, service.span, "its pods need more")
            .help(format!(
                "run `{}` with `security: {}`, {raise}",
                service.name,
                level.as_str()
            )),
        },
        Origin::Manifest(reference, line) => Diagnostic::error(
            "pod-security-violation",
            format!(
                "the document at line {line} of the manifest `{}`: {refusal}",
                reference.path
            ),
        )
        .at(&platform.file, reference.span, "its pods need more")
        .help(format!(
            "secure the manifest's pods ({}), {raise}",
            controls(refused)
        )),
        Origin::Platform => Diagnostic::error(
            "pod-security-violation",
            format!("{refusal} (internal error)"),
        )
        .help("please report this with the spec"),
    }
}

/// The controls `refused` fails, each once.
fn controls(refused: &[Violation]) -> String {
    let mut names: Vec<&str> = Vec::new();
    for control in refused.iter().map(|v| v.control) {
        if !names.contains(&control) {
            names.push(control);
        }
    }
    names.join(", ")
}

/// The last of `service`'s patches that changes `object`.
fn patch_of(service: &Service, object: &Object) -> Option<crate::source::Span> {
    service
        .rare
        .patches
        .iter()
        .rev()
        .find(|p| p.kind == object.kind() && p.name.as_deref().is_none_or(|n| n == object.name()))
        .map(|p| p.span)
}
