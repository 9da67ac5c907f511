//! `strata lint`: production checks on any Kubernetes YAML.

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::Context;
use strata_core::lint;
use strata_core::source::SourceFile;

use super::{findings, report as report_problems};
use crate::cli::ReportArgs;
use crate::exit::{Exit, ExitStatus};
use crate::printer::Printer;

/// Every manifest file under `path`, in name order.
pub(super) fn files(path: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    if path.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
            .with_context(|| format!("cannot read `{}`", path.display()))?
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<_, _>>()?;
        entries.sort();
        for entry in entries {
            let hidden = entry
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'));
            if entry.is_dir() && !hidden {
                files(&entry, out)?;
            } else if entry
                .extension()
                .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
            {
                out.push(entry);
            }
        }
    } else {
        out.push(path.to_path_buf());
    }
    Ok(())
}

pub(super) fn run(
    paths: &[PathBuf],
    report: &ReportArgs,
    printer: &Printer,
) -> Result<ExitStatus, Exit> {
    let checks = lint::check_infos();
    if report.list_checks {
        findings::list(&checks, printer);
        return Ok(ExitStatus::Success);
    }
    findings::check_disabled(report, &checks)?;
    let mut sources = Vec::new();
    for path in paths {
        if path == Path::new("-") {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .context("cannot read standard input")?;
            sources.push(SourceFile::new("<stdin>", text));
            continue;
        }
        let mut found = Vec::new();
        files(path, &mut found)?;
        for file in found {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read `{}`", file.display()))?;
            sources.push(SourceFile::new(file.display().to_string(), text));
        }
    }
    let mut manifests = Vec::new();
    for source in &sources {
        match lint::read(source) {
            Ok(found) => manifests.extend(found),
            Err(diagnostic) => return Err(report_problems(printer, source, &[diagnostic])),
        }
    }
    let options = lint::Options {
        disabled: report.disable.iter().cloned().collect(),
    };
    let found = lint::lint(&manifests, &options);
    findings::report("strata lint", &checks, &found, report, printer)
}
