//! Kinds the cluster learns while applying: CRDs are established before
//! the first wave, their resources wait for discovery and for their Ready
//! condition, and a kind no one serves is refused with a hint. Time is
//! paused, so waits cost nothing.

mod fake;
mod support;

use fake::crds::{self, Crds, Schema};
use fake::{Behavior, Fake};
use serde_json::{Value, json};
use strata_core::render::{Object, RenderedSet};
use strata_kube::apply;
use support::{Recorder, apply_set, failure, options, position, release, shop};

/// `shop` with an operator's CRD in wave 1 and one of its resources in
/// wave 2, as raw manifests of tiers would be.
fn with_custom_resource() -> RenderedSet {
    let mut set = shop();
    set.objects.push(Object {
        wave: 1,
        tier: Some("data".into()),
        service: None,
        value: json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": "caches.example.com"},
            "spec": {"group": "example.com", "scope": "Namespaced", "names": {"kind": "Cache", "plural": "caches"},
                "versions": [{"name": "v1", "served": true, "storage": true}]}}),
    });
    set.objects.push(Object {
        wave: 2,
        tier: Some("apps".into()),
        service: None,
        value: json!({"apiVersion": "example.com/v1", "kind": "Cache", "metadata": {"name": "sessions", "namespace": "shop"}, "spec": {"size": 3}}),
    });
    set
}

#[tokio::test(start_paused = true)]
async fn crds_are_established_first_and_custom_resources_waited_for_until_ready() {
    let fake = Fake::new();
    fake.behave(
        "CustomResourceDefinition/caches.example.com",
        Behavior::ReadyAfter(2),
    );
    fake.behave("Cache/shop/sessions", Behavior::ReadyAfter(3));
    let set = with_custom_resource();
    apply_set(&fake.cluster(), &set).await.unwrap();
    let calls = fake.calls();
    let established = position(
        &calls,
        "ready",
        "CustomResourceDefinition/caches.example.com",
    )
    .unwrap();
    let first_wave = position(&calls, "apply", "NetworkPolicy/shop/default-deny").unwrap();
    assert!(
        established < first_wave,
        "the CRD is established before wave 0"
    );
    let cache_ready = position(&calls, "ready", "Cache/shop/sessions").unwrap();
    assert!(
        position(&calls, "apply", "Cache/shop/sessions").unwrap() < cache_ready,
        "waited for its Ready condition"
    );
    assert!(cache_ready < position(&calls, "apply", "Deployment/shop/web").unwrap());
}

/// Discovery lists a new CRD's kind a moment after the CRD is Established:
/// its resources are applied once the kind shows, not refused as unknown.
#[tokio::test(start_paused = true)]
async fn a_custom_resource_waits_for_discovery_to_list_its_new_kind() {
    let fake = Fake::new();
    fake.discovery_lag(3);
    let set = with_custom_resource();
    apply_set(&fake.cluster(), &set).await.unwrap();
    assert!(fake.get("Cache/shop/sessions").is_some());
}

#[tokio::test(start_paused = true)]
async fn a_kind_the_cluster_does_not_serve_is_refused_with_a_hint() {
    let fake = Fake::new();
    let mut set = shop();
    set.objects.push(Object {
        wave: 2,
        tier: Some("apps".into()),
        service: Some("api".into()),
        value: json!({"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor", "metadata": {"name": "api", "namespace": "shop"}}),
    });
    let f = failure(apply_set(&fake.cluster(), &set).await);
    assert_eq!(f.step, "preflight", "found before the first wave");
    let message = f.cause.to_string();
    assert!(message.contains("ServiceMonitor/shop/api"), "{message}");
    assert!(message.contains("install its CRD"), "{message}");
    assert!(fake.ids().is_empty(), "nothing applied: {:?}", fake.ids());
}

/// One resource of each kind an operator reports readiness for, with the
/// fields its readiness reads.
const OPERATED: &[(&str, &str, &str)] = &[
    (
        "mysql.oracle.com/v2",
        "InnoDBCluster",
        r#"{"instances": 3}"#,
    ),
    ("clickhouse.altinity.com/v1", "ClickHouseInstallation", "{}"),
    (
        "clickhouse-keeper.altinity.com/v1",
        "ClickHouseKeeperInstallation",
        "{}",
    ),
    (
        "redis.redis.opstreelabs.in/v1beta2",
        "RedisCluster",
        r#"{"clusterSize": 3}"#,
    ),
    ("kafka.strimzi.io/v1", "KafkaNodePool", r#"{"replicas": 3}"#),
    ("postgresql.cnpg.io/v1", "Database", r#"{"name": "app"}"#),
    ("monitoring.coreos.com/v1", "Prometheus", "{}"),
    ("postgresql.cnpg.io/v1", "Cluster", "{}"),
    ("kafka.strimzi.io/v1", "Kafka", "{}"),
    ("milvus.io/v1beta1", "Milvus", "{}"),
    ("ray.io/v1", "RayCluster", "{}"),
];

/// `shop` with `api_version`/`kind` served and one such resource in wave 2.
fn with_operated(fake: &Fake, api_version: &str, kind: &str, spec: &str) -> RenderedSet {
    fake.serve_kind(api_version, kind, true);
    let mut set = shop();
    set.objects.push(Object {
        wave: 2,
        tier: Some("apps".into()),
        service: None,
        value: json!({"apiVersion": api_version, "kind": kind, "metadata": {"name": "x", "namespace": "shop"},
            "spec": serde_json::from_str::<serde_json::Value>(spec).unwrap()}),
    });
    set
}

/// Each operated kind is waited for by what its operator reports, in the
/// shape its CRD gives the status: not ready as soon as it is applied.
#[tokio::test(start_paused = true)]
async fn every_operated_kind_is_waited_for_until_its_operator_reports_ready() {
    let crds = Crds::load(&crds::testdata());
    for (api_version, kind, spec) in OPERATED {
        let fake = Fake::new();
        let set = with_operated(&fake, api_version, kind, spec);
        let id = format!("{kind}/shop/x");
        fake.behave(&id, Behavior::ReadyAfter(3));
        let seen = Recorder::default();
        apply(&fake.cluster(), &set, &release(&set), &options(), &seen)
            .await
            .unwrap();
        assert_eq!(
            seen.of(&id),
            ["waiting", "ready"],
            "{kind} waited for its operator"
        );
        let live = fake
            .cluster()
            .get(&strata_kube::ObjectId::of(
                &set.objects.last().unwrap().value,
            ))
            .await
            .unwrap()
            .unwrap();
        let wrong = status_problems(&crds, api_version, kind, &live["status"]);
        assert!(
            wrong.is_empty(),
            "{kind}: the fake's status is not its CRD's: {wrong:?}"
        );
        let calls = fake.calls();
        assert!(
            position(&calls, "ready", &id).unwrap()
                < position(&calls, "apply", "Deployment/shop/web").unwrap(),
            "{kind} ready before the next wave"
        );
    }
}

/// With no operator running, a resource gets no status at all: after the
/// grace period the wave stops, naming the operator, long before the
/// timeout.
#[tokio::test(start_paused = true)]
async fn a_resource_without_status_names_its_operator_as_not_running() {
    for (api_version, kind, spec) in OPERATED {
        let fake = Fake::new();
        let set = with_operated(&fake, api_version, kind, spec);
        let started = tokio::time::Instant::now();
        let options = strata_kube::ApplyOptions {
            operator_grace: std::time::Duration::from_secs(10),
            ..support::options()
        };
        let result = strata_kube::apply(
            &fake.cluster(),
            &set,
            &support::release(&set),
            &options,
            &strata_kube::Silent,
        )
        .await;
        let f = failure(result);
        let message = f.cause.to_string();
        let operator = strata_kube::readiness::operator_of(api_version, kind).unwrap();
        assert!(
            message.contains(&format!("{kind}/shop/x"))
                && message.contains(&format!("operator `{operator}` is not running")),
            "{message}"
        );
        assert!(
            started.elapsed() < options.timeout,
            "{kind}: stopped before the timeout"
        );
        assert!(fake.get("Deployment/shop/web").is_none());
    }
}

/// An operator that reports a failure ends the wait at once.
#[tokio::test(start_paused = true)]
async fn an_operator_reporting_a_failure_stops_the_wave() {
    for (api_version, kind, spec) in [
        ("redis.redis.opstreelabs.in/v1beta2", "RedisCluster", "{}"),
        ("clickhouse.altinity.com/v1", "ClickHouseInstallation", "{}"),
    ] {
        let fake = Fake::new();
        let set = with_operated(&fake, api_version, kind, spec);
        fake.behave(&format!("{kind}/shop/x"), Behavior::Fail);
        let f = failure(apply_set(&fake.cluster(), &set).await);
        assert!(
            matches!(&f.cause, strata_kube::apply::Cause::Failed { id, .. } if id.kind == kind),
            "{kind}: {}",
            f.cause
        );
    }
}

/// Where `status` strays from the status schema of `kind` in
/// `api_version` in the operators' CRDs (`testdata/crds`, as published; the
/// first release serving the version), checked as the fake checks what it
/// is sent.
fn status_problems(crds: &Crds, api_version: &str, kind: &str, status: &Value) -> Vec<String> {
    let (group, version) = api_version.split_once('/').unwrap();
    let schema = &crds
        .definitions(group, kind)
        .into_iter()
        .flat_map(|c| &c.versions)
        .find(|v| v.name == version)
        .unwrap_or_else(|| panic!("no CRD for {kind} in {api_version} in testdata/crds"))
        .schema["properties"]["status"];
    Schema::part(schema)
        .unwrap()
        .problems(status)
        .iter()
        .map(|p| format!("status.{p}"))
        .collect()
}

/// Applied with strict field validation: a field the CRD's schema does not
/// declare is refused, naming it, instead of being dropped by the server.
#[tokio::test(start_paused = true)]
async fn an_undeclared_field_of_a_custom_resource_is_refused_not_dropped() {
    let fake = Fake::new();
    fake.install_crds(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../testdata/crds/strimzi/1.2.0/043-Crd-kafkatopic.yaml"),
    );
    let mut set = shop();
    set.objects.push(Object {
        wave: 2,
        tier: Some("apps".into()),
        service: None,
        value: json!({"apiVersion": "kafka.strimzi.io/v1", "kind": "KafkaTopic", "metadata": {"name": "orders", "namespace": "shop"},
            "spec": {"partitions": 3, "replicas": 1, "retentionHours": 24}}),
    });
    fake.behave("KafkaTopic/shop/orders", Behavior::Ready);
    let f = failure(apply_set(&fake.cluster(), &set).await);
    let message = f.cause.to_string();
    assert!(
        message.contains("KafkaTopic/shop/orders")
            && message.contains(".spec.retentionHours: field not declared in schema"),
        "{message}"
    );
    assert!(fake.get("KafkaTopic/shop/orders").is_none());
}

fn kafka_topic(spec: Value) -> Value {
    json!({"apiVersion": "kafka.strimzi.io/v1", "kind": "KafkaTopic",
        "metadata": {"name": "orders", "namespace": "shop"}, "spec": spec})
}

/// Beyond undeclared fields, the fake refuses what its CRD's schema refuses,
/// as a real API server does (422 Invalid, naming the field and the
/// problem): a value of the wrong type, a value not among those allowed;
/// on server-side apply, dry run or not, and on create.
#[tokio::test(start_paused = true)]
async fn a_custom_resource_of_a_wrong_type_or_value_is_refused_as_invalid() {
    let crds = |file: &str| crds::testdata().join(file);
    let fake = Fake::new();
    support::insert_shop_namespace(&fake);
    fake.install_crds(&crds("strimzi/1.2.0/043-Crd-kafkatopic.yaml"));
    fake.install_crds(&crds("strimzi/1.2.0/040-Crd-kafka.yaml"));
    let cluster = fake.cluster();
    let wrong_type = kafka_topic(json!({"partitions": "three"}));
    let wrong_value = json!({"apiVersion": "kafka.strimzi.io/v1", "kind": "Kafka",
        "metadata": {"name": "events", "namespace": "shop"},
        "spec": {"kafka": {"listeners": [{"name": "plain", "port": 9092, "type": "public", "tls": false}]}}});
    let invalid = |e: strata_kube::ClusterError| match e {
        strata_kube::ClusterError::Api {
            code: 422,
            reason,
            message,
            ..
        } if reason == "Invalid" => message,
        other => panic!("not refused as invalid: {other}"),
    };
    for dry_run in [true, false] {
        let message = invalid(
            cluster
                .apply(&wrong_type, false, dry_run)
                .await
                .unwrap_err(),
        );
        assert_eq!(
            message,
            r#"KafkaTopic.kafka.strimzi.io "orders" is invalid: spec.partitions: Invalid value: "string": spec.partitions in body must be of type integer: "three""#
        );
        let message = invalid(
            cluster
                .apply(&wrong_value, false, dry_run)
                .await
                .unwrap_err(),
        );
        assert!(
            message.starts_with(r#"Kafka.kafka.strimzi.io "events" is invalid: spec.kafka.listeners[0].type: Unsupported value: "public": supported values: "#)
                && message.contains(r#""internal""#),
            "{message}"
        );
    }
    let message = invalid(cluster.create(&wrong_type, false).await.unwrap_err());
    assert!(message.contains("spec.partitions"), "{message}");
    assert!(fake.get("KafkaTopic/shop/orders").is_none());
    assert!(fake.get("Kafka/shop/events").is_none());
    // The same resources, right, are taken.
    let right = kafka_topic(json!({"partitions": 3}));
    cluster.apply(&right, false, false).await.unwrap();
    assert!(fake.get("KafkaTopic/shop/orders").is_some());
}

/// Without strict field validation, the fake drops an undeclared field
/// with a warning, as a real API server does, and keeps the rest.
#[tokio::test(start_paused = true)]
async fn an_undeclared_field_is_dropped_with_a_warning_without_strict_validation() {
    use tower::Service;
    let mut fake = Fake::new();
    support::insert_shop_namespace(&fake);
    fake.install_crds(&crds::testdata().join("strimzi/1.2.0/043-Crd-kafkatopic.yaml"));
    let topic = kafka_topic(json!({"partitions": 3, "retentionHours": 24}));
    let request = http::Request::post("/apis/kafka.strimzi.io/v1/namespaces/shop/kafkatopics")
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(kube::client::Body::from(topic.to_string().into_bytes()))
        .unwrap();
    let response = fake.call(request).await.unwrap();
    assert_eq!(response.status(), 201);
    let warnings: Vec<&str> = response
        .headers()
        .get_all(http::header::WARNING)
        .iter()
        .map(|w| w.to_str().unwrap())
        .collect();
    assert_eq!(
        warnings,
        [r#"299 - "unknown field \"spec.retentionHours\"""#]
    );
    let stored = fake.get("KafkaTopic/shop/orders").unwrap();
    assert_eq!(stored["spec"], json!({"partitions": 3}));
}

/// Reads an example's files (its raw manifests, config files).
struct Dir(std::path::PathBuf);

impl strata_core::render::Assets for Dir {
    fn read(&self, path: &str) -> Result<String, String> {
        std::fs::read_to_string(self.0.join(path)).map_err(|e| e.to_string())
    }
}

/// Every custom resource every example renders, in every environment, is
/// taken by the fake holding its operator's published CRD (of the release
/// the example runs, where several are kept): the fake's check refuses
/// nothing Strata writes.
#[tokio::test(start_paused = true)]
async fn every_examples_custom_resources_are_taken_with_their_crds_installed() {
    let crds = Crds::load(&crds::testdata());
    let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let mut taken = 0;
    for entry in std::fs::read_dir(&examples).unwrap() {
        let dir = entry.unwrap().path();
        let spec_path = dir.join("platform.yaml");
        if !spec_path.exists() {
            continue;
        }
        let file = strata_core::source::SourceFile::new(
            spec_path.display().to_string(),
            std::fs::read_to_string(&spec_path).unwrap(),
        );
        let doc = strata_core::spec::parse(&file).unwrap();
        let mut envs = vec![None];
        envs.extend(
            strata_core::model::environment_names(&doc.spec)
                .into_iter()
                .map(Some),
        );
        for env in envs {
            let at = format!("{} {env:?}", spec_path.display());
            let platform = strata_core::resolve(&doc, env).unwrap();
            let set = strata_core::render::render(&platform, &Dir(dir.clone()))
                .unwrap_or_else(|e| panic!("{at}: {e:?}"));
            let fake = Fake::new();
            let cluster = fake.cluster();
            for object in &set.objects {
                let value = &object.value;
                let api_version = value["apiVersion"].as_str().unwrap();
                let kind = value["kind"].as_str().unwrap();
                if fake.serves(api_version, kind) {
                    continue;
                }
                let group = api_version.split_once('/').map_or("", |(g, _)| g);
                let definitions = crds.definitions(group, kind);
                if definitions.is_empty() {
                    // ECK's CRDs are not kept (see `strata`'s custom_resources).
                    assert_eq!(
                        kind, "Elasticsearch",
                        "{at}: no CRD for {api_version} {kind}"
                    );
                    continue;
                }
                let crd = match definitions.as_slice() {
                    [one] => one,
                    several => {
                        let release = operator_release(&platform, &several[0].operator)
                            .unwrap_or_else(|| panic!("{at}: which release of {kind}?"));
                        several
                            .iter()
                            .find(|c| {
                                c.release.as_deref().is_some_and(|r| {
                                    r.starts_with(&format!("{release}.")) || r == release
                                })
                            })
                            .unwrap_or_else(|| panic!("{at}: no release {release} of {kind}"))
                    }
                };
                fake.install_crds(&crds::testdata().join(&crd.file));
                // Its namespace, the platform's or the operator's (`argocd`).
                if let Some(ns) = value["metadata"]["namespace"].as_str() {
                    let namespace =
                        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}});
                    cluster.apply(&namespace, false, false).await.unwrap();
                }
                cluster
                    .apply(value, false, false)
                    .await
                    .unwrap_or_else(|e| panic!("{at}: {e}"));
                taken += 1;
            }
        }
    }
    assert!(taken > 0, "the examples render custom resources");
    eprintln!("{taken} custom resources taken");
}

/// The release of `operator` the platform renders for, where it says.
fn operator_release(platform: &strata_core::model::Platform, operator: &str) -> Option<String> {
    platform.services.iter().find_map(|s| {
        let tuning = s.tuning.as_ref()?;
        (tuning.mode.operator == Some(operator))
            .then(|| tuning.operator.map(|o| o.release.to_string()))?
    })
}
