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
    outgoing: Outgoing,
    /// Per service, the positions of the edges it is the callee of, in
    /// edge order.
    incoming: Groups,
}

/// Edge positions grouped by service, in one vector: a `tier/NAME` need
/// makes an edge to every service of the tier, so a vector per service
/// (and 8-byte positions) would cost more than the edges themselves.
#[derive(Debug, Clone, Default)]
struct Groups {
    /// Where each service's positions start in `positions`; one more entry
    /// than services, the last the end.
    starts: Vec<u32>,
    positions: Vec<u32>,
}

impl Groups {
    /// The positions in `0..keys.len()` grouped by their key, each group
    /// in order; `groups` keys in all.
    fn new(groups: usize, keys: impl Iterator<Item = usize> + Clone) -> Groups {
        let starts = starts(groups, keys.clone());
        let mut next = starts.clone();
        let mut positions = vec![0u32; starts[groups] as usize];
        for (position, key) in keys.enumerate() {
            positions[next[key] as usize] = as_u32(position);
            next[key] += 1;
        }
        Groups { starts, positions }
    }

    fn get(&self, key: usize) -> &[u32] {
        &self.positions[run(&self.starts, key)]
    }
}

/// Where each of `groups` groups starts when `keys` are grouped by their
/// value, in order: one more entry than groups, the last the end.
fn starts(groups: usize, keys: impl Iterator<Item = usize>) -> Vec<u32> {
    let mut starts = vec![0u32; groups + 1];
    for key in keys {
        starts[key + 1] += 1;
    }
    for i in 0..groups {
        starts[i + 1] += starts[i];
    }
    starts
}

/// The positions of group `key` by its `starts`; none for a key past them.
fn run(starts: &[u32], key: usize) -> std::ops::Range<usize> {
    match (starts.get(key), starts.get(key + 1)) {
        (Some(&start), Some(&end)) => start as usize..end as usize,
        _ => 0..0,
    }
}

/// The edges of each caller. Resolve makes the edges of a caller's needs
/// next to each other, callers in order, and appends the few that routes
/// add: the positions of the first need no storing (they would repeat the
/// edges' own order, 4 bytes an edge), only where each caller's run starts.
#[derive(Debug, Clone, Default)]
struct Outgoing {
    /// The edges before this position are in caller order.
    sorted: usize,
    /// Where each caller's edges start among the sorted ones; one more
    /// entry than services, the last the end.
    starts: Vec<u32>,
    /// The positions of the edges after the sorted ones, less `sorted`,
    /// grouped by caller.
    rest: Groups,
}

impl Outgoing {
    fn new(services: usize, edges: &[Edge]) -> Outgoing {
        let sorted = edges
            .windows(2)
            .position(|pair| pair[1].from() < pair[0].from())
            .map_or(edges.len(), |last| last + 1);
        Outgoing {
            sorted,
            starts: starts(services, edges[..sorted].iter().map(|e| e.from().0)),
            rest: Groups::new(services, edges[sorted..].iter().map(|e| e.from().0)),
        }
    }

    /// The positions of `key`'s edges, in order.
    fn get(&self, key: usize) -> impl Iterator<Item = usize> + '_ {
        run(&self.starts, key).chain(self.rest.get(key).iter().map(|&p| self.sorted + p as usize))
    }

    /// How many edges `key` has.
    fn count(&self, key: usize) -> usize {
        run(&self.starts, key).len() + self.rest.get(key).len()
    }
}

/// A position as stored: a platform holds far fewer than 2^32 edges.
fn as_u32(position: usize) -> u32 {
    u32::try_from(position).expect("fewer than 2^32 edges")
}

impl Lookup {
    /// The lookups of `services` and `edges`.
    pub fn new(services: &[Service], edges: &[Edge]) -> Lookup {
        Lookup {
            by_name: services
                .iter()
                .enumerate()
                .map(|(i, s)| (s.name.clone(), i))
                .collect(),
            outgoing: Outgoing::new(services.len(), edges),
            incoming: Groups::new(services.len(), edges.iter().map(|e| e.to().0)),
        }
    }

    /// The position of the service called `name`, if the lookup knows one.
    pub(super) fn position(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    /// Positions of the edges `id` calls through, in order.
    pub(super) fn outgoing(&self, id: ServiceId) -> impl Iterator<Item = usize> + '_ {
        self.outgoing.get(id.0)
    }

    /// How many edges `id` calls through.
    pub(super) fn outgoing_count(&self, id: ServiceId) -> usize {
        self.outgoing.count(id.0)
    }

    /// Positions of the edges `id` is called through.
    pub(super) fn incoming(&self, id: ServiceId) -> &[u32] {
        self.incoming.get(id.0)
    }
}

#[cfg(test)]
mod tests {
    use super::{Groups, Outgoing};
    use crate::model::{Edge, ServiceId};

    fn edges(pairs: &[(usize, usize)]) -> Vec<Edge> {
        pairs
            .iter()
            .map(|&(from, to)| Edge::new(ServiceId(from), ServiceId(to), 0))
            .collect()
    }

    #[test]
    fn outgoing_edges_are_those_of_each_caller_in_order() {
        // Callers in order, then edges routes add, out of order.
        let edges = edges(&[(0, 1), (0, 2), (2, 0), (3, 1), (1, 3), (0, 3), (3, 2)]);
        let outgoing = Outgoing::new(5, &edges);
        assert_eq!(outgoing.sorted, 4);
        for caller in 0..6 {
            let expected: Vec<usize> = (0..edges.len())
                .filter(|&i| edges[i].from().0 == caller)
                .collect();
            assert_eq!(
                outgoing.get(caller).collect::<Vec<_>>(),
                expected,
                "{caller}"
            );
            assert_eq!(outgoing.count(caller), expected.len(), "{caller}");
        }
    }

    #[test]
    fn outgoing_edges_of_sorted_and_of_no_edges() {
        let sorted = edges(&[(0, 1), (1, 0), (1, 2)]);
        let outgoing = Outgoing::new(3, &sorted);
        assert_eq!(outgoing.sorted, 3);
        assert_eq!(outgoing.get(1).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(outgoing.get(2).count(), 0);
        let none = Outgoing::new(2, &[]);
        assert_eq!(none.get(0).count(), 0);
        assert_eq!(none.count(1), 0);
    }

    #[test]
    fn groups_keep_each_key_s_positions_in_order() {
        let keys = [2, 0, 2, 1, 0, 2];
        let groups = Groups::new(4, keys.iter().copied());
        assert_eq!(groups.get(0), [1, 4]);
        assert_eq!(groups.get(1), [3]);
        assert_eq!(groups.get(2), [0, 2, 5]);
        assert_eq!(groups.get(3), [] as [u32; 0]);
        assert_eq!(groups.get(4), [] as [u32; 0]);
    }
}
