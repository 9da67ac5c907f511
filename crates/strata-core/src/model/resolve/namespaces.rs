//! The namespaces a platform owns (tiers', tenants'), renamed by the
//! environment, with labels, budgets and Pod Security levels.

use std::collections::BTreeMap;

use super::limits::budget;
use super::{Resolver, labels, text};
use crate::diag::{Diagnostic, suggestion};
use crate::model::{Namespace, PodSecurity, Profile, Service, Tenant, Tier};
use crate::spec::Spanned;

impl Resolver<'_> {
    pub(super) fn namespaces(
        &mut self,
        tiers: &[Tier],
        services: &[Service],
    ) -> (Vec<Tenant>, Vec<Namespace>) {
        let mut namespaces: Vec<Namespace> = Vec::new();
        for tier in tiers {
            if !namespaces.iter().any(|n| n.name == tier.namespace) {
                namespaces.push(Namespace {
                    name: tier.namespace.clone(),
                    labels: BTreeMap::new(),
                    annotations: BTreeMap::new(),
                    budget: None,
                    limits: None,
                    tenant: None,
                    pod_security: PodSecurity::default(),
                });
            }
        }
        let mut tenants = Vec::new();
        for (name, tenant) in self.spec.tenants.iter().flat_map(|t| t.value.iter()) {
            let namespace = self.renamed(
                &tenant
                    .value
                    .namespace
                    .as_ref()
                    .map_or_else(|| format!("tenant-{}", name.value.0), text),
            );
            if namespaces.iter().any(|n| n.name == namespace) {
                let span = tenant
                    .value
                    .namespace
                    .as_ref()
                    .map_or(name.span, |n| n.span);
                self.error(
                    "namespace-conflict",
                    format!("the tenant `{}` would share the namespace `{namespace}` with another tier or tenant", name.value.0),
                    span,
                    "namespace already used",
                    "give the tenant a namespace of its own with `namespace:`".into(),
                );
                continue;
            }
            namespaces.push(Namespace {
                name: namespace.clone(),
                labels: self.own_labels(tenant.value.labels.as_ref()),
                annotations: labels(tenant.value.annotations.as_ref()),
                budget: tenant.value.budget.as_ref().map(|b| budget(&b.value)),
                limits: None,
                tenant: Some(text(name)),
                pod_security: PodSecurity::default(),
            });
            // The tenant's other namespaces: its labels, no share of its
            // budget (a quota is per namespace; `namespaces:` sets theirs).
            for suffix in tenant.value.namespaces.iter().flat_map(|n| &n.value) {
                let child = self.renamed(&format!("{namespace}-{}", suffix.value.0));
                if namespaces.iter().any(|n| n.name == child) {
                    self.error(
                        "namespace-conflict",
                        format!("the tenant `{}` would share the namespace `{child}` with another tier or tenant", name.value.0),
                        suffix.span,
                        "namespace already used",
                        "give the tenant's namespace another suffix".into(),
                    );
                    continue;
                }
                namespaces.push(Namespace {
                    name: child,
                    labels: self.own_labels(tenant.value.labels.as_ref()),
                    annotations: labels(tenant.value.annotations.as_ref()),
                    budget: None,
                    limits: None,
                    tenant: Some(text(name)),
                    pod_security: PodSecurity::default(),
                });
            }
            tenants.push(Tenant {
                name: text(name),
                namespace,
            });
        }
        let elsewhere = super::environment::renamed_namespaces(&self.doc.spec);
        for (name, settings) in self.spec.namespaces.iter().flat_map(|n| n.value.iter()) {
            // An entry names a namespace by its base name (followed through
            // renames) or by its name in this environment.
            let here = self.renamed(&name.value.0);
            let found = namespaces
                .iter()
                .position(|n| n.name == here)
                .or_else(|| namespaces.iter().position(|n| n.name == name.value.0));
            let found = match found {
                None if elsewhere.contains(&name.value.0)
                    || self.renames.contains_key(&name.value.0)
                    || self.base_namespace_left_out(&name.value.0) =>
                {
                    // Another environment's name, or a namespace this
                    // environment leaves out with its tier.
                    continue;
                }
                found => found.map(|i| &mut namespaces[i]),
            };
            if let Some(namespace) = found {
                let own = self.own_labels(settings.value.labels.as_ref());
                namespace.labels.extend(own);
                namespace
                    .annotations
                    .extend(labels(settings.value.annotations.as_ref()));
                if let Some(b) = &settings.value.budget {
                    namespace.budget = Some(budget(&b.value));
                }
                if let Some(limits) = &settings.value.limits {
                    namespace.limits = self.container_limits(&limits.value);
                }
                if let Some(levels) = &settings.value.pod_security {
                    let level = |l: &Option<Spanned<Profile>>| l.as_ref().map(|p| p.value);
                    namespace.pod_security = PodSecurity {
                        enforce: level(&levels.value.enforce),
                        audit: level(&levels.value.audit),
                        warn: level(&levels.value.warn),
                    };
                    if let Some(enforce) = &levels.value.enforce {
                        self.pod_security_violations(&namespace.name, enforce, services);
                    }
                }
            } else {
                let names: Vec<String> = namespaces.iter().map(|n| n.name.clone()).collect();
                let names: Vec<&str> = names.iter().map(String::as_str).collect();
                let help = suggestion(&name.value.0, &names, "namespace");
                self.error(
                    "unknown-namespace",
                    format!("no tier or tenant uses the namespace `{}`", name.value.0),
                    name.span,
                    "unused namespace",
                    help,
                );
            }
        }
        if let Some(environment) = self.environment {
            let own = self.own_labels(environment.namespace_labels.as_ref());
            for namespace in &mut namespaces {
                namespace.labels.extend(own.clone());
            }
        }
        (tenants, namespaces)
    }

    /// A namespace's name in this environment.
    pub(in crate::model) fn renamed(&self, base: &str) -> String {
        self.renames
            .get(base)
            .cloned()
            .unwrap_or_else(|| base.to_string())
    }

    /// Whether `name` is the namespace of a tier of the base spec that this
    /// environment leaves out.
    fn base_namespace_left_out(&self, name: &str) -> bool {
        let tiers_here: Vec<&str> = self
            .spec
            .tiers
            .value
            .iter()
            .map(|t| t.value.name.value.0.as_str())
            .collect();
        self.doc.spec.tiers.value.iter().any(|t| {
            !tiers_here.contains(&t.value.name.value.0.as_str())
                && t.value
                    .namespace
                    .as_ref()
                    .is_some_and(|n| n.value.0 == name)
        })
    }

    /// Reports services of `namespace` whose profile its `enforce` level rejects.
    fn pod_security_violations(
        &mut self,
        namespace: &str,
        enforce: &Spanned<Profile>,
        services: &[Service],
    ) {
        for service in services.iter().filter(|s| s.namespace == namespace) {
            let profile = service.pod_security();
            let relaxations: Vec<_> = service
                .runtime
                .security
                .relaxations
                .iter()
                .filter(|r| r.needs > enforce.value)
                .collect();
            if profile > enforce.value && !relaxations.is_empty() {
                // Each setting that asks for more, where it is written.
                for relaxation in relaxations {
                    let diagnostic = Diagnostic::error(
                        "pod-security-violation",
                        format!(
                            "{} of `{}` needs the {} level, which the namespace `{namespace}` rejects (enforce: {})",
                            relaxation.setting,
                            service.name,
                            relaxation.needs.as_str(),
                            enforce.value.as_str()
                        ),
                    )
                    .at(&self.doc.file, relaxation.span, "needs more")
                    .also(enforce.span, "enforced here")
                    .help(format!(
                        "drop the setting, or set `podSecurity.enforce: {}` on the namespace",
                        relaxation.needs.as_str()
                    ));
                    self.errors.push(diagnostic);
                }
            } else if profile > enforce.value {
                let diagnostic = Diagnostic::error(
                    "pod-security-violation",
                    format!(
                        "`{}` runs with the {} profile, which the namespace `{namespace}` rejects (enforce: {})",
                        service.name,
                        profile.as_str(),
                        enforce.value.as_str()
                    ),
                )
                .at(&self.doc.file, enforce.span, "enforced here")
                .also(service.span, "this service needs more")
                .help(format!(
                    "set `podSecurity.enforce: {}`, or run `{}` with `security: {}`",
                    profile.as_str(),
                    service.name,
                    enforce.value.as_str()
                ));
                self.errors.push(diagnostic);
            }
        }
    }
}
