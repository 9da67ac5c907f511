//! What the platform needs from the cluster, checked before the first
//! wave: storage classes, the kinds of its custom resources, ingress and
//! gateway classes, priority classes, the Secrets and ConfigMaps its pods
//! read, and room on the nodes for what its pods request. Each missing
//! thing is one error, instead of a wave waiting out its timeout.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;

use futures::stream::{self, StreamExt};
use serde_json::Value;
use strata_core::kind;
use strata_core::quantity::{Measure, Quantity};
use strata_core::render::{Object, RenderedSet};

use crate::cluster::{Cluster, ClusterError, ObjectId};
use crate::immutable::within;
use crate::inventory::{self, InventoryError};
use crate::readiness;
use crate::steps::group_of;

/// One thing the platform needs that the cluster lacks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing {
    /// What is missing: `StorageClass/local-path`, `free CPU`.
    pub what: String,
    /// The objects that need it.
    pub needed_by: Vec<ObjectId>,
    /// What to do about it.
    pub hint: String,
}

impl fmt::Display for Missing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const SHOWN: usize = 3;
        write!(f, "{}", self.what)?;
        if !self.needed_by.is_empty() {
            let mut names: Vec<String> = self
                .needed_by
                .iter()
                .take(SHOWN)
                .map(ToString::to_string)
                .collect();
            if self.needed_by.len() > SHOWN {
                names.push(format!("{} more", self.needed_by.len() - SHOWN));
            }
            write!(f, " (needed by {})", names.join(", "))?;
        }
        write!(f, ": {}", self.hint)
    }
}

/// Something an object needs to exist in the cluster.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Need {
    /// A cluster-scoped class: (api version, kind, name).
    Class(&'static str, &'static str, String),
    /// A kind served by discovery: (api version, kind).
    Kind(String, String),
    /// A Secret or ConfigMap: (kind, namespace, name).
    Reference(&'static str, String, String),
}

/// ConfigMaps the cluster puts in every namespace when it is created
/// (OpenShift's in its own): a new namespace will have them by the time its
/// pods start.
const IN_EVERY_NAMESPACE: &[&str] = &["kube-root-ca.crt", "openshift-service-ca.crt"];

impl fmt::Display for Need {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Need::Class(_, kind, name) => write!(f, "{kind} `{name}`"),
            Need::Kind(api_version, kind) => write!(f, "kind `{kind}` in `{api_version}`"),
            Need::Reference(kind, namespace, name) => {
                write!(f, "{kind} `{name}` in namespace `{namespace}`")
            }
        }
    }
}

/// The pod spec of a workload, job, cron job or pod.
pub(crate) fn pod_spec(value: &Value) -> Option<&Value> {
    let spec = match value["kind"].as_str()? {
        kind::POD => &value["spec"],
        kind::CRON_JOB => &value["spec"]["jobTemplate"]["spec"]["template"]["spec"],
        k if kind::is_workload(k) || k == kind::JOB || k == kind::REPLICA_SET => {
            &value["spec"]["template"]["spec"]
        }
        _ => return None,
    };
    spec.is_object().then_some(spec)
}

/// Every container of a pod spec, init containers included.
fn containers(spec: &Value) -> impl Iterator<Item = &Value> {
    ["initContainers", "containers"]
        .into_iter()
        .flat_map(|list| spec[list].as_array().into_iter().flatten())
}

/// The Secrets and ConfigMaps a pod spec reads and cannot start without
/// (references marked `optional` left out).
pub(crate) fn references(spec: &Value) -> Vec<(&'static str, String)> {
    let mut found = Vec::new();
    let mut add = |kind: &'static str, reference: &Value, name_key: &str| {
        if reference["optional"] != true
            && let Some(name) = reference[name_key].as_str()
        {
            found.push((kind, name.to_string()));
        }
    };
    for container in containers(spec) {
        for var in container["env"].as_array().into_iter().flatten() {
            add(kind::SECRET, &var["valueFrom"]["secretKeyRef"], "name");
            add(
                kind::CONFIG_MAP,
                &var["valueFrom"]["configMapKeyRef"],
                "name",
            );
        }
        for from in container["envFrom"].as_array().into_iter().flatten() {
            add(kind::SECRET, &from["secretRef"], "name");
            add(kind::CONFIG_MAP, &from["configMapRef"], "name");
        }
    }
    for volume in spec["volumes"].as_array().into_iter().flatten() {
        add(kind::SECRET, &volume["secret"], "secretName");
        add(kind::CONFIG_MAP, &volume["configMap"], "name");
        for source in volume["projected"]["sources"]
            .as_array()
            .into_iter()
            .flatten()
        {
            add(kind::SECRET, &source["secret"], "name");
            add(kind::CONFIG_MAP, &source["configMap"], "name");
        }
    }
    found
}

/// What `objects` need from the cluster that `set` does not render, with
/// the objects that need each. Secrets `apply` generates, registry pull
/// secrets (checked on their own) and the Secrets an operator makes for a
/// custom resource of the set (named after it: `pg-app` for Cluster `pg`)
/// are not needs.
fn needs(set: &RenderedSet, objects: &[&Object]) -> BTreeMap<Need, Vec<ObjectId>> {
    let rendered: HashSet<(&str, &str, &str)> = set
        .objects
        .iter()
        .map(|o| (o.kind(), o.namespace(), o.name()))
        .collect();
    let is_rendered =
        |kind: &str, namespace: &str, name: &str| rendered.contains(&(kind, namespace, name));
    let defined_kinds: BTreeSet<(&str, &str)> = set
        .objects
        .iter()
        .filter(|o| o.kind() == kind::CUSTOM_RESOURCE_DEFINITION)
        .map(|o| {
            (
                o.value["spec"]["group"].as_str().unwrap_or(""),
                o.value["spec"]["names"]["kind"].as_str().unwrap_or(""),
            )
        })
        .collect();
    // The custom resources of each namespace, found once rather than for
    // each Secret a pod reads.
    let mut custom: HashMap<&str, Vec<&str>> = HashMap::new();
    for o in &set.objects {
        if readiness::is_custom(o.api_version()) {
            custom.entry(o.namespace()).or_default().push(o.name());
        }
    }
    let made_by_operator = |namespace: &str, name: &str| {
        custom.get(namespace).is_some_and(|names| {
            names.iter().any(|cr| {
                name.strip_prefix(cr)
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with('-'))
            })
        })
    };
    let generated = |namespace: &str, name: &str| {
        set.generated_secrets
            .iter()
            .any(|s| s.name == name && s.namespaces.iter().any(|n| n == namespace))
            || set.pull_secrets.iter().any(|s| s.name == name)
    };
    let mut out: BTreeMap<Need, Vec<ObjectId>> = BTreeMap::new();
    for object in objects {
        let id = ObjectId::of(&object.value);
        let mut need = |n: Need| {
            let by = out.entry(n).or_default();
            if by.last() != Some(&id) {
                by.push(id.clone());
            }
        };
        let value = &object.value;
        let class = |name: &Value| name.as_str().filter(|n| !n.is_empty()).map(str::to_string);
        let mut storage = |name: Option<String>| {
            if let Some(name) = name
                && !is_rendered(kind::STORAGE_CLASS, "", &name)
            {
                need(Need::Class("storage.k8s.io/v1", kind::STORAGE_CLASS, name));
            }
        };
        match object.kind() {
            kind::PERSISTENT_VOLUME_CLAIM => storage(class(&value["spec"]["storageClassName"])),
            kind::STATEFUL_SET => {
                for template in value["spec"]["volumeClaimTemplates"]
                    .as_array()
                    .into_iter()
                    .flatten()
                {
                    storage(class(&template["spec"]["storageClassName"]));
                }
            }
            kind::INGRESS => {
                if let Some(name) = class(&value["spec"]["ingressClassName"])
                    && !is_rendered("IngressClass", "", &name)
                {
                    need(Need::Class("networking.k8s.io/v1", "IngressClass", name));
                }
            }
            kind::GATEWAY if group_of(object.api_version()) == "gateway.networking.k8s.io" => {
                if let Some(name) = class(&value["spec"]["gatewayClassName"])
                    && !is_rendered("GatewayClass", "", &name)
                {
                    need(Need::Class(
                        "gateway.networking.k8s.io/v1",
                        "GatewayClass",
                        name,
                    ));
                }
            }
            _ => {}
        }
        if readiness::is_custom(object.api_version())
            && !defined_kinds.contains(&(group_of(object.api_version()), object.kind()))
        {
            need(Need::Kind(
                object.api_version().to_string(),
                object.kind().to_string(),
            ));
        }
        let Some(spec) = pod_spec(value) else {
            continue;
        };
        if let Some(name) = class(&spec["priorityClassName"])
            && !name.starts_with("system-")
            && !is_rendered(kind::PRIORITY_CLASS, "", &name)
        {
            need(Need::Class(
                "scheduling.k8s.io/v1",
                kind::PRIORITY_CLASS,
                name,
            ));
        }
        let namespace = object.namespace();
        for (kind, name) in references(spec) {
            if is_rendered(kind, namespace, &name)
                || (kind == kind::CONFIG_MAP && IN_EVERY_NAMESPACE.contains(&name.as_str()))
                || (kind == kind::SECRET
                    && (generated(namespace, &name) || made_by_operator(namespace, &name)))
            {
                continue;
            }
            need(Need::Reference(kind, namespace.to_string(), name));
        }
    }
    out
}

/// CPU and memory (thousandths) the pods of `objects` request, each
/// workload's pod times its replicas; DaemonSets and CronJobs left out (one
/// pod per node, pods that come and go).
fn requested(objects: &[&Object]) -> (u128, u128) {
    let mut total = (0u128, 0u128);
    for object in objects {
        let replicas = match object.kind() {
            kind::DAEMON_SET | kind::CRON_JOB => continue,
            kind::JOB => object.value["spec"]["parallelism"].as_u64().unwrap_or(1),
            _ => object.value["spec"]["replicas"].as_u64().unwrap_or(1),
        };
        let Some(spec) = pod_spec(&object.value) else {
            continue;
        };
        let (cpu, memory) = pod_requests(spec);
        total.0 += cpu * u128::from(replicas);
        total.1 += memory * u128::from(replicas);
    }
    total
}

/// What one pod requests: its containers and sidecars (init containers
/// that keep running); a plain init container only while the others wait.
fn pod_requests(spec: &Value) -> (u128, u128) {
    let request = |c: &Value, key: &str, measure: Measure| {
        c["resources"]["requests"][key]
            .as_str()
            .and_then(|q| Quantity::parse(q, measure).ok())
            .map_or(0, Quantity::milli)
    };
    let mut running = (0, 0);
    let mut init = (0u128, 0u128);
    for container in spec["containers"].as_array().into_iter().flatten() {
        running.0 += request(container, "cpu", Measure::Cpu);
        running.1 += request(container, "memory", Measure::Bytes);
    }
    for container in spec["initContainers"].as_array().into_iter().flatten() {
        let cpu = request(container, "cpu", Measure::Cpu);
        let memory = request(container, "memory", Measure::Bytes);
        if container["restartPolicy"] == "Always" {
            running.0 += cpu;
            running.1 += memory;
        } else {
            init = (init.0.max(cpu), init.1.max(memory));
        }
    }
    (running.0.max(init.0), running.1.max(init.1))
}

/// Whether pods without tolerations may land on `node`.
fn schedulable(node: &Value) -> bool {
    node["spec"]["unschedulable"] != true
        && !node["spec"]["taints"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|t| t["effect"] == "NoSchedule" || t["effect"] == "NoExecute")
}

/// Checks what `objects` (of `set`) need, `concurrency` requests at a
/// time: every missing thing, and notes on what the caller may not look at
/// (RBAC), which the apply goes on without. Both come in the order of the
/// needs, however the answers race.
pub(super) async fn check(
    cluster: &Cluster,
    set: &RenderedSet,
    objects: &[&Object],
    concurrency: usize,
) -> Result<(Vec<Missing>, Vec<String>), ClusterError> {
    let mut missing = Vec::new();
    let mut unchecked = Vec::new();
    let checked: Vec<_> = stream::iter(needs(set, objects))
        .map(|(need, needed_by)| async move {
            let found = check_need(cluster, &need).await;
            (need, needed_by, found)
        })
        .buffered(concurrency.max(1))
        .collect()
        .await;
    for (need, needed_by, found) in checked {
        match found {
            Ok(Some(found)) => missing.push(Missing { needed_by, ..found }),
            Ok(None) => {}
            Err(ClusterError::Api {
                code: 403, message, ..
            }) => unchecked.push(format!("preflight could not check {need}: {message}")),
            Err(e) => return Err(e),
        }
    }
    match check_shared(cluster, set, objects).await {
        Ok(found) => missing.extend(found),
        Err(ClusterError::Api {
            code: 403, message, ..
        }) => unchecked.push(format!(
            "preflight could not check cluster-scoped objects other platforms share: {message}"
        )),
        Err(e) => return Err(e),
    }
    missing.extend(check_room(cluster, set, objects).await?);
    Ok((missing, unchecked))
}

/// Cluster-scoped objects another platform's latest revision also holds,
/// defined differently there: applying would change them under it (or be
/// refused, for fields fixed at creation). Reported by name and holder.
async fn check_shared(
    cluster: &Cluster,
    set: &RenderedSet,
    objects: &[&Object],
) -> Result<Vec<Missing>, ClusterError> {
    let shared: Vec<&&Object> = objects
        .iter()
        .filter(|o| o.namespace().is_empty() && o.kind() != kind::NAMESPACE)
        .collect();
    if shared.is_empty() {
        return Ok(Vec::new());
    }
    let holders =
        match inventory::shared_holders(cluster, &set.platform, set.environment.as_deref()).await {
            Ok(holders) => holders,
            Err(InventoryError::Cluster(e)) => return Err(e),
            // A damaged revision: reported when that platform is applied.
            Err(_) => return Ok(Vec::new()),
        };
    let mut found = Vec::new();
    for object in shared {
        let id = ObjectId::of(&object.value);
        let Some(who) = holders.get(&id) else {
            continue;
        };
        let Some(live) = cluster.get(&id).await? else {
            continue;
        };
        let fields = differing(&live, &object.value);
        if !fields.is_empty() {
            found.push(Missing {
                what: format!("{id} is also rendered by {}, defined differently", who.join(", ")),
                needed_by: Vec::new(),
                hint: format!(
                    "{} differ; render the same definition in every platform that shares it, or give this one a name of its own",
                    fields.join(", ")
                ),
            });
        }
    }
    Ok(found)
}

/// The top-level fields of `desired` (metadata aside) whose values `live`
/// does not have.
fn differing(live: &Value, desired: &Value) -> Vec<String> {
    desired
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(k, _)| !matches!(k.as_str(), "apiVersion" | "kind" | "metadata" | "status"))
        .filter(|(k, v)| !within(v, &live[k.as_str()]))
        .map(|(k, _)| k.clone())
        .collect()
}

/// `Some` when the cluster lacks `need`.
async fn check_need(cluster: &Cluster, need: &Need) -> Result<Option<Missing>, ClusterError> {
    let absent = |what: String, hint: String| {
        Some(Missing {
            what,
            needed_by: Vec::new(),
            hint,
        })
    };
    match need {
        Need::Class(api_version, kind, name) => {
            let id = ObjectId {
                api_version: (*api_version).into(),
                kind: (*kind).into(),
                namespace: String::new(),
                name: name.clone(),
            };
            match cluster.get(&id).await {
                // A kind not served at all (GatewayClass without the
                // Gateway API): the check of the Gateway's kind names it.
                Ok(Some(_)) | Err(ClusterError::UnknownKind { .. }) => Ok(None),
                Ok(None) => {
                    let existing: Vec<String> = cluster
                        .list(api_version, kind, "", "")
                        .await
                        .unwrap_or_default()
                        .iter()
                        .filter_map(|c| c["metadata"]["name"].as_str().map(str::to_string))
                        .collect();
                    let has = if existing.is_empty() {
                        format!("the cluster has no {kind}")
                    } else {
                        format!("the cluster has {}", existing.join(", "))
                    };
                    let what_to_do = match *kind {
                        kind::STORAGE_CLASS => {
                            "create it, or name one the cluster has in the spec's `storage` class"
                        }
                        kind::PRIORITY_CLASS => "create it, or name one the cluster has",
                        _ => "install the controller that provides it, or name one the cluster has",
                    };
                    Ok(absent(
                        format!("{kind} `{name}` does not exist"),
                        format!("{what_to_do} ({has})"),
                    ))
                }
                Err(e) => Err(e),
            }
        }
        Need::Kind(api_version, kind) => {
            let id = ObjectId {
                api_version: api_version.clone(),
                kind: kind.clone(),
                namespace: String::new(),
                name: String::new(),
            };
            match cluster.kind(&id).await {
                Ok(_) => Ok(None),
                Err(ClusterError::UnknownKind { .. }) => {
                    let hint = match readiness::operator_of(api_version, kind) {
                        Some(operator) => format!(
                            "install the `{operator}` operator and its CRDs (`operators: {{ {operator}: {{ installed: true }} }}` says it is already there), or let a tier install it (`operators: {{ {operator}: {{ tier: NAME }} }}`)"
                        ),
                        None => "install its CRD (or the operator that brings it) first, or check `apiVersion`".into(),
                    };
                    Ok(absent(
                        format!("the cluster does not serve kind `{kind}` in `{api_version}`"),
                        hint,
                    ))
                }
                Err(e) => Err(e),
            }
        }
        Need::Reference(kind, namespace, name) => {
            let id = ObjectId {
                api_version: "v1".into(),
                kind: (*kind).into(),
                namespace: namespace.clone(),
                name: name.clone(),
            };
            match cluster.get(&id).await {
                Ok(Some(_)) => Ok(None),
                Ok(None) => Ok(absent(
                    format!("{kind} `{name}` does not exist in namespace `{namespace}`"),
                    if *kind == kind::SECRET {
                        format!(
                            "the platform neither renders nor generates it: create it (`kubectl create secret generic {name} -n {namespace} --from-literal=KEY=VALUE`), or let apply generate it (`secrets: {{ {name}: {{ generate: [KEY] }} }}`)"
                        )
                    } else {
                        format!(
                            "the platform does not render it: create it (`kubectl create configmap {name} -n {namespace} --from-file=FILE`)"
                        )
                    },
                )),
                Err(e) => Err(e),
            }
        }
    }
}

/// Whether the schedulable nodes have the CPU and memory the platform's
/// pods request free, counting the platform's own running pods as free
/// (they are replaced, not added). Skipped when nodes cannot be listed.
async fn check_room(
    cluster: &Cluster,
    set: &RenderedSet,
    objects: &[&Object],
) -> Result<Vec<Missing>, ClusterError> {
    let Ok(nodes) = cluster.list("v1", "Node", "", "").await else {
        return Ok(Vec::new());
    };
    let eligible: Vec<&Value> = nodes.iter().filter(|n| schedulable(n)).collect();
    if nodes.is_empty() {
        return Ok(Vec::new());
    }
    let names: BTreeSet<&str> = eligible
        .iter()
        .filter_map(|n| n["metadata"]["name"].as_str())
        .collect();
    let quantity = |v: &Value, measure| {
        v.as_str()
            .and_then(|q| Quantity::parse(q, measure).ok())
            .map_or(0, Quantity::milli)
    };
    let mut free = eligible.iter().fold((0u128, 0u128), |(c, m), n| {
        (
            c + quantity(&n["status"]["allocatable"]["cpu"], Measure::Cpu),
            m + quantity(&n["status"]["allocatable"]["memory"], Measure::Bytes),
        )
    });
    let pods = cluster
        .list("v1", kind::POD, "", "")
        .await
        .unwrap_or_default();
    for pod in &pods {
        let labels = &pod["metadata"]["labels"];
        let ours = labels["app.kubernetes.io/part-of"] == set.platform.as_str();
        let done = matches!(
            pod["status"]["phase"].as_str(),
            Some("Succeeded" | "Failed")
        );
        let here = pod["spec"]["nodeName"]
            .as_str()
            .is_some_and(|n| names.contains(n));
        if ours || done || !here {
            continue;
        }
        let (cpu, memory) = pod_requests(&pod["spec"]);
        free = (free.0.saturating_sub(cpu), free.1.saturating_sub(memory));
    }
    let want = requested(objects);
    let mut missing = Vec::new();
    let nodes_text = format!("{} schedulable node(s)", eligible.len());
    if want.0 > free.0 {
        missing.push(Missing {
            what: "free CPU".into(),
            needed_by: Vec::new(),
            hint: format!(
                "the platform's pods request {} CPU, the {nodes_text} have {} free; add nodes, or lower `resources` or `replicas` (`strata plan` shows the totals)",
                Quantity::from_milli(want.0).display(Measure::Cpu),
                Quantity::from_milli(free.0).display(Measure::Cpu)
            ),
        });
    }
    if want.1 > free.1 {
        missing.push(Missing {
            what: "free memory".into(),
            needed_by: Vec::new(),
            hint: format!(
                "the platform's pods request {} of memory, the {nodes_text} have {} free; add nodes, or lower `resources` or `replicas` (`strata plan` shows the totals)",
                Quantity::from_milli(want.1).display(Measure::Bytes),
                Quantity::from_milli(free.1).display(Measure::Bytes)
            ),
        });
    }
    Ok(missing)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use strata_core::render::GeneratedSecret;

    fn object(value: Value) -> Object {
        Object {
            wave: 1,
            tier: None,
            service: None,
            value,
        }
    }

    fn set_of(values: Vec<Value>) -> RenderedSet {
        RenderedSet {
            platform: "shop".into(),
            environment: None,
            objects: values.into_iter().map(object).collect(),
            generated_secrets: vec![GeneratedSecret {
                name: "db-secret".into(),
                namespaces: vec!["shop".into()],
                keys: vec!["password".into()],
                secret_type: "Opaque".into(),
            }],
            pull_secrets: Vec::new(),
        }
    }

    fn needs_of(set: &RenderedSet) -> Vec<String> {
        let objects: Vec<&Object> = set.objects.iter().collect();
        needs(set, &objects)
            .into_iter()
            .map(|(need, by)| {
                let by: Vec<String> = by.iter().map(ToString::to_string).collect();
                format!("{need:?} <- {}", by.join(","))
            })
            .collect()
    }

    #[test]
    fn needs_are_what_is_named_and_not_rendered() {
        let api = json!({"apiVersion": "apps/v1", "kind": kind::DEPLOYMENT, "metadata": {"name": "api", "namespace": "shop"},
            "spec": {"template": {"spec": {"priorityClassName": "critical", "containers": [{"name": "api",
                "env": [{"name": "A", "valueFrom": {"secretKeyRef": {"name": "db-secret", "key": "password"}}},
                        {"name": "B", "valueFrom": {"secretKeyRef": {"name": "stripe", "key": "key"}}},
                        {"name": "C", "valueFrom": {"secretKeyRef": {"name": "maybe", "key": "k", "optional": true}}},
                        {"name": "D", "valueFrom": {"secretKeyRef": {"name": "pg-app", "key": "uri"}}}],
                "envFrom": [{"configMapRef": {"name": "settings"}}]}],
                "volumes": [{"name": "c", "configMap": {"name": "rendered"}},
                    {"name": "t", "projected": {"sources": [{"configMap": {"name": "kube-root-ca.crt"}}]}}]}}}});
        let db = json!({"apiVersion": "apps/v1", "kind": kind::STATEFUL_SET, "metadata": {"name": "db", "namespace": "shop"},
            "spec": {"volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {"storageClassName": "local-path"}}],
                "template": {"spec": {"priorityClassName": "system-cluster-critical", "containers": []}}}});
        let claim = json!({"apiVersion": "v1", "kind": kind::PERSISTENT_VOLUME_CLAIM, "metadata": {"name": "files", "namespace": "shop"}, "spec": {"storageClassName": "fast-ssd"}});
        let class = json!({"apiVersion": "storage.k8s.io/v1", "kind": kind::STORAGE_CLASS, "metadata": {"name": "fast-ssd"}});
        let rendered = json!({"apiVersion": "v1", "kind": kind::CONFIG_MAP, "metadata": {"name": "rendered", "namespace": "shop"}});
        let pg = json!({"apiVersion": "postgresql.cnpg.io/v1", "kind": "Cluster", "metadata": {"name": "pg", "namespace": "shop"}});
        let ingress = json!({"apiVersion": "networking.k8s.io/v1", "kind": kind::INGRESS, "metadata": {"name": "web", "namespace": "shop"}, "spec": {"ingressClassName": "nginx"}});
        let set = set_of(vec![api, db, claim, class, rendered, pg, ingress]);
        assert_eq!(
            needs_of(&set),
            [
                "Class(\"networking.k8s.io/v1\", \"IngressClass\", \"nginx\") <- Ingress/shop/web",
                "Class(\"scheduling.k8s.io/v1\", \"PriorityClass\", \"critical\") <- Deployment/shop/api",
                "Class(\"storage.k8s.io/v1\", \"StorageClass\", \"local-path\") <- StatefulSet/shop/db",
                "Kind(\"postgresql.cnpg.io/v1\", \"Cluster\") <- Cluster/shop/pg",
                "Reference(\"ConfigMap\", \"shop\", \"settings\") <- Deployment/shop/api",
                "Reference(\"Secret\", \"shop\", \"stripe\") <- Deployment/shop/api",
            ]
        );
    }

    #[test]
    fn requests_count_replicas_sidecars_and_the_largest_init_step() {
        let deploy = json!({"kind": kind::DEPLOYMENT, "spec": {"replicas": 3, "template": {"spec": {
            "initContainers": [
                {"name": "migrate", "resources": {"requests": {"cpu": "2", "memory": "64Mi"}}},
                {"name": "proxy", "restartPolicy": "Always", "resources": {"requests": {"cpu": "100m", "memory": "32Mi"}}}],
            "containers": [{"name": "api", "resources": {"requests": {"cpu": "250m", "memory": "128Mi"}}}]}}}});
        let daemon = json!({"kind": kind::DAEMON_SET, "spec": {"template": {"spec": {"containers": [{"name": "a", "resources": {"requests": {"cpu": "1"}}}]}}}});
        let set = set_of(vec![deploy, daemon]);
        let objects: Vec<&Object> = set.objects.iter().collect();
        // Per pod: max(350m, 2 CPU) and max(160Mi, 64Mi).
        assert_eq!(requested(&objects), (6000, 3 * 160 * 1024 * 1024 * 1000));
    }

    #[test]
    fn tainted_and_cordoned_nodes_take_no_pods() {
        assert!(schedulable(&json!({"spec": {}})));
        assert!(schedulable(
            &json!({"spec": {"taints": [{"effect": "PreferNoSchedule"}]}})
        ));
        assert!(!schedulable(&json!({"spec": {"unschedulable": true}})));
        assert!(!schedulable(
            &json!({"spec": {"taints": [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]}})
        ));
    }
}
