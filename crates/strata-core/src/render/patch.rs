//! The escape hatch: a service's `patches:` applied to its own objects.

use super::Object;
use crate::diag::Diagnostic;
use crate::model::{Patch, PatchChange, Platform, Service};

/// Applies every patch of `service` to `objects`, reporting targets that do
/// not exist or are ambiguous, patches that fail, and renames.
pub(super) fn apply(
    platform: &Platform,
    service: &Service,
    objects: &mut [Object],
    errors: &mut Vec<Diagnostic>,
) {
    for patch in &service.rare.patches {
        if let Err(diagnostic) = apply_one(platform, service, patch, objects) {
            errors.push(diagnostic);
        }
    }
}

fn apply_one(
    platform: &Platform,
    service: &Service,
    patch: &Patch,
    objects: &mut [Object],
) -> Result<(), Diagnostic> {
    let error = |code: &'static str, message: String, help: String| {
        Diagnostic::error(code, message)
            .at(&platform.file, patch.span, "this patch")
            .help(help)
    };
    let candidates: Vec<usize> = objects
        .iter()
        .enumerate()
        .filter(|(_, o)| {
            o.kind() == patch.kind && patch.name.as_deref().is_none_or(|n| n == o.name())
        })
        .map(|(i, _)| i)
        .collect();
    let target = match candidates.as_slice() {
        [one] => *one,
        [] => {
            let rendered: Vec<String> = objects
                .iter()
                .map(|o| format!("{}/{}", o.kind(), o.name()))
                .collect();
            let wanted = patch
                .name
                .as_ref()
                .map_or(patch.kind.clone(), |n| format!("{}/{n}", patch.kind));
            return Err(error(
                "unknown-patch-target",
                format!("`{}` renders no {wanted} to patch", service.name),
                format!("it renders: {}", rendered.join(", ")),
            ));
        }
        many => {
            let names: Vec<&str> = many.iter().map(|&i| objects[i].name()).collect();
            return Err(error(
                "ambiguous-patch-target",
                format!(
                    "`{}` renders {} objects of kind {}",
                    service.name,
                    many.len(),
                    patch.kind
                ),
                format!(
                    "name one: {}",
                    names
                        .iter()
                        .map(|n| format!("`{}/{n}`", patch.kind))
                        .collect::<Vec<_>>()
                        .join(" or ")
                ),
            ));
        }
    };
    let object = &mut objects[target];
    let before = (object.api_version().to_string(), object.key());
    let mut value = object.value.clone();
    match &patch.change {
        PatchChange::Merge(merge) => json_patch::merge(&mut value, merge),
        PatchChange::Json(ops) => json_patch::patch(&mut value, ops).map_err(|err| {
            error(
                "patch-failed",
                format!(
                    "the JSON patch does not apply to {}/{}: {err}",
                    object.kind(),
                    object.name()
                ),
                "`strata render` shows the object as rendered; check the paths against it".into(),
            )
        })?,
    }
    object.value = value;
    if (object.api_version().to_string(), object.key()) != before {
        return Err(error(
            "patch-renames",
            "a patch may not change an object's apiVersion, kind, name or namespace".into(),
            "change the spec instead: the name comes from the service, the namespace from its tier"
                .into(),
        ));
    }
    Ok(())
}
