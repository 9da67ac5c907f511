//! Reporting findings of `audit` and `lint`: text grouped by object, JSON,
//! SARIF; the check list; and the exit code from `--fail-on`.

use std::collections::HashMap;

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
    // Objects in the order of their first finding, each with its findings
    // in order: one pass, so a render with thousands of findings prints in
    // time linear in their number.
    let mut objects: Vec<(&str, Vec<&Finding>)> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    for f in findings {
        let at = *index.entry(f.object.as_str()).or_insert_with(|| {
            objects.push((f.object.as_str(), Vec::new()));
            objects.len() - 1
        });
        objects[at].1.push(f);
    }
    for (object, mine) in &objects {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Color;

    static LOUD: CheckInfo = CheckInfo::new("loud", Priority::P0, "t", "w", "quiet it");
    static SLOW: CheckInfo = CheckInfo::new("slow", Priority::P2, "t", "w", "speed it");

    #[test]
    fn text_groups_findings_by_object_in_order_of_first_finding() {
        let findings = [
            Finding::new(&LOUD, "Deployment/a/web", "first"),
            Finding::new(&SLOW, "Service/a/web", "second"),
            Finding::new(&SLOW, "Deployment/a/web", "third"),
        ];
        let out = text(&findings, &Printer::new(Color::Never));
        let lines: Vec<&str> = out.lines().filter(|l| !l.starts_with("     fix")).collect();
        assert_eq!(
            lines,
            [
                "Deployment/a/web",
                "  P0 loud  first",
                "  P2 slow  third",
                "Service/a/web",
                "  P2 slow  second",
                "3 findings in 2 objects: 1 P0, 0 P1, 2 P2",
            ]
        );
    }
}
