//! `strata backup`, `backups` and `restore`: thin over
//! `strata_kube::backup`, every step printed as it happens.

use std::time::Duration;

use comfy_table::{Cell, CellAlignment, Table, presets};
use strata_kube::backup::{Callers, Listed, Wait};

use super::cluster::{connect, runtime};
use super::load;
use crate::cli::{ClusterArgs, SpecArgs};
use crate::exit::{Exit, ExitStatus};
use crate::printer::Printer;

/// How often the verbs look at what they wait for.
const INTERVAL: Duration = Duration::from_secs(2);

/// How long a listing may take.
const LISTING: Duration = Duration::from_mins(5);

/// The name of what a run creates: the UTC time, `20260105T030000Z`.
fn stamp() -> String {
    jiff::Timestamp::now()
        .strftime("%Y%m%dT%H%M%SZ")
        .to_string()
}

pub(super) fn backup(
    spec: &SpecArgs,
    services: &[String],
    cluster: &ClusterArgs,
    timeout: Duration,
    printer: &Printer,
) -> Result<ExitStatus, Exit> {
    let (_, platform) = load(&spec.file, spec.env.as_deref(), printer)?;
    let wait = Wait {
        interval: INTERVAL,
        timeout,
    };
    let taken = runtime()?.block_on(async {
        let cluster = connect(cluster).await?;
        let taken =
            strata_kube::backup::backup(&cluster, &platform, services, &stamp(), wait, &mut |s| {
                printer.note(s);
            })
            .await?;
        Ok::<_, anyhow::Error>(taken)
    })?;
    for (service, place) in &taken {
        printer.out(&format!("{service}\t{place}\n"));
    }
    Ok(ExitStatus::Success)
}

pub(super) fn list(
    spec: &SpecArgs,
    service: Option<&str>,
    cluster: &ClusterArgs,
    printer: &Printer,
) -> Result<ExitStatus, Exit> {
    let (_, platform) = load(&spec.file, spec.env.as_deref(), printer)?;
    let names: Vec<String> = match service {
        Some(name) => vec![name.to_string()],
        None => platform
            .services
            .iter()
            .filter(|s| s.backup.is_some())
            .map(|s| s.name.clone())
            .collect(),
    };
    let wait = Wait {
        interval: INTERVAL,
        timeout: LISTING,
    };
    let listed = runtime()?.block_on(async {
        let cluster = connect(cluster).await?;
        let mut all = Vec::new();
        for name in &names {
            let listed =
                strata_kube::backup::list(&cluster, &platform, name, &stamp(), wait, &mut |s| {
                    printer.note(s);
                })
                .await?;
            all.push((name.clone(), listed));
        }
        Ok::<_, anyhow::Error>(all)
    })?;
    printer.out(&format!("{}\n", table(&listed, jiff::Timestamp::now())));
    Ok(ExitStatus::Success)
}

fn table(listed: &[(String, Vec<Listed>)], now: jiff::Timestamp) -> Table {
    let mut table = Table::new();
    table
        .load_style(presets::UTF8_FULL_CONDENSED)
        .set_header(["Service", "Backup", "Size", "Age"]);
    let right = |s: String| Cell::new(s).set_alignment(CellAlignment::Right);
    for (service, backups) in listed {
        if backups.is_empty() {
            table.add_row(vec![
                Cell::new(service),
                Cell::new("(none yet)"),
                right("-".into()),
                right("-".into()),
            ]);
        }
        for backup in backups {
            table.add_row(vec![
                Cell::new(service),
                Cell::new(&backup.name),
                right(backup.size.map_or("-".into(), size)),
                right(age(&backup.modified, now)),
            ]);
        }
    }
    table
}

/// Bytes as people read them: `512 B`, `3.4 MiB`.
fn size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let (mut unit, mut scale) = (0, 1_u128);
    while u128::from(bytes) / scale >= 1024 && unit < UNITS.len() - 1 {
        scale *= 1024;
        unit += 1;
    }
    // Tenths, rounded.
    let tenths = (u128::from(bytes) * 10 + scale / 2) / scale;
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{}.{} {}", tenths / 10, tenths % 10, UNITS[unit])
    }
}

/// `45s`, `12m`, `5h`, `3d` since `when` (RFC 3339).
fn age(when: &str, now: jiff::Timestamp) -> String {
    let Ok(then) = when.parse::<jiff::Timestamp>() else {
        return "?".into();
    };
    match (now.as_second() - then.as_second()).max(0) {
        s if s < 120 => format!("{s}s"),
        s if s < 7200 => format!("{}m", s / 60),
        s if s < 172_800 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86400),
    }
}

/// What `strata restore` was asked.
pub(super) struct Restore<'a> {
    pub(super) service: &'a str,
    pub(super) backup: &'a str,
    pub(super) stop_callers: bool,
    pub(super) force: bool,
    pub(super) timeout: Duration,
}

pub(super) fn restore(
    spec: &SpecArgs,
    request: &Restore<'_>,
    cluster: &ClusterArgs,
    printer: &Printer,
) -> Result<ExitStatus, Exit> {
    let (_, platform) = load(&spec.file, spec.env.as_deref(), printer)?;
    let callers = match (request.stop_callers, request.force) {
        (true, _) => Callers::Stop,
        (_, true) => Callers::Force,
        _ => Callers::Refuse,
    };
    let wait = Wait {
        interval: INTERVAL,
        timeout: request.timeout,
    };
    runtime()?.block_on(async {
        let cluster = connect(cluster).await?;
        strata_kube::backup::restore(
            &cluster,
            &platform,
            request.service,
            request.backup,
            callers,
            &stamp(),
            wait,
            &mut |s| printer.note(s),
        )
        .await?;
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(ExitStatus::Success)
}

#[cfg(test)]
mod tests {
    use super::{age, size};

    #[test]
    fn sizes_and_ages_read_as_people_write_them() {
        assert_eq!(size(512), "512 B");
        assert_eq!(size(3 * 1024 * 1024 + 400 * 1024), "3.4 MiB");
        let now: jiff::Timestamp = "2026-01-05T03:00:00Z".parse().unwrap();
        assert_eq!(age("2026-01-05T02:59:30Z", now), "30s");
        assert_eq!(age("2026-01-02T03:00:00Z", now), "3d");
        assert_eq!(age("garbage", now), "?");
    }
}
