//! Findings of `audit` and `lint`: a check, a priority, where, and a fix;
//! and the machine formats they are written in (JSON and SARIF).

use serde::Serialize;
use serde_json::{Value, json};

use crate::diag::Diagnostic;

/// The annotation listing the checks to skip for one object
/// (comma-separated ids): what render writes where a spec switched a
/// default off on purpose, and what `lint` honours.
pub const IGNORE_ANNOTATION: &str = "strata.dev/ignore";

/// How urgent a finding is, as ranked in the Nova architecture review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Priority {
    /// Fix before production: an outage or a breach waiting to happen.
    P0,
    /// Fix soon: degrades reliability or security.
    P1,
    /// Worth fixing: hygiene and operability.
    P2,
}

impl Priority {
    /// `P0`, `P1` or `P2`.
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::P0 => "P0",
            Priority::P1 => "P1",
            Priority::P2 => "P2",
        }
    }

    /// The SARIF level of this priority.
    pub fn sarif_level(self) -> &'static str {
        match self {
            Priority::P0 => "error",
            Priority::P1 => "warning",
            Priority::P2 => "note",
        }
    }
}

/// A documented check: what it looks for and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CheckInfo {
    /// Stable identifier, used in annotations and `--disable`.
    pub id: &'static str,
    /// Its priority.
    pub priority: Priority,
    /// One line: what is wrong when it fires.
    pub title: &'static str,
    /// Why it matters.
    pub rationale: &'static str,
    /// How to fix it.
    pub fix: &'static str,
}

impl CheckInfo {
    /// A check's documentation.
    pub const fn new(
        id: &'static str,
        priority: Priority,
        title: &'static str,
        rationale: &'static str,
        fix: &'static str,
    ) -> Self {
        CheckInfo {
            id,
            priority,
            title,
            rationale,
            fix,
        }
    }
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The check that fired.
    pub check: &'static CheckInfo,
    /// The object or service it is about (`Deployment/shop/api`, `service api`).
    pub object: String,
    /// The message and location; `help` holds the fix.
    pub diagnostic: Diagnostic,
}

impl Finding {
    /// A finding of `check` about `object`, with a specific message.
    pub fn new(
        check: &'static CheckInfo,
        object: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Finding {
            check,
            object: object.into(),
            diagnostic: Diagnostic::error(check.id, message).help(check.fix),
        }
    }

    /// `file:line:col`, when known.
    pub fn location(&self) -> Option<String> {
        self.diagnostic.location()
    }
}

/// Findings at or above `threshold` (P0 is the highest).
pub fn at_least(findings: &[Finding], threshold: Priority) -> usize {
    findings
        .iter()
        .filter(|f| f.check.priority <= threshold)
        .count()
}

/// Findings as a JSON array.
pub fn to_json(findings: &[Finding]) -> Value {
    findings
        .iter()
        .map(|f| {
            json!({
                "check": f.check.id,
                "priority": f.check.priority.as_str(),
                "object": f.object,
                "message": f.diagnostic.message,
                "location": f.location(),
                "fix": f.diagnostic.help,
            })
        })
        .collect()
}

/// Findings as a SARIF 2.1.0 log, for code-scanning UIs.
pub fn to_sarif(tool: &str, checks: &[&'static CheckInfo], findings: &[Finding]) -> Value {
    let rules: Vec<Value> = checks
        .iter()
        .map(|c| {
            json!({
                "id": c.id,
                "shortDescription": { "text": c.title },
                "fullDescription": { "text": c.rationale },
                "help": { "text": c.fix },
                "defaultConfiguration": { "level": c.priority.sarif_level() },
                "properties": { "priority": c.priority.as_str() },
            })
        })
        .collect();
    let results: Vec<Value> = findings
        .iter()
        .map(|f| {
            let mut result = json!({
                "ruleId": f.check.id,
                "level": f.check.priority.sarif_level(),
                "message": { "text": format!("{}: {}", f.object, f.diagnostic.message) },
            });
            if let (Some(file), Some(label)) = (&f.diagnostic.file, f.diagnostic.labels.first()) {
                let (line, column) = file.location(label.span);
                result["locations"] = json!([{
                    "physicalLocation": {
                        "artifactLocation": { "uri": file.name() },
                        "region": { "startLine": line, "startColumn": column },
                    }
                }]);
            }
            result
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": { "name": tool, "informationUri": "https://strata.dev", "version": env!("CARGO_PKG_VERSION"), "rules": rules } },
            "results": results,
        }],
    })
}
