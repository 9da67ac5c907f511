//! Resolving how each service runs: the production practices of `render`
//! (probes, security, spread, termination, autoscaling, metrics), its
//! configuration files and its patches, each from the service, then
//! `defaults:`, then Strata's own default.

use super::Resolver;
use crate::diag::{closest, suggestion};
use crate::model::{
    Autoscale, Config, ConfigFile, FileContent, FileRef, Metrics, Patch, PatchChange, Port,
    Profile, Relaxation, Runtime, Scaling, Security, Span, WorkloadKind,
};
use crate::pod_security::{BASELINE_CAPABILITIES, RESTRICTED_CAPABILITY};
use crate::spec::Spanned;
use crate::spec::null::OrNone;
use crate::spec::platform::DefaultsSpec;
use crate::spec::runtime::{FileSource, PatchSpec, ScalingSpec, SecuritySpec, UserId};
use crate::spec::service::ServiceSpec;

/// The user id containers run as unless the spec says otherwise.
pub const DEFAULT_USER: u32 = 1000;
/// Seconds a pod is given to stop unless the spec says otherwise.
pub const DEFAULT_TERMINATION_SECONDS: u64 = 30;
/// The CPU utilisation an autoscaler targets unless the spec says otherwise.
pub const DEFAULT_CPU_TARGET: u32 = 70;

impl Resolver<'_> {
    fn defaults(&self) -> Option<&DefaultsSpec> {
        self.spec.defaults.as_ref().map(|d| &d.value)
    }

    /// How `spec` runs, given its resolved kind and ports; may lower
    /// `replicas` to an autoscaler's minimum.
    pub(super) fn runtime(
        &mut self,
        name: &str,
        spec: &ServiceSpec,
        kind: WorkloadKind,
        ports: &[Port],
        replicas: &mut u32,
    ) -> Runtime {
        let defaults = self.defaults();
        let flag = |own: &Option<Spanned<bool>>,
                    default: Option<&Option<Spanned<bool>>>,
                    fallback: bool| {
            own.as_ref()
                .or(default.and_then(|d| d.as_ref()))
                .map_or(fallback, |b| b.value)
        };
        let spread = flag(&spec.rare.spread, defaults.map(|d| &d.spread), true);
        let disruption_budget = flag(
            &spec.rare.disruption_budget,
            defaults.map(|d| &d.disruption_budget),
            true,
        );
        let service_account_token = flag(
            &spec.rare.service_account_token,
            defaults.map(|d| &d.service_account_token),
            false,
        );
        let termination_grace_seconds = spec
            .rare
            .termination_grace_period
            .as_ref()
            .or(defaults.and_then(|d| d.termination_grace_period.as_ref()))
            .map_or(DEFAULT_TERMINATION_SECONDS, |d| d.value.0);
        let default_probes = defaults.and_then(|d| d.probes.clone());
        let security_spec = spec
            .rare
            .security
            .clone()
            .or_else(|| defaults.and_then(|d| d.security.clone()));
        // Probes check the main container, by its own ports' names.
        let own: Vec<Port> = ports
            .iter()
            .filter(|p| p.sidecar.is_none())
            .cloned()
            .collect();
        Runtime {
            probes: self.probes(
                name,
                spec.rare.probes.as_ref(),
                default_probes.as_ref(),
                kind,
                &own,
            ),
            security: self.security(security_spec.as_ref()),
            spread,
            disruption_budget,
            termination_grace_seconds,
            service_account_token,
            autoscale: self.autoscale(spec, kind, replicas).map(Box::new),
            metrics: self.metrics(spec, ports),
        }
    }

    pub(super) fn port_named(
        &mut self,
        name: &Spanned<crate::spec::names::PortName>,
        ports: &[Port],
        what: &str,
    ) -> Option<Port> {
        if let Some(port) = ports.iter().find(|p| p.name == name.value.0) {
            return Some(port.clone());
        }
        let names: Vec<&str> = ports.iter().map(|p| p.name.as_str()).collect();
        let help = if names.is_empty() {
            "the service declares no ports; add one under `ports:`".to_string()
        } else {
            suggestion(&name.value.0, &names, "port")
        };
        self.error(
            "unknown-port",
            format!(
                "the {what} port `{}` is not a port of this service",
                name.value.0
            ),
            name.span,
            "no such port",
            help,
        );
        None
    }

    fn security(&mut self, spec: Option<&Spanned<SecuritySpec>>) -> Security {
        let mut security = Security {
            profile: Profile::Restricted,
            run_as_user: Some(DEFAULT_USER),
            run_as_group: Some(DEFAULT_USER),
            fs_group: Some(DEFAULT_USER),
            read_only_root: true,
            capabilities: Vec::new(),
            privilege_escalation: false,
            relaxations: Vec::new(),
            image_user: None,
        };
        let Some(spec) = spec else { return security };
        let settings = match &spec.value {
            SecuritySpec::Profile(profile) => {
                security.profile = *profile;
                return security;
            }
            SecuritySpec::Settings(settings) => settings,
        };
        let mut relax = |needs: Profile, setting: String, span: Span| {
            security.relaxations.push(Relaxation {
                needs,
                setting,
                span,
            });
        };
        // The error each kind of setting gets under too strict a profile.
        let code_of = |setting: &str| {
            if setting.starts_with("`runAsUser") {
                "root-in-restricted"
            } else if setting.starts_with("the capability") {
                "capability-not-allowed"
            } else {
                "escalation-not-allowed"
            }
        };
        let user = settings
            .run_as_user
            .as_ref()
            .map_or(Some(DEFAULT_USER), |u| match u.value {
                UserId::Id(id) => Some(id),
                UserId::Image => None,
            });
        if let Some(user_spec) = &settings.run_as_user
            && user == Some(0)
        {
            relax(Profile::Baseline, "`runAsUser: 0`".into(), user_spec.span);
        }
        let mut capabilities = Vec::new();
        for capability in settings.capabilities.iter().flat_map(|c| &c.value) {
            let name = capability
                .value
                .trim_start_matches("CAP_")
                .to_ascii_uppercase();
            let needs = if name == RESTRICTED_CAPABILITY {
                Profile::Restricted
            } else if BASELINE_CAPABILITIES.contains(&name.as_str()) {
                Profile::Baseline
            } else {
                Profile::Privileged
            };
            if needs > Profile::Restricted {
                relax(needs, format!("the capability `{name}`"), capability.span);
            }
            capabilities.push(name);
        }
        let escalation = settings
            .privilege_escalation
            .as_ref()
            .is_some_and(|e| e.value);
        if let Some(spec) = settings.privilege_escalation.as_ref().filter(|e| e.value) {
            relax(
                Profile::Baseline,
                "`privilegeEscalation: true`".into(),
                spec.span,
            );
        }
        // Less than restricted is never implied: the profile that allows a
        // setting is written beside it.
        security.profile = settings
            .profile
            .as_ref()
            .map_or(Profile::Restricted, |p| p.value);
        let profile = security.profile;
        if profile == Profile::Privileged {
            // A privileged pod gets no security context of Strata's: its
            // settings would be rendered nowhere.
            let written = [
                ("runAsUser", settings.run_as_user.as_ref().map(|s| s.span)),
                ("runAsGroup", settings.run_as_group.as_ref().map(|s| s.span)),
                ("fsGroup", settings.fs_group.as_ref().map(|s| s.span)),
                (
                    "readOnlyRootFilesystem",
                    settings.read_only_root_filesystem.as_ref().map(|s| s.span),
                ),
                (
                    "capabilities",
                    settings.capabilities.as_ref().map(|s| s.span),
                ),
                (
                    "privilegeEscalation",
                    settings.privilege_escalation.as_ref().map(|s| s.span),
                ),
            ];
            for (key, span) in written {
                if let Some(span) = span {
                    self.error(
                        "conflicting-keys",
                        format!(
                            "a privileged pod runs as its image says, so `{key}` applies to nothing"
                        ),
                        span,
                        "not rendered when privileged",
                        format!("remove `{key}`, or use `profile: baseline` with it"),
                    );
                }
            }
            return security;
        }
        for relaxation in security.relaxations.iter().filter(|r| r.needs > profile) {
            let code = code_of(&relaxation.setting);
            let instead = if code == "root-in-restricted" {
                "run as a non-root user id (or the image's, `runAsUser: image`), or add `profile: baseline` beside it if the image must start as root".to_string()
            } else {
                format!(
                    "add `profile: {}` beside it if the image truly needs it, or drop the setting",
                    relaxation.needs.as_str()
                )
            };
            self.error(
                code,
                format!(
                    "{} needs the {} profile, and the service's is {}",
                    relaxation.setting,
                    relaxation.needs.as_str(),
                    profile.as_str()
                ),
                relaxation.span,
                "needs more",
                instead,
            );
        }
        security.run_as_user = user;
        security.image_user = settings
            .run_as_user
            .as_ref()
            .filter(|u| u.value == UserId::Image)
            .map(|u| u.span);
        security.run_as_group = settings
            .run_as_group
            .as_ref()
            .map(|g| g.value)
            .or(security.run_as_user);
        security.fs_group = settings
            .fs_group
            .as_ref()
            .map(|g| g.value)
            .or(security.run_as_group);
        security.read_only_root = settings
            .read_only_root_filesystem
            .as_ref()
            .is_none_or(|r| r.value);
        security.capabilities = capabilities;
        security.privilege_escalation = escalation;
        security
    }

    fn autoscale(
        &mut self,
        spec: &ServiceSpec,
        kind: WorkloadKind,
        replicas: &mut u32,
    ) -> Option<Autoscale> {
        let autoscale = spec.rare.autoscale.as_ref()?;
        if !matches!(kind, WorkloadKind::Stateless | WorkloadKind::Stateful) {
            self.error(
                "unexpected-autoscale",
                format!("a {} service cannot be autoscaled", kind.as_str()),
                autoscale.span,
                "not scalable",
                "only stateless and stateful services have replicas to scale".into(),
            );
            return None;
        }
        let a = &autoscale.value;
        if a.min.value.0 == 0 || a.min.value > a.max.value {
            self.error(
                "invalid-autoscale",
                format!(
                    "autoscaling from {} to {} replicas is not a range",
                    a.min.value.0, a.max.value.0
                ),
                a.min.span,
                "bad range",
                "`min` is at least 1 and at most `max`".into(),
            );
            return None;
        }
        let env = self.environment;
        if env.and_then(|e| e.replicas.as_ref()).is_some() {
            // The environment pins replicas (a laptop, say): no autoscaler.
            return None;
        }
        let min = a.min.value.0.max(
            env.and_then(|e| e.min_replicas.as_ref())
                .map_or(0, |m| m.value.0),
        );
        *replicas = min;
        let scale_up = a.scale_up.as_ref().and_then(|r| self.scaling(r));
        let scale_down = a.scale_down.as_ref().and_then(|r| self.scaling(r));
        let (cpu, memory) = (
            a.cpu.as_ref().map(|c| c.value.0),
            a.memory.as_ref().map(|m| m.value.0),
        );
        Some(Autoscale {
            min,
            max: a.max.value.0.max(min),
            cpu: if cpu.is_none() && memory.is_none() {
                Some(DEFAULT_CPU_TARGET)
            } else {
                cpu
            },
            memory,
            scale_up,
            scale_down,
        })
    }

    /// One direction of an autoscaler's behaviour, within the API's bounds.
    fn scaling(&mut self, rules: &Spanned<ScalingSpec>) -> Option<Scaling> {
        let r = &rules.value;
        let every = r.every.as_ref().map_or(60, |e| e.value.0);
        if let Some(e) = r.every.as_ref().filter(|_| !(1..=1800).contains(&every)) {
            self.error(
                "invalid-autoscale",
                format!("a scaling period of {every}s is not from 1s to 30m"),
                e.span,
                "out of range",
                "write a period from `1s` to `30m`".into(),
            );
            return None;
        }
        if let Some(w) = r.wait.as_ref().filter(|w| w.value.0 > 3600) {
            self.error(
                "invalid-autoscale",
                format!("a stabilization window of {}s is above 1h", w.value.0),
                w.span,
                "out of range",
                "write a window of at most `1h`".into(),
            );
            return None;
        }
        if r.every.is_some() && r.pods.is_none() && r.percent.is_none() {
            self.error(
                "invalid-autoscale",
                "`every` limits nothing without `pods` or `percent`".into(),
                rules.span,
                "no limit",
                "add `pods: N` or `percent: P%`, or remove `every`".into(),
            );
            return None;
        }
        if let Some(p) = r.pods.as_ref().filter(|p| p.value == 0) {
            self.error(
                "invalid-autoscale",
                "a scaling step of 0 pods never scales".into(),
                p.span,
                "zero",
                "write at least `pods: 1`".into(),
            );
            return None;
        }
        Some(Scaling {
            pods: r.pods.as_ref().map(|p| p.value),
            percent: r.percent.as_ref().map(|p| p.value.0),
            every_seconds: every,
            wait_seconds: r.wait.as_ref().map(|w| w.value.0),
        })
    }

    fn metrics(&mut self, spec: &ServiceSpec, ports: &[Port]) -> Option<Metrics> {
        let (port, path) = match spec.rare.metrics.as_ref().map(|m| &m.value) {
            // `metrics: none`: not scraped, even on a port named `metrics`.
            Some(OrNone::None) => return None,
            Some(OrNone::Value(m)) => (
                self.port_named(&m.port, ports, "metrics")?,
                m.path
                    .as_ref()
                    .map_or_else(|| "/metrics".to_string(), |p| p.value.clone()),
            ),
            None => (
                ports.iter().find(|p| p.name == "metrics")?.clone(),
                "/metrics".to_string(),
            ),
        };
        Some(Metrics {
            port: port.name,
            number: port.number,
            path,
        })
    }

    /// The service's configuration files.
    pub(super) fn config(&mut self, spec: &ServiceSpec) -> Option<Config> {
        let config = &spec.rare.config.as_ref()?.value;
        if !config.mount_path.value.starts_with('/') {
            self.error(
                "invalid-path",
                format!("`{}` is not an absolute path", config.mount_path.value),
                config.mount_path.span,
                "relative path",
                format!("mount paths start with `/`: `/{}`", config.mount_path.value),
            );
        }
        let files = config
            .files
            .value
            .iter()
            .map(|(name, source)| ConfigFile {
                name: name.value.0.clone(),
                content: match &source.value {
                    FileSource::Inline(text) => FileContent::Inline(text.clone()),
                    FileSource::File(file) => FileContent::File(FileRef {
                        path: file.file.value.0.clone(),
                        span: file.file.span,
                    }),
                },
            })
            .collect();
        Some(Config {
            mount_path: config.mount_path.value.clone(),
            files,
        })
    }

    /// The service's patches, checked for shape (targets are checked when rendering).
    pub(super) fn patches(&mut self, spec: &ServiceSpec) -> Vec<Patch> {
        let mut patches = Vec::new();
        for patch in spec.rare.patches.iter().flat_map(|p| &p.value) {
            if let Some(p) = self.patch(&patch.value, patch.span) {
                patches.push(p);
            }
        }
        patches
    }

    fn patch(&mut self, spec: &PatchSpec, span: Span) -> Option<Patch> {
        let target = &spec.target;
        let (kind, name) = match target.value.split_once('/') {
            Some((kind, name)) => (kind.to_string(), Some(name.to_string())),
            None => (target.value.clone(), None),
        };
        if kind.is_empty()
            || !kind.starts_with(|c: char| c.is_ascii_uppercase())
            || name.as_deref() == Some("")
        {
            let hint = closest(&kind.to_ascii_lowercase(), KINDS.iter().map(|k| k.0))
                .and_then(|lower| KINDS.iter().find(|k| k.0 == lower))
                .map_or(
                    "write `Kind` or `Kind/name`, such as `Deployment` or `Service/web-headless`"
                        .to_string(),
                    |k| format!("did you mean `{}`?", k.1),
                );
            self.error(
                "invalid-patch-target",
                format!("`{}` is not a patch target", target.value),
                target.span,
                "not `Kind` or `Kind/name`",
                hint,
            );
            return None;
        }
        let change = match (&spec.merge, &spec.json) {
            (Some(merge), None) => PatchChange::Merge(merge.value.0.clone()),
            (None, Some(json)) => {
                match serde_json::from_value::<json_patch::Patch>(json.value.0.clone()) {
                    Ok(ops) => PatchChange::Json(ops),
                    Err(err) => {
                        self.error(
                        "invalid-patch",
                        format!("this is not an RFC 6902 JSON patch: {err}"),
                        json.span,
                        "not a JSON patch",
                        "write a list of operations: `- { op: replace, path: /spec/replicas, value: 3 }`".into(),
                    );
                        return None;
                    }
                }
            }
            _ => {
                self.error(
                    "invalid-patch",
                    "a patch needs exactly one of `merge` and `json`".into(),
                    span,
                    "which change?",
                    "use `merge:` for a JSON merge patch, or `json:` for a list of JSON patch operations".into(),
                );
                return None;
            }
        };
        Some(Patch {
            kind,
            name,
            change,
            span,
        })
    }
}

/// Kinds Strata renders, for "did you mean" on patch targets.
const KINDS: [(&str, &str); 12] = [
    ("deployment", "Deployment"),
    ("statefulset", "StatefulSet"),
    ("daemonset", "DaemonSet"),
    ("job", "Job"),
    ("cronjob", "CronJob"),
    ("service", "Service"),
    ("configmap", "ConfigMap"),
    ("serviceaccount", "ServiceAccount"),
    ("persistentvolumeclaim", "PersistentVolumeClaim"),
    ("poddisruptionbudget", "PodDisruptionBudget"),
    ("horizontalpodautoscaler", "HorizontalPodAutoscaler"),
    ("networkpolicy", "NetworkPolicy"),
];
