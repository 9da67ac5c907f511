//! Requests and limits: a service's, its init steps' and sidecars', scaled by the
//! environment; namespaces' budgets (ResourceQuotas) and container limits
//! (LimitRanges).

use super::Resolver;
use crate::diag::Diagnostic;
use crate::model::{Amounts, Bounds, Budget, ContainerLimits, Namespace, Resources, Service};
use crate::quantity::{Measure, Quantity};
use crate::source::Span;
use crate::spec::Spanned;
use crate::spec::null::OrNone;
use crate::spec::platform::{BudgetSpec, ContainerLimitsSpec};
use crate::spec::service::{ResourceList, ResourcesSpec, ServiceSpec};

/// Requests of a service when neither it nor `defaults` sets them.
pub const DEFAULT_CPU_REQUEST: Quantity = Quantity::from_milli(100);

/// Memory request of a service when neither it nor `defaults` sets one.
pub const DEFAULT_MEMORY_REQUEST: Quantity = Quantity::from_milli(128 * 1024 * 1024 * 1000);

/// The default requests and limits of a container beside a service's own:
/// `(request, limit)` of CPU and of memory.
#[derive(Debug, Clone, Copy)]
pub(super) struct HelperSize {
    cpu: (Quantity, Quantity),
    memory: (Quantity, Quantity),
}

const MIB: u128 = 1024 * 1024 * 1000;

/// An init step: a copy or a migration.
pub(super) const INIT_STEP_SIZE: HelperSize = HelperSize {
    cpu: (Quantity::from_milli(100), Quantity::units(1)),
    memory: (
        Quantity::from_milli(128 * MIB),
        Quantity::from_milli(512 * MIB),
    ),
};

/// A sidecar: a proxy or a shipper, running all the pod's life.
pub(super) const SIDECAR_SIZE: HelperSize = HelperSize {
    cpu: (Quantity::from_milli(50), Quantity::from_milli(200)),
    memory: (
        Quantity::from_milli(64 * MIB),
        Quantity::from_milli(256 * MIB),
    ),
};

/// Whether a service's pods run without limits: its own `limits: none`,
/// else `defaults`' when it writes no limits of its own.
fn unbounded_limits(spec: &ServiceSpec, defaults: Option<&Spanned<ResourcesSpec>>) -> bool {
    fn written(r: Option<&Spanned<ResourcesSpec>>) -> Option<&OrNone<ResourceList>> {
        r.and_then(|r| r.value.limits.as_ref()).map(|l| &l.value)
    }
    match written(spec.resources.as_ref()) {
        Some(own) => *own == OrNone::None,
        None => written(defaults).is_some_and(|d| *d == OrNone::None),
    }
}

pub(super) fn budget(spec: &BudgetSpec) -> Budget {
    Budget {
        cpu: spec.cpu.as_ref().map(|c| c.value.0),
        memory: spec.memory.as_ref().map(|m| m.value.0),
        limits_cpu: spec
            .limits
            .as_ref()
            .and_then(|l| l.value.cpu.as_ref())
            .map(|c| c.value.0),
        limits_memory: spec
            .limits
            .as_ref()
            .and_then(|l| l.value.memory.as_ref())
            .map(|m| m.value.0),
        gpu: spec.gpu.as_ref().map(|g| g.value),
        storage: spec.storage.as_ref().map(|s| s.value.0),
        pvcs: spec.pvcs.as_ref().map(|p| p.value),
        pods: spec.pods.as_ref().map(|p| p.value),
    }
}

impl Resolver<'_> {
    pub(super) fn resources(&mut self, spec: &ServiceSpec) -> Resources {
        let list = |r: Option<&Spanned<crate::spec::service::ResourcesSpec>>,
                    limits: bool|
         -> Option<ResourceList> {
            let r = r?;
            if limits {
                r.value.limits.as_ref()?.value.value().cloned()
            } else {
                r.value.requests.as_ref().map(|l| l.value.clone())
            }
        };
        let own = spec.resources.as_ref();
        let defaults = self
            .spec
            .defaults
            .as_ref()
            .and_then(|d| d.value.resources.as_ref());
        let pick_cpu = |limits: bool| {
            list(own, limits)
                .and_then(|l| l.cpu)
                .or_else(|| list(defaults, limits).and_then(|l| l.cpu))
        };
        let pick_memory = |limits: bool| {
            list(own, limits)
                .and_then(|l| l.memory)
                .or_else(|| list(defaults, limits).and_then(|l| l.memory))
        };
        let (req_cpu, lim_cpu) = (pick_cpu(false), pick_cpu(true));
        let (req_mem, lim_mem) = (pick_memory(false), pick_memory(true));
        for (request, limit, what, measure) in [
            (
                req_cpu.as_ref().map(|c| (c.value.0, c.span)),
                lim_cpu.as_ref().map(|c| (c.value.0, c.span)),
                "CPU",
                Measure::Cpu,
            ),
            (
                req_mem.as_ref().map(|c| (c.value.0, c.span)),
                lim_mem.as_ref().map(|c| (c.value.0, c.span)),
                "memory",
                Measure::Bytes,
            ),
        ] {
            if let (Some((request, _)), Some((limit, span))) = (request, limit)
                && limit < request
            {
                // A limit carrying the `blueprint:` span is the recipe's
                // default, which the user may not know they can override.
                let from_blueprint = spec
                    .rare
                    .blueprint
                    .as_ref()
                    .filter(|b| b.span == span)
                    .map(|b| b.value.0.clone());
                let key = if what == "CPU" { "cpu" } else { "memory" };
                let (message, help) = match from_blueprint {
                    Some(blueprint) => (
                        format!(
                            "the {what} limit {} (the `{blueprint}` blueprint's default) is below the request {}",
                            limit.display(measure),
                            request.display(measure)
                        ),
                        format!(
                            "set `resources.limits.{key}` to at least {} to override the blueprint's limit, or lower the request",
                            request.display(measure)
                        ),
                    ),
                    None => (
                        format!(
                            "the {what} limit {} is below the request {}",
                            limit.display(measure),
                            request.display(measure)
                        ),
                        "raise the limit to at least the request, or lower the request".into(),
                    ),
                };
                self.error(
                    "limit-below-request",
                    message,
                    span,
                    "below the request",
                    help,
                );
            }
        }
        let request = |req: Option<Quantity>, lim: Option<Quantity>, fallback: Quantity| {
            req.or(lim).unwrap_or(fallback)
        };
        let requests = Amounts {
            cpu: request(
                req_cpu.as_ref().map(|c| c.value.0),
                lim_cpu.as_ref().map(|c| c.value.0),
                DEFAULT_CPU_REQUEST,
            ),
            memory: request(
                req_mem.as_ref().map(|c| c.value.0),
                lim_mem.as_ref().map(|c| c.value.0),
                DEFAULT_MEMORY_REQUEST,
            ),
        };
        let limits = Amounts {
            cpu: lim_cpu.map_or(requests.cpu.times(2), |c| c.value.0),
            memory: lim_mem.map_or(requests.memory.times(2), |c| c.value.0),
        };
        let scale = self.scale();
        Resources {
            requests: Amounts {
                cpu: requests.cpu.scaled(scale),
                memory: requests.memory.scaled(scale),
            },
            limits: (!unbounded_limits(spec, defaults)).then(|| Amounts {
                cpu: limits.cpu.scaled(scale),
                memory: limits.memory.scaled(scale),
            }),
        }
    }

    fn scale(&mut self) -> f64 {
        match self.environment.and_then(|e| e.scale.as_ref()) {
            None => 1.0,
            Some(scale) if scale.value > 0.0 && scale.value <= 100.0 => scale.value,
            Some(scale) => {
                let diagnostic = Diagnostic::error("invalid-scale", format!("scale {} is out of range", scale.value))
                    .at(&self.doc.file, scale.span, "out of range")
                    .help("a scale multiplies every request and limit: use a number above 0 and at most 100, e.g. `0.25`");
                if !self.errors.contains(&diagnostic) {
                    self.errors.push(diagnostic);
                }
                1.0
            }
        }
    }

    /// The requests and limits of a container beside the service's own (an
    /// init step, a sidecar): its own, else `default`, a helper's size
    /// rather than the service's work; never scaled by the environment.
    pub(super) fn helper_resources(
        &mut self,
        own: Option<&Spanned<ResourcesSpec>>,
        default: HelperSize,
    ) -> Resources {
        let requests = own.and_then(|r| r.value.requests.as_ref());
        let unbounded = own
            .and_then(|r| r.value.limits.as_ref())
            .is_some_and(|l| l.value == OrNone::None);
        let limits = own.and_then(|r| r.value.limits.as_ref()).and_then(|l| {
            l.value.value().map(|list| Spanned {
                value: list.clone(),
                span: l.span,
            })
        });
        let limits = limits.as_ref();
        let mut pick = |request: Option<(Quantity, Span)>,
                        limit: Option<(Quantity, Span)>,
                        (default_request, default_limit): (Quantity, Quantity),
                        what: &str,
                        measure: Measure| {
            if let (Some((r, _)), Some((l, span))) = (request, limit)
                && l < r
            {
                self.error(
                    "limit-below-request",
                    format!(
                        "the {what} limit {} is below the request {}",
                        l.display(measure),
                        r.display(measure)
                    ),
                    span,
                    "below the request",
                    "raise the limit to at least the request, or lower the request".into(),
                );
            }
            let request = request.or(limit).map_or(default_request, |(q, _)| q);
            let limit = limit.map_or(default_limit.max(request), |(q, _)| q);
            (request, limit)
        };
        let spanned =
            |q: Option<&Spanned<crate::spec::amount::Cpu>>| q.map(|c| (c.value.0, c.span));
        let (cpu_request, cpu_limit) = pick(
            spanned(requests.and_then(|r| r.value.cpu.as_ref())),
            spanned(limits.and_then(|l| l.value.cpu.as_ref())),
            default.cpu,
            "CPU",
            Measure::Cpu,
        );
        let bytes =
            |q: Option<&Spanned<crate::spec::amount::Bytes>>| q.map(|b| (b.value.0, b.span));
        let (memory_request, memory_limit) = pick(
            bytes(requests.and_then(|r| r.value.memory.as_ref())),
            bytes(limits.and_then(|l| l.value.memory.as_ref())),
            default.memory,
            "memory",
            Measure::Bytes,
        );
        Resources {
            requests: Amounts {
                cpu: cpu_request,
                memory: memory_request,
            },
            limits: (!unbounded).then_some(Amounts {
                cpu: cpu_limit,
                memory: memory_limit,
            }),
        }
    }

    /// A namespace's LimitRange values, checked in Kubernetes' order for each
    /// resource: `min` ≤ `defaultRequest` ≤ `default` ≤ `max`, where an
    /// absent default is the built-in one (the API server refuses the
    /// LimitRange otherwise).
    pub(super) fn container_limits(
        &mut self,
        spec: &ContainerLimitsSpec,
    ) -> Option<ContainerLimits> {
        let amounts = |list: &Option<Spanned<ResourceList>>| Bounds {
            cpu: list
                .as_ref()
                .and_then(|l| l.value.cpu.as_ref())
                .map(|c| c.value.0),
            memory: list
                .as_ref()
                .and_then(|l| l.value.memory.as_ref())
                .map(|m| m.value.0),
        };
        let limits = ContainerLimits {
            default_limit: amounts(&spec.default_limit),
            default_request: amounts(&spec.default_request),
            max: amounts(&spec.max),
            min: amounts(&spec.min),
        };
        let mut valid = true;
        for measure in [Measure::Cpu, Measure::Bytes] {
            let (resource, builtin) = match measure {
                Measure::Bytes => ("memory", DEFAULT_MEMORY_REQUEST),
                _ => ("cpu", DEFAULT_CPU_REQUEST),
            };
            let given = |list: &Option<Spanned<ResourceList>>| {
                let list = &list.as_ref()?.value;
                match measure {
                    Measure::Bytes => list.memory.as_ref().map(|m| (m.value.0, m.span)),
                    _ => list.cpu.as_ref().map(|c| (c.value.0, c.span)),
                }
            };
            // (key, value, where the spec sets it)
            let chain = [
                ("min", given(&spec.min).map(|(q, s)| (q, Some(s)))),
                (
                    "defaultRequest",
                    Some(
                        given(&spec.default_request).map_or((builtin, None), |(q, s)| (q, Some(s))),
                    ),
                ),
                (
                    "default",
                    Some(
                        given(&spec.default_limit)
                            .map_or((builtin.times(2), None), |(q, s)| (q, Some(s))),
                    ),
                ),
                ("max", given(&spec.max).map(|(q, s)| (q, Some(s)))),
            ];
            let present: Vec<(&str, Quantity, Option<Span>)> = chain
                .iter()
                .filter_map(|(key, v)| v.map(|(q, s)| (*key, q, s)))
                .collect();
            let broken = present.iter().enumerate().find_map(|(i, low)| {
                present[i + 1..]
                    .iter()
                    .find(|high| high.1 < low.1)
                    .map(|high| (*low, *high))
            });
            let Some((low, high)) = broken else {
                continue;
            };
            let describe = |(key, q, span): (&str, Quantity, Option<Span>)| {
                let shown = q.to_kubernetes(measure);
                if span.is_some() {
                    format!("`{key}` {shown}")
                } else {
                    format!("the built-in `{key}` {shown}")
                }
            };
            let Some(span) = high.2.or(low.2) else {
                continue;
            };
            let help = if low.2.is_none() || high.2.is_none() {
                format!(
                    "set `{}` too, or keep each {resource} value in the order min ≤ defaultRequest ≤ default ≤ max",
                    if low.2.is_none() { low.0 } else { high.0 }
                )
            } else {
                format!(
                    "keep each {resource} value in the order min ≤ defaultRequest ≤ default ≤ max"
                )
            };
            self.error(
                "invalid-limits",
                format!(
                    "the {resource} limits are out of order: {} is below {}",
                    describe(high),
                    describe(low)
                ),
                span,
                "out of order",
                help,
            );
            valid = false;
        }
        valid.then_some(limits)
    }
}

impl Resolver<'_> {
    /// Refuses `limits: none` where the namespace would not run the pods
    /// that way: a budget limiting the namespace's limits makes the API
    /// server refuse pods without them, and a LimitRange's default limits
    /// would be given to them anyway.
    pub(super) fn check_unbounded(
        &mut self,
        services: &[Service],
        specs: &[super::service::Filled<'_>],
        namespaces: &[Namespace],
    ) {
        for (service, spec) in services.iter().zip(specs) {
            if service.resources.limits.is_some() {
                continue;
            }
            let Some(namespace) = namespaces.iter().find(|n| n.name == service.namespace) else {
                continue;
            };
            let budgeted = namespace
                .budget
                .is_some_and(|b| b.limits_cpu.is_some() || b.limits_memory.is_some());
            let defaulted = namespace
                .limits
                .is_some_and(|l| l.default_limit.cpu.is_some() || l.default_limit.memory.is_some());
            if !budgeted && !defaulted {
                continue;
            }
            let written = spec
                .resources
                .as_ref()
                .and_then(|r| r.value.limits.as_ref())
                .or_else(|| {
                    self.spec
                        .defaults
                        .as_ref()
                        .and_then(|d| d.value.resources.as_ref())
                        .and_then(|r| r.value.limits.as_ref())
                });
            let span = written.map_or(service.span, |l| l.span);
            let (why, help) = if budgeted {
                (
                    "its budget limits the namespace's limits, so the API server refuses pods without them",
                    "give the service limits, or remove `limits` from the namespace's `budget`",
                )
            } else {
                (
                    "its LimitRange gives every container without limits its default limits",
                    "give the service the limits it should have, or remove the namespace's default `limits`",
                )
            };
            self.error(
                "conflicting-limits",
                format!(
                    "`{}` runs without limits in the namespace `{}`: {why}",
                    service.name, namespace.name
                ),
                span,
                "no limits",
                help.into(),
            );
        }
    }
}
