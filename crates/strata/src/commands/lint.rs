//! `strata lint`: production checks on any Kubernetes YAML.

use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::Context;
use strata_core::lint;

use super::{findings, report as report_problems};
use crate::cli::ReportArgs;
use crate::exit::{Exit, ExitStatus};
use crate::printer::Printer;

/// Every manifest file under `path`, in name order, each once: a directory
/// or file reached again through a symbolic link is not read twice, so a
/// link loop ends and a linked file gives no false `duplicate-object`.
pub(super) fn files(
    path: &Path,
    seen: &mut HashSet<PathBuf>,
    out: &mut Vec<PathBuf>,
) -> anyhow::Result<()> {
    let real =
        std::fs::canonicalize(path).with_context(|| format!("cannot read `{}`", path.display()))?;
    if !seen.insert(real) {
        return Ok(());
    }
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
            let manifest = entry
                .extension()
                .is_some_and(|e| e == "yaml" || e == "yml" || e == "json");
            if (entry.is_dir() && !hidden) || (manifest && entry.is_file()) {
                files(&entry, seen, out)?;
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
    let mut seen = HashSet::new();
    for path in paths {
        if path == Path::new("-") {
            let mut bytes = Vec::new();
            std::io::stdin()
                .read_to_end(&mut bytes)
                .context("cannot read standard input")?;
            sources.push(super::source(printer, "<stdin>", bytes)?);
            continue;
        }
        let mut found = Vec::new();
        files(path, &mut seen, &mut found)?;
        for file in found {
            let bytes = std::fs::read(&file)
                .with_context(|| format!("cannot read `{}`", file.display()))?;
            sources.push(super::source(printer, file.display().to_string(), bytes)?);
        }
    }
    // Each object is checked as it is read, and only what the
    // cross-object checks need of it is kept.
    let mut linter = lint::Linter::new(lint::Options {
        disabled: report.disable.iter().cloned().collect(),
    });
    for source in &sources {
        match linter.read(source) {
            Ok(skipped) => {
                for skipped in &skipped {
                    printer.diagnostic(skipped);
                }
            }
            Err(diagnostic) => return Err(report_problems(printer, source, &[diagnostic])),
        }
    }
    if linter.is_empty() {
        printer.failure(&format!(
            "nothing to lint: {} held no Kubernetes object",
            match sources.len() {
                0 => "the paths given".to_string(),
                1 => format!("`{}`", sources[0].name()),
                n => format!("the {n} files read"),
            }
        ));
        return Ok(ExitStatus::Trouble);
    }
    let found = linter.finish();
    findings::report("strata lint", &checks, &found, report, printer)
}
