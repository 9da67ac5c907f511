//! `strata lint`: object-level checks on any Kubernetes YAML, from anyone.
//!
//! Input is any set of manifests (multi-document files, `v1/List`s, Helm or
//! Kustomize output); each check looks at one object, with an index of the
//! whole set, built once per run, for cross-object checks (a Service that
//! selects no pod, a route to a missing Service…), so a run is linear in the
//! number of objects.

mod checks;
mod index;
mod kept;
mod value;

use std::collections::BTreeSet;

use crate::diag::Diagnostic;
use crate::finding::{CheckInfo, Finding};
use crate::source::{SourceFile, Span};
use crate::spec::yaml;
use checks::Run;
use index::Index;

pub use checks::CHECKS;
pub use value::{Key, Map, Value};

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
    let (parts, result) = yaml::parse_split(
        file,
        parallelism(),
        Reading::default,
        |reading, document| {
            each_manifest(file, document, |read| match read {
                Ok(manifest) => reading.manifests.push(manifest),
                Err(skipped) => reading.skipped.push(skipped),
            });
        },
    );
    result?;
    let mut reading = Reading::default();
    for part in parts {
        reading.manifests.extend(part.manifests);
        reading.skipped.extend(part.skipped);
    }
    Ok(reading)
}

/// Threads to read a long file with: stretches of it are parsed and
/// checked at once, one per core.
fn parallelism() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}

/// Hands to `each` every object of `document`, a document of `file` (the
/// items of a `v1/List`, or the document itself), or a warning for the
/// document or a list item that is no object.
fn each_manifest(
    file: &SourceFile,
    document: yaml::Node,
    mut each: impl FnMut(Result<Manifest, Diagnostic>),
) {
    let mut add = |node: yaml::Node| {
        let at = Span::new(node.span.start(), node.span.start());
        each(match not_an_object(&node) {
            None => Ok(Manifest {
                value: Value::from_node(node),
                file: file.clone(),
                span: at,
            }),
            Some(why) => Err(
                Diagnostic::warning("not-an-object", format!("skipped {why}"))
                    .at(file, at, "skipped")
                    .help("lint reads Kubernetes objects: mappings with `apiVersion` and `kind`"),
            ),
        });
    };
    if document.is_null() {
        return;
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
        add(document);
        return;
    }
    let yaml::NodeKind::Map(entries) = document.kind else {
        return;
    };
    for (key, value) in entries {
        if key.as_scalar() == Some("items")
            && let yaml::NodeKind::Seq(items) = value.kind
        {
            for item in items {
                add(item);
            }
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
    let mut found = Found::default();
    for (position, manifest) in manifests.iter().enumerate() {
        found.check(manifest, position, None, options);
    }
    let index = Index::new(manifests);
    for (position, manifest) in manifests.iter().enumerate() {
        found.check(manifest, position, Some(&index), options);
    }
    found.into_findings()
}

/// Lints files as they are read: the checks of an object alone run as soon
/// as it is read, and only what the cross-object checks need of it is kept
/// (see `kept.rs`), so a long stream is never held whole. The findings are
/// those of [`read`] then [`lint`] on the same files, in the same order.
///
/// ```
/// use strata_core::{lint, source::SourceFile};
/// let file = SourceFile::new("svc.yaml", "apiVersion: v1\nkind: Service\nmetadata: { name: s }\nspec: { selector: { app: nothing } }\n");
/// let mut linter = lint::Linter::new(lint::Options::default());
/// let skipped = linter.read(&file).unwrap();
/// assert!(skipped.is_empty());
/// let findings = linter.finish();
/// assert!(findings.iter().any(|f| f.check.id == "service-selects-nothing"));
/// ```
#[derive(Debug, Default)]
pub struct Linter {
    options: Options,
    /// Every object read so far, as kept, and the findings of the checks
    /// of an object alone.
    read: Part,
}

impl Linter {
    /// A linter with no manifest yet.
    pub fn new(options: Options) -> Linter {
        Linter {
            options,
            ..Linter::default()
        }
    }

    /// Reads and checks every object of `file`, as [`read`] reads them;
    /// returns a warning for each document skipped. Stretches of a long
    /// file are read and checked at once, one per core; the findings, their
    /// order and their places are those of reading it in one piece.
    ///
    /// # Errors
    /// Text that is not YAML; the objects read before the error stay
    /// read.
    pub fn read(&mut self, file: &SourceFile) -> Result<Vec<Diagnostic>, Diagnostic> {
        self.read_split(file, parallelism(), yaml::MIN_STRETCH)
    }

    /// [`Linter::read`] in up to `parts` stretches of at least `min_len`
    /// bytes (tests split small texts at every document).
    fn read_split(
        &mut self,
        file: &SourceFile,
        parts: usize,
        min_len: usize,
    ) -> Result<Vec<Diagnostic>, Diagnostic> {
        let options = &self.options;
        let (parts, result) =
            yaml::parse_split_sized(file, parts, min_len, Part::default, |part, document| {
                each_manifest(file, document, |read| match read {
                    Ok(manifest) => part.add(manifest, options),
                    Err(skipped) => part.skipped.push(skipped),
                });
            });
        let mut skipped = Vec::new();
        for part in parts {
            skipped.extend(self.read.append(part));
        }
        result.map(|()| skipped)
    }

    /// Checks `manifest` on its own, and keeps what the cross-object checks
    /// read of it.
    pub fn add(&mut self, manifest: Manifest) {
        self.read.add(manifest, &self.options);
    }

    /// How many objects were read.
    pub fn len(&self) -> usize {
        self.read.kept.len()
    }

    /// Whether no object was read.
    pub fn is_empty(&self) -> bool {
        self.read.kept.is_empty()
    }

    /// Runs the cross-object checks; every finding, by object in the order
    /// read, then by check.
    pub fn finish(self) -> Vec<Finding> {
        let Part {
            kept, mut found, ..
        } = self.read;
        let index = Index::new(&kept);
        for (position, manifest) in kept.iter().enumerate() {
            found.check(manifest, position, Some(&index), &self.options);
        }
        found.into_findings()
    }
}

/// Objects read, checked on their own and kept as [`Linter::add`] keeps
/// them: all of a linter's, or those of one stretch of a file, read on a
/// thread of their own.
#[derive(Debug, Default)]
struct Part {
    /// What the cross-object checks read of each manifest.
    kept: Vec<Manifest>,
    found: Found,
    /// A warning at each document or list item that is no object.
    skipped: Vec<Diagnostic>,
}

impl Part {
    fn add(&mut self, manifest: Manifest, options: &Options) {
        let position = self.kept.len();
        self.found.check(&manifest, position, None, options);
        self.kept.push(Manifest {
            value: kept::kept(manifest.value),
            ..manifest
        });
    }

    /// Adds the objects of `next`, read after these, and their findings;
    /// returns its warnings.
    fn append(&mut self, next: Part) -> Vec<Diagnostic> {
        let offset = self.kept.len();
        self.found.0.extend(
            next.found
                .0
                .into_iter()
                .map(|(position, number, finding)| (offset + position, number, finding)),
        );
        self.kept.extend(next.kept);
        next.skipped
    }
}

/// Findings so far, each with the position of its object and of its check
/// in [`CHECKS`]: the checks of an object alone and the cross-object ones
/// run apart, and the findings are put back in the order of one pass.
#[derive(Debug, Default)]
struct Found(Vec<(usize, usize, Finding)>);

impl Found {
    /// Runs on `manifest`, at `position` in the set, the enabled checks of
    /// an object alone (no `index`) or the cross-object ones (with the
    /// index of the set).
    fn check(
        &mut self,
        manifest: &Manifest,
        position: usize,
        index: Option<&Index<'_>>,
        options: &Options,
    ) {
        let ignored: BTreeSet<&str> = manifest.value["metadata"]["annotations"][IGNORE_ANNOTATION]
            .as_str()
            .map(|s| s.split(',').map(str::trim).collect())
            .unwrap_or_default();
        for (number, check) in CHECKS.iter().enumerate() {
            if options.disabled.contains(check.info.id) || ignored.contains(check.info.id) {
                continue;
            }
            let messages = match (check.run, index) {
                (Run::Object(run), None) => run(manifest),
                (Run::Set(run), Some(index)) => run(manifest, index),
                _ => continue,
            };
            for message in messages {
                let mut finding = Finding::new(&check.info, manifest.display(), message);
                finding.diagnostic =
                    finding
                        .diagnostic
                        .at(&manifest.file, manifest.span, "this object");
                self.0.push((position, number, finding));
            }
        }
    }

    fn into_findings(mut self) -> Vec<Finding> {
        // Stable: the messages of one check on one object keep their order.
        self.0
            .sort_by_key(|(position, number, _)| (*position, *number));
        self.0.into_iter().map(|(_, _, finding)| finding).collect()
    }
}

/// Every check's documentation, in id order.
pub fn check_infos() -> Vec<&'static CheckInfo> {
    let mut infos: Vec<&'static CheckInfo> = CHECKS.iter().map(|c| &c.info).collect();
    infos.sort_by_key(|c| c.id);
    infos
}
