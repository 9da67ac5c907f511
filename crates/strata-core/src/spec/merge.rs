//! A service written over a base one: what a blueprint's recipe supplies
//! under the fields the user wrote.
//!
//! [`ServiceSpec::over`] takes the base apart field by field with an
//! exhaustive pattern, so a key added to [`ServiceSpec`] does not compile
//! until this file says how it merges.

use super::decode::{Map, Spanned};
use super::null::OrNone;
use super::runtime::{ProbeSettings, ProbesSpec, SecuritySettings, SecuritySpec};
use super::service::{RareServiceKeys, ResourceList, ResourcesSpec, ServiceSpec};
use super::storage::{StorageSpec, VolumeSpec};
use crate::rare::Rare;

impl ServiceSpec {
    /// This service as written, with every field it leaves out taken from
    /// `base`. Mappings written in part are merged key by key: `env`, the
    /// requests and limits of `resources`, `security` settings, `probes`
    /// settings, and a `storage` size keeps the base's mount path. `access`
    /// rules add up: the rights the base's process needs stay beside the
    /// service's own. Every other field is this service's when written,
    /// else the base's.
    ///
    /// # Errors
    /// The name of a key only a user may write (one that selects or tunes a
    /// blueprint, `expose`, `calls`…) when `base` sets it.
    pub fn over(&self, base: ServiceSpec) -> Result<ServiceSpec, &'static str> {
        let ServiceSpec {
            image,
            ports,
            env,
            replicas,
            resources,
            storage,
            pool,
            needs,
            labels,
            rare,
        } = base;
        let RareServiceKeys {
            blueprint,
            mode,
            version,
            databases,
            topics,
            users,
            shards,
            options,
            settings,
            kind,
            schedule,
            command,
            args,
            env_from,
            gpu,
            volumes,
            priority,
            scheduler,
            scratch,
            wait_for_needs,
            init,
            sidecars,
            pod_labels,
            pod_annotations,
            selector,
            container,
            probes,
            security,
            spread,
            disruption_budget,
            termination_grace_period,
            service_account_token,
            access,
            spawns,
            autoscale,
            metrics,
            config,
            patches,
            service,
            expose,
            calls,
            serve,
            tracing,
            egress,
            slo,
            description,
            backup,
        } = rare.into_inner();
        // Keys that choose or tune a blueprint, or describe how the platform
        // around the service uses it: a base that sets one is a bug of the
        // blueprint, not something to merge.
        let users_only = [
            ("blueprint", blueprint.is_some()),
            ("mode", mode.is_some()),
            ("version", version.is_some()),
            ("databases", databases.is_some()),
            ("topics", topics.is_some()),
            ("users", users.is_some()),
            ("shards", shards.is_some()),
            ("options", options.is_some()),
            ("settings", settings.is_some()),
            ("service", service.is_some()),
            ("expose", expose.is_some()),
            ("calls", calls.is_some()),
            ("serve", serve.is_some()),
            ("slo", slo.is_some()),
            ("backup", backup.is_some()),
            ("description", description.is_some()),
        ];
        if let Some((key, _)) = users_only.into_iter().find(|(_, set)| *set) {
            return Err(key);
        }
        let own = self.clone();
        let own_rare = own.rare.into_inner();
        Ok(ServiceSpec {
            image: own.image.or(image),
            ports: own.ports.or(ports),
            env: merge_map(own.env, env),
            replicas: own.replicas.or(replicas),
            resources: merge_resources(own.resources, resources),
            storage: merge_storage(own.storage, storage),
            pool: own.pool.or(pool),
            needs: own.needs.or(needs),
            labels: own.labels.or(labels),
            rare: Rare::new(RareServiceKeys {
                blueprint: own_rare.blueprint,
                mode: own_rare.mode,
                version: own_rare.version,
                databases: own_rare.databases,
                topics: own_rare.topics,
                users: own_rare.users,
                shards: own_rare.shards,
                options: own_rare.options,
                settings: own_rare.settings,
                kind: own_rare.kind.or(kind),
                schedule: own_rare.schedule.or(schedule),
                command: own_rare.command.or(command),
                args: own_rare.args.or(args),
                env_from: own_rare.env_from.or(env_from),
                gpu: own_rare.gpu.or(gpu),
                volumes: own_rare.volumes.or(volumes),
                priority: own_rare.priority.or(priority),
                scheduler: own_rare.scheduler.or(scheduler),
                scratch: own_rare.scratch.or(scratch),
                wait_for_needs: own_rare.wait_for_needs.or(wait_for_needs),
                init: own_rare.init.or(init),
                sidecars: own_rare.sidecars.or(sidecars),
                pod_labels: own_rare.pod_labels.or(pod_labels),
                pod_annotations: own_rare.pod_annotations.or(pod_annotations),
                selector: own_rare.selector.or(selector),
                container: own_rare.container.or(container),
                probes: merge_probes(own_rare.probes, probes),
                security: merge_security(own_rare.security, security),
                spread: own_rare.spread.or(spread),
                disruption_budget: own_rare.disruption_budget.or(disruption_budget),
                termination_grace_period: own_rare
                    .termination_grace_period
                    .or(termination_grace_period),
                service_account_token: own_rare.service_account_token.or(service_account_token),
                access: match (own_rare.access, access) {
                    (Some(mut mine), Some(theirs)) => {
                        mine.value.extend(theirs.value);
                        Some(mine)
                    }
                    (mine, theirs) => mine.or(theirs),
                },
                spawns: own_rare.spawns.or(spawns),
                autoscale: own_rare.autoscale.or(autoscale),
                metrics: own_rare.metrics.or(metrics),
                config: own_rare.config.or(config),
                patches: own_rare.patches.or(patches),
                service: own_rare.service,
                expose: own_rare.expose,
                calls: own_rare.calls,
                serve: own_rare.serve,
                tracing: own_rare.tracing.or(tracing),
                egress: own_rare.egress.or(egress),
                slo: own_rare.slo,
                description: own_rare.description,
                backup: own_rare.backup,
            }),
        })
    }
}

fn merge_resources(
    mine: Option<Spanned<ResourcesSpec>>,
    theirs: Option<Spanned<ResourcesSpec>>,
) -> Option<Spanned<ResourcesSpec>> {
    match (mine, theirs) {
        (Some(mine), Some(theirs)) => Some(Spanned {
            span: mine.span,
            value: ResourcesSpec {
                requests: merge_list(mine.value.requests, theirs.value.requests),
                limits: merge_limits(mine.value.limits, theirs.value.limits),
            },
        }),
        (mine, theirs) => mine.or(theirs),
    }
}

fn merge_security(
    mine: Option<Spanned<SecuritySpec>>,
    theirs: Option<Spanned<SecuritySpec>>,
) -> Option<Spanned<SecuritySpec>> {
    let (mine, theirs) = match (mine, theirs) {
        (Some(mine), Some(theirs)) => (mine, theirs),
        (mine, theirs) => return mine.or(theirs),
    };
    let value = match (mine.value, theirs.value) {
        (SecuritySpec::Profile(p), SecuritySpec::Settings(mut s)) => {
            s.profile = Some(Spanned {
                value: p,
                span: mine.span,
            });
            SecuritySpec::Settings(s)
        }
        (SecuritySpec::Settings(m), SecuritySpec::Settings(t)) => {
            SecuritySpec::Settings(Box::new(security_settings_over(*m, *t)))
        }
        (value, _) => value,
    };
    Some(Spanned {
        value,
        span: mine.span,
    })
}

fn merge_probes(
    mine: Option<Spanned<ProbesSpec>>,
    theirs: Option<Spanned<ProbesSpec>>,
) -> Option<Spanned<ProbesSpec>> {
    let (mine, theirs) = match (mine, theirs) {
        (Some(mine), Some(theirs)) => (mine, theirs),
        (mine, theirs) => return mine.or(theirs),
    };
    let value = match (mine.value, theirs.value) {
        (ProbesSpec::Settings(m), ProbesSpec::Settings(t)) => {
            ProbesSpec::Settings(Box::new(probe_settings_over(*m, *t)))
        }
        (value, _) => value,
    };
    Some(Spanned {
        value,
        span: mine.span,
    })
}

/// Security settings of the service's own over the base's, key by key; a
/// user of the service's own means its own group and volume group too,
/// unless it gives them.
fn security_settings_over(mine: SecuritySettings, base: SecuritySettings) -> SecuritySettings {
    let SecuritySettings {
        profile,
        run_as_user,
        run_as_group,
        fs_group,
        read_only_root_filesystem,
        capabilities,
        privilege_escalation,
    } = base;
    let (run_as_user, run_as_group, fs_group) = if mine.run_as_user.is_none() {
        (
            run_as_user,
            mine.run_as_group.or(run_as_group),
            mine.fs_group.or(fs_group),
        )
    } else {
        (mine.run_as_user, mine.run_as_group, mine.fs_group)
    };
    SecuritySettings {
        profile: mine.profile.or(profile),
        run_as_user,
        run_as_group,
        fs_group,
        read_only_root_filesystem: mine.read_only_root_filesystem.or(read_only_root_filesystem),
        capabilities: mine.capabilities.or(capabilities),
        privilege_escalation: mine.privilege_escalation.or(privilege_escalation),
    }
}

/// Probe settings of the service's own over the base's: what to check
/// (kind, port, paths, headers, command) is the base's only when the
/// service writes none of it, so a check is never half one and half the
/// other; timings merge key by key, and each probe of the service's own
/// (`startup`, `readiness`, `liveness`) replaces the base's.
fn probe_settings_over(mine: ProbeSettings, base: ProbeSettings) -> ProbeSettings {
    let ProbeSettings {
        kind,
        port,
        path,
        readiness_path,
        headers,
        command,
        initial_delay,
        period,
        timeout,
        failure_threshold,
        success_threshold,
        startup_seconds,
        startup,
        readiness,
        liveness,
    } = base;
    let own_check = mine.kind.is_some()
        || mine.port.is_some()
        || mine.path.is_some()
        || mine.readiness_path.is_some()
        || mine.headers.is_some()
        || mine.command.is_some();
    let check = if own_check {
        (
            mine.kind,
            mine.port,
            mine.path,
            mine.readiness_path,
            mine.headers,
            mine.command,
        )
    } else {
        (kind, port, path, readiness_path, headers, command)
    };
    ProbeSettings {
        kind: check.0,
        port: check.1,
        path: check.2,
        readiness_path: check.3,
        headers: check.4,
        command: check.5,
        initial_delay: mine.initial_delay.or(initial_delay),
        period: mine.period.or(period),
        timeout: mine.timeout.or(timeout),
        failure_threshold: mine.failure_threshold.or(failure_threshold),
        success_threshold: mine.success_threshold.or(success_threshold),
        startup_seconds: mine.startup_seconds.or(startup_seconds),
        startup: mine.startup.or(startup),
        readiness: mine.readiness.or(readiness),
        liveness: mine.liveness.or(liveness),
    }
}

/// A size of the user's own keeps the base's mount path: `storage: 100Gi`
/// on a database still mounts where the image keeps its data.
fn merge_storage(
    mine: Option<Spanned<StorageSpec>>,
    theirs: Option<Spanned<StorageSpec>>,
) -> Option<Spanned<StorageSpec>> {
    let (mine, theirs) = match (mine, theirs) {
        (Some(mine), Some(theirs)) if mine.value != StorageSpec::None => (mine, theirs),
        (mine, theirs) => return mine.or(theirs),
    };
    let path = match theirs.value {
        StorageSpec::Volume(v) => v.mount_path,
        StorageSpec::Size(_) | StorageSpec::None => None,
    };
    let volume = match mine.value {
        StorageSpec::Size(size) => Box::new(VolumeSpec {
            size: Spanned {
                value: size,
                span: mine.span,
            },
            class: None,
            mount_path: path,
            access: None,
        }),
        StorageSpec::Volume(mut v) => {
            v.mount_path = v.mount_path.or(path);
            v
        }
        StorageSpec::None => unreachable!("a service's `none` is kept whole above"),
    };
    Some(Spanned {
        value: StorageSpec::Volume(volume),
        span: mine.span,
    })
}

/// Limits of the service's own: `none` wins whole, a list merges over the
/// base's list (a base's `none` gives way to any list of the service's).
fn merge_limits(
    mine: Option<Spanned<OrNone<ResourceList>>>,
    theirs: Option<Spanned<OrNone<ResourceList>>>,
) -> Option<Spanned<OrNone<ResourceList>>> {
    let as_list = |l: Spanned<OrNone<ResourceList>>| match l.value {
        OrNone::Value(list) => Some(Spanned {
            value: list,
            span: l.span,
        }),
        OrNone::None => None,
    };
    match (mine, theirs) {
        (Some(mine), theirs) if mine.value != OrNone::None => {
            let span = mine.span;
            merge_list(as_list(mine), theirs.and_then(as_list)).map(|l| Spanned {
                value: OrNone::Value(l.value),
                span,
            })
        }
        (mine, theirs) => mine.or(theirs),
    }
}

fn merge_list(
    mine: Option<Spanned<ResourceList>>,
    theirs: Option<Spanned<ResourceList>>,
) -> Option<Spanned<ResourceList>> {
    match (mine, theirs) {
        (Some(mut m), Some(t)) => {
            m.value.cpu = m.value.cpu.or(t.value.cpu);
            m.value.memory = m.value.memory.or(t.value.memory);
            Some(m)
        }
        (m, t) => m.or(t),
    }
}

/// The base's entries with this service's over them, key by key, in the
/// base's order and then the service's new keys; none when the service's
/// map is empty.
fn merge_map<K: PartialEq, V>(
    own: Option<Spanned<Map<K, V>>>,
    base: Option<Spanned<Map<K, V>>>,
) -> Option<Spanned<Map<K, V>>> {
    let (own, mut base) = match (own, base) {
        // An empty map of the service's own (`env: ~`) clears the base's.
        (Some(own), Some(base)) if !own.value.0.is_empty() => (own, base),
        (own, base) => return own.or(base),
    };
    for (key, value) in own.value.0 {
        match base.value.0.iter_mut().find(|(k, _)| k.value == key.value) {
            Some(entry) => entry.1 = value,
            None => base.value.0.push((key, value)),
        }
    }
    base.span = own.span;
    Some(base)
}

#[cfg(test)]
mod tests {
    use crate::source::SourceFile;
    use crate::spec::decode::{Decode, Decoder};
    use crate::spec::service::ServiceSpec;
    use crate::spec::yaml;

    fn service(text: &str) -> ServiceSpec {
        let file = SourceFile::new("s.yaml", text);
        let node = yaml::parse(&file).unwrap();
        let mut decoder = Decoder::new(&file);
        let spec = ServiceSpec::decode(node, &mut decoder).unwrap();
        assert!(decoder.is_clean());
        spec
    }

    #[test]
    fn every_key_a_base_may_set_reaches_the_service_unless_written() {
        // One key of each kind the old merge forgot: they used to be dropped.
        let base = service(
            "{ image: a:1, scratch: [/cache], autoscale: { min: 2, max: 4 }, init: { x: { image: b:1 } }, volumes: [{ name: logs, size: 1Gi, mountPath: /logs }], gpu: 1, egress: [{ cidr: 10.0.0.0/8 }] }",
        );
        let merged = service("{ gpu: 2 }").over(base).unwrap();
        assert_eq!(merged.image.unwrap().value, "a:1");
        assert!(merged.rare.scratch.is_some());
        assert!(merged.rare.autoscale.is_some());
        assert!(merged.rare.init.is_some());
        assert!(merged.rare.volumes.is_some());
        assert!(merged.rare.egress.is_some());
        assert_eq!(merged.rare.gpu.as_ref().unwrap().value, 2);
    }

    #[test]
    fn env_merges_key_by_key_and_storage_keeps_the_base_path() {
        let base =
            service("{ env: { A: '1', B: '2' }, storage: { size: 8Gi, mountPath: /var/lib/db } }");
        let merged = service("{ env: { B: three, C: '4' }, storage: 100Gi }")
            .over(base)
            .unwrap();
        let env: Vec<(String, String)> = merged
            .env
            .unwrap()
            .value
            .iter()
            .map(|(k, v)| (k.value.0.clone(), format!("{:?}", v.value)))
            .collect();
        assert_eq!(
            env.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
            ["A", "B", "C"]
        );
        assert!(env[1].1.contains("three"));
        match merged.storage.unwrap().value {
            crate::spec::storage::StorageSpec::Volume(v) => {
                assert_eq!(v.mount_path.unwrap().value, "/var/lib/db");
            }
            other @ (crate::spec::storage::StorageSpec::Size(_)
            | crate::spec::storage::StorageSpec::None) => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_base_choosing_a_blueprint_key_is_refused_by_name() {
        let base = service("{ image: a:1, calls: { db: { timeout: 1s } } }");
        assert_eq!(service("{}").over(base), Err("calls"));
    }
}
