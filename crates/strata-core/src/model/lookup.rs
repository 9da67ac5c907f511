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
    outgoing: Groups,
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
        let mut starts = vec![0u32; groups + 1];
        for key in keys.clone() {
            starts[key + 1] += 1;
        }
        for i in 0..groups {
            starts[i + 1] += starts[i];
        }
        let mut next = starts.clone();
        let mut positions = vec![0u32; starts[groups] as usize];
        for (position, key) in keys.enumerate() {
            positions[next[key] as usize] = as_u32(position);
            next[key] += 1;
        }
        Groups { starts, positions }
    }

    fn get(&self, key: usize) -> &[u32] {
        match (self.starts.get(key), self.starts.get(key + 1)) {
            (Some(&start), Some(&end)) => &self.positions[start as usize..end as usize],
            _ => &[],
        }
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
            outgoing: Groups::new(services.len(), edges.iter().map(|e| e.from.0)),
            incoming: Groups::new(services.len(), edges.iter().map(|e| e.to.0)),
        }
    }

    /// The position of the service called `name`, if the lookup knows one.
    pub(super) fn position(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    /// Positions of the edges `id` calls through.
    pub(super) fn outgoing(&self, id: ServiceId) -> &[u32] {
        self.outgoing.get(id.0)
    }

    /// Positions of the edges `id` is called through.
    pub(super) fn incoming(&self, id: ServiceId) -> &[u32] {
        self.incoming.get(id.0)
    }
}

#[cfg(test)]
mod tests {
    use super::Groups;

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
