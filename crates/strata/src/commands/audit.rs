//! `strata audit`: the architecture review of a spec.

use std::path::Path;

use anyhow::Context;
use strata_core::audit;

use super::findings;
use super::load;
use crate::cli::ReportArgs;
use crate::exit::{Exit, ExitStatus};
use crate::printer::Printer;

pub(super) fn run(
    file: Option<&Path>,
    env: Option<&str>,
    report: &ReportArgs,
    max_critical_path: usize,
    printer: &Printer,
) -> Result<ExitStatus, Exit> {
    let checks = audit::check_infos();
    if report.list_checks {
        findings::list(&checks, printer);
        return Ok(ExitStatus::Success);
    }
    findings::check_disabled(report, &checks)?;
    let file = file.context("no spec given")?;
    let (_, platform) = load(file, env, printer)?;
    let options = audit::Options {
        max_critical_path,
        disabled: report.disable.clone(),
    };
    let found = audit::audit(&platform, &options);
    findings::report("strata audit", &checks, &found, report, printer)
}
