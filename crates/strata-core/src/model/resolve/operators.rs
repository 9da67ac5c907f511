//! The platform's `operators:`: each one some blueprint mode or pod
//! scheduler needs, declared exactly one way, and where each runs.

use crate::diag::{Diagnostic, suggestion};
use crate::model::blueprint::{Catalog, OperatorRelease};
use crate::source::SourceFile;
use crate::spec::Spanned;
use crate::spec::platform::PlatformSpec;

/// Operators no blueprint mode needs: the pod schedulers of `scheduler:`.
const SCHEDULER_OPERATORS: &[&str] = &["volcano"];

/// Checks the platform's `operators:`: each is one the catalog knows, and
/// declared exactly one way.
pub(super) fn check_operators(
    catalog: &Catalog,
    spec: &PlatformSpec,
    tiers: &[&str],
    file: &SourceFile,
) -> Vec<Diagnostic> {
    let mut errors = Vec::new();
    let mut known = catalog.operators();
    known.extend(SCHEDULER_OPERATORS);
    known.sort_unstable();
    for (name, operator) in spec.operators.iter().flat_map(|o| o.value.iter()) {
        if !known.contains(&name.value.0.as_str()) {
            errors.push(
                error(
                    file,
                    "unknown-operator",
                    format!(
                        "no blueprint or scheduler uses an operator called `{}`",
                        name.value.0
                    ),
                    name.span,
                    "unknown operator",
                )
                .help(suggestion(&name.value.0, &known, "operator")),
            );
        }
        if let Some(version) = &operator.value.version {
            errors.extend(check_release(catalog, &name.value.0, version, file));
        }
        let installed = operator.value.installed.as_ref().is_some_and(|i| i.value);
        if let (Some(namespace), Some(_)) = (&operator.value.namespace, &operator.value.tier) {
            errors.push(
                error(
                    file,
                    "invalid-operator",
                    format!(
                        "the operator `{}` runs in its tier's namespace",
                        name.value.0
                    ),
                    namespace.span,
                    "set by the tier",
                )
                .help(
                    "remove `namespace`: a tier-installed operator runs in that tier's namespace",
                ),
            );
        }
        match (&operator.value.tier, installed) {
            (Some(tier), false) => {
                if !tiers.contains(&tier.value.0.as_str()) {
                    errors.push(
                        error(file, "unknown-tier", format!("`{}` is not a tier of this platform", tier.value.0), tier.span, "no such tier")
                            .help(suggestion(&tier.value.0, tiers, "tier")),
                    );
                }
            }
            (None, true) => {}
            (Some(tier), true) => errors.push(
                error(file, "invalid-operator", format!("the operator `{}` is declared both installed and installed by a tier", name.value.0), tier.span, "which one?")
                    .help("keep `installed: true` when the cluster already runs it, or `tier:` when this platform installs it"),
            ),
            (None, false) => errors.push(
                error(file, "invalid-operator", format!("the operator `{}` says neither how it is installed", name.value.0), operator.span, "how is it installed?")
                    .help("write `installed: true`, or `tier: NAME` for the tier whose `manifests:` install it"),
            ),
        }
    }
    errors
}

/// An operator's `version:`: one of the releases the modes it runs know,
/// and only for an operator whose resources follow its release.
fn check_release(
    catalog: &Catalog,
    operator: &str,
    version: &Spanned<String>,
    file: &SourceFile,
) -> Option<Diagnostic> {
    let releases: Vec<&OperatorRelease> = catalog
        .all()
        .flat_map(|b| b.info().modes.iter())
        .filter(|m| m.operator == Some(operator))
        .flat_map(|m| m.operator_releases.iter())
        .collect();
    if releases.is_empty() {
        let followed: Vec<&str> = catalog
            .all()
            .flat_map(|b| b.info().modes.iter())
            .filter(|m| !m.operator_releases.is_empty())
            .filter_map(|m| m.operator)
            .collect();
        return Some(
            error(
                file,
                "unsupported-option",
                format!("Strata renders the same for every release of `{operator}`"),
                version.span,
                "no release to choose",
            )
            .help(format!(
                "remove `version`: it chooses the release of an operator whose resources follow it ({})",
                followed.join(", ")
            )),
        );
    }
    if releases.iter().any(|r| r.is(&version.value)) {
        return None;
    }
    let known: Vec<String> = releases
        .iter()
        .map(|r| format!("`{}`", r.minor()))
        .collect();
    Some(
        error(
            file,
            "unsupported-version",
            format!("Strata does not render for `{operator}` {}", version.value),
            version.span,
            "not a release Strata knows",
        )
        .help(format!(
            "write one of {} (the newest by default), and run that release of the operator",
            known.join(", ")
        )),
    )
}

/// The namespace an `installed: true` operator runs in, when the spec says.
pub(super) fn operator_namespace<'a>(spec: &'a PlatformSpec, operator: &str) -> Option<&'a str> {
    spec.operators
        .as_ref()?
        .value
        .get(operator)?
        .value
        .namespace
        .as_ref()
        .map(|n| n.value.0.as_str())
}

/// The tier whose manifests install `operator`, when the platform says so.
pub(super) fn operator_tier<'a>(
    spec: &'a PlatformSpec,
    operator: &str,
) -> Option<&'a Spanned<crate::spec::names::Name>> {
    spec.operators
        .as_ref()?
        .value
        .get(operator)?
        .value
        .tier
        .as_ref()
}

fn error(
    file: &SourceFile,
    code: &'static str,
    message: String,
    span: crate::source::Span,
    label: &str,
) -> Diagnostic {
    Diagnostic::error(code, message).at(file, span, label)
}
