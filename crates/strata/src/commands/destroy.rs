//! `strata destroy`: the platform removed, last wave first, data kept
//! unless `--delete-data`.

use std::time::Duration;

use strata_kube::destroy::DestroyOptions;

use super::cluster::{connect, runtime, target};
use crate::cli::{ClusterArgs, SpecArgs, WaveArgs};
use crate::exit::{Exit, ExitStatus};
use crate::printer::Printer;
use crate::progress::Display;

pub(super) fn run(
    spec: &SpecArgs,
    cluster: &ClusterArgs,
    waves: &WaveArgs,
    delete_data: bool,
    printer: &Printer,
) -> Result<ExitStatus, Exit> {
    let target = target(spec, printer)?;
    let options = DestroyOptions {
        delete_data,
        timeout: waves.timeout,
        poll: Duration::from_secs(2),
        concurrency: usize::from(waves.concurrency),
    };
    let display = Display::new();
    let removed = runtime()?.block_on(async {
        let cluster = connect(cluster).await?;
        Ok::<_, anyhow::Error>(
            strata_kube::destroy::destroy(
                &cluster,
                &target.set,
                &target.release,
                options,
                &display,
            )
            .await?,
        )
    });
    display.finish();
    let removed = removed?;
    printer.note(&format!(
        "deleted {} objects, kept {}",
        removed.deleted.len(),
        removed.kept.len()
    ));
    Ok(ExitStatus::Success)
}
