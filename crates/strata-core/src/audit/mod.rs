//! `strata audit`: the architecture review of a platform, as the Nova team
//! did by hand — single points of failure, shared databases, calls without
//! timeouts, long start-up chains, capacity, exposure, secrets, stores
//! anyone may log in to, and production defaults switched off. Each finding
//! points at the spec.
//!
//! Each check is a [`Check`], its documentation beside the function that
//! sees its problems, in a module of its topic; [`CHECKS`] lists them all.

mod availability;
mod calls;
mod capacity;
mod databases;
mod security;
mod system;

use crate::finding::{CheckInfo, Finding};
use crate::model::{Platform, Service, ServiceId};
use crate::source::Span;

/// A check: its documentation and the function that sees its problems.
pub struct Check {
    /// What it is.
    pub info: CheckInfo,
    /// The problems it sees in a platform.
    pub run: fn(&Platform, &Options) -> Vec<Problem>,
}

/// One problem a check sees, before [`audit`] makes it a [`Finding`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The service it is about; `None` for the platform as a whole.
    pub service: Option<ServiceId>,
    /// What it is about, as reported (`service api`, `platform`).
    pub object: String,
    /// What is wrong, specifically.
    pub message: String,
    /// Where the spec says it.
    pub span: Span,
}

impl Problem {
    /// A problem of service `id`, at its place in the spec.
    fn of(id: ServiceId, service: &Service, message: String) -> Self {
        Problem {
            service: Some(id),
            object: format!("service {}", service.name),
            message,
            span: service.span,
        }
    }

    /// A problem of service `id` at `span`, a place inside it.
    fn at(id: ServiceId, service: &Service, message: String, span: Span) -> Self {
        Problem {
            span,
            ..Problem::of(id, service, message)
        }
    }

    /// A problem of the platform as a whole: `object` says what it is
    /// about, `span` where to look.
    fn platform(object: String, message: String, span: Span) -> Self {
        Problem {
            service: None,
            object,
            message,
            span,
        }
    }
}

/// One problem per message `messages` gives for each service.
fn per_service<M: IntoIterator<Item = String>>(
    platform: &Platform,
    messages: impl Fn(ServiceId, &Service) -> M,
) -> Vec<Problem> {
    platform
        .services
        .iter()
        .enumerate()
        .flat_map(|(i, service)| {
            messages(ServiceId(i), service)
                .into_iter()
                .map(move |message| Problem::of(ServiceId(i), service, message))
        })
        .collect()
}

/// The names of the services that call service `id`, in edge order.
fn callers(platform: &Platform, id: ServiceId) -> Vec<&str> {
    platform
        .edges
        .iter()
        .filter(|e| e.to() == id)
        .map(|e| platform.services[e.from().0].name.as_str())
        .collect()
}

/// Every audit check, in report order: by priority, and within one
/// priority in the order a service's findings are listed.
pub static CHECKS: &[Check] = &[
    availability::REDIS_SINGLE_POINT,
    databases::SHARED_DATABASE,
    capacity::OVER_CAPACITY,
    security::SECRET_IN_ENV,
    security::POD_SECURITY,
    availability::POSTGRES_WITHOUT_HA,
    availability::SINGLE_REPLICA_STORE,
    availability::EPHEMERAL_STORE,
    availability::STORE_WITHOUT_BACKUP,
    calls::UNDECLARED_CALL,
    calls::CALL_WITHOUT_TIMEOUT,
    capacity::GPU_WITHOUT_POOL,
    security::ROUTE_WITHOUT_TLS,
    security::MUTABLE_IMAGE,
    security::RELAXED_SECURITY,
    calls::CALL_WITHOUT_BREAKER,
    calls::UNREACHABLE_SERVICE,
    calls::LONG_CRITICAL_PATH,
    availability::PROBES_OFF,
    security::STORE_WITHOUT_AUTH,
    security::API_TOKEN,
    availability::AVAILABILITY_OFF,
];

/// Every check's documentation, in report order.
pub fn check_infos() -> Vec<&'static CheckInfo> {
    CHECKS.iter().map(|c| &c.info).collect()
}

/// Audit settings.
#[derive(Debug, Clone)]
pub struct Options {
    /// Longest acceptable critical path, in services.
    pub max_critical_path: usize,
    /// Check ids switched off.
    pub disabled: Vec<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            max_critical_path: 6,
            disabled: Vec::new(),
        }
    }
}

/// Reviews `platform` and returns its findings, most urgent first.
///
/// ```
/// use strata_core::{audit, model, source::SourceFile, spec};
/// let file = SourceFile::new("p.yaml", "platform: demo\ntiers:\n  - name: data\n    services:\n      redis: { image: redis:7.4.1, ports: { redis: 6379 }, storage: 1Gi }\n");
/// let platform = strata_core::resolve(&spec::parse(&file).unwrap(), None).unwrap();
/// let findings = audit::audit(&platform, &audit::Options::default());
/// assert_eq!(findings[0].check.id, "redis-single-point");
/// assert_eq!(findings[0].location().unwrap(), "p.yaml:5:7");
/// ```
pub fn audit(platform: &Platform, options: &Options) -> Vec<Finding> {
    let mut found: Vec<(&'static Check, Problem)> = Vec::new();
    for check in CHECKS {
        if options.disabled.iter().any(|d| d == check.info.id) {
            continue;
        }
        found.extend(
            (check.run)(platform, options)
                .into_iter()
                .map(|p| (check, p)),
        );
    }
    // A report reads service by service in spec order, the platform's own
    // findings last; the sort is stable, so a service's findings of one
    // priority keep the table's order.
    found.sort_by_key(|(check, problem)| {
        (
            check.info.priority,
            problem.service.map_or(usize::MAX, |id| id.0),
        )
    });
    found
        .into_iter()
        .map(|(check, problem)| {
            let mut finding = Finding::new(&check.info, problem.object, problem.message);
            finding.diagnostic = finding.diagnostic.at(&platform.file, problem.span, "here");
            finding
        })
        .collect()
}

#[cfg(test)]
mod tests;
