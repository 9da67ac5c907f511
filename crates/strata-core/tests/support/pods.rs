//! Which pods the policies are evaluated for, labelled as they will run:
//! a workload's pod template, the pods an operator runs for its custom
//! resources, a Job's pod, a service's companions.

use std::collections::BTreeMap;

use serde_json::Value;
use strata_core::model::{self, Platform};
use strata_core::render::Object;

use super::evaluator::Pod;

/// The pod of a service that serves its callers: its workload's template,
/// or the pod its operator runs.
pub(crate) fn pod_of(objects: &[Object], platform: &Platform, name: &str) -> Pod {
    let service = platform.service(name).unwrap();
    let workload = objects.iter().find(|o| {
        o.service.as_deref() == Some(name)
            && o.name() == name
            && ["Deployment", "StatefulSet", "DaemonSet"].contains(&o.kind())
    });
    match workload {
        Some(workload) => template_pod(workload, &service.namespace),
        None => {
            operator_pods(objects, name, &service.namespace)
                .into_iter()
                .next()
                .unwrap_or_else(|| panic!("no workload for {name}"))
                .1
        }
    }
}

/// The pods of a service's companions (a Sentinel group), by their workloads.
pub(crate) fn companion_pods(
    objects: &[Object],
    service: &model::Service,
) -> Vec<(model::Service, Pod)> {
    service
        .companions()
        .into_iter()
        .map(|companion| {
            let workload = objects
                .iter()
                .find(|o| {
                    o.kind() == "StatefulSet"
                        && o.name() == companion.name
                        && o.namespace() == service.namespace
                })
                .unwrap_or_else(|| panic!("no workload for {}", companion.name));
            let pod = template_pod(workload, &service.namespace);
            (companion, pod)
        })
        .collect()
}

/// The pod of the Job `name`, by its template's labels.
pub(crate) fn job_pod(objects: &[Object], name: &str, namespace: &str) -> Option<Pod> {
    objects
        .iter()
        .find(|o| o.kind() == "Job" && o.name() == name)
        .map(|o| template_pod(o, namespace))
}

/// A pod of a workload or Job in `namespace`, labelled by its pod template.
fn template_pod(object: &Object, namespace: &str) -> Pod {
    Pod {
        namespace: namespace.to_string(),
        labels: string_map(&object.value["spec"]["template"]["metadata"]["labels"]),
    }
}

/// The pods an operator runs for the custom resources rendered for
/// `name`, the pod serving clients first, labelled as the operator labels
/// them (from the operators' documentation, not from the renderer): the
/// labels a template asks for, then the operator's own.
pub(crate) fn operator_pods(objects: &[Object], name: &str, namespace: &str) -> Vec<(String, Pod)> {
    let of = |kind: &'static str| {
        objects
            .iter()
            .filter(move |o| o.service.as_deref() == Some(name) && o.kind() == kind)
            .map(|o| &o.value)
    };
    let pod = |labels| Pod {
        namespace: namespace.to_string(),
        labels,
    };
    let mut pods = Vec::new();
    for cluster in of("Cluster") {
        let cluster_name = cluster["metadata"]["name"].as_str().unwrap();
        let instance = format!("{cluster_name}-1");
        let labels = with(
            string_map(&cluster["spec"]["inheritedMetadata"]["labels"]),
            &[
                ("cnpg.io/cluster", cluster_name),
                ("cnpg.io/instanceName", &instance),
                ("cnpg.io/podRole", "instance"),
                ("cnpg.io/instanceRole", "primary"),
                ("role", "primary"),
                // Recommended labels of recent releases: they would replace
                // Strata's, were those inherited.
                ("app.kubernetes.io/name", "postgresql"),
                ("app.kubernetes.io/instance", cluster_name),
                ("app.kubernetes.io/managed-by", "cloudnative-pg"),
            ],
        );
        pods.push(("instance".to_string(), pod(labels)));
        let job = with(
            BTreeMap::new(),
            &[
                ("cnpg.io/cluster", cluster_name),
                ("cnpg.io/jobRole", "join"),
            ],
        );
        pods.push(("join job".to_string(), pod(job)));
    }
    for kafka in of("Kafka") {
        let cluster = kafka["metadata"]["name"].as_str().unwrap();
        let node_name = format!("{cluster}-kafka");
        let part_of = format!("strimzi-{cluster}");
        for pool in of("KafkaNodePool") {
            let mut labels = string_map(&pool["spec"]["template"]["pod"]["metadata"]["labels"]);
            labels.extend(string_map(
                &kafka["spec"]["kafka"]["template"]["pod"]["metadata"]["labels"],
            ));
            let labels = with(
                labels,
                &[
                    ("strimzi.io/cluster", cluster),
                    ("strimzi.io/kind", "Kafka"),
                    ("strimzi.io/name", &node_name),
                    (
                        "strimzi.io/pool-name",
                        pool["metadata"]["name"].as_str().unwrap(),
                    ),
                    ("strimzi.io/component-type", "kafka"),
                    ("strimzi.io/broker-role", "true"),
                    ("strimzi.io/controller-role", "true"),
                    ("app.kubernetes.io/name", "kafka"),
                    ("app.kubernetes.io/instance", cluster),
                    ("app.kubernetes.io/part-of", &part_of),
                    ("app.kubernetes.io/managed-by", "strimzi-cluster-operator"),
                ],
            );
            pods.push(("node".to_string(), pod(labels)));
        }
        let entity = format!("{cluster}-entity-operator");
        let labels = with(
            BTreeMap::new(),
            &[
                ("strimzi.io/cluster", cluster),
                ("strimzi.io/kind", "Kafka"),
                ("strimzi.io/name", &entity),
                ("strimzi.io/component-type", "entity-operator"),
                ("app.kubernetes.io/name", "entity-operator"),
                ("app.kubernetes.io/instance", cluster),
            ],
        );
        pods.push(("entity operator".to_string(), pod(labels)));
    }
    for chi in of("ClickHouseInstallation") {
        let installation = chi["metadata"]["name"].as_str().unwrap();
        let template = &chi["spec"]["templates"]["podTemplates"][0];
        let cluster = chi["spec"]["configuration"]["clusters"][0]["name"]
            .as_str()
            .unwrap();
        let labels = with(
            string_map(&template["metadata"]["labels"]),
            &[
                ("clickhouse.altinity.com/chi", installation),
                ("clickhouse.altinity.com/namespace", namespace),
                ("clickhouse.altinity.com/cluster", cluster),
                ("clickhouse.altinity.com/shard", "0"),
                ("clickhouse.altinity.com/replica", "0"),
                ("clickhouse.altinity.com/app", "chop"),
            ],
        );
        pods.push(("server".to_string(), pod(labels)));
    }
    for redis in of("RedisCluster") {
        let name = redis["metadata"]["name"].as_str().unwrap();
        for role in ["leader", "follower"] {
            let app = format!("{name}-{role}");
            let labels = with(
                BTreeMap::new(),
                &[
                    ("app", &app),
                    ("redis_setup_type", "cluster"),
                    ("role", role),
                ],
            );
            pods.push((role.to_string(), pod(labels)));
        }
    }
    for elasticsearch in of("Elasticsearch") {
        let name = elasticsearch["metadata"]["name"].as_str().unwrap();
        let set = &elasticsearch["spec"]["nodeSets"][0];
        let statefulset = format!("{name}-es-{}", set["name"].as_str().unwrap());
        let labels = with(
            string_map(&set["podTemplate"]["metadata"]["labels"]),
            &[
                ("elasticsearch.k8s.elastic.co/cluster-name", name),
                (
                    "elasticsearch.k8s.elastic.co/statefulset-name",
                    &statefulset,
                ),
                ("common.k8s.elastic.co/type", "elasticsearch"),
            ],
        );
        pods.push(("node".to_string(), pod(labels)));
    }
    for cluster in of("InnoDBCluster") {
        let name = cluster["metadata"]["name"].as_str().unwrap();
        // The MySQL Operator's Service `NAME` selects the routers.
        for component in ["mysqlrouter", "mysqld"] {
            let labels = with(
                BTreeMap::new(),
                &[
                    ("mysql.oracle.com/cluster", name),
                    ("component", component),
                    ("tier", "mysql"),
                ],
            );
            pods.push((component.to_string(), pod(labels)));
        }
    }
    for milvus in of("Milvus") {
        let name = milvus["metadata"]["name"].as_str().unwrap();
        // The proxies serve clients; every component carries the
        // instance's labels and its own `component`.
        for component in ["proxy", "mixcoord", "querynode", "datanode", "indexnode"] {
            let labels = with(
                string_map(&milvus["spec"]["components"]["podLabels"]),
                &[
                    ("app.kubernetes.io/name", "milvus"),
                    ("app.kubernetes.io/instance", name),
                    ("app.kubernetes.io/component", component),
                    ("app.kubernetes.io/managed-by", "milvus-operator"),
                ],
            );
            pods.push((component.to_string(), pod(labels)));
        }
        // Its etcd, a Helm release `NAME-etcd` of the Bitnami chart.
        let release = format!("{name}-etcd");
        let labels = with(
            BTreeMap::new(),
            &[
                ("app.kubernetes.io/name", "etcd"),
                ("app.kubernetes.io/instance", &release),
                ("app.kubernetes.io/component", "etcd"),
            ],
        );
        pods.push(("etcd".to_string(), pod(labels)));
    }
    for cluster in of("RayCluster") {
        let name = cluster["metadata"]["name"].as_str().unwrap();
        let head = &cluster["spec"]["headGroupSpec"];
        let worker = &cluster["spec"]["workerGroupSpecs"][0];
        let group = worker["groupName"].as_str().unwrap();
        for (role, spec, group) in [("head", head, "headgroup"), ("worker", worker, group)] {
            let labels = with(
                string_map(&spec["template"]["metadata"]["labels"]),
                &[
                    ("ray.io/cluster", name),
                    ("ray.io/node-type", role),
                    ("ray.io/group", group),
                    ("ray.io/is-ray-node", "yes"),
                    // KubeRay's own, over the template's.
                    ("app.kubernetes.io/name", "kuberay"),
                    ("app.kubernetes.io/created-by", "kuberay-operator"),
                ],
            );
            pods.push((role.to_string(), pod(labels)));
        }
    }
    for prometheus in of("Prometheus") {
        let name = prometheus["metadata"]["name"].as_str().unwrap();
        let labels = with(
            string_map(&prometheus["spec"]["podMetadata"]["labels"]),
            &[
                ("app.kubernetes.io/name", "prometheus"),
                ("app.kubernetes.io/managed-by", "prometheus-operator"),
                ("app.kubernetes.io/instance", name),
                ("prometheus", name),
                ("operator.prometheus.io/name", name),
                ("operator.prometheus.io/shard", "0"),
            ],
        );
        pods.push(("server".to_string(), pod(labels)));
    }
    for chk in of("ClickHouseKeeperInstallation") {
        let labels = with(
            BTreeMap::new(),
            &[
                (
                    "clickhouse-keeper.altinity.com/chk",
                    chk["metadata"]["name"].as_str().unwrap(),
                ),
                ("clickhouse-keeper.altinity.com/app", "chop"),
            ],
        );
        pods.push(("keeper".to_string(), pod(labels)));
    }
    pods
}

/// A JSON object of strings as a map.
fn string_map(value: &Value) -> BTreeMap<String, String> {
    value
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect()
}

/// `labels` with `pairs` set over them.
fn with(mut labels: BTreeMap<String, String>, pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    // The operator's own labels are written last: they win over any a
    // template asks for.
    for (k, v) in pairs {
        labels.insert((*k).to_string(), (*v).to_string());
    }
    labels
}
