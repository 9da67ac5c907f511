//! The objects around workloads: Services (ports, type, name), autoscalers,
//! disruption budgets and Ingresses (gateways and routes).

use std::collections::BTreeMap;

use k8s_openapi::api::autoscaling::v2 as autoscaling;
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::api::networking::v1 as networking;
use k8s_openapi::api::policy::v1 as policy;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::{Value, json};

use super::pod::{dns_label, port_name};
use super::{Index, Object};
use crate::Fate;
use crate::draft::{Draft, DraftPort, DraftService};

/// The pod labels of `service`: its selector and pod labels.
fn pod_labels(service: &DraftService) -> BTreeMap<String, String> {
    let mut labels: BTreeMap<String, String> = service
        .get("selector")
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .unwrap_or_default();
    if let Some(extra) = service
        .get("podLabels")
        .and_then(|v| serde_json::from_value::<BTreeMap<String, String>>(v.clone()).ok())
    {
        labels.extend(extra);
    }
    labels
}

/// The services whose pods `selector` selects in `namespace`.
fn selected(
    draft: &Draft,
    namespace: &str,
    selector: &BTreeMap<String, String>,
    raw: &[BTreeMap<String, String>],
) -> Vec<usize> {
    if selector.is_empty() {
        return Vec::new();
    }
    draft
        .services
        .iter()
        .enumerate()
        .filter(|(i, s)| {
            s.namespace == namespace
                && selector
                    .iter()
                    .all(|(k, v)| raw[*i].get(k) == Some(v) || pod_labels(s).get(k) == Some(v))
        })
        .map(|(i, _)| i)
        .collect()
}

/// Every pod label of each service as the input wrote it (reserved keys too).
fn raw_pod_labels(index: &Index<'_>, draft: &Draft) -> Vec<BTreeMap<String, String>> {
    draft
        .services
        .iter()
        .map(|s| {
            let object = index
                .objects
                .iter()
                .find(|o| o.id() == s.origin && o.namespace == s.namespace);
            object
                .and_then(|o| {
                    let path: &[&str] = if o.kind == "CronJob" {
                        &[
                            "spec",
                            "jobTemplate",
                            "spec",
                            "template",
                            "metadata",
                            "labels",
                        ]
                    } else {
                        &["spec", "template", "metadata", "labels"]
                    };
                    o.typed(path)
                })
                .unwrap_or_default()
        })
        .collect()
}

/// Services: their ports join the workload's, their type and name become
/// `service:`.
pub(super) fn services(index: &mut Index<'_>, draft: &mut Draft) {
    let raw = raw_pod_labels(index, draft);
    // A Service named like a workload is that workload's own: it comes
    // first, so that its name and type are the service's.
    let mut found: Vec<(usize, &Object)> = index.of_kind("Service").collect();
    found.sort_by_key(|(_, o)| {
        !draft
            .services
            .iter()
            .any(|s| s.name == o.name && s.namespace == o.namespace)
    });
    for (i, object) in found {
        let Some(service) = object.typed::<core::Service>(&[]) else {
            continue;
        };
        let spec = service.spec.clone().unwrap_or_default();
        let selector = spec.selector.clone().unwrap_or_default();
        let targets = selected(draft, &object.namespace, &selector, &raw);
        let Some(&target) = targets.first() else {
            continue;
        };
        index.used.insert(i);
        if targets.len() > 1 {
            draft.note(
                &object.loc(&["spec", "selector"]),
                Fate::Review,
                object.id(),
                format!(
                    "it selects the pods of several workloads; its ports go to `{}`",
                    draft.services[target].name
                ),
            );
        }
        let headless = spec.cluster_ip.as_deref() == Some("None");
        let s = &mut draft.services[target];
        let first = s.hosts.is_empty();
        let mut notes = Vec::new();
        if headless && s.kind == crate::draft::Kind::Stateful {
            if object.name != format!("{}-headless", s.name) {
                notes.push((Fate::Review, format!("the headless Service is rendered as `{}-headless`; the pods' DNS names (`POD.{}`) change with it", s.name, object.name)));
            }
        } else if first {
            s.hosts.push(object.name.clone());
            if object.name != s.name {
                let mut front = s.get("service").cloned().unwrap_or_else(|| json!({}));
                front["name"] = json!(object.name);
                s.set(
                    "service",
                    front,
                    &["the input's Service name, which apps dial"],
                );
            }
        } else {
            s.hosts.push(object.name.clone());
            notes.push((Fate::Review, format!("a second Service of `{}`: Strata renders one, named `{}`; its ports join it, and callers using `{}` must use that name", s.name, s.hosts[0], object.name)));
        }
        let container_ports: BTreeMap<String, u16> =
            s.ports.iter().map(|p| (p.name.clone(), p.target)).collect();
        let existing = std::mem::take(&mut s.ports);
        let mut ports = if first { Vec::new() } else { existing.clone() };
        for port in spec.ports.iter().flatten() {
            let Ok(number) = u16::try_from(port.port) else {
                continue;
            };
            let target = match &port.target_port {
                Some(IntOrString::Int(n)) => u16::try_from(*n).unwrap_or(number),
                Some(IntOrString::String(name)) => container_ports
                    .get(&port_name(name))
                    .copied()
                    .unwrap_or(number),
                None => number,
            };
            let name = port
                .name
                .as_deref()
                .map(port_name)
                .or_else(|| {
                    existing
                        .iter()
                        .find(|p| p.target == target)
                        .map(|p| p.name.clone())
                })
                .unwrap_or_else(|| format!("port-{number}"));
            let protocol = if port.protocol.as_deref() == Some("UDP") {
                Some("udp")
            } else {
                match port.app_protocol.as_deref() {
                    Some("grpc" | "kubernetes.io/h2c" | "h2c") => Some("grpc"),
                    Some("http" | "https") => Some("http"),
                    Some(_) => Some("tcp"),
                    None => None,
                }
            };
            let node_port = port.node_port.and_then(|n| u16::try_from(n).ok());
            if ports
                .iter()
                .any(|p: &DraftPort| p.port == number && p.target == target)
            {
                continue;
            }
            if ports
                .iter()
                .any(|p| p.port == number || p.target == target || p.name == name)
            {
                notes.push((Fate::Dropped, format!("port {number} repeats a port number or name of `{}`: the spec gives each port one number", s.name)));
                continue;
            }
            ports.push(DraftPort {
                name,
                port: number,
                target,
                protocol,
                node_port,
            });
        }
        if first {
            // Container ports no Service publishes: Strata's Service will.
            for p in existing {
                if !ports
                    .iter()
                    .any(|q| q.target == p.target || q.port == p.port || q.name == p.name)
                {
                    ports.push(p);
                }
            }
        }
        s.ports = ports;
        let kind = spec.type_.clone().unwrap_or_else(|| "ClusterIP".into());
        if kind == "NodePort" || kind == "LoadBalancer" {
            s.edge = true;
            let mut front = s.get("service").cloned().unwrap_or_else(|| json!({}));
            front["type"] = json!(kind);
            if let Some(policy) = &spec.external_traffic_policy {
                front["externalTrafficPolicy"] = json!(policy);
            }
            s.set(
                "service",
                front,
                &["the input's Service name, type and policy"],
            );
        } else if kind == "ExternalName" {
            notes.push((
                Fate::Dropped,
                "an ExternalName Service selects no pods".into(),
            ));
        }
        if let Some(annotations) = object
            .at(&["metadata", "annotations"])
            .filter(|a| a.as_object().is_some_and(|m| !m.is_empty()))
            && first
        {
            let mut front = s.get("service").cloned().unwrap_or_else(|| json!({}));
            front["annotations"] = annotations.clone();
            s.set("service", front, &["the input's Service settings"]);
        }
        if spec.session_affinity.as_deref() == Some("ClientIP") {
            notes.push((
                Fate::Review,
                "`sessionAffinity: ClientIP`: write it as `serve: { sessionAffinity: DURATION }`"
                    .into(),
            ));
        }
        for (fate, why) in notes {
            draft.note(&object.loc(&[]), fate, object.id(), why);
        }
    }
}

/// HorizontalPodAutoscalers become `autoscale`.
pub(super) fn autoscalers(index: &mut Index<'_>, draft: &mut Draft) {
    let found: Vec<(usize, &Object)> = index.of_kind("HorizontalPodAutoscaler").collect();
    for (i, object) in found {
        let Some(hpa) = object.typed::<autoscaling::HorizontalPodAutoscaler>(&[]) else {
            continue;
        };
        let spec = hpa.spec.unwrap_or_default();
        let target = &spec.scale_target_ref;
        let Some(s) = draft.services.iter_mut().find(|s| {
            s.namespace == object.namespace
                && s.origin == format!("{}/{}", target.kind, target.name)
        }) else {
            continue;
        };
        index.used.insert(i);
        let mut auto = json!({ "min": spec.min_replicas.unwrap_or(1), "max": spec.max_replicas });
        let mut other = false;
        for metric in spec.metrics.iter().flatten() {
            match metric.resource.as_ref() {
                Some(r)
                    if matches!(r.name.as_str(), "cpu" | "memory")
                        && r.target.average_utilization.is_some() =>
                {
                    auto[r.name.as_str()] =
                        json!(format!("{}%", r.target.average_utilization.unwrap_or(70)));
                }
                _ => other = true,
            }
        }
        if auto.get("cpu").is_none() && auto.get("memory").is_none() && !other {
            auto["cpu"] = json!("80%");
        }
        s.fields.retain(|f| f.key != "replicas");
        s.set(
            "autoscale",
            auto,
            &[&format!(
                "from HorizontalPodAutoscaler/{} ({})",
                object.name,
                object.loc(&[]).short()
            )],
        );
        if other {
            draft.note(
                &object.loc(&["spec", "metrics"]),
                Fate::Dropped,
                object.id(),
                "a metric other than CPU or memory utilization has no `autoscale` form",
            );
        }
        if object.at(&["spec", "behavior"]).is_some() {
            draft.note(
                &object.loc(&["spec", "behavior"]),
                Fate::Review,
                object.id(),
                "`behavior` is written as `autoscale.scaleUp`/`scaleDown`: not imported",
            );
        }
    }
}

/// PodDisruptionBudgets: Strata renders its own (one pod down at a time).
pub(super) fn disruption_budgets(index: &mut Index<'_>, draft: &mut Draft) {
    let raw = raw_pod_labels(index, draft);
    let found: Vec<(usize, &Object)> = index.of_kind("PodDisruptionBudget").collect();
    for (i, object) in found {
        let Some(pdb) = object.typed::<policy::PodDisruptionBudget>(&[]) else {
            continue;
        };
        let spec = pdb.spec.unwrap_or_default();
        let selector = spec
            .selector
            .and_then(|s| s.match_labels)
            .unwrap_or_default();
        let Some(&target) = selected(draft, &object.namespace, &selector, &raw).first() else {
            continue;
        };
        index.used.insert(i);
        let name = draft.services[target].name.clone();
        let one_down = spec.max_unavailable == Some(IntOrString::Int(1));
        draft.note(
            &object.loc(&["spec"]),
            if one_down { Fate::Dropped } else { Fate::Review },
            object.id(),
            if one_down {
                format!("Strata renders `{name}`'s PodDisruptionBudget itself, with the same one pod down at a time")
            } else {
                format!("Strata renders `{name}`'s PodDisruptionBudget itself, allowing one pod down at a time (at 2 replicas or more)")
            },
        );
    }
}

/// Ingresses become gateways of kind `ingress`, and their rules `expose:`.
pub(super) fn ingresses(index: &mut Index<'_>, draft: &mut Draft) {
    let found: Vec<(usize, &Object)> = index.of_kind("Ingress").collect();
    for (i, object) in found {
        let Some(ingress) = object.typed::<networking::Ingress>(&[]) else {
            continue;
        };
        let spec = ingress.spec.unwrap_or_default();
        let gateway = dns_label(&object.name);
        let mut hosts = Vec::new();
        let mut routes: Vec<(usize, Value)> = Vec::new();
        let mut unmatched = false;
        for (r, rule) in spec.rules.iter().flatten().enumerate() {
            if let Some(host) = &rule.host
                && !hosts.contains(host)
            {
                hosts.push(host.clone());
            }
            for (p, path) in rule.http.iter().flat_map(|h| &h.paths).enumerate() {
                let Some(backend) = &path.backend.service else {
                    unmatched = true;
                    continue;
                };
                let Some(target) = draft.services.iter().position(|s| {
                    s.namespace == object.namespace
                        && (s.hosts.first() == Some(&backend.name)
                            || (s.hosts.is_empty() && s.name == backend.name))
                }) else {
                    unmatched = true;
                    draft.note(
                        &object.loc(&[
                            "spec",
                            "rules",
                            &r.to_string(),
                            "http",
                            "paths",
                            &p.to_string(),
                        ]),
                        Fate::Dropped,
                        object.id(),
                        format!("the backend `{}` is no imported service", backend.name),
                    );
                    continue;
                };
                let s = &draft.services[target];
                let port = backend.port.as_ref().and_then(|port| {
                    port.name
                        .as_deref()
                        .and_then(|n| s.ports.iter().find(|p| p.name == port_name(n)))
                        .or_else(|| {
                            port.number
                                .and_then(|n| u16::try_from(n).ok())
                                .and_then(|n| s.ports.iter().find(|p| p.port == n))
                        })
                        .map(|p| p.name.clone())
                });
                let mut route = json!({ "via": gateway, "path": path.path.clone().unwrap_or_else(|| "/".into()) });
                if let Some(host) = &rule.host {
                    route["host"] = json!(host);
                }
                if let Some(port) = port {
                    route["port"] = json!(port);
                }
                routes.push((target, route));
            }
        }
        if routes.is_empty() {
            continue;
        }
        index.used.insert(i);
        let mut value = json!({ "kind": "ingress", "hosts": hosts });
        if let Some(class) = &spec.ingress_class_name {
            value["class"] = json!(class);
        }
        if let Some(tls) = spec
            .tls
            .iter()
            .flatten()
            .find_map(|t| t.secret_name.clone())
        {
            value["tls"] = json!(tls);
        }
        if hosts.is_empty() {
            value.as_object_mut().map(|m| m.remove("hosts"));
        }
        let comment = vec![format!(
            "from {} ({})",
            object.id(),
            object.loc(&[]).short()
        )];
        draft.gateways.insert(gateway.clone(), (value, comment));
        for (target, mut route) in routes {
            let s = &mut draft.services[target];
            s.edge = true;
            if route.get("path") == Some(&json!("/")) {
                route.as_object_mut().map(|m| m.remove("path"));
            }
            s.expose.push(route);
        }
        if let Some(annotations) = object
            .at(&["metadata", "annotations"])
            .and_then(Value::as_object)
        {
            for key in annotations.keys() {
                draft.note(&object.loc(&["metadata", "annotations", key]), Fate::Dropped, object.id(), format!("the annotation `{key}` has no gateway key: the rendered Ingress carries Strata's own"));
            }
        }
        if unmatched {
            draft.note(
                &object.loc(&["spec", "rules"]),
                Fate::Review,
                object.id(),
                "some paths route to no imported service",
            );
        }
        if spec.default_backend.is_some() {
            draft.note(
                &object.loc(&["spec", "defaultBackend"]),
                Fate::Dropped,
                object.id(),
                "a default backend has no gateway key",
            );
        }
    }
}

/// Gateway API: a `Gateway` the input holds becomes a gateway of kind
/// `gateway-api`, and the rules of the HTTPRoutes attached to it `expose:`
/// routes. Routes to a Gateway the input does not hold are kept verbatim.
pub(super) fn gateway_api(index: &mut Index<'_>, draft: &mut Draft) {
    let is_gateway_api = |o: &Object| {
        o.doc.value["apiVersion"]
            .as_str()
            .is_some_and(|v| v.starts_with("gateway.networking.k8s.io/"))
    };
    let gateways: Vec<(usize, &Object)> = index
        .of_kind("Gateway")
        .filter(|(_, o)| is_gateway_api(o))
        .collect();
    let routes: Vec<(usize, &Object)> = index
        .of_kind("HTTPRoute")
        .filter(|(_, o)| is_gateway_api(o))
        .collect();
    for (g, gateway) in gateways {
        let name = dns_label(&gateway.name);
        let mut exposed: Vec<(usize, Value)> = Vec::new();
        let mut taken = Vec::new();
        for (r, route) in &routes {
            let attached = route.doc.value["spec"]["parentRefs"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|p| {
                    p["name"] == gateway.name.as_str()
                        && p["namespace"].as_str().unwrap_or(&route.namespace) == gateway.namespace
                });
            if !attached {
                continue;
            }
            let hostnames: Vec<String> = route.doc.value["spec"]["hostnames"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|h| h.as_str().map(str::to_string))
                .collect();
            let mut all = true;
            let mut found = Vec::new();
            for (i, rule) in route.doc.value["spec"]["rules"]
                .as_array()
                .into_iter()
                .flatten()
                .enumerate()
            {
                let loc = route.loc(&["spec", "rules", &i.to_string()]);
                let backends = rule["backendRefs"].as_array().cloned().unwrap_or_default();
                let matches = rule["matches"].as_array().cloned().unwrap_or_default();
                let path = matches
                    .first()
                    .and_then(|m| m["path"]["value"].as_str())
                    .unwrap_or("/")
                    .to_string();
                let prefix = matches
                    .first()
                    .is_none_or(|m| m["path"]["type"].as_str().is_none_or(|t| t == "PathPrefix"));
                let target = (backends.len() == 1
                    && matches.len() <= 1
                    && prefix
                    && rule["filters"].is_null())
                .then(|| {
                    let backend = &backends[0];
                    draft.services.iter().position(|s| {
                        s.namespace == route.namespace
                            && (s.hosts.first().map(String::as_str) == backend["name"].as_str()
                                || (s.hosts.is_empty() && backend["name"] == s.name.as_str()))
                    })
                })
                .flatten();
                let Some(target) = target else {
                    all = false;
                    draft.note(&loc, Fate::Review, route.id(), "a rule with several matches, backends or filters, or not to an imported service, has no `expose:` form: the HTTPRoute is kept as it is");
                    continue;
                };
                let port = backends[0]["port"]
                    .as_u64()
                    .and_then(|n| u16::try_from(n).ok())
                    .and_then(|n| draft.services[target].ports.iter().find(|p| p.port == n))
                    .map(|p| p.name.clone());
                let hosts: Vec<Option<&String>> = if hostnames.is_empty() {
                    vec![None]
                } else {
                    hostnames.iter().map(Some).collect()
                };
                for host in hosts {
                    let mut route_value = json!({ "via": name, "path": path });
                    if let Some(host) = host {
                        route_value["host"] = json!(host);
                    }
                    if let Some(port) = &port {
                        route_value["port"] = json!(port);
                    }
                    if path == "/" {
                        route_value.as_object_mut().map(|m| m.remove("path"));
                    }
                    found.push((target, route_value));
                }
            }
            if all && !found.is_empty() {
                taken.push((*r, route));
                exposed.extend(found);
            }
        }
        if exposed.is_empty() {
            continue;
        }
        index.used.insert(g);
        let spec = &gateway.doc.value["spec"];
        let mut hosts: Vec<String> = Vec::new();
        let mut tls = None;
        for listener in spec["listeners"].as_array().into_iter().flatten() {
            if let Some(h) = listener["hostname"].as_str()
                && !hosts.iter().any(|x| x == h)
            {
                hosts.push(h.to_string());
            }
            if let Some(cert) = listener["tls"]["certificateRefs"][0]["name"].as_str() {
                tls.get_or_insert_with(|| cert.to_string());
            }
        }
        let mut value = json!({ "kind": "gateway-api" });
        if let Some(class) = spec["gatewayClassName"].as_str() {
            value["class"] = json!(class);
        }
        if !hosts.is_empty() {
            value["hosts"] = json!(hosts);
        }
        if let Some(tls) = tls {
            value["tls"] = json!(tls);
        }
        if exposed
            .iter()
            .any(|(t, _)| draft.services[*t].namespace != gateway.namespace)
        {
            value["namespace"] = json!(gateway.namespace);
        }
        draft.gateways.insert(
            name.clone(),
            (
                value,
                vec![format!(
                    "from {} ({})",
                    gateway.id(),
                    gateway.loc(&[]).short()
                )],
            ),
        );
        for (r, route) in taken {
            index.used.insert(r);
            draft.note(&route.loc(&[]), Fate::Review, route.id(), format!("its rules become `expose:` routes through gateway `{name}`; Strata renders them as HTTPRoutes `{name}-SERVICE`"));
        }
        for (target, route) in exposed {
            let s = &mut draft.services[target];
            s.edge = true;
            s.expose.push(route);
        }
    }
}
