//! `strata status`: the workloads in the cluster, by wave and tier.

use comfy_table::{Cell, CellAlignment, ContentArrangement, Table, presets};
use strata_kube::status::{Row, State};

use super::cluster::{connect, runtime, target};
use crate::cli::{ClusterArgs, SpecArgs};
use crate::exit::{Exit, ExitStatus};
use crate::printer::Printer;

pub(super) fn run(
    spec: &SpecArgs,
    cluster: &ClusterArgs,
    printer: &Printer,
) -> Result<ExitStatus, Exit> {
    let target = target(spec, printer)?;
    let objects: Vec<_> = target.set.objects.iter().collect();
    let mut rows = runtime()?.block_on(async {
        let cluster = connect(cluster).await?;
        Ok::<_, anyhow::Error>(strata_kube::status::status(&cluster, &objects, 8).await?)
    })?;
    rows.sort_by(|a, b| (a.wave, &a.tier).cmp(&(b.wave, &b.tier)));
    let now = jiff::Timestamp::now();
    printer.out(&format!("{}\n", table(&rows, now, printer)));
    let ready = rows.iter().filter(|r| r.state == State::Ready).count();
    printer.note(&format!("{ready} of {} workloads ready", rows.len()));
    Ok(if ready == rows.len() {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}

fn table(rows: &[Row], now: jiff::Timestamp, printer: &Printer) -> Table {
    let mut table = Table::new();
    table
        .load_style(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(140)
        .set_header([
            "Wave", "Tier", "Service", "Object", "Ready", "Restarts", "Age", "State",
        ]);
    for row in rows {
        let right = |s: String| Cell::new(s).set_alignment(CellAlignment::Right);
        let ready = match (row.ready, row.desired) {
            (Some(r), Some(d)) => format!("{r}/{d}"),
            _ => "-".into(),
        };
        let mut state = match &row.state {
            State::Missing => printer.paint("missing", "33"),
            State::Ready => printer.paint("ready", "32"),
            State::Progressing(r) => printer.paint(&format!("progressing: {r}"), "33"),
            State::Failed(r) => printer.paint(&format!("failed: {r}"), "31"),
        };
        for condition in &row.conditions {
            state.push_str(&format!("\n{condition}"));
        }
        table.add_row(vec![
            Cell::new(row.wave),
            Cell::new(row.tier.as_deref().unwrap_or("-")),
            Cell::new(row.service.as_deref().unwrap_or("-")),
            Cell::new(format!("{}/{}", row.id.kind, row.id.name)),
            right(ready),
            right(row.restarts.to_string()),
            right(row.created.as_deref().map_or("-".into(), |c| age(c, now))),
            Cell::new(state),
        ]);
    }
    table
}

/// `45s`, `12m`, `5h`, `3d` since `created` (RFC 3339).
fn age(created: &str, now: jiff::Timestamp) -> String {
    let Ok(then) = created.parse::<jiff::Timestamp>() else {
        return "?".into();
    };
    let seconds = (now.as_second() - then.as_second()).max(0);
    match seconds {
        s if s < 120 => format!("{s}s"),
        s if s < 7200 => format!("{}m", s / 60),
        s if s < 172_800 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::age;

    #[test]
    fn ages_are_short() {
        let now: jiff::Timestamp = "2026-01-03T00:00:00Z".parse().unwrap();
        assert_eq!(age("2026-01-02T23:59:15Z", now), "45s");
        assert_eq!(age("2026-01-02T23:00:00Z", now), "60m");
        assert_eq!(age("2026-01-02T12:00:00Z", now), "12h");
        assert_eq!(age("2025-12-20T00:00:00Z", now), "14d");
        assert_eq!(age("yesterday", now), "?");
    }
}
