//! What a service exports to the `${service.field}` references of others.

use std::cell::OnceCell;

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

/// What each service exports, worked out the first time a reference reads
/// it: most services are referenced by few others or none, and a service's
/// fields cost a dozen strings.
pub(super) struct Exports(Vec<OnceCell<Vec<(String, String)>>>);

impl Exports {
    /// Nothing worked out yet, for `count` services.
    pub(super) fn new(count: usize) -> Exports {
        Exports(std::iter::repeat_with(OnceCell::new).take(count).collect())
    }

    /// The exports read from `services`, whose names, namespaces, ports and
    /// blueprint exports must stay as they are while it is used.
    pub(super) fn of<'e>(&'e self, services: &'e [Service]) -> Endpoints<'e> {
        Endpoints {
            services,
            exports: self,
        }
    }
}

/// The fields every service exports, as `${service.field}` references read
/// them.
#[derive(Clone, Copy)]
pub(super) struct Endpoints<'e> {
    services: &'e [Service],
    exports: &'e Exports,
}

impl<'e> Endpoints<'e> {
    /// The fields `id` exports, with its blueprint's over them.
    pub(super) fn get(&self, id: ServiceId) -> &'e [(String, String)] {
        self.exports.0[id.0].get_or_init(|| of(&self.services[id.0]))
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
    use super::{Exports, exports, of};
    use crate::model::{Port, Protocol, ServiceId};
    use crate::source::SourceFile;

    #[test]
    fn exports_are_worked_out_once_when_first_read() {
        let file = SourceFile::new(
            "p.yaml",
            "platform: demo\ntiers:\n  - name: apps\n    services:\n      api: { image: a:1, ports: { http: 8000 } }\n      worker: { image: b:1 }\n",
        );
        let platform = crate::resolve(&crate::spec::parse(&file).unwrap(), None).unwrap();
        let exports = Exports::new(platform.services.len());
        let endpoints = exports.of(&platform.services);
        assert!(exports.0.iter().all(|cell| cell.get().is_none()));
        let api = endpoints.get(ServiceId(0));
        assert_eq!(api, of(&platform.services[0]));
        assert!(
            api.iter()
                .any(|(k, v)| k == "url" && v == "http://api.demo.svc.cluster.local:8000")
        );
        assert!(std::ptr::eq(api, endpoints.get(ServiceId(0))));
        assert!(exports.0[1].get().is_none());
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
