//! What a service waits for: `needs:`, and the calls it makes without
//! waiting (`calls: { X: { wait: false } }`).

use std::collections::HashMap;

use super::Resolver;
use super::ServiceNames;
use crate::diag::suggestion;
use crate::model::{Dependency, DependencyOrigin, DependencyTarget, TierId};
use crate::spec::service::{NeedSpec, ServiceSpec};

impl Resolver<'_> {
    /// Marks the dependencies on each callee whose `calls:` entry says
    /// `wait: false`: still calls (policies, call settings), no longer part
    /// of the start-up order.
    /// `needs` are those of the service called `name`.
    pub(super) fn calls_without_waiting(
        &mut self,
        name: &str,
        needs: &mut [Dependency],
        spec: &ServiceSpec,
        services: &ServiceNames<'_>,
    ) {
        for (callee, calls) in spec.rare.calls.iter().flat_map(|c| c.value.iter()) {
            let Some(wait) = &calls.value.wait else {
                continue;
            };
            if self.externals.iter().any(|e| e.name == callee.value.0) {
                self.error(
                    "wait-on-external",
                    format!(
                        "`{}` is an external, which is never waited for",
                        callee.value.0
                    ),
                    wait.span,
                    "running already",
                    "remove `wait`: an external is not part of the start-up order".into(),
                );
                continue;
            }
            // An unknown callee is reported with the other `calls:` keys.
            let Some(&id) = services.get(callee.value.0.as_str()) else {
                continue;
            };
            let mut named = false;
            for need in needs.iter_mut() {
                if need.target == DependencyTarget::Service(id) {
                    need.wait = wait.value;
                    named = true;
                }
            }
            if !named && !wait.value {
                self.error(
                    "wait-without-dependency",
                    format!(
                        "`{}` neither names nor references `{}`",
                        name, callee.value.0
                    ),
                    wait.span,
                    "nothing to stop waiting for",
                    format!(
                        "`wait: false` applies to a service named in `needs:` or referenced as `${{{}.…}}`; a tier in `needs:` is waited for as a whole",
                        callee.value.0
                    ),
                );
            }
        }
    }

    pub(super) fn needs(
        &mut self,
        spec: &ServiceSpec,
        services: &ServiceNames<'_>,
        tiers: &HashMap<String, TierId>,
    ) -> Vec<Dependency> {
        let mut needs = Vec::new();
        for need in spec.needs.iter().flat_map(|n| &n.value) {
            let target = match &need.value {
                NeedSpec::Service(name) => match services.get(name.0.as_str()) {
                    Some(&id) => Some(DependencyTarget::Service(id)),
                    None if self.reference_external(&name.0).is_some() => None,
                    None if self.left_out(&name.0, false, need.span) => None,
                    None => {
                        let mut names: Vec<&str> = services.keys().copied().collect();
                        names.sort_unstable();
                        let help = suggestion(&name.0, &names, "service");
                        let help = if tiers.contains_key(name.0.as_str()) {
                            format!(
                                "`{0}` is a tier: write `tier/{0}` to wait for all of it",
                                name.0
                            )
                        } else {
                            help
                        };
                        self.error(
                            "unknown-dependency",
                            format!("`{}` is not a service of this platform", name.0),
                            need.span,
                            "no such service",
                            help,
                        );
                        None
                    }
                },
                NeedSpec::Tier(name) => match tiers.get(name.0.as_str()) {
                    Some(&id) => Some(DependencyTarget::Tier(id)),
                    None if self.left_out(&name.0, true, need.span) => None,
                    None => {
                        let mut names: Vec<&str> = tiers.keys().map(String::as_str).collect();
                        names.sort_unstable();
                        let help = suggestion(&name.0, &names, "tier");
                        self.error(
                            "unknown-tier",
                            format!("`{}` is not a tier of this platform", name.0),
                            need.span,
                            "no such tier",
                            help,
                        );
                        None
                    }
                },
            };
            if let Some(target) = target {
                needs.push(Dependency {
                    target,
                    origin: DependencyOrigin::Needs,
                    span: need.span,
                    wait: true,
                });
            }
        }
        needs
    }
}

#[cfg(test)]
mod tests {
    use crate::model::Platform;
    use crate::source::SourceFile;
    use crate::spec;

    fn resolve(services: &str) -> Result<Platform, Vec<String>> {
        let text = format!("platform: p\ntiers:\n  - name: apps\n    services:\n{services}");
        let file = SourceFile::new("p.yaml", text);
        let doc = spec::parse(&file)
            .map_err(|e| e.iter().map(|d| d.code.to_string()).collect::<Vec<_>>())?;
        crate::resolve(&doc, None).map_err(|e| e.iter().map(|d| d.code.to_string()).collect())
    }

    #[test]
    fn a_call_without_waiting_keeps_the_edge_but_not_the_order() {
        let waiting = resolve(
            "      api: { image: a:1, ports: { http: 80 }, env: { S: '${search.host}' } }\n      search: { image: s:1, ports: { http: 80 } }\n",
        )
        .unwrap();
        assert!(waiting.service("api").unwrap().wave > waiting.service("search").unwrap().wave);
        let free = resolve(
            "      api: { image: a:1, ports: { http: 80 }, env: { S: '${search.host}' }, calls: { search: { wait: false } } }\n      search: { image: s:1, ports: { http: 80 } }\n",
        )
        .unwrap();
        assert_eq!(
            free.service("api").unwrap().wave,
            free.service("search").unwrap().wave
        );
        assert_eq!(free.edges.len(), 1, "the call is still an edge");
    }

    #[test]
    fn calls_without_waiting_may_go_both_ways() {
        let mutual = "      a: { image: a:1, ports: { http: 80 }, env: { B: '${b.host}' }, calls: { b: { wait: false } } }\n      b: { image: b:1, ports: { http: 80 }, env: { A: '${a.host}' } }\n";
        assert!(resolve(mutual).is_ok());
        let cycle = mutual.replace(", calls: { b: { wait: false } }", "");
        assert_eq!(resolve(&cycle).unwrap_err(), ["dependency-cycle"]);
    }

    #[test]
    fn wait_is_per_callee_and_needs_a_named_callee() {
        let text = "platform: p\ntiers:\n  - name: data\n    services:\n      b: { image: b:1, ports: { http: 80 } }\n  - name: apps\n    services:\n      a: { image: a:1, ports: { http: 80 }, needs: [tier/data], calls: { b: { wait: false } } }\n";
        let file = SourceFile::new("p.yaml", text);
        let errors = crate::resolve(&spec::parse(&file).unwrap(), None).unwrap_err();
        let codes: Vec<&str> = errors.iter().map(|d| d.code).collect();
        assert_eq!(codes, ["wait-without-dependency"]);
        let file = SourceFile::new(
            "p.yaml",
            "platform: p\ndefaults: { calls: { wait: false } }\ntiers:\n  - name: apps\n    services:\n      a: { image: a:1 }\n",
        );
        let errors = crate::resolve(&spec::parse(&file).unwrap(), None).unwrap_err();
        assert_eq!(errors[0].code, "wait-in-defaults");
    }
}
