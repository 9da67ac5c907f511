//! `strata import`: Kubernetes manifests or compose files to a spec, with a
//! report on stderr of every setting kept verbatim or left out.

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow};
use strata_core::source::SourceFile;
use strata_import::{Fate, Input, Options, Source};

use super::{graph::write_file, lint::files, report};
use crate::cli::ImportFrom;
use crate::exit::{Exit, ExitStatus};
use crate::printer::Printer;

/// What the first lines of an imported spec say, and what `--out` must
/// find in a file before it replaces it.
const WRITTEN_BY: &str = "# Written by `strata import`.";

/// Files compose inputs name, by their path.
struct Disk;

impl strata_core::render::Assets for Disk {
    fn read(&self, path: &str) -> Result<String, String> {
        std::fs::read_to_string(path).map_err(|e| e.to_string())
    }
}

/// The objects kept verbatim, as the render of the check reads them.
struct Kept(Option<String>);

impl strata_core::render::Assets for Kept {
    fn read(&self, _path: &str) -> Result<String, String> {
        self.0.clone().ok_or_else(|| "nothing kept".into())
    }
}

/// What `strata import` was asked.
pub(crate) struct Request<'a> {
    pub(crate) paths: &'a [PathBuf],
    pub(crate) from: Option<ImportFrom>,
    pub(crate) out: Option<&'a Path>,
    pub(crate) name: Option<&'a str>,
    pub(crate) namespace: Option<&'a str>,
}

/// The platform's name when none is given: the input directory's or file's.
fn default_name(paths: &[PathBuf]) -> String {
    let guess = paths
        .first()
        .filter(|p| p.as_os_str() != "-")
        .and_then(|p| {
            let p = if p.is_dir() {
                p.clone()
            } else {
                p.with_extension("")
            };
            p.canonicalize()
                .unwrap_or(p)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
        })
        .unwrap_or_default();
    let name: String = guess
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let name = name.trim_matches('-');
    if name.is_empty() || matches!(name, "docker-compose" | "compose" | "manifests" | "k8s") {
        "imported".into()
    } else {
        name.chars().take(63).collect()
    }
}

/// Whether `name` is a DNS label, as the spec's names are.
fn dns_label(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

pub(super) fn run(request: &Request<'_>, printer: &Printer) -> Result<ExitStatus, Exit> {
    for (flag, value) in [("--name", request.name), ("--namespace", request.namespace)] {
        if let Some(value) = value.filter(|v| !dns_label(v)) {
            return Err(anyhow!(
                "{flag} `{value}` is not a DNS label: lowercase letters, digits and `-`, at most 63 characters"
            )
            .into());
        }
    }
    let mut inputs = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for path in request.paths {
        let mut found = Vec::new();
        if path == Path::new("-") {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .context("cannot read standard input")?;
            inputs.push(SourceFile::new("<stdin>", text));
            continue;
        }
        files(path, &mut seen, &mut found)?;
        for file in found {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read `{}`", file.display()))?;
            inputs.push(SourceFile::new(file.display().to_string(), text));
        }
    }
    let inputs: Vec<Input> = inputs
        .into_iter()
        .map(|file| Input {
            source: match request.from {
                Some(ImportFrom::Kubernetes) => Source::Kubernetes,
                Some(ImportFrom::Compose) => Source::Compose,
                None => Source::guess(file.text()),
            },
            file,
        })
        .collect();
    let manifests_file = request.out.map_or_else(
        || "imported-manifests.yaml".to_string(),
        |out| {
            let stem = out
                .file_stem()
                .map_or_else(|| "platform".into(), |s| s.to_string_lossy().into_owned());
            format!("{stem}.kept.yaml")
        },
    );
    let options = Options {
        platform: request
            .name
            .map_or_else(|| default_name(request.paths), str::to_string),
        namespace: request.namespace.map(str::to_string),
        manifests_file: manifests_file.clone(),
    };
    let imported = match strata_import::import(&inputs, &options, &Disk) {
        Ok(imported) => imported,
        Err(problems) => {
            for problem in &problems {
                printer.diagnostic(problem);
            }
            printer.failure(&format!(
                "{} problem(s) in the input: nothing written",
                problems.len()
            ));
            return Err(Exit::Reported);
        }
    };
    // The spec must pass `strata check` as it is: an import that would not
    // is a bug of the import, reported as such, with nothing written.
    let name = request
        .out
        .map_or_else(|| "<stdout>".to_string(), |p| p.display().to_string());
    let spec_file = SourceFile::new(name.clone(), imported.spec.clone());
    let kept = Kept(imported.manifests.clone());
    let checked = strata_core::spec::parse(&spec_file)
        .and_then(|doc| strata_core::resolve(&doc, None))
        .and_then(|platform| strata_core::render::check(&platform, &kept).map(|_| ()));
    if let Err(problems) = checked {
        printer.failure("the imported spec does not pass `strata check` and `strata render` (a bug of `strata import`; please report it with the input):");
        return Err(report(printer, &spec_file, &problems));
    }
    for note in &imported.notes {
        let style = match note.fate {
            Fate::Manifest | Fate::Patch => "36;1",
            Fate::Dropped => "33;1",
            Fate::Review => "35;1",
        };
        printer.report_line(
            &format!("{}:{}:{}", note.file, note.line, note.col),
            note.fate.word(),
            style,
            &format!("{}: {}", note.what, note.why),
        );
    }
    match (request.out, &imported.manifests) {
        (None, Some(_)) => {
            return Err(anyhow!(
                "objects must be kept verbatim in a file beside the spec: give --out FILE (they go beside it: platform.yaml keeps them in platform.kept.yaml); nothing written"
            )
            .into());
        }
        (None, None) => printer.out(&imported.spec),
        (Some(out), manifests) => {
            if let Ok(existing) = std::fs::read_to_string(out)
                && !existing.contains(WRITTEN_BY)
            {
                return Err(anyhow!(
                    "refusing to replace `{}`: `strata import` did not write it; choose another --out",
                    out.display()
                )
                .into());
            }
            if let Some(manifests) = manifests {
                let beside = out
                    .parent()
                    .filter(|p| !p.as_os_str().is_empty())
                    .unwrap_or(Path::new("."))
                    .join(&manifests_file);
                write_file(&beside, manifests)?;
            }
            write_file(out, &imported.spec)?;
        }
    }
    let services = imported.services;
    printer.note(&format!(
        "imported {services} services into `{}`{}; {} note(s) above: review them, then `strata check`, `strata diff`",
        name,
        if imported.manifests.is_some() { format!(" (and `{manifests_file}`)") } else { String::new() },
        imported.notes.len(),
    ));
    Ok(ExitStatus::Success)
}
