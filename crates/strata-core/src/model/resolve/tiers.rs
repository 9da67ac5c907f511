//! Tiers, and the waves services start in: each tier's namespace, manifests
//! and waits, and the layering of the dependency graph into waves with the
//! critical path.

use std::collections::HashMap;

use super::{Resolver, text};
use crate::diag::{Diagnostic, suggestion};
use crate::model::graph::layer;
use crate::model::{DependencyTarget, FileRef, PathStep, Service, ServiceId, Tier, TierId};
use crate::source::Span;

impl Resolver<'_> {
    pub(super) fn tiers(&mut self, shared_namespace: &str) -> Vec<Tier> {
        let mut tiers: Vec<Tier> = Vec::new();
        if self.spec.tiers.value.is_empty() {
            self.error(
                "empty-platform",
                "the platform has no tiers".into(),
                self.spec.tiers.span,
                "no tiers",
                "add at least one tier: `- name: apps` with `services:`".into(),
            );
        }
        for tier in &self.spec.tiers.value {
            let name = text(&tier.value.name);
            if let Some(first) = tiers.iter().find(|t| t.name == name) {
                let diagnostic = Diagnostic::error(
                    "duplicate-tier",
                    format!("the tier `{name}` is declared twice"),
                )
                .at(&self.doc.file, tier.value.name.span, "declared again here")
                .also(first.span, "first declared here")
                .help("give each tier its own name, or merge their services");
                self.errors.push(diagnostic);
                continue;
            }
            tiers.push(Tier {
                name,
                namespace: tier.value.namespace.as_ref().map_or_else(
                    || shared_namespace.to_string(),
                    |n| self.renamed(&n.value.0),
                ),
                after: Vec::new(),
                services: Vec::new(),
                manifests: tier
                    .value
                    .manifests
                    .iter()
                    .flat_map(|m| &m.value)
                    .map(|m| FileRef {
                        path: m.value.0.clone(),
                        span: m.span,
                    })
                    .collect(),
                manifest_wave: None,
                mesh: tier.value.mesh.as_ref().is_none_or(|m| m.value),
                span: tier.value.name.span,
            });
        }
        tiers
    }

    /// Fills each tier's `after`; returns where each wait is written.
    pub(super) fn tier_waits(
        &mut self,
        tiers: &mut [Tier],
        index: &HashMap<String, TierId>,
    ) -> HashMap<(TierId, TierId), Span> {
        let names: Vec<String> = tiers.iter().map(|t| t.name.clone()).collect();
        let mut spans = HashMap::new();
        for tier_spec in &self.spec.tiers.value {
            let Some(&own) = index.get(tier_spec.value.name.value.0.as_str()) else {
                continue;
            };
            if tiers[own.0].span != tier_spec.value.name.span {
                continue;
            }
            for after in tier_spec.value.after.iter().flat_map(|a| &a.value) {
                match index.get(after.value.0.as_str()) {
                    Some(&id) => {
                        tiers[own.0].after.push(id);
                        spans.entry((own, id)).or_insert(after.span);
                    }
                    None if self.left_out(&after.value.0, true, after.span) => {}
                    None => {
                        let candidates: Vec<&str> = names.iter().map(String::as_str).collect();
                        let help = suggestion(&after.value.0, &candidates, "tier");
                        self.error(
                            "unknown-tier",
                            format!("`{}` is not a tier of this platform", after.value.0),
                            after.span,
                            "no such tier",
                            help,
                        );
                    }
                }
            }
        }
        spans
    }

    pub(super) fn waves(
        &mut self,
        services: &mut [Service],
        tiers: &mut [Tier],
        tier_wait_spans: &HashMap<(TierId, TierId), Span>,
    ) -> (Vec<Vec<ServiceId>>, Vec<PathStep>) {
        let n = services.len();
        let barrier = |t: TierId| n + t.0;
        let mut weights = vec![1u32; n];
        weights.extend(std::iter::repeat_n(0, tiers.len()));
        let mut edges = Vec::new();
        // A tier's raw manifests take a wave of their own, like a service of
        // the tier: they wait for the tier's `after:` and the tier waits for them.
        let manifest_vertices: Vec<(TierId, usize)> = tiers
            .iter()
            .enumerate()
            .filter(|(_, t)| !t.manifests.is_empty())
            .enumerate()
            .map(|(k, (t, _))| (TierId(t), n + tiers.len() + k))
            .collect();
        for &(tier, vertex) in &manifest_vertices {
            weights.push(1);
            edges.push((vertex, barrier(tier)));
            for &after in &tiers[tier.0].after {
                edges.push((barrier(after), vertex));
            }
        }
        // Why each edge exists, for cycle reports: (span, label).
        let mut reasons: HashMap<(usize, usize), Span> = HashMap::new();
        for (i, service) in services.iter().enumerate() {
            edges.push((i, barrier(service.tier)));
            for need in service.needs.iter().filter(|n| n.wait) {
                let from = match need.target {
                    DependencyTarget::Service(s) => s.0,
                    DependencyTarget::Tier(t) => barrier(t),
                };
                edges.push((from, i));
                reasons.entry((from, i)).or_insert(need.span);
            }
            for &after in &tiers[service.tier.0].after {
                edges.push((barrier(after), i));
                let span = tier_wait_spans
                    .get(&(service.tier, after))
                    .copied()
                    .unwrap_or(tiers[service.tier.0].span);
                reasons.entry((barrier(after), i)).or_insert(span);
            }
        }

        match layer(&weights, &edges) {
            Ok(layering) => {
                let mut waves: Vec<Vec<ServiceId>> = Vec::new();
                for (i, service) in services.iter_mut().enumerate() {
                    let wave = layering.levels[i] as usize;
                    service.wave = wave;
                    if waves.len() < wave {
                        waves.resize(wave, Vec::new());
                    }
                    waves[wave - 1].push(ServiceId(i));
                }
                for &(tier, vertex) in &manifest_vertices {
                    let wave = layering.levels[vertex] as usize;
                    tiers[tier.0].manifest_wave = Some(wave);
                    if waves.len() < wave {
                        waves.resize(wave, Vec::new());
                    }
                }
                let last = (0..n)
                    .chain(manifest_vertices.iter().map(|(_, v)| *v))
                    .max_by_key(|&i| (layering.levels[i], std::cmp::Reverse(i)));
                let path = last
                    .map(|end| {
                        layering
                            .chain_to(end)
                            .into_iter()
                            .map(|v| {
                                if v < n {
                                    PathStep::Service(ServiceId(v))
                                } else if let Some(t) =
                                    manifest_vertices.iter().find(|(_, m)| *m == v)
                                {
                                    PathStep::Manifests(t.0)
                                } else {
                                    PathStep::Tier(TierId(v - n))
                                }
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                (waves, path)
            }
            Err(cycles) => {
                let vertex_name = |v: usize| {
                    if v < n {
                        services[v].name.clone()
                    } else if let Some((t, _)) = manifest_vertices.iter().find(|(_, m)| *m == v) {
                        format!("manifests of tier/{}", tiers[t.0].name)
                    } else {
                        format!("tier/{}", tiers[v - n].name)
                    }
                };
                for cycle in cycles {
                    let mut names: Vec<String> = cycle.iter().map(|&v| vertex_name(v)).collect();
                    names.push(names[0].clone());
                    let mut diagnostic = Diagnostic::error(
                        "dependency-cycle",
                        format!("dependency cycle: {}", names.join(" → ")),
                    );
                    for (i, &v) in cycle.iter().enumerate() {
                        let next = cycle[(i + 1) % cycle.len()];
                        if let Some(&span) = reasons.get(&(v, next)) {
                            let label =
                                format!("{} waits for {}", vertex_name(next), vertex_name(v));
                            diagnostic = if diagnostic.labels.is_empty() {
                                diagnostic.at(&self.doc.file, span, label)
                            } else {
                                diagnostic.also(span, label)
                            };
                        }
                    }
                    self.errors.push(diagnostic.help(
                        "remove one of these dependencies; services of a cycle can never all start",
                    ));
                }
                (Vec::new(), Vec::new())
            }
        }
    }
}
