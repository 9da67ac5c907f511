//! Reaching a cluster the way kubectl does: a kubeconfig from `--kubeconfig`
//! or `KUBECONFIG` (else `~/.kube/config`), its current context or
//! `--context`, and a first request that proves the API server answers.

use std::path::{Path, PathBuf};
use std::time::Duration;

use kube::config::{KubeConfigOptions, Kubeconfig, KubeconfigError};
use kube::{Client, Config};

use crate::cluster::Cluster;

/// Where the cluster is.
#[derive(Debug, Clone, Default)]
pub struct Access {
    /// `--kubeconfig`; otherwise `KUBECONFIG`, then `~/.kube/config`.
    pub kubeconfig: Option<PathBuf>,
    /// `--context`; otherwise the kubeconfig's current context.
    pub context: Option<String>,
}

/// The cluster cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// No kubeconfig file was found or it cannot be read.
    #[error("cannot read the kubeconfig{}: {error}; pass --kubeconfig FILE or set KUBECONFIG", at(.path.as_deref()))]
    Kubeconfig {
        /// The file, when one was named.
        path: Option<PathBuf>,
        /// What failed.
        error: KubeconfigError,
    },
    /// The context, cluster or user cannot be used.
    #[error("the kubeconfig cannot be used{}: {error}; `kubectl config get-contexts` lists the contexts", context_named(.context.as_deref()))]
    Context {
        /// The context asked for.
        context: Option<String>,
        /// What failed.
        error: KubeconfigError,
    },
    /// The client could not be built (TLS setup and the like).
    #[error("cannot set up a client for {url}: {message}")]
    Client {
        /// The API server's address.
        url: String,
        /// What failed.
        message: String,
    },
    /// The API server did not answer.
    #[error(
        "no cluster is reachable at {url}: {message}; check that it runs and that the context is right (`kubectl cluster-info`)"
    )]
    Unreachable {
        /// The API server's address.
        url: String,
        /// What failed.
        message: String,
    },
}

fn at(path: Option<&Path>) -> String {
    path.map(|p| format!(" `{}`", p.display()))
        .unwrap_or_default()
}

fn context_named(context: Option<&str>) -> String {
    context
        .map(|c| format!(" with context `{c}`"))
        .unwrap_or_default()
}

/// Connects and checks that the API server answers within `timeout`.
pub async fn connect(access: &Access, timeout: Duration) -> Result<Cluster, ConnectError> {
    let kubeconfig = match &access.kubeconfig {
        Some(path) => Kubeconfig::read_from(path),
        None => Kubeconfig::read(),
    }
    .map_err(|error| ConnectError::Kubeconfig {
        path: access.kubeconfig.clone(),
        error,
    })?;
    let options = KubeConfigOptions {
        context: access.context.clone(),
        ..KubeConfigOptions::default()
    };
    let mut config = Config::from_custom_kubeconfig(kubeconfig, &options)
        .await
        .map_err(|error| ConnectError::Context {
            context: access.context.clone(),
            error,
        })?;
    let url = config.cluster_url.to_string();
    config.connect_timeout = Some(timeout);
    let client = Client::try_from(config).map_err(|e| ConnectError::Client {
        url: url.clone(),
        message: e.to_string(),
    })?;
    match tokio::time::timeout(timeout, client.apiserver_version()).await {
        Ok(Ok(_)) => Ok(Cluster::new(client)),
        Ok(Err(e)) => Err(ConnectError::Unreachable {
            url,
            message: chain(&e),
        }),
        Err(_) => Err(ConnectError::Unreachable {
            url,
            message: format!("no answer within {}s", timeout.as_secs()),
        }),
    }
}

/// An error with its causes: `client error (Connect): tcp connect error:
/// Connection refused`, where the top message alone says too little.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let next = cause.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = cause.source();
    }
    text
}
