//! Reporting findings of `audit` and `lint`: text grouped by object, JSON,
//! SARIF; the check list; and the exit code from `--fail-on`.

use strata_core::diag::suggestion;
use strata_core::finding::{self, CheckInfo, Finding, Priority};

use crate::cli::{FailOn, FindingFormat, ReportArgs};
use crate::exit::{Exit, ExitStatus};
use crate::printer::Printer;

/// Rejects `--disable` ids that name no check.
pub(super) fn check_disabled(
    report: &ReportArgs,
    checks: &[&'static CheckInfo],
) -> anyhow::Result<()> {
    let ids: Vec<&str> = checks.iter().map(|c| c.id).collect();
    for id in &report.disable {
        if !ids.contains(&id.as_str()) {
            anyhow::bail!(
                "`--disable {id}` names no check: {} (see --list-checks)",
                suggestion(id, &ids, "check")
            );
        }
    }
    Ok(())
}

/// Prints every check.
pub(super) fn list(checks: &[&'static CheckInfo], printer: &Printer) {
    let mut out = String::new();
    for check in checks {
        out.push_str(&format!(
            "{} {}\n    {}\n    why: {}\n    fix: {}\n",
            printer.paint(check.priority.as_str(), priority_style(check.priority)),
            printer.paint(check.id, "1"),
            check.title,
            check.rationale,
            check.fix
        ));
    }
    out.push_str(&format!("{} checks\n", checks.len()));
    printer.out(&out);
}

fn priority_style(priority: Priority) -> &'static str {
    match priority {
        Priority::P0 => "31;1",
        Priority::P1 => "33;1",
        Priority::P2 => "36",
    }
}

/// Prints findings in the chosen format and returns the exit code.
pub(super) fn report(
    tool: &str,
    checks: &[&'static CheckInfo],
    findings: &[Finding],
    args: &ReportArgs,
    printer: &Printer,
) -> Result<ExitStatus, Exit> {
    match args.output {
        FindingFormat::Json => printer.out(&format!(
            "{}\n",
            serde_json::to_string_pretty(&finding::to_json(findings))?
        )),
        FindingFormat::Sarif => printer.out(&format!(
            "{}\n",
            serde_json::to_string_pretty(&finding::to_sarif(tool, checks, findings))?
        )),
        FindingFormat::Text => printer.out(&text(findings, printer)),
    }
    let threshold = match args.fail_on {
        FailOn::P0 => Some(Priority::P0),
        FailOn::P1 => Some(Priority::P1),
        FailOn::P2 => Some(Priority::P2),
        FailOn::None => None,
    };
    let failing = threshold.map_or(0, |t| finding::at_least(findings, t));
    Ok(if failing > 0 {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    })
}

fn text(findings: &[Finding], printer: &Printer) -> String {
    let mut out = String::new();
    let mut objects: Vec<&str> = Vec::new();
    for f in findings {
        if !objects.contains(&f.object.as_str()) {
            objects.push(&f.object);
        }
    }
    for object in &objects {
        let mine: Vec<&Finding> = findings.iter().filter(|f| f.object == *object).collect();
        let location = mine[0]
            .location()
            .map(|l| format!("  ({l})"))
            .unwrap_or_default();
        out.push_str(&format!("{}{location}\n", printer.paint(object, "1")));
        for f in mine {
            out.push_str(&format!(
                "  {} {}  {}\n     fix: {}\n",
                printer.paint(f.check.priority.as_str(), priority_style(f.check.priority)),
                f.check.id,
                f.diagnostic.message,
                f.diagnostic.help.as_deref().unwrap_or("")
            ));
        }
    }
    let count = |p| findings.iter().filter(|f| f.check.priority == p).count();
    if findings.is_empty() {
        out.push_str(&format!("{} no findings\n", printer.paint("✓", "32;1")));
    } else {
        out.push_str(&format!(
            "{} findings in {} objects: {} P0, {} P1, {} P2\n",
            findings.len(),
            objects.len(),
            count(Priority::P0),
            count(Priority::P1),
            count(Priority::P2)
        ));
    }
    out
}
