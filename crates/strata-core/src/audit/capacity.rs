//! Capacity: what the platform asks of its budgets and node pools, and
//! GPU workloads that no GPU pool holds.

use super::{Check, Problem, per_service};
use crate::finding::{CheckInfo, Priority};
use crate::plan::Plan;
use crate::source::Span;

/// Capacity beyond budgets or node pools.
pub(super) const OVER_CAPACITY: Check = Check {
    info: CheckInfo::new(
        "over-capacity",
        Priority::P0,
        "the platform asks for more than its budgets or node pools hold",
        "Pods stay Pending, or quota rejects them, at the worst moment: a scale-up or a failover.",
        "raise the budget or the node pool, or lower requests (see `strata plan`)",
    ),
    run: |platform, _| {
        // A budget or a pool has no place of its own in the spec: the
        // findings point at the first service.
        let span = platform
            .services
            .first()
            .map_or(Span::default(), |s| s.span);
        Plan::new(platform)
            .fit
            .iter()
            .filter(|f| !f.fits)
            .map(|fit| {
                Problem::platform(
                    fit.scope.clone(),
                    format!(
                        "{}: {} requested, {} available",
                        fit.resource, fit.requested, fit.available
                    ),
                    span,
                )
            })
            .collect()
    },
};

/// GPU workloads with no GPU pool.
pub(super) const GPU_WITHOUT_POOL: Check = Check {
    info: CheckInfo::new(
        "gpu-without-pool",
        Priority::P1,
        "a service needs GPUs but is not bound to a GPU node pool",
        "It waits for any node with a free GPU, or lands on tainted nodes it cannot tolerate.",
        "declare a GPU node pool (selector and `nvidia.com/gpu` taint) and set `pool:` on the service",
    ),
    run: |platform, _| {
        per_service(platform, |_, service| {
            if service.rare.gpu == 0 {
                return None;
            }
            let pool = service
                .pool
                .as_ref()
                .and_then(|p| platform.node_pools.iter().find(|n| &n.name == p));
            let gpu_pool = pool.is_some_and(|p| {
                p.gpu.is_some_and(|g| g > 0)
                    || p.taints.iter().any(|t| t.key.contains("gpu"))
                    || p.selector.keys().any(|k| k.contains("gpu"))
            });
            (!gpu_pool).then(|| {
                format!(
                    "`{}` asks for {} GPU(s) on {}",
                    service.name,
                    service.rare.gpu,
                    service
                        .pool
                        .as_deref()
                        .map_or("any node".to_string(), |p| format!(
                            "pool `{p}`, which has no GPUs"
                        ))
                )
            })
        })
    },
};
