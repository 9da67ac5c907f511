//! Delivery by Argo CD: the Application of an environment.

use super::{Resolver, text};
use crate::model::{ArgoCd, SyncRetry};

impl Resolver<'_> {
    /// The Argo CD Application of environment `env`: it syncs the
    /// environment's overlay of the Kustomize export (the base without one).
    pub(super) fn argocd(&mut self, env: Option<&str>, shared_namespace: &str) -> Option<ArgoCd> {
        let spec = &self.spec.delivery.as_ref()?.value.argocd.as_ref()?.value;
        let root = spec.path.value.trim_end_matches('/');
        if spec.path.value.starts_with('/') || root.split('/').any(|part| part == "..") {
            self.error(
                "invalid-path",
                format!("`{}` is not a directory of the repository", spec.path.value),
                spec.path.span,
                "not inside the repository",
                "write the directory relative to the repository's root, such as `deploy/knowton`"
                    .into(),
            );
        }
        if spec.repo.value.trim().is_empty() {
            self.error(
                "invalid-option",
                "the Argo CD repository is empty".into(),
                spec.repo.span,
                "no repository",
                "write the repository's URL, such as `https://github.com/example/platform`".into(),
            );
        }
        let path = match env {
            Some(env) if root.is_empty() || root == "." => format!("overlays/{env}"),
            Some(env) => format!("{root}/overlays/{env}"),
            None if root.is_empty() || root == "." => "base".to_string(),
            None => format!("{root}/base"),
        };
        let retry = spec.retry.as_ref().map(|r| SyncRetry {
            limit: r.value.limit.value,
            backoff_seconds: r.value.backoff.as_ref().map_or(5, |b| b.value.0),
            factor: r.value.factor.as_ref().map_or(2, |f| f.value),
            max_backoff_seconds: r.value.max_backoff.as_ref().map_or(180, |m| m.value.0),
        });
        Some(ArgoCd {
            repo: spec.repo.value.clone(),
            path,
            revision: spec
                .revision
                .as_ref()
                .map_or_else(|| "HEAD".to_string(), |r| r.value.clone()),
            namespace: spec
                .namespace
                .as_ref()
                .map_or_else(|| "argocd".to_string(), text),
            project: spec
                .project
                .as_ref()
                .map_or_else(|| "default".to_string(), text),
            destination: shared_namespace.to_string(),
            prune: spec.prune.as_ref().is_some_and(|p| p.value),
            self_heal: spec.self_heal.as_ref().is_some_and(|s| s.value),
            retry,
        })
    }
}
