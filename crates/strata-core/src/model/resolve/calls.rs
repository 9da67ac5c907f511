//! The hosts a service's own text names: its environment values, with their
//! `${…}` references masked (a reference declares its call itself), and
//! its command and arguments, of its container and of its init steps,
//! matched against every name the platform's services and externals answer
//! to; and the services whose `expose: []` says nothing is meant to reach
//! them. Whether a call is declared is `model::calls`' to say.

use std::borrow::Cow;
use std::collections::HashMap;

use super::Resolver;
use crate::model::calls::{Mention, Target};
use crate::model::hosts::{hosts, names_an_address};
use crate::model::reference::{Piece, split};
use crate::model::{CLUSTER_DOMAIN, External, Service, ServiceId, endpoint};
use crate::source::Span;
use crate::spec::names::EnvName;
use crate::spec::service::EnvValueSpec;
use crate::spec::{Map, Spanned};

/// Stands for a masked reference: no host name holds it, so none runs
/// into the text around a reference (`redis-${env.suffix}`).
const MASK: &str = "\0";

/// A text to read hosts in: where it is written, the text, its span, and
/// whether a bare name counts as a host there.
struct Written<'s> {
    place: Place<'s>,
    text: Cow<'s, str>,
    span: Span,
    bare: bool,
}

/// Where a text is written, put into words only for the few texts that
/// name a host.
#[derive(Clone, Copy)]
enum Place<'s> {
    /// The variable `name` of the main container or of `container`.
    Variable {
        container: Option<&'s str>,
        name: &'s str,
    },
    /// `what` ("the command", "an argument") of the main container or of
    /// `container`, an init step or a sidecar (`("sidecar", NAME)`).
    List {
        what: &'static str,
        container: Option<(&'s str, &'s str)>,
    },
}

impl std::fmt::Display for Place<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Place::Variable {
                container: Some(container),
                name,
            } => write!(f, "`{container}/{name}`"),
            Place::Variable {
                container: None,
                name,
            } => write!(f, "`{name}`"),
            Place::List {
                what,
                container: Some((kind, name)),
            } => write!(f, "{what} of the {kind} `{name}`"),
            Place::List {
                what,
                container: None,
            } => f.write_str(what),
        }
    }
}

impl Resolver<'_> {
    /// Every host of another service or of an external that a service's
    /// env values and arguments name, once per value and owner, in spec
    /// order.
    pub(super) fn mentions(
        &self,
        services: &[Service],
        specs: &[super::service::Filled<'_>],
    ) -> Vec<Mention> {
        // Built when the first host turns up: most values name none.
        let directory = std::cell::OnceCell::new();
        let directory = || directory.get_or_init(|| Directory::new(services, &self.externals));
        let mut found: Vec<Mention> = Vec::new();
        for (i, spec) in specs.iter().enumerate() {
            let by = ServiceId(i);
            let mut texts = Vec::new();
            written(
                &mut texts,
                None,
                spec.env.as_ref(),
                [&spec.rare.command, &spec.rare.args],
            );
            for (step, init) in spec.rare.init.iter().flat_map(|i| i.value.iter()) {
                let init = &init.value;
                let lists = [&init.command, &init.args];
                let container = Some(("init step", step.value.0.as_str()));
                written(&mut texts, container, init.env.as_ref(), lists);
            }
            for (name, sidecar) in spec.rare.sidecars.iter().flat_map(|s| s.value.iter()) {
                let sidecar = &sidecar.value;
                let lists = [&sidecar.command, &sidecar.args];
                let container = Some(("sidecar", name.value.0.as_str()));
                written(&mut texts, container, sidecar.env.as_ref(), lists);
            }
            for text in texts {
                let mut owners = Vec::new();
                for host in hosts(&text.text, text.bare) {
                    // A service naming itself (an advertised address) calls nobody.
                    let Some(target) = directory()
                        .owner(host)
                        .filter(|&t| t != Target::Service(by))
                    else {
                        continue;
                    };
                    if owners.contains(&target) {
                        continue;
                    }
                    owners.push(target);
                    found.push(Mention {
                        by,
                        target,
                        host: host.to_string(),
                        place: text.place.to_string(),
                        span: text.span,
                    });
                }
            }
        }
        found
    }
}

/// The services whose spec says, with `expose: []`, that no route and no
/// caller is meant to reach them.
pub(super) fn uncalled(specs: &[super::service::Filled<'_>]) -> Vec<ServiceId> {
    specs
        .iter()
        .enumerate()
        .filter(|(_, s)| s.rare.expose.as_ref().is_some_and(|e| e.value.0.is_empty()))
        .map(|(i, _)| ServiceId(i))
        .collect()
}

/// Adds the texts of the main container, or of `container`, an init step
/// or a sidecar (`("sidecar", NAME)`): its literal env values, references
/// masked, and each entry of its command and arguments.
fn written<'s>(
    texts: &mut Vec<Written<'s>>,
    container: Option<(&'s str, &'s str)>,
    env: Option<&'s Spanned<Map<EnvName, EnvValueSpec>>>,
    lists: [&'s Option<Spanned<Vec<Spanned<String>>>>; 2],
) {
    for (name, value) in env.iter().flat_map(|e| e.value.iter()) {
        let EnvValueSpec::Literal(literal) = &value.value else {
            continue;
        };
        let text = if literal.contains("${") {
            // A malformed reference is an error of its own.
            let Ok(pieces) = split(literal) else {
                continue;
            };
            Cow::Owned(
                pieces
                    .iter()
                    .map(|piece| match piece {
                        Piece::Text(t) => t.as_str(),
                        Piece::Reference(_) => MASK,
                    })
                    .collect(),
            )
        } else {
            Cow::Borrowed(literal.as_str())
        };
        texts.push(Written {
            place: Place::Variable {
                container: container.map(|(_, name)| name),
                name: &name.value.0,
            },
            text,
            span: value.span,
            bare: names_an_address(&name.value.0),
        });
    }
    // An argument is as often a program or a word as a host: only an
    // address with a scheme, a port or a namespace counts there.
    for (what, list) in ["the command", "an argument"].into_iter().zip(lists) {
        for entry in list.iter().flat_map(|l| &l.value) {
            texts.push(Written {
                place: Place::List { what, container },
                text: Cow::Borrowed(&entry.value),
                span: entry.span,
                bare: false,
            });
        }
    }
}

/// Every name a host of the platform answers to, lowercase, with its owner
/// and whether it is a cluster DNS name (under which pods have names too).
struct Directory(HashMap<String, (Target, bool)>);

impl Directory {
    /// Services with ports (nothing to call otherwise) by their Service and
    /// by the hosts their blueprint exports (an operator's `NAME-rw`), then
    /// externals by their hosts; the first owner of a name keeps it.
    fn new(services: &[Service], externals: &[External]) -> Directory {
        let callable = || {
            services
                .iter()
                .enumerate()
                .filter(|(_, s)| !s.ports.is_empty())
                .map(|(i, s)| (ServiceId(i), s))
        };
        let cluster = format!(".svc.{CLUSTER_DOMAIN}");
        let own = callable().map(|(id, s)| (Target::Service(id), s.fqdn()));
        // The one cluster host among the fields every service exports is
        // its own Service's, named above: only a blueprint's exports (an
        // operator's `NAME-rw`) add hosts.
        let exported = callable()
            .filter(|(_, s)| {
                s.tuning
                    .as_ref()
                    .is_some_and(|t| !t.supplied.exports.is_empty())
            })
            .flat_map(|(id, s)| {
                let cluster = &cluster;
                endpoint::of(s)
                    .into_iter()
                    .flat_map(|(_, value)| {
                        hosts(&value, false)
                            .into_iter()
                            .map(str::to_string)
                            .collect::<Vec<_>>()
                    })
                    .filter(move |host| host.ends_with(cluster.as_str()))
                    .map(move |host| (Target::Service(id), host))
            });
        let mut names = HashMap::new();
        for (target, host) in own.chain(exported) {
            for (form, cluster) in forms(&host, true) {
                names.entry(form).or_insert((target, cluster));
            }
        }
        for (i, external) in externals.iter().enumerate() {
            for host in &external.hosts {
                // Outside its namespace, no one reaches it by a bare name.
                for (form, cluster) in forms(host, false) {
                    names.entry(form).or_insert((Target::External(i), cluster));
                }
            }
        }
        Directory(names)
    }

    /// The owner of a host as written: one of its names, or a pod's name
    /// under one (`POD.NAME.NAMESPACE…`, or `NAME-0.NAME` beside it).
    fn owner(&self, host: &str) -> Option<Target> {
        let host = host.to_ascii_lowercase();
        if let Some(&(target, _)) = self.0.get(&host) {
            return Some(target);
        }
        let (pod, rest) = host.split_once('.')?;
        let &(target, cluster) = self.0.get(rest)?;
        let ordinal = pod
            .strip_prefix(rest)
            .and_then(|n| n.strip_prefix('-'))
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
        (cluster && (rest.contains('.') || ordinal)).then_some(target)
    }
}

/// The names a host answers to, each with whether it is a cluster DNS
/// name: `NAME.NAMESPACE.svc.cluster.local` also as `NAME.NAMESPACE.svc`,
/// `NAME.NAMESPACE` and, where `bare`, `NAME`; any other host as itself.
fn forms(host: &str, bare: bool) -> Vec<(String, bool)> {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let Some(stem) = host.strip_suffix(&format!(".svc.{CLUSTER_DOMAIN}")) else {
        return vec![(host, false)];
    };
    let mut forms = vec![
        (host.clone(), true),
        (format!("{stem}.svc"), true),
        (stem.to_string(), true),
    ];
    if let Some((name, namespace)) = stem.split_once('.')
        && bare
        && !namespace.contains('.')
    {
        forms.push((name.to_string(), true));
    }
    forms
}
