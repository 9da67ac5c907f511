//! How a service's pods run, as the model holds it: probes, security
//! context, spreading, termination, autoscaling and metrics.

use std::sync::Arc;

use super::Profile;
use crate::source::Span;

/// How a service runs: the production practices rendered for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Runtime {
    /// Its probes; `None` when switched off or impossible (no port).
    pub probes: Option<Probes>,
    /// Its security context.
    pub security: Security,
    /// Spread replicas across nodes.
    pub spread: bool,
    /// A PodDisruptionBudget when replicated.
    pub disruption_budget: bool,
    /// Seconds given to stop gracefully.
    pub termination_grace_seconds: u64,
    /// Mount the service account token.
    pub service_account_token: bool,
    /// Its HorizontalPodAutoscaler; boxed, as most services have none
    /// (every service's runtime is held as long as the platform).
    pub autoscale: Option<Box<Autoscale>>,
    /// Where Prometheus scrapes it.
    pub metrics: Option<Metrics>,
}

/// A service's startup, readiness and liveness probes; `None` where left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probes {
    /// Holds the other two back until the service has started.
    pub startup: Option<Probe>,
    /// Takes the pod out of its Services while failing.
    pub readiness: Option<Probe>,
    /// Restarts the container while failing.
    pub liveness: Option<Probe>,
}

impl Probes {
    /// All three probes of `check` with Strata's default timings, the
    /// service given `startup_seconds` to start.
    pub fn defaulted(check: ProbeCheck, startup_seconds: u32) -> Probes {
        let check = Arc::new(check);
        let probe = |period: u64, failure_threshold: u32| Probe {
            check: Arc::clone(&check),
            initial_delay_seconds: None,
            period_seconds: period,
            timeout_seconds: PROBE_TIMEOUT_SECONDS,
            failure_threshold,
            success_threshold: None,
        };
        Probes {
            startup: Some(probe(
                STARTUP_PERIOD_SECONDS,
                u32::try_from(u64::from(startup_seconds).div_ceil(STARTUP_PERIOD_SECONDS))
                    .unwrap_or(u32::MAX)
                    .max(1),
            )),
            readiness: Some(probe(READINESS_PERIOD_SECONDS, PROBE_FAILURES)),
            liveness: Some(probe(LIVENESS_PERIOD_SECONDS, PROBE_FAILURES)),
        }
    }

    /// Makes probes that check the same thing share one check, as
    /// [`Probes::defaulted`] makes them: most services' three probes check
    /// the same port.
    #[must_use]
    pub fn sharing_checks(self) -> Probes {
        let mut probes = [self.startup, self.readiness, self.liveness];
        for later in 1..probes.len() {
            let (earlier, rest) = probes.split_at_mut(later);
            if let Some(probe) = &mut rest[0]
                && let Some(same) = earlier.iter().flatten().find(|p| p.check == probe.check)
            {
                probe.check = Arc::clone(&same.check);
            }
        }
        let [startup, readiness, liveness] = probes;
        Probes {
            startup,
            readiness,
            liveness,
        }
    }
}

/// Seconds between startup checks unless the spec says otherwise.
pub const STARTUP_PERIOD_SECONDS: u64 = 5;
/// Seconds between readiness checks unless the spec says otherwise.
pub const READINESS_PERIOD_SECONDS: u64 = 10;
/// Seconds between liveness checks unless the spec says otherwise: less
/// often than readiness, so a slow moment fails readiness first.
pub const LIVENESS_PERIOD_SECONDS: u64 = 20;
/// Seconds a check may take unless the spec says otherwise.
pub const PROBE_TIMEOUT_SECONDS: u64 = 3;
/// Failed checks in a row that fail a readiness or liveness probe unless
/// the spec says otherwise.
pub const PROBE_FAILURES: u32 = 3;

/// One probe: what it checks and how often.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    /// What it checks; shared with the service's other probes that check
    /// the same.
    pub check: Arc<ProbeCheck>,
    /// Seconds before the first check, when not at once.
    pub initial_delay_seconds: Option<u64>,
    /// Seconds between checks.
    pub period_seconds: u64,
    /// Seconds a check may take.
    pub timeout_seconds: u64,
    /// Failed checks in a row that fail it.
    pub failure_threshold: u32,
    /// Passed checks in a row that pass it again, when not 1.
    pub success_threshold: Option<u32>,
}

/// What a probe checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeCheck {
    /// An HTTP GET of `path` on the named port.
    Http {
        /// The port's name.
        port: String,
        /// The path.
        path: String,
        /// Headers sent with each request.
        headers: Vec<(String, String)>,
    },
    /// The gRPC health protocol on a port, by number (Kubernetes takes no
    /// name there).
    Grpc {
        /// The port's number.
        port: u16,
    },
    /// A TCP connection to the named port.
    Tcp {
        /// The port's name.
        port: String,
    },
    /// A command run in the container.
    Exec {
        /// The command and its arguments.
        command: Vec<String>,
    },
}

/// A security context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Security {
    /// The Pod Security Standards profile: the one written, else the least
    /// restrictive level its settings need.
    pub profile: Profile,
    /// User id; `None` for the image's own `USER`.
    pub run_as_user: Option<u32>,
    /// Group id; `None` for the image's.
    pub run_as_group: Option<u32>,
    /// Volume group; `None` to leave volumes' ownership alone.
    pub fs_group: Option<u32>,
    /// Read-only root filesystem.
    pub read_only_root: bool,
    /// Capabilities added after dropping all.
    pub capabilities: Vec<String>,
    /// Whether the process may gain privileges.
    pub privilege_escalation: bool,
    /// Where `runAsUser: image` is written, when it is.
    pub image_user: Option<Span>,
    /// The settings that need a level below restricted, each with where it
    /// is written: what a namespace's enforced level is checked against.
    pub relaxations: Vec<Relaxation>,
}

impl Security {
    /// Whether the pods must run as a non-root user: under restricted, or
    /// with a user id that is not root. An image's own user under a
    /// lower level may be root.
    pub fn non_root(&self) -> bool {
        match self.run_as_user {
            Some(id) => id != 0,
            None => self.profile == Profile::Restricted,
        }
    }
}

/// A security setting that needs a Pod Security level below restricted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relaxation {
    /// The least restrictive level it needs.
    pub needs: Profile,
    /// The setting, as the spec writes it (`runAsUser: 0`).
    pub setting: String,
    /// Where it is written.
    pub span: Span,
}

/// A HorizontalPodAutoscaler's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Autoscale {
    /// Fewest replicas.
    pub min: u32,
    /// Most replicas.
    pub max: u32,
    /// Target CPU utilisation, percent.
    pub cpu: Option<u32>,
    /// Target memory utilisation, percent.
    pub memory: Option<u32>,
    /// How fast replicas are added, when the spec says.
    pub scale_up: Option<Scaling>,
    /// How fast replicas are removed, when the spec says.
    pub scale_down: Option<Scaling>,
}

/// An autoscaler's rules for one direction (an HPA's `behavior`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scaling {
    /// At most this many pods per period.
    pub pods: Option<u32>,
    /// At most this percentage of the current replicas per period.
    pub percent: Option<u32>,
    /// The period, seconds.
    pub every_seconds: u64,
    /// The stabilization window, seconds.
    pub wait_seconds: Option<u64>,
}

/// A metrics endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metrics {
    /// The port's name.
    pub port: String,
    /// The port's number.
    pub number: u16,
    /// The HTTP path.
    pub path: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_probe_shares_its_check_rather_than_holding_it() {
        // Three per service, two platforms at once in `check`: 120 bytes
        // each before the check was shared.
        assert!(size_of::<Probe>() <= 56, "{}", size_of::<Probe>());
    }

    #[test]
    fn probes_share_only_equal_checks() {
        let tcp = |port: &str| ProbeCheck::Tcp { port: port.into() };
        let probe = |check| Probe {
            check: Arc::new(check),
            initial_delay_seconds: None,
            period_seconds: 10,
            timeout_seconds: 1,
            failure_threshold: 3,
            success_threshold: None,
        };
        let probes = Probes {
            startup: Some(probe(tcp("http"))),
            readiness: Some(probe(tcp("admin"))),
            liveness: Some(probe(tcp("http"))),
        }
        .sharing_checks();
        let [Some(startup), Some(readiness), Some(liveness)] =
            [&probes.startup, &probes.readiness, &probes.liveness]
        else {
            unreachable!()
        };
        assert!(Arc::ptr_eq(&startup.check, &liveness.check));
        assert!(!Arc::ptr_eq(&startup.check, &readiness.check));
        assert_eq!(*readiness.check, tcp("admin"));
    }
}
