//! Probes as the input has them, every timing written out.

use super::patch;
use crate::draft::{Draft, DraftService};
use crate::kube::Object;
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// A Kubernetes duration in seconds as the spec writes it.
pub(super) fn seconds(n: i32) -> Value {
    json!(format!("{n}s"))
}

#[allow(clippy::too_many_arguments)]
pub(super) fn probes(
    object: &Object,
    main: &core::Container,
    main_index: usize,
    container_ports: &BTreeMap<String, u16>,
    draft: &mut Draft,
    service: &mut DraftService,
    origin: &str,
    template: &[String],
) {
    let mut settings = Map::new();
    let mut any = false;
    for (key, field, probe) in [
        ("startup", "startupProbe", &main.startup_probe),
        ("readiness", "readinessProbe", &main.readiness_probe),
        ("liveness", "livenessProbe", &main.liveness_probe),
    ] {
        let Some(probe) = probe else {
            settings.insert(key.into(), json!(false));
            continue;
        };
        any = true;
        match probe_settings(probe, container_ports, service) {
            Ok(value) => {
                settings.insert(key.into(), value);
            }
            Err(why) => {
                settings.insert(key.into(), json!(false));
                let path: Vec<String> = template
                    .iter()
                    .cloned()
                    .chain([
                        "spec".into(),
                        "containers".into(),
                        main_index.to_string(),
                        field.into(),
                    ])
                    .collect();
                let l = object.loc(&path.iter().map(String::as_str).collect::<Vec<_>>());
                let pod_spec = service.kind.pod_spec();
                patch(
                    draft,
                    service,
                    &l,
                    &object.id(),
                    json!({ "op": "add", "path": format!("{pod_spec}/containers/0/{field}"), "value": probe }),
                    &format!("`{field}` ({why})"),
                );
            }
        }
    }
    if any {
        service.set(
            "probes",
            Value::Object(settings),
            &[&format!("the probes of {origin}, as they are")],
        );
    } else {
        service.set(
            "probes",
            json!(false),
            &["the input has no probes; `probes: true` gives it Strata's (a TCP or gRPC check of the first port)"],
        );
    }
}

/// One probe as the spec's settings, or why it has none.
pub(super) fn probe_settings(
    probe: &core::Probe,
    container_ports: &BTreeMap<String, u16>,
    service: &DraftService,
) -> Result<Value, String> {
    let port_of = |port: &IntOrString| -> Result<String, String> {
        let number = match port {
            IntOrString::Int(n) => {
                u16::try_from(*n).map_err(|_| "a port out of range".to_string())?
            }
            IntOrString::String(name) => *container_ports
                .get(name)
                .ok_or_else(|| format!("the port `{name}` is not declared"))?,
        };
        service
            .ports
            .iter()
            .find(|p| p.target == number)
            .map(|p| p.name.clone())
            .ok_or_else(|| format!("the port {number} is not one of the container's ports"))
    };
    let mut out = Map::new();
    if let Some(http) = &probe.http_get {
        if http.scheme.as_deref().is_some_and(|s| s != "HTTP") || http.host.is_some() {
            return Err("an HTTPS or host-bound check".into());
        }
        out.insert("kind".into(), json!("http"));
        out.insert("port".into(), json!(port_of(&http.port)?));
        out.insert(
            "path".into(),
            json!(http.path.clone().unwrap_or_else(|| "/".into())),
        );
        if let Some(headers) = &http.http_headers
            && !headers.is_empty()
        {
            let map: BTreeMap<_, _> = headers
                .iter()
                .map(|h| (h.name.clone(), h.value.clone()))
                .collect();
            out.insert("headers".into(), json!(map));
        }
    } else if let Some(tcp) = &probe.tcp_socket {
        if tcp.host.is_some() {
            return Err("a host-bound check".into());
        }
        out.insert("kind".into(), json!("tcp"));
        out.insert("port".into(), json!(port_of(&tcp.port)?));
    } else if let Some(grpc) = &probe.grpc {
        if grpc.service.as_deref().is_some_and(|s| !s.is_empty()) {
            return Err("a named gRPC health service".into());
        }
        out.insert("kind".into(), json!("grpc"));
        out.insert("port".into(), json!(port_of(&IntOrString::Int(grpc.port))?));
    } else if let Some(exec) = &probe.exec {
        out.insert("kind".into(), json!("exec"));
        out.insert(
            "command".into(),
            json!(exec.command.clone().unwrap_or_default()),
        );
    } else {
        return Err("no check".into());
    }
    if let Some(delay) = probe.initial_delay_seconds.filter(|d| *d > 0) {
        out.insert("initialDelay".into(), seconds(delay));
    }
    out.insert(
        "period".into(),
        seconds(probe.period_seconds.unwrap_or(10).max(1)),
    );
    out.insert(
        "timeout".into(),
        seconds(probe.timeout_seconds.unwrap_or(1).max(1)),
    );
    out.insert(
        "failureThreshold".into(),
        json!(probe.failure_threshold.unwrap_or(3)),
    );
    let success = probe.success_threshold.unwrap_or(1);
    if success != 1 {
        out.insert("successThreshold".into(), json!(success));
    }
    Ok(Value::Object(out))
}
