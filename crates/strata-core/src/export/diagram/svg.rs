//! A laid-out [`Diagram`] as SVG text: lanes as bands, services as boxes
//! (stateful ones with a double border, gateways with cut corners,
//! externals dashed), arrows
//! drawn last so nothing covers them. Every box is a `<rect
//! class="node">` and every arrow a `<polyline class="link">`, so tests
//! and stylesheets can find them.

// Pixel arithmetic: counts of columns, rows and characters become
// coordinates of a picture a few thousand pixels wide, far from any
// integer's limits.
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss
)]

use std::fmt::Write as _;

use super::layout::{BOX_HEIGHT, Layout, Rect};
use super::{Diagram, LinkKind, Shape, lane_label};

/// Width of one character of the box text, for truncating long names.
const CHARACTER: i32 = 7;

/// The SVG document of `diagram` laid out as `layout`.
pub fn draw(diagram: &Diagram, layout: &Layout) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="Helvetica, Arial, sans-serif" font-size="12">"#,
        w = layout.width,
        h = layout.height
    );
    out.push_str(concat!(
        "<defs>\n",
        "  <marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#55606e\"/></marker>\n",
        "  <marker id=\"route\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#b35c00\"/></marker>\n",
        "</defs>\n",
        "<style>\n",
        "  .lane { fill: #f4f6f9; stroke: #d5dbe3; }\n",
        "  .lane-label { font-weight: bold; fill: #3b4653; }\n",
        "  .column-label { fill: #6b7785; text-anchor: middle; }\n",
        "  .node { fill: #ffffff; stroke: #4a6fa5; stroke-width: 1.5; }\n",
        "  .node.stateful { fill: #eef3fb; }\n",
        "  .node.gateway { fill: #fff4e6; stroke: #b35c00; }\n",
        "  .node.external { fill: #f9f9f9; stroke: #7a8594; stroke-dasharray: 5 3; }\n",
        "  .inner { fill: none; stroke: #4a6fa5; }\n",
        "  .name { font-weight: bold; fill: #1d2733; }\n",
        "  .detail { fill: #55606e; font-size: 11px; }\n",
        "  .link { fill: none; stroke: #55606e; stroke-width: 1; opacity: 0.75; }\n",
        "  .link.route { stroke: #b35c00; stroke-width: 1.5; opacity: 1; }\n",
        "  .link.call { stroke-dasharray: 4 3; }\n",
        "</style>\n",
    ));
    let _ = writeln!(
        out,
        r##"<rect width="{}" height="{}" fill="#ffffff"/>"##,
        layout.width, layout.height
    );
    let _ = writeln!(
        out,
        r#"<text x="24" y="28" font-size="18" class="name">{}</text>"#,
        escape(&diagram.title)
    );
    let _ = writeln!(
        out,
        r#"<text x="24" y="46" class="detail">boxes: services (double border: stateful; dashed: external) · arrows: waits for (dashed: calls) · bold orange: gateway routes</text>"#
    );
    for (title, x) in &layout.columns {
        let _ = writeln!(
            out,
            r#"<text x="{x}" y="58" class="column-label">{}</text>"#,
            escape(title)
        );
    }
    for (lane, rect) in diagram.lanes.iter().zip(&layout.lanes) {
        let _ = writeln!(
            out,
            r#"<rect class="lane" x="{}" y="{}" width="{}" height="{}" rx="6"/>"#,
            rect.x, rect.y, rect.width, rect.height
        );
        let _ = writeln!(
            out,
            r#"<text class="lane-label" x="{}" y="{}">{}</text>"#,
            rect.x + 10,
            rect.y + 17,
            escape(&lane_label(lane))
        );
    }
    for (node, rect) in diagram.nodes.iter().zip(&layout.boxes) {
        draw_box(&mut out, node, rect);
    }
    for (link, path) in diagram.links.iter().zip(&layout.paths) {
        let points: Vec<String> = path.iter().map(|(x, y)| format!("{x},{y}")).collect();
        let (class, marker) = match link.kind {
            LinkKind::WaitsFor => ("link", "arrow"),
            LinkKind::Calls => ("link call", "arrow"),
            LinkKind::RoutesTo => ("link route", "route"),
        };
        let what = match (&link.kind, &link.label) {
            (LinkKind::WaitsFor, Some(label)) => format!("sends {label} to, and waits for,"),
            (LinkKind::WaitsFor, None) => "waits for".to_string(),
            (LinkKind::Calls, _) => "calls, without waiting for,".to_string(),
            (LinkKind::RoutesTo, Some(label)) => format!("routes {label} to"),
            (LinkKind::RoutesTo, None) => "routes to".to_string(),
        };
        let _ = writeln!(
            out,
            r#"<polyline class="{class}" points="{}" marker-end="url(#{marker})"><title>{} {} {}</title></polyline>"#,
            points.join(" "),
            escape(&diagram.nodes[link.from].name),
            escape(&what),
            escape(&diagram.nodes[link.to].name)
        );
    }
    out.push_str("</svg>\n");
    out
}

fn draw_box(out: &mut String, node: &super::Node, rect: &Rect) {
    let class = match node.shape {
        Shape::Service => "node",
        Shape::Stateful => "node stateful",
        Shape::Gateway => "node gateway",
        Shape::External => "node external",
    };
    let radius = if node.shape == Shape::Gateway { 0 } else { 4 };
    let _ = writeln!(
        out,
        r#"<rect class="{class}" x="{}" y="{}" width="{}" height="{}" rx="{radius}"><title>{}: {}</title></rect>"#,
        rect.x,
        rect.y,
        rect.width,
        rect.height,
        escape(&node.name),
        escape(&node.detail)
    );
    if node.shape == Shape::Stateful {
        let _ = writeln!(
            out,
            r#"<rect class="inner" x="{}" y="{}" width="{}" height="{}" rx="2"/>"#,
            rect.x + 3,
            rect.y + 3,
            rect.width - 6,
            rect.height - 6
        );
    }
    let fits = ((rect.width - 16) / CHARACTER) as usize;
    let _ = writeln!(
        out,
        r#"<text class="name" x="{}" y="{}">{}</text>"#,
        rect.x + 8,
        rect.y + BOX_HEIGHT / 2 - 3,
        escape(&truncate(&node.name, fits))
    );
    let _ = writeln!(
        out,
        r#"<text class="detail" x="{}" y="{}">{}</text>"#,
        rect.x + 8,
        rect.y + BOX_HEIGHT / 2 + 12,
        escape(&truncate(&node.detail, fits + 2))
    );
}

/// `text` cut to `chars` characters, with `…` when cut.
fn truncate(text: &str, chars: usize) -> String {
    if text.chars().count() <= chars {
        text.to_string()
    } else {
        let kept: String = text.chars().take(chars.saturating_sub(1)).collect();
        format!("{kept}…")
    }
}

/// `text` with XML's special characters escaped.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::super::tests::shop;
    use super::*;

    #[test]
    fn every_box_and_arrow_is_in_the_picture() {
        let diagram = shop();
        let svg = diagram.svg();
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.ends_with("</svg>\n"));
        assert_eq!(
            svg.matches("<rect class=\"node").count(),
            diagram.nodes.len()
        );
        assert_eq!(
            svg.matches("<rect class=\"inner\"").count(),
            1,
            "one stateful service"
        );
        assert_eq!(
            svg.matches("<polyline class=\"link").count(),
            diagram.links.len()
        );
        assert!(svg.contains("<title>web waits for api</title>"));
    }

    #[test]
    fn text_is_escaped_and_cut_to_fit() {
        assert_eq!(escape("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abc", 4), "abc");
    }
}
