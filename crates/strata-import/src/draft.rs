//! The platform as read from the input, before calls and tiers are
//! inferred: one [`DraftService`] per workload, the gateways, the objects
//! kept verbatim, and the report.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use strata_core::source::{SourceFile, Span};

use crate::{Fate, Note};

/// Where a value was written in the input.
#[derive(Debug, Clone)]
pub struct Loc {
    /// The input file.
    pub file: SourceFile,
    /// The value's span.
    pub span: Span,
}

impl Loc {
    /// `file:line`, for comments in the spec.
    pub fn short(&self) -> String {
        let (line, _) = self.file.location(self.span);
        format!("{}:{line}", self.file.name())
    }
}

/// Everything read so far.
#[derive(Debug, Default)]
pub struct Draft {
    /// The workloads, in input order.
    pub services: Vec<DraftService>,
    /// Gateways by name, with the comment saying where each came from.
    pub gateways: BTreeMap<String, (Value, Vec<String>)>,
    /// Node pools by name.
    pub pools: BTreeMap<String, Value>,
    /// Labels of the input's Namespaces.
    pub namespaces: BTreeMap<String, Value>,
    /// Objects kept as they are.
    pub manifests: Vec<Value>,
    /// Secrets the services read whose values were not imported.
    pub secrets: BTreeMap<String, BTreeSet<String>>,
    /// The report.
    pub notes: Vec<Note>,
}

impl Draft {
    /// Adds a line to the report.
    pub fn note(&mut self, loc: &Loc, fate: Fate, what: impl Into<String>, why: impl Into<String>) {
        let (line, col) = loc.file.location(loc.span);
        self.notes.push(Note {
            file: loc.file.name().to_string(),
            line,
            col,
            fate,
            what: what.into(),
            why: why.into(),
        });
    }

    /// Whether `caller` can reach `callee` at all: compose services share a
    /// network; Kubernetes pods reach every Service.
    pub fn reachable(&self, caller: usize, callee: usize) -> bool {
        match (
            &self.services[caller].networks,
            &self.services[callee].networks,
        ) {
            (Some(a), Some(b)) => !a.is_disjoint(b),
            _ => true,
        }
    }

    /// The service named `name`.
    pub fn service(&self, name: &str) -> Option<&DraftService> {
        self.services.iter().find(|s| s.name == name)
    }
}

/// How a workload runs: the spec's `kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A Deployment.
    Stateless,
    /// A StatefulSet.
    Stateful,
    /// A DaemonSet.
    Daemon,
    /// A Job.
    Job,
    /// A CronJob.
    Cron,
}

impl Kind {
    /// The spec's word.
    pub fn word(self) -> &'static str {
        match self {
            Kind::Stateless => "stateless",
            Kind::Stateful => "stateful",
            Kind::Daemon => "daemon",
            Kind::Job => "job",
            Kind::Cron => "cron",
        }
    }

    /// The Kubernetes kind Strata renders for it.
    pub fn object(self) -> &'static str {
        match self {
            Kind::Stateless => "Deployment",
            Kind::Stateful => "StatefulSet",
            Kind::Daemon => "DaemonSet",
            Kind::Job => "Job",
            Kind::Cron => "CronJob",
        }
    }

    /// The JSON pointer of the pod spec in the rendered object.
    pub fn pod_spec(self) -> &'static str {
        match self {
            Kind::Cron => "/spec/jobTemplate/spec/template/spec",
            _ => "/spec/template/spec",
        }
    }
}

/// One port of a service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DraftPort {
    /// Its name in the spec.
    pub name: String,
    /// The Service's port.
    pub port: u16,
    /// The container's port.
    pub target: u16,
    /// `tcp`, `udp`, `http` or `grpc` when the input says; else guessed from the name.
    pub protocol: Option<&'static str>,
    /// The node port of a NodePort or LoadBalancer Service.
    pub node_port: Option<u16>,
}

/// The value of an environment variable.
#[derive(Debug, Clone, PartialEq)]
pub enum EnvValue {
    /// Text, which may become a `${…}` reference.
    Literal(String),
    /// One key of a Secret.
    Secret {
        /// The Secret.
        name: String,
        /// Its key.
        key: String,
    },
    /// One key of a ConfigMap that exists in the cluster.
    Config {
        /// The ConfigMap.
        name: String,
        /// Its key.
        key: String,
    },
}

/// One environment variable.
#[derive(Debug, Clone)]
pub struct DraftEnv {
    /// The variable's name.
    pub name: String,
    /// Its value.
    pub value: EnvValue,
    /// Why it has this form, when not as written.
    pub comment: Option<String>,
}

/// One key of a service's spec, with comments above it.
#[derive(Debug, Clone)]
pub struct Field {
    /// The spec key.
    pub key: &'static str,
    /// Its value.
    pub value: Value,
    /// Lines of comment above it (without `# `).
    pub comment: Vec<String>,
}

/// One workload, as it will become a service.
#[derive(Debug, Clone)]
pub struct DraftService {
    /// The service's name.
    pub name: String,
    /// Its namespace.
    pub namespace: String,
    /// Where its workload was written.
    pub loc: Loc,
    /// `Deployment/cart`, for comments.
    pub origin: String,
    /// How it runs.
    pub kind: Kind,
    /// The host names it is reached at besides its name (its Service's own name).
    pub hosts: Vec<String>,
    /// Its ports, main one first.
    pub ports: Vec<DraftPort>,
    /// Its environment.
    pub env: Vec<DraftEnv>,
    /// Its command and arguments, searched for hosts.
    pub argv: Vec<String>,
    /// A store (database, cache, queue): the first tier.
    pub store: bool,
    /// Routed by a gateway, or reachable from outside its cluster.
    pub edge: bool,
    /// The other keys, in the order they are written.
    pub fields: Vec<Field>,
    /// Services it calls, each with why it is thought to.
    pub calls: BTreeMap<String, Vec<String>>,
    /// Callees it does not wait for (their edge would close a cycle).
    pub no_wait: BTreeSet<String>,
    /// Routes: `expose:` entries.
    pub expose: Vec<Value>,
    /// Patches on its rendered objects.
    pub patches: Vec<(Value, String)>,
    /// The compose networks it is on; `None` for Kubernetes workloads.
    pub networks: Option<BTreeSet<String>>,
}

impl DraftService {
    /// A draft service with nothing but its name and origin.
    pub fn new(name: String, namespace: String, loc: Loc, origin: String, kind: Kind) -> Self {
        DraftService {
            name,
            namespace,
            loc,
            origin,
            kind,
            hosts: Vec::new(),
            ports: Vec::new(),
            env: Vec::new(),
            argv: Vec::new(),
            store: false,
            edge: false,
            fields: Vec::new(),
            calls: BTreeMap::new(),
            no_wait: BTreeSet::new(),
            expose: Vec::new(),
            patches: Vec::new(),
            networks: None,
        }
    }

    /// Sets `key`, with a comment.
    pub fn set(&mut self, key: &'static str, value: Value, comment: &[&str]) {
        self.fields.retain(|f| f.key != key);
        self.fields.push(Field {
            key,
            value,
            comment: comment.iter().map(|c| (*c).to_string()).collect(),
        });
    }

    /// The value of `key`, if set.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.fields.iter().find(|f| f.key == key).map(|f| &f.value)
    }

    /// The port whose Service or container number is `number`.
    pub fn port_by_number(&self, number: u16) -> Option<&DraftPort> {
        self.ports
            .iter()
            .find(|p| p.port == number)
            .or_else(|| self.ports.iter().find(|p| p.target == number))
    }
}
