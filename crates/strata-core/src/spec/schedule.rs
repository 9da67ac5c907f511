//! Written forms of time that backups use: a cron schedule checked field by
//! field ([`CronSchedule`]), and a retention in days or weeks
//! ([`Retention`]).

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};

use super::decode::{Decode, Decoder, into_text};
use super::yaml::Node;

/// A cron schedule as Kubernetes CronJobs take it: five fields (minute,
/// hour, day of month, month, day of week) or a macro (`@daily`), checked
/// field by field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CronSchedule(pub String);

/// The macros a CronJob's `schedule` accepts.
const MACROS: &[&str] = &[
    "@yearly",
    "@annually",
    "@monthly",
    "@weekly",
    "@daily",
    "@midnight",
    "@hourly",
];

/// Each field's name, range and the names it accepts besides numbers.
const FIELDS: [(&str, u32, u32, &[&str]); 5] = [
    ("minute", 0, 59, &[]),
    ("hour", 0, 23, &[]),
    ("day of month", 1, 31, &[]),
    (
        "month",
        1,
        12,
        &[
            "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
        ],
    ),
    (
        "day of week",
        0,
        7,
        &["sun", "mon", "tue", "wed", "thu", "fri", "sat"],
    ),
];

/// Why `text` is not a cron schedule, or `None` when it is one.
///
/// ```
/// use strata_core::spec::schedule::cron_problem;
/// assert_eq!(cron_problem("0 3 * * *"), None);
/// assert_eq!(cron_problem("*/15 1-5,22 1 jan-mar mon-fri"), None);
/// assert_eq!(cron_problem("@daily"), None);
/// assert!(cron_problem("0 25 * * *").unwrap().contains("hour"));
/// assert!(cron_problem("0 3 * *").unwrap().contains("not five"));
/// assert!(cron_problem("@reboot").is_some());
/// ```
pub fn cron_problem(text: &str) -> Option<String> {
    if text.starts_with('@') {
        return (!MACROS.contains(&text)).then(|| {
            format!(
                "`{text}` is not a schedule macro (one of {})",
                MACROS.join(", ")
            )
        });
    }
    let fields: Vec<&str> = text.split_whitespace().collect();
    if fields.len() != 5 {
        return Some(format!("it has {} fields, not five", fields.len()));
    }
    fields
        .iter()
        .zip(FIELDS)
        .find_map(|(field, (name, low, high, names))| {
            field_problem(field, low, high, names).map(|why| format!("the {name} `{field}` {why}"))
        })
}

/// Why one field is not a list of `*`, values and ranges with steps.
fn field_problem(field: &str, low: u32, high: u32, names: &[&str]) -> Option<String> {
    let value = |text: &str| -> Result<u32, String> {
        let named = names
            .iter()
            .position(|n| n.eq_ignore_ascii_case(text))
            .map(|i| u32::try_from(i).unwrap_or(0) + low.min(1));
        match named.or_else(|| text.parse().ok()) {
            Some(n) if (low..=high).contains(&n) => Ok(n),
            Some(n) => Err(format!("has {n}, outside {low} to {high}")),
            None => Err(format!("has `{text}`, which is not a number")),
        }
    };
    for item in field.split(',') {
        let (range, step) = match item.split_once('/') {
            Some((range, step)) => (range, Some(step)),
            None => (item, None),
        };
        if let Some(step) = step
            && !step.parse::<u32>().is_ok_and(|s| s > 0)
        {
            return Some(format!(
                "has the step `{step}`, which is not a whole number above 0"
            ));
        }
        if range == "*" {
            continue;
        }
        let bounds = match range.split_once('-') {
            Some((from, to)) => value(from).and_then(|f| value(to).map(|t| (f, t))),
            None => value(range).map(|v| (v, v)),
        };
        match bounds {
            Ok((from, to)) if from > to => {
                return Some(format!("has the range `{range}`, which runs backwards"));
            }
            Ok(_) => {}
            Err(why) => return Some(why),
        }
    }
    None
}

impl Decode for CronSchedule {
    const EXPECTED: &'static str = "a cron schedule such as `\"0 3 * * *\"`";
    fn decode(node: Node, d: &mut Decoder<'_>) -> Option<Self> {
        let owned = node;
        let node = &owned;
        let text = d.scalar(node, Self::EXPECTED)?;
        match cron_problem(text) {
            None => Some(CronSchedule(into_text(owned))),
            Some(why) => {
                d.report(
                    d.error(
                        "invalid-schedule",
                        format!("`{text}` is not a cron schedule: {why}"),
                        node.span,
                        "not a cron schedule",
                    )
                    .help("write five fields, minute hour day-of-month month day-of-week (`0 3 * * *` is 03:00 every day), or `@daily`"),
                );
                None
            }
        }
    }
}

impl JsonSchema for CronSchedule {
    fn schema_name() -> Cow<'static, str> {
        "CronSchedule".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "description": "Five cron fields (minute hour day-of-month month day-of-week) or a macro such as `@daily`.",
        })
    }
}

/// How long backups are kept, in whole days: written `30d` or `4w`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention(pub u32);

impl Decode for Retention {
    const EXPECTED: &'static str = "a number of days or weeks such as `30d` or `4w`";
    fn decode(node: Node, d: &mut Decoder<'_>) -> Option<Self> {
        let node = &node;
        let text = d.scalar(node, Self::EXPECTED)?;
        let days = text
            .strip_suffix('d')
            .and_then(|n| n.parse::<u32>().ok())
            .or_else(|| {
                text.strip_suffix('w')
                    .and_then(|n| n.parse::<u32>().ok())
                    .and_then(|w| w.checked_mul(7))
            })
            .filter(|days| *days > 0);
        if days.is_none() {
            let hint = match text.trim_end_matches(|c: char| c.is_ascii_digit()) {
                "" => format!("write a unit: `{text}d` for {text} days"),
                _ => "write whole days or weeks above 0: `30d`, `4w`".to_string(),
            };
            d.report(
                d.error(
                    "invalid-retention",
                    format!("`{text}` is not a retention"),
                    node.span,
                    "not days or weeks",
                )
                .help(hint),
            );
        }
        days.map(Retention)
    }
}

impl JsonSchema for Retention {
    fn schema_name() -> Cow<'static, str> {
        "Retention".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string", "pattern": "^[0-9]+[dw]$" })
    }
}

#[cfg(test)]
mod tests {
    use super::cron_problem;

    #[test]
    fn schedules_kubernetes_accepts_pass() {
        for good in [
            "0 3 * * *",
            "*/5 * * * *",
            "0 0 1 */2 *",
            "30 2 * * 0",
            "30 2 * * 7",
            "0 0 * * SUN",
            "0 0 1 DEC *",
            "0 9-17/2 * * 1-5",
            "@weekly",
        ] {
            assert_eq!(cron_problem(good), None, "{good}");
        }
    }

    #[test]
    fn each_field_is_checked_against_its_range() {
        for (bad, field) in [
            ("60 3 * * *", "minute"),
            ("0 24 * * *", "hour"),
            ("0 3 0 * *", "day of month"),
            ("0 3 * 13 *", "month"),
            ("0 3 * * 8", "day of week"),
            ("0 3 * * funday", "day of week"),
            ("5-1 3 * * *", "minute"),
            ("*/0 3 * * *", "minute"),
        ] {
            let why = cron_problem(bad).unwrap_or_default();
            assert!(why.contains(field), "{bad}: {why}");
        }
        assert!(cron_problem("0 3 * * * *").is_some());
    }
}
