//! What the model knows of a blueprint: the plug-in interface every
//! catalog entry implements ([`Blueprint`]), what each declares of itself
//! ([`BlueprintInfo`], [`Mode`], [`Key`], [`OptionDoc`]), and a set of them
//! to choose from by name ([`Catalog`]).
//!
//! The blueprints themselves live above the model and the render stage,
//! in the catalog's own folder, and use both; the model and render call
//! them only through this trait, so nothing below the catalog names one.
//!
//! A blueprint also says which releases each mode renders for
//! ([`Releases`], compared as [`Release`]) and how its clients authenticate
//! ([`Auth`]): `check` refuses a `version:` or `image:` it cannot run, and
//! the reference and `audit` read the rest.

use std::fmt;

use serde_json::Value;

use super::tuning::{PodGroup, Recipe, Siblings, Tuning};
use super::{BackupMethod, Platform, Service};
use crate::diag::Diagnostic;
use crate::image::ImageRef;
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

    /// The version an image of `mode` runs, read from its tag: the release
    /// the tag begins with (`8.0.36` of `8.0.36-oracle`, `7.4.5` of
    /// `v7.4.5`); `None` when the tag names none (a digest alone, `latest`,
    /// a tag of another scheme), and the blueprint then assumes `version:`.
    fn image_version(&self, _mode: &Mode, image: &ImageRef<'_>) -> Option<String> {
        image.tag.and_then(Release::prefix).map(str::to_string)
    }

    /// The release of the mode's operator an image of `mode` is built for,
    /// read from its tag (Strimzi's `1.2.0` of `1.2.0-kafka-4.3.1`);
    /// `None` when its tags name none. `check` refuses an image of another
    /// release than `operators.NAME.version` chooses.
    fn image_operator_release(&self, _mode: &Mode, _image: &ImageRef<'_>) -> Option<String> {
        None
    }

    /// Whether clients of the service must authenticate: as its [`Auth`]
    /// says, unless an option switches it off (Redis's `auth: off`). `audit`
    /// reports the data stores that admit anyone.
    fn authenticates(&self, _tuning: &Tuning) -> bool {
        self.info().auth.required
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

    /// How it backs up the data of a service it runs (`backup:`); `None`
    /// when it cannot, and a `backup:` on the service is an error.
    fn backup(&self, _tuning: &Tuning) -> Option<BackupMethod> {
        None
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
    /// How its clients authenticate.
    pub auth: Auth,
}

/// How a blueprint's clients authenticate, as its reference states it.
#[derive(Debug)]
pub struct Auth {
    /// Whether its servers demand credentials as the blueprint sets them up.
    pub required: bool,
    /// The option, as written, that switches authentication off, if one does.
    pub off: Option<&'static str>,
    /// How clients pass credentials (the export, the Secret and its key, the
    /// variable or header), or, without authentication, who may reach it.
    pub clients: &'static str,
}

impl Auth {
    /// Credentials required, passed as `clients` says.
    pub const fn required(clients: &'static str) -> Auth {
        Auth {
            required: true,
            off: None,
            clients,
        }
    }

    /// No authentication: `clients` says who may reach the system instead.
    pub const fn none(clients: &'static str) -> Auth {
        Auth {
            required: false,
            off: None,
            clients,
        }
    }

    /// The same, switched off by the option `off` (`auth: "off"`).
    #[must_use]
    pub const fn switched_off_by(self, off: &'static str) -> Auth {
        Auth {
            off: Some(off),
            ..self
        }
    }
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
    /// The releases it renders for; any release when empty.
    pub versions: &'static [Releases],
    /// The releases of its operator it renders for, oldest first, where
    /// what it renders follows the release (`operators.NAME.version`, the
    /// newest by default); empty when any release takes the same.
    pub operator_releases: &'static [OperatorRelease],
    /// The containers its operator makes that the custom resource cannot
    /// give a security context (`the init containers and sidecar`), when
    /// there are some: `check` warns where their namespace enforces
    /// `restricted` (`operator-pod-security`).
    pub unset_security: Option<&'static str>,
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
            versions: &[],
            operator_releases: &[],
            unset_security: None,
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

    /// The same mode, rendering for `versions` only.
    #[must_use]
    pub const fn versions(self, versions: &'static [Releases]) -> Mode {
        Mode { versions, ..self }
    }

    /// The same mode, whose operator's releases render differently:
    /// `releases`, oldest first.
    #[must_use]
    pub const fn operator_releases(self, releases: &'static [OperatorRelease]) -> Mode {
        Mode {
            operator_releases: releases,
            ..self
        }
    }

    /// The same mode, whose operator makes `containers` with security
    /// contexts of its own that the custom resource cannot set.
    #[must_use]
    pub const fn unset_security(self, containers: &'static str) -> Mode {
        Mode {
            unset_security: Some(containers),
            ..self
        }
    }

    /// Whether it renders for the version `text`: any when it declares no
    /// releases, else one whose release it lists.
    pub fn runs(&self, text: &str) -> bool {
        Releases::any_contains(self.versions, text)
    }

    /// The releases it renders for, as the reference and hints write them
    /// (`5.7, 8.0 to 8.4`); `None` for any.
    pub fn versions_text(&self) -> Option<String> {
        Releases::text(self.versions)
    }

    /// The operator release `written` names (`1.2` or `1.2.0` of `1.2.0`),
    /// the newest without one; `None` when the mode's operator renders
    /// alike for every release, or `written` names none it knows.
    pub fn operator_release(&self, written: Option<&str>) -> Option<&'static OperatorRelease> {
        match written {
            None => self.operator_releases.last(),
            Some(text) => self.operator_releases.iter().find(|r| r.is(text)),
        }
    }
}

/// A release of an operator and what Strata renders for it: the API
/// version of its custom resources and the releases of the product it runs.
#[derive(Debug, PartialEq, Eq)]
pub struct OperatorRelease {
    /// The release (`1.2.0`).
    pub release: &'static str,
    /// The version of its API group Strata writes (`v1`).
    pub api: &'static str,
    /// The product releases it runs (Kafka `4.2` to `4.3`).
    pub runs: &'static [Releases],
    /// The product release rendered unless `version:` or the image says
    /// otherwise (`4.3.1`).
    pub version: &'static str,
}

impl OperatorRelease {
    /// Whether `text` names this release: the same major and minor, and
    /// the same patch where `text` writes one (`1.2` and `1.2.0` are
    /// `1.2.0`; `1.2.1` is not).
    pub fn is(&self, text: &str) -> bool {
        let text = text.strip_prefix('v').unwrap_or(text);
        let mut ours = self.release.split('.');
        let mut theirs = text.split('.');
        let minor = ours.next() == theirs.next() && ours.next() == theirs.next();
        minor
            && theirs.next().is_none_or(|patch| Some(patch) == ours.next())
            && theirs.next().is_none()
    }

    /// Its major and minor, as hints write them (`1.2`).
    pub fn minor(&self) -> &'static str {
        self.release
            .rsplit_once('.')
            .filter(|(minor, _)| minor.contains('.'))
            .map_or(self.release, |(minor, _)| minor)
    }
}

/// A release as blueprints compare them: its major and, when written, its
/// minor (`8.4` of `8.4.3`, `16` of `16`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Release {
    /// The major version.
    pub major: u32,
    /// The minor version, if written.
    pub minor: Option<u32>,
}

impl Release {
    /// The release `text` begins with: an optional `v`, a major, and an
    /// optional `.MINOR` (`7.4.5`, `v2.4.15`, `16.4-alpine`, `8`); `None`
    /// for text of another scheme (`latest`, `RELEASE.2024-11-07…`).
    ///
    /// ```
    /// use strata_core::model::{Release, Releases};
    /// assert_eq!(Release::parse("8.0.36-oracle"), Some(Release { major: 8, minor: Some(0) }));
    /// assert_eq!(Release::parse("v7"), Some(Release { major: 7, minor: None }));
    /// assert_eq!(Release::parse("latest"), None);
    /// assert_eq!(Release::parse("RELEASE.2024-11-07T00-52-20Z"), None);
    /// assert_eq!(Release::prefix("0.44.0-kafka-3.8.1"), Some("0.44.0"));
    ///
    /// let mysql = [Releases::minors((5, 7), (5, 7)), Releases::minors((8, 0), (8, 4))];
    /// let runs = |v: &str| mysql.iter().any(|r| r.contains(Release::parse(v).unwrap()));
    /// assert!(runs("5.7.44") && runs("8.0") && runs("8") && !runs("5.6") && !runs("9.1"));
    /// assert_eq!(mysql[1].to_string(), "8.0 to 8.4");
    /// assert_eq!(Releases::majors(12, 16).to_string(), "12 to 16");
    /// ```
    pub fn parse(text: &str) -> Option<Release> {
        let mut parts = Release::prefix(text)?.split('.');
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next().and_then(|m| m.parse().ok());
        Some(Release { major, minor })
    }

    /// The release a version or tag begins with, as written but for its
    /// `v`: its leading dot-separated numbers (`8.0.36` of
    /// `8.0.36-oracle`); `None` when it begins with none, or runs a letter
    /// into its major (`7a`).
    pub fn prefix(text: &str) -> Option<&str> {
        let text = text.strip_prefix('v').unwrap_or(text);
        let end = text
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(text.len());
        let release = text[..end].trim_end_matches('.');
        let major_ends_cleanly = text[release.len()..]
            .chars()
            .next()
            .is_none_or(|c| !c.is_ascii_alphanumeric() || release.contains('.'));
        (release.starts_with(|c: char| c.is_ascii_digit()) && major_ends_cleanly).then_some(release)
    }
}

/// Releases a mode renders for: from one to another, both included,
/// compared by major alone or by major and minor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Releases {
    from: (u32, u32),
    to: (u32, u32),
    by_minor: bool,
}

impl Releases {
    /// Every release of majors `from` to `to` (PostgreSQL's `12` to `16`).
    pub const fn majors(from: u32, to: u32) -> Releases {
        Releases {
            from: (from, 0),
            to: (to, 0),
            by_minor: false,
        }
    }

    /// Minors `from` to `to`, as `(major, minor)` (`(8, 0)` to `(8, 4)`).
    pub const fn minors(from: (u32, u32), to: (u32, u32)) -> Releases {
        Releases {
            from,
            to,
            by_minor: true,
        }
    }

    /// Whether the version `text` is in one of `all`; any version when
    /// `all` is empty.
    pub fn any_contains(all: &[Releases], text: &str) -> bool {
        all.is_empty() || Release::parse(text).is_some_and(|r| all.iter().any(|v| v.contains(r)))
    }

    /// `all` as the reference and hints write them (`5.7, 8.0 to 8.4`);
    /// `None` for any.
    pub fn text(all: &[Releases]) -> Option<String> {
        (!all.is_empty()).then(|| {
            all.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        })
    }

    /// Whether `release` is one of them; a release without its minor
    /// (`8`) is when its major is.
    pub fn contains(&self, release: Release) -> bool {
        match release.minor {
            Some(minor) if self.by_minor => (self.from..=self.to).contains(&(release.major, minor)),
            _ => (self.from.0..=self.to.0).contains(&release.major),
        }
    }
}

impl fmt::Display for Releases {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let one = |f: &mut fmt::Formatter<'_>, (major, minor): (u32, u32)| {
            if self.by_minor {
                write!(f, "{major}.{minor}")
            } else {
                write!(f, "{major}")
            }
        };
        one(f, self.from)?;
        if self.from != self.to {
            f.write_str(" to ")?;
            one(f, self.to)?;
        }
        Ok(())
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
    /// When it is deprecated, what to write instead: it still takes
    /// effect, and `check` warns (`deprecated-option`) where it is written.
    pub instead: Option<&'static str>,
}

impl OptionDoc {
    /// An option taking any text the blueprint checks itself.
    pub const fn text(name: &'static str, summary: &'static str) -> OptionDoc {
        OptionDoc {
            name,
            summary,
            value: OptionValue::Text,
            instead: None,
        }
    }

    /// An option taking values of `value`'s kind.
    pub const fn of(value: OptionValue, name: &'static str, summary: &'static str) -> OptionDoc {
        OptionDoc {
            name,
            summary,
            value,
            instead: None,
        }
    }

    /// The same option, deprecated in favour of `instead` (what to write).
    #[must_use]
    pub const fn deprecated(self, instead: &'static str) -> OptionDoc {
        OptionDoc {
            instead: Some(instead),
            ..self
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
    /// One of these words (`on`, `off`).
    OneOf(&'static [&'static str]),
}

/// What a blueprint's own option check sees.
pub struct OptionCheck<'a> {
    /// The mode chosen.
    pub mode: &'a Mode,
    /// The `options:` as written, with their spans.
    pub options: Option<&'a Spanned<Map<String, String>>>,
    /// Other services of the platform, for options that name one.
    pub siblings: &'a Siblings,
    /// The service's name.
    pub service: &'a str,
    /// Where an option the mode requires is missing: the `mode:` value, else
    /// the `blueprint:` one.
    pub span: Span,
    /// The `version:` as written, if any, for options that depend on it
    /// (whether the mode runs it at all is checked against
    /// [`Mode::versions`] before).
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
