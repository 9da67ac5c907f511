//! `backup:` of each service over `defaults.backup`: its schedule,
//! retention and object store, checked, and whether its blueprint can take
//! one at all.

use super::Resolver;
use super::ServiceNames;
use crate::diag::suggestion;
use crate::model::{
    Backup, BackupCaller, BackupMethod, BackupTarget, CLUSTER_DOMAIN, DEFAULT_BUCKET,
    DEFAULT_KEEP_DAYS, DEFAULT_S3_ENDPOINT, DEFAULT_S3_SECRET, DEFAULT_SCHEDULE, Dependency,
    DependencyOrigin, DependencyTarget, Service, ServiceId, WorkloadKind, is_bucket_name,
};
use crate::source::Span;
use crate::spec::null::OrNone;
use crate::spec::service::BackupSpec;

/// The blueprint whose services are object stores a backup can go to.
const OBJECT_STORE: &str = "minio";

impl Resolver<'_> {
    /// Sets each service's [`Backup`]: its own `backup:` field by field
    /// over `defaults.backup`, which every stateful service takes unless it
    /// writes `backup: none`.
    pub(super) fn backups(
        &mut self,
        services: &mut [Service],
        specs: &[super::service::Filled<'_>],
        index: &ServiceNames<'_>,
    ) {
        let defaults = self
            .spec
            .defaults
            .as_ref()
            .and_then(|d| d.value.backup.as_ref());
        for i in 0..services.len() {
            let (written, span) = match (&specs[i].rare.backup, defaults) {
                (Some(own), _) => match &own.value {
                    OrNone::Value(value) => (over(value, defaults.map(|d| &d.value)), own.span),
                    OrNone::None => continue,
                },
                (None, Some(defaults)) if services[i].kind == WorkloadKind::Stateful => {
                    (defaults.value.clone(), defaults.span)
                }
                (None, _) => continue,
            };
            let from_defaults = specs[i].rare.backup.is_none();
            let backup = self.backup(&services[i], ServiceId(i), &written, span, services, index);
            let service = &services[i];
            // A blueprint that did not apply has been reported already.
            if service.rare.blueprint.is_some() && service.tuning.is_none() {
                continue;
            }
            let method = service.tuning.as_ref().and_then(|t| t.blueprint.backup(t));
            if method.is_none() {
                let (what, help) = match &service.tuning {
                    Some(t) => (
                        format!(
                            "the {} blueprint (mode `{}`) has no backup Strata can take",
                            t.blueprint.name(),
                            t.mode.name
                        ),
                        "docs/backup.md lists the blueprints and modes that back up; back this one up another way",
                    ),
                    None => (
                        "it runs an image of its own, whose data Strata cannot read".to_string(),
                        "back it up with a `kind: cron` service of your own",
                    ),
                };
                let help = if from_defaults {
                    format!(
                        "{help}, and write `backup: none` on `{}` to leave it out of `defaults.backup`",
                        service.name
                    )
                } else {
                    format!("{help}, and remove `backup`")
                };
                self.error(
                    "backup-unsupported",
                    format!("`{}` cannot be backed up: {what}", service.name),
                    span,
                    "no backup for this service",
                    help,
                );
                continue;
            }
            // The store is called, and must run first: by the service's
            // pods when its operator sends the backups, else by its job.
            if let (Some(store), Some(to)) = (
                backup.as_ref().and_then(|b| b.target.store),
                written.to.as_ref(),
            ) {
                let caller = match method {
                    Some(BackupMethod::Operator) => BackupCaller::Pods,
                    _ => BackupCaller::Job,
                };
                services[i].needs.push(Dependency {
                    target: DependencyTarget::Service(store),
                    origin: DependencyOrigin::Backup(caller),
                    span: to.span,
                    wait: true,
                });
            }
            services[i].backup = backup.map(Box::new);
        }
    }

    /// One service's backup, its target checked.
    fn backup(
        &mut self,
        service: &Service,
        id: ServiceId,
        spec: &BackupSpec,
        span: Span,
        services: &[Service],
        index: &ServiceNames<'_>,
    ) -> Option<Backup> {
        let Some(to) = &spec.to else {
            self.error(
                "missing-backup-target",
                format!("the backups of `{}` go nowhere", service.name),
                span,
                "no `to`",
                "add `to: SERVICE` (a `minio` service of the platform) or `to: s3://BUCKET/PREFIX`"
                    .into(),
            );
            return None;
        };
        let target = match to.value.strip_prefix("s3://") {
            Some(path) => self.s3_target(path, to.span, spec)?,
            None => self.store_target(service, id, &to.value, to.span, spec, services, index)?,
        };
        Some(Backup {
            schedule: spec
                .schedule
                .as_ref()
                .map_or_else(|| DEFAULT_SCHEDULE.to_string(), |s| s.value.0.clone()),
            keep_days: spec.keep.as_ref().map_or(DEFAULT_KEEP_DAYS, |k| k.value.0),
            target,
        })
    }

    /// Whether `bucket` is a bucket name; when not, an error at `span`
    /// showing the target's `form`.
    fn is_bucket(&mut self, bucket: &str, span: Span, form: &str) -> bool {
        if is_bucket_name(bucket) {
            return true;
        }
        self.error(
            "invalid-backup-target",
            format!("`{bucket}` is not a bucket name"),
            span,
            "not a bucket",
            format!("write `{form}`, the bucket 3 to 63 lowercase letters, digits, `-` and `.`"),
        );
        false
    }

    /// `s3://BUCKET/PREFIX`, its keys in `secret` (or the default Secret).
    fn s3_target(&mut self, path: &str, span: Span, spec: &BackupSpec) -> Option<BackupTarget> {
        let (bucket, prefix) = path.split_once('/').unwrap_or((path, ""));
        if !self.is_bucket(bucket, span, "s3://BUCKET/PREFIX") {
            return None;
        }
        if let Some(endpoint) = &spec.endpoint
            && !(endpoint.value.starts_with("https://") || endpoint.value.starts_with("http://"))
        {
            self.error(
                "invalid-backup-endpoint",
                format!("`{}` is not an endpoint URL", endpoint.value),
                endpoint.span,
                "not a URL",
                "write the store's URL with its scheme: `https://storage.googleapis.com`".into(),
            );
            return None;
        }
        Some(BackupTarget {
            endpoint: spec.endpoint.as_ref().map_or_else(
                || DEFAULT_S3_ENDPOINT.to_string(),
                |e| e.value.trim_end_matches('/').to_string(),
            ),
            bucket: bucket.to_string(),
            prefix: prefix.trim_matches('/').to_string(),
            secret: spec
                .secret
                .as_ref()
                .map_or_else(|| DEFAULT_S3_SECRET.to_string(), |s| s.value.0.clone()),
            access_key: "AWS_ACCESS_KEY_ID".into(),
            secret_key: "AWS_SECRET_ACCESS_KEY".into(),
            store: None,
        })
    }

    /// `SERVICE[/BUCKET[/PREFIX]]`: a `minio` service of the platform, other
    /// than the one backed up, written to with its root login.
    #[allow(
        clippy::too_many_arguments,
        reason = "one check, reading what the caller holds"
    )]
    fn store_target(
        &mut self,
        service: &Service,
        id: ServiceId,
        to: &str,
        span: Span,
        spec: &BackupSpec,
        services: &[Service],
        index: &ServiceNames<'_>,
    ) -> Option<BackupTarget> {
        for key in [
            &spec.secret.as_ref().map(|s| s.span),
            &spec.endpoint.as_ref().map(|e| e.span),
        ]
        .into_iter()
        .flatten()
        {
            self.error(
                "backup-key-unused",
                "`secret` and `endpoint` only apply to an `s3://` target".into(),
                *key,
                "not for a service of the platform",
                "a `minio` service of the platform is written to with its own root login: remove this key".into(),
            );
        }
        let mut parts = to.splitn(3, '/');
        let name = parts.next().unwrap_or_default();
        let bucket = parts.next().unwrap_or(DEFAULT_BUCKET);
        let prefix = parts.next().unwrap_or_default();
        let Some(&store_id) = index.get(name) else {
            let names: Vec<&str> = services
                .iter()
                .filter(|s| s.rare.blueprint.as_deref() == Some(OBJECT_STORE))
                .map(|s| s.name.as_str())
                .collect();
            let help = if to.contains(':') {
                "write `s3://BUCKET/PREFIX` for S3, or the name of a `minio` service".to_string()
            } else {
                suggestion(name, &names, "object store")
            };
            self.error(
                "unknown-backup-target",
                format!("`{name}` is neither a service of this platform nor an `s3://` URL"),
                span,
                "no such object store",
                help,
            );
            return None;
        };
        let store = &services[store_id.0];
        if store_id == id {
            self.error(
                "backup-to-itself",
                format!("`{}` would back up into itself", service.name),
                span,
                "its own store",
                "a backup must outlive what it saves: send it to another `minio` service or to `s3://`".into(),
            );
            return None;
        }
        if store.rare.blueprint.as_deref() != Some(OBJECT_STORE) {
            self.error(
                "backup-target-not-object-store",
                format!("`{name}` is not an object store"),
                span,
                "not a `minio` service",
                "name a service with `blueprint: minio`, or write `s3://BUCKET/PREFIX`".into(),
            );
            return None;
        }
        if !self.is_bucket(bucket, span, "SERVICE/BUCKET/PREFIX") {
            return None;
        }
        let port = store
            .ports
            .first()
            .map_or(9000, crate::model::Port::service_port);
        Some(BackupTarget {
            endpoint: format!(
                "http://{}.{}.svc.{CLUSTER_DOMAIN}:{port}",
                store.front.name, store.namespace
            ),
            bucket: bucket.to_string(),
            prefix: prefix.trim_matches('/').to_string(),
            secret: format!("{}-credentials", store.name),
            access_key: "root-user".into(),
            secret_key: "root-password".into(),
            store: Some(store_id),
        })
    }
}

/// A service's `backup:` with each field it leaves out taken from `defaults`.
fn over(own: &BackupSpec, defaults: Option<&BackupSpec>) -> BackupSpec {
    let Some(defaults) = defaults else {
        return own.clone();
    };
    BackupSpec {
        schedule: own.schedule.clone().or_else(|| defaults.schedule.clone()),
        keep: own.keep.clone().or_else(|| defaults.keep.clone()),
        to: own.to.clone().or_else(|| defaults.to.clone()),
        secret: own.secret.clone().or_else(|| defaults.secret.clone()),
        endpoint: own.endpoint.clone().or_else(|| defaults.endpoint.clone()),
    }
}
