//! The blueprint catalog: named recipes for infrastructure (`redis`,
//! `postgresql`, `kafka`…) that a service selects with `blueprint:` and tunes
//! with a few typed options (`mode`, `version`, `databases`, `topics`,
//! `shards`, `options`).
//!
//! A blueprint does three things, each in one place:
//!
//! 1. **Fill in the service** ([`Blueprint::recipe`]): the fields the service
//!    does not set, written as the same YAML a user would write (image, ports,
//!    storage, probes, security, resources, args, env, config files). They are
//!    decoded by the spec decoder, so they are checked like a user's fields,
//!    and the user's own fields always win ([`fill`]).
//! 2. **Export endpoints** ([`Recipe::exports`]): `host`, `port`, `url` with
//!    the system's scheme, and `secret`, for `${service.field}` references.
//! 3. **Render extra objects** ([`Blueprint::objects`]): a Sentinel
//!    StatefulSet, a CloudNativePG `Cluster`, Strimzi resources, RBAC… The
//!    render stage calls [`render`] once per blueprint service.
//!
//! A mode that renders an operator's custom resource names the operator; the
//! platform declares it under `operators:` ([`check_operators`]).

mod recipe;

mod alertmanager;
mod clickhouse;
mod consul;
mod edge;
mod elasticsearch;
mod etcd;
mod grafana;
mod jaeger;
mod kafka;
mod keycloak;
mod kong;
mod kube_state_metrics;
mod loki;
mod milvus;
mod minio;
mod mosquitto;
mod mysql;
mod nacos;
mod nats;
mod neo4j;
mod node_exporter;
mod postgresql;
mod prometheus;
mod qdrant;
mod ray;
mod redis;
mod vault;
mod weaviate;

pub mod docs;

use std::collections::BTreeMap;

use serde_json::Value;

use crate::diag::{Diagnostic, suggestion};
use crate::model::{Platform, Service};
use crate::source::{SourceFile, Span};
use crate::spec::platform::PlatformSpec;
use crate::spec::service::{DatabaseSpec, ServiceSpec, TopicSpec};
use crate::spec::{Map, Spanned};

pub use prometheus::check_slo;
pub use recipe::fill;

/// A named recipe a service can select.
#[derive(Debug)]
pub struct Blueprint {
    /// The name written after `blueprint:`.
    pub name: &'static str,
    /// One line on what it deploys.
    pub summary: &'static str,
    /// Its modes; the first is the default.
    pub modes: &'static [Mode],
    /// The image tag it runs unless `version:` says otherwise.
    pub version: &'static str,
    /// Typed keys it takes besides `mode` and `version`.
    pub takes: &'static [Key],
    /// The names it accepts under `options:`.
    pub options: &'static [OptionDoc],
    /// The service fields, exports and credentials it supplies.
    pub recipe: fn(&Tuning) -> Recipe,
    /// Objects it renders besides the service's own.
    pub objects: fn(&Platform, &Service, &Tuning) -> Vec<Value>,
    /// Services it runs beside the declared one (Sentinel's group): rendered
    /// like any service and counted by `plan`.
    pub companions: fn(&Service, &Tuning) -> Vec<Service>,
    /// The service's own pods as `plan` counts them: `replicas` pods of the
    /// service's size ([`recipe::own_pods`]) unless its operator runs others
    /// (ClickHouse's shards × replicas and Keeper nodes, Strimzi's entity
    /// operator). Companions are counted besides, from `companions`.
    pub pods: fn(&Service, &Tuning) -> Vec<PodGroup>,
    /// Its own checks of `options:` beyond the catalog's (values that only
    /// mean something in one mode, or beside another option).
    pub check_options: fn(&OptionCheck<'_>) -> Vec<Diagnostic>,
}

/// What a blueprint's own option check sees.
pub struct OptionCheck<'a> {
    /// The mode chosen.
    pub mode: &'a Mode,
    /// The `options:` as written, with their spans.
    pub options: Option<&'a Spanned<Map<String, String>>>,
    /// Other services of the platform, for options that name one.
    pub siblings: &'a [Sibling],
    /// The service's name.
    pub service: &'a str,
    /// Where an option the mode requires is missing: the `mode:` value, else
    /// the `blueprint:` one.
    pub span: Span,
    /// The `version:` as written, if any.
    pub version: Option<&'a Spanned<String>>,
    /// The spec file, for diagnostics.
    pub file: &'a SourceFile,
    /// The platform's spec, for checks against its other settings.
    pub platform: &'a PlatformSpec,
}

impl OptionCheck<'_> {
    /// The option `name` as written, with its value's span.
    pub fn get(&self, name: &str) -> Option<&Spanned<String>> {
        self.options
            .iter()
            .flat_map(|o| o.value.iter())
            .find(|(k, _)| k.value == name)
            .map(|(_, v)| v)
    }

    /// A diagnostic at `span`.
    pub fn error(
        &self,
        code: &'static str,
        message: String,
        span: Span,
        label: &str,
    ) -> Diagnostic {
        error(self.file, code, message, span, label)
    }
}

/// Pods of one kind a service runs, with what each asks for: what `plan`
/// counts.
#[derive(Debug, Clone, PartialEq)]
pub struct PodGroup {
    /// What they are (`NAME`, `NAME-keeper`).
    pub name: String,
    /// How many.
    pub pods: u32,
    /// Requests and limits of one pod.
    pub resources: crate::model::Resources,
    /// GPUs of one pod.
    pub gpu: u32,
    /// Volume claims of all of them.
    pub pvcs: u32,
    /// Storage of all their claims.
    pub storage: crate::quantity::Quantity,
    /// The node pool they run on.
    pub pool: Option<String>,
}

impl PodGroup {
    /// The pods of a service, or companion, as rendered: `replicas` of its
    /// size, or of its largest `init:` step's where that is larger (the
    /// scheduler reserves the larger, resource by resource).
    pub fn of(service: &Service) -> PodGroup {
        PodGroup {
            name: service.name.clone(),
            pods: service.replicas,
            resources: service.init.iter().fold(service.resources, |size, step| {
                size.at_least(step.resources)
            }),
            gpu: service.gpu,
            pvcs: service.volume_claims(),
            storage: service.storage_total(),
            pool: service.pool.clone(),
        }
    }
}

/// Every pod a service runs, its own first, then its companions': what
/// `plan` counts.
pub fn footprint(service: &Service) -> Vec<PodGroup> {
    let Some(tuning) = &service.tuning else {
        return vec![PodGroup::of(service)];
    };
    let mut groups = (tuning.blueprint.pods)(service, tuning);
    groups.extend(
        (tuning.blueprint.companions)(service, tuning)
            .iter()
            .map(PodGroup::of),
    );
    groups
}

/// One way to run a blueprint.
#[derive(Debug)]
pub struct Mode {
    /// The name written after `mode:`.
    pub name: &'static str,
    /// What it deploys.
    pub summary: &'static str,
    /// Replicas unless the service says otherwise.
    pub replicas: u32,
    /// The operator whose custom resources it renders, if any.
    pub operator: Option<&'static str>,
    /// Whether the operator runs the pods, so the service renders no
    /// workload, Service or ServiceAccount of its own.
    pub operated: bool,
    /// Whether it splits data into `shards:`.
    pub sharded: bool,
}

/// A typed service key that only some blueprints take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// `databases:`.
    Databases,
    /// `topics:`.
    Topics,
    /// `shards:`.
    Shards,
    /// `settings:`, the engine's own configuration.
    Settings,
    /// `users:`, object-store users and their buckets.
    Users,
}

impl Key {
    /// The key as written in a spec.
    pub fn as_str(self) -> &'static str {
        match self {
            Key::Databases => "databases",
            Key::Topics => "topics",
            Key::Shards => "shards",
            Key::Settings => "settings",
            Key::Users => "users",
        }
    }
}

/// One name a blueprint accepts under `options:`.
#[derive(Debug)]
pub struct OptionDoc {
    /// The option's name.
    pub name: &'static str,
    /// What it sets, and its default. A summary starting "A number", "A
    /// period", "A CPU quantity" or "A memory quantity" has its values
    /// checked as such.
    pub summary: &'static str,
}

/// A database to create at first start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Database {
    /// Its name.
    pub name: String,
    /// The role owning it.
    pub owner: String,
    /// Schemas created in it.
    pub schemas: Vec<String>,
}

/// A topic to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topic {
    /// Its name.
    pub name: String,
    /// Partitions.
    pub partitions: u32,
    /// Copies of each partition.
    pub replicas: u32,
    /// Topic settings (`retention.ms`…).
    pub config: BTreeMap<String, String>,
}

/// An object-store user to create, with the buckets it may read and write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Its name, which is also its access key.
    pub name: String,
    /// The buckets its policy allows, in order.
    pub buckets: Vec<String>,
}

/// A blueprint as one service uses it: the options checked and resolved.
#[derive(Debug, Clone)]
pub struct Tuning {
    /// The blueprint.
    pub blueprint: &'static Blueprint,
    /// The mode chosen.
    pub mode: &'static Mode,
    /// The platform's name.
    pub platform: String,
    /// The service's name.
    pub service: String,
    /// The service's namespace.
    pub namespace: String,
    /// The image tag.
    pub version: String,
    /// Pods, after the environment (a laptop may force 1).
    pub replicas: u32,
    /// Databases to create.
    pub databases: Vec<Database>,
    /// Topics to create.
    pub topics: Vec<Topic>,
    /// Object-store users to create.
    pub users: Vec<User>,
    /// Shards.
    pub shards: u32,
    /// `options:`, by name.
    pub options: BTreeMap<String, String>,
    /// `settings:`, the engine's own, in spec order.
    pub settings: Vec<(String, String)>,
    /// Whether the platform is monitored (it has `monitoring:`), so the
    /// blueprint exposes its system's metrics the way that system does.
    pub metrics: bool,
    /// Other services of the platform, for recipes that point at them
    /// (Grafana's datasources, Keycloak's database).
    pub siblings: Vec<Sibling>,
    /// The namespace of the mode's operator: its tier's when a tier of this
    /// platform installs it (`operators: { NAME: { tier: … } }`), the one
    /// given with `installed: true`; `None` when the spec does not say.
    pub operator_namespace: Option<String>,
    /// What the recipe supplied besides service fields.
    pub supplied: Supplied,
}

/// Another service of the platform, as its spec names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sibling {
    /// Its name.
    pub name: String,
    /// Its blueprint, if any.
    pub blueprint: Option<String>,
    /// Its blueprint's mode, if written.
    pub mode: Option<String>,
    /// Its databases and their owners, as `databases:` lists them.
    pub databases: Vec<(String, String)>,
    /// Its object-store users and their buckets, as `users:` lists them.
    pub users: Vec<User>,
}

/// The databases and owners a service's `databases:` lists (the owner is
/// the database's name unless given), for its siblings to find.
pub fn listed_databases(spec: &crate::spec::service::ServiceSpec) -> Vec<(String, String)> {
    spec.databases
        .iter()
        .flat_map(|l| &l.value)
        .map(|item| match &item.value {
            DatabaseSpec::Name(name) => (name.clone(), name.clone()),
            DatabaseSpec::Detail(d) => (
                d.name.value.clone(),
                d.owner
                    .as_ref()
                    .map_or_else(|| d.name.value.clone(), |o| o.value.clone()),
            ),
        })
        .collect()
}

/// The object-store users a service's `users:` lists, for its siblings to find.
pub fn listed_users(spec: &crate::spec::service::ServiceSpec) -> Vec<User> {
    spec.users
        .iter()
        .flat_map(|m| m.value.iter())
        .map(|(name, buckets)| User {
            name: name.value.0.clone(),
            buckets: buckets.value.iter().map(|b| b.value.clone()).collect(),
        })
        .collect()
}

/// What a recipe supplies besides the service's fields, kept for resolve
/// (exports, credentials) and render (scratch directories, pod identity).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Supplied {
    /// Exported fields added to, or replacing, the generic ones.
    pub exports: Vec<(String, String)>,
    /// A Secret of generated credentials: its name and keys.
    pub credentials: Option<(String, Vec<String>)>,
    /// Further Secrets it needs (one per database role an operator manages),
    /// placed in the service's namespace.
    pub secrets: Vec<crate::model::Secret>,
    /// Directories the image writes to besides its volume, made writable
    /// (empty directories) so the root filesystem can stay read-only.
    pub scratch: Vec<String>,
    /// In a mode whose operator runs the pods, the labels the operator
    /// itself gives the pods serving clients (`cnpg.io/cluster: NAME`…).
    /// NetworkPolicies select these instead of Strata's selector labels,
    /// which operators do not copy onto their pods.
    pub pods: Option<BTreeMap<String, String>>,
    /// The groups of pods the dependency graph does not name (a Sentinel
    /// group, an operator's pods, a Keeper ensemble), each by the labels its
    /// pods really carry; each gets a NetworkPolicy `SERVICE-NAME`.
    pub members: Vec<Members>,
    /// Ports the service's callers reach on the first group besides the
    /// service's own (Sentinel's 26379).
    pub member_ports: Vec<u16>,
    /// Services of the platform the service calls because of its options
    /// (a backup endpoint): edges, and start-up waits, added to its `needs`.
    pub needs: Vec<String>,
    /// Containers added beside the main one (a metrics exporter). A port of
    /// the service named like one of a sidecar's ports is the sidecar's:
    /// the main container does not declare it.
    pub sidecars: Vec<Value>,
    /// ConfigMaps the blueprint's objects render, each mounted read-only in
    /// the main container: (ConfigMap name, mount path).
    pub mounts: Vec<(String, String)>,
    /// Whether the container needs `POD_NAME`, `POD_NAMESPACE` and `POD_IP`
    /// (and `POD_INDEX` in a StatefulSet) to name itself to its peers.
    pub pod_env: bool,
    /// The node's namespaces and files the pods use (a node exporter), if any.
    pub host: Option<HostAccess>,
}

/// What of its node a blueprint's pods use: a node exporter reads the
/// host's `/proc`, `/sys` and root filesystem, on the host's network and
/// process namespaces, from every node whatever its taints. The namespace
/// then enforces the `privileged` Pod Security level, and the workload
/// carries `strata.dev/ignore` for the lint checks this trips on purpose.
#[derive(Debug, Clone, PartialEq)]
pub struct HostAccess {
    /// `hostNetwork` (the pod serves on the node's address).
    pub network: bool,
    /// `hostPID` (it sees the node's processes).
    pub pid: bool,
    /// Paths of the node mounted read-only: (volume name, host path, mount path).
    pub paths: &'static [(&'static str, &'static str, &'static str)],
    /// Whether its pods tolerate every taint, so that it runs on every node.
    pub every_node: bool,
}

impl HostAccess {
    /// The lint checks the access trips, deliberately.
    pub fn accepted_checks(&self) -> Vec<&'static str> {
        let mut ids = Vec::new();
        if self.network {
            ids.push("host-network");
        }
        if self.pid {
            ids.push("host-pid");
        }
        if !self.paths.is_empty() {
            ids.push("host-path-volume");
        }
        ids
    }
}

/// A group of pods of a blueprint service that the dependency graph does
/// not name.
#[derive(Debug, Clone, PartialEq)]
pub struct Members {
    /// The NetworkPolicy's name after the service's (`members`, `keeper`).
    pub name: &'static str,
    /// A label selector of its pods, by labels they carry for certain.
    pub selector: Value,
    /// Ports the mode's operator connects to (status, admin or agent ports).
    pub operator_ports: Vec<u16>,
    /// Whether the group is the pods of a setup Job (`recipe::member_setup`),
    /// running as the ServiceAccount `SERVICE-NAME`: in a mesh, the
    /// service's AuthorizationPolicy admits that account.
    pub setup_job: bool,
}

impl Members {
    /// A group selected by labels, reached by no operator.
    pub fn new(name: &'static str, labels: &[(&str, &str)]) -> Members {
        let labels: serde_json::Map<String, Value> = labels
            .iter()
            .map(|(k, v)| ((*k).to_string(), Value::from(*v)))
            .collect();
        Members {
            name,
            selector: serde_json::json!({ "matchLabels": labels }),
            operator_ports: Vec::new(),
            setup_job: false,
        }
    }

    /// The pods of the setup Job `SERVICE-NAME` of `service`, labelled
    /// `label: SERVICE` (see `recipe::MemberSetup`).
    pub fn setup_job(name: &'static str, label: &str, service: &str) -> Members {
        Members {
            setup_job: true,
            ..Members::new(name, &[(label, service)])
        }
    }

    /// The same group, reached by its operator on `ports`.
    pub fn operated(mut self, ports: &[u16]) -> Members {
        self.operator_ports = ports.to_vec();
        self
    }
}

/// Label pairs as the map [`Supplied::pods`] holds.
pub fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
        .collect()
}

/// What a blueprint gives a service.
#[derive(Debug, Clone, Default)]
pub struct Recipe {
    /// Service fields, as a user would write them under the service (JSON,
    /// which is YAML, decoded by the spec decoder).
    pub spec: Value,
    /// Everything else.
    pub supplied: Supplied,
}

/// The environment variable holding a database owner's password.
fn password_variable(owner: &str) -> String {
    format!("{}_PASSWORD", owner.to_ascii_uppercase())
}

/// The Secret holding a database owner's login: `NAME-OWNER`, with `_`
/// written `-` as Kubernetes names require.
fn owner_secret(tuning: &Tuning, owner: &str) -> String {
    owner_secret_of(&tuning.service, owner)
}

/// [`owner_secret`] of the database service `service`: the Secret whose
/// password a client reads to log in as `owner`.
pub fn owner_secret_of(service: &str, owner: &str) -> String {
    format!("{service}-{}", owner.replace('_', "-"))
}

/// The Job `NAME-databases` running `script` in `image` as its user 999
/// (the official images' `postgres` and `mysql`), with `env` and each
/// owner's password in the variable the script reads.
fn databases_job(
    platform: &Platform,
    service: &Service,
    tuning: &Tuning,
    image: &str,
    script: &str,
    mut env: Vec<Value>,
) -> Vec<Value> {
    for owner in tuning.database_owners() {
        env.push(serde_json::json!({ "name": password_variable(&owner), "valueFrom": { "secretKeyRef": { "name": owner_secret(tuning, &owner), "key": "password" } } }));
    }
    recipe::member_setup(
        platform,
        service,
        recipe::MemberSetup {
            what: "databases",
            label: recipe::DATABASES_JOB_LABEL,
            user: 999,
            image,
            script,
            env,
        },
    )
}

/// One `kubernetes.io/basic-auth` Secret per database owner: the user name
/// given, the password generated once by `apply`. Each client namespace
/// that reads one gets a copy with the same value, and no other owner's.
fn owner_secrets(tuning: &Tuning) -> Vec<crate::model::Secret> {
    tuning
        .database_owners()
        .into_iter()
        .map(|owner| crate::model::Secret {
            name: owner_secret(tuning, &owner),
            generate: vec!["password".into()],
            data: [("username".to_string(), owner)].into(),
            namespaces: Vec::new(),
            secret_type: Some("kubernetes.io/basic-auth".into()),
        })
        .collect()
}

/// The exports of each database: `databases.DB.url`, `.name`, `.user` and
/// `.secret` (its owner's Secret, key `password`), so a client names the
/// database it uses, `${pg.databases.orders.url}`.
fn database_exports(tuning: &Tuning, scheme: &str, host: &str, port: u16) -> Vec<(String, String)> {
    let mut exports = Vec::new();
    for db in &tuning.databases {
        let field = |what: &str| format!("databases.{}.{what}", db.name);
        exports.push((
            field("url"),
            format!("{scheme}://{host}:{port}/{}", db.name),
        ));
        exports.push((field("name"), db.name.clone()));
        exports.push((field("user"), db.owner.clone()));
        exports.push((field("secret"), owner_secret(tuning, &db.owner)));
    }
    exports
}

impl Tuning {
    /// Every distinct owner of the databases, in order.
    pub fn database_owners(&self) -> Vec<String> {
        let mut owners: Vec<String> = Vec::new();
        for db in &self.databases {
            if !owners.contains(&db.owner) {
                owners.push(db.owner.clone());
            }
        }
        owners
    }

    /// The option `name`, or `default`.
    pub fn option<'a>(&'a self, name: &str, default: &'a str) -> &'a str {
        self.options.get(name).map_or(default, String::as_str)
    }

    /// The option `name` as a whole number, or `default` (values are checked
    /// when the option is declared numeric by its summary; see [`tune`]).
    pub fn number(&self, name: &str, default: u32) -> u32 {
        self.options
            .get(name)
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    }

    /// The fully qualified host of the service's pod `ordinal`.
    pub fn pod_host(&self, ordinal: u32) -> String {
        format!(
            "{}-{ordinal}.{}-headless.{}.svc.{}",
            self.service,
            self.service,
            self.namespace,
            crate::model::endpoint::CLUSTER_DOMAIN
        )
    }

    /// The fully qualified host of a Service called `name` in the service's namespace.
    pub fn host(&self, name: &str) -> String {
        format!(
            "{name}.{}.svc.{}",
            self.namespace,
            crate::model::endpoint::CLUSTER_DOMAIN
        )
    }

    /// Services of the platform made from blueprint `name`.
    pub fn siblings_of(&self, name: &str) -> Vec<&Sibling> {
        self.siblings
            .iter()
            .filter(|s| s.blueprint.as_deref() == Some(name))
            .collect()
    }
}

static CATALOG: [&Blueprint; 29] = [
    &consul::BLUEPRINT,
    &redis::BLUEPRINT,
    &postgresql::BLUEPRINT,
    &mysql::BLUEPRINT,
    &kafka::BLUEPRINT,
    &minio::BLUEPRINT,
    &nats::BLUEPRINT,
    &mosquitto::BLUEPRINT,
    &qdrant::BLUEPRINT,
    &neo4j::BLUEPRINT,
    &milvus::BLUEPRINT,
    &weaviate::BLUEPRINT,
    &elasticsearch::BLUEPRINT,
    &clickhouse::BLUEPRINT,
    &etcd::BLUEPRINT,
    &nacos::BLUEPRINT,
    &loki::BLUEPRINT,
    &grafana::BLUEPRINT,
    &prometheus::BLUEPRINT,
    &alertmanager::BLUEPRINT,
    &node_exporter::BLUEPRINT,
    &kube_state_metrics::BLUEPRINT,
    &jaeger::BLUEPRINT,
    &keycloak::BLUEPRINT,
    &vault::BLUEPRINT,
    &ray::BLUEPRINT,
    &kong::BLUEPRINT,
    &edge::OPENRESTY,
    &edge::NGINX,
];

/// The blueprints Strata knows.
#[derive(Debug, Clone, Copy, Default)]
pub struct Catalog;

impl Catalog {
    /// The catalog built into this release.
    pub fn builtin() -> Catalog {
        Catalog
    }

    /// The blueprint called `name`.
    pub fn get(&self, name: &str) -> Option<&'static Blueprint> {
        CATALOG.iter().copied().find(|b| b.name == name)
    }

    /// Every blueprint's name, in catalog order.
    pub fn names(&self) -> Vec<&'static str> {
        CATALOG.iter().map(|b| b.name).collect()
    }

    /// Every blueprint, in catalog order.
    pub fn all(&self) -> impl Iterator<Item = &'static Blueprint> {
        CATALOG.iter().copied()
    }

    /// Every operator some mode needs, sorted, once each.
    pub fn operators(&self) -> Vec<&'static str> {
        let mut names: Vec<&str> = self
            .all()
            .flat_map(|b| b.modes.iter().filter_map(|m| m.operator))
            .collect();
        names.sort_unstable();
        names.dedup();
        names
    }
}

/// Where a service is, for [`tune`].
pub struct Placement<'a> {
    /// The platform's name.
    pub platform: &'a str,
    /// The service's name.
    pub service: &'a str,
    /// Its namespace.
    pub namespace: &'a str,
    /// Its pods after the environment, had the mode's default applied.
    pub replicas: &'a dyn Fn(u32) -> u32,
    /// Other services of the platform.
    pub siblings: Vec<Sibling>,
}

fn error(
    file: &SourceFile,
    code: &'static str,
    message: String,
    span: Span,
    label: &str,
) -> Diagnostic {
    Diagnostic::error(code, message).at(file, span, label)
}

/// Checks a service's blueprint options against `blueprint` and resolves
/// them; every problem is returned, each at the offending value.
///
/// # Errors
/// An unknown mode, a key or option the blueprint does not take, a
/// `latest` version, an option that is not a number where one is needed,
/// a mode whose operator the platform does not declare.
pub fn tune(
    blueprint: &'static Blueprint,
    spec: &ServiceSpec,
    platform: &PlatformSpec,
    place: &Placement<'_>,
    file: &SourceFile,
) -> Result<Tuning, Vec<Diagnostic>> {
    let mut errors = Vec::new();
    let modes: Vec<&str> = blueprint.modes.iter().map(|m| m.name).collect();
    let mode = match &spec.mode {
        None => &blueprint.modes[0],
        Some(mode) => match blueprint.modes.iter().find(|m| m.name == mode.value.0) {
            Some(found) => found,
            None => {
                let help = if modes.len() == 1 {
                    format!(
                        "`{}` has one mode, `{}`: remove `mode:`",
                        blueprint.name, modes[0]
                    )
                } else {
                    suggestion(&mode.value.0, &modes, "mode")
                };
                errors.push(
                    error(
                        file,
                        "unknown-mode",
                        format!(
                            "`{}` is not a mode of the `{}` blueprint",
                            mode.value.0, blueprint.name
                        ),
                        mode.span,
                        "unknown mode",
                    )
                    .help(help),
                );
                &blueprint.modes[0]
            }
        },
    };
    let takes = |key: Key| blueprint.takes.contains(&key);
    let refuse = |key: Key, span: Span, errors: &mut Vec<Diagnostic>| {
        let takers: Vec<&str> = CATALOG
            .iter()
            .filter(|b| b.takes.contains(&key))
            .map(|b| b.name)
            .collect();
        errors.push(
            error(
                file,
                "unsupported-option",
                format!(
                    "the `{}` blueprint does not take `{}`",
                    blueprint.name,
                    key.as_str()
                ),
                span,
                "not taken by this blueprint",
            )
            .help(format!(
                "remove it; `{}` is for the {} blueprints",
                key.as_str(),
                takers.join(", ")
            )),
        );
    };
    let version = match &spec.version {
        Some(v) if v.value == "latest" || v.value.is_empty() => {
            errors.push(
                error(
                    file,
                    "invalid-option",
                    format!("`{}` is not a pinned version", v.value),
                    v.span,
                    "not pinned",
                )
                .help(format!(
                    "write a release such as `{}`, so every pod runs the same bits",
                    blueprint.version
                )),
            );
            blueprint.version.to_string()
        }
        Some(v) => v.value.clone(),
        None => blueprint.version.to_string(),
    };
    let databases = match &spec.databases {
        Some(list) if !takes(Key::Databases) => {
            refuse(Key::Databases, list.span, &mut errors);
            Vec::new()
        }
        list => databases(list.as_ref(), file, &mut errors),
    };
    let replicas = (place.replicas)(mode.replicas);
    let topics = match &spec.topics {
        Some(list) if !takes(Key::Topics) => {
            refuse(Key::Topics, list.span, &mut errors);
            Vec::new()
        }
        list => topics(list.as_ref(), replicas, file, &mut errors),
    };
    let shards = match &spec.shards {
        Some(s) if !takes(Key::Shards) => {
            refuse(Key::Shards, s.span, &mut errors);
            1
        }
        Some(s) if !mode.sharded => {
            let sharded: Vec<String> = blueprint
                .modes
                .iter()
                .filter(|m| m.sharded)
                .map(|m| format!("`mode: {}`", m.name))
                .collect();
            errors.push(
                error(
                    file,
                    "unsupported-option",
                    format!(
                        "the `{}` mode of `{}` does not take `shards`",
                        mode.name, blueprint.name
                    ),
                    s.span,
                    "not sharded",
                )
                .help(format!("shards need {}", sharded.join(" or "))),
            );
            1
        }
        Some(s) if s.value == 0 => {
            errors.push(
                error(
                    file,
                    "invalid-option",
                    "a cluster of zero shards".into(),
                    s.span,
                    "zero",
                )
                .help("write at least `shards: 1`"),
            );
            1
        }
        Some(s) => s.value,
        None => 1,
    };
    let options = options(blueprint, spec.options.as_ref(), file, &mut errors);
    if mode.operated
        && let Some(volumes) = &spec.volumes
        && !OPERATED_VOLUMES.contains(&(blueprint.name, mode.name))
    {
        // The operator makes the pods: Strata's claim templates would not
        // reach them.
        let takers: Vec<String> = OPERATED_VOLUMES
            .iter()
            .map(|(b, m)| format!("`{b}` in `{m}` mode"))
            .collect();
        errors.push(
            error(
                file,
                "unsupported-option",
                format!(
                    "the `{}` mode of `{}` runs its pods through an operator, which gets no extra `volumes`",
                    mode.name, blueprint.name
                ),
                volumes.span,
                "not rendered",
                )
                .help(format!(
                    "remove `volumes`, or use a mode Strata runs itself; among operator modes only {} take them",
                    takers.join(", ")
                )),
        );
    }
    if mode.operated
        && let Some(env_from) = &spec.env_from
    {
        errors.push(
            error(
                file,
                "unsupported-option",
                format!(
                    "the `{}` mode of `{}` runs its pods through an operator, which reads no `envFrom`",
                    mode.name, blueprint.name
                ),
                env_from.span,
                "not rendered",
            )
            .help("remove `envFrom`: the operator's pods get the blueprint's own settings"),
        );
    }
    errors.extend((blueprint.check_options)(&OptionCheck {
        mode,
        options: spec.options.as_ref(),
        siblings: &place.siblings,
        service: place.service,
        span: spec
            .mode
            .as_ref()
            .map(|m| m.span)
            .or(spec.blueprint.as_ref().map(|b| b.span))
            .unwrap_or_default(),
        version: spec.version.as_ref(),
        file,
        platform,
    }));
    let users = match &spec.users {
        Some(map) if !takes(Key::Users) => {
            refuse(Key::Users, map.span, &mut errors);
            Vec::new()
        }
        map => users(map.as_ref(), &options, file, &mut errors),
    };
    let settings = match &spec.settings {
        Some(map) if !takes(Key::Settings) => {
            refuse(Key::Settings, map.span, &mut errors);
            Vec::new()
        }
        map => settings(map.as_ref(), blueprint, file, &mut errors),
    };
    if let Some(operator) = mode.operator {
        let declared = platform
            .operators
            .as_ref()
            .is_some_and(|o| o.value.get(operator).is_some());
        if !declared {
            let span = spec
                .mode
                .as_ref()
                .map(|m| m.span)
                .or(spec.blueprint.as_ref().map(|b| b.span))
                .unwrap_or_default();
            errors.push(
                error(
                    file,
                    "missing-operator",
                    format!(
                        "the `{}` mode of `{}` renders custom resources of the `{operator}` operator, which the platform does not declare",
                        mode.name, blueprint.name
                    ),
                    span,
                    "needs an operator",
                )
                .help(format!(
                    "declare it under `operators:`, either installed already: `{operator}: {{ installed: true }}`, or by a tier of raw manifests: `{operator}: {{ tier: operators }}` with `manifests: [...]` on that tier"
                )),
            );
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut tuning = Tuning {
        blueprint,
        mode,
        platform: place.platform.to_string(),
        service: place.service.to_string(),
        namespace: place.namespace.to_string(),
        version,
        replicas,
        databases,
        topics,
        users,
        shards,
        options,
        settings,
        metrics: platform.monitoring.is_some(),
        siblings: place.siblings.clone(),
        operator_namespace: None,
        supplied: Supplied::default(),
    };
    tuning.supplied = (blueprint.recipe)(&tuning).supplied;
    Ok(tuning)
}

fn databases(
    list: Option<&Spanned<Vec<Spanned<DatabaseSpec>>>>,
    file: &SourceFile,
    errors: &mut Vec<Diagnostic>,
) -> Vec<Database> {
    let mut out: Vec<Database> = Vec::new();
    for item in list.iter().flat_map(|l| &l.value) {
        let (name, owner, schemas) = match &item.value {
            DatabaseSpec::Name(name) => (name.clone(), None, Vec::new()),
            DatabaseSpec::Detail(d) => (
                d.name.value.clone(),
                d.owner.as_ref().map(|o| o.value.clone()),
                d.schemas
                    .iter()
                    .flat_map(|s| &s.value)
                    .map(|s| s.value.clone())
                    .collect(),
            ),
        };
        let words = std::iter::once(&name)
            .chain(owner.iter())
            .chain(schemas.iter());
        if let Some(bad) = words.into_iter().find(|w| !recipe::is_sql_identifier(w)) {
            errors.push(
                error(
                    file,
                    "invalid-option",
                    format!("`{bad}` is not a plain SQL identifier"),
                    item.span,
                    "not an identifier",
                )
                .help("use lowercase letters, digits and `_`, starting with a letter: `nova_core`"),
            );
            continue;
        }
        if out.iter().any(|d| d.name == name) {
            errors.push(
                error(
                    file,
                    "invalid-option",
                    format!("the database `{name}` is listed twice"),
                    item.span,
                    "listed again",
                )
                .help("list each database once"),
            );
            continue;
        }
        out.push(Database {
            owner: owner.unwrap_or_else(|| name.clone()),
            name,
            schemas,
        });
    }
    out
}

/// The `users:` of an object store: each an access key MinIO accepts, not
/// the name of the server's own credentials, with buckets the store creates.
fn users(
    map: Option<&Spanned<crate::spec::service::UsersSpec>>,
    options: &BTreeMap<String, String>,
    file: &SourceFile,
    errors: &mut Vec<Diagnostic>,
) -> Vec<User> {
    let created: Vec<&str> = options
        .get("buckets")
        .map(|b| b.split(',').map(str::trim).collect())
        .unwrap_or_default();
    let mut out = Vec::new();
    for (name, buckets) in map.iter().flat_map(|m| m.value.iter()) {
        let user = &name.value.0;
        if user.len() < 3 || user == "credentials" {
            errors.push(
                error(
                    file,
                    "invalid-option",
                    format!("`{user}` cannot name an object-store user"),
                    name.span,
                    "not a user name",
                )
                .help("MinIO access keys have 3 characters or more, and `credentials` names the root login's Secret: choose another name, such as the service's"),
            );
            continue;
        }
        if buckets.value.is_empty() {
            errors.push(
                error(
                    file,
                    "invalid-option",
                    format!("the user `{user}` may use no bucket"),
                    buckets.span,
                    "no buckets",
                )
                .help("list the buckets it reads and writes: `[models]`"),
            );
            continue;
        }
        if let Some(bad) = buckets
            .value
            .iter()
            .find(|b| !created.contains(&b.value.as_str()))
        {
            errors.push(
                error(
                    file,
                    "invalid-option",
                    format!(
                        "the user `{user}` names the bucket `{}`, which `options.buckets` does not create",
                        bad.value
                    ),
                    bad.span,
                    "not created",
                )
                .help(format!(
                    "add `{}` to `options: {{ buckets: ... }}`, or name one of its buckets",
                    bad.value
                )),
            );
            continue;
        }
        out.push(User {
            name: user.clone(),
            buckets: buckets.value.iter().map(|b| b.value.clone()).collect(),
        });
    }
    out
}

fn topics(
    list: Option<&Spanned<Vec<Spanned<TopicSpec>>>>,
    brokers: u32,
    file: &SourceFile,
    errors: &mut Vec<Diagnostic>,
) -> Vec<Topic> {
    let mut out: Vec<Topic> = Vec::new();
    for item in list.iter().flat_map(|l| &l.value) {
        let mut topic = Topic {
            name: String::new(),
            partitions: 3,
            replicas: brokers.clamp(1, 3),
            config: BTreeMap::new(),
        };
        match &item.value {
            TopicSpec::Name(name) => topic.name = name.clone(),
            TopicSpec::Detail(d) => {
                topic.name = d.name.value.clone();
                if let Some(p) = &d.partitions {
                    topic.partitions = p.value.max(1);
                }
                if let Some(r) = &d.replicas {
                    topic.replicas = r.value.max(1);
                }
                if let Some(retention) = &d.retention {
                    match recipe::milliseconds(&retention.value) {
                        Some(ms) => {
                            topic.config.insert("retention.ms".into(), ms.to_string());
                        }
                        None => errors.push(
                            error(file, "invalid-option", format!("`{}` is not a retention period", retention.value), retention.span, "not a period")
                                .help("write a whole number of days, hours or minutes: `7d`, `12h`, `30m`"),
                        ),
                    }
                }
                for (k, v) in d.config.iter().flat_map(|c| c.value.iter()) {
                    topic.config.insert(k.value.clone(), v.value.clone());
                }
            }
        }
        let valid = !topic.name.is_empty()
            && topic.name.len() <= 249
            && topic
                .name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.');
        if !valid {
            errors.push(
                error(
                    file,
                    "invalid-option",
                    format!(
                        "`{}` is not a topic name Kubernetes and Kafka both accept",
                        topic.name
                    ),
                    item.span,
                    "invalid topic name",
                )
                .help("use lowercase letters, digits, `-` and `.`: `nft-minted`"),
            );
            continue;
        }
        if out.iter().any(|t| t.name == topic.name) {
            errors.push(
                error(
                    file,
                    "invalid-option",
                    format!("the topic `{}` is listed twice", topic.name),
                    item.span,
                    "listed again",
                )
                .help("list each topic once"),
            );
            continue;
        }
        out.push(topic);
    }
    out
}

/// The engine's settings as written, each a name and a value on one line
/// (they end up in configuration files and command lines); ClickHouse's
/// as `PROFILE/SETTING`.
fn settings(
    map: Option<&Spanned<Map<String, String>>>,
    blueprint: &Blueprint,
    file: &SourceFile,
    errors: &mut Vec<Diagnostic>,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (key, value) in map.iter().flat_map(|m| m.value.iter()) {
        let plain = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._-/".contains(c))
        };
        let profiled = key
            .value
            .split_once('/')
            .is_some_and(|(p, s)| plain(p) && plain(s) && !s.contains('/'));
        let clickhouse = blueprint.name == "clickhouse";
        if !plain(&key.value)
            || (clickhouse != profiled)
            || (!clickhouse && key.value.contains('/'))
        {
            let help = if clickhouse {
                "name a profile and a setting: `default/max_memory_usage`"
            } else {
                "write the engine's own name: letters, digits, `.`, `_` and `-` (`shared_buffers`, `compression.type`)"
            };
            errors.push(
                error(
                    file,
                    "invalid-setting",
                    format!(
                        "`{}` is not a setting name of `{}`",
                        key.value, blueprint.name
                    ),
                    key.span,
                    "not a setting name",
                )
                .help(help),
            );
            continue;
        }
        if value.value.contains('\n') || value.value.trim().is_empty() {
            errors.push(
                error(
                    file,
                    "invalid-setting",
                    format!("the setting `{}` needs a value on one line", key.value),
                    value.span,
                    "not one line",
                )
                .help("write the value as the engine reads it: `4GB`, `snappy`, `300`"),
            );
            continue;
        }
        out.push((key.value.clone(), value.value.clone()));
    }
    out
}

fn options(
    blueprint: &Blueprint,
    map: Option<&Spanned<Map<String, String>>>,
    file: &SourceFile,
    errors: &mut Vec<Diagnostic>,
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let names: Vec<&str> = blueprint.options.iter().map(|o| o.name).collect();
    for (key, value) in map.iter().flat_map(|m| m.value.iter()) {
        let Some(doc) = blueprint.options.iter().find(|o| o.name == key.value) else {
            let help = if names.is_empty() {
                format!("the `{}` blueprint takes no options", blueprint.name)
            } else {
                suggestion(&key.value, &names, "option")
            };
            errors.push(
                error(
                    file,
                    "unsupported-option",
                    format!(
                        "the `{}` blueprint has no option `{}`",
                        blueprint.name, key.value
                    ),
                    key.span,
                    "unknown option",
                )
                .help(help),
            );
            continue;
        };
        let measure = if doc.summary.starts_with("A CPU quantity") {
            Some(crate::quantity::Measure::Cpu)
        } else if doc.summary.starts_with("A memory quantity") {
            Some(crate::quantity::Measure::Bytes)
        } else {
            None
        };
        if let Some(measure) = measure
            && let Err(bad) = crate::quantity::Quantity::parse(&value.value, measure)
        {
            let mut diagnostic = error(
                file,
                "invalid-option",
                format!("the option `{}`: {}", key.value, bad.message),
                value.span,
                "not a quantity",
            );
            diagnostic = match bad.suggestion {
                Some(fix) => diagnostic.help(format!("write `{fix}`")),
                None => diagnostic.help(doc.summary),
            };
            errors.push(diagnostic);
            continue;
        }
        if doc.summary.starts_with("A period")
            && recipe::milliseconds(&value.value).is_none_or(|ms| ms == 0)
        {
            errors.push(
                error(
                    file,
                    "invalid-option",
                    format!(
                        "the option `{}` takes a period, not `{}`",
                        key.value, value.value
                    ),
                    value.span,
                    "not a period",
                )
                .help(
                    "write a whole, non-zero number of days, hours or minutes: `30d`, `12h`, `90m`",
                ),
            );
            continue;
        }
        if doc.summary.starts_with("A number") && value.value.parse::<u32>().is_err() {
            errors.push(
                error(
                    file,
                    "invalid-option",
                    format!(
                        "the option `{}` takes a whole number, not `{}`",
                        key.value, value.value
                    ),
                    value.span,
                    "not a number",
                )
                .help(doc.summary),
            );
            continue;
        }
        out.insert(key.value.clone(), value.value.clone());
    }
    out
}

/// Operator modes whose custom resources carry a service's `volumes`
/// (blueprint, mode); every other operator mode refuses them.
const OPERATED_VOLUMES: &[(&str, &str)] = &[("clickhouse", "altinity")];

/// Operator modes whose operator hands the pods to a service's
/// `scheduler:` (KubeRay, with batch scheduling on); every other operator
/// mode refuses it.
const OPERATED_SCHEDULING: &[(&str, &str)] = &[("ray", "kuberay")];

/// Whether a service's operator hands its pods to the scheduler it names.
pub fn hands_pods_to_scheduler(tuning: &Tuning) -> bool {
    OPERATED_SCHEDULING.contains(&(tuning.blueprint.name, tuning.mode.name))
}

/// Operators no blueprint mode needs: the pod schedulers of `scheduler:`.
const SCHEDULER_OPERATORS: &[&str] = &["volcano"];

/// Checks the platform's `operators:`: each is one the catalog knows, and
/// declared exactly one way.
pub fn check_operators(spec: &PlatformSpec, tiers: &[&str], file: &SourceFile) -> Vec<Diagnostic> {
    let mut errors = Vec::new();
    let mut known = Catalog.operators();
    known.extend(SCHEDULER_OPERATORS);
    known.sort_unstable();
    for (name, operator) in spec.operators.iter().flat_map(|o| o.value.iter()) {
        if !known.contains(&name.value.0.as_str()) {
            errors.push(
                error(
                    file,
                    "unknown-operator",
                    format!(
                        "no blueprint or scheduler uses an operator called `{}`",
                        name.value.0
                    ),
                    name.span,
                    "unknown operator",
                )
                .help(suggestion(&name.value.0, &known, "operator")),
            );
        }
        let installed = operator.value.installed.as_ref().is_some_and(|i| i.value);
        if let (Some(namespace), Some(_)) = (&operator.value.namespace, &operator.value.tier) {
            errors.push(
                error(
                    file,
                    "invalid-operator",
                    format!(
                        "the operator `{}` runs in its tier's namespace",
                        name.value.0
                    ),
                    namespace.span,
                    "set by the tier",
                )
                .help(
                    "remove `namespace`: a tier-installed operator runs in that tier's namespace",
                ),
            );
        }
        match (&operator.value.tier, installed) {
            (Some(tier), false) => {
                if !tiers.contains(&tier.value.0.as_str()) {
                    errors.push(
                        error(file, "unknown-tier", format!("`{}` is not a tier of this platform", tier.value.0), tier.span, "no such tier")
                            .help(suggestion(&tier.value.0, tiers, "tier")),
                    );
                }
            }
            (None, true) => {}
            (Some(tier), true) => errors.push(
                error(file, "invalid-operator", format!("the operator `{}` is declared both installed and installed by a tier", name.value.0), tier.span, "which one?")
                    .help("keep `installed: true` when the cluster already runs it, or `tier:` when this platform installs it"),
            ),
            (None, false) => errors.push(
                error(file, "invalid-operator", format!("the operator `{}` says neither how it is installed", name.value.0), operator.span, "how is it installed?")
                    .help("write `installed: true`, or `tier: NAME` for the tier whose `manifests:` install it"),
            ),
        }
    }
    errors
}

/// The namespace an `installed: true` operator runs in, when the spec says.
pub fn operator_namespace<'a>(spec: &'a PlatformSpec, operator: &str) -> Option<&'a str> {
    spec.operators
        .as_ref()?
        .value
        .get(operator)?
        .value
        .namespace
        .as_ref()
        .map(|n| n.value.0.as_str())
}

/// The tier whose manifests install `operator`, when the platform says so.
pub fn operator_tier<'a>(
    spec: &'a PlatformSpec,
    operator: &str,
) -> Option<&'a Spanned<crate::spec::names::Name>> {
    spec.operators
        .as_ref()?
        .value
        .get(operator)?
        .value
        .tier
        .as_ref()
}

/// The services a blueprint service runs beside itself.
pub fn companions(service: &Service) -> Vec<Service> {
    service
        .tuning
        .as_ref()
        .map(|t| (t.blueprint.companions)(service, t))
        .unwrap_or_default()
}

/// The render hook: amends the objects rendered for a blueprint service (or
/// replaces them, when an operator runs its pods) and adds the blueprint's own.
pub fn render(platform: &Platform, service: &Service, objects: &mut Vec<Value>) {
    let Some(tuning) = &service.tuning else {
        return;
    };
    if tuning.mode.operated {
        objects.clear();
    } else {
        recipe::amend(tuning, objects);
    }
    objects.extend((tuning.blueprint.objects)(platform, service, tuning));
    for companion in (tuning.blueprint.companions)(service, tuning) {
        objects.extend(crate::render::service_objects(platform, &companion));
    }
    if platform.network.policies {
        objects.extend(recipe::member_policies(platform, service, tuning));
    }
}

#[cfg(test)]
mod tests;
