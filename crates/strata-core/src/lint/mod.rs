//! `strata lint`: object-level checks on any Kubernetes YAML, from anyone.
//!
//! Input is any set of manifests (multi-document files, `v1/List`s, Helm or
//! Kustomize output); each check looks at one object, with an index of the
//! whole set, built once per run, for cross-object checks (a Service that
//! selects no pod, a route to a missing Service…), so a run is linear in the
//! number of objects.

mod checks;
mod index;

use std::collections::BTreeSet;

use serde_json::Value;

use crate::diag::Diagnostic;
use crate::finding::{CheckInfo, Finding};
use crate::source::{SourceFile, Span};
use crate::spec::yaml;
use index::Index;

pub use checks::CHECKS;

pub use crate::finding::IGNORE_ANNOTATION;

/// One object read from a file, and where.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// The object.
    pub value: Value,
    /// The file it came from.
    pub file: SourceFile,
    /// Where in the file.
    pub span: Span,
}

impl Manifest {
    /// `kind`.
    pub fn kind(&self) -> &str {
        self.value["kind"].as_str().unwrap_or("")
    }

    /// `metadata.name`.
    pub fn name(&self) -> &str {
        self.value["metadata"]["name"].as_str().unwrap_or("")
    }

    /// `metadata.namespace`, or `default`.
    pub fn namespace(&self) -> &str {
        self.value["metadata"]["namespace"]
            .as_str()
            .unwrap_or("default")
    }

    /// `Kind/namespace/name`.
    pub fn display(&self) -> String {
        format!("{}/{}/{}", self.kind(), self.namespace(), self.name())
    }
}

/// The objects of one file, and the documents in it that are not objects.
#[derive(Debug, Default)]
pub struct Reading {
    /// Every Kubernetes object found, `v1/List`s unpacked.
    pub manifests: Vec<Manifest>,
    /// A warning at each document or list item skipped, saying why.
    pub skipped: Vec<Diagnostic>,
}

/// Reads every object of a YAML or JSON text; `v1/List`s are unpacked, and
/// anything that is no Kubernetes object (a scalar, a list, a mapping
/// without `apiVersion` and `kind`) is skipped with a warning at its place.
///
/// # Errors
/// Text that is not YAML.
pub fn read(file: &SourceFile) -> Result<Reading, Diagnostic> {
    let mut reading = Reading::default();
    // Each document becomes JSON as soon as it is parsed, and its tree is
    // dropped: a long stream is never held twice.
    yaml::parse_each(file, |document| {
        if document.is_null() {
            return Ok(());
        }
        let is_list = document
            .get("kind")
            .and_then(yaml::Node::as_scalar)
            .is_some_and(|k| k.ends_with("List"))
            && matches!(
                document.get("items").map(|items| &items.kind),
                Some(yaml::NodeKind::Seq(_))
            );
        if !is_list {
            reading.add(file, document);
            return Ok(());
        }
        let yaml::NodeKind::Map(entries) = document.kind else {
            return Ok(());
        };
        for (key, value) in entries {
            if key.as_scalar() == Some("items")
                && let yaml::NodeKind::Seq(items) = value.kind
            {
                for item in items {
                    reading.add(file, item);
                }
            }
        }
        Ok(())
    })?;
    Ok(reading)
}

impl Reading {
    /// Adds `node` of `file` as a manifest, or skips it with a warning
    /// saying why it is no object.
    fn add(&mut self, file: &SourceFile, node: yaml::Node) {
        let at = Span::new(node.span.start, node.span.start);
        match not_an_object(&node) {
            None => self.manifests.push(Manifest {
                value: node.into_json(),
                file: file.clone(),
                span: at,
            }),
            Some(why) => self.skipped.push(
                Diagnostic::warning("not-an-object", format!("skipped {why}"))
                    .at(file, at, "skipped")
                    .help("lint reads Kubernetes objects: mappings with `apiVersion` and `kind`"),
            ),
        }
    }
}

/// Why `node` is no Kubernetes object, if it is not one.
fn not_an_object(node: &yaml::Node) -> Option<String> {
    let text = |key| {
        node.get(key)
            .and_then(yaml::Node::as_scalar)
            .filter(|v| !v.is_empty())
    };
    match &node.kind {
        yaml::NodeKind::Map(_) => match (text("apiVersion"), text("kind")) {
            (Some(_), Some(_)) => None,
            (None, None) => Some("a mapping without `apiVersion` and `kind`".into()),
            (None, Some(_)) => Some("an object without `apiVersion`".into()),
            (Some(_), None) => Some("an object without `kind`".into()),
        },
        yaml::NodeKind::Seq(_) => Some("a list, not an object".into()),
        yaml::NodeKind::Scalar { .. } => Some(format!("{}, not an object", node.describe())),
    }
}

/// Which checks run.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Check ids switched off for the whole run.
    pub disabled: BTreeSet<String>,
}

/// Runs every enabled check on every manifest.
///
/// ```
/// use strata_core::{lint, source::SourceFile};
/// let file = SourceFile::new("pod.yaml", "apiVersion: v1\nkind: Pod\nmetadata: { name: p }\nspec:\n  hostNetwork: true\n  containers: [{ name: c, image: nginx }]\n");
/// let findings = lint::lint(&lint::read(&file).unwrap().manifests, &lint::Options::default());
/// assert!(findings.iter().any(|f| f.check.id == "host-network"));
/// assert!(findings.iter().any(|f| f.check.id == "latest-tag"));
/// ```
pub fn lint(manifests: &[Manifest], options: &Options) -> Vec<Finding> {
    let mut findings = Vec::new();
    let index = Index::new(manifests);
    for manifest in manifests {
        let ignored: BTreeSet<&str> = manifest.value["metadata"]["annotations"][IGNORE_ANNOTATION]
            .as_str()
            .map(|s| s.split(',').map(str::trim).collect())
            .unwrap_or_default();
        for check in CHECKS {
            if options.disabled.contains(check.info.id) || ignored.contains(check.info.id) {
                continue;
            }
            for message in (check.run)(manifest, &index) {
                let mut finding = Finding::new(&check.info, manifest.display(), message);
                finding.diagnostic =
                    finding
                        .diagnostic
                        .at(&manifest.file, manifest.span, "this object");
                findings.push(finding);
            }
        }
    }
    findings
}

/// Every check's documentation, in id order.
pub fn check_infos() -> Vec<&'static CheckInfo> {
    let mut infos: Vec<&'static CheckInfo> = CHECKS.iter().map(|c| &c.info).collect();
    infos.sort_by_key(|c| c.id);
    infos
}
