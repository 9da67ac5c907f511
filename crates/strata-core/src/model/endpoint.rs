//! What a service exports to the `${service.field}` references of others.

use super::{Port, Protocol, Service, ServiceId};

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
        let scheme = scheme(first.protocol);
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

/// The fields every service exports, as `${service.field}` references read
/// them: each field worked out when a reference reads it, not every field
/// of every service up front (most are never read, and a service's fields
/// cost a dozen strings).
#[derive(Clone, Copy)]
pub(super) struct Endpoints<'e> {
    services: &'e [Service],
}

impl<'e> Endpoints<'e> {
    /// The exports of `services`, whose names, namespaces, ports and
    /// blueprint exports must stay as they are while it is used.
    pub(super) fn new(services: &'e [Service]) -> Endpoints<'e> {
        Endpoints { services }
    }

    /// The value of `id`'s field `key`, with its blueprint's over it; `None`
    /// when it exports no such field.
    pub(super) fn field(&self, id: ServiceId, key: &str) -> Option<String> {
        field(&self.services[id.0], key)
    }

    /// Every field `id` exports, with its blueprint's over them, in their
    /// stable order (for the help of a field it does not export).
    pub(super) fn all(&self, id: ServiceId) -> Vec<(String, String)> {
        of(&self.services[id.0])
    }
}

/// The value of `service`'s field `key`, as [`of`] gives it, without
/// making the others.
pub(super) fn field(service: &Service, key: &str) -> Option<String> {
    let own = service
        .tuning
        .as_ref()
        .map_or(&[][..], |t| &t.supplied.exports[..]);
    // The last of a blueprint's fields of one name is the one that stays.
    if let Some((_, value)) = own.iter().rev().find(|(k, _)| k == key) {
        return Some(value.clone());
    }
    let host = || {
        format!(
            "{}.{}.svc.{CLUSTER_DOMAIN}",
            service.front.name, service.namespace
        )
    };
    let first = service.ports.first();
    match key {
        "name" => Some(service.name.clone()),
        "namespace" => Some(service.namespace.clone()),
        "host" => Some(host()),
        "port" => first.map(|p| p.service_port().to_string()),
        "address" => first.map(|p| format!("{}:{}", host(), p.service_port())),
        "url" => first.map(|p| format!("{}://{}:{}", scheme(p.protocol), host(), p.service_port())),
        _ => {
            let name = key.strip_prefix("ports.")?;
            service
                .ports
                .iter()
                .find(|p| p.name == name)
                .map(|p| p.service_port().to_string())
        }
    }
}

/// The scheme of a service's `url`, from its first port's protocol.
fn scheme(protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::Http => "http",
        Protocol::Grpc => "grpc",
        Protocol::Tcp => "tcp",
        Protocol::Udp => "udp",
    }
}

/// The fields `service` exports, with its blueprint's over them.
pub(super) fn of(service: &Service) -> Vec<(String, String)> {
    let own = service
        .tuning
        .as_ref()
        .map_or(&[][..], |t| &t.supplied.exports[..]);
    with_overrides(
        exports(
            &service.name,
            &service.front.name,
            &service.namespace,
            &service.ports,
        ),
        own,
    )
}

#[cfg(test)]
mod tests {
    use super::{Endpoints, exports, of};
    use crate::model::{Port, Protocol, ServiceId};
    use crate::source::SourceFile;

    #[test]
    fn a_field_read_alone_is_the_one_of_every_field() {
        // Ports, none, a renamed Service, and blueprints whose exports
        // replace fields (`url`) and add some (`secret`).
        let file = SourceFile::new(
            "p.yaml",
            "platform: demo\ntiers:\n  - name: data\n    services:\n      db: { blueprint: postgresql }\n      cache: { blueprint: redis }\n  - name: apps\n    namespace: shop\n    services:\n      api: { image: a:1, ports: { http: 8000, grpc: { port: 9000, targetPort: 9001 } }, service: { name: front } }\n      worker: { image: b:1 }\n",
        );
        let platform = crate::resolve(&crate::spec::parse(&file).unwrap(), None).unwrap();
        let endpoints = Endpoints::new(&platform.services);
        let mut replaced = 0;
        for (i, service) in platform.services.iter().enumerate() {
            let id = ServiceId(i);
            let every = of(service);
            assert_eq!(endpoints.all(id), every);
            for (key, value) in &every {
                assert_eq!(
                    endpoints.field(id, key).as_deref(),
                    Some(value.as_str()),
                    "{key}"
                );
            }
            for missing in ["nope", "ports.nope", "ports.", "ports"] {
                assert_eq!(endpoints.field(id, missing), None, "{missing}");
            }
            let base = exports(
                &service.name,
                &service.front.name,
                &service.namespace,
                &service.ports,
            );
            replaced += every.iter().filter(|f| !base.contains(f)).count();
        }
        assert!(replaced > 0, "a blueprint's exports are read");
        let api = platform.service_id("api").unwrap();
        assert_eq!(
            endpoints.field(api, "url").as_deref(),
            Some("http://front.shop.svc.cluster.local:8000")
        );
        assert_eq!(endpoints.field(api, "ports.grpc").as_deref(), Some("9000"));
        let worker = platform.service_id("worker").unwrap();
        assert_eq!(endpoints.field(worker, "port"), None);
    }

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
