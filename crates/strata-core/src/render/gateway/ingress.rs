//! Kubernetes Ingress gateways (ingress-nginx's annotations for rewrites).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::meta;
use crate::model::{Gateway, Platform, Route};

/// A gateway's Ingresses: one per namespace of its services, and one per
/// rewritten prefix.
pub(super) fn objects(platform: &Platform, gateway: &Gateway, routes: &[&Route]) -> Vec<Value> {
    // An Ingress only reaches Services of its own namespace: one per
    // namespace, and one per rewritten service and prefix (a rewrite applies
    // to a whole Ingress).
    type Group<'a> = (String, Option<(String, String)>);
    let mut groups: BTreeMap<Group<'_>, Vec<&Route>> = BTreeMap::new();
    for route in routes {
        let service = &platform.services[route.service.0];
        let own = route
            .rewrite
            .as_ref()
            .map(|r| (service.name.clone(), r.clone()));
        groups
            .entry((service.namespace.clone(), own))
            .or_default()
            .push(route);
    }
    // Several rewrites of one service: numbered, so names stay unique.
    let mut rewrites: BTreeMap<(String, String), usize> = BTreeMap::new();
    for (namespace, own) in groups.keys() {
        if let Some((service, _)) = own {
            *rewrites
                .entry((namespace.clone(), service.clone()))
                .or_default() += 1;
        }
    }
    let mut seen: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut out = Vec::new();
    for ((namespace, rewritten), members) in groups {
        let name = match &rewritten {
            None => gateway.name.clone(),
            Some((service, _)) => {
                let key = (namespace.clone(), service.clone());
                let n = seen.entry(key.clone()).or_default();
                *n += 1;
                if rewrites[&key] > 1 {
                    format!("{}-{service}-{n}", gateway.name)
                } else {
                    format!("{}-{service}", gateway.name)
                }
            }
        };
        let mut by_host: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for route in &members {
            let service = &platform.services[route.service.0];
            let (path, path_type) = match &route.rewrite {
                Some(_) => (
                    format!("{}(/|$)(.*)", route.path.trim_end_matches('/')),
                    "ImplementationSpecific",
                ),
                None => (route.path.clone(), "Prefix"),
            };
            let backend = json!({ "path": path, "pathType": path_type, "backend": { "service": { "name": service.front.name, "port": { "number": route.port.service_port() } } } });
            let hosts = if route.hosts.is_empty() {
                vec![String::new()]
            } else {
                route.hosts.clone()
            };
            for host in hosts {
                by_host.entry(host).or_default().push(backend.clone());
            }
        }
        let rules: Vec<Value> = by_host
            .into_iter()
            .map(|(host, paths)| {
                let mut rule = json!({ "http": { "paths": paths } });
                if !host.is_empty() {
                    rule["host"] = json!(host);
                }
                rule
            })
            .collect();
        let mut spec = json!({ "rules": rules });
        if let Some(class) = &gateway.class {
            spec["ingressClassName"] = json!(class);
        }
        if let Some(tls) = &gateway.tls {
            let hosts: Vec<&String> = members
                .iter()
                .flat_map(|r| &r.hosts)
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            spec["tls"] = json!([{ "hosts": hosts, "secretName": tls }]);
        }
        let mut metadata = meta(platform, &name, &namespace);
        if let Some((_, rewrite)) = &rewritten {
            metadata["annotations"] = json!({
                "nginx.ingress.kubernetes.io/use-regex": "true",
                "nginx.ingress.kubernetes.io/rewrite-target": format!("{}/$2", rewrite.trim_end_matches('/')),
            });
        }
        out.push(json!({ "apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": metadata, "spec": spec }));
    }
    out
}
