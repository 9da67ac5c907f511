//! The deployment plan: waves, the critical path, resource totals and
//! whether the platform fits its budgets and node pools.

use serde::Serialize;

use crate::model::Platform;
use crate::model::PodGroup;
use crate::quantity::{Measure, Quantity};

/// How a platform will be deployed, derived from a [`Platform`].
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    /// The platform's name.
    pub platform: String,
    /// The environment applied.
    pub environment: Option<String>,
    /// Waves in order; everything in a wave can start together.
    pub waves: Vec<WavePlan>,
    /// The longest chain of waits (`tier/NAME` for a whole tier).
    pub critical_path: Vec<String>,
    /// Totals per tier, bottom first.
    pub tiers: Vec<TierTotals>,
    /// Totals of the whole platform.
    pub total: Totals,
    /// Budget and node-pool checks; empty when the spec sets neither.
    pub fit: Vec<Fit>,
    /// Calls between services (`caller → callee`).
    pub calls: usize,
    /// Calls with no timeout, which can hang a caller forever.
    pub calls_without_timeout: Vec<String>,
    /// Calls the caller does not wait for at start-up (`wait: false`).
    pub calls_without_waiting: Vec<String>,
    /// Dependencies outside the spec, running before wave 1, with their callers.
    pub externals: Vec<ExternalPlan>,
    /// Scheduled backups, in spec order.
    pub backups: Vec<BackupPlan>,
}

/// A service's scheduled backups as `plan` lists them.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BackupPlan {
    /// The service backed up.
    pub service: String,
    /// When: its cron schedule.
    pub schedule: String,
    /// Days each backup is kept.
    pub keep_days: u32,
    /// Where backups go: `s3://BUCKET/PREFIX/SERVICE`, and the platform's
    /// store when it is one.
    pub to: String,
}

/// An external as `plan` lists it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExternalPlan {
    /// Its name.
    pub name: String,
    /// Where callers reach it: a CIDR block, or `namespace NS` with a selector.
    pub reach: String,
    /// Its ports, `name:number`.
    pub ports: Vec<String>,
    /// The services calling it, in spec order.
    pub callers: Vec<String>,
}

/// One wave.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WavePlan {
    /// Its number, from 1.
    pub wave: usize,
    /// Its services, in spec order.
    pub services: Vec<WaveEntry>,
    /// Tiers whose raw manifests are applied in this wave.
    pub manifests: Vec<String>,
}

/// A service as listed in a wave.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WaveEntry {
    /// Its name.
    pub name: String,
    /// Its tier.
    pub tier: String,
    /// Its workload kind.
    pub kind: &'static str,
    /// Its pods.
    pub replicas: u32,
}

/// Resource totals of a tier.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TierTotals {
    /// The tier's name.
    pub tier: String,
    /// Its namespace.
    pub namespace: String,
    /// Its totals.
    #[serde(flatten)]
    pub totals: Totals,
}

/// Resources with replicas counted: CPU in millicores, bytes for memory and
/// storage.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Totals {
    /// Services.
    pub services: u32,
    /// Pods.
    pub pods: u32,
    /// CPU requested, in millicores.
    #[serde(serialize_with = "milli")]
    pub cpu_requests: Quantity,
    /// CPU limits, in millicores.
    #[serde(serialize_with = "milli")]
    pub cpu_limits: Quantity,
    /// Memory requested, in bytes.
    #[serde(serialize_with = "units")]
    pub memory_requests: Quantity,
    /// Memory limits, in bytes.
    #[serde(serialize_with = "units")]
    pub memory_limits: Quantity,
    /// GPUs.
    pub gpu: u32,
    /// Storage requested by volume claims, in bytes.
    #[serde(serialize_with = "units")]
    pub storage: Quantity,
    /// Volume claims.
    pub pvcs: u32,
}

fn milli<S: serde::Serializer>(q: &Quantity, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u128(q.milli())
}

fn units<S: serde::Serializer>(q: &Quantity, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u128(q.ceil_units())
}

/// One capacity check.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Fit {
    /// What is checked: `namespace NAME` or `node pool NAME`.
    pub scope: String,
    /// The resource: `cpu`, `memory` (requests), `limits.cpu`, `limits.memory`,
    /// `gpu`, `storage`, `pvcs`, `pods`.
    pub resource: &'static str,
    /// What the platform asks for.
    pub requested: String,
    /// What is available.
    pub available: String,
    /// Whether it fits.
    pub fits: bool,
    /// A check that may fail without failing the plan: an autoscaled pool at
    /// its minimum size, which must grow to hold the platform.
    pub warning: bool,
}

impl Totals {
    /// Adds one service, given by its footprint: every pod it runs, its
    /// companions' too ([`Service::footprint`](crate::model::Service::footprint)).
    pub fn add(&mut self, footprint: &[PodGroup]) {
        self.services += 1;
        for group in footprint {
            self.add_pods(group);
        }
    }

    fn add_pods(&mut self, group: &PodGroup) {
        let pods = u64::from(group.pods);
        self.pods += group.pods;
        self.cpu_requests = self
            .cpu_requests
            .saturating_add(group.resources.requests.cpu.times(pods));
        // Pods without limits add nothing: a namespace with a limits
        // budget refuses them at check, so these totals stay comparable.
        let limits = group.resources.limits.unwrap_or_default();
        self.cpu_limits = self.cpu_limits.saturating_add(limits.cpu.times(pods));
        self.memory_requests = self
            .memory_requests
            .saturating_add(group.resources.requests.memory.times(pods));
        self.memory_limits = self.memory_limits.saturating_add(limits.memory.times(pods));
        self.gpu += group.gpu * group.pods;
        self.storage = self.storage.saturating_add(group.storage);
        self.pvcs += group.pvcs;
    }

    /// Totals of some services.
    pub fn of<'a>(footprints: impl IntoIterator<Item = &'a [PodGroup]>) -> Totals {
        let mut totals = Totals::default();
        for footprint in footprints {
            totals.add(footprint);
        }
        totals
    }
}

/// The pods of a daemon: one per node it runs on, as far as the node pools
/// say. Its pool's nodes; without a pool, the nodes of every pool whose
/// taints it tolerates (all of them for a blueprint that tolerates every
/// taint, the untainted ones otherwise). `None` when the pools give no node
/// count (then `plan` counts `replicas`, one).
fn daemon_nodes(platform: &Platform, service: &crate::model::Service) -> Option<u32> {
    if service.kind != crate::model::WorkloadKind::Daemon {
        return None;
    }
    let every_node = service
        .tuning
        .as_ref()
        .and_then(|t| t.supplied.host.as_ref())
        .is_some_and(|h| h.every_node);
    let counts: Vec<u32> = platform
        .node_pools
        .iter()
        .filter(|pool| match &service.pool {
            Some(name) => pool.name == *name,
            None => every_node || pool.taints.is_empty(),
        })
        .filter_map(|pool| pool.nodes.map(|n| n.max))
        .collect();
    (!counts.is_empty()).then(|| counts.iter().sum())
}

impl Plan {
    /// The plan of a platform.
    ///
    /// ```
    /// use strata_core::{model, plan::Plan, source::SourceFile, spec};
    /// let file = SourceFile::new("p.yaml", "platform: demo\ntiers:\n  - name: apps\n    services:\n      web: { image: nginx:1.27, replicas: 2 }\n");
    /// let platform = strata_core::resolve(&spec::parse(&file).unwrap(), None).unwrap();
    /// let plan = Plan::new(&platform);
    /// assert_eq!(plan.total.pods, 2);
    /// assert_eq!(plan.waves.len(), 1);
    /// ```
    pub fn new(platform: &Platform) -> Plan {
        // Each service's pods, worked out once for every table below.
        let footprints: Vec<Vec<PodGroup>> = platform
            .services
            .iter()
            .map(|service| {
                let mut groups = service.footprint();
                if let (Some(nodes), Some(own)) =
                    (daemon_nodes(platform, service), groups.first_mut())
                {
                    own.pods = nodes;
                }
                groups
            })
            .collect();
        let waves = platform
            .waves
            .iter()
            .enumerate()
            .map(|(i, ids)| WavePlan {
                wave: i + 1,
                services: ids
                    .iter()
                    .map(|id| {
                        let s = &platform.services[id.0];
                        WaveEntry {
                            name: s.name.clone(),
                            tier: platform.tier_of(s).name.clone(),
                            kind: s.kind.as_str(),
                            replicas: footprints[id.0].first().map_or(s.replicas, |g| g.pods),
                        }
                    })
                    .collect(),
                manifests: platform
                    .tiers
                    .iter()
                    .filter(|t| t.manifest_wave == Some(i + 1))
                    .map(|t| t.name.clone())
                    .collect(),
            })
            .collect();
        let tiers = platform
            .tiers
            .iter()
            .map(|t| TierTotals {
                tier: t.name.clone(),
                namespace: t.namespace.clone(),
                totals: Totals::of(t.services.iter().map(|id| footprints[id.0].as_slice())),
            })
            .collect();
        let backups = platform
            .services
            .iter()
            .filter_map(|s| {
                let backup = s.backup.as_ref()?;
                let store = backup.target.store.map_or(String::new(), |id| {
                    format!(" (on `{}`)", platform.services[id.0].name)
                });
                Some(BackupPlan {
                    service: s.name.clone(),
                    schedule: backup.schedule.clone(),
                    keep_days: backup.keep_days,
                    to: format!("{}{store}", backup.target.url(&s.name)),
                })
            })
            .collect();
        Plan {
            backups,
            platform: platform.name.clone(),
            environment: platform.environment.clone(),
            waves,
            critical_path: platform
                .critical_path
                .iter()
                .map(|&s| platform.step_name(s))
                .collect(),
            tiers,
            total: Totals::of(footprints.iter().map(Vec::as_slice)),
            fit: fit(platform, &footprints),
            calls: platform.edges.len(),
            calls_without_timeout: platform
                .edges
                .iter()
                .filter(|e| e.calls(platform).timeout_ms.is_none())
                .map(|e| {
                    format!(
                        "{} → {}",
                        platform.services[e.from().0].name,
                        platform.services[e.to().0].name
                    )
                })
                .collect(),
            calls_without_waiting: calls_without_waiting(platform),
            externals: platform
                .externals
                .iter()
                .enumerate()
                .map(|(index, e)| ExternalPlan {
                    name: e.name.clone(),
                    reach: match &e.reach {
                        crate::model::Reach::Block(cidr) => cidr.clone(),
                        crate::model::Reach::Pods { namespace, labels } => {
                            let labels: Vec<String> =
                                labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
                            if labels.is_empty() {
                                format!("namespace {namespace}")
                            } else {
                                format!("namespace {namespace}, pods {}", labels.join(","))
                            }
                        }
                    },
                    ports: e.ports.iter().map(|(n, p)| format!("{n}:{p}")).collect(),
                    callers: platform
                        .services
                        .iter()
                        .filter(|s| s.rare.externals.iter().any(|c| c.external == index))
                        .map(|s| s.name.clone())
                        .collect(),
                })
                .collect(),
        }
    }

    /// Whether every capacity check passes (warnings aside).
    pub fn fits(&self) -> bool {
        self.fit.iter().all(|f| f.fits || f.warning)
    }
}

/// Each `caller → callee` pair not waited for at start-up, once: a service
/// that reads two fields of a callee depends on it twice, by two references.
fn calls_without_waiting(platform: &Platform) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    platform
        .services
        .iter()
        .enumerate()
        .flat_map(|(i, s)| s.needs.iter().map(move |n| (i, n)))
        .filter(|(_, n)| !n.wait)
        .filter_map(|(i, n)| match n.target {
            crate::model::DependencyTarget::Service(to) => Some((i, to.0)),
            crate::model::DependencyTarget::Tier(_) => None,
        })
        .filter(|pair| seen.insert(*pair))
        .map(|(from, to)| {
            format!(
                "{} → {}",
                platform.services[from].name, platform.services[to].name
            )
        })
        .collect()
}

fn check(
    scope: &str,
    resource: &'static str,
    requested: Quantity,
    available: Quantity,
    measure: Measure,
) -> Fit {
    Fit {
        scope: scope.to_string(),
        resource,
        requested: requested.display(measure).to_string(),
        available: available.display(measure).to_string(),
        fits: requested <= available,
        warning: false,
    }
}

fn node_count(n: u32) -> String {
    if n == 1 {
        "1 node".into()
    } else {
        format!("{n} nodes")
    }
}

fn count(n: u32) -> Quantity {
    Quantity::units(u64::from(n))
}

fn fit(platform: &Platform, footprints: &[Vec<PodGroup>]) -> Vec<Fit> {
    let mut checks = Vec::new();
    // A tenant's namespace holds none of the platform's services: its budget
    // is for the tenant's own workloads, so there is nothing to compare.
    for namespace in platform.namespaces.iter().filter(|n| n.tenant.is_none()) {
        let Some(budget) = namespace.budget else {
            continue;
        };
        let totals = Totals::of(
            platform
                .services
                .iter()
                .zip(footprints)
                .filter(|(s, _)| s.namespace == namespace.name)
                .map(|(_, f)| f.as_slice()),
        );
        let scope = format!("namespace {}", namespace.name);
        let wanted = [
            ("cpu", totals.cpu_requests, budget.cpu, Measure::Cpu),
            (
                "memory",
                totals.memory_requests,
                budget.memory,
                Measure::Bytes,
            ),
            (
                "limits.cpu",
                totals.cpu_limits,
                budget.limits_cpu,
                Measure::Cpu,
            ),
            (
                "limits.memory",
                totals.memory_limits,
                budget.limits_memory,
                Measure::Bytes,
            ),
            (
                "gpu",
                count(totals.gpu),
                budget.gpu.map(count),
                Measure::Count,
            ),
            ("storage", totals.storage, budget.storage, Measure::Bytes),
            (
                "pvcs",
                count(totals.pvcs),
                budget.pvcs.map(count),
                Measure::Count,
            ),
            (
                "pods",
                count(totals.pods),
                budget.pods.map(count),
                Measure::Count,
            ),
        ];
        for (resource, requested, available, measure) in wanted {
            if let Some(available) = available {
                checks.push(check(&scope, resource, requested, available, measure));
            }
        }
    }
    for pool in &platform.node_pools {
        let members: Vec<&PodGroup> = footprints
            .iter()
            .flatten()
            .filter(|g| g.pool.as_deref() == Some(pool.name.as_str()))
            .collect();
        let mut totals = Totals::default();
        for group in &members {
            totals.add_pods(group);
        }
        let scope = match &pool.instance_type {
            Some(instance) => format!("node pool {} ({instance})", pool.name),
            None => format!("node pool {}", pool.name),
        };
        let per_node = [
            (
                "cpu",
                pool.cpu,
                Measure::Cpu,
                totals.cpu_requests,
                members.iter().map(|g| g.resources.requests.cpu).max(),
            ),
            (
                "memory",
                pool.memory,
                Measure::Bytes,
                totals.memory_requests,
                members.iter().map(|g| g.resources.requests.memory).max(),
            ),
            (
                "gpu",
                pool.gpu.map(count),
                Measure::Count,
                count(totals.gpu),
                members.iter().map(|g| count(g.gpu)).max(),
            ),
        ];
        for (resource, capacity, measure, requested, largest_pod) in per_node {
            let Some(capacity) = capacity else { continue };
            match pool.nodes {
                Some(nodes) if nodes.min == nodes.max => checks.push(check(
                    &scope,
                    resource,
                    requested,
                    capacity.times(u64::from(nodes.max)),
                    measure,
                )),
                // An autoscaled pool must hold the platform at its largest;
                // not fitting at its smallest only means it has to grow.
                Some(nodes) => {
                    checks.push(Fit {
                        warning: true,
                        ..check(
                            &format!("{scope} at {} (min)", node_count(nodes.min)),
                            resource,
                            requested,
                            capacity.times(u64::from(nodes.min)),
                            measure,
                        )
                    });
                    checks.push(check(
                        &format!("{scope} at {} (max)", node_count(nodes.max)),
                        resource,
                        requested,
                        capacity.times(u64::from(nodes.max)),
                        measure,
                    ));
                }
                None => {}
            }
            if let Some(largest) = largest_pod.filter(|&l| l > capacity) {
                checks.push(check(
                    &format!("{scope} (largest pod on one node)"),
                    resource,
                    largest,
                    capacity,
                    measure,
                ));
            }
        }
    }
    checks
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{source::SourceFile, spec};

    fn plan(text: &str) -> Plan {
        let file = SourceFile::new("p.yaml", text);
        Plan::new(&crate::resolve(&spec::parse(&file).unwrap(), None).unwrap())
    }

    #[test]
    fn operated_clusters_count_every_pod_their_operator_runs() {
        let plan = plan(
            "platform: r
operators: { clickhouse-operator: { installed: true }, strimzi: { installed: true } }
nodePools: { mem: { selector: { pool: mem }, nodes: 1, capacity: { cpu: 8, memory: 64Gi } } }
tiers:
  - name: data
    services:
      ch: { blueprint: clickhouse, mode: altinity, shards: 3, replicas: 2, pool: mem, storage: 100Gi, resources: { requests: { cpu: 4, memory: 16Gi }, limits: { cpu: 8, memory: 32Gi } } }
      cache: { blueprint: redis, mode: sentinel }
      events: { blueprint: kafka, mode: strimzi }
",
        );
        // 6 servers + 3 Keeper nodes, 3 Redis + 3 Sentinels, 3 Kafka nodes + the entity operator.
        assert_eq!(plan.total.pods, 6 + 3 + 3 + 3 + 3 + 1);
        assert_eq!(plan.total.services, 3);
        let ch = &plan.waves[0].services[0];
        assert_eq!((ch.name.as_str(), ch.replicas), ("ch", 6));
        // Servers claim a volume each, Keeper nodes 10Gi each, Kafka and Redis theirs.
        let gib = |n: u64| Quantity::parse(&format!("{n}Gi"), Measure::Bytes).unwrap();
        assert_eq!(plan.total.pvcs, 6 + 3 + 3 + 3);
        assert_eq!(plan.total.storage, gib(600 + 30 + 3 * 8 + 3 * 50));
        // The servers are on the pool: 24 CPUs requested of 8.
        let cpu = plan
            .fit
            .iter()
            .find(|f| f.scope == "node pool mem" && f.resource == "cpu")
            .unwrap();
        assert_eq!((cpu.requested.as_str(), cpu.fits), ("24", false));
        assert!(!plan.fits());
    }

    #[test]
    fn a_call_not_waited_for_is_listed_once_however_many_fields_it_reads() {
        let plan = plan(
            "platform: r
tiers:
  - name: app
    services:
      api: { image: a:1, ports: { http: 80 }, env: { H: '${search.host}', P: '${search.ports.http}' }, calls: { search: { wait: false } } }
      search: { image: s:1, ports: { http: 80 } }
",
        );
        assert_eq!(plan.calls_without_waiting, ["api → search"]);
    }

    #[test]
    fn a_daemon_runs_a_pod_on_each_node_it_lands_on() {
        let plan = plan(
            "platform: d
nodePools:
  general: { selector: { pool: general }, nodes: 5 }
  gpu: { selector: { pool: gpu }, nodes: { min: 1, max: 3 }, taints: [\"nvidia.com/gpu=true:NoSchedule\"] }
tiers:
  - name: ops
    services:
      logs: { image: d/logs:1.0.0, kind: daemon }
      gpu-agent: { image: d/agent:1.0.0, kind: daemon, pool: gpu }
      nodes: { blueprint: node-exporter }
",
        );
        let pods = |name: &str| {
            plan.waves[0]
                .services
                .iter()
                .find(|s| s.name == name)
                .map(|s| s.replicas)
        };
        assert_eq!(pods("logs"), Some(5), "the untainted nodes");
        assert_eq!(pods("gpu-agent"), Some(3), "its pool, at its largest");
        assert_eq!(pods("nodes"), Some(8), "it tolerates every taint");
        assert_eq!(plan.total.pods, 16);
    }

    #[test]
    fn a_pod_reserves_its_largest_init_step_where_that_is_larger() {
        let plan = plan(
            "platform: i
tiers:
  - name: apps
    services:
      api:
        image: i/api:1.0.0
        replicas: 2
        resources: { requests: { cpu: 500m, memory: 1Gi }, limits: { cpu: 1, memory: 2Gi } }
        init:
          small: { image: i/seed:1.0.0, resources: { requests: { cpu: 100m, memory: 64Mi }, limits: { cpu: 200m, memory: 128Mi } } }
          fetch: { image: i/fetch:1.0.0, resources: { requests: { cpu: 2, memory: 256Mi }, limits: { cpu: 4, memory: 512Mi } } }
",
        );
        let q = |t: &str, m| Quantity::parse(t, m).unwrap();
        // CPU from the fetch step, memory from the container, per pod.
        assert_eq!(plan.total.cpu_requests, q("4", Measure::Cpu));
        assert_eq!(plan.total.memory_requests, q("2Gi", Measure::Bytes));
        assert_eq!(plan.total.cpu_limits, q("8", Measure::Cpu));
    }

    #[test]
    fn budget_limits_are_compared_with_the_sum_of_limits() {
        let file = SourceFile::new(
            "t.yaml",
            "
platform: t
namespaces:
  t: { budget: { limits: { cpu: 1, memory: 4Gi } } }
tiers:
  - name: apps
    services:
      api: { image: t/api:1.0.0, replicas: 3, resources: { requests: { cpu: 100m, memory: 1Gi }, limits: { cpu: 500m, memory: 1Gi } } }
",
        );
        let platform = crate::resolve(&spec::parse(&file).unwrap(), None).unwrap();
        let plan = Plan::new(&platform);
        let rows: Vec<(&str, &str, bool)> = plan
            .fit
            .iter()
            .map(|f| (f.resource, f.requested.as_str(), f.fits))
            .collect();
        assert_eq!(
            rows,
            [("limits.cpu", "1.5", false), ("limits.memory", "3Gi", true)]
        );
    }

    fn fit_rows(text: &str) -> (Vec<(String, &'static str, bool, bool)>, bool) {
        let file = SourceFile::new("t.yaml", text);
        let platform = crate::resolve(&spec::parse(&file).unwrap(), None).unwrap();
        let plan = Plan::new(&platform);
        let rows = plan
            .fit
            .iter()
            .map(|f| (f.scope.clone(), f.resource, f.fits, f.warning))
            .collect();
        (rows, plan.fits())
    }

    #[test]
    fn an_autoscaled_pool_is_checked_at_its_minimum_and_its_maximum() {
        let text = "
platform: t
nodePools:
  general: { selector: { pool: general }, instanceType: t3.xlarge, nodes: { min: 2, max: 4 }, capacity: { cpu: 4 } }
tiers:
  - name: apps
    services:
      api: { image: t/api:1.0.0, pool: general, replicas: REPLICAS, resources: { requests: { cpu: 1 } } }
";
        // 12 cores: too many for 2 nodes (a warning), enough for 4.
        let (rows, fits) = fit_rows(&text.replace("REPLICAS", "12"));
        assert_eq!(
            rows,
            [
                (
                    "node pool general (t3.xlarge) at 2 nodes (min)".into(),
                    "cpu",
                    false,
                    true
                ),
                (
                    "node pool general (t3.xlarge) at 4 nodes (max)".into(),
                    "cpu",
                    true,
                    false
                )
            ]
        );
        assert!(fits);
        // 20 cores: more than the pool can ever hold.
        let (rows, fits) = fit_rows(&text.replace("REPLICAS", "20"));
        assert!(!rows[1].2 && !fits);
        // A plain count is one check, as before.
        let (rows, _) = fit_rows(
            &text
                .replace("{ min: 2, max: 4 }", "4")
                .replace("REPLICAS", "2"),
        );
        assert_eq!(
            rows,
            [("node pool general (t3.xlarge)".into(), "cpu", true, false)]
        );
    }
}
