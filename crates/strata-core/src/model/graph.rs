//! Layering of the dependency graph into waves, cycle reporting and the
//! critical path, over plain vertex indices so it can be tested alone.
//!
//! A vertex has a weight: services weigh 1 (they take a wave), tier barriers
//! weigh 0 (a tier is ready when its last service is). The level of a vertex
//! is its weight plus the highest level among the vertices it waits for.

use petgraph::Direction;
use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;

/// Levels of a graph without cycles, with the edges kept for walking back.
#[derive(Debug, Clone)]
pub struct Layering {
    /// The level of each vertex.
    pub levels: Vec<u32>,
    graph: DiGraph<u32, ()>,
}

/// Computes every vertex's level; `edges` are `(before, after)` pairs.
///
/// # Errors
/// The cycles of the graph, one per strongly connected component, each as
/// the list of vertices along it (the first is not repeated at the end).
///
/// ```
/// use strata_core::model::graph::layer;
/// let layering = layer(&[1, 1, 1], &[(0, 1), (1, 2)]).unwrap();
/// assert_eq!(layering.levels, vec![1, 2, 3]);
/// assert_eq!(layer(&[1, 1], &[(0, 1), (1, 0)]).unwrap_err(), vec![vec![0, 1]]);
/// ```
pub fn layer(weights: &[u32], edges: &[(usize, usize)]) -> Result<Layering, Vec<Vec<usize>>> {
    // Each edge once. `update_edge` would find repeats too, but by walking
    // the source's edges each time: quadratic for a tier's barrier, which
    // every service of the tiers after it waits for.
    let mut unique = edges.to_vec();
    unique.sort_unstable();
    unique.dedup();
    let mut graph = DiGraph::<u32, ()>::with_capacity(weights.len(), unique.len());
    for &w in weights {
        graph.add_node(w);
    }
    for (from, to) in unique {
        graph.add_edge(NodeIndex::new(from), NodeIndex::new(to), ());
    }
    let n = weights.len();
    let mut missing: Vec<usize> = (0..n)
        .map(|v| {
            graph
                .neighbors_directed(NodeIndex::new(v), Direction::Incoming)
                .count()
        })
        .collect();
    let mut levels = vec![0u32; n];
    let mut ready: Vec<usize> = (0..n).filter(|&v| missing[v] == 0).collect();
    let mut done = 0;
    while let Some(v) = ready.pop() {
        done += 1;
        levels[v] += weights[v];
        for next in graph.neighbors_directed(NodeIndex::new(v), Direction::Outgoing) {
            let next = next.index();
            levels[next] = levels[next].max(levels[v]);
            missing[next] -= 1;
            if missing[next] == 0 {
                ready.push(next);
            }
        }
    }
    if done == n {
        return Ok(Layering { levels, graph });
    }
    Err(cycles(&graph))
}

/// One shortest cycle through the lowest vertex of every cyclic component.
fn cycles(graph: &DiGraph<u32, ()>) -> Vec<Vec<usize>> {
    let mut found: Vec<Vec<usize>> = tarjan_scc(graph)
        .into_iter()
        .filter(|scc| scc.len() > 1 || graph.contains_edge(scc[0], scc[0]))
        .map(|scc| {
            let start = *scc.iter().min().expect("components are never empty");
            shortest_cycle(graph, start, &scc)
        })
        .collect();
    found.sort();
    found
}

fn shortest_cycle(
    graph: &DiGraph<u32, ()>,
    start: NodeIndex,
    component: &[NodeIndex],
) -> Vec<usize> {
    let inside = |v: NodeIndex| component.contains(&v);
    let mut previous: Vec<Option<NodeIndex>> = vec![None; graph.node_count()];
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(v) = queue.pop_front() {
        let mut successors: Vec<NodeIndex> = graph.neighbors(v).filter(|&s| inside(s)).collect();
        successors.sort();
        for s in successors {
            if s == start {
                let mut path = vec![v.index()];
                let mut at = v;
                while at != start {
                    at = previous[at.index()].expect("every visited vertex has a predecessor");
                    path.push(at.index());
                }
                path.reverse();
                return path;
            }
            if previous[s.index()].is_none() {
                previous[s.index()] = Some(v);
                queue.push_back(s);
            }
        }
    }
    vec![start.index()]
}

impl Layering {
    /// The longest chain of waits ending at `end`, walking back through the
    /// lowest-numbered vertex that set each level.
    pub fn chain_to(&self, end: usize) -> Vec<usize> {
        let mut chain = vec![end];
        let mut at = NodeIndex::new(end);
        loop {
            let needed = self.levels[at.index()] - self.graph[at];
            let mut preds: Vec<NodeIndex> = self
                .graph
                .edges_directed(at, Direction::Incoming)
                .map(|e| e.source())
                .filter(|p| self.levels[p.index()] == needed)
                .collect();
            preds.sort();
            match preds.first() {
                Some(&p) if needed > 0 => {
                    chain.push(p.index());
                    at = p;
                }
                _ => break,
            }
        }
        chain.reverse();
        chain
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn barriers_take_no_wave() {
        // 0, 1 are services of a tier whose barrier is 2; 3 waits for the tier.
        let layering = layer(&[1, 1, 0, 1], &[(0, 1), (0, 2), (1, 2), (2, 3)]).unwrap();
        assert_eq!(layering.levels, vec![1, 2, 2, 3]);
        assert_eq!(layering.chain_to(3), vec![0, 1, 2, 3]);
    }

    #[test]
    fn self_loops_are_cycles() {
        assert_eq!(layer(&[1], &[(0, 0)]).unwrap_err(), vec![vec![0]]);
    }

    fn reaches(n: usize, edges: &[(usize, usize)], from: usize, to: usize) -> bool {
        let mut seen = vec![false; n];
        let mut stack = vec![from];
        while let Some(v) = stack.pop() {
            for &(a, b) in edges {
                if a == v && !seen[b] {
                    if b == to {
                        return true;
                    }
                    seen[b] = true;
                    stack.push(b);
                }
            }
        }
        false
    }

    proptest! {
        #[test]
        fn every_edge_points_to_a_later_wave(
            n in 1usize..60,
            raw in proptest::collection::vec((0usize..60, 0usize..60), 0..200),
        ) {
            // Edges from lower to higher index only: always acyclic.
            let edges: Vec<(usize, usize)> = raw
                .into_iter()
                .map(|(a, b)| (a % n, b % n))
                .filter(|(a, b)| a < b)
                .collect();
            let layering = layer(&vec![1; n], &edges).unwrap();
            for &(a, b) in &edges {
                prop_assert!(layering.levels[a] < layering.levels[b]);
            }
            for (v, &level) in layering.levels.iter().enumerate() {
                prop_assert!(level >= 1);
                prop_assert_eq!(u32::try_from(layering.chain_to(v).len()).unwrap(), level);
            }
        }

        #[test]
        fn every_cycle_is_reported(
            n in 1usize..25,
            raw in proptest::collection::vec((0usize..25, 0usize..25), 0..60),
        ) {
            let edges: Vec<(usize, usize)> = raw.into_iter().map(|(a, b)| (a % n, b % n)).collect();
            let cyclic: Vec<usize> = (0..n).filter(|&v| reaches(n, &edges, v, v)).collect();
            match layer(&vec![1; n], &edges) {
                Ok(_) => prop_assert!(cyclic.is_empty()),
                Err(cycles) => {
                    prop_assert!(!cyclic.is_empty());
                    let mut covered = Vec::new();
                    for cycle in &cycles {
                        for (i, &v) in cycle.iter().enumerate() {
                            let next = cycle[(i + 1) % cycle.len()];
                            prop_assert!(edges.contains(&(v, next)), "{v} -> {next} is not an edge");
                            prop_assert!(cyclic.contains(&v));
                        }
                        covered.push(cycle[0]);
                    }
                    // One cycle per component: every cyclic vertex shares a
                    // component with exactly one reported cycle.
                    for &v in &cyclic {
                        let hits = covered
                            .iter()
                            .filter(|&&c| c == v || (reaches(n, &edges, c, v) && reaches(n, &edges, v, c)))
                            .count();
                        prop_assert_eq!(hits, 1);
                    }
                }
            }
        }
    }
}
