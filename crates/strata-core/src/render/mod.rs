//! From a [`Platform`] to Kubernetes objects: one module per concern.
//!
//! Objects are plain JSON values (the same shape the API server takes) so
//! that built-in kinds, custom resources, raw manifests and user patches are
//! handled alike; their validity is checked in CI against the official
//! schemas by `kubernetes-validate --strict`.

mod admission;
pub mod backup;
mod body;
mod delivery;
mod emit;
mod external;
mod gateway;
mod labels;
mod manifests;
mod mesh;
mod namespace;
pub mod network;
mod origin;
mod parallel;
mod patch;
mod policy;
mod registry;
mod scheduling;
pub mod secret_job;
mod service;
mod sink;
mod traffic;
mod workload;

use std::fmt::Write as _;
use std::rc::Rc;

use serde_json::Value;

use crate::diag::Diagnostic;
use crate::model::{self, Platform, Service};
use body::{Body, Detail};

pub use labels::metadata;
pub use labels::{MANAGED_BY, TIER_LABEL};
pub use mesh::{MERGED_METRICS_PORT, scrape_port};
pub use network::{api_server, member_policies};
pub use registry::{PullSecret, add_pull_secrets, pull_secret_refs};
pub(crate) use scheduling::{QUEUE_LABEL, queue_name};
pub use sink::Identity;
pub(crate) use workload::{
    NATIVE_SIDECAR_ANNOTATION, claim_spec, operated_container_security, placement,
    pod_security_context, resource_values, sized_claim_spec,
};

/// One object, or a file's contents, as YAML (no leading `---`): how
/// render writes the YAML files objects carry (Kong's declarative
/// configuration, Prometheus rules) and how export writes objects.
pub fn yaml(object: &Value) -> String {
    let mut text = String::new();
    write_yaml(object, &mut text);
    text
}

/// [`yaml`], into `out` (emptied first): how the stream writes each object
/// through one buffer that keeps its capacity.
fn write_yaml(object: &Value, out: &mut String) {
    out.clear();
    if !emit::write(object, out) {
        out.clear();
        match serde_saphyr::to_string(object) {
            Ok(text) => out.push_str(&text),
            Err(err) => {
                let _ = writeln!(out, "# cannot serialize: {err}");
            }
        }
    }
}

/// A JSON object of `entries`, in their order, the values moved in:
/// `json!` copies each value it is given by serializing it again, which
/// for labels, rules and pod templates was a good part of a render.
pub(crate) fn object<const N: usize>(entries: [(&str, Value); N]) -> Value {
    let mut map = serde_json::Map::with_capacity(N);
    for (key, value) in entries {
        map.insert(key.to_string(), value);
    }
    Value::Object(map)
}

/// Reads the files a spec names (configuration files, raw manifests),
/// relative to the spec; the only I/O rendering needs, kept outside the core.
/// Shared by the threads that render services side by side.
pub trait Assets: Sync {
    /// The text of `path`, or why it cannot be read.
    fn read(&self, path: &str) -> Result<String, String>;
}

/// The text of the file `reference` names, read through `assets`; when it
/// cannot be read, an error at the place the spec names it, and `None`.
fn read_named(
    platform: &Platform,
    assets: &dyn Assets,
    reference: &crate::model::FileRef,
    errors: &mut Vec<Diagnostic>,
) -> Option<String> {
    match assets.read(&reference.path) {
        Ok(text) => Some(text),
        Err(why) => {
            errors.push(
                Diagnostic::error(
                    "unreadable-file",
                    format!("cannot read `{}`: {why}", reference.path),
                )
                .at(&platform.file, reference.span, "named here")
                .help("paths are relative to the spec file"),
            );
            None
        }
    }
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

/// Where the objects of one builder go: their wave, tier and service.
#[derive(Debug, Clone, Copy)]
struct Place<'a> {
    wave: usize,
    tier: Option<&'a str>,
    service: Option<&'a str>,
}

impl<'a> Place<'a> {
    /// Where the platform's own objects go: wave 0, no tier, no service.
    const PLATFORM: Place<'static> = Place {
        wave: 0,
        tier: None,
        service: None,
    };

    /// Where the objects of `service` go.
    fn of(platform: &'a Platform, service: &'a Service) -> Self {
        Place {
            wave: service.wave,
            tier: Some(&platform.tier_of(service).name),
            service: Some(&service.name),
        }
    }

    /// `body`, made whole, as an object of this place.
    fn object(self, body: Body<'_>) -> Object {
        self.object_in(body, Detail::Whole)
    }

    /// `body`, made in `detail`, as an object of this place.
    fn object_in(self, body: Body<'_>, detail: Detail) -> Object {
        Object::new(self.wave, self.tier, self.service, body.make_in(detail))
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

/// Renders every object of `platform`, in apply order.
///
/// # Errors
/// Files that cannot be read or parsed, patches that do not apply, two
/// objects of one identity, and pods their namespace refuses.
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
    let mut all = sink::Collect::default();
    let (generated_secrets, pull_secrets) = produce(platform, assets, &mut all, &mut errors);
    errors.extend(origin::duplicates(
        &platform.file,
        &platform.services,
        &all.objects,
        &all.origins,
    ));
    errors.extend(admission::refusals(platform, &all.objects, &all.origins));
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut ordered = sink::Ordered::default();
    for object in all.objects {
        ordered.push(sink::Slot::of(&object), object);
    }
    Ok(RenderedSet {
        platform: platform.name.clone(),
        environment: platform.environment.clone(),
        objects: ordered.into_items().collect(),
        generated_secrets,
        pull_secrets,
    })
}

/// A render as `strata render` prints it: one YAML document per object, in
/// apply order. Each object is written as text as soon as it is made and
/// then dropped, so the set is never held as values.
#[derive(Debug, Clone, PartialEq)]
pub struct YamlStream {
    documents: Vec<String>,
    /// Secrets generated in the cluster, as in [`RenderedSet`].
    pub generated_secrets: Vec<GeneratedSecret>,
    /// Registry pull secrets the pods name, as in [`RenderedSet`].
    pub pull_secrets: Vec<PullSecret>,
}

impl YamlStream {
    /// How many objects (documents) it holds.
    pub fn len(&self) -> usize {
        self.documents.len()
    }

    /// Whether it holds no object.
    pub fn is_empty(&self) -> bool {
        self.documents.is_empty()
    }

    /// Its documents, each without the `---` line that begins it in the
    /// stream.
    pub fn documents(&self) -> impl Iterator<Item = &str> {
        self.documents.iter().map(String::as_str)
    }

    /// Writes the stream to `out`: what [`crate::export::stream`] makes of
    /// the same set in YAML.
    ///
    /// # Errors
    /// Those of `out`.
    pub fn write_to(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        for document in &self.documents {
            out.write_all(b"---\n")?;
            out.write_all(document.as_bytes())?;
        }
        Ok(())
    }
}

/// Renders every object of `platform` as YAML: [`render`], each object
/// turned into text as soon as it is made, on a second thread while the
/// next objects are made on this one.
///
/// # Errors
/// Those of [`render`], reported as it reports them.
pub fn yaml_stream(
    platform: &Platform,
    assets: &dyn Assets,
) -> Result<YamlStream, Vec<Diagnostic>> {
    /// Each object's text in apply order, and what makes a set invalid.
    #[derive(Default)]
    struct Texts {
        guard: sink::Guard,
        documents: sink::Ordered<String>,
        /// Where each object is written before it is kept, at its size.
        buffer: String,
    }
    impl Texts {
        fn add(&mut self, object: &Object) {
            self.guard.see(sink::Seen::of(object));
            write_yaml(&object.value, &mut self.buffer);
            self.documents
                .push(sink::Slot::of(object), self.buffer.as_str().into());
        }
    }
    /// Hands the objects to the writing thread a batch at a time, so that
    /// the threads meet once per batch rather than once per object.
    struct Batches {
        batch: Vec<Object>,
        to_writer: std::sync::mpsc::SyncSender<Vec<Object>>,
    }
    const BATCH: usize = 64;
    impl Batches {
        fn send(&mut self) {
            let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH));
            // The writer only stops early by panicking, which `join` reports.
            let _ = self.to_writer.send(batch);
        }
    }
    impl<'p> sink::Sink<'p> for Batches {
        type Part = Object;

        fn part(object: Object) -> Object {
            object
        }

        fn object(&mut self, object: Object, _: origin::Origin<'p>) {
            self.batch.push(object);
            if self.batch.len() == BATCH {
                self.send();
            }
        }
    }
    let mut errors = Vec::new();
    let (to_writer, from_maker) = std::sync::mpsc::sync_channel::<Vec<Object>>(16);
    let ((generated_secrets, pull_secrets), texts) = std::thread::scope(|scope| {
        let writer = scope.spawn(move || {
            let mut texts = Texts::default();
            for object in from_maker.into_iter().flatten() {
                texts.add(&object);
            }
            texts
        });
        let mut batches = Batches {
            batch: Vec::with_capacity(BATCH),
            to_writer,
        };
        let secrets = produce(platform, assets, &mut batches, &mut errors);
        batches.send();
        drop(batches);
        let texts = writer
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (secrets, texts)
    });
    if !errors.is_empty() || !texts.guard.clean() {
        // Reported where the spec makes each object: the whole set is
        // needed, and only then.
        return render(platform, assets).map(|set| YamlStream {
            documents: set.objects.iter().map(|o| yaml(&o.value)).collect(),
            generated_secrets: set.generated_secrets,
            pull_secrets: set.pull_secrets,
        });
    }
    Ok(YamlStream {
        documents: texts.documents.into_items().collect(),
        generated_secrets,
        pull_secrets,
    })
}

/// What [`check`] keeps of a render that passed: a hash of each object's
/// identity, and what the set asks to exist beside it.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    /// How many objects the render made.
    objects: usize,
    identities: sink::Identities,
    /// Secrets generated in the cluster, as in [`RenderedSet`].
    pub generated_secrets: Vec<GeneratedSecret>,
    /// Registry pull secrets the pods name, as in [`RenderedSet`].
    pub pull_secrets: Vec<PullSecret>,
}

impl Checked {
    /// How many objects the render made.
    pub fn len(&self) -> usize {
        self.objects
    }

    /// Whether the render made no object.
    pub fn is_empty(&self) -> bool {
        self.objects == 0
    }

    /// Whether the render made an object of the identity of `object`.
    pub fn holds(&self, object: &Object) -> bool {
        self.identities.contains(&sink::identity_hash(object))
    }
}

/// Renders `platform` as [`render`] does, but keeps only a hash of the
/// identity of each object: what `strata check` needs to refuse what
/// `render` refuses (a collision, a pod its namespace refuses, a file or
/// patch that fails) without holding the set.
///
/// # Errors
/// Those of [`render`], reported as it reports them.
pub fn check(platform: &Platform, assets: &dyn Assets) -> Result<Checked, Vec<Diagnostic>> {
    check_through(platform, assets, sink::Guard::default())
}

/// [`check`] through `guard`.
fn check_through(
    platform: &Platform,
    assets: &dyn Assets,
    mut guard: sink::Guard,
) -> Result<Checked, Vec<Diagnostic>> {
    let mut errors = Vec::new();
    let (generated_secrets, pull_secrets) = produce(platform, assets, &mut guard, &mut errors);
    if !errors.is_empty() || !guard.clean() {
        // The whole set decides, and reports at the spec's lines.
        return render(platform, assets).map(|set| Checked {
            objects: set.objects.len(),
            identities: set.objects.iter().map(sink::identity_hash).collect(),
            generated_secrets: set.generated_secrets,
            pull_secrets: set.pull_secrets,
        });
    }
    let identities = guard.into_identities();
    Ok(Checked {
        // Clean: no two identities of one hash.
        objects: identities.len(),
        identities,
        generated_secrets,
        pull_secrets,
    })
}

/// Makes every object of `platform` and hands it to `sink`, in the order
/// the duplicate check reads as first and second (namespaces and policies,
/// each service's own objects after its patches, the platform's, the raw
/// manifests, Secrets, Argo CD's Application); returns the secrets
/// generated in the cluster and the pull secrets the pods name.
///
/// The objects of services are made on several threads; each is finished
/// (its pull secrets noted, its Argo CD wave set) and cut down to the
/// sink's part on the thread that made it.
fn produce<'p, S: sink::Sink<'p>>(
    platform: &'p Platform,
    assets: &dyn Assets,
    sink: &mut S,
    errors: &mut Vec<Diagnostic>,
) -> (Vec<GeneratedSecret>, Vec<PullSecret>) {
    use origin::Origin;
    /// Hands objects over, noting the pull secrets they name until the
    /// raw manifests (applied as they are), and their wave for Argo CD.
    struct Hand<'p, 's, S> {
        sink: &'s mut S,
        pulls: Option<registry::Needed<'p>>,
        sync_waves: bool,
    }
    /// The parts of the objects a thread made, and the pull secrets they
    /// name.
    struct Made<'p, P> {
        parts: Vec<P>,
        pulls: registry::Needed<'p>,
    }
    impl<'p, S: sink::Sink<'p>> Hand<'p, '_, S> {
        /// Finishes `object` and hands it on.
        fn give(&mut self, mut object: Object, origin: Origin<'p>) {
            if let Some(pulls) = &mut self.pulls {
                pulls.add(&object);
            }
            if self.sync_waves {
                delivery::annotate_wave(&mut object);
            }
            self.sink.object(S::part(object), origin);
        }

        /// Finishes the objects of `bodies`, at `place`, as
        /// [`Hand::give`] does, on the thread that made them. A body the
        /// sink does not read is never made, and one it reads is made only
        /// in the detail it reads: a deferred body left unmade names no
        /// pull secret, one made in less detail names all its pod's, and
        /// its Argo CD wave changes no identity.
        fn finish(
            platform: &'p Platform,
            place: Place<'_>,
            bodies: Vec<Body<'_>>,
        ) -> Made<'p, S::Part> {
            let mut pulls = registry::Needed::new(platform);
            let parts = bodies
                .into_iter()
                .map(|body| {
                    if let Body::Deferred(head, _) = &body
                        && let Some(part) = S::part_of(head)
                    {
                        return part;
                    }
                    let mut object = place.object_in(body, S::DETAIL);
                    pulls.add(&object);
                    if platform.argocd.is_some() {
                        delivery::annotate_wave(&mut object);
                    }
                    S::part(object)
                })
                .collect();
            Made { parts, pulls }
        }

        /// Hands on what [`Hand::finish`] made.
        fn take(&mut self, made: Made<'p, S::Part>, origin: Origin<'p>) {
            if let Some(pulls) = &mut self.pulls {
                pulls.merge(made.pulls);
            }
            for part in made.parts {
                self.sink.object(part, origin);
            }
        }
    }
    let mut hand = Hand {
        sink,
        pulls: Some(registry::Needed::new(platform)),
        sync_waves: platform.argocd.is_some(),
    };
    for object in namespace::render(platform)
        .into_iter()
        .chain(network::render(platform))
    {
        hand.give(object, Origin::Platform);
    }
    let services = &platform.services;
    let lookup = network::Lookup::new(platform);
    parallel::in_order(
        services,
        |i, service| {
            Hand::<S>::finish(
                platform,
                Place::PLATFORM,
                network::service_policies(platform, &lookup, model::ServiceId(i), service),
            )
        },
        |_, policies| hand.take(policies, Origin::Platform),
    );
    parallel::in_order(
        services,
        |_, service| {
            let mut errors = Vec::new();
            let mut own = render_service(platform, service, assets, &mut errors);
            own.extend(
                backup::render(platform, service)
                    .into_iter()
                    .map(Body::Made),
            );
            let place = Place::of(platform, service);
            let own = patched(platform, service, place, own, &mut errors);
            (Hand::<S>::finish(platform, place, own), errors)
        },
        |service, (own, found)| {
            errors.extend(found);
            hand.take(own, Origin::Service(service));
        },
    );
    let platform_wide = scheduling::queues(platform)
        .into_iter()
        .chain(gateway::render(platform))
        .chain(mesh::render(platform))
        .chain(traffic::render(platform));
    for object in platform_wide {
        hand.give(object, Origin::Platform);
    }
    // Before the raw manifests, which are applied as they are.
    let pull_secrets = hand
        .pulls
        .take()
        .map(registry::Needed::into_secrets)
        .unwrap_or_default();
    for (object, from) in manifests::render(platform, assets, errors) {
        hand.give(object, from);
    }
    let (secrets, generated_secrets) = service::secrets(platform);
    for object in secrets
        .into_iter()
        .chain(secret_job::render(platform, &generated_secrets))
    {
        hand.give(object, Origin::Platform);
    }
    // Applied once, by hand: in no wave.
    if let Some(application) = delivery::render(platform) {
        hand.sink.object(S::part(application), Origin::Platform);
    }
    (generated_secrets, pull_secrets)
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
    let place = Place::of(platform, service);
    let own = render_service(platform, service, &NoAssets, &mut errors);
    let own = patched(platform, service, place, own, &mut errors);
    objects.extend(own.into_iter().map(|body| place.object(body)));
    admission::refusals(platform, &objects, &origins)
}

/// The objects of `service` once its patches are applied: with a patch,
/// every body is made (a patch may change any of them, or fail on any),
/// and each is handed on made.
fn patched<'a>(
    platform: &Platform,
    service: &Service,
    place: Place<'_>,
    bodies: Vec<Body<'a>>,
    errors: &mut Vec<Diagnostic>,
) -> Vec<Body<'a>> {
    if service.rare.patches.is_empty() {
        return bodies;
    }
    let mut objects: Vec<Object> = bodies.into_iter().map(|body| place.object(body)).collect();
    patch::apply(platform, service, &mut objects, errors);
    objects.into_iter().map(|o| Body::Made(o.value)).collect()
}

/// The objects of a service: its own (none for a blueprint service whose
/// operator runs its pods: the operator's objects replace them), then its
/// blueprint's.
fn render_service<'a>(
    platform: &'a Platform,
    service: &'a Service,
    assets: &dyn Assets,
    errors: &mut Vec<Diagnostic>,
) -> Vec<Body<'a>> {
    let own = Rc::new(labels::ServiceLabels::new(platform, service));
    // Read even when an operator runs the pods: a file that cannot be read
    // is reported all the same.
    let config = service::config_map(platform, service, &own, assets, errors);
    let mut bodies = Vec::new();
    if !service.tuning.as_ref().is_some_and(|t| t.mode.operated) {
        bodies.push(service::service_account(service, &own));
        bodies.extend(service::spawned_account(service, &own));
        bodies.extend(service::access(service, &own));
        bodies.extend(config);
        bodies.extend(service::env_config_map(service, &own));
        bodies.extend(service::services(service, &own));
        bodies.extend(workload::render(platform, service, &own));
        bodies.extend(policy::render(platform, service, &own));
    }
    blueprint_objects(platform, service, &mut bodies);
    bodies
}

/// Adds the objects of a blueprint service: the blueprint's own, its
/// companions' and its member groups' NetworkPolicies.
fn blueprint_objects(platform: &Platform, service: &Service, objects: &mut Vec<Body<'_>>) {
    let Some(tuning) = &service.tuning else {
        return;
    };
    let made = tuning.blueprint.objects(platform, service, tuning);
    objects.extend(made.into_iter().map(Body::Made));
    for companion in service.companions() {
        let made = service_objects(platform, &companion);
        objects.extend(made.into_iter().map(Body::Made));
    }
    if platform.network.policies {
        let made = network::member_policies(platform, service, tuning);
        objects.extend(made.into_iter().map(Body::Made));
    }
}

/// The objects of a service that the model does not list: a blueprint's
/// companion (a Redis Sentinel group, say), rendered like any service.
/// Its configuration files must be inline.
pub fn service_objects(platform: &Platform, service: &Service) -> Vec<Value> {
    let mut errors = Vec::new();
    render_service(platform, service, &NoAssets, &mut errors)
        .into_iter()
        .map(Body::make)
        .collect()
}

/// The labels of every object of a service.
pub fn service_labels(platform: &Platform, service: &Service) -> serde_json::Map<String, Value> {
    labels::service(platform, service)
}

#[cfg(test)]
mod tests;
