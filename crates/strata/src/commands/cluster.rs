//! What every cluster verb does first: render the spec in its environment,
//! start an async runtime, and connect to the cluster.

use std::time::Duration;

use anyhow::Context;
use strata_core::model::Platform;
use strata_core::render::{self, RenderedSet};
use strata_kube::{Access, Cluster, Release};

use super::render::spec_directory;
use super::{load, report};
use crate::cli::{ClusterArgs, SpecArgs};
use crate::exit::Exit;
use crate::printer::Printer;

/// How long connecting may take before the cluster counts as unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

/// A spec rendered for a cluster verb.
pub(super) struct Target {
    /// The rendered set.
    pub set: RenderedSet,
    /// Where its revisions live.
    pub release: Release,
    /// The platform it renders.
    pub platform: Platform,
}

/// Renders the spec, or prints why it cannot.
pub(super) fn target(args: &SpecArgs, printer: &Printer) -> Result<Target, Exit> {
    let (_, platform) = load(&args.file, args.env.as_deref(), printer)?;
    let mut set = render::render(&platform, &spec_directory(&args.file))
        .map_err(|diagnostics| report(printer, &platform.file, &diagnostics))?;
    // `apply` generates the secrets itself, before the first wave, without
    // an image to pull; the Job that does it for other tools is left out of
    // what the cluster verbs apply, compare, watch and record.
    set.objects.retain(|o| !render::secret_job::is_part(o));
    let release = Release::new(&set, &platform.shared_namespace);
    Ok(Target {
        set,
        release,
        platform,
    })
}

/// A runtime for one verb.
pub(super) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// Connects as kubectl would.
pub(super) async fn connect(args: &ClusterArgs) -> anyhow::Result<Cluster> {
    let access = Access {
        kubeconfig: args.kubeconfig.clone(),
        context: args.context.clone(),
    };
    Ok(strata_kube::connect(&access, CONNECT_TIMEOUT).await?)
}
