//! The spec language: YAML text to [`PlatformSpec`], with a span on every value.
//!
//! This layer checks shape and types (unknown keys, wrong types, quantities,
//! names). Meaning (references, cycles, environments) is checked by
//! [`crate::model`].

pub mod amount;
pub mod decode;
mod merge;
pub mod names;
pub mod network;
pub mod null;
pub mod platform;
pub mod runtime;
pub mod schedule;
pub mod service;
pub mod yaml;

pub use decode::{Map, Spanned};
pub use platform::PlatformSpec;
pub use service::ServiceSpec;

use crate::diag::Diagnostic;
use crate::source::SourceFile;
use yaml::Node;

/// A parsed spec: its source, its YAML tree and the decoded platform.
#[derive(Debug, Clone)]
pub struct Document {
    /// The file it came from.
    pub file: SourceFile,
    /// The YAML tree, for environment overlays: all of it but the services
    /// no environment overrides, which are only in [`Document::spec`].
    pub root: Node,
    /// The decoded platform.
    pub spec: PlatformSpec,
}

/// Parses and decodes a spec file.
///
/// # Errors
/// Every syntax, shape and type problem of the file.
///
/// ```
/// use strata_core::{source::SourceFile, spec};
/// let file = SourceFile::new("p.yaml", "platform: demo\ntiers:\n  - name: apps\n");
/// let doc = spec::parse(&file).unwrap();
/// assert_eq!(doc.spec.platform.value.0, "demo");
/// ```
pub fn parse(file: &SourceFile) -> Result<Document, Vec<Diagnostic>> {
    let root = yaml::parse(file).map_err(|d| vec![d])?;
    let spec = decode_root(file, &root)?;
    Ok(Document {
        file: file.clone(),
        root: kept_for_overlays(root),
        spec,
    })
}

/// Of the whole YAML tree, what an environment overlay reads again: every
/// top-level key but the services of `tiers`, and of those only the ones
/// an environment overrides (by name). The rest is decoded already: kept,
/// it would be most of the memory of a parsed spec.
fn kept_for_overlays(mut root: Node) -> Node {
    use std::collections::HashSet;
    use yaml::NodeKind;
    fn entries(node: Option<&Node>) -> &[(Node, Node)] {
        match node.map(|n| &n.kind) {
            Some(NodeKind::Map(entries)) => entries,
            _ => &[],
        }
    }
    let overridden: HashSet<String> = entries(root.get("environments"))
        .iter()
        .flat_map(|(_, environment)| entries(environment.get("services")))
        .filter_map(|(name, _)| name.as_scalar().map(str::to_string))
        .collect();
    if let Some(NodeKind::Seq(tiers)) = root.get_mut("tiers").map(|t| &mut t.kind) {
        for tier in tiers {
            if let Some(NodeKind::Map(services)) = tier.get_mut("services").map(|s| &mut s.kind) {
                services
                    .retain(|(name, _)| name.as_scalar().is_some_and(|n| overridden.contains(n)));
                services.shrink_to_fit();
            }
        }
    }
    root
}

/// Decodes a (possibly environment-merged) YAML tree as a platform.
pub(crate) fn decode_root(file: &SourceFile, root: &Node) -> Result<PlatformSpec, Vec<Diagnostic>> {
    let mut decoder = decode::Decoder::new(file);
    let spec = <PlatformSpec as decode::Decode>::decode(root, &mut decoder);
    match spec {
        Some(spec) if decoder.is_clean() => Ok(spec),
        _ => {
            let mut diagnostics = decoder.into_diagnostics();
            diagnostics.sort_by_key(|d| d.labels.first().map(|l| l.span.start));
            Err(diagnostics)
        }
    }
}

/// The JSON Schema of the spec language, generated from the wire types.
pub fn json_schema() -> serde_json::Value {
    let mut schema = schemars::SchemaGenerator::default().into_root_schema_for::<PlatformSpec>();
    schema.insert(
        "$id".into(),
        "https://strata.dev/schema/platform.json".into(),
    );
    schema.insert("title".into(), "Strata platform spec".into());
    schema.to_value()
}
