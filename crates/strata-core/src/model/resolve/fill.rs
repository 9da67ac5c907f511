//! Filling a service from its blueprint's recipe: the recipe's fields,
//! decoded by the spec decoder like a user's, under the service's own.

use crate::diag::Diagnostic;
use crate::model::Tuning;
use crate::source::{SourceFile, Span};
use crate::spec::decode::{Decode, Decoder};
use crate::spec::service::ServiceSpec;
use crate::spec::yaml::{self, Node, NodeKind};

/// The service `own` as written, with every field it leaves out taken from
/// its blueprint's recipe. Mappings the user writes in part (`env`,
/// `security`, `resources`, `probes`, `storage`) are merged key by key, so
/// `storage: 100Gi` keeps the image's data path.
///
/// Recipe values get the span of the `blueprint:` line, so a problem in them
/// is reported there.
///
/// # Errors
/// A recipe that does not decode as a service: a bug of the blueprint, which
/// the catalog's tests rule out.
pub(super) fn fill(
    own: &ServiceSpec,
    tuning: &Tuning,
    span: Span,
) -> Result<ServiceSpec, Diagnostic> {
    let mut recipe = tuning.blueprint.recipe(tuning);
    if recipe.spec.get("replicas").is_none() && recipe.spec["kind"] != "daemon" {
        recipe.spec["replicas"] = tuning.mode.replicas.into();
    }
    let file = SourceFile::new(
        format!("blueprint {}", tuning.blueprint.name()),
        recipe.spec.to_string(),
    );
    let internal = |message: String| {
        Diagnostic::error(
            "blueprint-failed",
            format!(
                "the `{}` blueprint gave an invalid service: {message}",
                tuning.blueprint.name()
            ),
        )
    };
    let mut node = yaml::parse(&file).map_err(|d| internal(d.message))?;
    respan(&mut node, span);
    let mut decoder = Decoder::new(&file);
    let base = ServiceSpec::decode(node, &mut decoder);
    let base = match base {
        Some(base) if decoder.is_clean() => base,
        _ => {
            let messages: Vec<String> = decoder
                .into_diagnostics()
                .into_iter()
                .map(|d| d.message)
                .collect();
            return Err(internal(messages.join("; ")));
        }
    };
    own.over(base)
        .map_err(|key| internal(format!("it sets `{key}`, which only a service may write")))
}

fn respan(node: &mut Node, span: Span) {
    node.span = span;
    match &mut node.kind {
        NodeKind::Map(entries) => {
            for (k, v) in entries {
                respan(k, span);
                respan(v, span);
            }
        }
        NodeKind::Seq(items) => items.iter_mut().for_each(|i| respan(i, span)),
        NodeKind::Scalar { .. } => {}
    }
}
