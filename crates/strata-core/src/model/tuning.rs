//! A blueprint as one service uses it ([`Tuning`]): the mode and options
//! resolved, and what its recipe supplies besides service fields
//! ([`Supplied`]) for resolve to wire and render to build from; and the pods
//! a service runs, as `plan` counts them ([`PodGroup`]).

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;

use super::blueprint::{Blueprint, Mode};
use super::{Secret, Service};
use crate::spec::service::{DatabaseSpec, ServiceSpec};

/// Pods of one kind a service runs, with what each asks for: what `plan`
/// counts.
#[derive(Debug, Clone, PartialEq)]
pub struct PodGroup {
    /// What they are (`NAME`, `NAME-keeper`).
    pub name: String,
    /// How many.
    pub pods: u32,
    /// Requests and limits of one pod.
    pub resources: super::Resources,
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
    /// size with its sidecars', or of its largest `init:` step's beside its
    /// native sidecars where that is larger (the scheduler reserves the
    /// larger, resource by resource).
    pub fn of(service: &Service) -> PodGroup {
        let native = service.rare.sidecars.iter().filter(|s| s.native).fold(
            None,
            |sum: Option<super::Resources>, s| {
                Some(sum.map_or(s.container.resources, |sum| sum.plus(s.container.resources)))
            },
        );
        let running = service
            .rare
            .sidecars
            .iter()
            .fold(service.resources, |size, s| {
                size.plus(s.container.resources)
            });
        let beside_native = |step: super::Resources| native.map_or(step, |n| step.plus(n));
        PodGroup {
            name: service.name.clone(),
            pods: service.replicas,
            resources: service.rare.init.iter().fold(running, |size, step| {
                size.at_least(beside_native(step.resources))
            }),
            gpu: service.rare.gpu,
            pvcs: service.volume_claims(),
            storage: service.storage_total(),
            pool: service.pool.clone(),
        }
    }
}

impl Service {
    /// The services its blueprint runs beside it (a Sentinel group).
    pub fn companions(&self) -> Vec<Service> {
        self.tuning
            .as_ref()
            .map(|t| t.blueprint.companions(self, t))
            .unwrap_or_default()
    }

    /// Every pod it runs, its own first, then its companions': what `plan`
    /// counts.
    pub fn footprint(&self) -> Vec<PodGroup> {
        let Some(tuning) = &self.tuning else {
            return vec![PodGroup::of(self)];
        };
        let mut groups = tuning.blueprint.pods(self, tuning);
        groups.extend(self.companions().iter().map(PodGroup::of));
        groups
    }
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
    /// Where the spec lists it.
    pub span: crate::source::Span,
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
    /// Where the spec lists it.
    pub span: crate::source::Span,
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
    pub blueprint: &'static dyn Blueprint,
    /// The mode chosen.
    pub mode: &'static Mode,
    /// The platform's name.
    pub platform: String,
    /// The service's name.
    pub service: String,
    /// The service's namespace.
    pub namespace: String,
    /// The release it renders for: the one the tag of the service's own
    /// `image:` names, else `version:`, else the blueprint's; the recipe's
    /// image tag.
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
    /// The deprecated options written: each name, where, and what to write
    /// instead ([`OptionDoc::instead`](crate::model::OptionDoc::instead)).
    pub deprecated: Vec<(String, crate::source::Span, &'static str)>,
    /// `settings:`, the engine's own, in spec order.
    pub settings: Vec<(String, String)>,
    /// Whether the platform is monitored (it has `monitoring:`), so the
    /// blueprint exposes its system's metrics the way that system does.
    pub metrics: bool,
    /// Other services of the platform, for recipes that point at them
    /// (Grafana's datasources, Keycloak's database).
    pub siblings: Siblings,
    /// The namespace of the mode's operator: its tier's when a tier of this
    /// platform installs it (`operators: { NAME: { tier: … } }`), the one
    /// given with `installed: true`; `None` when the spec does not say.
    pub operator_namespace: Option<String>,
    /// The release of the mode's operator it renders for, where that
    /// release changes what it renders (`operators.NAME.version`, else the
    /// newest the mode knows).
    pub operator: Option<&'static super::blueprint::OperatorRelease>,
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

/// The other services of a platform, as a blueprint service sees them: one
/// list of every service, shared by all the blueprint services of a
/// resolve, read without the service itself (a list of its own for each
/// would make resolve quadratic in time and memory).
#[derive(Debug, Clone, Default)]
pub struct Siblings {
    every: Arc<[Sibling]>,
    own: String,
}

impl Siblings {
    /// Every service of `every` but the one called `own`.
    pub fn new(every: Arc<[Sibling]>, own: &str) -> Siblings {
        Siblings {
            every,
            own: own.to_string(),
        }
    }

    /// The other services, in spec order.
    pub fn iter(&self) -> impl Iterator<Item = &Sibling> {
        self.every.iter().filter(|s| s.name != self.own)
    }
}

/// The databases and owners a service's `databases:` lists (the owner is
/// the database's name unless given), for its siblings to find.
pub(super) fn listed_databases(spec: &ServiceSpec) -> Vec<(String, String)> {
    spec.rare
        .databases
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
pub(super) fn listed_users(spec: &ServiceSpec) -> Vec<User> {
    spec.rare
        .users
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
    pub secrets: Vec<Secret>,
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
    /// Whether the group is the pods of a setup Job (a blueprint's setup Job),
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
    /// `label: SERVICE` .
    pub fn setup_job(name: &'static str, label: &str, service: &str) -> Members {
        Members {
            setup_job: true,
            ..Members::new(name, &[(label, service)])
        }
    }

    /// The same group, reached by its operator on `ports`.
    #[must_use]
    pub fn operated(mut self, ports: &[u16]) -> Members {
        self.operator_ports = ports.to_vec();
        self
    }
}

/// Label pairs as the map [`Supplied::pods`] holds.
pub fn label_map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
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

/// The Secret holding the login of `owner` on the database service
/// `service`, `SERVICE-OWNER` with `_` written `-` as Kubernetes names
/// require: the Secret whose password a client reads to log in as `owner`.
pub fn owner_secret_of(service: &str, owner: &str) -> String {
    format!("{service}-{}", owner.replace('_', "-"))
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
    /// when the option is declared a number).
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
            super::endpoint::CLUSTER_DOMAIN
        )
    }

    /// The fully qualified host of a Service called `name` in the service's namespace.
    pub fn host(&self, name: &str) -> String {
        format!(
            "{name}.{}.svc.{}",
            self.namespace,
            super::endpoint::CLUSTER_DOMAIN
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

/// Whether `word` can be written unquoted in SQL as a database, role or schema.
pub fn is_sql_identifier(word: &str) -> bool {
    word.len() <= 63
        && word.starts_with(|c: char| c.is_ascii_lowercase())
        && word
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::{Sibling, Siblings};

    fn sibling(name: &str) -> Sibling {
        Sibling {
            name: name.into(),
            blueprint: None,
            mode: None,
            databases: Vec::new(),
            users: Vec::new(),
        }
    }

    #[test]
    fn siblings_share_one_list_and_leave_out_the_service_itself() {
        let every: std::sync::Arc<[Sibling]> =
            ["db", "api", "web"].into_iter().map(sibling).collect();
        let of_api = Siblings::new(std::sync::Arc::clone(&every), "api");
        let of_web = Siblings::new(std::sync::Arc::clone(&every), "web");
        let names = |s: &Siblings| s.iter().map(|s| s.name.clone()).collect::<Vec<_>>();
        assert_eq!(names(&of_api), ["db", "web"]);
        assert_eq!(names(&of_web), ["db", "api"]);
        assert_eq!(std::sync::Arc::strong_count(&every), 3);
    }
}
