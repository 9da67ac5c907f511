//! `strata schema`: the spec language's JSON Schema.

use std::process::ExitCode;

use crate::printer::Printer;

pub fn run(printer: &Printer) -> anyhow::Result<ExitCode> {
    let schema = strata_core::spec::json_schema();
    printer.out(&format!("{}\n", serde_json::to_string_pretty(&schema)?));
    Ok(ExitCode::SUCCESS)
}
