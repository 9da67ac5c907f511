//! One module per verb; each returns the process's exit status, or the
//! [`Exit`] that stopped it.

mod apply;
mod audit;
mod backup;
mod check;
mod cluster;
mod destroy;
mod diff;
mod findings;
mod graph;
mod history;
mod import;
mod lint;
mod logs;
mod plan;
mod render;
mod schema;
mod status;
mod verify;

use std::path::Path;

use anyhow::Context;
use strata_core::diag::Diagnostic;
use strata_core::model::Platform;
use strata_core::source::SourceFile;
use strata_core::spec::{self, Document};

use crate::cli::Command;
use crate::exit::{Exit, ExitStatus};
use crate::printer::Printer;

/// Runs a verb.
pub(crate) fn run(command: Command, printer: &Printer) -> Result<ExitStatus, Exit> {
    match command {
        Command::Check(args) => check::run(&args, printer),
        Command::Plan { spec, output } => plan::run(&spec, output, printer),
        Command::Render {
            spec,
            out,
            layout,
            output,
            format,
        } => render::run(&spec, out.as_deref(), layout, output, format, printer),
        Command::Graph { spec, output, out } => graph::run(&spec, output, out.as_deref(), printer),
        Command::Audit {
            file,
            env,
            report,
            max_critical_path,
        } => audit::run(
            file.as_deref(),
            env.as_deref(),
            &report,
            max_critical_path,
            printer,
        ),
        Command::Lint { paths, report } => lint::run(&paths, &report, printer),
        Command::Import {
            paths,
            from,
            out,
            name,
            namespace,
        } => import::run(
            &import::Request {
                paths: &paths,
                from,
                out: out.as_deref(),
                name: name.as_deref(),
                namespace: namespace.as_deref(),
            },
            printer,
        ),
        Command::Schema => schema::run(printer),
        Command::Apply {
            spec,
            cluster,
            waves,
            operator_grace,
            only,
            skip,
            dry_run,
            atomic,
            force_conflicts,
            recreate,
            verify,
            no_skip,
        } => apply::run(
            &spec,
            &cluster,
            &waves,
            &apply::Request {
                selection: strata_kube::Selection { only, skip },
                dry_run,
                atomic,
                force_conflicts,
                operator_grace,
                recreate,
                verify,
                no_skip,
            },
            printer,
        ),
        Command::Verify {
            spec,
            cluster,
            output,
            concurrency,
        } => verify::run(&spec, &cluster, output, concurrency.into(), printer),
        Command::Status { spec, cluster } => status::run(&spec, &cluster, printer),
        Command::Diff { spec, cluster } => Ok(diff::run(&spec, &cluster, printer)),
        Command::Logs {
            spec,
            service,
            cluster,
            follow,
            since,
            tail,
        } => logs::run(
            &spec,
            &service,
            &cluster,
            &strata_kube::logs::LogOptions {
                follow,
                since,
                tail,
            },
            printer,
        ),
        Command::History { spec, cluster } => history::run(&spec, &cluster, printer),
        Command::Rollback {
            spec,
            revision,
            cluster,
            waves,
            operator_grace,
            force_conflicts,
        } => apply::rollback(
            &spec,
            revision,
            &cluster,
            &waves,
            &apply::Request {
                selection: strata_kube::Selection::default(),
                dry_run: false,
                atomic: false,
                force_conflicts,
                operator_grace,
                recreate: false,
                verify: false,
                no_skip: true,
            },
            printer,
        ),
        Command::Destroy {
            spec,
            cluster,
            waves,
            delete_data,
        } => destroy::run(&spec, &cluster, &waves, delete_data, printer),
        Command::Backup {
            spec,
            services,
            cluster,
            timeout,
        } => backup::backup(&spec, &services, &cluster, timeout, printer),
        Command::Backups {
            spec,
            service,
            cluster,
        } => backup::list(&spec, service.as_deref(), &cluster, printer),
        Command::Restore {
            spec,
            service,
            backup,
            cluster,
            stop_callers,
            force,
            timeout,
        } => backup::restore(
            &spec,
            &backup::Restore {
                service: &service,
                backup: &backup,
                stop_callers,
                force,
                timeout,
            },
            &cluster,
            printer,
        ),
    }
}

/// Reads a spec file: text that is not UTF-8 is an error at its first bad
/// byte.
pub(crate) fn read(path: &Path, printer: &Printer) -> Result<SourceFile, Exit> {
    let bytes = std::fs::read(path)
        .with_context(|| format!("cannot read the spec `{}`", path.display()))?;
    source(printer, path.display().to_string(), bytes)
}

/// The text of an input called `name`, or the exit after printing where
/// it is not UTF-8.
pub(crate) fn source(
    printer: &Printer,
    name: impl Into<String>,
    bytes: Vec<u8>,
) -> Result<SourceFile, Exit> {
    strata_core::diag::source_from_bytes(name, bytes)
        .map_err(|diagnostic| report_one(printer, &diagnostic))
}

/// Prints one problem of a file; the [`Exit`] of a verb that met it.
pub(crate) fn report_one(printer: &Printer, diagnostic: &Diagnostic) -> Exit {
    printer.diagnostic(diagnostic);
    printer.failure(&format!(
        "1 problem found in {}",
        diagnostic.file.as_ref().map_or("the input", |f| f.name())
    ));
    Exit::Reported
}

/// Prints problems and their count; the [`Exit`] of a verb whose spec has them.
pub(crate) fn report(printer: &Printer, file: &SourceFile, diagnostics: &[Diagnostic]) -> Exit {
    printer.diagnostics(diagnostics);
    let n = diagnostics.len();
    printer.failure(&format!(
        "{} found in {}",
        if n == 1 {
            "1 problem".to_string()
        } else {
            format!("{n} problems")
        },
        file.name()
    ));
    Exit::Reported
}

/// Parses `path` and resolves it in `env`, or prints why it cannot.
pub(crate) fn load(
    path: &Path,
    env: Option<&str>,
    printer: &Printer,
) -> Result<(Document, Platform), Exit> {
    let file = read(path, printer)?;
    let doc = spec::parse(&file).map_err(|diagnostics| report(printer, &file, &diagnostics))?;
    let platform = strata_core::resolve(&doc, env)
        .map_err(|diagnostics| report(printer, &file, &diagnostics))?;
    Ok((doc, platform))
}
