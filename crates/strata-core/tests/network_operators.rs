//! Pods that operators run, and their companions: labelled as the
//! operators label them, they are reached by the services that call them,
//! by their own group and their operator, and by no one else.

mod support;

use std::collections::BTreeMap;

use strata_core::render::{self, Assets};
use strata_core::source::SourceFile;
use strata_core::spec;
use support::evaluator::{Pod, allowed};
use support::pods::{companion_pods, job_pod, operator_pods, pod_of};
use support::{example, network_policies};

/// Raw manifests standing in for an operator's install files.
struct OperatorManifests;

impl Assets for OperatorManifests {
    fn read(&self, _: &str) -> Result<String, String> {
        Ok("apiVersion: v1\nkind: ConfigMap\nmetadata: { name: operator-config, namespace: cnpg-system }\ndata: {}\n".into())
    }
}

#[test]
fn operator_pods_and_companions_serve_clients_of_another_namespace() {
    let text = "platform: t
operators:
  cloudnative-pg: { tier: operators }
  strimzi: { installed: true }
  clickhouse-operator: { installed: true }
  redis-operator: { installed: true }
  eck-operator: { installed: true }
  kuberay-operator: { installed: true }
tiers:
  - name: operators
    namespace: cnpg-system
    manifests: [cnpg.yaml]
  - name: data
    namespace: data
    after: [operators]
    services:
      pg: { blueprint: postgresql, mode: ha }
      events: { blueprint: kafka, mode: strimzi }
      olap: { blueprint: clickhouse, mode: altinity }
      cache: { blueprint: redis, mode: sentinel }
      shards: { blueprint: redis, mode: cluster, shards: 3 }
      search: { blueprint: elasticsearch, mode: eck, options: { retention: 30d, retentionIndices: logs-* } }
      ray: { blueprint: ray }
      bystander: { image: ghcr.io/t/b:1.0.0, ports: { http: 8080 } }
  - name: apps
    namespace: apps
    services:
      api:
        image: ghcr.io/t/api:1.0.0
        ports: { http: 8080 }
        env: { PG: \"${pg.url}\", KAFKA: \"${events.bootstrap}\", CH: \"${olap.url}\", REDIS: \"${cache.url}\", SHARDS: \"${shards.url}\", SEARCH: \"${search.url}\", RAY: \"${ray.url}\" }
      idle: { image: ghcr.io/t/idle:1.0.0, ports: { http: 8080 } }
";
    let file = SourceFile::new("t.yaml", text);
    let platform = strata_core::resolve(&spec::parse(&file).unwrap(), None).unwrap();
    let set = render::render(&platform, &OperatorManifests).unwrap();
    let policies = network_policies(&set);
    let pod = |name: &str| pod_of(&set.objects, &platform, name);
    let extra = |service: &str, role: &str| {
        operator_pods(&set.objects, service, "data")
            .into_iter()
            .find(|(r, _)| r == role)
            .unwrap_or_else(|| panic!("no {role} of {service}"))
            .1
    };
    let sentinel = companion_pods(&set.objects, platform.service("cache").unwrap())
        .remove(0)
        .1;
    let (api, idle, bystander) = (pod("api"), pod("idle"), pod("bystander"));
    let reach = |from: &Pod, to: &Pod, port: u16| allowed(&policies, from, to, port, "TCP");

    // The caller in `apps` reaches every store on its ports, and the Sentinels.
    for (store, port) in [
        ("pg", 5432),
        ("events", 9092),
        ("olap", 9000),
        ("olap", 8123),
        ("cache", 6379),
        ("shards", 6379),
        ("search", 9200),
        ("ray", 8265),
    ] {
        assert!(reach(&api, &pod(store), port), "api → {store}:{port}");
        assert!(!reach(&idle, &pod(store), port), "idle → {store}:{port}");
        assert!(
            !reach(&bystander, &pod(store), port),
            "bystander → {store}:{port}"
        );
    }
    assert!(reach(&api, &sentinel, 26379), "api → cache-sentinel:26379");
    assert!(!reach(&idle, &sentinel, 26379));
    assert!(!reach(&bystander, &sentinel, 26379));
    assert!(!reach(&api, &sentinel, 22), "only the member ports");

    // Group members talk among themselves; clients do not reach the rest.
    assert!(reach(&extra("pg", "join job"), &pod("pg"), 5432));
    assert!(reach(
        &extra("events", "entity operator"),
        &pod("events"),
        9091
    ));
    assert!(reach(&pod("olap"), &extra("olap", "keeper"), 2181));
    assert!(!reach(&api, &extra("olap", "keeper"), 2181));
    assert!(!reach(&api, &pod("events"), 9091));
    let retention =
        job_pod(&set.objects, "search-retention", "data").expect("no Job search-retention");
    assert!(
        reach(&retention, &extra("search", "node"), 9200),
        "retention Job → search"
    );
    assert!(
        !reach(&retention, &pod("api"), 8080),
        "the Job reaches its cluster only"
    );
    // Cluster clients are redirected to any node: followers serve them too;
    // nodes gossip on the cluster bus among themselves only.
    let follower = extra("shards", "follower");
    assert!(reach(&api, &follower, 6379), "api → shards follower");
    assert!(reach(&pod("shards"), &follower, 16379), "cluster bus");
    assert!(!reach(&api, &follower, 16379));

    // Ray's nodes reach each other on any port (workers' dynamic ports);
    // clients reach the head only.
    let ray_worker = extra("ray", "worker");
    assert!(reach(&ray_worker, &pod("ray"), 6379), "worker → head GCS");
    assert!(reach(&pod("ray"), &ray_worker, 12345), "head → worker");
    assert!(reach(&ray_worker, &ray_worker, 23456), "worker → worker");
    assert!(!reach(&api, &ray_worker, 8265), "api → a worker");
    assert!(!reach(&bystander, &ray_worker, 12345));

    // Operators reach their ports only; CloudNativePG, installed by a tier,
    // only from that tier's namespace.
    let operator = |namespace: &str| Pod::new(namespace, &[("app.kubernetes.io/name", "operator")]);
    for port in [8000, 5432] {
        assert!(
            reach(&operator("cnpg-system"), &pod("pg"), port),
            "cnpg → pg:{port}"
        );
        assert!(
            !reach(&operator("elsewhere"), &pod("pg"), port),
            "elsewhere → pg:{port}"
        );
    }
    assert!(!reach(&operator("cnpg-system"), &pod("pg"), 22));
    for port in [9090, 9091, 8443] {
        assert!(
            reach(&operator("strimzi"), &pod("events"), port),
            "strimzi → events:{port}"
        );
    }
    assert!(!reach(&operator("strimzi"), &pod("events"), 9092));
    assert!(reach(&operator("kuberay"), &pod("ray"), 8265));
    assert!(!reach(&operator("kuberay"), &pod("ray"), 6379));
    assert!(reach(&operator("clickhouse"), &pod("olap"), 8123));
    assert!(!reach(&operator("clickhouse"), &pod("olap"), 9000));
}

#[test]
fn an_innodb_cluster_is_reached_through_its_routers_only() {
    let (platform, set) = example("one-data-studio");
    let policies = network_policies(&set);
    let mysql = platform.service("mysql").unwrap();
    let pods = operator_pods(&set.objects, "mysql", &mysql.namespace);
    let (router, server) = (&pods[0].1, &pods[1].1);
    let job = job_pod(&set.objects, "mysql-databases", &mysql.namespace)
        .expect("a Job creates the databases");
    let client = pod_of(&set.objects, &platform, "data-api");
    assert!(allowed(&policies, &client, router, 6446, "TCP"));
    assert!(allowed(&policies, &client, router, 6447, "TCP"));
    assert!(
        !allowed(&policies, &client, server, 3306, "TCP"),
        "servers only behind the routers"
    );
    assert!(allowed(&policies, router, server, 3306, "TCP"));
    assert!(
        allowed(&policies, server, server, 33061, "TCP"),
        "group replication"
    );
    assert!(allowed(&policies, &job, router, 6446, "TCP"));
}

#[test]
fn a_milvus_cluster_s_pods_reach_their_etcd_store_and_stream_and_its_operator_checks_them() {
    let (platform, set) = example("one-data-studio");
    let policies = network_policies(&set);
    let milvus = platform.service("milvus").unwrap();
    let pods: BTreeMap<String, Pod> = operator_pods(&set.objects, "milvus", &milvus.namespace)
        .into_iter()
        .collect();
    let reach = |from: &Pod, to: &Pod, port: u16| allowed(&policies, from, to, port, "TCP");
    let (minio, kafka, redis) = (
        pod_of(&set.objects, &platform, "minio"),
        pod_of(&set.objects, &platform, "kafka"),
        pod_of(&set.objects, &platform, "redis"),
    );
    // Every component, not only the proxies, keeps segments and messages.
    for component in ["querynode", "datanode", "indexnode", "mixcoord"] {
        let pod = &pods[component];
        assert!(reach(pod, &pods["etcd"], 2379), "{component} → etcd");
        assert!(reach(pod, &minio, 9000), "{component} → minio");
        assert!(reach(pod, &kafka, 9092), "{component} → kafka");
        assert!(reach(pod, &pods["proxy"], 19530), "{component} → proxy");
        assert!(!reach(pod, &redis, 6379), "{component} → redis");
    }
    assert!(
        !reach(&redis, &pods["etcd"], 2379),
        "etcd is Milvus's alone"
    );
    let operator = Pod::new(
        "milvus-operator",
        &[("app.kubernetes.io/name", "milvus-operator")],
    );
    assert!(reach(&operator, &minio, 9000), "operator → minio");
    assert!(reach(&operator, &kafka, 9092), "operator → kafka");
    assert!(reach(&operator, &pods["etcd"], 2379), "operator → etcd");
    assert!(!reach(&operator, &redis, 6379), "operator → redis");
}
