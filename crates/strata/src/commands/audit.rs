//! `strata audit`: the architecture review of a spec.

use std::path::Path;
use std::process::ExitCode;

use strata_core::audit;

use super::findings;
use super::load;
use crate::cli::ReportArgs;
use crate::printer::Printer;

pub fn run(
    file: Option<&Path>,
    env: Option<&str>,
    report: &ReportArgs,
    max_critical_path: usize,
    printer: &Printer,
) -> anyhow::Result<ExitCode> {
    let checks = audit::check_infos();
    if report.list_checks {
        findings::list(&checks, printer);
        return Ok(ExitCode::SUCCESS);
    }
    findings::check_disabled(report, &checks)?;
    let Some(file) = file else {
        anyhow::bail!("no spec given")
    };
    let platform = match load(file, env, printer)? {
        Ok((_, platform)) => platform,
        Err(code) => return Ok(code),
    };
    let options = audit::Options {
        max_critical_path,
        disabled: report.disable.clone(),
    };
    let found = audit::audit(&platform, &options);
    findings::report("strata audit", &checks, &found, report, printer)
}
