//! Ray: a `RayCluster` of the KubeRay operator, a head node and one group
//! of workers (the service's replicas, size, GPUs and node pool), for
//! services that submit jobs to it through the head's job API.

use serde_json::{Value, json};

use super::recipe::{self, Size, resources};
use crate::model::{
    Auth, Blueprint, BlueprintInfo, Members, Mode, Platform, PodGroup, Recipe, Service, Supplied,
    Tuning,
};

/// The `ray` blueprint.
pub(super) struct Ray;

impl Blueprint for Ray {
    fn info(&self) -> &'static BlueprintInfo {
        &INFO
    }

    fn recipe(&self, tuning: &Tuning) -> Recipe {
        recipe(tuning)
    }

    fn objects(&self, platform: &Platform, service: &Service, tuning: &Tuning) -> Vec<Value> {
        objects(platform, service, tuning)
    }

    fn pods(&self, service: &Service, tuning: &Tuning) -> Vec<PodGroup> {
        pods(service, tuning)
    }
}

static INFO: BlueprintInfo = BlueprintInfo {
    name: "ray",
    summary: "A Ray cluster run by the KubeRay operator, jobs submitted through its head's job API",
    modes: &[Mode::new(
            "kuberay",
            "a `RayCluster` of the KubeRay operator: a head (fixed size, no tasks scheduled on it) and a worker group of `replicas` pods (2 by default) with the service's resources, `gpu` and `pool`; the head's Service `NAME-head-svc` (GCS 6379, dashboard and job API 8265, Ray Client 10001); pods as ServiceAccount `NAME`, without an API token; in the mesh, a headless Service `NAME-nodes` over every node, so that calls between nodes go through mTLS (install the operator with `ENABLE_INIT_CONTAINER_INJECTION=false` there: an init container cannot reach the head before the sidecar starts)",
            2,
        )
        .operator("kuberay-operator")
        .operated()
        // With batch scheduling on, KubeRay hands its pods to `scheduler:`.
        .with_operated_scheduling()],
    version: "2.40.0",
    takes: &[],
    options: &[],
    auth: Auth::none("none: the dashboard, job API, GCS and Ray Client answer any pod the NetworkPolicies admit"),
};

/// The head: control processes and the job API only (`num-cpus: 0`).
const HEAD_SIZE: Size = Size {
    requests: ("1", "4Gi"),
    limits: ("2", "8Gi"),
};

/// The label KubeRay gives every pod of a cluster.
const CLUSTER_LABEL: &str = "ray.io/cluster";
/// The label telling a head from a worker.
const NODE_TYPE_LABEL: &str = "ray.io/node-type";
/// The worker group's name.
const WORKER_GROUP: &str = "workers";

/// The Service KubeRay makes in front of the head.
fn head_service(service: &str) -> String {
    format!("{service}-head-svc")
}

fn recipe(tuning: &Tuning) -> Recipe {
    let head = head_service(&tuning.service);
    // Clients submit jobs to the job API (`ray job submit --address URL`).
    let mut exports = recipe::endpoint(tuning, &head, "http", 8265);
    exports.push((
        "client".into(),
        format!("ray://{}:10001", tuning.host(&head)),
    ));
    Recipe {
        spec: json!({
            "image": recipe::image("rayproject/ray", tuning),
            // A cluster whose nodes talk among themselves, as members.
            "kind": "stateful",
            "ports": { "dashboard": { "port": 8265, "protocol": "http" }, "gcs": { "port": 6379, "protocol": "tcp" }, "client": { "port": 10001, "protocol": "tcp" } },
            "resources": resources("2", "8Gi", "4", "16Gi"),
        }),
        supplied: Supplied {
            exports,
            // Callers reach the head; every node reaches every other on
            // any port (object transfers, workers' dynamic ports); the
            // operator reads the head's dashboard (jobs, serve status).
            pods: Some(crate::model::label_map(&[
                (CLUSTER_LABEL, &tuning.service),
                (NODE_TYPE_LABEL, "head"),
            ])),
            members: vec![
                Members::new("members", &[(CLUSTER_LABEL, &tuning.service)]).operated(&[8265]),
            ],
            ..Supplied::default()
        },
    }
}

/// The workers (the service's replicas, first, as `plan` shows them), then
/// the head.
fn pods(service: &Service, _: &Tuning) -> Vec<PodGroup> {
    let head = PodGroup {
        name: format!("{}-head", service.name),
        pods: 1,
        resources: HEAD_SIZE.resources(),
        gpu: 0,
        pvcs: 0,
        storage: crate::quantity::Quantity::default(),
        pool: None,
    };
    let mut workers = PodGroup::of(service);
    workers.name = format!("{}-{WORKER_GROUP}", service.name);
    vec![workers, head]
}

/// A Ray node's pod template: the service's labels and ServiceAccount, the
/// restricted profile (the image's `ray` user writes to its home, so the
/// root filesystem stays writable), shared memory for the object store.
fn template(platform: &Platform, service: &Service, container: Value) -> Value {
    let mut container = container;
    container["image"] = json!(service.image);
    container["securityContext"] = json!({
        "allowPrivilegeEscalation": false,
        "capabilities": { "drop": ["ALL"] },
    });
    container["volumeMounts"] = json!([{ "name": "dshm", "mountPath": "/dev/shm" }]);
    json!({
        "metadata": { "labels": crate::render::service_labels(platform, service) },
        "spec": {
            "serviceAccountName": service.name,
            "automountServiceAccountToken": false,
            "securityContext": { "runAsNonRoot": true, "runAsUser": 1000, "runAsGroup": 100, "fsGroup": 100, "seccompProfile": { "type": "RuntimeDefault" } },
            "containers": [container],
            "volumes": [{ "name": "dshm", "emptyDir": { "medium": "Memory" } }],
        },
    })
}

/// The `RayCluster`, the ServiceAccount its pods run as and, in the mesh,
/// the headless Service naming every node.
fn objects(platform: &Platform, service: &Service, tuning: &Tuning) -> Vec<Value> {
    let head = template(
        platform,
        service,
        json!({
            "name": "ray-head",
            "ports": [
                { "name": "gcs-server", "containerPort": 6379 },
                { "name": "dashboard", "containerPort": 8265 },
                { "name": "client", "containerPort": 10001 },
            ],
            "resources": HEAD_SIZE.json(),
        }),
    );
    let mut worker = template(
        platform,
        service,
        json!({ "name": "ray-worker", "resources": crate::render::resource_values(&service.resources, service.rare.gpu) }),
    );
    if let Some(scheduling) = recipe::pool_scheduling(platform, service) {
        for (key, value) in scheduling.as_object().into_iter().flatten() {
            worker["spec"][key] = value.clone();
        }
    }
    let mut head = head;
    crate::render::add_pull_secrets(platform, &mut head["spec"]);
    crate::render::add_pull_secrets(platform, &mut worker["spec"]);
    let mut objects = vec![recipe::setup_account(platform, service, &service.name)];
    if platform.in_mesh(&service.namespace) {
        // Nodes dial each other's pod addresses; under STRICT mTLS the
        // sidecars only wrap those calls in mTLS for addresses a Service
        // names: a headless Service over every node of the cluster.
        let mut metadata =
            crate::render::metadata(platform, service, &format!("{}-nodes", service.name));
        // Its pods are KubeRay's, which no workload of this set templates.
        metadata["annotations"] =
            json!({ crate::finding::IGNORE_ANNOTATION: "service-selects-nothing" });
        objects.push(json!({
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": metadata,
            "spec": {
                "clusterIP": "None",
                "publishNotReadyAddresses": true,
                "selector": { CLUSTER_LABEL: service.name },
            },
        }));
    }
    let mut metadata = crate::render::metadata(platform, service, &service.name);
    if let Some(scheduler) = service.rare.scheduler {
        // KubeRay (batch scheduling on) hands the cluster's pods, as one
        // gang, to this scheduler, in the namespace's queue.
        let queue = crate::render::queue_name(&service.namespace);
        metadata["labels"]["ray.io/scheduler-name"] = json!(scheduler.as_str());
        metadata["labels"][crate::render::QUEUE_LABEL] = json!(queue);
    }
    objects.push(json!({
        "apiVersion": "ray.io/v1",
        "kind": "RayCluster",
        "metadata": metadata,
        "spec": {
            "rayVersion": tuning.version,
            "enableInTreeAutoscaling": false,
            "headGroupSpec": {
                "serviceType": "ClusterIP",
                // No tasks on the head: it keeps the GCS and job API responsive.
                "rayStartParams": { "dashboard-host": "0.0.0.0", "num-cpus": "0" },
                "template": head,
            },
            "workerGroupSpecs": [{
                "groupName": WORKER_GROUP,
                "replicas": service.replicas,
                "minReplicas": service.replicas,
                "maxReplicas": service.replicas,
                "rayStartParams": {},
                "template": worker,
            }],
        },
    }));
    objects
}
