//! The wire form of how a service runs: probes, security, spread, graceful
//! termination, autoscaling, metrics, configuration files and patches.
//!
//! Every production default Strata renders can be tuned or switched off here,
//! per service or for all services under `defaults:`.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};

use super::decode::{Decode, Decoder, Map, Spanned, into_text};
use super::names::{HeaderName, PortName};
use super::null::Clearable;
use super::record::{keyword_enum, record};
use super::yaml::{Node, NodeKind};

/// Probes: `false` to switch them off, or settings.
#[derive(Debug, Clone, PartialEq)]
pub enum ProbesSpec {
    /// `probes: true` (the default) or `probes: false`.
    Enabled(bool),
    /// Probes with settings.
    Settings(Box<ProbeSettings>),
}

record! {
    /// How a service's startup, readiness and liveness are checked: what
    /// every probe does unless its own `startup`, `readiness` or `liveness`
    /// says otherwise.
    pub struct ProbeSettings ("probe settings (`kind`, `port`, `path`, `period`, `startup`…)") {
        /// How the port is checked: `http`, `grpc`, `tcp` or `exec`; `http`
        /// with a `path`, `exec` with a `command`, else `grpc` on a gRPC
        /// port and `tcp` on any other.
        optional kind: ProbeKind = "kind",
        /// The port probed, by name; the first TCP port by default.
        optional port: PortName = "port",
        /// HTTP path: liveness and readiness (unless `readinessPath`) and
        /// startup GET it; without one, the port is checked, not a guessed path.
        optional path: String = "path",
        /// HTTP path for readiness.
        optional readiness_path: String = "readinessPath",
        /// HTTP headers sent with each request.
        optional headers: Map<HeaderName, String> = "headers",
        /// The command an `exec` probe runs in the container; success is exit 0.
        optional command: Vec<Spanned<String>> = "command",
        /// Time before the first check; none by default.
        optional initial_delay: Duration = "initialDelay",
        /// Time between checks: 5s for startup, 10s for readiness, 20s for liveness by default.
        optional period: Duration = "period",
        /// Time a check may take; 3s by default.
        optional timeout: Duration = "timeout",
        /// Failed checks in a row that fail the probe: 3 by default
        /// (startup: as many as `startupSeconds` allows).
        optional failure_threshold: u32 = "failureThreshold",
        /// Passed checks in a row that pass it after a failure; 1 by default
        /// (Kubernetes allows only 1 for startup and liveness).
        optional success_threshold: u32 = "successThreshold",
        /// How long the service may take to start before it is restarted; 300 by default.
        optional startup_seconds: u32 = "startupSeconds",
        /// The startup probe's own settings, or `false` for none.
        optional startup: ProbeSwitch = "startup",
        /// The readiness probe's own settings, or `false` for none.
        optional readiness: ProbeSwitch = "readiness",
        /// The liveness probe's own settings, or `false` for none.
        optional liveness: ProbeSwitch = "liveness",
    }
}

record! {
    /// One probe's own settings, over the service's `probes`.
    pub struct ProbeSpec ("a probe's settings (`kind`, `port`, `path`, `period`…)") {
        /// How the port is checked: `http`, `grpc`, `tcp` or `exec`.
        optional kind: ProbeKind = "kind",
        /// The port probed, by name.
        optional port: PortName = "port",
        /// HTTP path.
        optional path: String = "path",
        /// HTTP headers sent with each request.
        optional headers: Map<HeaderName, String> = "headers",
        /// The command an `exec` probe runs in the container.
        optional command: Vec<Spanned<String>> = "command",
        /// Time before the first check.
        optional initial_delay: Duration = "initialDelay",
        /// Time between checks.
        optional period: Duration = "period",
        /// Time a check may take.
        optional timeout: Duration = "timeout",
        /// Failed checks in a row that fail the probe.
        optional failure_threshold: u32 = "failureThreshold",
        /// Passed checks in a row that pass it after a failure.
        optional success_threshold: u32 = "successThreshold",
    }
}

/// One probe: `false` to leave it out, `true` for the service's settings,
/// or settings of its own.
#[derive(Debug, Clone, PartialEq)]
pub enum ProbeSwitch {
    /// `false` or `true`.
    Enabled(bool),
    /// Settings over the service's.
    Settings(Box<ProbeSpec>),
}

impl Decode for ProbeSwitch {
    const EXPECTED: &'static str = "`true`, `false` or a probe's settings";
    fn decode(node: Node, d: &mut Decoder<'_>) -> Option<Self> {
        match node.kind {
            NodeKind::Map(_) => {
                ProbeSpec::decode(node, d).map(|s| ProbeSwitch::Settings(Box::new(s)))
            }
            _ => bool::decode(node, d).map(ProbeSwitch::Enabled),
        }
    }
}

keyword_enum! {
    /// How a probe checks the service.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum ProbeKind (a "probe kind") {
        /// An HTTP GET of `path`: any 2xx or 3xx passes.
        Http = "http",
        /// The gRPC health checking protocol on the port.
        Grpc = "grpc",
        /// A TCP connection to the port.
        Tcp = "tcp",
        /// A command run in the container: exit 0 passes.
        Exec = "exec",
    }
}

keyword_enum! {
    /// A Pod Security Standards profile.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
    pub enum Profile (a "security profile") {
        /// Least privilege: non-root, no escalation, all capabilities dropped.
        Restricted = "restricted",
        /// Known privilege escalations prevented.
        Baseline = "baseline",
        /// Unrestricted; only for system agents that need the host.
        Privileged = "privileged",
    }
}

/// Security: a profile name, or settings.
#[derive(Debug, Clone, PartialEq)]
pub enum SecuritySpec {
    /// `security: restricted`.
    Profile(Profile),
    /// Settings with a profile; boxed, as few services write them.
    Settings(Box<SecuritySettings>),
}

record! {
    /// The security context of a service's pods.
    pub struct SecuritySettings ("security settings (`profile`, `runAsUser`, `fsGroup`…)") {
        /// The Pod Security Standards profile; `restricted` by default.
        optional profile: Profile = "profile",
        /// User id of the container process, or `image` for the image's own
        /// `USER`; 1000 by default.
        optional run_as_user: UserId = "runAsUser",
        /// Group id of the container process; the user id by default.
        optional run_as_group: u32 = "runAsGroup",
        /// Group owning mounted volumes; the group id by default.
        optional fs_group: u32 = "fsGroup",
        /// Whether the root filesystem is read-only (`/tmp` stays writable); `true` by default.
        optional read_only_root_filesystem: bool = "readOnlyRootFilesystem",
        /// Capabilities added back after dropping all (restricted allows only `NET_BIND_SERVICE`).
        optional capabilities: Vec<Spanned<String>> = "capabilities",
        /// Whether the process may gain privileges (setuid binaries, `sudo`);
        /// `false` by default, `true` needs the baseline level.
        optional privilege_escalation: bool = "privilegeEscalation",
    }
}

/// Who a service's processes run as: a user id, or the image's own `USER`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserId {
    /// `runAsUser: 1000`.
    Id(u32),
    /// `runAsUser: image`: the image's `USER`, which Strata cannot see.
    Image,
}

impl Decode for UserId {
    const EXPECTED: &'static str = "a user id such as `1000`, or `image` for the image's own user";
    fn decode(node: Node, d: &mut Decoder<'_>) -> Option<Self> {
        if matches!(&node.kind, NodeKind::Scalar { text, quoted: false } if text == "image") {
            return Some(UserId::Image);
        }
        u32::decode(node, d).map(UserId::Id)
    }
}

super::decode::bounded_count!(
    /// A number of pods: at most 150,000, the most a Kubernetes cluster runs.
    Replicas,
    150_000,
    "Kubernetes supports up to 150,000 pods in a cluster"
);

record! {
    /// A HorizontalPodAutoscaler.
    pub struct AutoscaleSpec ("autoscaling (`min`, `max`, `cpu`, `memory`, `scaleUp`, `scaleDown`)") {
        /// Fewest replicas.
        required min: Replicas = "min",
        /// Most replicas.
        required max: Replicas = "max",
        /// Target average CPU utilisation, such as `70%`.
        optional cpu: Percent = "cpu",
        /// Target average memory utilisation, such as `80%`.
        optional memory: Percent = "memory",
        /// How fast replicas are added; Kubernetes' defaults when absent.
        optional scale_up: ScalingSpec = "scaleUp",
        /// How fast replicas are removed; Kubernetes' defaults when absent.
        optional scale_down: ScalingSpec = "scaleDown",
    }
}

record! {
    /// How fast an autoscaler changes replicas in one direction.
    pub struct ScalingSpec ("scaling rules (`pods`, `percent`, `every`, `wait`)") {
        /// At most this many pods per period.
        optional pods: u32 = "pods",
        /// At most this percentage of the current replicas per period.
        optional percent: Percent = "percent",
        /// The period of `pods` and `percent`; `1m` by default, at most `30m`.
        optional every: Duration = "every",
        /// How long the highest (scaling down) or lowest (scaling up)
        /// recommendation of the recent past is kept; at most `1h`.
        optional wait: Duration = "wait",
    }
}

record! {
    /// Where Prometheus scrapes a service.
    pub struct MetricsSpec ("metrics (`port`, `path`)") {
        /// The port, by name.
        required port: PortName = "port",
        /// The HTTP path; `/metrics` by default.
        optional path: String = "path",
    }
}

record! {
    /// Configuration files, rendered as a ConfigMap and mounted read-only.
    pub struct ConfigSpec ("configuration files (`mountPath`, `files`)") {
        /// The directory the files appear in.
        required mount_path: String = "mountPath",
        /// File name to content: inline text, or `{ file: PATH }` relative to the spec.
        required files: Map<FileName, FileSource> = "files",
    }
}

record! {
    /// A file read from disk, relative to the spec.
    pub struct FileRef ("a file reference (`file`)") {
        /// The path, relative to the spec file.
        required file: super::names::SpecPath = "file",
    }
}

/// A configuration file's content.
#[derive(Debug, Clone, PartialEq)]
pub enum FileSource {
    /// Written in the spec.
    Inline(String),
    /// Read from a file next to the spec.
    File(FileRef),
}

impl Decode for FileSource {
    const EXPECTED: &'static str = "the file's text, or `{ file: PATH }`";
    fn decode(node: Node, d: &mut Decoder<'_>) -> Option<Self> {
        match node.kind {
            NodeKind::Map(_) => FileRef::decode(node, d).map(FileSource::File),
            _ => String::decode(node, d).map(FileSource::Inline),
        }
    }
}

/// A ConfigMap key: a file name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileName(pub String);

impl AsRef<str> for FileName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Decode for FileName {
    const EXPECTED: &'static str = "a file name such as `app.yaml`";
    fn decode(node: Node, d: &mut Decoder<'_>) -> Option<Self> {
        let owned = node;
        let node = &owned;
        let text = d.scalar(node, Self::EXPECTED)?;
        let valid = !text.is_empty()
            && text.len() <= 253
            && text != "."
            && text != ".."
            && text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !valid {
            d.report(
                d.error(
                    "invalid-name",
                    format!("`{text}` is not a valid file name for a ConfigMap"),
                    node.span,
                    "invalid file name",
                )
                .help("use letters, digits, `-`, `_` and `.`; no directories"),
            );
            return None;
        }
        Some(FileName(into_text(owned)))
    }
}

record! {
    /// A change to one generated object, for what the spec cannot say.
    pub struct PatchSpec ("a patch (`target`, and `merge` or `json`)") {
        /// The object: `Kind` (the service's only one) or `Kind/name`.
        required target: String = "target",
        /// A JSON merge patch (RFC 7386), written as YAML.
        optional merge: RawValue = "merge",
        /// A JSON patch (RFC 6902): a list of operations.
        optional json: RawValue = "json",
    }
}

/// Any YAML value, kept as JSON for patches.
#[derive(Debug, Clone, PartialEq)]
pub struct RawValue(pub serde_json::Value);

impl Decode for RawValue {
    const EXPECTED: &'static str = "any YAML value";
    fn decode(node: Node, _: &mut Decoder<'_>) -> Option<Self> {
        let node = &node;
        Some(RawValue(node.to_json()))
    }
}

/// A percentage, 1 to 100: `70%` or `70`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Percent(pub u32);

impl Decode for Percent {
    const EXPECTED: &'static str = "a percentage such as `70%`";
    fn decode(node: Node, d: &mut Decoder<'_>) -> Option<Self> {
        let node = &node;
        let text = d.scalar(node, Self::EXPECTED)?;
        match text.trim_end_matches('%').trim().parse::<u32>() {
            Ok(n) if (1..=100).contains(&n) => Some(Percent(n)),
            _ => {
                d.report(
                    d.error(
                        "invalid-percent",
                        format!("`{text}` is not a percentage from 1% to 100%"),
                        node.span,
                        "not a percentage",
                    )
                    .help("write a whole percentage such as `70%`"),
                );
                None
            }
        }
    }
}

/// A duration in whole seconds: `30s`, `2m`, `1h`, or a bare number of seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Duration(pub u64);

impl Decode for Duration {
    const EXPECTED: &'static str = "a duration such as `30s` or `2m`";
    fn decode(node: Node, d: &mut Decoder<'_>) -> Option<Self> {
        let node = &node;
        let text = d.scalar(node, Self::EXPECTED)?;
        let (number, unit) = text.split_at(
            text.find(|c: char| !c.is_ascii_digit())
                .unwrap_or(text.len()),
        );
        let factor = match unit {
            "" | "s" => Some(1),
            "m" => Some(60),
            "h" => Some(3600),
            _ => None,
        };
        match (number.parse::<u64>(), factor) {
            (Ok(n), Some(f)) if n.checked_mul(f).is_some() => Some(Duration(n * f)),
            _ => {
                let hint = match unit {
                    "ms" => "durations here are whole seconds: write `1s`".to_string(),
                    "sec" | "secs" | "seconds" => format!("did you mean `{number}s`?"),
                    "min" | "mins" | "minutes" => format!("did you mean `{number}m`?"),
                    _ => "write whole seconds, minutes or hours: `30s`, `2m`, `1h`".to_string(),
                };
                d.report(
                    d.error(
                        "invalid-duration",
                        format!("`{text}` is not a duration"),
                        node.span,
                        "not a duration",
                    )
                    .help(hint),
                );
                None
            }
        }
    }
}

impl Decode for ProbesSpec {
    const EXPECTED: &'static str = "`true`, `false` or probe settings";
    fn decode(node: Node, d: &mut Decoder<'_>) -> Option<Self> {
        match node.kind {
            NodeKind::Map(_) => {
                ProbeSettings::decode(node, d).map(|s| ProbesSpec::Settings(Box::new(s)))
            }
            _ => bool::decode(node, d).map(ProbesSpec::Enabled),
        }
    }
}

impl Clearable for ProbesSpec {
    fn cleared() -> Self {
        ProbesSpec::Enabled(false)
    }
}

impl Decode for SecuritySpec {
    const EXPECTED: &'static str = "a profile name or security settings";
    fn decode(node: Node, d: &mut Decoder<'_>) -> Option<Self> {
        match node.kind {
            NodeKind::Map(_) => {
                SecuritySettings::decode(node, d).map(|s| SecuritySpec::Settings(Box::new(s)))
            }
            _ => Profile::decode(node, d).map(SecuritySpec::Profile),
        }
    }
}

macro_rules! schema {
    ($ty:ty, $name:literal, inline, $body:expr) => {
        impl JsonSchema for $ty {
            fn schema_name() -> Cow<'static, str> {
                $name.into()
            }
            fn inline_schema() -> bool {
                true
            }
            fn json_schema(generator: &mut SchemaGenerator) -> Schema {
                let build: fn(&mut SchemaGenerator) -> Schema = $body;
                build(generator)
            }
        }
    };
    ($ty:ty, $name:literal, $body:expr) => {
        impl JsonSchema for $ty {
            fn schema_name() -> Cow<'static, str> {
                $name.into()
            }
            fn json_schema(generator: &mut SchemaGenerator) -> Schema {
                let build: fn(&mut SchemaGenerator) -> Schema = $body;
                build(generator)
            }
        }
    };
}

schema!(ProbesSpec, "Probes", |g| {
    let settings = g.subschema_for::<ProbeSettings>();
    json_schema!({ "description": "`false` switches probes off.", "anyOf": [{ "type": "boolean" }, settings] })
});
schema!(ProbeSwitch, "ProbeSwitch", |g| {
    let settings = g.subschema_for::<ProbeSpec>();
    json_schema!({ "description": "`false` leaves the probe out.", "anyOf": [{ "type": "boolean" }, settings] })
});
schema!(UserId, "UserId", inline, |_| json_schema!({
    "anyOf": [{ "type": "integer", "minimum": 0 }, { "const": "image" }],
}));
schema!(SecuritySpec, "Security", |g| {
    let profile = g.subschema_for::<Profile>();
    let settings = g.subschema_for::<SecuritySettings>();
    json_schema!({ "anyOf": [profile, settings] })
});
schema!(FileSource, "FileSource", |g| {
    let file = g.subschema_for::<FileRef>();
    json_schema!({ "anyOf": [{ "type": "string" }, file] })
});
schema!(
    FileName,
    "FileName",
    inline,
    |_| json_schema!({ "type": "string", "pattern": "^[-._A-Za-z0-9]+$" })
);
schema!(RawValue, "RawValue", inline, |_| json_schema!(true));
schema!(Percent, "Percent", inline, |_| json_schema!({
    "anyOf": [{ "type": "integer", "minimum": 1, "maximum": 100 }, { "type": "string", "pattern": "^[0-9]{1,3}%$" }]
}));
schema!(Duration, "Duration", inline, |_| json_schema!({
    "anyOf": [{ "type": "integer", "minimum": 0 }, { "type": "string", "pattern": "^[0-9]+[smh]?$" }]
}));
