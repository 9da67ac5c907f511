//! The platform's `operators:`: each one some blueprint mode or pod
//! scheduler needs, declared exactly one way, and where each runs.

use crate::diag::{Diagnostic, suggestion};
use crate::model::blueprint::Catalog;
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
