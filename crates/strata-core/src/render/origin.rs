//! Which part of the spec put each rendered object in the set, so that two
//! objects of one identity (`kubectl apply` would keep only the last) are
//! reported at the spec lines that made them: the services, a topic or
//! database entry, a tier's manifest document.

use std::collections::HashMap;

use super::Object;
use crate::diag::Diagnostic;
use crate::model::{FileRef, Service};
use crate::source::{SourceFile, Span};

/// What made an object.
#[derive(Debug, Clone, Copy)]
pub(super) enum Origin<'a> {
    /// Strata, for the platform as a whole: namespaces, default policies,
    /// gateways, the mesh, queues, Argo CD, the platform's Secrets.
    Platform,
    /// A service: its own objects, its blueprint's and companions', after
    /// its patches.
    Service(&'a Service),
    /// A document of a tier's manifest file, at `line` of that file.
    Manifest(&'a FileRef, usize),
}

/// The origin of each object of a set being built, recorded as the set
/// grows: `mark(at, origin)` says that objects from index `at` on come from
/// `origin`, until the next mark.
#[derive(Debug, Default)]
pub(super) struct Origins<'a> {
    marks: Vec<(usize, Origin<'a>)>,
}

impl<'a> Origins<'a> {
    /// Objects from index `at` on come from `origin`.
    pub(super) fn mark(&mut self, at: usize, origin: Origin<'a>) {
        self.marks.push((at, origin));
    }

    /// The origin of the object at `index`.
    pub(super) fn of(&self, index: usize) -> Origin<'a> {
        let after = self.marks.partition_point(|(at, _)| *at <= index);
        after
            .checked_sub(1)
            .map_or(Origin::Platform, |i| self.marks[i].1)
    }
}

/// The API group of an object: what, besides kind, namespace and name, makes
/// its identity.
fn group(object: &Object) -> &str {
    object
        .api_version()
        .rsplit_once('/')
        .map_or("", |(group, _)| group)
}

/// Every object whose group, kind, namespace and name an earlier object of
/// `objects` has, reported where the spec makes the two: one error for each
/// pair of places (a service that repeats another's Service repeats its
/// ServiceAccount too), naming every object they both make.
pub(super) fn duplicates(
    file: &SourceFile,
    services: &[Service],
    objects: &[Object],
    origins: &Origins<'_>,
) -> Vec<Diagnostic> {
    let mut seen: HashMap<(&str, &str, &str, &str), usize> = HashMap::new();
    let mut pairs: Vec<Pair> = Vec::new();
    for (index, object) in objects.iter().enumerate() {
        let identity = (
            group(object),
            object.kind(),
            object.namespace(),
            object.name(),
        );
        let Some(&first) = seen.get(&identity) else {
            seen.insert(identity, index);
            continue;
        };
        let here = place(services, origins.of(index), object);
        let there = place(services, origins.of(first), &objects[first]);
        let key = (here.as_ref().map(|p| p.0), there.as_ref().map(|p| p.0));
        match pairs
            .iter_mut()
            .find(|p| p.key == key && key != (None, None))
        {
            Some(pair) => pair.objects.push(index),
            None => pairs.push(Pair {
                key,
                manifest: [index, first]
                    .iter()
                    .any(|&i| matches!(origins.of(i), Origin::Manifest(..))),
                here,
                there,
                objects: vec![index],
            }),
        }
    }
    pairs
        .into_iter()
        .map(|pair| pair.diagnostic(file, objects))
        .collect()
}

/// Objects made at one place of the spec that another place makes too.
struct Pair {
    /// The spans of `here` and `there`.
    key: (Option<Span>, Option<Span>),
    /// Whether one of the two is a manifest's document.
    manifest: bool,
    /// Where the repeating objects are made, and what makes them.
    here: Option<(Span, String)>,
    /// Where they are made first.
    there: Option<(Span, String)>,
    /// The repeating objects.
    objects: Vec<usize>,
}

impl Pair {
    fn diagnostic(self, file: &SourceFile, objects: &[Object]) -> Diagnostic {
        let first = &objects[self.objects[0]];
        let names: Vec<String> = self
            .objects
            .iter()
            .map(|&i| format!("{} `{}`", objects[i].kind(), objects[i].name()))
            .collect();
        let what = format!(
            "{}{}",
            names.join(", "),
            if first.namespace().is_empty() {
                String::new()
            } else {
                format!(" in the namespace `{}`", first.namespace())
            }
        );
        let label = format!("makes {}", names[0]);
        let diagnostic = match (self.here, self.there) {
            (Some((span, who)), Some((first_span, _))) if span == first_span => {
                Diagnostic::error("duplicate-object", format!("{who} makes {what} twice"))
                    .at(file, span, label)
            }
            (Some((span, who)), Some((first_span, other))) => Diagnostic::error(
                "duplicate-object",
                format!("{who} makes {what}, which {other} makes too"),
            )
            .at(file, span, label)
            .also(first_span, "makes it first"),
            (Some((span, who)), None) | (None, Some((span, who))) => Diagnostic::error(
                "duplicate-object",
                format!("{who} makes {what}, which Strata renders for the platform too"),
            )
            .at(file, span, label),
            (None, None) => {
                return Diagnostic::error(
                    "duplicate-object",
                    format!(
                        "two objects are rendered as {} (internal error)",
                        first.key()
                    ),
                )
                .help("please report this with the spec");
            }
        };
        diagnostic.help(help(first, self.key, self.manifest))
    }
}

/// What to do about a collision of `object`, made at the places `key`.
fn help(object: &Object, key: (Option<Span>, Option<Span>), manifest: bool) -> &'static str {
    if manifest {
        "remove the object from the manifest, or rename it; to change an object Strata renders, use the service's `patches:`"
    } else if object.kind() == "VirtualService" {
        "an Istio gateway's VirtualService is named after the gateway and the host, dots written `-` (`a.b.com` and `a-b.com` are both `GATEWAY-a-b-com`): rename a host, or the gateway"
    } else if matches!(object.kind(), "HTTPRoute" | "Ingress") {
        "a gateway's route object is named after the gateway and the service (`GATEWAY-SERVICE`): rename the gateway or one of the services"
    } else if object.kind() == "KafkaTopic" {
        "a KafkaTopic is named after its topic, and both Kafka clusters are in one namespace: rename one topic, or move one service to a tier of another namespace"
    } else if key.0.is_none() || key.1.is_none() {
        "rename the service: Strata renders an object of this name for the platform (its namespaces, policies, gateways, mesh)"
    } else {
        "rename one of the two (the names Strata derives from a service, `NAME-headless`, `NAME-config`…, must not be another's), or move one to a tier of another namespace"
    }
}

/// Where an origin is written in the spec, and how to name it.
fn place(services: &[Service], origin: Origin<'_>, object: &Object) -> Option<(Span, String)> {
    match origin {
        Origin::Platform => routed(services, object)
            .map(|service| (service.span, format!("the route to `{}`", service.name)))
            .or_else(|| {
                // What the platform renders for one service (its mesh
                // policies, its calls' traffic rules) names it.
                let name = object.service.as_deref()?;
                let service = services.iter().find(|s| s.name == name)?;
                Some((
                    service.span,
                    format!("the mesh or traffic rules of `{}`", service.name),
                ))
            }),
        Origin::Service(service) => Some(
            entry(service, object)
                .unwrap_or_else(|| (service.span, format!("the service `{}`", service.name))),
        ),
        Origin::Manifest(reference, line) => Some((
            reference.span,
            format!(
                "the document at line {line} of the manifest `{}`",
                reference.path
            ),
        )),
    }
}

/// The service a gateway's route object (an `HTTPRoute`, an `Ingress`, an
/// Istio `VirtualService`) sends its traffic to: its first backend in
/// the object's namespace.
fn routed<'a>(services: &'a [Service], object: &Object) -> Option<&'a Service> {
    let spec = &object.value["spec"];
    let rules = |key: &str| spec[key].as_array().into_iter().flatten();
    let backends = rules("rules")
        .flat_map(|rule| {
            let http = rule["http"]["paths"].as_array().into_iter().flatten();
            let refs = rule["backendRefs"].as_array().into_iter().flatten();
            http.map(|p| &p["backend"]["service"]["name"])
                .chain(refs.map(|r| &r["name"]))
        })
        .chain(
            rules("http")
                .flat_map(|h| h["route"].as_array().into_iter().flatten())
                .map(|r| &r["destination"]["host"]),
        );
    backends
        .filter_map(serde_json::Value::as_str)
        .find_map(|host| {
            let (name, namespace) = host.split_once('.').unwrap_or((host, object.namespace()));
            let namespace = namespace.split('.').next().unwrap_or(namespace);
            services.iter().find(|s| {
                s.front.name == name && (namespace.is_empty() || s.namespace == namespace)
            })
        })
}

/// The topic or database entry of `service` that `object` stands for: a
/// Strimzi `KafkaTopic` is named after its topic, an operator's database
/// resource after its service and database.
fn entry(service: &Service, object: &Object) -> Option<(Span, String)> {
    let tuning = service.tuning.as_ref()?;
    if let Some(topic) = tuning.topics.iter().find(|t| t.name == object.name()) {
        return Some((
            topic.span,
            format!("the topic `{}` of `{}`", topic.name, service.name),
        ));
    }
    tuning
        .databases
        .iter()
        .find(|d| format!("{}-{}", service.name, d.name.replace('_', "-")) == object.name())
        .map(|d| {
            (
                d.span,
                format!("the database `{}` of `{}`", d.name, service.name),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceFile;
    use serde_json::json;

    fn object(api_version: &str, name: &str) -> Object {
        Object::new(
            1,
            None,
            None,
            json!({ "apiVersion": api_version, "kind": "Service", "metadata": { "name": name, "namespace": "ns" } }),
        )
    }

    fn reference(at: usize) -> FileRef {
        FileRef {
            path: "m.yaml".into(),
            span: Span::new(at, at + 6),
        }
    }

    #[test]
    fn an_index_takes_the_origin_of_the_last_mark_at_or_before_it() {
        let first = reference(0);
        let mut origins = Origins::default();
        origins.mark(2, Origin::Manifest(&first, 3));
        origins.mark(4, Origin::Platform);
        assert!(matches!(origins.of(0), Origin::Platform));
        assert!(matches!(origins.of(2), Origin::Manifest(_, 3)));
        assert!(matches!(origins.of(3), Origin::Manifest(_, 3)));
        assert!(matches!(origins.of(4), Origin::Platform));
    }

    #[test]
    fn a_collision_is_reported_at_both_origins() {
        let file = SourceFile::new("p.yaml", "manifests: [a.yaml, b.yaml]\n");
        let (a, b) = (reference(12), reference(20));
        let mut origins = Origins::default();
        origins.mark(0, Origin::Manifest(&a, 1));
        origins.mark(1, Origin::Manifest(&b, 7));
        let objects = [object("v1", "web"), object("v1", "web")];
        let found = duplicates(&file, &[], &objects, &origins);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].location().as_deref(), Some("p.yaml:1:21"));
        assert_eq!(found[0].labels[1].span, a.span);
        assert!(
            found[0]
                .message
                .contains("line 7 of the manifest `m.yaml` makes Service `web`"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn objects_of_other_groups_do_not_collide_and_the_unplaced_are_internal() {
        let file = SourceFile::new("p.yaml", "");
        let origins = Origins::default();
        let distinct = [object("v1", "web"), object("example.com/v1", "web")];
        assert!(duplicates(&file, &[], &distinct, &origins).is_empty());
        let same = [object("v1", "web"), object("v1", "web")];
        let found = duplicates(&file, &[], &same, &origins);
        assert!(found[0].message.contains("internal error"));
        assert_eq!(found[0].location(), None);
    }

    #[test]
    fn what_the_platform_renders_for_a_service_is_placed_at_the_service() {
        let file = SourceFile::new(
            "p.yaml",
            "platform: demo\ntiers:\n  - name: apps\n    services:\n      web: { image: demo/web:1.0 }\n",
        );
        let platform = crate::resolve(&crate::spec::parse(&file).unwrap(), None).unwrap();
        let mut rule = object("networking.istio.io/v1", "web-calls");
        rule.service = Some("web".into());
        let origins = Origins::default();
        let objects = [object("networking.istio.io/v1", "web-calls"), rule];
        let found = duplicates(&file, &platform.services, &objects, &origins);
        assert_eq!(
            found[0].location().as_deref(),
            Some("p.yaml:5:7"),
            "{found:?}"
        );
        assert!(
            found[0]
                .message
                .contains("the mesh or traffic rules of `web`")
        );
    }
}
