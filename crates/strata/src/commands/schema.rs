//! `strata schema`: the spec language's JSON Schema.

use crate::exit::{Exit, ExitStatus};
use crate::printer::Printer;

pub(super) fn run(printer: &Printer) -> Result<ExitStatus, Exit> {
    let schema = strata_core::spec::json_schema();
    printer.out(&format!("{}\n", serde_json::to_string_pretty(&schema)?));
    Ok(ExitStatus::Success)
}
