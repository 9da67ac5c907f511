//! The platform's service-level objectives (`monitoring.slo`, a service's
//! `slo:`): checked against what can measure them.

use std::borrow::Borrow;

use crate::diag::Diagnostic;
use crate::model::Catalog;
use crate::source::SourceFile;
use crate::spec::Spanned;
use crate::spec::platform::{PlatformSpec, SloSpec};
use crate::spec::service::ServiceSpec;

/// Objectives (`monitoring.slo` and each service's `slo`) are checked by
/// the platform's own Prometheus, the `scraper`; errors and latency need
/// Istio's request metrics, which reach it through the sidecars' merged
/// scrape port (annotation mode), from services in the mesh. `services`
/// are the services' specs (environment applied), each with whether its
/// tier joins the mesh.
/// `slo` read in place, whether held inline or boxed.
fn borrowed<T: Borrow<SloSpec>>(slo: &Spanned<T>) -> Spanned<&SloSpec> {
    Spanned {
        value: slo.value.borrow(),
        span: slo.span,
    }
}

pub(super) fn check_slo(
    catalog: &Catalog,
    spec: &PlatformSpec,
    services: &[(&ServiceSpec, bool)],
    file: &SourceFile,
) -> Vec<Diagnostic> {
    let monitoring = spec.monitoring.as_ref().map(|m| &m.value);
    let platform = monitoring.and_then(|m| m.slo.as_ref());
    let every: Vec<(Spanned<&SloSpec>, bool)> = platform
        .map(|s| (borrowed(s), true))
        .into_iter()
        .chain(services.iter().filter_map(|(service, meshed)| {
            let slo = service.rare.slo.as_ref()?;
            Some((borrowed(slo), *meshed))
        }))
        .collect();
    let Some((first, _)) = every.first() else {
        return Vec::new();
    };
    let error = |code, message: String, span, label: &str, help: String| {
        Diagnostic::error(code, message)
            .at(file, span, label)
            .help(help)
    };
    let mut errors = Vec::new();
    let scraper = monitoring
        .and_then(|m| m.scraper.as_ref())
        .map(|s| &s.value.0);
    let checked = spec
        .tiers
        .value
        .iter()
        .flat_map(|t| t.value.services.iter().flat_map(|s| s.value.iter()))
        .any(|(name, service)| {
            Some(&name.value.0) == scraper
                && service
                    .value
                    .rare
                    .blueprint
                    .as_ref()
                    .and_then(|b| catalog.get(&b.value.0))
                    .is_some_and(crate::model::Blueprint::evaluates_rules)
        });
    if !checked {
        errors.push(error(
            "unsupported-slo",
            "service-level objectives need a Prometheus of the platform to check them".into(),
            first.span,
            "checked by nothing",
            "name a service of the `prometheus` blueprint as the scraper: `monitoring: { scraper: prometheus }`".into(),
        ));
    }
    let mesh = spec
        .network
        .as_ref()
        .is_some_and(|n| n.value.mesh.is_some());
    let monitors = monitoring
        .and_then(|m| m.service_monitors.as_ref())
        .is_some_and(|m| m.value);
    for (slo, meshed) in every {
        let istio = [
            ("errors", slo.value.errors.as_ref().map(|e| e.span)),
            ("latency", slo.value.latency.as_ref().map(|l| l.span)),
        ];
        for (key, span) in istio {
            let Some(span) = span else { continue };
            if !mesh {
                errors.push(error(
                    "slo-needs-mesh",
                    format!("the `{key}` objective reads Istio's request metrics, and the platform has no mesh"),
                    span,
                    "no request metrics",
                    format!("set `network: {{ mesh: istio }}`, or remove `{key}`"),
                ));
            } else if !meshed {
                errors.push(error(
                    "slo-needs-mesh",
                    format!("the `{key}` objective reads Istio's request metrics, and the service's tier stays out of the mesh"),
                    span,
                    "no request metrics",
                    format!("let the tier join the mesh (remove `mesh: false`), or remove `{key}`"),
                ));
            } else if monitors {
                errors.push(error(
                    "unsupported-slo",
                    format!("the `{key}` objective reads Istio's request metrics, which ServiceMonitors do not scrape"),
                    span,
                    "not scraped",
                    format!("scrape by annotations (no `serviceMonitors: true`), where the sidecars merge them into the scrape port, or remove `{key}`"),
                ));
            }
        }
    }
    errors
}
