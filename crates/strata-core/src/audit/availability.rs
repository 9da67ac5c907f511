//! Availability: stores on one pod, replicas that a node failure or a
//! drain takes together, and services nobody probes.
//!
//! Single replicas are a choice, not a risk, where nothing depends on the
//! platform (`production: false`, and `local` by default): the store checks
//! look at production platforms only.

use super::system::{is_postgres, is_redis, store};
use super::{Check, callers, per_service};
use crate::finding::{CheckInfo, Priority};
use crate::model::{Protocol, WorkloadKind};

/// Redis as a single point of failure.
pub(super) const REDIS_SINGLE_POINT: Check = Check {
    info: CheckInfo::new(
        "redis-single-point",
        Priority::P0,
        "Redis runs without Sentinel or cluster replicas",
        "Every service that caches, locks or queues through it stops when its one pod restarts.",
        "run it replicated with failover: `blueprint: redis, mode: sentinel, replicas: 3`",
    ),
    run: |platform, _| {
        per_service(platform, |id, service| {
            (platform.production && service.replicas < 3 && is_redis(service)).then(|| {
                format!(
                    "Redis `{}` runs {} replica(s) and {} service(s) depend on it",
                    service.name,
                    service.replicas,
                    callers(platform, id).len()
                )
            })
        })
    },
};

/// PostgreSQL without high availability.
pub(super) const POSTGRES_WITHOUT_HA: Check = Check {
    info: CheckInfo::new(
        "postgres-without-ha",
        Priority::P1,
        "PostgreSQL runs as a single instance",
        "A node failure or an upgrade takes the database, and everything that writes to it, down.",
        "run it with a standby and failover: `blueprint: postgresql, mode: ha, replicas: 3`",
    ),
    run: |platform, _| {
        per_service(platform, |_, service| {
            (platform.production && service.replicas < 2 && is_postgres(service))
                .then(|| format!("PostgreSQL `{}` runs a single instance", service.name))
        })
    },
};

/// Other stateful stores with one replica.
pub(super) const SINGLE_REPLICA_STORE: Check = Check {
    info: CheckInfo::new(
        "single-replica-store",
        Priority::P1,
        "a stateful service runs one replica in a production environment",
        "Its data and its clients depend on one pod on one node.",
        "raise `replicas` (and use the system's own replication), or accept the risk with a note",
    ),
    run: |platform, _| {
        per_service(platform, |_, service| {
            // Redis and PostgreSQL have checks of their own.
            (platform.production
                && service.replicas < 2
                && service.kind == WorkloadKind::Stateful
                && service.has_volume_per_pod()
                && !is_redis(service)
                && !is_postgres(service))
            .then(|| format!("`{}` keeps data on one replica", service.name))
        })
    },
};

/// A blueprint that keeps data, without its volume.
pub(super) const EPHEMERAL_STORE: Check = Check {
    info: CheckInfo::new(
        "ephemeral-store",
        Priority::P1,
        "a data store runs without a volume (`storage: none`)",
        "Everything it holds is lost whenever its pod restarts, moves or is upgraded.",
        "give it `storage: SIZE`, or keep `storage: none` only for a cache whose contents may be lost",
    ),
    run: |platform, _| {
        per_service(platform, |_, service| {
            let tuning = store(service)?;
            service.storage.is_none().then(|| {
                format!(
                    "`{}` ({}) keeps its data in the pod: it has no volume",
                    service.name,
                    tuning.blueprint.name()
                )
            })
        })
    },
};

/// A stateful service of a production environment that is never backed up.
pub(super) const STORE_WITHOUT_BACKUP: Check = Check {
    info: CheckInfo::new(
        "store-without-backup",
        Priority::P1,
        "a stateful service has no backups in a production environment",
        "Replicas copy a mistake as faithfully as the data: a dropped table, a bad migration or a lost volume is gone for good without a copy kept elsewhere.",
        "give it `backup: { to: STORE }` (or `defaults.backup` for every stateful service); docs/backup.md lists what each blueprint's backup holds",
    ),
    run: |platform, _| {
        per_service(platform, |_, service| {
            // The `postgresql` `ha` mode's own option of the same name
            // backs it up too.
            let option = service
                .tuning
                .as_ref()
                .is_some_and(|t| t.options.contains_key("backup"));
            (platform.production
                && service.kind == WorkloadKind::Stateful
                && (service.storage.is_some() || !service.rare.volumes.is_empty())
                && service.backup.is_none()
                && !option)
                .then(|| format!("`{}` keeps data that is never backed up", service.name))
        })
    },
};

/// Probes switched off.
pub(super) const PROBES_OFF: Check = Check {
    info: CheckInfo::new(
        "probes-off",
        Priority::P2,
        "a long-running service has no probes",
        "Traffic reaches it before it is ready, and a hung process is never restarted.",
        "remove `probes: false`, or give it a port to probe",
    ),
    run: |platform, _| {
        per_service(platform, |_, service| {
            if !service.kind.is_long_running() || service.runtime.probes.is_some() {
                return None;
            }
            let why = if service.ports.iter().any(|p| p.protocol != Protocol::Udp) {
                "its probes are switched off"
            } else {
                "it has no port to probe"
            };
            Some(format!("`{}` has no probes: {why}", service.name))
        })
    },
};

/// Replicated services whose availability defaults are off.
pub(super) const AVAILABILITY_OFF: Check = Check {
    info: CheckInfo::new(
        "availability-off",
        Priority::P2,
        "a replicated service has no spread or no disruption budget",
        "A node failure or a drain can take all its replicas at once.",
        "remove `spread: false` / `disruptionBudget: false`",
    ),
    run: |platform, _| {
        per_service(platform, |_, service| {
            let replicated = service.replicas > 1 || service.runtime.autoscale.is_some();
            let off: Vec<&str> = [
                (!service.runtime.spread).then_some("spread"),
                (!service.runtime.disruption_budget).then_some("a disruption budget"),
            ]
            .into_iter()
            .flatten()
            .collect();
            (replicated && !off.is_empty()).then(|| {
                format!(
                    "`{}` has {} replicas without {}",
                    service.name,
                    service.replicas,
                    off.join(" or ")
                )
            })
        })
    },
};
