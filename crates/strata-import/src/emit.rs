//! The draft as a commented spec: tiers from the call graph (stores first,
//! then the services they serve, then the edge), each service's keys in
//! the order people read them, and why each inferred thing is there.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

use crate::draft::{Draft, DraftService, EnvValue, Kind};
use crate::yaml::{self, entry, scalar};
use crate::{Fate, Options};

/// The tier a service goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Role {
    Data,
    Apps,
    Edge,
}

impl Role {
    fn word(self) -> &'static str {
        match self {
            Role::Data => "data",
            Role::Apps => "apps",
            Role::Edge => "edge",
        }
    }

    fn why(self) -> &'static str {
        match self {
            Role::Data => {
                "stores (databases, caches, queues: their image, a StatefulSet or a volume say so), started first"
            }
            Role::Apps => "services the others call, and workers and jobs",
            Role::Edge => {
                "entry points: routed by a gateway or reached from outside, called by no other service"
            }
        }
    }
}

fn role(service: &DraftService, called: &BTreeSet<String>) -> Role {
    if service.store {
        Role::Data
    } else if service.edge && !called.contains(&service.name) {
        Role::Edge
    } else {
        Role::Apps
    }
}

/// The protocol the spec guesses from a port's name.
fn guessed_protocol(name: &str) -> &'static str {
    let matches = |word: &str| {
        name == word || name.starts_with(&format!("{word}-")) || name.ends_with(&format!("-{word}"))
    };
    if matches("grpc") {
        "grpc"
    } else if ["http", "https", "metrics", "web", "ui", "console"]
        .iter()
        .any(|w| matches(w))
    {
        "http"
    } else if matches("dns") || matches("udp") {
        "udp"
    } else {
        "tcp"
    }
}

fn comment(out: &mut String, indent: usize, lines: &[String]) {
    let pad = " ".repeat(indent);
    for line in lines {
        out.push_str(&format!("{pad}# {line}\n"));
    }
}

/// The spec's text.
pub fn spec(draft: &Draft, options: &Options) -> String {
    let called: BTreeSet<String> = draft
        .services
        .iter()
        .flat_map(|s| s.calls.keys().cloned())
        .collect();
    // Tiers: per namespace, data, apps, edge.
    let mut tiers: BTreeMap<(Role, String), Vec<&DraftService>> = BTreeMap::new();
    for s in &draft.services {
        tiers
            .entry((role(s, &called), s.namespace.clone()))
            .or_default()
            .push(s);
    }
    let mut namespaces: BTreeMap<&str, usize> = BTreeMap::new();
    for s in &draft.services {
        *namespaces.entry(&s.namespace).or_default() += 1;
    }
    let shared = namespaces
        .iter()
        .max_by_key(|(_, n)| **n)
        .map_or_else(|| options.platform.clone(), |(ns, _)| (*ns).to_string());
    let several = namespaces.len() > 1;

    let mut out = String::new();
    out.push_str(
        "# yaml-language-server: $schema=https://example.invalid/strata/platform.schema.json\n",
    );
    comment(
        &mut out,
        0,
        &[
            "Written by `strata import`. Before the first `strata apply`:".into(),
            "- review the calls: each `${service.field}` reference and `needs:` entry was".into(),
            "  inferred from an env value or argument naming the service's host; the".into(),
            "  NetworkPolicies allow these calls and nothing else;".into(),
            "- run `strata diff` against the live cluster: selectors and Service names are".into(),
            "  the input's, so `strata apply` takes the running workloads over in place.".into(),
        ],
    );
    entry(&mut out, 0, "platform", &json!(options.platform));
    entry(&mut out, 0, "namespace", &json!(shared));
    if !draft.secrets.is_empty() {
        let mut lines = vec![
            "Secrets the services read, whose values were not imported: each must exist".into(),
            "in the cluster (it does when Strata takes over), or be declared under `secrets:`:"
                .into(),
        ];
        for (name, keys) in &draft.secrets {
            let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
            if keys.is_empty() {
                lines.push(format!("  {name} (mounted as files)"));
            } else {
                lines.push(format!("  {name}: {}", keys.join(", ")));
            }
        }
        comment(&mut out, 0, &lines);
    }
    if !draft.pools.is_empty() {
        out.push_str("nodePools:\n");
        for (name, pool) in &draft.pools {
            entry(&mut out, 2, name, pool);
        }
    }
    let namespace_labels: Vec<(&String, &Value)> = draft
        .namespaces
        .iter()
        .filter(|(ns, labels)| {
            namespaces.contains_key(ns.as_str())
                && labels.as_object().is_some_and(|m| !m.is_empty())
        })
        .collect();
    if !namespace_labels.is_empty() {
        out.push_str("namespaces:\n");
        for (ns, labels) in namespace_labels {
            entry(&mut out, 2, ns, &json!({ "labels": labels }));
        }
    }
    if !draft.gateways.is_empty() {
        out.push_str("gateways:\n");
        for (name, (value, why)) in &draft.gateways {
            comment(&mut out, 2, why);
            entry(&mut out, 2, name, value);
        }
    }
    out.push_str("tiers:\n");
    let has_manifests = !draft.manifests.is_empty();
    if has_manifests {
        comment(
            &mut out,
            2,
            &["objects no spec key describes, kept as they are; applied first".into()],
        );
        out.push_str("  - name: imported\n");
        entry(&mut out, 4, "manifests", &json!([options.manifests_file]));
    }
    for ((role, ns), services) in &tiers {
        let name = if several {
            let mut n = format!("{ns}-{}", role.word());
            n.truncate(63);
            n
        } else {
            role.word().to_string()
        };
        comment(&mut out, 2, &[role.why().to_string()]);
        out.push_str(&format!("  - name: {}\n", scalar(&json!(name))));
        if *ns != shared {
            entry(&mut out, 4, "namespace", &json!(ns));
        }
        if has_manifests {
            entry(&mut out, 4, "after", &json!(["imported"]));
        }
        out.push_str("    services:\n");
        for s in services {
            service(&mut out, s);
        }
    }
    out
}

fn service(out: &mut String, s: &DraftService) {
    let mut head = vec![format!("from {} ({})", s.origin, s.loc.short())];
    for (callee, why) in &s.calls {
        head.push(format!("calls {callee}: {}", why.join("; ")));
    }
    comment(out, 6, &head);
    out.push_str(&format!("      {}:\n", scalar(&json!(s.name))));
    let at = 8;
    let has_volume = s.get("storage").is_some() || s.get("volumes").is_some();
    let default_kind = if has_volume {
        Kind::Stateful
    } else {
        Kind::Stateless
    };
    let order = [
        "image",
        "kind",
        "schedule",
        "container",
        "command",
        "args",
        "replicas",
        "autoscale",
    ];
    for key in order {
        let Some(field) = s.fields.iter().find(|f| f.key == key) else {
            continue;
        };
        if key == "kind" && s.kind == default_kind {
            continue;
        }
        comment(out, at, &field.comment);
        entry(out, at, key, &field.value);
    }
    if !s.ports.is_empty() {
        let mut ports = Map::new();
        for p in &s.ports {
            let protocol = p
                .protocol
                .filter(|proto| *proto != guessed_protocol(&p.name));
            let value = if p.port == p.target && protocol.is_none() && p.node_port.is_none() {
                json!(p.port)
            } else {
                let mut m = Map::new();
                m.insert("port".into(), json!(p.port));
                if p.target != p.port {
                    m.insert("targetPort".into(), json!(p.target));
                }
                if let Some(proto) = protocol {
                    m.insert("protocol".into(), json!(proto));
                }
                if let Some(n) = p.node_port {
                    m.insert("nodePort".into(), json!(n));
                }
                Value::Object(m)
            };
            ports.insert(p.name.clone(), value);
        }
        entry(out, at, "ports", &Value::Object(ports));
    }
    if !s.env.is_empty() {
        out.push_str(&format!("{}env:\n", " ".repeat(at)));
        for var in &s.env {
            let value = match &var.value {
                EnvValue::Literal(text) => json!(text),
                EnvValue::Secret { name, key } => json!({ "secret": name, "key": key }),
                EnvValue::Config { name, key } => json!({ "config": name, "key": key }),
            };
            if let Some(c) = &var.comment {
                comment(out, at + 2, std::slice::from_ref(c));
            }
            entry(out, at + 2, &var.name, &value);
        }
    }
    for field in &s.fields {
        if order.contains(&field.key) {
            continue;
        }
        comment(out, at, &field.comment);
        entry(out, at, field.key, &field.value);
    }
    let referenced: BTreeSet<&str> = s
        .calls
        .keys()
        .filter(|callee| {
            s.env.iter().any(|v| matches!(&v.value, EnvValue::Literal(t) if t.contains(&format!("${{{callee}."))))
        })
        .map(String::as_str)
        .collect();
    let needs: Vec<&str> = s
        .calls
        .keys()
        .map(String::as_str)
        .filter(|c| !referenced.contains(c))
        .collect();
    if !needs.is_empty() {
        comment(
            out,
            at,
            &["waited for (`depends_on`), or named in its command, arguments or files".into()],
        );
        entry(out, at, "needs", &json!(needs));
    }
    if !s.no_wait.is_empty() {
        let calls: Map<String, Value> = s
            .no_wait
            .iter()
            .map(|c| (c.clone(), json!({ "wait": false })))
            .collect();
        comment(
            out,
            at,
            &["these services call each other: one side does not wait".into()],
        );
        entry(out, at, "calls", &Value::Object(calls));
    }
    match s.expose.len() {
        0 => {}
        1 => entry(out, at, "expose", &s.expose[0]),
        _ => entry(out, at, "expose", &json!(s.expose)),
    }
    if !s.patches.is_empty() {
        let mut lines = vec!["kept as they are, on the rendered workload:".to_string()];
        let whats: BTreeSet<&str> = s.patches.iter().map(|(_, w)| w.as_str()).collect();
        lines.extend(whats.iter().map(|w| format!("- {w}")));
        comment(out, at, &lines);
        let ops: Vec<Value> = s.patches.iter().map(|(op, _)| op.clone()).collect();
        entry(
            out,
            at,
            "patches",
            &json!([{ "target": s.kind.object(), "json": ops }]),
        );
    }
}

/// The objects kept verbatim, as a YAML stream.
pub fn manifests(draft: &Draft) -> Option<String> {
    if draft.manifests.is_empty() {
        return None;
    }
    let mut out =
        String::from("# Objects `strata import` kept as they are: no spec key describes them.\n");
    for object in &draft.manifests {
        out.push_str("---\n");
        out.push_str(&yaml::document(object));
    }
    Some(out)
}

/// How many notes of each fate, for the summary line.
pub fn summary(notes: &[crate::Note]) -> String {
    let mut counts: BTreeMap<Fate, usize> = BTreeMap::new();
    for n in notes {
        *counts.entry(n.fate).or_default() += 1;
    }
    let parts: Vec<String> = counts
        .iter()
        .map(|(f, n)| format!("{n} {}", f.word()))
        .collect();
    parts.join(", ")
}
