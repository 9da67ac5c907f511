//! The traffic checks: Services with ready endpoints (EndpointSlices), the
//! backends of gateway routes, and health URLs through the API server's
//! service proxy.

use std::collections::{BTreeMap, BTreeSet};

use futures::stream::{self, StreamExt};
use kube::client::Body;
use serde_json::Value;
use strata_core::kind;
use strata_core::model::{Platform, ProbeCheck, Service};
use strata_core::render::{Object, RenderedSet};

use super::{Check, Next, Outcome, VerifyOptions};
use crate::cluster::{Cluster, ClusterError, ObjectId};

/// The label an EndpointSlice names its Service by.
const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";

/// `(namespace, name)` of a Service.
pub(super) type ServiceKey = (String, String);

/// Ready endpoints of a live Service, or `None` when it is not there.
async fn ready_endpoints(
    cluster: &Cluster,
    namespace: &str,
    name: &str,
) -> Result<Option<usize>, ClusterError> {
    let id = ObjectId {
        api_version: "v1".into(),
        kind: kind::SERVICE.into(),
        namespace: namespace.into(),
        name: name.into(),
    };
    if cluster.get(&id).await?.is_none() {
        return Ok(None);
    }
    let slices = cluster
        .list(
            "discovery.k8s.io/v1",
            "EndpointSlice",
            namespace,
            &format!("{SERVICE_NAME_LABEL}={name}"),
        )
        .await?;
    Ok(Some(slices.iter().map(ready_in_slice).sum()))
}

/// The ready endpoints of an EndpointSlice: those whose `ready` condition
/// is not false (unset means ready, as the API documents it).
fn ready_in_slice(slice: &Value) -> usize {
    slice["endpoints"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["conditions"]["ready"] != false)
        .count()
}

/// True when every rendered workload a Service selects has zero replicas,
/// so that no endpoint is what the spec says.
fn scaled_to_zero(set: &RenderedSet, service: &Object) -> bool {
    let Some(selector) = service.value["spec"]["selector"].as_object() else {
        return false;
    };
    let selected: Vec<&Object> = set
        .objects
        .iter()
        .filter(|o| kind::is_workload(o.kind()) && o.namespace() == service.namespace())
        .filter(|o| {
            let labels = &o.value["spec"]["template"]["metadata"]["labels"];
            selector.iter().all(|(k, v)| labels[k] == *v)
        })
        .collect();
    !selected.is_empty()
        && selected
            .iter()
            .all(|o| o.value["spec"]["replicas"].as_i64() == Some(0))
}

/// Each rendered Service with a selector, and its ready endpoints; also
/// the ready endpoints found, for the routes.
pub(super) async fn endpoints(
    cluster: &Cluster,
    set: &RenderedSet,
    concurrency: usize,
) -> Result<(Vec<Outcome>, BTreeMap<ServiceKey, Option<usize>>), ClusterError> {
    let services: Vec<&Object> = set
        .objects
        .iter()
        .filter(|o| o.kind() == kind::SERVICE)
        .filter(|o| {
            o.value["spec"]["selector"]
                .as_object()
                .is_some_and(|s| !s.is_empty())
        })
        .collect();
    let found: Vec<Result<(&Object, Option<usize>), ClusterError>> = stream::iter(services)
        .map(|o| async move { Ok((o, ready_endpoints(cluster, o.namespace(), o.name()).await?)) })
        .buffered(concurrency)
        .collect()
        .await;
    let mut outcomes = Vec::new();
    let mut ready = BTreeMap::new();
    for result in found {
        let (object, count) = result?;
        let id = ObjectId::of(&object.value);
        ready.insert(
            (object.namespace().to_string(), object.name().to_string()),
            count,
        );
        let outcome = match count {
            None => Outcome::failed(
                Check::Endpoints,
                id.to_string(),
                "not in the cluster",
                Next::Apply,
            ),
            Some(0) if scaled_to_zero(set, object) => Outcome::skipped(
                Check::Endpoints,
                id.to_string(),
                "no endpoints: its workloads are scaled to zero",
            ),
            Some(0) => Outcome::failed(
                Check::Endpoints,
                id.to_string(),
                "no ready endpoints: none of the pods it selects is ready",
                object
                    .service
                    .clone()
                    .map_or_else(|| Next::Describe(id.clone()), Next::Logs),
            ),
            Some(n) => Outcome::passed(
                Check::Endpoints,
                id.to_string(),
                format!("{n} ready endpoints"),
            ),
        };
        outcomes.push(outcome.of(object.service.as_deref()));
    }
    Ok((outcomes, ready))
}

/// The backend Services of a gateway route: an Ingress's, a Gateway API
/// route's (`backendRefs` of kind Service), an Istio VirtualService's
/// destinations inside the cluster.
fn backends(route: &Object) -> Vec<ServiceKey> {
    let namespace = route.namespace().to_string();
    let spec = &route.value["spec"];
    let list = |v: &Value| v.as_array().cloned().unwrap_or_default();
    let mut out = BTreeSet::new();
    match route.kind() {
        kind::INGRESS => {
            let default = &spec["defaultBackend"]["service"]["name"];
            out.extend(default.as_str().map(|n| (namespace.clone(), n.to_string())));
            for rule in list(&spec["rules"]) {
                for path in list(&rule["http"]["paths"]) {
                    if let Some(name) = path["backend"]["service"]["name"].as_str() {
                        out.insert((namespace.clone(), name.to_string()));
                    }
                }
            }
        }
        "HTTPRoute" | "GRPCRoute" | "TCPRoute" | "TLSRoute" | "UDPRoute" => {
            for rule in list(&spec["rules"]) {
                for backend in list(&rule["backendRefs"]) {
                    let service = backend["kind"].as_str().is_none_or(|k| k == kind::SERVICE)
                        && backend["group"].as_str().is_none_or(str::is_empty);
                    if let (true, Some(name)) = (service, backend["name"].as_str()) {
                        let ns = backend["namespace"].as_str().unwrap_or(&namespace);
                        out.insert((ns.to_string(), name.to_string()));
                    }
                }
            }
        }
        kind::VIRTUAL_SERVICE => {
            for protocol in ["http", "tcp", "tls", "grpc"] {
                for rule in list(&spec[protocol]) {
                    for route in list(&rule["route"]) {
                        if let Some(host) = route["destination"]["host"].as_str() {
                            out.extend(cluster_service(host, &namespace));
                        }
                    }
                }
            }
        }
        _ => {}
    }
    out.into_iter().collect()
}

/// The Service a host names inside the cluster: `name`, `name.ns`,
/// `name.ns.svc…`; `None` for a host outside.
fn cluster_service(host: &str, namespace: &str) -> Option<ServiceKey> {
    let parts: Vec<&str> = host.split('.').collect();
    match parts.as_slice() {
        [name] => Some((namespace.to_string(), (*name).to_string())),
        [name, ns] | [name, ns, "svc", ..] => Some(((*ns).to_string(), (*name).to_string())),
        _ => None,
    }
}

/// Each route's backends: there, with ready endpoints.
pub(super) async fn routes(
    cluster: &Cluster,
    set: &RenderedSet,
    ready: &BTreeMap<ServiceKey, Option<usize>>,
) -> Result<Vec<Outcome>, ClusterError> {
    let mut outcomes = Vec::new();
    for route in &set.objects {
        let route_id = ObjectId::of(&route.value);
        for (namespace, name) in backends(route) {
            let count = match ready.get(&(namespace.clone(), name.clone())) {
                Some(count) => *count,
                None => ready_endpoints(cluster, &namespace, &name).await?,
            };
            let backend = format!("Service/{namespace}/{name}");
            let subject = format!("{route_id} → {backend}");
            let owner = set
                .objects
                .iter()
                .find(|o| {
                    o.kind() == kind::SERVICE && o.namespace() == namespace && o.name() == name
                })
                .and_then(|o| o.service.clone());
            let outcome = match count {
                None => Outcome::failed(
                    Check::Route,
                    subject,
                    format!("its backend {backend} is not in the cluster"),
                    Next::Apply,
                ),
                Some(0) => Outcome::failed(
                    Check::Route,
                    subject,
                    format!("its backend {backend} has no ready endpoints"),
                    owner.clone().map_or_else(
                        || {
                            Next::Describe(ObjectId {
                                api_version: "v1".into(),
                                kind: kind::SERVICE.into(),
                                namespace: namespace.clone(),
                                name: name.clone(),
                            })
                        },
                        Next::Logs,
                    ),
                ),
                Some(n) => Outcome::passed(
                    Check::Route,
                    subject,
                    format!("its backend has {n} ready endpoints"),
                ),
            };
            outcomes.push(outcome.of(owner.as_deref().or(route.service.as_deref())));
        }
    }
    Ok(outcomes)
}

/// The HTTP health URL of a service: its readiness probe's path, on the
/// rendered Service's port that leads to the probe's port, as
/// `(namespace, Service, port, path)`.
fn health_url(set: &RenderedSet, service: &Service) -> Option<(String, String, String, String)> {
    let probe = service.runtime.probes.as_ref()?.readiness.as_ref()?;
    let ProbeCheck::Http { port, path, .. } = &*probe.check else {
        return None;
    };
    let number = service.ports.iter().find(|p| p.name == *port)?.number;
    let leads_to_probe = |p: &Value| {
        p["targetPort"] == port.as_str()
            || p["targetPort"].as_u64() == Some(u64::from(number))
            || (p["targetPort"].is_null() && p["port"].as_u64() == Some(u64::from(number)))
    };
    // The Service clients use (not a headless one) first.
    let mut candidates: Vec<&Object> = set
        .objects
        .iter()
        .filter(|o| o.kind() == kind::SERVICE && o.service.as_deref() == Some(&service.name))
        .collect();
    candidates.sort_by_key(|o| o.value["spec"]["clusterIP"] == "None");
    candidates.into_iter().find_map(|o| {
        let ports = o.value["spec"]["ports"].as_array()?;
        let found = ports.iter().find(|p| leads_to_probe(p))?;
        let name = match found["name"].as_str() {
            Some(name) if !name.is_empty() => name.to_string(),
            _ => found["port"].as_u64()?.to_string(),
        };
        let path = if path.starts_with('/') {
            path.clone()
        } else {
            format!("/{path}")
        };
        Some((o.namespace().to_string(), o.name().to_string(), name, path))
    })
}

/// Each service's health URL, through the API server's service proxy.
pub(super) async fn health(
    cluster: &Cluster,
    platform: &Platform,
    set: &RenderedSet,
    options: &VerifyOptions,
) -> Result<Vec<Outcome>, ClusterError> {
    let mut outcomes = Vec::new();
    let mut asked = Vec::new();
    for service in &platform.services {
        if !service.kind.is_long_running() {
            continue;
        }
        let Some((namespace, name, port, path)) = health_url(set, service) else {
            if !service.ports.is_empty() {
                outcomes.push(
                    Outcome::skipped(
                        Check::Health,
                        format!("service {}", service.name),
                        "no health URL: its readiness probe is not an HTTP GET (`probes.path` sets one)",
                    )
                    .of(Some(&service.name)),
                );
            }
            continue;
        };
        let subject = format!("Service/{namespace}/{name}:{port}{path}");
        if service.replicas == 0 {
            outcomes.push(
                Outcome::skipped(Check::Health, subject, "not asked: scaled to zero")
                    .of(Some(&service.name)),
            );
            continue;
        }
        let url = format!("/api/v1/namespaces/{namespace}/services/{name}:{port}/proxy{path}");
        let id = ObjectId {
            api_version: "v1".into(),
            kind: kind::SERVICE.into(),
            namespace,
            name,
        };
        asked.push((service, id, url, subject));
    }
    let answers: Vec<Result<Outcome, ClusterError>> = stream::iter(asked)
        .map(|(service, id, url, subject)| async move {
            let outcome =
                match tokio::time::timeout(options.health_timeout, get(cluster, &id, &url)).await {
                    Err(_) => Outcome::failed(
                        Check::Health,
                        subject,
                        format!("no answer within {}s", options.health_timeout.as_secs()),
                        Next::Logs(service.name.clone()),
                    ),
                    Ok(Err(e)) => return Err(e),
                    Ok(Ok((code, _))) if (200..300).contains(&code) => {
                        Outcome::passed(Check::Health, subject, format!("answered {code}"))
                    }
                    Ok(Ok((code, body))) => Outcome::failed(
                        Check::Health,
                        subject,
                        format!("answered {code}: {}", first_line(&body)),
                        Next::Logs(service.name.clone()),
                    ),
                };
            Ok(outcome.of(Some(&service.name)))
        })
        .buffered(options.concurrency.max(1))
        .collect()
        .await;
    for answer in answers {
        outcomes.push(answer?);
    }
    Ok(outcomes)
}

/// A GET of `url` on the API server: the status code and the body.
async fn get(cluster: &Cluster, id: &ObjectId, url: &str) -> Result<(u16, String), ClusterError> {
    let unreachable = |message: String| ClusterError::Unreachable {
        id: Box::new(id.clone()),
        message,
    };
    let request = http::Request::get(url)
        .body(Vec::new())
        .map_err(|e| unreachable(e.to_string()))?;
    let response = cluster
        .client()
        .send(request.map(Body::from))
        .await
        .map_err(|e| unreachable(e.to_string()))?;
    let code = response.status().as_u16();
    let body = response
        .into_body()
        .collect_bytes()
        .await
        .map_err(|e| unreachable(e.to_string()))?;
    Ok((code, String::from_utf8_lossy(&body).into_owned()))
}

/// The gist of an answer: a Status's message, or the body's first line,
/// cut short.
fn first_line(body: &str) -> String {
    const LONGEST: usize = 120;
    let text = serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v["message"].as_str().map(str::to_string))
        .unwrap_or_else(|| body.lines().next().unwrap_or("").trim().to_string());
    if text.chars().count() > LONGEST {
        format!("{}…", text.chars().take(LONGEST).collect::<String>())
    } else if text.is_empty() {
        "(empty body)".into()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn hosts_inside_the_cluster_name_their_service() {
        assert_eq!(
            cluster_service("api", "shop"),
            Some(("shop".into(), "api".into()))
        );
        assert_eq!(
            cluster_service("api.data.svc.cluster.local", "shop"),
            Some(("data".into(), "api".into()))
        );
        assert_eq!(cluster_service("example.com.eu", "shop"), None);
    }

    fn object(value: Value) -> Object {
        Object {
            wave: 1,
            tier: None,
            service: None,
            value,
        }
    }

    #[test]
    fn routes_name_their_backends() {
        let ingress = object(
            json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "edge", "namespace": "shop"},
                "spec": {"rules": [{"http": {"paths": [{"backend": {"service": {"name": "web", "port": {"number": 80}}}}]}}]}}),
        );
        assert_eq!(backends(&ingress), [("shop".into(), "web".into())]);
        let route = object(
            json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "metadata": {"name": "r", "namespace": "shop"},
                "spec": {"rules": [{"backendRefs": [{"name": "api", "port": 8080}, {"name": "b", "kind": "Bucket", "group": "x.io"}]}]}}),
        );
        assert_eq!(backends(&route), [("shop".into(), "api".into())]);
    }

    #[test]
    fn unset_readiness_counts_as_ready() {
        let slice = json!({"endpoints": [{"conditions": {"ready": true}}, {"conditions": {}}, {"conditions": {"ready": false}}]});
        assert_eq!(ready_in_slice(&slice), 2);
    }

    #[test]
    fn answers_are_cut_to_their_gist() {
        assert_eq!(
            first_line(
                r#"{"kind":"Status","message":"no endpoints available for service \"api\""}"#
            ),
            "no endpoints available for service \"api\""
        );
        assert_eq!(first_line("boom\nstack"), "boom");
        assert_eq!(first_line(""), "(empty body)");
    }
}
