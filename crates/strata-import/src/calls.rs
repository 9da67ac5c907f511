//! The call graph, inferred from the input: an env value naming another
//! imported service's host (`cart:7070`, `http://cart.shop.svc/x`,
//! `redis://redis`) becomes a `${…}` reference and a call; a host in a
//! command or argument becomes an entry of `needs:`. Calls that would close
//! a cycle of waits are marked `wait: false`.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::draft::{Draft, DraftPort, DraftService, EnvValue};

/// One way of naming a service's host.
#[derive(Debug, Clone)]
struct HostForm {
    text: String,
    service: usize,
    /// A bare name without dots: counts only in host-like places.
    bare: bool,
}

/// The host names of each service, longest first.
fn host_forms(draft: &Draft) -> Vec<HostForm> {
    let mut forms = Vec::new();
    for (i, s) in draft.services.iter().enumerate() {
        let hosts = if s.hosts.is_empty() {
            std::slice::from_ref(&s.name)
        } else {
            &s.hosts[..]
        };
        let ns = &s.namespace;
        for host in hosts {
            for (text, bare) in [
                (format!("{host}.{ns}.svc.cluster.local"), false),
                (format!("{host}.{ns}.svc"), false),
                (format!("{host}.{ns}"), false),
                (host.clone(), true),
            ] {
                forms.push(HostForm {
                    text,
                    service: i,
                    bare,
                });
            }
        }
    }
    forms.sort_by_key(|f| std::cmp::Reverse(f.text.len()));
    forms
}

/// Variable names whose value is a host or an address.
fn host_variable(name: &str) -> bool {
    let name = name.to_ascii_uppercase();
    [
        "HOST", "ADDR", "SERVER", "ENDPOINT", "URL", "URI", "DSN", "BROKER", "SERVICE", "TARGET",
    ]
    .iter()
    .any(|w| name.contains(w))
}

/// A host found in a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// Byte range of the host and its `:port`, if any.
    pub range: (usize, usize),
    /// The service named.
    pub service: usize,
    /// The port written after the host.
    pub port: Option<u16>,
}

fn boundary_before(c: Option<char>) -> bool {
    c.is_none_or(|c| {
        matches!(
            c,
            '/' | '@' | '=' | ',' | ';' | ' ' | '\t' | '"' | '\'' | '(' | '['
        )
    })
}

fn boundary_after(c: Option<char>) -> bool {
    c.is_none_or(|c| {
        matches!(
            c,
            ':' | '/' | ',' | ';' | '?' | ' ' | '\t' | '"' | '\'' | ')' | ']' | '#'
        )
    })
}

/// Every host of another service that `value` names.
fn scan(
    value: &str,
    var: Option<&str>,
    caller: usize,
    draft: &Draft,
    forms: &[HostForm],
) -> Vec<Found> {
    let caller_ns = &draft.services[caller].namespace;
    let mut found = Vec::new();
    let bytes = value.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let before = value[..i].chars().next_back();
        if !value.is_char_boundary(i) || !boundary_before(before) {
            i += 1;
            continue;
        }
        let mut matched = None;
        for form in forms {
            if form.service == caller
                || !value[i..].starts_with(&form.text)
                || !draft.reachable(caller, form.service)
            {
                continue;
            }
            let end = i + form.text.len();
            let after = value[end..].chars().next();
            if !boundary_after(after) {
                continue;
            }
            let port_digits: String = if after == Some(':') {
                value[end + 1..]
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect()
            } else {
                String::new()
            };
            let port = port_digits.parse::<u16>().ok();
            if form.bare {
                let same_ns = draft.services[form.service].namespace == *caller_ns;
                let url_host = value[..i].ends_with("://") || before == Some('@');
                let whole = i == 0 && end == value.len() && var.is_some_and(host_variable);
                if !same_ns || !(port.is_some() || url_host || whole) {
                    continue;
                }
            }
            let stop = if port.is_some() {
                end + 1 + port_digits.len()
            } else {
                end
            };
            matched = Some(Found {
                range: (i, stop),
                service: form.service,
                port,
            });
            break;
        }
        match matched {
            Some(f) => {
                i = f.range.1;
                found.push(f);
            }
            None => i += 1,
        }
    }
    found
}

/// `${…}` for a host (and port) of `callee`.
fn reference(callee: &DraftService, port: Option<u16>) -> String {
    let name = &callee.name;
    match port {
        None => format!("${{{name}.host}}"),
        Some(p) if callee.ports.first().is_some_and(|first| first.port == p) => {
            format!("${{{name}.address}}")
        }
        Some(p) => match callee.ports.iter().find(|q| q.port == p) {
            Some(q) => format!("${{{name}.host}}:${{{name}.ports.{}}}", q.name),
            None => format!("${{{name}.host}}:{p}"),
        },
    }
}

/// `value` with each host named replaced by its reference, and `${`
/// written as the spec's literal `$${`.
fn rewrite(value: &str, found: &[Found], draft: &Draft) -> String {
    let mut out = String::new();
    let mut at = 0;
    for f in found {
        out.push_str(&value[at..f.range.0].replace("${", "$${"));
        out.push_str(&reference(&draft.services[f.service], f.port));
        at = f.range.1;
    }
    out.push_str(&value[at..].replace("${", "$${"));
    out
}

/// Finds every service's calls, rewrites env values into references and
/// marks the calls that would close a cycle of waits.
pub fn infer(draft: &mut Draft) {
    let forms = host_forms(draft);
    learn_ports(draft, &forms);
    for caller in 0..draft.services.len() {
        let mut env = draft.services[caller].env.clone();
        // Waits the input declares (compose's `depends_on`) stay.
        let mut calls: BTreeMap<String, Vec<String>> = draft.services[caller]
            .calls
            .clone()
            .into_iter()
            .filter(|(callee, _)| draft.service(callee).is_some())
            .collect();
        for var in &mut env {
            let EnvValue::Literal(text) = &var.value else {
                continue;
            };
            let found = scan(text, Some(&var.name), caller, draft, &forms);
            let rewritten = rewrite(text, &found, draft);
            for f in &found {
                let callee = draft.services[f.service].name.clone();
                calls
                    .entry(callee)
                    .or_default()
                    .push(format!("env {}={}", var.name, text));
            }
            if !found.is_empty() {
                var.comment = Some(match &var.comment {
                    Some(c) => format!("{c}; was {text}"),
                    None => format!("was {text}"),
                });
            }
            var.value = EnvValue::Literal(rewritten);
        }
        for arg in draft.services[caller].argv.clone() {
            for f in scan(&arg, None, caller, draft, &forms) {
                let callee = draft.services[f.service].name.clone();
                let named = &arg[f.range.0..f.range.1];
                calls.entry(callee).or_default().push(if arg.len() > 60 {
                    format!("{named} in a file or argument")
                } else {
                    format!("argument {arg}")
                });
            }
        }
        let service = &mut draft.services[caller];
        service.env = env;
        service.calls = calls;
    }
    break_cycles(draft);
}

/// Ports a compose service listens on without declaring them, learnt from
/// its callers (`db:5432`), or from its image when it runs a store: the
/// NetworkPolicies need them. Kubernetes workloads have their Services'.
fn learn_ports(draft: &mut Draft, forms: &[HostForm]) {
    let mut learnt: Vec<(usize, u16)> = Vec::new();
    for caller in 0..draft.services.len() {
        let s = &draft.services[caller];
        let texts = s
            .env
            .iter()
            .filter_map(|v| match &v.value {
                EnvValue::Literal(t) => Some((Some(v.name.as_str()), t.as_str())),
                _ => None,
            })
            .chain(s.argv.iter().map(|a| (None, a.as_str())));
        for (var, text) in texts {
            for f in scan(text, var, caller, draft, forms) {
                if let Some(port) = f.port {
                    learnt.push((f.service, port));
                }
            }
        }
    }
    for (i, s) in draft.services.iter_mut().enumerate() {
        if s.networks.is_none() {
            continue;
        }
        let image = s
            .get("image")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let mut numbers: Vec<u16> = learnt
            .iter()
            .filter(|(at, _)| *at == i)
            .map(|(_, p)| *p)
            .collect();
        if s.ports.is_empty()
            && let Some(port) = crate::compose::image_port(&image)
        {
            numbers.insert(0, port);
        }
        for number in numbers {
            if s.ports.iter().any(|p| p.port == number) {
                continue;
            }
            let base = crate::compose::port_name_for(number);
            let name = if s.ports.iter().any(|p| p.name == base) {
                crate::kube::pod::port_name(&format!("port-{number}"))
            } else {
                base
            };
            s.ports.push(DraftPort {
                name,
                port: number,
                target: number,
                protocol: None,
                node_port: None,
            });
        }
    }
}

/// Marks `wait: false` on each call that closes a cycle, found depth first
/// from the stores.
fn break_cycles(draft: &mut Draft) {
    let names: BTreeMap<String, usize> = draft
        .services
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.clone(), i))
        .collect();
    let edges: Vec<Vec<usize>> = draft
        .services
        .iter()
        .map(|s| {
            s.calls
                .keys()
                .filter_map(|c| names.get(c).copied())
                .collect()
        })
        .collect();
    let mut state = vec![0u8; draft.services.len()];
    let mut back: BTreeSet<(usize, usize)> = BTreeSet::new();
    let mut order: Vec<usize> = (0..draft.services.len()).collect();
    order.sort_by_key(|&i| !draft.services[i].store);
    for start in order {
        if state[start] != 0 {
            continue;
        }
        // Iterative DFS: (node, next edge).
        let mut stack = vec![(start, 0usize)];
        state[start] = 1;
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            if let Some(&to) = edges[node].get(*next) {
                *next += 1;
                match state[to] {
                    0 => {
                        state[to] = 1;
                        stack.push((to, 0));
                    }
                    1 => {
                        back.insert((node, to));
                    }
                    _ => {}
                }
            } else {
                state[node] = 2;
                stack.pop();
            }
        }
    }
    for (from, to) in back {
        let callee = draft.services[to].name.clone();
        draft.services[from].no_wait.insert(callee);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::draft::{DraftEnv, DraftPort, Kind, Loc};
    use strata_core::source::{SourceFile, Span};

    fn service(name: &str, ns: &str, ports: &[(&str, u16)]) -> DraftService {
        let loc = Loc {
            file: SourceFile::new("t.yaml", ""),
            span: Span::new(0, 0),
        };
        let mut s = DraftService::new(
            name.into(),
            ns.into(),
            loc,
            format!("Deployment/{name}"),
            Kind::Stateless,
        );
        s.ports = ports
            .iter()
            .map(|(n, p)| DraftPort {
                name: (*n).into(),
                port: *p,
                target: *p,
                protocol: None,
                node_port: None,
            })
            .collect();
        s
    }

    fn rewritten(var: &str, value: &str) -> (String, Vec<String>) {
        let mut draft = Draft::default();
        draft
            .services
            .push(service("web", "shop", &[("http", 8080)]));
        draft
            .services
            .push(service("cart", "shop", &[("grpc", 7070), ("admin", 9000)]));
        draft
            .services
            .push(service("redis", "data", &[("redis", 6379)]));
        draft.services[0].env.push(DraftEnv {
            name: var.into(),
            value: EnvValue::Literal(value.into()),
            comment: None,
        });
        infer(&mut draft);
        let EnvValue::Literal(text) = &draft.services[0].env[0].value else {
            panic!()
        };
        (
            text.clone(),
            draft.services[0].calls.keys().cloned().collect(),
        )
    }

    #[test]
    fn hosts_in_any_form_become_references() {
        assert_eq!(rewritten("CART_ADDR", "cart:7070").0, "${cart.address}");
        assert_eq!(
            rewritten("X", "http://cart:9000/v1").0,
            "http://${cart.host}:${cart.ports.admin}/v1"
        );
        assert_eq!(
            rewritten("X", "cart.shop.svc.cluster.local:7070").0,
            "${cart.address}"
        );
        assert_eq!(
            rewritten("X", "redis://redis.data:6379/0").0,
            "redis://${redis.address}/0"
        );
        assert_eq!(
            rewritten("CART_HOST", "cart"),
            ("${cart.host}".into(), vec!["cart".into()])
        );
        assert_eq!(rewritten("X", "a,cart:1234").0, "a,${cart.host}:1234");
    }

    #[test]
    fn words_that_are_not_hosts_stay() {
        // A lone name outside a host variable, a name in another namespace
        // without its namespace, a longer word, the caller itself.
        assert_eq!(rewritten("CACHE_DRIVER", "redis"), ("redis".into(), vec![]));
        assert_eq!(rewritten("MODE", "cart"), ("cart".into(), vec![]));
        assert_eq!(rewritten("REDIS_HOST", "redis"), ("redis".into(), vec![]));
        assert_eq!(
            rewritten("X", "cartography:1"),
            ("cartography:1".into(), vec![])
        );
        assert_eq!(
            rewritten("SELF_URL", "http://web:8080"),
            ("http://web:8080".into(), vec![])
        );
        assert_eq!(rewritten("T", "cost ${5}").0, "cost $${5}");
    }

    #[test]
    fn a_cycle_of_calls_waits_one_way() {
        let mut draft = Draft::default();
        for (name, peer) in [("a", "b"), ("b", "a")] {
            let mut s = service(name, "ns", &[("http", 80)]);
            s.env.push(DraftEnv {
                name: "PEER_URL".into(),
                value: EnvValue::Literal(format!("http://{peer}:80")),
                comment: None,
            });
            draft.services.push(s);
        }
        infer(&mut draft);
        let waits_off: usize = draft.services.iter().map(|s| s.no_wait.len()).sum();
        assert_eq!(waits_off, 1);
    }

    /// A value as its references resolve: `${cart.address}` is the host
    /// and first port, `$${` a literal `${`.
    fn resolved(text: &str) -> String {
        let full = |name: &str| {
            let ns = if name == "redis" { "data" } else { "shop" };
            format!("{name}.{ns}.svc.cluster.local")
        };
        let mut out = text.to_string();
        for (name, first) in [("web", 8080), ("cart", 7070), ("redis", 6379)] {
            out = out
                .replace(
                    &format!("${{{name}.address}}"),
                    &format!("{}:{first}", full(name)),
                )
                .replace(&format!("${{{name}.host}}"), &full(name));
        }
        out.replace("${cart.ports.admin}", "9000")
            .replace("${cart.ports.grpc}", "7070")
            .replace("$${", "${")
    }

    /// Every host written the short way, as two values meaning the same
    /// endpoint compare equal.
    fn short(text: &str) -> String {
        let mut out = text.to_string();
        for suffix in [
            ".shop.svc.cluster.local",
            ".data.svc.cluster.local",
            ".shop.svc",
            ".data.svc",
            ".shop",
            ".data",
        ] {
            let mut next = String::new();
            let mut rest = out.as_str();
            while let Some(at) = rest.find(suffix) {
                next.push_str(&rest[..at]);
                let after = rest[at + suffix.len()..].chars().next();
                if after.is_some_and(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.') {
                    next.push_str(suffix);
                }
                rest = &rest[at + suffix.len()..];
            }
            next.push_str(rest);
            out = next;
        }
        out
    }

    proptest::proptest! {
        /// Rewriting hosts into references never changes what a value
        /// means once the references resolve.
        #[test]
        fn references_resolve_to_the_value_as_written(
            pieces in proptest::collection::vec(proptest::sample::select(vec![
                "cart", "cart.shop", "cart.shop.svc", "cart.shop.svc.cluster.local", "redis.data",
                "redis", "web", ":7070", ":9000", ":1234", "http://", "/v1", "@", "${", "$", "x",
                " ", ",", "cartography", "-", ".", "}",
            ]), 0..8),
            var in proptest::sample::select(vec!["URL", "CART_HOST", "MODE"]),
        ) {
            let value: String = pieces.concat();
            let (text, _) = rewritten(var, &value);
            proptest::prop_assert_eq!(short(&resolved(&text)), short(&value), "{}", text);
        }
    }
}
