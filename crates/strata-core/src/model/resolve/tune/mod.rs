//! Checking a service's blueprint keys (`mode`, `version`, `databases`,
//! `topics`, `users`, `shards`, `settings`, `options`) against what its
//! blueprint declares, and resolving them into a [`Tuning`].

use std::collections::BTreeMap;

use crate::diag::{Diagnostic, suggestion};
use crate::image::ImageRef;
use crate::model::blueprint::{Blueprint, Catalog, Key, OptionCheck, OptionValue};
use crate::model::tuning::{Siblings, Supplied, Tuning};
use crate::source::{SourceFile, Span};
use crate::spec::platform::PlatformSpec;
use crate::spec::service::ServiceSpec;
use crate::spec::{Map, Spanned};

mod created;
mod release;

use created::{databases, topics, users};
use release::version;

/// Where a service is, for [`tune`].
pub(super) struct Placement<'a> {
    /// The platform's name.
    pub platform: &'a str,
    /// The service's name.
    pub service: &'a str,
    /// Its namespace.
    pub namespace: &'a str,
    /// Its pods after the environment, had the mode's default applied.
    pub replicas: &'a dyn Fn(u32) -> u32,
    /// Other services of the platform.
    pub siblings: Siblings,
    /// The catalog the blueprint is from, for hints naming other blueprints.
    pub catalog: Catalog,
}

fn error(
    file: &SourceFile,
    code: &'static str,
    message: String,
    span: Span,
    label: &str,
) -> Diagnostic {
    Diagnostic::error(code, message).at(file, span, label)
}

/// Checks a service's blueprint options against `blueprint` and resolves
/// them; every problem is returned, each at the offending value.
///
/// # Errors
/// An unknown mode, a key or option the blueprint does not take, a
/// `latest` version, a version or image the mode does not run, an option
/// that is not a number where one is needed, a mode whose operator the
/// platform does not declare.
pub(super) fn tune(
    blueprint: &'static dyn Blueprint,
    spec: &ServiceSpec,
    platform: &PlatformSpec,
    place: &Placement<'_>,
    file: &SourceFile,
) -> Result<Tuning, Vec<Diagnostic>> {
    let info = blueprint.info();
    let mut errors = Vec::new();
    let modes: Vec<&str> = info.modes.iter().map(|m| m.name).collect();
    let mode = match &spec.rare.mode {
        None => &info.modes[0],
        Some(mode) => {
            if let Some(found) = info.modes.iter().find(|m| m.name == mode.value.0) {
                found
            } else {
                let help = if modes.len() == 1 {
                    format!(
                        "`{}` has one mode, `{}`: remove `mode:`",
                        info.name, modes[0]
                    )
                } else {
                    suggestion(&mode.value.0, &modes, "mode")
                };
                errors.push(
                    error(
                        file,
                        "unknown-mode",
                        format!(
                            "`{}` is not a mode of the `{}` blueprint",
                            mode.value.0, info.name
                        ),
                        mode.span,
                        "unknown mode",
                    )
                    .help(help),
                );
                &info.modes[0]
            }
        }
    };
    let takes = |key: Key| info.takes.contains(&key);
    let refuse = |key: Key, span: Span, errors: &mut Vec<Diagnostic>| {
        let takers: Vec<&str> = place
            .catalog
            .all()
            .filter(|b| b.info().takes.contains(&key))
            .map(super::super::blueprint::Blueprint::name)
            .collect();
        errors.push(
            error(
                file,
                "unsupported-option",
                format!(
                    "the `{}` blueprint does not take `{}`",
                    info.name,
                    key.as_str()
                ),
                span,
                "not taken by this blueprint",
            )
            .help(format!(
                "remove it; `{}` is for the {} blueprints",
                key.as_str(),
                takers.join(", ")
            )),
        );
    };
    let operator = mode.operator.and_then(|name| {
        let written = platform
            .operators
            .as_ref()?
            .value
            .get(name)?
            .value
            .version
            .as_ref()
            .map(|v| v.value.as_str());
        // A release the mode does not know is refused at `operators:`; the
        // newest stands in for it here.
        mode.operator_release(written)
            .or_else(|| mode.operator_release(None))
    });
    if let (Some(operator), Some(image)) = (operator, &spec.image)
        && let Some(built) = blueprint.image_operator_release(mode, &ImageRef::parse(&image.value))
        && !operator.is(&built)
    {
        let name = mode.operator.unwrap_or_default();
        errors.push(
            error(
                file,
                "conflicting-version",
                format!(
                    "the image `{}` is built for {name} {built}, and the platform runs {name} {}",
                    image.value, operator.release
                ),
                image.span,
                "another operator release",
            )
            .help(format!(
                "tag the image for {name} {} (`operators.{name}.version`), or set that version to {built}",
                operator.release
            )),
        );
    }
    let version = version(blueprint, mode, operator, spec, file, &mut errors);
    let databases = match &spec.rare.databases {
        Some(list) if !takes(Key::Databases) => {
            refuse(Key::Databases, list.span, &mut errors);
            Vec::new()
        }
        list => databases(list.as_ref(), file, &mut errors),
    };
    let replicas = (place.replicas)(mode.replicas);
    let topics = match &spec.rare.topics {
        Some(list) if !takes(Key::Topics) => {
            refuse(Key::Topics, list.span, &mut errors);
            Vec::new()
        }
        list => topics(list.as_ref(), replicas, file, &mut errors),
    };
    let shards = match &spec.rare.shards {
        Some(s) if !takes(Key::Shards) => {
            refuse(Key::Shards, s.span, &mut errors);
            1
        }
        Some(s) if !mode.sharded => {
            let sharded: Vec<String> = info
                .modes
                .iter()
                .filter(|m| m.sharded)
                .map(|m| format!("`mode: {}`", m.name))
                .collect();
            errors.push(
                error(
                    file,
                    "unsupported-option",
                    format!(
                        "the `{}` mode of `{}` does not take `shards`",
                        mode.name, info.name
                    ),
                    s.span,
                    "not sharded",
                )
                .help(format!("shards need {}", sharded.join(" or "))),
            );
            1
        }
        Some(s) if s.value == 0 => {
            errors.push(
                error(
                    file,
                    "invalid-option",
                    "a cluster of zero shards".into(),
                    s.span,
                    "zero",
                )
                .help("write at least `shards: 1`"),
            );
            1
        }
        Some(s) => s.value,
        None => 1,
    };
    let options = options(blueprint, spec.rare.options.as_ref(), file, &mut errors);
    if mode.operated
        && let Some(volumes) = &spec.rare.volumes
        && !mode.operated_volumes
    {
        // The operator makes the pods: Strata's claim templates would not
        // reach them.
        let takers: Vec<String> = place
            .catalog
            .all()
            .flat_map(|b| {
                b.info()
                    .modes
                    .iter()
                    .filter(|m| m.operated && m.operated_volumes)
                    .map(move |m| format!("`{}` in `{}` mode", b.name(), m.name))
            })
            .collect();
        errors.push(
            error(
                file,
                "unsupported-option",
                format!(
                    "the `{}` mode of `{}` runs its pods through an operator, which gets no extra `volumes`",
                    mode.name, info.name
                ),
                volumes.span,
                "not rendered",
                )
                .help(format!(
                    "remove `volumes`, or use a mode Strata runs itself; among operator modes only {} take them",
                    takers.join(", ")
                )),
        );
    }
    if mode.operated
        && let Some(service) = &spec.rare.service
    {
        errors.push(
            error(
                file,
                "unsupported-for-mode",
                format!(
                    "the `{}` mode of `{}` runs its pods through an operator, which makes their Services",
                    mode.name, info.name
                ),
                service.span,
                "not rendered",
            )
            .help("remove `service`, or use a mode whose pods Strata runs"),
        );
    }
    if mode.operated
        && let Some(env_from) = &spec.rare.env_from
    {
        errors.push(
            error(
                file,
                "unsupported-option",
                format!(
                    "the `{}` mode of `{}` runs its pods through an operator, which reads no `envFrom`",
                    mode.name, info.name
                ),
                env_from.span,
                "not rendered",
            )
            .help("remove `envFrom`: the operator's pods get the blueprint's own settings"),
        );
    }
    if mode.operated
        && let Some(storage) = spec
            .storage
            .as_ref()
            .filter(|s| s.value == crate::spec::storage::StorageSpec::None)
    {
        // Its operator keeps the data on volumes of its own making.
        errors.push(
            error(
                file,
                "unsupported-for-mode",
                format!(
                    "the `{}` mode of `{}` runs its pods through an operator, which always gives them volumes",
                    mode.name, info.name
                ),
                storage.span,
                "not rendered",
            )
            .help("give the volume a size, or use a mode whose pods Strata runs for a store without one"),
        );
    }
    errors.extend(
        blueprint.check_options(&OptionCheck {
            mode,
            options: spec.rare.options.as_ref(),
            siblings: &place.siblings,
            service: place.service,
            span: spec
                .rare
                .mode
                .as_ref()
                .map(|m| m.span)
                .or(spec.rare.blueprint.as_ref().map(|b| b.span))
                .unwrap_or_default(),
            version: spec.rare.version.as_ref(),
            file,
            platform,
        }),
    );
    let users = match &spec.rare.users {
        Some(map) if !takes(Key::Users) => {
            refuse(Key::Users, map.span, &mut errors);
            Vec::new()
        }
        map => users(map.as_ref(), &options, file, &mut errors),
    };
    let settings = match &spec.rare.settings {
        Some(map) if !takes(Key::Settings) => {
            refuse(Key::Settings, map.span, &mut errors);
            Vec::new()
        }
        map => settings(map.as_ref(), blueprint, file, &mut errors),
    };
    if let Some(operator) = mode.operator {
        let declared = platform
            .operators
            .as_ref()
            .is_some_and(|o| o.value.get(operator).is_some());
        if !declared {
            let span = spec
                .rare
                .mode
                .as_ref()
                .map(|m| m.span)
                .or(spec.rare.blueprint.as_ref().map(|b| b.span))
                .unwrap_or_default();
            errors.push(
                error(
                    file,
                    "missing-operator",
                    format!(
                        "the `{}` mode of `{}` renders custom resources of the `{operator}` operator, which the platform does not declare",
                        mode.name, info.name
                    ),
                    span,
                    "needs an operator",
                )
                .help(format!(
                    "declare it under `operators:`, either installed already: `{operator}: {{ installed: true }}`, or by a tier of raw manifests: `{operator}: {{ tier: operators }}` with `manifests: [...]` on that tier"
                )),
            );
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut tuning = Tuning {
        blueprint,
        mode,
        platform: place.platform.to_string(),
        service: place.service.to_string(),
        namespace: place.namespace.to_string(),
        version,
        replicas,
        databases,
        topics,
        users,
        shards,
        options,
        deprecated: spec
            .rare
            .options
            .iter()
            .flat_map(|o| o.value.iter())
            .filter_map(|(key, _)| {
                let doc = info.options.iter().find(|o| o.name == key.value)?;
                Some((key.value.clone(), key.span, doc.instead?))
            })
            .collect(),
        settings,
        metrics: platform.monitoring.is_some(),
        siblings: place.siblings.clone(),
        operator_namespace: None,
        operator,
        supplied: Supplied::default(),
    };
    tuning.supplied = blueprint.recipe(&tuning).supplied;
    Ok(tuning)
}

/// The engine's settings as written, each a name and a value on one line
/// (they end up in configuration files and command lines); ClickHouse's
/// as `PROFILE/SETTING`.
fn settings(
    map: Option<&Spanned<Map<String, String>>>,
    blueprint: &dyn Blueprint,
    file: &SourceFile,
    errors: &mut Vec<Diagnostic>,
) -> Vec<(String, String)> {
    let info = blueprint.info();
    let mut out = Vec::new();
    for (key, value) in map.iter().flat_map(|m| m.value.iter()) {
        let plain = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._-/".contains(c))
        };
        let profiled = key
            .value
            .split_once('/')
            .is_some_and(|(p, s)| plain(p) && plain(s) && !s.contains('/'));
        let clickhouse = blueprint.profiled_settings();
        if !plain(&key.value)
            || (clickhouse != profiled)
            || (!clickhouse && key.value.contains('/'))
        {
            let help = if clickhouse {
                "name a profile and a setting: `default/max_memory_usage`"
            } else {
                "write the engine's own name: letters, digits, `.`, `_` and `-` (`shared_buffers`, `compression.type`)"
            };
            errors.push(
                error(
                    file,
                    "invalid-setting",
                    format!("`{}` is not a setting name of `{}`", key.value, info.name),
                    key.span,
                    "not a setting name",
                )
                .help(help),
            );
            continue;
        }
        if value.value.contains('\n') || value.value.trim().is_empty() {
            errors.push(
                error(
                    file,
                    "invalid-setting",
                    format!("the setting `{}` needs a value on one line", key.value),
                    value.span,
                    "not one line",
                )
                .help("write the value as the engine reads it: `4GB`, `snappy`, `300`"),
            );
            continue;
        }
        out.push((key.value.clone(), value.value.clone()));
    }
    out
}

fn options(
    blueprint: &dyn Blueprint,
    map: Option<&Spanned<Map<String, String>>>,
    file: &SourceFile,
    errors: &mut Vec<Diagnostic>,
) -> BTreeMap<String, String> {
    let info = blueprint.info();
    let mut out = BTreeMap::new();
    let names: Vec<&str> = info.options.iter().map(|o| o.name).collect();
    for (key, value) in map.iter().flat_map(|m| m.value.iter()) {
        let Some(doc) = info.options.iter().find(|o| o.name == key.value) else {
            let help = if names.is_empty() {
                format!("the `{}` blueprint takes no options", info.name)
            } else {
                suggestion(&key.value, &names, "option")
            };
            errors.push(
                error(
                    file,
                    "unsupported-option",
                    format!(
                        "the `{}` blueprint has no option `{}`",
                        info.name, key.value
                    ),
                    key.span,
                    "unknown option",
                )
                .help(help),
            );
            continue;
        };
        let measure = match doc.value {
            OptionValue::Cpu => Some(crate::quantity::Measure::Cpu),
            OptionValue::Memory => Some(crate::quantity::Measure::Bytes),
            _ => None,
        };
        if let Some(measure) = measure
            && let Err(bad) = crate::quantity::Quantity::parse(&value.value, measure)
        {
            let mut diagnostic = error(
                file,
                "invalid-option",
                format!("the option `{}`: {}", key.value, bad.message),
                value.span,
                "not a quantity",
            );
            diagnostic = match bad.suggestion {
                Some(fix) => diagnostic.help(format!("write `{fix}`")),
                None => diagnostic.help(doc.summary),
            };
            errors.push(diagnostic);
            continue;
        }
        if doc.value == OptionValue::Period
            && crate::quantity::period_ms(&value.value).is_none_or(|ms| ms == 0)
        {
            errors.push(
                error(
                    file,
                    "invalid-option",
                    format!(
                        "the option `{}` takes a period, not `{}`",
                        key.value, value.value
                    ),
                    value.span,
                    "not a period",
                )
                .help(
                    "write a whole, non-zero number of days, hours or minutes: `30d`, `12h`, `90m`",
                ),
            );
            continue;
        }
        if let OptionValue::OneOf(words) = doc.value
            && !words.contains(&value.value.as_str())
        {
            let list: Vec<String> = words.iter().map(|w| format!("`{w}`")).collect();
            errors.push(
                error(
                    file,
                    "invalid-option",
                    format!(
                        "the option `{}` takes {}, not `{}`",
                        key.value,
                        list.join(" or "),
                        value.value
                    ),
                    value.span,
                    "not one of them",
                )
                .help(suggestion(&value.value, words, "value")),
            );
            continue;
        }
        if doc.value == OptionValue::Number && value.value.parse::<u32>().is_err() {
            errors.push(
                error(
                    file,
                    "invalid-option",
                    format!(
                        "the option `{}` takes a whole number, not `{}`",
                        key.value, value.value
                    ),
                    value.span,
                    "not a number",
                )
                .help(doc.summary),
            );
            continue;
        }
        out.insert(key.value.clone(), value.value.clone());
    }
    out
}
