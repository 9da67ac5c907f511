//! Where pods run: node pools and PriorityClasses.

use super::{Resolver, text};
use crate::diag::{Diagnostic, suggestion};
use crate::model::{NodePool, NodeRange, Priority, Service, Taint};
use crate::source::Span;

impl Resolver<'_> {
    pub(super) fn node_pools(&mut self) -> Vec<NodePool> {
        use crate::spec::platform::NodeCount;
        let mut ranges = Vec::new();
        for (_, pool) in self.spec.node_pools.iter().flat_map(|p| p.value.iter()) {
            ranges.push(pool.value.nodes.as_ref().and_then(|n| match &n.value {
                NodeCount::Fixed(count) => Some(NodeRange {
                    min: *count,
                    max: *count,
                }),
                NodeCount::Range(range) => {
                    let (min, max) = (range.min.value, range.max.value);
                    if min > max || max == 0 {
                        self.error(
                            "invalid-node-range",
                            format!("the node range {min} to {max} is empty"),
                            n.span,
                            "invalid range",
                            "write `{ min, max }` with `min <= max` and `max` at least 1".into(),
                        );
                        return None;
                    }
                    Some(NodeRange { min, max })
                }
            }));
        }
        self.spec
            .node_pools
            .iter()
            .flat_map(|p| p.value.iter())
            .zip(ranges)
            .map(|((name, pool), nodes)| {
                let pool = &pool.value;
                let capacity = pool.capacity.as_ref().map(|c| &c.value);
                NodePool {
                    name: text(name),
                    selector: pool
                        .selector
                        .value
                        .iter()
                        .map(|(k, v)| (text(k), v.value.0.clone()))
                        .collect(),
                    taints: pool
                        .taints
                        .iter()
                        .flat_map(|t| &t.value)
                        .map(|t| Taint {
                            key: t.value.key.clone(),
                            value: t.value.value.clone(),
                            effect: t.value.effect.clone(),
                        })
                        .collect(),
                    nodes,
                    instance_type: pool.instance_type.as_ref().map(|t| t.value.clone()),
                    cpu: capacity.and_then(|c| c.cpu.as_ref()).map(|c| c.value.0),
                    memory: capacity.and_then(|c| c.memory.as_ref()).map(|m| m.value.0),
                    gpu: capacity.and_then(|c| c.gpu.as_ref()).map(|g| g.value),
                }
            })
            .collect()
    }

    /// The declared PriorityClasses, and the services' `priority:` checked
    /// against them.
    pub(super) fn priorities(
        &mut self,
        services: &[Service],
        specs: &[super::service::Filled<'_>],
    ) -> Vec<Priority> {
        use crate::spec::platform::PrioritySpec;
        // The API server reserves values above one billion for system classes.
        const MAX_PRIORITY: u32 = 1_000_000_000;
        let mut out: Vec<Priority> = Vec::new();
        let mut default_span: Option<Span> = None;
        for (name, priority) in self.spec.priorities.iter().flat_map(|p| p.value.iter()) {
            let (value, value_span, default, description) = match &priority.value {
                PrioritySpec::Value(v) => (*v, priority.span, None, None),
                PrioritySpec::Detail(d) => (
                    d.value.value,
                    d.value.span,
                    d.default.as_ref(),
                    d.description.as_ref().map(|t| t.value.clone()),
                ),
            };
            if value > MAX_PRIORITY {
                self.error(
                    "out-of-range",
                    format!("the priority {value} is above {MAX_PRIORITY}"),
                    value_span,
                    "out of range",
                    format!("use a value from 0 to {MAX_PRIORITY}; higher ones are the system's"),
                );
            }
            let is_default = default.is_some_and(|d| d.value);
            if let (true, Some(first), Some(span)) =
                (is_default, default_span, default.map(|d| d.span))
            {
                let diagnostic = Diagnostic::error(
                    "duplicate-default",
                    "two priorities are the default".to_string(),
                )
                .at(&self.doc.file, span, "default again here")
                .also(first, "first default here")
                .help("keep `default: true` on one priority");
                self.errors.push(diagnostic);
            } else if is_default {
                default_span = default.map(|d| d.span);
            }
            out.push(Priority {
                name: text(name),
                value,
                default: is_default,
                description,
            });
        }
        let names: Vec<String> = out.iter().map(|p| p.name.clone()).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        for (service, spec) in services.iter().zip(specs) {
            if let (Some(wanted), Some(written)) = (&service.rare.priority, &spec.rare.priority)
                && !names.contains(&wanted.as_str())
            {
                let help = if names.is_empty() {
                    format!("declare it under `priorities:`: `{wanted}: 1000`")
                } else {
                    suggestion(wanted, &names, "priority")
                };
                self.error(
                    "unknown-priority",
                    format!("`{wanted}` is not a priority of this platform"),
                    written.span,
                    "no such priority",
                    help,
                );
            }
        }
        out
    }
}
