//! What the model knows of a blueprint: the plug-in interface every
//! catalog entry implements ([`Blueprint`]), what each declares of itself
//! ([`BlueprintInfo`], [`Mode`], [`Key`], [`OptionDoc`]), and a set of them
//! to choose from by name ([`Catalog`]).
//!
//! The blueprints themselves live above the model and the render stage,
//! in the catalog's own folder, and use both; the model and render call
//! them only through this trait, so nothing below the catalog names one.

use std::fmt;

use serde_json::Value;

use super::tuning::{PodGroup, Recipe, Sibling, Tuning};
use super::{Platform, Service};
use crate::diag::Diagnostic;
use crate::source::{SourceFile, Span};
use crate::spec::platform::PlatformSpec;
use crate::spec::{Map, Spanned};

/// A named recipe a service can select with `blueprint:`.
///
/// Only [`info`](Blueprint::info) and [`recipe`](Blueprint::recipe) are
/// required; the other hooks default to "nothing beyond the service's own".
pub trait Blueprint: Sync {
    /// What it is: its name, modes, default version and the keys it takes.
    fn info(&self) -> &'static BlueprintInfo;

    /// The service fields, exports and credentials it supplies.
    fn recipe(&self, tuning: &Tuning) -> Recipe;

    /// Objects it renders besides the service's own.
    fn objects(&self, _platform: &Platform, _service: &Service, _tuning: &Tuning) -> Vec<Value> {
        Vec::new()
    }

    /// Services it runs beside the declared one (Sentinel's group): rendered
    /// like any service and counted by `plan`.
    fn companions(&self, _service: &Service, _tuning: &Tuning) -> Vec<Service> {
        Vec::new()
    }

    /// The service's own pods as `plan` counts them: `replicas` pods of the
    /// service's size unless its operator runs others (ClickHouse's shards ×
    /// replicas and Keeper nodes, Strimzi's entity operator). Companions
    /// are counted besides, from [`companions`](Blueprint::companions).
    fn pods(&self, service: &Service, _tuning: &Tuning) -> Vec<PodGroup> {
        vec![PodGroup::of(service)]
    }

    /// Its own checks of `options:` beyond the catalog's (values that only
    /// mean something in one mode, or beside another option).
    fn check_options(&self, _check: &OptionCheck<'_>) -> Vec<Diagnostic> {
        Vec::new()
    }

    /// Whether its `settings:` are named `PROFILE/SETTING` (ClickHouse's
    /// settings profiles) rather than by the engine's own flat names.
    fn profiled_settings(&self) -> bool {
        false
    }

    /// Whether its server evaluates the platform's recording and alerting
    /// rules, so that it can check service-level objectives as the
    /// platform's scraper (Prometheus).
    fn evaluates_rules(&self) -> bool {
        false
    }

    /// The name written after `blueprint:`.
    fn name(&self) -> &'static str {
        self.info().name
    }
}

impl fmt::Debug for dyn Blueprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Blueprint({})", self.name())
    }
}

/// What a blueprint declares of itself.
#[derive(Debug)]
pub struct BlueprintInfo {
    /// The name written after `blueprint:`.
    pub name: &'static str,
    /// One line on what it deploys.
    pub summary: &'static str,
    /// Its modes; the first is the default.
    pub modes: &'static [Mode],
    /// The image tag it runs unless `version:` says otherwise.
    pub version: &'static str,
    /// Typed keys it takes besides `mode` and `version`.
    pub takes: &'static [Key],
    /// The names it accepts under `options:`.
    pub options: &'static [OptionDoc],
}

/// One way to run a blueprint.
///
/// A blueprint names each of its modes as a constant and compares the
/// chosen one against it (`*tuning.mode == SENTINEL`), so a misspelt mode
/// does not compile.
#[derive(Debug, PartialEq, Eq)]
#[allow(
    clippy::struct_excessive_bools,
    reason = "each flag is an ability of the mode that the others do not imply"
)]
pub struct Mode {
    /// The name written after `mode:`.
    pub name: &'static str,
    /// What it deploys.
    pub summary: &'static str,
    /// Replicas unless the service says otherwise.
    pub replicas: u32,
    /// The operator whose custom resources it renders, if any.
    pub operator: Option<&'static str>,
    /// Whether the operator runs the pods, so the service renders no
    /// workload, Service or ServiceAccount of its own.
    pub operated: bool,
    /// Whether it splits data into `shards:`.
    pub sharded: bool,
    /// Whether its operator's custom resources carry the service's extra
    /// `volumes` (only meaningful when `operated`).
    pub operated_volumes: bool,
    /// Whether its operator hands the pods it makes to the scheduler a
    /// service names with `scheduler:` (only meaningful when `operated`).
    pub operated_scheduling: bool,
}

impl Mode {
    /// A mode whose pods Strata runs itself, `replicas` by default.
    pub const fn new(name: &'static str, summary: &'static str, replicas: u32) -> Mode {
        Mode {
            name,
            summary,
            replicas,
            operator: None,
            operated: false,
            sharded: false,
            operated_volumes: false,
            operated_scheduling: false,
        }
    }

    /// The same mode, rendering custom resources of `operator`, which the
    /// platform must then declare.
    #[must_use]
    pub const fn operator(self, operator: &'static str) -> Mode {
        Mode {
            operator: Some(operator),
            ..self
        }
    }

    /// The same mode, its pods run by its operator rather than by Strata.
    #[must_use]
    pub const fn operated(self) -> Mode {
        Mode {
            operated: true,
            ..self
        }
    }

    /// The same mode, splitting data into `shards:`.
    #[must_use]
    pub const fn sharded(self) -> Mode {
        Mode {
            sharded: true,
            ..self
        }
    }

    /// The same mode, whose operator mounts the service's extra `volumes`.
    #[must_use]
    pub const fn with_operated_volumes(self) -> Mode {
        Mode {
            operated_volumes: true,
            ..self
        }
    }

    /// The same mode, whose operator hands its pods to `scheduler:`.
    #[must_use]
    pub const fn with_operated_scheduling(self) -> Mode {
        Mode {
            operated_scheduling: true,
            ..self
        }
    }
}

/// A typed service key that only some blueprints take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// `databases:`.
    Databases,
    /// `topics:`.
    Topics,
    /// `shards:`.
    Shards,
    /// `settings:`, the engine's own configuration.
    Settings,
    /// `users:`, object-store users and their buckets.
    Users,
}

impl Key {
    /// The key as written in a spec.
    pub fn as_str(self) -> &'static str {
        match self {
            Key::Databases => "databases",
            Key::Topics => "topics",
            Key::Shards => "shards",
            Key::Settings => "settings",
            Key::Users => "users",
        }
    }
}

/// One name a blueprint accepts under `options:`.
#[derive(Debug)]
pub struct OptionDoc {
    /// The option's name.
    pub name: &'static str,
    /// What it sets, and its default.
    pub summary: &'static str,
    /// What its values must be; checked before the blueprint sees them.
    pub value: OptionValue,
}

impl OptionDoc {
    /// An option taking any text the blueprint checks itself.
    pub const fn text(name: &'static str, summary: &'static str) -> OptionDoc {
        OptionDoc {
            name,
            summary,
            value: OptionValue::Text,
        }
    }

    /// An option taking values of `value`'s kind.
    pub const fn of(value: OptionValue, name: &'static str, summary: &'static str) -> OptionDoc {
        OptionDoc {
            name,
            summary,
            value,
        }
    }
}

/// The kind of value an option takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionValue {
    /// Any text.
    Text,
    /// A whole number.
    Number,
    /// A whole, non-zero number of days, hours or minutes (`30d`).
    Period,
    /// A CPU quantity (`500m`).
    Cpu,
    /// A memory quantity (`512Mi`).
    Memory,
}

/// What a blueprint's own option check sees.
pub struct OptionCheck<'a> {
    /// The mode chosen.
    pub mode: &'a Mode,
    /// The `options:` as written, with their spans.
    pub options: Option<&'a Spanned<Map<String, String>>>,
    /// Other services of the platform, for options that name one.
    pub siblings: &'a [Sibling],
    /// The service's name.
    pub service: &'a str,
    /// Where an option the mode requires is missing: the `mode:` value, else
    /// the `blueprint:` one.
    pub span: Span,
    /// The `version:` as written, if any.
    pub version: Option<&'a Spanned<String>>,
    /// The spec file, for diagnostics.
    pub file: &'a SourceFile,
    /// The platform's spec, for checks against its other settings.
    pub platform: &'a PlatformSpec,
}

impl OptionCheck<'_> {
    /// The option `name` as written, with its value's span.
    pub fn get(&self, name: &str) -> Option<&Spanned<String>> {
        self.options
            .iter()
            .flat_map(|o| o.value.iter())
            .find(|(k, _)| k.value == name)
            .map(|(_, v)| v)
    }

    /// A diagnostic at `span`.
    pub fn error(
        &self,
        code: &'static str,
        message: String,
        span: Span,
        label: &str,
    ) -> Diagnostic {
        Diagnostic::error(code, message).at(self.file, span, label)
    }
}

/// The blueprints a platform may select from, by name.
#[derive(Clone, Copy)]
pub struct Catalog {
    blueprints: &'static [&'static dyn Blueprint],
}

impl fmt::Debug for Catalog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.names()).finish()
    }
}

impl Catalog {
    /// A catalog of `blueprints`, in the order docs list them.
    pub const fn new(blueprints: &'static [&'static dyn Blueprint]) -> Catalog {
        Catalog { blueprints }
    }

    /// The blueprint called `name`.
    pub fn get(&self, name: &str) -> Option<&'static dyn Blueprint> {
        self.all().find(|b| b.name() == name)
    }

    /// Every blueprint's name, in catalog order.
    pub fn names(&self) -> Vec<&'static str> {
        self.all().map(Blueprint::name).collect()
    }

    /// Every blueprint, in catalog order.
    pub fn all(&self) -> impl Iterator<Item = &'static dyn Blueprint> + use<> {
        self.blueprints.iter().copied()
    }

    /// Every operator some mode needs, sorted, once each.
    pub fn operators(&self) -> Vec<&'static str> {
        let mut names: Vec<&str> = self
            .all()
            .flat_map(|b| b.info().modes.iter().filter_map(|m| m.operator))
            .collect();
        names.sort_unstable();
        names.dedup();
        names
    }
}
