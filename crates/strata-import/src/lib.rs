//! `strata import`: the manifests and compose files a team already has,
//! turned into a Strata spec.
//!
//! Pure and synchronous like `strata-core`: the input is text, the output is
//! the spec's text, the verbatim objects it keeps beside it, and a report of
//! every input setting the spec does not carry as a key (kept verbatim as a
//! patch or a manifest, or left out), each at its `file:line:col` and with a
//! reason. The path of data is input → [`draft`] (one draft service per
//! workload, from [`kube`] or [`compose`]) → [`calls`] (references, the call
//! graph, tiers) → [`emit`] (commented YAML).

pub mod calls;
pub mod compose;
pub mod draft;
pub mod emit;
pub mod kube;
pub mod yaml;

use strata_core::diag::Diagnostic;
use strata_core::source::SourceFile;

/// What the input files are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Kubernetes objects: manifests, `helm template` or `kubectl kustomize` output.
    Kubernetes,
    /// A compose file (the compose specification, v2 and v3).
    Compose,
}

impl Source {
    /// Guesses the format of one file from its text: a top-level `services:`
    /// without `apiVersion` is a compose file.
    pub fn guess(text: &str) -> Source {
        let top_level = |key: &str| {
            text.lines()
                .any(|line| line.starts_with(key) && line[key.len()..].starts_with(':'))
        };
        if top_level("services") && !top_level("apiVersion") {
            Source::Compose
        } else {
            Source::Kubernetes
        }
    }
}

/// Settings of one import.
#[derive(Debug, Clone)]
pub struct Options {
    /// The platform's name (`platform:`).
    pub platform: String,
    /// The namespace of objects whose input names none.
    pub namespace: Option<String>,
    /// The file, relative to the spec, that objects kept verbatim go to.
    pub manifests_file: String,
}

/// The result of an import.
#[derive(Debug, Clone)]
pub struct Import {
    /// The spec, as commented YAML text.
    pub spec: String,
    /// Objects kept as they are, as a YAML stream for `manifests_file`;
    /// `None` when nothing is kept that way.
    pub manifests: Option<String>,
    /// Everything the spec does not carry as one of its keys.
    pub notes: Vec<Note>,
    /// How many services the spec has.
    pub services: usize,
}

/// What became of an input setting that has no spec key of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fate {
    /// Kept verbatim: a whole object under `manifests:`.
    Manifest,
    /// Kept verbatim: a patch on the generated object.
    Patch,
    /// Not carried over (Strata renders its own, or nothing can carry it).
    Dropped,
    /// Carried over, but something for a person to check.
    Review,
}

impl Fate {
    /// The word the report prints.
    pub fn word(self) -> &'static str {
        match self {
            Fate::Manifest => "kept as manifest",
            Fate::Patch => "kept as patch",
            Fate::Dropped => "not imported",
            Fate::Review => "review",
        }
    }
}

/// One line of the import's report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// The input file.
    pub file: String,
    /// 1-based line and column of the setting.
    pub line: usize,
    /// 1-based column.
    pub col: usize,
    /// What became of it.
    pub fate: Fate,
    /// The object and setting: `Deployment/cart: spec.template.spec.affinity`.
    pub what: String,
    /// Why, and what to do.
    pub why: String,
}

impl std::fmt::Display for Note {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}: {}: {}",
            self.file,
            self.line,
            self.col,
            self.fate.word(),
            self.what,
            self.why
        )
    }
}

/// One input file, read.
#[derive(Debug, Clone)]
pub struct Input {
    /// The file as the user named it.
    pub file: SourceFile,
    /// What it holds.
    pub source: Source,
}

/// Reports each long-running service with ports that no imported service
/// was found to call and nothing routes to: a call named only inside an
/// image cannot be seen, and the NetworkPolicies refuse what the spec does
/// not declare.
fn uncalled(draft: &mut draft::Draft) {
    let called: std::collections::BTreeSet<String> = draft
        .services
        .iter()
        .flat_map(|s| s.calls.keys().cloned())
        .collect();
    let found: Vec<(draft::Loc, String, String)> = draft
        .services
        .iter()
        .filter(|s| {
            !s.ports.is_empty()
                && !s.edge
                && !called.contains(&s.name)
                && matches!(
                    s.kind,
                    draft::Kind::Stateless | draft::Kind::Stateful | draft::Kind::Daemon
                )
        })
        .map(|s| (s.loc.clone(), s.origin.clone(), s.name.clone()))
        .collect();
    for (loc, origin, name) in found {
        draft.note(
            &loc,
            Fate::Review,
            origin,
            format!("no imported service names `{name}` in its env, arguments or files, and nothing routes to it: its callers may name it inside their images; add `needs: [{name}]` to each, or `expose: []` if nothing calls it (the NetworkPolicies refuse calls the spec does not declare)"),
        );
    }
}

/// Imports `inputs` into one spec; `files` reads what compose files name
/// (env files, bind-mounted files), by their path joined to the compose
/// file's directory.
///
/// # Errors
/// A file that is not YAML, or whose objects cannot be read (each at its
/// line), or an input with no workload at all.
pub fn import(
    inputs: &[Input],
    options: &Options,
    files: &dyn strata_core::render::Assets,
) -> Result<Import, Vec<Diagnostic>> {
    let mut draft = draft::Draft::default();
    let mut errors = Vec::new();
    let mut objects = Vec::new();
    for input in inputs {
        let result = match input.source {
            Source::Kubernetes => {
                kube::collect(&input.file, options).map(|mut o| objects.append(&mut o))
            }
            Source::Compose => compose::read(&input.file, options, files, &mut draft),
        };
        if let Err(mut found) = result {
            errors.append(&mut found);
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    kube::build(&objects, options, &mut draft);
    if draft.services.is_empty() {
        let file = &inputs
            .first()
            .map_or_else(|| SourceFile::new("-", ""), |i| i.file.clone());
        return Err(vec![
            Diagnostic::error("nothing-to-import", "the input has no workload to import")
                .at(
                    file,
                    strata_core::source::Span::new(0, 0),
                    "no Deployment, StatefulSet, DaemonSet, Job, CronJob or compose service",
                )
                .help("import the directory or stream holding the platform's workloads"),
        ]);
    }
    calls::infer(&mut draft);
    uncalled(&mut draft);
    let spec = emit::spec(&draft, options);
    let manifests = emit::manifests(&draft);
    let mut notes = std::mem::take(&mut draft.notes);
    notes.sort_by(|a, b| (&a.file, a.line, a.col).cmp(&(&b.file, b.line, b.col)));
    Ok(Import {
        spec,
        manifests,
        services: draft.services.len(),
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_core::render::NoAssets;

    fn imported(text: &str) -> Import {
        let input = Input {
            file: SourceFile::new("in.yaml", text),
            source: Source::Kubernetes,
        };
        let options = Options {
            platform: "t".into(),
            namespace: None,
            manifests_file: "kept.yaml".into(),
        };
        import(&[input], &options, &NoAssets).unwrap()
    }

    const TWO: &str = "apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers:
        - name: web
          image: example/web:1.0.0
          env: [{ name: CATALOG_URL, value: \"http://catalog:8080\" }]
---
apiVersion: v1
kind: Service
metadata: { name: web }
spec: { selector: { app: web }, ports: [{ name: http, port: 80, targetPort: 8080 }] }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: catalog }
spec:
  selector: { matchLabels: { app: catalog } }
  template:
    metadata: { labels: { app: catalog } }
    spec:
      initContainers:
        - name: seed
          image: example/seed:1.0.0
          env: [{ name: NODE, valueFrom: { fieldRef: { fieldPath: spec.nodeName } } }]
      containers: [{ name: catalog, image: example/catalog:1.0.0, ports: [{ name: http, containerPort: 8080 }] }]
---
apiVersion: v1
kind: Service
metadata: { name: catalog }
spec: { selector: { app: catalog }, ports: [{ name: http, port: 8080 }] }
";

    #[test]
    fn a_service_no_one_is_seen_calling_is_reported() {
        let import = imported(TWO);
        let uncalled: Vec<&Note> = import
            .notes
            .iter()
            .filter(|n| n.why.starts_with("no imported service names"))
            .collect();
        // `catalog` is called by `web` (its env); nothing calls `web`.
        assert_eq!(uncalled.len(), 1, "{uncalled:?}");
        assert_eq!(
            (uncalled[0].line, uncalled[0].what.as_str()),
            (1, "Deployment/web")
        );
        assert!(
            import
                .spec
                .contains("CATALOG_URL: \"http://${catalog.address}\""),
            "{}",
            import.spec
        );
    }

    #[test]
    fn a_step_variable_without_a_spec_form_is_reported_at_its_container() {
        let import = imported(TWO);
        let note = import
            .notes
            .iter()
            .find(|n| n.why.contains("the variable `NODE` of `seed`"))
            .expect("reported");
        assert_eq!((note.line, note.fate), (28, Fate::Dropped));
    }
}
