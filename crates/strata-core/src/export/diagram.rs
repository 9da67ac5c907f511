//! The platform as a picture: what `strata graph` draws.
//!
//! [`Diagram::new`] reads a [`Platform`] into boxes (services, gateways at
//! the edge, externals outside), lanes (one per tier, with its namespace),
//! columns (one per wave) and links (what a service waits for or calls,
//! what a gateway routes to).
//! [`Diagram::mermaid`] and [`Diagram::dot`] write it for other tools;
//! [`Diagram::svg`] lays it out here ([`layout`]) and draws it ([`svg`]).

pub mod layout;
pub mod svg;

use std::fmt::Write as _;

use crate::model::{DependencyOrigin, DependencyTarget, Platform, Protocol, WorkloadKind};

/// How a box is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// A service without a volume of its own per pod.
    Service,
    /// A stateful service (a StatefulSet): drawn with a double border.
    Stateful,
    /// A gateway at the edge of the platform.
    Gateway,
    /// A dependency outside the spec (`externals:`): drawn dashed.
    External,
}

/// One box: a service, a gateway or an external.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// Its name.
    pub name: String,
    /// The lane it is in (index into [`Diagram::lanes`]).
    pub lane: usize,
    /// The column: 0 for gateways and externals, the wave for services.
    pub column: usize,
    /// Replicas and key ports (`×3 · http 8500 · dns 8600/udp`).
    pub detail: String,
    /// How it is drawn.
    pub shape: Shape,
}

/// A horizontal band of boxes: a tier, the edge, or what is outside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lane {
    /// The tier's name, `edge` for gateways, `outside` for externals.
    pub name: String,
    /// The namespace of its services, when they share one.
    pub namespace: Option<String>,
}

/// What a link means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkKind {
    /// `from` waits for `to` before it starts.
    WaitsFor,
    /// `from` calls `to` at run time without waiting for it (`wait: false`).
    Calls,
    /// Gateway `from` routes requests to `to`.
    RoutesTo,
}

/// An arrow between two boxes (indices into [`Diagram::nodes`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// Where it starts.
    pub from: usize,
    /// Where the arrow points.
    pub to: usize,
    /// What it means.
    pub kind: LinkKind,
    /// A label: a route's host and path; `backups` on the way a service's
    /// backups go to its store.
    pub label: Option<String>,
}

/// The picture of a platform, before layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagram {
    /// The platform's name and environment.
    pub title: String,
    /// Lanes, top to bottom: the edge (when there are gateways), the tiers
    /// from the top one down to the bottom one, then what is outside (when
    /// there are externals).
    pub lanes: Vec<Lane>,
    /// Columns: the edge, then one per wave.
    pub columns: Vec<String>,
    /// Boxes.
    pub nodes: Vec<Node>,
    /// Arrows.
    pub links: Vec<Link>,
}

impl Diagram {
    /// The diagram of `platform`. Dependencies a tier's `after:` implies
    /// are left out (the lanes show them); `needs: [tier/X]` links to each
    /// service of X.
    pub fn new(platform: &Platform) -> Self {
        let has_edge = !platform.gateways.is_empty();
        let mut lanes = Vec::new();
        if has_edge {
            lanes.push(Lane {
                name: "edge".to_string(),
                namespace: None,
            });
        }
        let first_tier_lane = lanes.len();
        // The top tier first, the bottom tier last: a layered picture.
        for tier in platform.tiers.iter().rev() {
            let namespaces: Vec<&str> = tier
                .services
                .iter()
                .map(|id| platform.services[id.0].namespace.as_str())
                .collect();
            let shared = namespaces
                .first()
                .filter(|first| namespaces.iter().all(|n| n == *first))
                .map_or_else(|| tier.namespace.clone(), std::string::ToString::to_string);
            lanes.push(Lane {
                name: tier.name.clone(),
                namespace: Some(shared),
            });
        }
        let mut columns = vec!["edge".to_string()];
        columns.extend((1..=platform.waves.len()).map(|w| format!("wave {w}")));

        let mut nodes: Vec<Node> = platform
            .services
            .iter()
            .map(|service| Node {
                name: service.name.clone(),
                lane: first_tier_lane + platform.tiers.len() - 1 - service.tier.0,
                column: service.wave,
                detail: service_detail(service),
                shape: if service.kind == WorkloadKind::Stateful {
                    Shape::Stateful
                } else {
                    Shape::Service
                },
            })
            .collect();
        let mut links: Vec<Link> = Vec::new();
        let mut add = |link: Link| {
            if link.from != link.to
                && !links
                    .iter()
                    .any(|l| l.from == link.from && l.to == link.to && l.kind == link.kind)
            {
                links.push(link);
            }
        };
        for (index, service) in platform.services.iter().enumerate() {
            for need in &service.needs {
                if need.origin == DependencyOrigin::TierAfter {
                    continue;
                }
                let targets: Vec<usize> = match need.target {
                    DependencyTarget::Service(id) => vec![id.0],
                    DependencyTarget::Tier(id) => {
                        platform.tiers[id.0].services.iter().map(|s| s.0).collect()
                    }
                };
                for target in targets {
                    add(Link {
                        from: index,
                        to: target,
                        kind: if need.wait {
                            LinkKind::WaitsFor
                        } else {
                            LinkKind::Calls
                        },
                        label: matches!(need.origin, DependencyOrigin::Backup(_))
                            .then(|| "backups".to_string()),
                    });
                }
            }
        }
        // Externals below the bottom tier; nothing waits for them.
        if !platform.externals.is_empty() {
            let lane = lanes.len();
            lanes.push(Lane {
                name: "outside".to_string(),
                namespace: None,
            });
            let first = nodes.len();
            for external in &platform.externals {
                let mut detail = vec!["external".to_string()];
                detail.extend(
                    external
                        .ports
                        .iter()
                        .take(2)
                        .map(|(name, port)| format!("{name} {port}")),
                );
                nodes.push(Node {
                    name: external.name.clone(),
                    lane,
                    column: 0,
                    detail: detail.join(" · "),
                    shape: Shape::External,
                });
            }
            for (index, service) in platform.services.iter().enumerate() {
                for call in &service.rare.externals {
                    add(Link {
                        from: index,
                        to: first + call.external,
                        kind: LinkKind::Calls,
                        label: None,
                    });
                }
            }
        }
        for (g, gateway) in platform.gateways.iter().enumerate() {
            let hosts = if gateway.hosts.is_empty() {
                "any host".to_string()
            } else {
                gateway.hosts.join(", ")
            };
            let index = nodes.len();
            nodes.push(Node {
                name: gateway.name.clone(),
                lane: 0,
                column: 0,
                detail: format!("{} · {hosts}", gateway.kind.as_str()),
                shape: Shape::Gateway,
            });
            for route in platform.routes.iter().filter(|r| r.gateway == g) {
                let host = route.hosts.first().map_or("", String::as_str);
                add(Link {
                    from: index,
                    to: route.service.0,
                    kind: LinkKind::RoutesTo,
                    label: Some(format!("{host}{}", route.path)),
                });
            }
        }
        let environment = platform
            .environment
            .as_deref()
            .map_or(String::new(), |e| format!(" ({e})"));
        Diagram {
            title: format!("{}{environment}", platform.name),
            lanes,
            columns,
            nodes,
            links,
        }
    }

    /// A Mermaid flowchart: a subgraph per lane, nodes in wave order,
    /// stateful services as cylinders, gateways as hexagons, externals as
    /// rounded boxes.
    pub fn mermaid(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "---\ntitle: {}\n---\nflowchart LR", self.title);
        for (l, lane) in self.lanes.iter().enumerate() {
            let label = lane_label(lane);
            let _ = writeln!(
                out,
                "  subgraph {}[\"{}\"]",
                lane_id(l),
                quote_mermaid(&label)
            );
            let mut members: Vec<usize> = (0..self.nodes.len())
                .filter(|n| self.nodes[*n].lane == l)
                .collect();
            members.sort_by_key(|n| self.nodes[*n].column);
            for n in members {
                let node = &self.nodes[n];
                let text = format!(
                    "{}<br/>{}",
                    quote_mermaid(&node.name),
                    quote_mermaid(&node.detail)
                );
                let shape = match node.shape {
                    Shape::Service => format!("[\"{text}\"]"),
                    Shape::Stateful => format!("[(\"{text}\")]"),
                    Shape::Gateway => format!("{{{{\"{text}\"}}}}"),
                    Shape::External => format!("(\"{text}\")"),
                };
                let _ = writeln!(out, "    {}{shape}", self.node_id(n));
            }
            out.push_str("  end\n");
        }
        for link in &self.links {
            let arrow = match (&link.kind, &link.label) {
                (LinkKind::WaitsFor, Some(label)) => {
                    format!("-->|\"{}\"|", quote_mermaid(label))
                }
                (LinkKind::WaitsFor, None) => "-->".to_string(),
                (LinkKind::Calls, _) => "-.->".to_string(),
                (LinkKind::RoutesTo, Some(label)) => {
                    format!("==>|\"{}\"|", quote_mermaid(label))
                }
                (LinkKind::RoutesTo, None) => "==>".to_string(),
            };
            let _ = writeln!(
                out,
                "  {} {arrow} {}",
                self.node_id(link.from),
                self.node_id(link.to)
            );
        }
        out
    }

    /// A Graphviz digraph: a cluster per lane, left to right.
    pub fn dot(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "digraph \"{}\" {{\n  rankdir=LR;\n  label=\"{}\";\n  node [shape=box, style=rounded, fontname=\"Helvetica\"];",
            quote_dot(&self.title),
            quote_dot(&self.title)
        );
        for (l, lane) in self.lanes.iter().enumerate() {
            let _ = writeln!(
                out,
                "  subgraph cluster_{l} {{\n    label=\"{}\";",
                quote_dot(&lane_label(lane))
            );
            for (n, node) in self.nodes.iter().enumerate().filter(|(_, n)| n.lane == l) {
                let shape = match node.shape {
                    Shape::Service => "",
                    Shape::Stateful => ", shape=cylinder, style=\"\"",
                    Shape::Gateway => ", shape=hexagon, style=\"\"",
                    Shape::External => ", style=\"rounded,dashed\"",
                };
                let _ = writeln!(
                    out,
                    "    {} [label=\"{}\\n{}\"{shape}];",
                    self.node_id(n),
                    quote_dot(&node.name),
                    quote_dot(&node.detail)
                );
            }
            out.push_str("  }\n");
        }
        for link in &self.links {
            let attributes = match (&link.kind, &link.label) {
                (LinkKind::WaitsFor, Some(label)) => format!(" [label=\"{}\"]", quote_dot(label)),
                (LinkKind::WaitsFor, None) => String::new(),
                (LinkKind::Calls, _) => " [style=dashed]".to_string(),
                (LinkKind::RoutesTo, Some(label)) => {
                    format!(" [style=bold, label=\"{}\"]", quote_dot(label))
                }
                (LinkKind::RoutesTo, None) => " [style=bold]".to_string(),
            };
            let _ = writeln!(
                out,
                "  {} -> {}{attributes};",
                self.node_id(link.from),
                self.node_id(link.to)
            );
        }
        out.push_str("}\n");
        out
    }

    /// An SVG picture, laid out by [`layout::Layout::new`].
    pub fn svg(&self) -> String {
        svg::draw(self, &layout::Layout::new(self))
    }
}

/// `tier · namespace`.
fn lane_label(lane: &Lane) -> String {
    match &lane.namespace {
        Some(namespace) => format!("{} · {namespace}", lane.name),
        None => lane.name.clone(),
    }
}

fn lane_id(lane: usize) -> String {
    format!("lane{lane}")
}

impl Diagram {
    /// An identifier for node `index` in Mermaid and Graphviz: its name
    /// with `_` for `-`, gateways prefixed with `gateway_` and externals
    /// with `external_`.
    fn node_id(&self, index: usize) -> String {
        let node = &self.nodes[index];
        let name = node.name.replace('-', "_");
        match node.shape {
            Shape::Gateway => format!("gateway_{name}"),
            Shape::External => format!("external_{name}"),
            _ => name,
        }
    }
}

/// `text` for a quoted Mermaid label: Mermaid reads HTML in labels and ends
/// them at `"`, so those characters go as its entity codes.
fn quote_mermaid(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '&' => out.push_str("#amp;"),
            '#' => out.push_str("#35;"),
            _ => out.push(c),
        }
    }
    out
}

fn quote_dot(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

/// `×3 · http 8500 · dns 8600/udp`: replicas (or the autoscaler's range,
/// or how a job runs) and the first two ports.
fn service_detail(service: &crate::model::Service) -> String {
    let count = match service.kind {
        WorkloadKind::Daemon => "per node".to_string(),
        WorkloadKind::Job => "job".to_string(),
        WorkloadKind::Cron => "cron".to_string(),
        _ => match service.runtime.autoscale.as_deref() {
            Some(scale) => format!("×{}–{}", scale.min, scale.max),
            None => format!("×{}", service.replicas),
        },
    };
    let mut parts = vec![count];
    for port in service.ports.iter().take(2) {
        let udp = if port.protocol == Protocol::Udp {
            "/udp"
        } else {
            ""
        };
        parts.push(format!("{} {}{udp}", port.name, port.service_port()));
    }
    if service.ports.len() > 2 {
        parts.push(format!("+{}", service.ports.len() - 2));
    }
    parts.join(" · ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceFile;
    use crate::spec;

    pub(super) fn shop() -> Diagram {
        let file = SourceFile::new(
            "shop.yaml",
            "platform: shop\ntiers:\n  - name: data\n    services:\n      db: { image: postgres:16, kind: stateful, ports: { pg: 5432 }, storage: 1Gi, replicas: 3 }\n      cache: { image: redis:7, ports: { redis: 6379 } }\n  - name: apps\n    after: [data]\n    services:\n      api: { image: shop/api:1, ports: { http: 8080, grpc: 9090, metrics: 9100 }, env: { DB: \"${db.address}\" } }\n      web: { image: shop/web:1, ports: { http: 3000 }, needs: [api, cache] }\n",
        );
        let platform = crate::resolve(&spec::parse(&file).unwrap(), None).unwrap();
        Diagram::new(&platform)
    }

    #[test]
    fn a_backup_to_a_store_of_the_platform_is_an_arrow_named_backups() {
        let file = SourceFile::new(
            "shop.yaml",
            "platform: shop\ntiers:\n  - name: data\n    services:\n      cache: { blueprint: redis, backup: { to: store } }\n      store: { blueprint: minio }\n",
        );
        let platform = crate::resolve(&spec::parse(&file).unwrap(), None).unwrap();
        let diagram = Diagram::new(&platform);
        let at = |name: &str| diagram.nodes.iter().position(|n| n.name == name).unwrap();
        let (cache, store) = (at("cache"), at("store"));
        assert!(diagram.nodes[store].column < diagram.nodes[cache].column);
        let link = diagram
            .links
            .iter()
            .find(|l| l.from == cache && l.to == store)
            .expect("an arrow from what is saved to its store");
        assert_eq!(
            (&link.kind, link.label.as_deref()),
            (&LinkKind::WaitsFor, Some("backups"))
        );
        assert!(diagram.mermaid().contains("-->|\"backups\"|"));
        assert!(diagram.dot().contains("[label=\"backups\"]"));
        assert!(
            diagram
                .svg()
                .contains("cache sends backups to, and waits for, store")
        );
    }

    #[test]
    fn boxes_sit_in_their_tier_and_wave_with_replicas_and_ports() {
        let diagram = shop();
        assert_eq!(diagram.lanes.len(), 2, "no gateways, no edge lane");
        let db = diagram.nodes.iter().find(|n| n.name == "db").unwrap();
        assert_eq!((db.lane, db.column, db.shape), (1, 1, Shape::Stateful));
        assert_eq!(db.detail, "×3 · pg 5432");
        let api = diagram.nodes.iter().find(|n| n.name == "api").unwrap();
        assert_eq!(api.detail, "×1 · http 8080 · grpc 9090 · +1");
        let web = diagram.nodes.iter().position(|n| n.name == "web").unwrap();
        let targets: Vec<&str> = diagram
            .links
            .iter()
            .filter(|l| l.from == web)
            .map(|l| diagram.nodes[l.to].name.as_str())
            .collect();
        assert_eq!(targets, ["api", "cache"], "tier `after:` adds no arrows");
    }

    #[test]
    fn externals_sit_outside_below_the_tiers_and_are_called() {
        let file = SourceFile::new(
            "shop.yaml",
            "platform: shop\nexternals:\n  kafka: { hosts: [k.example.com], ports: { kafka: 9092 }, cidr: 10.0.0.0/8 }\ntiers:\n  - name: apps\n    services:\n      api: { image: shop/api:1, env: { BROKERS: \"${kafka.address}\" } }\n",
        );
        let platform = crate::resolve(&spec::parse(&file).unwrap(), None).unwrap();
        let diagram = Diagram::new(&platform);
        assert_eq!(diagram.lanes.last().unwrap().name, "outside");
        let kafka = diagram
            .nodes
            .iter()
            .position(|n| n.name == "kafka")
            .unwrap();
        let node = &diagram.nodes[kafka];
        assert_eq!(
            (node.lane, node.column, node.shape),
            (1, 0, Shape::External)
        );
        assert_eq!(node.detail, "external · kafka 9092");
        assert!(
            diagram
                .links
                .iter()
                .any(|l| l.to == kafka && l.kind == LinkKind::Calls)
        );
        assert!(
            diagram
                .mermaid()
                .contains("external_kafka(\"kafka<br/>external · kafka 9092\")")
        );
        assert!(diagram.dot().contains("style=\"rounded,dashed\""));
        assert!(diagram.svg().contains("class=\"node external\""));
    }

    #[test]
    fn route_labels_cannot_break_out_of_svg_mermaid_or_dot() {
        let file = SourceFile::new(
            "x.yaml",
            "platform: x\ngateways:\n  edge: { kind: ingress, hosts: [a.example.com] }\ntiers:\n  - name: apps\n    services:\n      web: { image: x/web:1, ports: { http: 80 }, expose: { path: /web } }\n",
        );
        let platform = crate::resolve(&spec::parse(&file).unwrap(), None).unwrap();
        let mut diagram = Diagram::new(&platform);
        // `check` refuses such a path; the diagrams must hold even so.
        let route = diagram
            .links
            .iter_mut()
            .find(|l| l.kind == LinkKind::RoutesTo)
            .unwrap();
        route.label = Some("/<script>alert(\"x\")</script>&a=1".into());
        let svg = diagram.svg();
        assert!(!svg.contains("<script"), "{svg}");
        assert!(
            svg.contains("/&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;a=1"),
            "{svg}"
        );
        let mermaid = diagram.mermaid();
        let route = mermaid.lines().find(|l| l.contains("==>")).unwrap();
        assert_eq!(route.matches('"').count(), 2, "{route}");
        assert!(!route.contains('<'), "{route}");
        let dot = diagram.dot();
        let edge = dot.lines().find(|l| l.contains("style=bold")).unwrap();
        assert_eq!(
            edge.matches('"').count() - edge.matches("\\\"").count(),
            2,
            "{edge}"
        );
    }

    #[test]
    fn mermaid_and_dot_name_every_box_and_arrow() {
        let diagram = shop();
        let mermaid = diagram.mermaid();
        assert!(mermaid.contains("flowchart LR"));
        assert!(
            mermaid.contains("subgraph lane1[\"data · shop\"]"),
            "{mermaid}"
        );
        assert!(mermaid.contains("[(\"db<br/>×3 · pg 5432\")]"), "{mermaid}");
        assert_eq!(mermaid.matches("-->").count(), diagram.links.len());
        let dot = diagram.dot();
        assert!(dot.starts_with("digraph \"shop\" {"));
        assert!(dot.contains("shape=cylinder"));
        assert_eq!(dot.matches(" -> ").count(), diagram.links.len());
    }
}
