//! A service's startup, readiness and liveness probes.
//!
//! Without a declared path, probes check the port itself: a TCP connection,
//! or the gRPC health protocol on a gRPC port. Guessing an HTTP path would
//! restart healthy pods of every app that serves its health elsewhere
//! (Spring Boot answers on `/actuator/health`, many on `/health`). A
//! declared path is used as given. Each probe may then be tuned, or left
//! out, on its own (`startup`, `readiness`, `liveness`).

use std::sync::Arc;

use super::Resolver;
use crate::model::{
    LIVENESS_PERIOD_SECONDS, PROBE_FAILURES, PROBE_TIMEOUT_SECONDS, Port, Probe, ProbeCheck,
    Probes, Protocol, READINESS_PERIOD_SECONDS, STARTUP_PERIOD_SECONDS, WorkloadKind,
};
use crate::source::Span;
use crate::spec::decode::{Map, Spanned};
use crate::spec::names::{HeaderName, PortName};
use crate::spec::runtime::{
    Duration, ProbeKind, ProbeSettings, ProbeSpec, ProbeSwitch, ProbesSpec,
};

/// Seconds a service may take to start unless the spec says otherwise.
pub const DEFAULT_STARTUP_SECONDS: u32 = 300;

/// The three probes, each with its default period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Startup,
    Readiness,
    Liveness,
}

impl Role {
    fn key(self) -> &'static str {
        match self {
            Role::Startup => "startup",
            Role::Readiness => "readiness",
            Role::Liveness => "liveness",
        }
    }

    fn default_period(self) -> u64 {
        match self {
            Role::Startup => STARTUP_PERIOD_SECONDS,
            Role::Readiness => READINESS_PERIOD_SECONDS,
            Role::Liveness => LIVENESS_PERIOD_SECONDS,
        }
    }
}

/// The keys one probe is made of, from its own settings over the
/// service's.
#[derive(Default)]
struct Layer<'s> {
    kind: Option<&'s Spanned<ProbeKind>>,
    port: Option<&'s Spanned<PortName>>,
    path: Option<&'s Spanned<String>>,
    headers: Option<&'s Spanned<Map<HeaderName, String>>>,
    command: Option<&'s Spanned<Vec<Spanned<String>>>>,
    initial_delay: Option<&'s Spanned<Duration>>,
    period: Option<&'s Spanned<Duration>>,
    timeout: Option<&'s Spanned<Duration>>,
    failure_threshold: Option<&'s Spanned<u32>>,
    success_threshold: Option<&'s Spanned<u32>>,
}

impl<'s> Layer<'s> {
    /// The service's settings as they apply to `role` (readiness GETs
    /// `readinessPath` when given).
    fn shared(settings: Option<&'s ProbeSettings>, role: Role) -> Layer<'s> {
        let Some(settings) = settings else {
            return Layer::default();
        };
        Layer {
            kind: settings.kind.as_ref(),
            port: settings.port.as_ref(),
            path: match role {
                Role::Readiness => settings.readiness_path.as_ref().or(settings.path.as_ref()),
                Role::Startup | Role::Liveness => settings.path.as_ref(),
            },
            headers: settings.headers.as_ref(),
            command: settings.command.as_ref(),
            initial_delay: settings.initial_delay.as_ref(),
            period: settings.period.as_ref(),
            timeout: settings.timeout.as_ref(),
            failure_threshold: settings.failure_threshold.as_ref(),
            success_threshold: settings.success_threshold.as_ref(),
        }
    }

    /// A probe's own settings over `self`: a probe that says what it checks
    /// (`kind`, `port`, `path`, `headers` or `command`) says all of it, the
    /// rest of what it checks taking Strata's defaults; timings merge key by
    /// key.
    fn under(self, own: &'s ProbeSpec) -> Layer<'s> {
        let own_check = own.kind.is_some()
            || own.port.is_some()
            || own.path.is_some()
            || own.headers.is_some()
            || own.command.is_some();
        let check = if own_check {
            Layer {
                kind: own.kind.as_ref(),
                port: own.port.as_ref(),
                path: own.path.as_ref(),
                headers: own.headers.as_ref(),
                command: own.command.as_ref(),
                ..Layer::default()
            }
        } else {
            Layer { ..self }
        };
        Layer {
            initial_delay: own.initial_delay.as_ref().or(self.initial_delay),
            period: own.period.as_ref().or(self.period),
            timeout: own.timeout.as_ref().or(self.timeout),
            failure_threshold: own.failure_threshold.as_ref().or(self.failure_threshold),
            success_threshold: own.success_threshold.as_ref().or(self.success_threshold),
            ..check
        }
    }
}

impl Resolver<'_> {
    /// The probes of a service of `kind` with `ports`, from its own
    /// `probes`, else `defaults.probes`; `None` when switched off, or when
    /// there is nothing to probe (no port, and no `exec` command).
    pub(super) fn probes(
        &mut self,
        name: &str,
        own: Option<&Spanned<ProbesSpec>>,
        defaults: Option<&Spanned<ProbesSpec>>,
        kind: WorkloadKind,
        ports: &[Port],
    ) -> Option<Probes> {
        let spec = own.or(defaults);
        let settings = match spec.map(|s| &s.value) {
            Some(ProbesSpec::Enabled(false)) => return None,
            Some(ProbesSpec::Settings(settings)) => Some(&**settings),
            Some(ProbesSpec::Enabled(true)) | None => None,
        };
        if !kind.is_long_running() {
            // `defaults.probes` are for the services that are probed.
            if let Some(spec) = own.filter(|_| settings.is_some()) {
                self.error(
                    "unsupported-for-kind",
                    format!("`{name}` is a {}, whose pods are not probed", kind.as_str()),
                    spec.span,
                    "not probed",
                    "remove `probes`: a job's pods run to completion, and nothing routes to them"
                        .into(),
                );
            }
            return None;
        }
        let startup_seconds = settings
            .and_then(|s| s.startup_seconds.as_ref())
            .map_or(DEFAULT_STARTUP_SECONDS, |s| s.value.max(10));
        let explicit = settings.is_some();
        let reported = self.errors.len();
        let mut probe = |role: Role, switch: Option<&Spanned<ProbeSwitch>>| {
            let layer = Layer::shared(settings, role);
            let layer = match switch.map(|s| &s.value) {
                Some(ProbeSwitch::Enabled(false)) => return None,
                Some(ProbeSwitch::Settings(own)) => layer.under(own),
                Some(ProbeSwitch::Enabled(true)) | None => layer,
            };
            self.probe(name, role, &layer, ports, startup_seconds, explicit)
        };
        let probes = Probes {
            startup: probe(Role::Startup, settings.and_then(|s| s.startup.as_ref())),
            readiness: probe(Role::Readiness, settings.and_then(|s| s.readiness.as_ref())),
            liveness: probe(Role::Liveness, settings.and_then(|s| s.liveness.as_ref())),
        };
        // A key all three probes share is wrong once, not once per probe.
        let mut seen = Vec::new();
        let mut index = reported;
        while index < self.errors.len() {
            let key = (
                self.errors[index].code,
                self.errors[index].labels.first().map(|l| l.span),
            );
            if seen.contains(&key) {
                self.errors.remove(index);
            } else {
                seen.push(key);
                index += 1;
            }
        }
        (probes.startup.is_some() || probes.readiness.is_some() || probes.liveness.is_some())
            .then(|| probes.sharing_checks())
    }

    /// One probe from its merged keys, every problem reported at its key.
    fn probe(
        &mut self,
        name: &str,
        role: Role,
        layer: &Layer<'_>,
        ports: &[Port],
        startup_seconds: u32,
        explicit: bool,
    ) -> Option<Probe> {
        let kind = match layer.kind.map(|k| k.value) {
            Some(kind) => kind,
            None if layer.path.is_some() || layer.headers.is_some() => ProbeKind::Http,
            None if layer.command.is_some() => ProbeKind::Exec,
            // A service without a port is not probed unless its spec says how.
            None if !explicit && !ports.iter().any(|p| p.protocol != Protocol::Udp) => {
                return None;
            }
            None => {
                let port = self.probe_port(name, layer.port, ports)?;
                if port.protocol == Protocol::Grpc {
                    ProbeKind::Grpc
                } else {
                    ProbeKind::Tcp
                }
            }
        };
        let check = self.check(name, role, kind, layer, ports)?;
        let seconds = |d: Option<&Spanned<Duration>>| d.map(|d| (d.value.0, d.span));
        for (key, value) in [
            ("period", seconds(layer.period)),
            ("timeout", seconds(layer.timeout)),
        ] {
            if let Some((0, span)) = value {
                self.error(
                    "invalid-duration",
                    format!("a probe's `{key}` of zero"),
                    span,
                    "zero",
                    "probes count in whole seconds: write at least `1s`".into(),
                );
            }
        }
        let period_seconds = layer
            .period
            .map_or(role.default_period(), |p| p.value.0.max(1));
        let failure_threshold = match layer.failure_threshold {
            Some(f) => f.value.max(1),
            None if role == Role::Startup => {
                u32::try_from(u64::from(startup_seconds).div_ceil(period_seconds))
                    .unwrap_or(u32::MAX)
                    .max(1)
            }
            None => PROBE_FAILURES,
        };
        let success_threshold = layer.success_threshold.map(|s| s.value);
        if let Some(success) = layer.success_threshold
            && role != Role::Readiness
            && success.value != 1
        {
            self.error(
                "invalid-probe",
                format!(
                    "the {} probe of `{name}` passes after one success only",
                    role.key()
                ),
                success.span,
                "must be 1",
                "Kubernetes allows a `successThreshold` other than 1 on readiness alone".into(),
            );
        }
        Some(Probe {
            check: Arc::new(check),
            initial_delay_seconds: layer.initial_delay.map(|d| d.value.0),
            period_seconds,
            timeout_seconds: layer
                .timeout
                .map_or(PROBE_TIMEOUT_SECONDS, |t| t.value.0.max(1)),
            failure_threshold,
            success_threshold: success_threshold.filter(|s| *s != 1),
        })
    }

    /// What a probe of `kind` checks; keys its kind has no use for are
    /// errors where they are written.
    fn check(
        &mut self,
        name: &str,
        role: Role,
        kind: ProbeKind,
        layer: &Layer<'_>,
        ports: &[Port],
    ) -> Option<ProbeCheck> {
        let misplaced = |key: &str, span: Span, uses: &str| {
            (
                format!("a `{}` probe takes no `{key}`", kind.as_str()),
                span,
                format!("remove `{key}`, or use a kind that takes it: {uses}"),
            )
        };
        let mut wrong = Vec::new();
        if kind != ProbeKind::Http {
            if let Some(path) = layer.path {
                wrong.push(misplaced("path", path.span, "`kind: http`"));
            }
            if let Some(headers) = layer.headers {
                wrong.push(misplaced("headers", headers.span, "`kind: http`"));
            }
        }
        if kind != ProbeKind::Exec
            && let Some(command) = layer.command
        {
            wrong.push(misplaced("command", command.span, "`kind: exec`"));
        }
        if kind == ProbeKind::Exec
            && let Some(port) = layer.port
        {
            wrong.push(misplaced("port", port.span, "`http`, `grpc` or `tcp`"));
        }
        let failed = !wrong.is_empty();
        for (message, span, help) in wrong {
            self.error("conflicting-keys", message, span, "not for this kind", help);
        }
        if failed {
            return None;
        }
        Some(match kind {
            ProbeKind::Http => {
                let Some(path) = layer.path else {
                    let span = layer.kind.map_or(Span::default(), |k| k.span);
                    self.error(
                        "missing-option",
                        format!("the {} probe of `{name}` GETs no path", role.key()),
                        span,
                        "`kind: http` needs a path",
                        "add `path: /health` (the path the app answers), or probe the port with `kind: tcp`".into(),
                    );
                    return None;
                };
                if !path.value.starts_with('/') {
                    self.error(
                        "invalid-path",
                        format!("`{}` is not an HTTP path", path.value),
                        path.span,
                        "no leading `/`",
                        format!("write `/{}`", path.value),
                    );
                }
                ProbeCheck::Http {
                    port: self.probe_port(name, layer.port, ports)?.name,
                    path: path.value.clone(),
                    headers: layer
                        .headers
                        .iter()
                        .flat_map(|h| h.value.iter())
                        .map(|(k, v)| (k.value.0.clone(), v.value.clone()))
                        .collect(),
                }
            }
            ProbeKind::Grpc => ProbeCheck::Grpc {
                port: self.probe_port(name, layer.port, ports)?.number,
            },
            ProbeKind::Tcp => ProbeCheck::Tcp {
                port: self.probe_port(name, layer.port, ports)?.name,
            },
            ProbeKind::Exec => {
                let command: Vec<String> = layer
                    .command
                    .iter()
                    .flat_map(|c| &c.value)
                    .map(|c| c.value.clone())
                    .collect();
                if command.is_empty() {
                    let span = layer
                        .command
                        .map(|c| c.span)
                        .or(layer.kind.map(|k| k.span))
                        .unwrap_or_default();
                    self.error(
                        "missing-option",
                        format!("the {} probe of `{name}` runs no command", role.key()),
                        span,
                        "`kind: exec` needs a command",
                        "add `command: [sh, -c, \"pg_isready -U app\"]`".into(),
                    );
                    return None;
                }
                ProbeCheck::Exec { command }
            }
        })
    }

    /// The port a probe checks: the one named, else the first TCP one; a
    /// UDP port cannot be probed.
    fn probe_port(
        &mut self,
        name: &str,
        named: Option<&Spanned<PortName>>,
        ports: &[Port],
    ) -> Option<Port> {
        let port = if let Some(port) = named {
            self.port_named(port, ports, "probe")?
        } else {
            let Some(port) = ports.iter().find(|p| p.protocol != Protocol::Udp) else {
                self.error(
                    "unprobeable-port",
                    format!("`{name}` has no TCP port to probe"),
                    Span::default(),
                    "no port",
                    "give the service a port, or probe it with `kind: exec` and a `command`".into(),
                );
                return None;
            };
            port.clone()
        };
        if port.protocol == Protocol::Udp {
            self.error(
                "unprobeable-port",
                format!("the UDP port `{}` of `{name}` cannot be probed", port.name),
                named.map_or(Span::default(), |p| p.span),
                "UDP",
                "probe a TCP, HTTP or gRPC port instead".into(),
            );
            return None;
        }
        Some(port)
    }
}
