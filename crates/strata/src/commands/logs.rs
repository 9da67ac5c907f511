//! `strata logs`: a service's pods' logs, prefixed with the pod.

use strata_kube::logs::LogOptions;

use super::cluster::{connect, runtime, target};
use crate::cli::{ClusterArgs, SpecArgs};
use crate::exit::{Exit, ExitStatus};
use crate::printer::Printer;

pub(super) fn run(
    spec: &SpecArgs,
    service: &str,
    cluster: &ClusterArgs,
    options: &LogOptions,
    printer: &Printer,
) -> Result<ExitStatus, Exit> {
    let target = target(spec, printer)?;
    runtime()?.block_on(async {
        let cluster = connect(cluster).await?;
        strata_kube::logs::logs(&cluster, &target.set, service, options, |pod, line| {
            printer.out(&format!(
                "{} {line}\n",
                printer.paint(&format!("{pod} |"), "36")
            ));
        })
        .await?;
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(ExitStatus::Success)
}
