//! Where every box and arrow of a [`Diagram`] goes.
//!
//! Columns are the edge and the waves, left to right; lanes are the edge
//! and the tiers, top tier first. In each lane every column stacks its boxes in the same row
//! slots, with a gap above each slot, so boxes never overlap and the gaps
//! line up across the lane. Arrows are orthogonal and run only in the
//! gutters between columns and in those gaps: out of the left box's right
//! side, along a track of the gutter kept for that box, across in the gap
//! above the right box, down a track kept for the right box, into its left
//! side. No arrow passes behind a box.

// Pixel arithmetic: counts of columns, rows and characters become
// coordinates of a picture a few thousand pixels wide, far from any
// integer's limits.
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss
)]

use std::collections::BTreeMap;

use super::Diagram;

/// Width of a box.
pub const BOX_WIDTH: i32 = 200;
/// Height of a box.
pub const BOX_HEIGHT: i32 = 40;
/// Gap above each row slot, where arrows cross columns.
const ROW_GAP: i32 = 24;
/// Height of a lane's label strip.
const LANE_HEADER: i32 = 24;
/// Space between lanes.
const LANE_GAP: i32 = 16;
/// Space around the picture.
const MARGIN: i32 = 24;
/// Height of the title and column headers.
const HEADER: i32 = 64;
/// Space between two arrow tracks in a gutter.
const TRACK: i32 = 6;
/// Narrowest gutter.
const GUTTER: i32 = 36;

/// A rectangle in picture coordinates (y grows downwards).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rect {
    /// Left.
    pub x: i32,
    /// Top.
    pub y: i32,
    /// Width.
    pub width: i32,
    /// Height.
    pub height: i32,
}

impl Rect {
    /// Whether the interiors of two rectangles meet.
    pub fn overlaps(&self, other: &Rect) -> bool {
        self.x < other.x + other.width
            && other.x < self.x + self.width
            && self.y < other.y + other.height
            && other.y < self.y + self.height
    }

    /// Whether the segment from `a` to `b` (horizontal or vertical) passes
    /// through the interior of this rectangle.
    pub fn crossed_by(&self, a: (i32, i32), b: (i32, i32)) -> bool {
        let (x0, x1) = (a.0.min(b.0), a.0.max(b.0));
        let (y0, y1) = (a.1.min(b.1), a.1.max(b.1));
        // Some point of the segment strictly inside the rectangle.
        x0.max(self.x + 1) < x1.min(self.x + self.width - 1) + 1
            && y0.max(self.y + 1) < y1.min(self.y + self.height - 1) + 1
    }
}

/// The geometry of a diagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// Width of the picture.
    pub width: i32,
    /// Height of the picture.
    pub height: i32,
    /// Each node's box, in [`Diagram::nodes`] order.
    pub boxes: Vec<Rect>,
    /// Each lane's band, in [`Diagram::lanes`] order.
    pub lanes: Vec<Rect>,
    /// Each used column's title and the x of its centre.
    pub columns: Vec<(String, i32)>,
    /// Each link's path, corner by corner, from `from` to `to`.
    pub paths: Vec<Vec<(i32, i32)>>,
}

impl Layout {
    /// Lays `diagram` out.
    pub fn new(diagram: &Diagram) -> Self {
        // Columns that hold a box, in order.
        let mut used: Vec<usize> = diagram.nodes.iter().map(|n| n.column).collect();
        used.sort_unstable();
        used.dedup();
        let position = |column: usize| used.iter().position(|c| *c == column).unwrap_or(0);

        // Row slot of each node within its lane and column.
        let mut filled: BTreeMap<(usize, usize), i32> = BTreeMap::new();
        let slots: Vec<i32> = diagram
            .nodes
            .iter()
            .map(|node| {
                let slot = filled.entry((node.lane, node.column)).or_default();
                *slot += 1;
                *slot - 1
            })
            .collect();
        let rows: Vec<i32> = (0..diagram.lanes.len())
            .map(|lane| {
                filled
                    .iter()
                    .filter(|((l, _), _)| *l == lane)
                    .map(|(_, n)| *n)
                    .max()
                    .unwrap_or(1)
            })
            .collect();

        // The ends of each link: the box on the left and the one on the right.
        let ends: Vec<(usize, usize)> = diagram
            .links
            .iter()
            .map(|link| {
                let (a, b) = (link.from, link.to);
                if diagram.nodes[a].column <= diagram.nodes[b].column {
                    (a, b)
                } else {
                    (b, a)
                }
            })
            .collect();
        // Gutter g is left of used column g; the last one closes the picture.
        // Each keeps one track per box whose arrows enter it.
        let mut tracks: Vec<Vec<(usize, bool)>> = vec![Vec::new(); used.len() + 1];
        let mut track_of = |gutter: usize, key: (usize, bool)| -> usize {
            let list = &mut tracks[gutter];
            if let Some(i) = list.iter().position(|k| *k == key) {
                i
            } else {
                list.push(key);
                list.len() - 1
            }
        };
        let link_tracks: Vec<(usize, usize)> = ends
            .iter()
            .map(|(left, right)| {
                let out = track_of(position(diagram.nodes[*left].column) + 1, (*left, true));
                let into = track_of(position(diagram.nodes[*right].column), (*right, false));
                (out, into)
            })
            .collect();
        let gutter_width: Vec<i32> = tracks
            .iter()
            .map(|t| GUTTER.max(TRACK * (t.len() as i32 + 1)))
            .collect();

        // x of each used column's left side.
        let mut column_x = Vec::new();
        let mut x = MARGIN + gutter_width[0];
        for gutter in &gutter_width[1..] {
            column_x.push(x);
            x += BOX_WIDTH + gutter;
        }
        let width = x + MARGIN;

        // y of each lane's top.
        let mut lanes = Vec::new();
        let mut y = HEADER;
        for rows in &rows {
            let height = LANE_HEADER + rows * (BOX_HEIGHT + ROW_GAP) + ROW_GAP / 2;
            lanes.push(Rect {
                x: MARGIN,
                y,
                width: width - 2 * MARGIN,
                height,
            });
            y += height + LANE_GAP;
        }
        let height = y - LANE_GAP + MARGIN;

        let boxes: Vec<Rect> = diagram
            .nodes
            .iter()
            .zip(&slots)
            .map(|(node, slot)| Rect {
                x: column_x[position(node.column)],
                y: lanes[node.lane].y + LANE_HEADER + ROW_GAP + slot * (BOX_HEIGHT + ROW_GAP),
                width: BOX_WIDTH,
                height: BOX_HEIGHT,
            })
            .collect();

        let gutter_left = |g: usize| -> i32 {
            if g == 0 {
                MARGIN
            } else {
                column_x[g - 1] + BOX_WIDTH
            }
        };
        let paths = diagram
            .links
            .iter()
            .zip(&ends)
            .zip(&link_tracks)
            .map(|((link, (left, right)), (out, into))| {
                let l = boxes[*left];
                let r = boxes[*right];
                let out_x = gutter_left(position(diagram.nodes[*left].column) + 1)
                    + TRACK * (*out as i32 + 1);
                let into_x = gutter_left(position(diagram.nodes[*right].column))
                    + TRACK * (*into as i32 + 1);
                // Across in the gap above the right box, a little off its
                // middle by column so crossings of neighbours stay apart.
                let lane = position(diagram.nodes[*right].column) as i32 % 3 - 1;
                let across = r.y - ROW_GAP / 2 + lane * (ROW_GAP / 4);
                let mid = |b: Rect| b.y + b.height / 2;
                let mut path = vec![
                    (l.x + l.width, mid(l)),
                    (out_x, mid(l)),
                    (out_x, across),
                    (into_x, across),
                    (into_x, mid(r)),
                    (r.x, mid(r)),
                ];
                path.dedup();
                if link.from != *left {
                    path.reverse();
                }
                path
            })
            .collect();

        Layout {
            width,
            height,
            boxes,
            lanes,
            columns: used
                .iter()
                .zip(&column_x)
                .map(|(c, x)| (diagram.columns[*c].clone(), x + BOX_WIDTH / 2))
                .collect(),
            paths,
        }
    }

    /// Pairs of boxes that overlap (none, by construction).
    pub fn overlapping_boxes(&self) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        for (i, a) in self.boxes.iter().enumerate() {
            for (j, b) in self.boxes.iter().enumerate().skip(i + 1) {
                if a.overlaps(b) {
                    out.push((i, j));
                }
            }
        }
        out
    }

    /// Links that pass behind a box (none, by construction), with the box.
    pub fn hidden_links(&self) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        for (l, path) in self.paths.iter().enumerate() {
            for pair in path.windows(2) {
                for (b, rect) in self.boxes.iter().enumerate() {
                    if rect.crossed_by(pair[0], pair[1]) && !out.contains(&(l, b)) {
                        out.push((l, b));
                    }
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::shop;
    use super::*;

    #[test]
    fn boxes_never_overlap_and_arrows_never_pass_behind_them() {
        let diagram = shop();
        let layout = Layout::new(&diagram);
        assert_eq!(layout.boxes.len(), diagram.nodes.len());
        assert!(layout.overlapping_boxes().is_empty());
        assert!(layout.hidden_links().is_empty(), "{:?}", layout.paths);
        for (path, link) in layout.paths.iter().zip(&diagram.links) {
            let from = layout.boxes[link.from];
            let to = layout.boxes[link.to];
            let (start, end) = (path[0], path[path.len() - 1]);
            assert!(
                start.0 == from.x || start.0 == from.x + from.width,
                "{path:?}"
            );
            assert!(end.0 == to.x || end.0 == to.x + to.width, "{path:?}");
            for pair in path.windows(2) {
                assert!(
                    pair[0].0 == pair[1].0 || pair[0].1 == pair[1].1,
                    "orthogonal: {path:?}"
                );
            }
        }
    }

    #[test]
    fn the_geometry_checks_can_fail() {
        let a = Rect {
            x: 0,
            y: 0,
            width: 10,
            height: 10,
        };
        assert!(a.overlaps(&Rect {
            x: 5,
            y: 5,
            width: 10,
            height: 10
        }));
        assert!(
            !a.overlaps(&Rect {
                x: 10,
                y: 0,
                width: 10,
                height: 10
            }),
            "touching is not overlapping"
        );
        assert!(a.crossed_by((-5, 5), (15, 5)));
        assert!(!a.crossed_by((-5, 0), (15, 0)), "along an edge");
        assert!(!a.crossed_by((10, 5), (20, 5)), "from the side outwards");
        assert!(a.crossed_by((5, -5), (5, 15)));
    }

    #[test]
    fn columns_are_waves_and_lanes_are_tiers() {
        let diagram = shop();
        let layout = Layout::new(&diagram);
        let titles: Vec<&str> = layout.columns.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(titles, ["wave 1", "wave 2", "wave 3"]);
        let db = diagram.nodes.iter().position(|n| n.name == "db").unwrap();
        let api = diagram.nodes.iter().position(|n| n.name == "api").unwrap();
        assert!(
            layout.boxes[db].x < layout.boxes[api].x,
            "earlier waves on the left"
        );
        assert!(
            layout.boxes[db].y > layout.boxes[api].y,
            "the bottom tier at the bottom"
        );
    }
}
