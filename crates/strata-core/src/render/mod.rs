//! From a [`Platform`] to Kubernetes objects: one module per concern.
//!
//! Objects are plain JSON values (the same shape the API server takes) so
//! that built-in kinds, custom resources, raw manifests and user patches are
//! handled alike; their validity is checked in CI against the official
//! schemas by `kubernetes-validate --strict`.

mod admission;
pub mod backup;
mod delivery;
mod external;
mod gateway;
mod labels;
mod manifests;
mod mesh;
mod namespace;
pub mod network;
mod origin;
mod patch;
mod policy;
mod registry;
mod scheduling;
pub mod secret_job;
mod service;
mod traffic;
mod workload;

use serde_json::Value;

use crate::diag::Diagnostic;
use crate::model::{Platform, Service};

pub use labels::metadata;
pub use labels::{MANAGED_BY, TIER_LABEL};
pub use mesh::{MERGED_METRICS_PORT, scrape_port};
pub use network::{api_server, member_policies};
pub use registry::{PullSecret, add_pull_secrets, pull_secret_refs};
pub(crate) use scheduling::{QUEUE_LABEL, queue_name};
pub(crate) use workload::{
    NATIVE_SIDECAR_ANNOTATION, claim_spec, operated_container_security, placement,
    pod_security_context, resource_values, sized_claim_spec,
};

/// One object, or a file's contents, as YAML (no leading `---`): how
/// render writes the YAML files objects carry (Kong's declarative
/// configuration, Prometheus rules) and how export writes objects.
pub fn yaml(object: &Value) -> String {
    serde_saphyr::to_string(object).unwrap_or_else(|err| format!("# cannot serialize: {err}\n"))
}

/// Reads the files a spec names (configuration files, raw manifests),
/// relative to the spec; the only I/O rendering needs, kept outside the core.
pub trait Assets {
    /// The text of `path`, or why it cannot be read.
    fn read(&self, path: &str) -> Result<String, String>;
}

/// Assets for a spec that names no files; every read fails.
pub struct NoAssets;

impl Assets for NoAssets {
    fn read(&self, path: &str) -> Result<String, String> {
        Err(format!("no file can be read here (asked for `{path}`)"))
    }
}

/// One rendered object and where it belongs.
#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    /// The wave it is applied in; 0 for cluster and namespace setup.
    pub wave: usize,
    /// The tier it belongs to, if any.
    pub tier: Option<String>,
    /// The service it was rendered for, if any.
    pub service: Option<String>,
    /// The object itself.
    pub value: Value,
}

impl Object {
    fn new(wave: usize, tier: Option<&str>, service: Option<&str>, value: Value) -> Self {
        Object {
            wave,
            tier: tier.map(str::to_string),
            service: service.map(str::to_string),
            value,
        }
    }

    /// `apiVersion`.
    pub fn api_version(&self) -> &str {
        self.value["apiVersion"].as_str().unwrap_or("")
    }

    /// `kind`.
    pub fn kind(&self) -> &str {
        self.value["kind"].as_str().unwrap_or("")
    }

    /// `metadata.name`.
    pub fn name(&self) -> &str {
        self.value["metadata"]["name"].as_str().unwrap_or("")
    }

    /// `metadata.namespace`, empty for cluster-scoped objects.
    pub fn namespace(&self) -> &str {
        self.value["metadata"]["namespace"].as_str().unwrap_or("")
    }

    /// `Kind/namespace/name`, unique within a rendered set.
    pub fn key(&self) -> String {
        format!("{}/{}/{}", self.kind(), self.namespace(), self.name())
    }
}

/// A secret whose values are generated once in the cluster, by `strata
/// apply` or by the [`secret_job`]; never rendered, so its values never
/// appear in output.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct GeneratedSecret {
    /// Its name.
    pub name: String,
    /// The namespaces it is written to: the server's and each reader's, all
    /// with the same values, or the client's password would not match.
    pub namespaces: Vec<String>,
    /// Its Kubernetes type (`Opaque`, or `kubernetes.io/basic-auth` for a
    /// database owner's login): created with it, since a Secret's type
    /// cannot change once it exists.
    pub secret_type: String,
    /// Keys with random values.
    pub keys: Vec<String>,
}

/// Everything rendered for a platform in one environment, in apply order.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderedSet {
    /// The platform's name.
    pub platform: String,
    /// The environment applied.
    pub environment: Option<String>,
    /// Objects ordered by wave, kind, namespace and name.
    pub objects: Vec<Object>,
    /// Secrets generated in the cluster (by `apply`, or by the
    /// [`secret_job`] among `objects`).
    pub generated_secrets: Vec<GeneratedSecret>,
    /// Registry pull secrets the pods name, made outside Strata: `apply`
    /// checks they exist before the first wave.
    pub pull_secrets: Vec<PullSecret>,
}

/// Where a kind is applied within a wave: namespaces and CRDs first, then
/// what workloads use, then workloads, then what refers to workloads.
pub fn kind_rank(kind: &str) -> usize {
    use crate::kind as k;
    const ORDER: &[&str] = &[
        k::NAMESPACE,
        k::CUSTOM_RESOURCE_DEFINITION,
        k::STORAGE_CLASS,
        k::PRIORITY_CLASS,
        k::RESOURCE_QUOTA,
        k::LIMIT_RANGE,
        k::SERVICE_ACCOUNT,
        k::SECRET,
        k::CONFIG_MAP,
        k::CLUSTER_ROLE,
        k::CLUSTER_ROLE_BINDING,
        k::ROLE,
        k::ROLE_BINDING,
        k::PERSISTENT_VOLUME_CLAIM,
        k::SERVICE,
        k::NETWORK_POLICY,
        k::DEPLOYMENT,
        k::STATEFUL_SET,
        k::DAEMON_SET,
        k::JOB,
        k::CRON_JOB,
        k::HORIZONTAL_POD_AUTOSCALER,
        k::POD_DISRUPTION_BUDGET,
        k::INGRESS,
        k::GATEWAY,
        k::HTTP_ROUTE,
        k::VIRTUAL_SERVICE,
        k::DESTINATION_RULE,
        k::PEER_AUTHENTICATION,
        k::REQUEST_AUTHENTICATION,
        k::AUTHORIZATION_POLICY,
    ];
    ORDER
        .iter()
        .position(|listed| *listed == kind)
        .unwrap_or(ORDER.len())
}

/// Renders every object of `platform`.
///
/// # Errors
/// Files that cannot be read or parsed, and patches that do not apply.
///
/// ```
/// use strata_core::{model, render, source::SourceFile, spec};
/// let file = SourceFile::new("p.yaml", "platform: demo\ntiers:\n  - name: apps\n    services:\n      web: { image: nginx:1.27, ports: { http: 8080 }, replicas: 2 }\n");
/// let platform = strata_core::resolve(&spec::parse(&file).unwrap(), None).unwrap();
/// let set = render::render(&platform, &render::NoAssets).unwrap();
/// let kinds: Vec<&str> = set.objects.iter().map(|o| o.kind()).collect();
/// assert_eq!(
///     kinds,
///     ["Namespace", "NetworkPolicy", "NetworkPolicy", "ServiceAccount", "Service", "Deployment", "PodDisruptionBudget"]
/// );
/// ```
pub fn render(platform: &Platform, assets: &dyn Assets) -> Result<RenderedSet, Vec<Diagnostic>> {
    let mut errors = Vec::new();
    let mut origins = origin::Origins::default();
    let mut objects = namespace::render(platform);
    objects.extend(network::render(platform));
    for service in &platform.services {
        let mut own = render_service(platform, service, assets, &mut errors);
        let tier = &platform.tier_of(service).name;
        own.extend(
            backup::render(platform, service)
                .into_iter()
                .map(|v| Object::new(service.wave, Some(tier), Some(&service.name), v)),
        );
        patch::apply(platform, service, &mut own, &mut errors);
        origins.mark(objects.len(), origin::Origin::Service(service));
        objects.extend(own);
    }
    origins.mark(objects.len(), origin::Origin::Platform);
    objects.extend(scheduling::queues(platform));
    objects.extend(gateway::render(platform));
    objects.extend(mesh::render(platform));
    objects.extend(traffic::render(platform));
    // Before the raw manifests, which are applied as they are.
    let pull_secrets = registry::needed(platform, &objects);
    for (object, from) in manifests::render(platform, assets, &mut errors) {
        origins.mark(objects.len(), from);
        objects.push(object);
    }
    origins.mark(objects.len(), origin::Origin::Platform);
    let generated_secrets = service::secrets(platform, &mut objects);
    objects.extend(secret_job::render(platform, &generated_secrets));
    delivery::annotate_waves(platform, &mut objects);
    objects.extend(delivery::render(platform));
    errors.extend(origin::duplicates(
        &platform.file,
        &platform.services,
        &objects,
        &origins,
    ));
    errors.extend(admission::refusals(platform, &objects, &origins));
    if !errors.is_empty() {
        return Err(errors);
    }
    // Each object's key is read once, not at every comparison.
    objects.sort_by_cached_key(|o| {
        (
            o.wave,
            kind_rank(o.kind()),
            o.kind().to_string(),
            o.namespace().to_string(),
            o.name().to_string(),
        )
    });
    Ok(RenderedSet {
        platform: platform.name.clone(),
        environment: platform.environment.clone(),
        objects,
        generated_secrets,
        pull_secrets,
    })
}

/// What the namespace of `service` refuses of its pods once its patches
/// are applied, as `render` reports it (`pod-security-violation`): for
/// `audit`, which reads the spec alone (configuration files are not read).
pub fn pod_security(platform: &Platform, service: &Service) -> Vec<Diagnostic> {
    let mut errors = Vec::new();
    let mut objects: Vec<Object> = namespace::render(platform)
        .into_iter()
        .filter(|o| o.kind() == crate::kind::NAMESPACE && o.name() == service.namespace)
        .collect();
    let mut origins = origin::Origins::default();
    origins.mark(objects.len(), origin::Origin::Service(service));
    let mut own = render_service(platform, service, &NoAssets, &mut errors);
    patch::apply(platform, service, &mut own, &mut errors);
    objects.extend(own);
    admission::refusals(platform, &objects, &origins)
}

fn render_service(
    platform: &Platform,
    service: &Service,
    assets: &dyn Assets,
    errors: &mut Vec<Diagnostic>,
) -> Vec<Object> {
    let tier = &platform.tier_of(service).name;
    let make = |value: Value| Object::new(service.wave, Some(tier), Some(&service.name), value);
    let mut values = vec![service::service_account(platform, service)];
    values.extend(service::spawned_account(platform, service));
    values.extend(service::access(platform, service));
    values.extend(service::config_map(platform, service, assets, errors));
    values.extend(service::env_config_map(platform, service));
    values.extend(service::services(platform, service));
    values.extend(workload::render(platform, service));
    values.extend(policy::render(platform, service));
    blueprint_objects(platform, service, &mut values);
    values.into_iter().map(make).collect()
}

/// Replaces the objects of a blueprint service whose operator runs its
/// pods, and adds the blueprint's own objects, its companions' and its
/// member groups' NetworkPolicies.
fn blueprint_objects(platform: &Platform, service: &Service, objects: &mut Vec<Value>) {
    let Some(tuning) = &service.tuning else {
        return;
    };
    if tuning.mode.operated {
        objects.clear();
    }
    objects.extend(tuning.blueprint.objects(platform, service, tuning));
    for companion in service.companions() {
        objects.extend(service_objects(platform, &companion));
    }
    if platform.network.policies {
        objects.extend(network::member_policies(platform, service, tuning));
    }
}

/// The objects of a service that the model does not list: a blueprint's
/// companion (a Redis Sentinel group, say), rendered like any service.
/// Its configuration files must be inline.
pub fn service_objects(platform: &Platform, service: &Service) -> Vec<Value> {
    let mut errors = Vec::new();
    render_service(platform, service, &NoAssets, &mut errors)
        .into_iter()
        .map(|o| o.value)
        .collect()
}

/// The labels of every object of a service.
pub fn service_labels(platform: &Platform, service: &Service) -> serde_json::Map<String, Value> {
    labels::service(platform, service)
}

#[cfg(test)]
mod tests;
