//! `strata history`: the revisions recorded in the cluster.

use comfy_table::{Table, presets};
use strata_kube::inventory;

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
    let release = &target.release;
    let revisions = runtime()?.block_on(async {
        let cluster = connect(cluster).await?;
        Ok::<_, anyhow::Error>(inventory::list(&cluster, release).await?)
    })?;
    if revisions.is_empty() {
        printer.note(&format!(
            "no revisions of `{}` ({}) in namespace `{}`: it was never applied there",
            release.platform,
            release.environment_label(),
            release.namespace
        ));
        return Ok(ExitStatus::Success);
    }
    let mut table = Table::new();
    table.load_style(presets::UTF8_FULL_CONDENSED).set_header([
        "Revision",
        "Created",
        "Cause",
        "Objects",
        "Selection",
    ]);
    for revision in &revisions {
        let mut selection = Vec::new();
        if !revision.selection.only.is_empty() {
            selection.push(format!("only {}", revision.selection.only.join(",")));
        }
        if !revision.selection.skip.is_empty() {
            selection.push(format!("skip {}", revision.selection.skip.join(",")));
        }
        table.add_row(vec![
            revision.number.to_string(),
            revision.created.clone(),
            revision.cause.clone(),
            revision.set.objects.len().to_string(),
            if selection.is_empty() {
                "all".into()
            } else {
                selection.join("; ")
            },
        ]);
    }
    printer.out(&format!("{table}\n"));
    Ok(ExitStatus::Success)
}
