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
pub(crate) mod record;
pub mod runtime;
pub mod schedule;
pub mod service;
pub mod storage;
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
    // What overlays read is copied out first: decoding then consumes the
    // tree, freeing each service's nodes as soon as it is decoded.
    let kept = kept_for_overlays(&root);
    let spec = decode_root(file, root)?;
    Ok(Document {
        file: file.clone(),
        root: kept,
        spec,
    })
}

/// Of the whole YAML tree, what an environment overlay reads again: every
/// top-level key but the services of `tiers`, and of those only the ones
/// an environment overrides (by name). The rest is decoded already: kept,
/// it would be most of the memory of a parsed spec.
fn kept_for_overlays(root: &Node) -> Node {
    use std::collections::HashSet;
    use yaml::NodeKind;
    fn entries(node: Option<&Node>) -> &[(Node, Node)] {
        match node.map(|n| &n.kind) {
            Some(NodeKind::Map(entries)) => entries,
            _ => &[],
        }
    }
    /// `node` with the entries of its mapping mapped by `keep` (dropped
    /// when it gives `None`); any other node as it is.
    fn map_entries(node: &Node, keep: impl Fn(&Node, &Node) -> Option<Node>) -> Node {
        let NodeKind::Map(entries) = &node.kind else {
            return node.clone();
        };
        let kept = entries
            .iter()
            .filter_map(|(key, value)| Some((key.clone(), keep(key, value)?)))
            .collect();
        Node {
            span: node.span,
            kind: NodeKind::Map(kept),
        }
    }
    let overridden: HashSet<&str> = entries(root.get("environments"))
        .iter()
        .flat_map(|(_, environment)| entries(environment.get("services")))
        .filter_map(|(name, _)| name.as_scalar())
        .collect();
    let service = |name: &Node, service: &Node| {
        name.as_scalar()
            .is_some_and(|n| overridden.contains(n))
            .then(|| service.clone())
    };
    let tier = |tier: &Node| {
        map_entries(tier, |key, value| {
            Some(if key.as_scalar() == Some("services") {
                map_entries(value, service)
            } else {
                value.clone()
            })
        })
    };
    map_entries(root, |key, value| {
        Some(match &value.kind {
            NodeKind::Seq(tiers) if key.as_scalar() == Some("tiers") => Node {
                span: value.span,
                kind: NodeKind::Seq(tiers.iter().map(tier).collect()),
            },
            _ => value.clone(),
        })
    })
}

/// Decodes a (possibly environment-merged) YAML tree as a platform.
pub(crate) fn decode_root(file: &SourceFile, root: Node) -> Result<PlatformSpec, Vec<Diagnostic>> {
    let mut decoder = decode::Decoder::new(file);
    let spec = <PlatformSpec as decode::Decode>::decode(root, &mut decoder);
    match spec {
        Some(spec) if decoder.is_clean() => Ok(spec),
        _ => {
            let mut diagnostics = decoder.into_diagnostics();
            diagnostics.sort_by_key(|d| d.labels.first().map(|l| l.span.start()));
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

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: &str = "
platform: demo
environments:
  prod:
    services: { api: { replicas: 3 } }
nodePools: { general: { selector: { pool: general }, nodes: 2 } }
tiers:
  - name: data
    description: the data tier
    services:
      db: { image: postgres:16.4, ports: { pg: 5432 } }
  - name: apps
    services:
      api: { image: 'registry.example.com/team/api:1.0.0', env: { LOG: info } }
      web: { image: t/web:1.0.0 }
";

    #[test]
    fn the_kept_tree_holds_what_overlays_read_and_no_other_service() {
        let file = SourceFile::new("p.yaml", SPEC);
        let doc = parse(&file).unwrap();
        let whole = yaml::parse(&file).unwrap();
        for key in ["platform", "environments", "nodePools"] {
            assert_eq!(doc.root.get(key), whole.get(key), "{key}");
        }
        let yaml::NodeKind::Seq(tiers) = &doc.root.get("tiers").unwrap().kind else {
            panic!("tiers are a list");
        };
        let services: Vec<Vec<&str>> = tiers
            .iter()
            .map(|tier| match &tier.get("services").unwrap().kind {
                yaml::NodeKind::Map(entries) => {
                    entries.iter().filter_map(|(k, _)| k.as_scalar()).collect()
                }
                _ => panic!("services are a mapping"),
            })
            .collect();
        assert_eq!(services, [vec![], vec!["api"]]);
        assert_eq!(
            tiers[0].get("description").unwrap().as_scalar(),
            Some("the data tier")
        );
        let whole_api = whole.get("tiers").map(|t| match &t.kind {
            yaml::NodeKind::Seq(tiers) => tiers[1].get("services").unwrap().get("api").cloned(),
            _ => None,
        });
        assert_eq!(
            tiers[1].get("services").unwrap().get("api").cloned(),
            whole_api.flatten()
        );
    }

    #[test]
    fn decoded_strings_are_moved_out_of_the_tree_without_spare_room() {
        let file = SourceFile::new("p.yaml", SPEC);
        let doc = parse(&file).unwrap();
        let name = &doc.spec.platform.value.0;
        assert_eq!(name, "demo");
        assert_eq!(name.capacity(), name.len());
        let tier = &doc.spec.tiers.value[1].value;
        let (key, api) = &tier.services.as_ref().unwrap().value.0[0];
        assert_eq!(key.value.0, "api");
        let image = &api.value.image.as_ref().unwrap().value;
        assert_eq!(image, "registry.example.com/team/api:1.0.0");
        assert_eq!(image.capacity(), image.len());
    }

    #[test]
    fn decoded_lists_have_no_spare_room() {
        // Three items: the tree's list grows to room for four.
        let text = "platform: demo\ntiers:\n  - name: apps\n    services:\n      api: { image: a/b:1.0.0, command: [a, b, c] }\n";
        let doc = parse(&SourceFile::new("p.yaml", text)).unwrap();
        let (_, api) = &doc.spec.tiers.value[0]
            .value
            .services
            .as_ref()
            .unwrap()
            .value
            .0[0];
        let command = &api.value.rare.command.as_ref().unwrap().value;
        assert_eq!(command.len(), 3);
        assert_eq!(command.capacity(), 3);
    }
}
