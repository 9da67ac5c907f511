//! `version:` against the releases a blueprint's mode runs (and the
//! operator release chosen for it).

use super::error;
use crate::diag::Diagnostic;
use crate::image::ImageRef;
use crate::model::blueprint::{Blueprint, Mode, OperatorRelease, Release, Releases};
use crate::source::SourceFile;
use crate::spec::service::ServiceSpec;

/// The version the blueprint renders for: the release the tag of the
/// service's `image:` names, else `version:`, else the blueprint's own. A
/// tag that names none (a digest alone, `latest`) leaves `version:` to say
/// what the image runs. Refused, at the key that chose it, where the mode
/// (with its operator's release, when that decides) does not run it, or
/// where `version:` and the tag disagree.
pub(super) fn version(
    blueprint: &dyn Blueprint,
    mode: &Mode,
    operator: Option<&OperatorRelease>,
    spec: &ServiceSpec,
    file: &SourceFile,
    errors: &mut Vec<Diagnostic>,
) -> String {
    let info = blueprint.info();
    let default = operator.map_or(info.version, |o| o.version);
    let releases = operator.map_or(mode.versions, |o| o.runs);
    let written = match &spec.rare.version {
        Some(v) if v.value == "latest" || v.value.is_empty() => {
            errors.push(
                error(
                    file,
                    "invalid-option",
                    format!("`{}` is not a pinned version", v.value),
                    v.span,
                    "not pinned",
                )
                .help(format!(
                    "write a release such as `{default}`, so every pod runs the same bits"
                )),
            );
            return default.to_string();
        }
        written => written,
    };
    let image = spec.image.as_ref().and_then(|image| {
        blueprint
            .image_version(mode, &ImageRef::parse(&image.value))
            .map(|runs| (runs, image))
    });
    if let (Some(written), Some((runs, image))) = (written, &image)
        && !same_release(&written.value, runs)
    {
        errors.push(
            error(
                file,
                "conflicting-version",
                format!(
                    "`version: {}` and the image `{}`, which runs {runs}, disagree",
                    written.value, image.value
                ),
                written.span,
                "not what the image runs",
            )
            .help(format!(
                "remove `version:`: the blueprint renders for the release the image's tag names ({runs})"
            )),
        );
        return runs.clone();
    }
    let (text, span, message, fix) = match (image, written) {
        (Some((runs, image)), _) => {
            let message = format!(
                "the image `{}` runs {} {runs}, which the `{}` mode does not render for",
                image.value, info.name, mode.name
            );
            (runs, image.span, message, "tag the image with one of them")
        }
        (None, Some(v)) => {
            let message = format!(
                "`{}` is not a version the `{}` mode of `{}` renders for",
                v.value, mode.name, info.name
            );
            (v.value.clone(), v.span, message, "write one of them")
        }
        (None, None) => return default.to_string(),
    };
    let Some(listed) =
        Releases::text(releases).filter(|_| !Releases::any_contains(releases, &text))
    else {
        return text;
    };
    let others: Vec<String> = info
        .modes
        .iter()
        .filter(|m| m.runs(&text) && Release::parse(&text).is_some())
        .map(|m| format!("`mode: {}`", m.name))
        .collect();
    let with = operator.map_or(String::new(), |o| {
        format!(
            " with {} {}",
            mode.operator.unwrap_or("its operator"),
            o.minor()
        )
    });
    let mut help = format!(
        "the `{}` mode of `{}` renders for {listed}{with}: {fix}, such as `{default}`",
        mode.name, info.name
    );
    let other_releases: Vec<String> = mode
        .operator_releases
        .iter()
        .filter(|o| Some(*o) != operator && Releases::any_contains(o.runs, &text))
        .map(|o| o.minor().to_string())
        .collect();
    if let (Some(name), false) = (mode.operator, other_releases.is_empty()) {
        help.push_str(&format!(
            ", or set `operators.{name}.version` to {}, which runs {text}",
            other_releases.join(" or ")
        ));
    } else if !others.is_empty() {
        help.push_str(&format!(
            ", or use {}, which runs {text}",
            others.join(" or ")
        ));
    }
    errors.push(
        error(
            file,
            "unsupported-version",
            message,
            span,
            &format!("not {listed}"),
        )
        .help(help),
    );
    text
}

/// Whether two versions name one release to the blueprints: the same major,
/// and the same minor where both write one.
pub(super) fn same_release(a: &str, b: &str) -> bool {
    match (Release::parse(a), Release::parse(b)) {
        (Some(a), Some(b)) => {
            a.major == b.major && (a.minor.is_none() || b.minor.is_none() || a.minor == b.minor)
        }
        _ => false,
    }
}
