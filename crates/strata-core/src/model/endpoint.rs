//! What a service exports to the `${service.field}` references of others.

use super::{Port, Protocol};

/// The cluster's DNS domain.
pub const CLUSTER_DOMAIN: &str = "cluster.local";

/// The fields a service exports, in a stable order, with their values.
///
/// Every service exports `name`, `namespace` and `host` (its Kubernetes
/// Service's, `front`, which is the service's name unless its spec renames
/// it); one with ports also exports `port`, `address` and `url` for its
/// first port and `ports.NAME` for each port.
pub(super) fn exports(
    name: &str,
    front: &str,
    namespace: &str,
    ports: &[Port],
) -> Vec<(String, String)> {
    let host = format!("{front}.{namespace}.svc.{CLUSTER_DOMAIN}");
    let mut fields = vec![
        ("name".to_string(), name.to_string()),
        ("namespace".to_string(), namespace.to_string()),
        ("host".to_string(), host.clone()),
    ];
    if let Some(first) = ports.first() {
        let scheme = match first.protocol {
            Protocol::Http => "http",
            Protocol::Grpc => "grpc",
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        };
        let number = first.service_port();
        fields.push(("port".into(), number.to_string()));
        fields.push(("address".into(), format!("{host}:{number}")));
        fields.push(("url".into(), format!("{scheme}://{host}:{number}")));
    }
    for port in ports {
        fields.push((
            format!("ports.{}", port.name),
            port.service_port().to_string(),
        ));
    }
    fields
}

/// `fields` with each of `overrides` replacing the field of its name, or
/// added after them (a blueprint's `url` scheme, `secret`…).
pub(super) fn with_overrides(
    mut fields: Vec<(String, String)>,
    overrides: &[(String, String)],
) -> Vec<(String, String)> {
    for (key, value) in overrides {
        match fields.iter_mut().find(|(k, _)| k == key) {
            Some(field) => field.1.clone_from(value),
            None => fields.push((key.clone(), value.clone())),
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::exports;
    use crate::model::{Port, Protocol};

    #[test]
    fn a_service_exports_the_url_of_its_first_port() {
        let ports = [Port {
            name: "http".into(),
            number: 8000,
            protocol: Protocol::Http,
            service_number: None,
            node_port: None,
            sidecar: None,
        }];
        let fields = exports("gateway", "gateway", "isa", &ports);
        let url = fields.iter().find(|(k, _)| k == "url").unwrap();
        assert_eq!(url.1, "http://gateway.isa.svc.cluster.local:8000");
    }
}
