//! Applying a service's blueprint: its keys checked and resolved, its
//! recipe filled in under the service's own fields, the waits its operator
//! and scheduler need, and references in the files it wrote.

use std::sync::Arc;

use super::ServiceNames;
use super::service::Filled;
use super::{Resolver, text};
use crate::model::endpoint::Endpoints;
use crate::model::{Dependency, FileContent, Service, Sibling, Siblings, Tier, Tuning};
use crate::source::Span;
use crate::spec::service::{NeedSpec, ServiceSpec};
use crate::spec::{self, Spanned};

/// Keys only a blueprint service may write.
fn blueprint_keys(spec: &ServiceSpec) -> Vec<(&'static str, Span)> {
    [
        ("mode", spec.rare.mode.as_ref().map(|v| v.span)),
        ("version", spec.rare.version.as_ref().map(|v| v.span)),
        ("databases", spec.rare.databases.as_ref().map(|v| v.span)),
        ("topics", spec.rare.topics.as_ref().map(|v| v.span)),
        ("users", spec.rare.users.as_ref().map(|v| v.span)),
        ("shards", spec.rare.shards.as_ref().map(|v| v.span)),
        ("options", spec.rare.options.as_ref().map(|v| v.span)),
        ("settings", spec.rare.settings.as_ref().map(|v| v.span)),
    ]
    .into_iter()
    .filter_map(|(k, s)| s.map(|s| (k, s)))
    .collect()
}

impl Resolver<'_> {
    /// Every service as blueprint services see them, made the first time
    /// one asks.
    pub(super) fn siblings(&mut self) -> Arc<[Sibling]> {
        let spec_tiers = &self.spec.tiers.value;
        let every = self.siblings.get_or_insert_with(|| {
            spec_tiers
                .iter()
                .flat_map(|t| t.value.services.iter().flat_map(|s| s.value.iter()))
                .map(|(n, s)| Sibling {
                    name: n.value.0.clone(),
                    blueprint: s.value.rare.blueprint.as_ref().map(text),
                    mode: s.value.rare.mode.as_ref().map(text),
                    databases: crate::model::tuning::listed_databases(&s.value),
                    users: crate::model::tuning::listed_users(&s.value),
                })
                .collect()
        });
        Arc::clone(every)
    }

    /// The service as its blueprint fills it in, and how it uses the
    /// blueprint; the service unchanged when it has none.
    pub(super) fn apply_blueprint<'s>(
        &mut self,
        name: &Spanned<spec::names::Name>,
        spec: &'s ServiceSpec,
        tier: &Tier,
    ) -> (Filled<'s>, Option<Tuning>) {
        let Some(blueprint_name) = &spec.rare.blueprint else {
            for (key, span) in blueprint_keys(spec) {
                self.error(
                    "option-without-blueprint",
                    format!("`{key}` tunes a blueprint, and `{}` has none", name.value.0),
                    span,
                    "no blueprint to tune",
                    "add `blueprint: NAME` (docs/blueprints.md lists them), or remove this key"
                        .into(),
                );
            }
            return (Filled::Written(spec), None);
        };
        let Some(blueprint) = self.catalog.get(&blueprint_name.value.0) else {
            return (Filled::Written(spec), None);
        };
        let environment = self.environment;
        let own = spec.replicas.as_ref().map(|r| r.value.0);
        let replicas = move |default: u32| {
            let base = own.unwrap_or(default);
            let forced = environment
                .and_then(|e| e.replicas.as_ref())
                .map_or(base, |r| r.value.0);
            forced.max(
                environment
                    .and_then(|e| e.min_replicas.as_ref())
                    .map_or(0, |r| r.value.0),
            )
        };
        let siblings = Siblings::new(self.siblings(), &name.value.0);
        let place = super::tune::Placement {
            catalog: self.catalog,
            platform: &self.spec.platform.value.0,
            service: &name.value.0,
            namespace: &tier.namespace,
            replicas: &replicas,
            siblings,
        };
        let tuning = match super::tune::tune(blueprint, spec, self.spec, &place, &self.doc.file) {
            Ok(tuning) => tuning,
            Err(errors) => {
                self.errors.extend(errors);
                return (Filled::Written(spec), None);
            }
        };
        let mut filled = match super::fill::fill(spec, &tuning, blueprint_name.span) {
            Ok(filled) => filled,
            Err(diagnostic) => {
                self.errors.push(diagnostic.at(
                    &self.doc.file,
                    blueprint_name.span,
                    "this blueprint",
                ));
                return (Filled::Written(spec), None);
            }
        };
        // Services the blueprint calls because of its options (a backup
        // endpoint) are needs like the user's, reported where they are named.
        for callee in &tuning.supplied.needs {
            let span = spec
                .rare
                .options
                .as_ref()
                .and_then(|o| o.value.iter().find(|(_, v)| v.value == *callee))
                .map_or(blueprint_name.span, |(_, v)| v.span);
            let need = Spanned {
                value: NeedSpec::Service(spec::names::Name(callee.clone())),
                span,
            };
            match &mut filled.needs {
                Some(needs) => needs.value.push(need),
                None => {
                    filled.needs = Some(Spanned {
                        value: vec![need],
                        span,
                    });
                }
            }
        }
        if let Some(operator) = tuning.mode.operator {
            self.wait_for_operator(operator, name, tier, &mut filled);
        }
        (Filled::Filled(Box::new(filled)), Some(tuning))
    }

    /// Makes a service that relies on `operator` wait for the tier that
    /// installs it, when a tier of the platform does.
    fn wait_for_operator(
        &mut self,
        operator: &str,
        name: &Spanned<spec::names::Name>,
        tier: &Tier,
        filled: &mut ServiceSpec,
    ) {
        let Some(operator_tier) = super::operators::operator_tier(self.spec, operator) else {
            return;
        };
        if operator_tier.value.0 == tier.name {
            self.error(
                "operator-in-own-tier",
                format!("the `{operator}` operator is installed by the tier `{}`, which also holds `{}`", tier.name, name.value.0),
                operator_tier.span,
                "the same tier",
                "install operators in a tier of their own that the service's tier comes after".into(),
            );
            return;
        }
        let need = Spanned {
            value: NeedSpec::Tier(operator_tier.value.clone()),
            span: operator_tier.span,
        };
        match &mut filled.needs {
            Some(needs) => needs.value.push(need),
            None => {
                filled.needs = Some(Spanned {
                    value: vec![need],
                    span: operator_tier.span,
                });
            }
        }
    }

    /// A service's `scheduler:`, checked: the platform declares the
    /// scheduler's operator, and an operator that makes the pods itself
    /// must be one that hands them to that scheduler (KubeRay).
    pub(super) fn scheduler(
        &mut self,
        name: &Spanned<spec::names::Name>,
        tuning: Option<&Tuning>,
        tier: &Tier,
        filled: &mut Filled<'_>,
    ) {
        let Some(scheduler) = filled.rare.scheduler.clone() else {
            return;
        };
        let operator = scheduler.value.as_str();
        let declared = self
            .spec
            .operators
            .as_ref()
            .is_some_and(|o| o.value.get(operator).is_some());
        if !declared {
            self.error(
                "missing-operator",
                format!("`{}` is scheduled by {operator}, which the platform does not declare", name.value.0),
                scheduler.span,
                "needs its scheduler",
                format!("declare it under `operators:`, either installed already: `{operator}: {{ installed: true }}`, or by a tier of raw manifests: `{operator}: {{ tier: operators }}`"),
            );
        }
        if let Some(tuning) = tuning.filter(|t| t.mode.operated)
            && !tuning.mode.operated_scheduling
        {
            self.error(
                "unsupported-for-mode",
                format!("the `{}` mode of `{}` runs its pods through an operator, which does not hand them to {operator}", tuning.mode.name, tuning.blueprint.name()),
                scheduler.span,
                "the operator schedules its own pods",
                "remove `scheduler`, or use a mode whose pods Strata runs".into(),
            );
        }
        self.wait_for_operator(operator, name, tier, filled.to_mut());
    }

    /// Resolves `${service.field}` references in the configuration files a
    /// blueprint wrote (Grafana's datasources, an edge proxy's upstream) of
    /// `service`'s config: the dependencies they make, and each file's
    /// text with them resolved (by its position in the config's files), to
    /// be written back once every service has been read.
    pub(super) fn blueprint_config(
        &mut self,
        service: &Service,
        services: &ServiceNames<'_>,
        endpoints: Endpoints<'_>,
    ) -> (Vec<Dependency>, Vec<(usize, String)>) {
        let mut references = Vec::new();
        let mut resolved = Vec::new();
        let (Some(tuning), Some(config)) = (&service.tuning, &service.config) else {
            return (references, resolved);
        };
        let blueprint_files = tuning.blueprint.recipe(tuning).spec["config"]["files"].clone();
        let span = service.span;
        for (position, file) in config.files.iter().enumerate() {
            let FileContent::Inline(text) = &file.content else {
                continue;
            };
            if blueprint_files[&file.name].as_str() != Some(text.as_str()) || !text.contains("${") {
                continue;
            }
            if let Some(text) =
                self.literal(text, span, &file.name, services, endpoints, &mut references)
            {
                resolved.push((position, text));
            }
        }
        (references, resolved)
    }
}
