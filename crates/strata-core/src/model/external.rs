//! Externals: dependencies the spec does not run (a Kafka another team
//! operates, a managed database) that services call by name. They export
//! fields like a service, make edges without start-up waits, and open the
//! callers' egress.

use super::resolve::Resolver;
use super::{External, Reach};

/// The fields an external exports: `name`, `host` (the first host),
/// `hosts` (every host, comma-separated), `port` (the first port),
/// `address` (every host with the first port, comma-separated: a broker
/// list) and `ports.NAME`.
pub(super) fn exports(external: &External) -> Vec<(String, String)> {
    let mut fields = vec![("name".to_string(), external.name.clone())];
    if let Some(host) = external.hosts.first() {
        fields.push(("host".into(), host.clone()));
    }
    fields.push(("hosts".into(), external.hosts.join(",")));
    if let Some((_, port)) = external.ports.first() {
        fields.push(("port".into(), port.to_string()));
        let address: Vec<String> = external
            .hosts
            .iter()
            .map(|h| format!("{h}:{port}"))
            .collect();
        fields.push(("address".into(), address.join(",")));
    }
    for (name, number) in &external.ports {
        fields.push((format!("ports.{name}"), number.to_string()));
    }
    fields
}

impl Resolver<'_> {
    /// The platform's externals, each checked: hosts and ports given, and
    /// exactly one way to reach it; a name no service has.
    pub(super) fn resolve_externals(&mut self, services: &[&str]) -> Vec<External> {
        let mut out = Vec::new();
        let spec = self.spec;
        for (name, external) in spec.externals.iter().flat_map(|e| e.value.iter()) {
            let e = &external.value;
            if services.contains(&name.value.0.as_str()) {
                self.error(
                    "duplicate-external",
                    format!("`{}` is both a service and an external", name.value.0),
                    name.span,
                    "named like a service",
                    "rename the external: references find services and externals by one name"
                        .into(),
                );
            }
            if e.hosts.value.is_empty() || e.hosts.value.iter().any(|h| h.value.trim().is_empty()) {
                self.error(
                    "invalid-external",
                    format!("the external `{}` has no host", name.value.0),
                    e.hosts.span,
                    "no host",
                    "list its host names or addresses: `hosts: [kafka-0.infra.example]`".into(),
                );
            }
            if e.ports.value.iter().any(|(_, p)| p.value == 0) || e.ports.value.0.is_empty() {
                self.error(
                    "invalid-external",
                    format!(
                        "the external `{}` needs ports from 1 to 65535",
                        name.value.0
                    ),
                    e.ports.span,
                    "no usable port",
                    "name its ports: `ports: { kafka: 9092 }`".into(),
                );
            }
            let reach = match (&e.cidr, &e.namespace) {
                (Some(cidr), None) => {
                    if let Some(selector) = &e.selector {
                        self.error(
                            "invalid-external",
                            format!("the external `{}` selects pods but names no namespace", name.value.0),
                            selector.span,
                            "pods of which namespace?",
                            "a `selector` goes with `namespace`; an external outside the cluster has a `cidr` only".into(),
                        );
                    }
                    Some(Reach::Block(cidr.value.0.clone()))
                }
                (None, Some(namespace)) => Some(Reach::Pods {
                    namespace: namespace.value.0.clone(),
                    labels: super::resolve::labels(e.selector.as_ref()),
                }),
                (Some(cidr), Some(_)) => {
                    self.error(
                        "invalid-external",
                        format!("the external `{}` is both outside the cluster (`cidr`) and in a namespace", name.value.0),
                        cidr.span,
                        "which one?",
                        "keep `cidr` for addresses outside the cluster, or `namespace` (and `selector`) for pods inside it".into(),
                    );
                    None
                }
                (None, None) => {
                    self.error(
                        "invalid-external",
                        format!("the external `{}` says neither where it is", name.value.0),
                        external.span,
                        "where is it?",
                        "add `cidr: 10.0.0.0/8` for addresses outside the cluster, or `namespace: NAME` (and `selector:`) for pods inside it; callers' egress policies allow it on its ports".into(),
                    );
                    None
                }
            };
            // Kept even when wrong (the errors stop resolution anyway), so
            // its callers report nothing more.
            let reach = reach.unwrap_or(Reach::Block(String::new()));
            out.push(External {
                name: name.value.0.clone(),
                description: e.description.as_ref().map(|d| d.value.clone()),
                hosts: e
                    .hosts
                    .value
                    .iter()
                    .map(|h| h.value.trim().to_string())
                    .collect(),
                ports: e
                    .ports
                    .value
                    .iter()
                    .map(|(k, v)| (k.value.0.clone(), v.value))
                    .collect(),
                reach,
            });
        }
        out
    }

    /// The index of the external called `name`, noted as referenced by the
    /// service being resolved.
    pub(super) fn reference_external(&mut self, name: &str) -> Option<usize> {
        let index = self.externals.iter().position(|e| e.name == name)?;
        if !self.referenced.contains(&index) {
            self.referenced.push(index);
        }
        Some(index)
    }
}

#[cfg(test)]
mod tests {
    use super::exports;
    use crate::model::{External, Reach};

    #[test]
    fn an_external_exports_every_host_with_the_first_port() {
        let kafka = External {
            name: "kafka".into(),
            description: None,
            hosts: vec!["kafka-0.infra".into(), "kafka-1.infra".into()],
            ports: vec![("kafka".into(), 9092)],
            reach: Reach::Block("10.0.0.0/8".into()),
        };
        let fields = exports(&kafka);
        let address = fields.iter().find(|(k, _)| k == "address").unwrap();
        assert_eq!(address.1, "kafka-0.infra:9092,kafka-1.infra:9092");
    }
}
