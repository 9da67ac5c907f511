//! Lookups into a platform built once when it is resolved: services by
//! name, and the edges of each service both ways, so that rendering a
//! service reads its own edges instead of scanning every edge of the
//! platform (which made render quadratic in the number of services).

use std::collections::HashMap;

use super::{Edge, Service, ServiceId};

/// Positions in [`Platform::services`](super::Platform::services) and
/// [`Platform::edges`](super::Platform::edges), per service.
#[derive(Debug, Clone, Default)]
pub struct Lookup {
    by_name: HashMap<String, usize>,
    /// Per service, the positions of the edges it is the caller of, in
    /// edge order.
    outgoing: Vec<Vec<usize>>,
    /// Per service, the positions of the edges it is the callee of, in
    /// edge order.
    incoming: Vec<Vec<usize>>,
}

impl Lookup {
    /// The lookups of `services` and `edges`.
    pub fn new(services: &[Service], edges: &[Edge]) -> Lookup {
        let mut outgoing = vec![Vec::new(); services.len()];
        let mut incoming = vec![Vec::new(); services.len()];
        for (i, edge) in edges.iter().enumerate() {
            outgoing[edge.from.0].push(i);
            incoming[edge.to.0].push(i);
        }
        Lookup {
            by_name: services
                .iter()
                .enumerate()
                .map(|(i, s)| (s.name.clone(), i))
                .collect(),
            outgoing,
            incoming,
        }
    }

    /// The position of the service called `name`, if the lookup knows one.
    pub(super) fn position(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    /// Positions of the edges `id` calls through.
    pub(super) fn outgoing(&self, id: ServiceId) -> &[usize] {
        self.outgoing.get(id.0).map_or(&[], Vec::as_slice)
    }

    /// Positions of the edges `id` is called through.
    pub(super) fn incoming(&self, id: ServiceId) -> &[usize] {
        self.incoming.get(id.0).map_or(&[], Vec::as_slice)
    }
}
