//! `strata diff`: what `apply` would change; exit 1 when anything would.

use strata_kube::diff::ChangeKind;
use strata_kube::{inventory, prune};

use super::cluster::{connect, runtime, target};
use crate::cli::{ClusterArgs, SpecArgs};
use crate::exit::{Exit, ExitStatus};
use crate::printer::Printer;

pub(super) fn run(spec: &SpecArgs, cluster: &ClusterArgs, printer: &Printer) -> ExitStatus {
    // Errors exit 2 here: 1 means "there are differences".
    diff(spec, cluster, printer).unwrap_or_else(|exit| {
        exit.report(printer);
        ExitStatus::Trouble
    })
}

fn diff(spec: &SpecArgs, cluster: &ClusterArgs, printer: &Printer) -> Result<ExitStatus, Exit> {
    let target = target(spec, printer)?;
    let objects: Vec<_> = target.set.objects.iter().collect();
    let changes = runtime()?.block_on(async {
        let cluster = connect(cluster).await?;
        let previous = inventory::latest(&cluster, &target.release).await?;
        let pruned: Vec<_> = previous
            .as_ref()
            .map(|p| prune::candidates(&p.set, &target.set))
            .unwrap_or_default();
        Ok::<_, anyhow::Error>(strata_kube::diff::diff(&cluster, &objects, &pruned, 8).await?)
    })?;
    for change in &changes {
        for conflict in &change.conflicts {
            printer.note(&format!(
                "{}: {} is owned by `{}`: `strata apply` needs --force-conflicts to take it",
                change.id, conflict.field, conflict.manager
            ));
        }
        for line in change.diff.lines() {
            let style = match line.chars().next() {
                _ if line.starts_with("+++") || line.starts_with("---") => "1",
                Some('+') => "32",
                Some('-') => "31",
                Some('@') => "36",
                _ => "",
            };
            let text = if style.is_empty() {
                line.to_string()
            } else {
                printer.paint(line, style)
            };
            printer.out(&format!("{text}\n"));
        }
    }
    let count = |k: ChangeKind| changes.iter().filter(|c| c.kind == k).count();
    if changes.is_empty() {
        printer.note("no differences");
        return Ok(ExitStatus::Success);
    }
    printer.note(&format!(
        "{} to add, {} to change, {} to prune",
        count(ChangeKind::Added),
        count(ChangeKind::Changed),
        count(ChangeKind::Removed)
    ));
    Ok(ExitStatus::Failure)
}
