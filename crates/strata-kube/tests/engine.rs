//! The engine against the in-process fake API server: ordering, waits,
//! timeouts, failures, resume, prune, revisions, rollback, atomic,
//! conflicts, dry runs, generated secrets, destroy, status, diff, logs.
//! Time is paused, so waits and timeouts cost nothing.

mod fake;

use std::time::Duration;

use fake::{Behavior, Call, Fake};
use serde_json::json;
use strata_core::render::{self, NoAssets, RenderedSet};
use strata_core::{source::SourceFile, spec};
use strata_kube::apply::{Cause, Rollback};
use strata_kube::destroy::{DestroyOptions, destroy};
use strata_kube::inventory::{self, InventoryError};
use strata_kube::logs::LogOptions;
use strata_kube::{ApplyError, ApplyOptions, Release, Selection, Silent, apply, rollback};

const SHOP: &str = r"
platform: shop
secrets:
  db-secret: { generate: [password] }
tiers:
  - name: data
    services:
      db:
        kind: stateful
        image: postgres:16.4
        ports: { postgres: 5432 }
        storage: 1Gi
        env: { POSTGRES_PASSWORD: { secret: db-secret, key: password } }
  - name: apps
    after: [data]
    services:
      api: { image: ghcr.io/shop/api:1.2.0, ports: { http: 8080 } }
      web: { image: ghcr.io/shop/web:1.0.0, ports: { http: 8080 }, needs: [api] }
";

fn render(text: &str) -> RenderedSet {
    let file = SourceFile::new("shop.yaml", text);
    let doc = spec::parse(&file).unwrap_or_else(|e| panic!("{e:?}"));
    let platform = strata_core::resolve(&doc, None).unwrap_or_else(|e| panic!("{e:?}"));
    render::render(&platform, &NoAssets).unwrap_or_else(|e| panic!("{e:?}"))
}

fn shop() -> RenderedSet {
    render(SHOP)
}

fn release(set: &RenderedSet) -> Release {
    Release::new(set, "shop")
}

fn options() -> ApplyOptions {
    ApplyOptions {
        timeout: Duration::from_mins(1),
        poll: Duration::from_secs(1),
        concurrency: 4,
        ..ApplyOptions::default()
    }
}

fn position(calls: &[Call], verb: &str, id: &str) -> Option<usize> {
    calls
        .iter()
        .position(|c| c.verb == verb && c.id == id && !c.dry_run)
}

fn last_position(calls: &[Call], verb: &str, id: &str) -> Option<usize> {
    calls
        .iter()
        .rposition(|c| c.verb == verb && c.id == id && !c.dry_run)
}

fn failure(result: Result<strata_kube::Applied, ApplyError>) -> Box<strata_kube::apply::Failure> {
    match result {
        Err(ApplyError::Failed(f)) => f,
        other => panic!("expected a failed apply, got {other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn the_spec_renders_the_waves_these_tests_rely_on() {
    let set = shop();
    let wave = |key: &str| set.objects.iter().find(|o| o.key() == key).map(|o| o.wave);
    assert_eq!(wave("Namespace//shop"), Some(0));
    assert_eq!(wave("StatefulSet/shop/db"), Some(1));
    assert_eq!(wave("Deployment/shop/api"), Some(2));
    assert_eq!(wave("Deployment/shop/web"), Some(3));
    assert_eq!(set.generated_secrets.len(), 1);
}

#[tokio::test(start_paused = true)]
async fn namespaces_first_then_each_wave_after_the_previous_is_ready() {
    let fake = Fake::new();
    fake.behave("StatefulSet/shop/db", Behavior::ReadyAfter(3));
    fake.behave("Deployment/shop/api", Behavior::ReadyAfter(2));
    let set = shop();
    let done = apply(&fake.cluster(), &set, &release(&set), &options(), &Silent)
        .await
        .unwrap();
    assert_eq!(done.revision, Some(1));
    let calls = fake.calls();
    let applies: Vec<&Call> = calls.iter().filter(|c| c.verb == "apply").collect();
    assert_eq!(applies[0].id, "Namespace/shop", "the namespace goes first");
    // The db's third GET made it ready; nothing of wave 2 was applied before.
    let db_ready = last_position(&calls, "get", "StatefulSet/shop/db").unwrap();
    let db_gets = calls
        .iter()
        .filter(|c| c.verb == "get" && c.id == "StatefulSet/shop/db")
        .count();
    assert_eq!(db_gets, 3);
    let api_applied = position(&calls, "apply", "Deployment/shop/api").unwrap();
    assert!(
        db_ready < api_applied,
        "wave 2 started before wave 1 was ready"
    );
    let api_ready = last_position(&calls, "get", "Deployment/shop/api").unwrap();
    let web_applied = position(&calls, "apply", "Deployment/shop/web").unwrap();
    assert!(
        api_ready < web_applied,
        "wave 3 started before wave 2 was ready"
    );
    // The generated secret exists before the workload that reads it.
    let secret = position(&calls, "create", "Secret/shop/db-secret").unwrap();
    assert!(secret < position(&calls, "apply", "StatefulSet/shop/db").unwrap());
    // Every rendered object is in the cluster.
    for object in &set.objects {
        assert!(
            fake.get(&fake_id(&object.key())).is_some(),
            "{} missing",
            object.key()
        );
    }
}

/// `Kind/ns/name` from a render key `Kind/ns/name` or `Kind//name`.
fn fake_id(key: &str) -> String {
    key.replace("//", "/")
}

#[tokio::test(start_paused = true)]
async fn applies_within_a_wave_run_concurrently_within_the_bound() {
    let fake = Fake::new();
    fake.apply_delay(Duration::from_millis(50));
    let set = shop();
    let opts = ApplyOptions {
        concurrency: 2,
        ..options()
    };
    apply(&fake.cluster(), &set, &release(&set), &opts, &Silent)
        .await
        .unwrap();
    assert_eq!(fake.max_in_flight(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_wave_that_never_becomes_ready_times_out_and_later_waves_are_untouched() {
    let fake = Fake::new();
    fake.behave("StatefulSet/shop/db", Behavior::Never);
    let set = shop();
    let f = failure(apply(&fake.cluster(), &set, &release(&set), &options(), &Silent).await);
    assert_eq!(f.step, "wave 1");
    assert!(matches!(f.cause, Cause::Timeout(d) if d == Duration::from_mins(1)));
    assert_eq!(
        f.not_ready
            .iter()
            .map(|(id, _)| id.to_string())
            .collect::<Vec<_>>(),
        ["StatefulSet/shop/db"]
    );
    assert_eq!(f.not_ready[0].1, "0 of 1 replicas ready");
    let applied: Vec<String> = f.applied.iter().map(ToString::to_string).collect();
    let not_applied: Vec<String> = f.not_applied.iter().map(ToString::to_string).collect();
    assert!(applied.contains(&"StatefulSet/shop/db".to_string()));
    assert!(not_applied.contains(&"Deployment/shop/api".to_string()));
    assert!(not_applied.contains(&"Deployment/shop/web".to_string()));
    assert_eq!(applied.len() + not_applied.len(), set.objects.len());
    assert!(fake.get("Deployment/shop/api").is_none());
    // No revision: a failed apply is not recorded.
    let history = inventory::list(&fake.cluster(), &release(&set))
        .await
        .unwrap();
    assert!(history.is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_failing_workload_stops_its_wave_with_its_pods_and_events() {
    let fake = Fake::new();
    fake.behave("Deployment/shop/api", Behavior::Fail);
    fake.insert(
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}),
        "strata",
    );
    fake.insert(
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "api-7d9-x2", "namespace": "shop",
            "labels": {"app.kubernetes.io/name": "api", "app.kubernetes.io/instance": "shop"}},
            "spec": {"containers": [{"name": "api"}]},
            "status": {"phase": "Pending", "containerStatuses": [{"name": "api", "restartCount": 0,
                "state": {"waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling image \"ghcr.io/shop/api:1.2.0\""}}}]}}),
        "kubelet",
    );
    fake.insert(
        json!({"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "api-7d9-x2.1", "namespace": "shop"},
            "regarding": {"kind": "Pod", "name": "api-7d9-x2"}, "reason": "Failed", "note": "Failed to pull image: not found"}),
        "kubelet",
    );
    let set = shop();
    let f = failure(apply(&fake.cluster(), &set, &release(&set), &options(), &Silent).await);
    assert_eq!(f.step, "wave 2");
    assert!(
        matches!(&f.cause, Cause::Failed { id, reason } if id.to_string() == "Deployment/shop/api" && reason.contains("deadline"))
    );
    assert_eq!(f.pods.len(), 1);
    assert_eq!(f.pods[0].pod, "shop/api-7d9-x2");
    assert!(
        f.pods[0].problems[0].contains("ImagePullBackOff"),
        "{:?}",
        f.pods[0]
    );
    assert_eq!(
        f.pods[0].events,
        ["Failed: Failed to pull image: not found"]
    );
    assert!(
        fake.get("Deployment/shop/web").is_none(),
        "wave 3 must not start"
    );
    // Nothing pruned, nothing deleted.
    assert!(fake.calls().iter().all(|c| c.verb != "delete"));
}

#[tokio::test(start_paused = true)]
async fn rerunning_after_a_failure_resumes_and_records_the_first_revision() {
    let fake = Fake::new();
    fake.behave("StatefulSet/shop/db", Behavior::Never);
    let set = shop();
    let cluster = fake.cluster();
    failure(apply(&cluster, &set, &release(&set), &options(), &Silent).await);
    fake.behave("StatefulSet/shop/db", Behavior::Ready);
    let done = apply(&cluster, &set, &release(&set), &options(), &Silent)
        .await
        .unwrap();
    assert_eq!(done.revision, Some(1));
    assert!(fake.get("Deployment/shop/web").is_some());
}

const WITH_EXTRAS: &str = r"
  - name: batch
    namespace: batch-ns
    services:
      worker: { kind: stateless, image: ghcr.io/shop/worker:1.0.0, storage: 1Gi }
  - name: tools
    namespace: tools-ns
    services:
      admin: { image: ghcr.io/shop/admin:1.0.0 }
  - name: cron
    namespace: cron-ns
    services:
      cleaner: { image: ghcr.io/shop/cleaner:1.0.0 }
";

#[tokio::test(start_paused = true)]
async fn prune_after_success_spares_claims_and_namespaces_with_foreign_objects() {
    let fake = Fake::new();
    let cluster = fake.cluster();
    let before = render(&format!("{SHOP}{WITH_EXTRAS}"));
    apply(&cluster, &before, &release(&before), &options(), &Silent)
        .await
        .unwrap();
    assert!(
        fake.get("PersistentVolumeClaim/batch-ns/worker-data")
            .is_some()
    );
    fake.insert(
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "notes", "namespace": "tools-ns"}}),
        "kubectl-create",
    );
    let after = shop();
    let done = apply(&cluster, &after, &release(&after), &options(), &Silent)
        .await
        .unwrap();
    assert_eq!(done.revision, Some(2));
    let deleted: Vec<String> = done
        .pruned
        .deleted
        .iter()
        .map(ToString::to_string)
        .collect();
    for gone in [
        "Deployment/batch-ns/worker",
        "Deployment/tools-ns/admin",
        "Deployment/cron-ns/cleaner",
        "Namespace/cron-ns",
    ] {
        assert!(
            deleted.contains(&gone.to_string()),
            "{gone} not pruned: {deleted:?}"
        );
        assert!(fake.get(gone).is_none());
    }
    let kept: Vec<String> = done
        .pruned
        .kept
        .iter()
        .map(|(id, _)| id.to_string())
        .collect();
    assert_eq!(kept, ["Namespace/batch-ns", "Namespace/tools-ns"]);
    assert!(done.pruned.kept[0].1.contains("PersistentVolumeClaim"));
    assert!(done.pruned.kept[1].1.contains("ConfigMap/notes"));
    assert!(
        fake.get("PersistentVolumeClaim/batch-ns/worker-data")
            .is_some(),
        "claims are never pruned"
    );
    assert!(fake.get("ConfigMap/tools-ns/notes").is_some());
    assert!(fake.get("Deployment/shop/api").is_some());
}

/// Strata applied it, but for another platform: a namespace two platforms
/// share is not this one's to delete.
#[tokio::test(start_paused = true)]
async fn prune_keeps_a_namespace_another_platform_shares() {
    let fake = Fake::new();
    let cluster = fake.cluster();
    let before = render(&format!("{SHOP}{WITH_EXTRAS}"));
    apply(&cluster, &before, &release(&before), &options(), &Silent)
        .await
        .unwrap();
    fake.insert(
        json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "blog", "namespace": "cron-ns",
            "labels": {"app.kubernetes.io/managed-by": "strata", "app.kubernetes.io/part-of": "blog"}}}),
        "strata",
    );
    let after = shop();
    let done = apply(&cluster, &after, &release(&after), &options(), &Silent)
        .await
        .unwrap();
    assert!(fake.get("Deployment/cron-ns/cleaner").is_none());
    let kept = done
        .pruned
        .kept
        .iter()
        .find(|(id, _)| id.to_string() == "Namespace/cron-ns")
        .expect("cron-ns kept");
    assert!(kept.1.contains("Ingress/blog"), "{}", kept.1);
    assert!(fake.get("Ingress/cron-ns/blog").is_some());
    assert!(fake.get("Namespace/cron-ns").is_some());
}

#[tokio::test(start_paused = true)]
async fn history_lists_revisions_and_rollback_reapplies_one() {
    let fake = Fake::new();
    let cluster = fake.cluster();
    let v1 = shop();
    let v2 = render(&SHOP.replace("api:1.2.0", "api:1.3.0"));
    let rel = release(&v1);
    apply(&cluster, &v1, &rel, &options(), &Silent)
        .await
        .unwrap();
    apply(&cluster, &v2, &rel, &options(), &Silent)
        .await
        .unwrap();
    let image = || {
        fake.get("Deployment/shop/api").unwrap()["spec"]["template"]["spec"]["containers"][0]["image"].clone()
    };
    assert_eq!(image(), "ghcr.io/shop/api:1.3.0");
    let done = rollback(&cluster, &rel, 1, &options(), &Silent)
        .await
        .unwrap();
    assert_eq!(done.revision, Some(3));
    assert_eq!(image(), "ghcr.io/shop/api:1.2.0");
    let history = inventory::list(&cluster, &rel).await.unwrap();
    let summary: Vec<(u32, &str)> = history
        .iter()
        .map(|r| (r.number, r.cause.as_str()))
        .collect();
    assert_eq!(summary, [(1, "apply"), (2, "apply"), (3, "rollback to 1")]);
    assert_eq!(history[2].set, v1);
    let missing = rollback(&cluster, &rel, 9, &options(), &Silent).await;
    assert!(matches!(
        missing,
        Err(ApplyError::Inventory(InventoryError::Missing {
            number: 9,
            ..
        }))
    ));
}

#[tokio::test(start_paused = true)]
async fn history_keeps_the_last_ten_revisions() {
    let fake = Fake::new();
    let cluster = fake.cluster();
    let set = shop();
    let rel = release(&set);
    for _ in 0..12 {
        apply(&cluster, &set, &rel, &options(), &Silent)
            .await
            .unwrap();
    }
    let numbers: Vec<u32> = inventory::list(&cluster, &rel)
        .await
        .unwrap()
        .iter()
        .map(|r| r.number)
        .collect();
    assert_eq!(numbers, (3..=12).collect::<Vec<_>>());
}

#[tokio::test(start_paused = true)]
async fn atomic_rolls_back_to_the_previous_revision_when_a_wave_fails() {
    let fake = Fake::new();
    let cluster = fake.cluster();
    let v1 = shop();
    let rel = release(&v1);
    apply(&cluster, &v1, &rel, &options(), &Silent)
        .await
        .unwrap();
    let v2 = render(&format!(
        "{}\n      extra: {{ image: ghcr.io/shop/extra:1.0.0 }}\n",
        SHOP.replace("api:1.2.0", "api:1.3.0").trim_end()
    ));
    assert!(
        v2.objects
            .iter()
            .any(|o| o.key() == "Deployment/shop/extra")
    );
    fake.behave("Deployment/shop/web", Behavior::Never);
    let opts = ApplyOptions {
        atomic: true,
        ..options()
    };
    let f = failure(apply(&cluster, &v2, &rel, &opts, &Silent).await);
    assert_eq!(f.step, "wave 3");
    // The rollback re-applies web, which still never gets ready.
    match f.rollback {
        Some(Rollback::Failed(why)) => assert!(why.contains("wave 3"), "{why}"),
        other => panic!("web never gets ready, so the rollback must fail too: {other:?}"),
    }
    // A fresh cluster in which only a service new in this revision fails.
    let fake3 = Fake::new();
    let cluster3 = fake3.cluster();
    apply(&cluster3, &v1, &rel, &options(), &Silent)
        .await
        .unwrap();
    let v3 = render(&format!(
        "{}\n      extra: {{ image: ghcr.io/shop/extra:1.0.0 }}\n      broken: {{ image: ghcr.io/shop/broken:1.0.0, needs: [extra] }}\n",
        SHOP.replace("api:1.2.0", "api:1.3.0").trim_end()
    ));
    fake3.behave("Deployment/shop/broken", Behavior::Fail);
    let f = failure(apply(&cluster3, &v3, &rel, &opts, &Silent).await);
    match f.rollback {
        Some(Rollback::Done {
            to,
            recorded,
            removed,
        }) => {
            assert_eq!((to, recorded), (1, 2));
            let removed: Vec<String> = removed.deleted.iter().map(ToString::to_string).collect();
            assert!(
                removed.contains(&"Deployment/shop/extra".to_string()),
                "{removed:?}"
            );
            assert!(
                removed.contains(&"Deployment/shop/broken".to_string()),
                "{removed:?}"
            );
        }
        other => panic!("expected a rollback, got {other:?}"),
    }
    let image = fake3.get("Deployment/shop/api").unwrap()["spec"]["template"]["spec"]["containers"]
        [0]["image"]
        .clone();
    assert_eq!(image, "ghcr.io/shop/api:1.2.0");
    assert!(fake3.get("Deployment/shop/extra").is_none());
}

#[tokio::test(start_paused = true)]
async fn atomic_without_a_previous_revision_leaves_things_in_place() {
    let fake = Fake::new();
    fake.behave("Deployment/shop/api", Behavior::Fail);
    let set = shop();
    let opts = ApplyOptions {
        atomic: true,
        ..options()
    };
    let f = failure(apply(&fake.cluster(), &set, &release(&set), &opts, &Silent).await);
    assert!(matches!(f.rollback, Some(Rollback::NothingToRollBackTo)));
    assert!(fake.get("StatefulSet/shop/db").is_some());
}

#[tokio::test(start_paused = true)]
async fn a_conflict_names_the_field_and_manager_and_force_takes_over() {
    let fake = Fake::new();
    let set = shop();
    let cluster = fake.cluster();
    let mut theirs = set
        .objects
        .iter()
        .find(|o| o.key() == "Deployment/shop/api")
        .unwrap()
        .value
        .clone();
    theirs["spec"]["replicas"] = json!(5);
    fake.insert(
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}),
        "strata",
    );
    fake.insert(theirs, "kubectl-edit");
    let f = failure(apply(&cluster, &set, &release(&set), &options(), &Silent).await);
    let message = f.cause.to_string();
    assert!(message.contains("Deployment/shop/api"), "{message}");
    assert!(
        message.contains(".spec.replicas by `kubectl-edit`"),
        "{message}"
    );
    assert!(message.contains("--force-conflicts"), "{message}");
    assert_eq!(
        fake.get("Deployment/shop/api").unwrap()["spec"]["replicas"],
        5
    );
    let forced = ApplyOptions {
        force_conflicts: true,
        ..options()
    };
    apply(&cluster, &set, &release(&set), &forced, &Silent)
        .await
        .unwrap();
    assert_eq!(
        fake.get("Deployment/shop/api").unwrap()["spec"]["replicas"],
        1
    );
    assert_eq!(
        fake.manager("Deployment/shop/api").as_deref(),
        Some("strata")
    );
}

#[tokio::test(start_paused = true)]
async fn a_dry_run_writes_nothing() {
    let fake = Fake::new();
    let set = shop();
    let opts = ApplyOptions {
        dry_run: true,
        ..options()
    };
    let done = apply(&fake.cluster(), &set, &release(&set), &opts, &Silent)
        .await
        .unwrap();
    assert_eq!(done.revision, None);
    assert!(fake.ids().is_empty(), "{:?}", fake.ids());
    assert!(
        fake.calls()
            .iter()
            .filter(|c| c.verb == "apply")
            .all(|c| c.dry_run)
    );
    assert!(
        fake.calls()
            .iter()
            .all(|c| c.verb != "create" && c.verb != "delete")
    );
    assert!(
        done.notes
            .iter()
            .any(|n| n.contains("namespace `shop` does not exist yet")),
        "{:?}",
        done.notes
    );
    assert!(
        done.notes
            .iter()
            .any(|n| n.contains("Secret/shop/db-secret: would be created")),
        "{:?}",
        done.notes
    );
}

#[tokio::test(start_paused = true)]
async fn generated_secrets_are_created_once_and_never_overwritten() {
    let fake = Fake::new();
    let set = shop();
    let cluster = fake.cluster();
    let done = apply(&cluster, &set, &release(&set), &options(), &Silent)
        .await
        .unwrap();
    assert_eq!(done.secrets.len(), 1);
    let first = fake.get("Secret/shop/db-secret").unwrap()["data"]["password"].clone();
    assert!(first.as_str().is_some_and(|s| !s.is_empty()));
    let again = apply(&cluster, &set, &release(&set), &options(), &Silent)
        .await
        .unwrap();
    assert!(again.secrets.is_empty());
    assert_eq!(
        fake.get("Secret/shop/db-secret").unwrap()["data"]["password"],
        first
    );
    assert!(
        fake.calls()
            .iter()
            .all(|c| !(c.id == "Secret/shop/db-secret" && c.verb == "apply"))
    );
    // A key added to the spec later is added; the existing one is kept.
    let more = render(&SHOP.replace("generate: [password]", "generate: [password, replication]"));
    let done = apply(&cluster, &more, &release(&more), &options(), &Silent)
        .await
        .unwrap();
    assert_eq!(done.secrets.len(), 1);
    let secret = fake.get("Secret/shop/db-secret").unwrap();
    assert_eq!(secret["data"]["password"], first);
    assert!(secret["data"]["replication"].is_string());
}

#[tokio::test(start_paused = true)]
async fn only_and_skip_apply_a_part_and_unknown_names_are_refused() {
    let fake = Fake::new();
    let set = shop();
    let cluster = fake.cluster();
    let opts = ApplyOptions {
        selection: Selection {
            only: vec![],
            skip: vec!["data".into()],
        },
        ..options()
    };
    apply(&cluster, &set, &release(&set), &opts, &Silent)
        .await
        .unwrap();
    assert!(fake.get("StatefulSet/shop/db").is_none());
    assert!(fake.get("Deployment/shop/api").is_some());
    let bad = ApplyOptions {
        selection: Selection {
            only: vec!["infra".into()],
            skip: vec![],
        },
        ..options()
    };
    let err = apply(&cluster, &set, &release(&set), &bad, &Silent)
        .await
        .unwrap_err();
    assert!(matches!(err, ApplyError::Selection(_)));
    assert!(err.to_string().contains("`infra`"));
}

fn destroy_options(delete_data: bool) -> DestroyOptions {
    DestroyOptions {
        delete_data,
        timeout: Duration::from_mins(1),
        poll: Duration::from_secs(1),
        concurrency: 4,
    }
}

#[tokio::test(start_paused = true)]
async fn destroy_goes_in_reverse_wave_order_waits_and_keeps_the_data() {
    let fake = Fake::new();
    let set = shop();
    let cluster = fake.cluster();
    let rel = release(&set);
    apply(&cluster, &set, &rel, &options(), &Silent)
        .await
        .unwrap();
    fake.insert(
        json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data-db-0", "namespace": "shop",
            "labels": {"app.kubernetes.io/name": "db", "app.kubernetes.io/instance": "shop"}}, "status": {"phase": "Bound"}}),
        "kube-controller-manager",
    );
    fake.delete_after("Deployment/shop/web", 3);
    fake.clear_calls();
    let removed = destroy(&cluster, &set, &rel, destroy_options(false), &Silent)
        .await
        .unwrap();
    let calls = fake.calls();
    let web = position(&calls, "delete", "Deployment/shop/web").unwrap();
    let web_gone = last_position(&calls, "get", "Deployment/shop/web").unwrap();
    let api = position(&calls, "delete", "Deployment/shop/api").unwrap();
    let db = position(&calls, "delete", "StatefulSet/shop/db").unwrap();
    assert!(
        web < web_gone && web_gone < api && api < db,
        "web, then api, then db"
    );
    let web_gets = calls
        .iter()
        .filter(|c| c.verb == "get" && c.id == "Deployment/shop/web")
        .count();
    assert_eq!(web_gets, 4, "waited until web was gone");
    assert!(fake.get("PersistentVolumeClaim/shop/data-db-0").is_some());
    assert!(
        fake.get("Secret/shop/db-secret").is_some(),
        "the generated password stays with the data"
    );
    assert!(
        fake.get("Namespace/shop").is_some(),
        "the namespace holds a claim"
    );
    let kept: Vec<String> = removed.kept.iter().map(|(id, _)| id.to_string()).collect();
    assert!(kept.contains(&"Namespace/shop".to_string()), "{kept:?}");
    assert!(
        inventory::list(&cluster, &rel).await.unwrap().is_empty(),
        "revisions are forgotten"
    );

    let removed = destroy(&cluster, &set, &rel, destroy_options(true), &Silent)
        .await
        .unwrap();
    assert!(removed.kept.is_empty(), "{:?}", removed.kept);
    assert!(fake.ids().is_empty(), "{:?}", fake.ids());
}

#[tokio::test(start_paused = true)]
async fn destroy_reports_objects_stuck_in_deletion() {
    let fake = Fake::new();
    let set = shop();
    let cluster = fake.cluster();
    apply(&cluster, &set, &release(&set), &options(), &Silent)
        .await
        .unwrap();
    fake.delete_after("Deployment/shop/web", 1_000_000);
    let err = destroy(
        &cluster,
        &set,
        &release(&set),
        destroy_options(false),
        &Silent,
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("Deployment/shop/web"), "{err}");
    assert!(err.to_string().contains("finalizers"), "{err}");
    assert!(
        fake.get("Deployment/shop/api").is_some(),
        "an earlier wave is not touched"
    );
}

#[tokio::test(start_paused = true)]
async fn status_shows_each_workload() {
    let fake = Fake::new();
    let set = shop();
    let cluster = fake.cluster();
    let objects: Vec<_> = set.objects.iter().collect();
    let rows = strata_kube::status::status(&cluster, &objects, 4)
        .await
        .unwrap();
    assert!(
        rows.iter()
            .all(|r| r.state == strata_kube::status::State::Missing)
    );
    apply(&cluster, &set, &release(&set), &options(), &Silent)
        .await
        .unwrap();
    fake.behave("Deployment/shop/web", Behavior::Never);
    fake.insert(
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-1", "namespace": "shop",
            "labels": {"app.kubernetes.io/name": "web", "app.kubernetes.io/instance": "shop"}},
            "status": {"containerStatuses": [{"name": "web", "restartCount": 7}]}}),
        "kubelet",
    );
    let rows = strata_kube::status::status(&cluster, &objects, 4)
        .await
        .unwrap();
    let web = rows
        .iter()
        .find(|r| r.id.to_string() == "Deployment/shop/web")
        .unwrap();
    assert_eq!(
        (web.desired, web.ready, web.restarts),
        (Some(1), Some(0), 7)
    );
    assert!(
        matches!(&web.state, strata_kube::status::State::Progressing(r) if r.contains("0 of 1"))
    );
    let db = rows
        .iter()
        .find(|r| r.id.to_string() == "StatefulSet/shop/db")
        .unwrap();
    assert_eq!(db.state, strata_kube::status::State::Ready);
    assert_eq!(db.tier.as_deref(), Some("data"));
}

#[tokio::test(start_paused = true)]
async fn diff_is_empty_after_apply_and_shows_a_change() {
    let fake = Fake::new();
    let set = shop();
    let cluster = fake.cluster();
    let objects: Vec<_> = set.objects.iter().collect();
    let before = strata_kube::diff::diff(&cluster, &objects, &[], 4)
        .await
        .unwrap();
    assert_eq!(before.len(), set.objects.len(), "everything is new");
    assert!(
        before
            .iter()
            .all(|c| c.kind == strata_kube::diff::ChangeKind::Added)
    );
    apply(&cluster, &set, &release(&set), &options(), &Silent)
        .await
        .unwrap();
    fake.clear_calls();
    let same = strata_kube::diff::diff(&cluster, &objects, &[], 4)
        .await
        .unwrap();
    assert!(same.is_empty(), "{same:#?}");
    assert!(
        fake.calls()
            .iter()
            .filter(|c| c.verb == "apply")
            .all(|c| c.dry_run),
        "diff writes nothing"
    );
    let v2 = render(&SHOP.replace("api:1.2.0", "api:1.3.0"));
    let objects: Vec<_> = v2.objects.iter().collect();
    let changed = strata_kube::diff::diff(&cluster, &objects, &[], 4)
        .await
        .unwrap();
    assert_eq!(changed.len(), 1, "{changed:#?}");
    assert_eq!(changed[0].id.to_string(), "Deployment/shop/api");
    assert!(
        changed[0]
            .diff
            .contains("-        image: ghcr.io/shop/api:1.2.0"),
        "{}",
        changed[0].diff
    );
    assert!(
        changed[0]
            .diff
            .contains("+        image: ghcr.io/shop/api:1.3.0"),
        "{}",
        changed[0].diff
    );
}

#[tokio::test(start_paused = true)]
async fn logs_of_a_service_come_from_all_its_pods_prefixed() {
    let fake = Fake::new();
    let set = shop();
    let cluster = fake.cluster();
    fake.insert(
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}),
        "strata",
    );
    for pod in ["api-1", "api-2"] {
        fake.insert(
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": pod, "namespace": "shop",
                "labels": {"app.kubernetes.io/name": "api", "app.kubernetes.io/instance": "shop"}},
                "spec": {"containers": [{"name": "api"}]}}),
            "kubelet",
        );
        fake.set_logs(pod, &format!("hello from {pod}\nbye from {pod}\n"));
    }
    let mut lines = Vec::new();
    let pods = strata_kube::logs::logs(&cluster, &set, "api", &LogOptions::default(), |p, l| {
        lines.push(format!("{p} | {l}"));
    })
    .await
    .unwrap();
    assert_eq!(pods, 2);
    lines.sort();
    assert_eq!(
        lines,
        [
            "api-1 | bye from api-1",
            "api-1 | hello from api-1",
            "api-2 | bye from api-2",
            "api-2 | hello from api-2"
        ]
    );
    let none =
        strata_kube::logs::logs(&cluster, &set, "web", &LogOptions::default(), |_, _| {}).await;
    assert!(none.unwrap_err().to_string().contains("no pods of `web`"));
}

/// `shop` with an operator's CRD in wave 1 and one of its resources in
/// wave 2, as raw manifests of tiers would be.
fn with_custom_resource() -> RenderedSet {
    let mut set = shop();
    set.objects.push(strata_core::render::Object {
        wave: 1,
        tier: Some("data".into()),
        service: None,
        value: json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": "caches.example.com"},
            "spec": {"group": "example.com", "scope": "Namespaced", "names": {"kind": "Cache", "plural": "caches"},
                "versions": [{"name": "v1", "served": true, "storage": true}]}}),
    });
    set.objects.push(strata_core::render::Object {
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
    apply(&fake.cluster(), &set, &release(&set), &options(), &Silent)
        .await
        .unwrap();
    let calls = fake.calls();
    let established =
        last_position(&calls, "get", "CustomResourceDefinition/caches.example.com").unwrap();
    let first_wave = position(&calls, "apply", "NetworkPolicy/shop/default-deny").unwrap();
    assert!(
        established < first_wave,
        "the CRD is established before wave 0"
    );
    let cache_ready = last_position(&calls, "get", "Cache/shop/sessions").unwrap();
    let cache_gets = calls
        .iter()
        .filter(|c| c.verb == "get" && c.id == "Cache/shop/sessions")
        .count();
    assert_eq!(cache_gets, 3, "waited for its Ready condition");
    assert!(cache_ready < position(&calls, "apply", "Deployment/shop/web").unwrap());
}

#[tokio::test(start_paused = true)]
async fn a_kind_the_cluster_does_not_serve_is_refused_with_a_hint() {
    let fake = Fake::new();
    let mut set = shop();
    set.objects.push(strata_core::render::Object {
        wave: 2,
        tier: Some("apps".into()),
        service: Some("api".into()),
        value: json!({"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor", "metadata": {"name": "api", "namespace": "shop"}}),
    });
    let f = failure(apply(&fake.cluster(), &set, &release(&set), &options(), &Silent).await);
    assert_eq!(f.step, "wave 2");
    let message = f.cause.to_string();
    assert!(message.contains("ServiceMonitor/shop/api"), "{message}");
    assert!(
        message.contains("install its CRD or operator first"),
        "{message}"
    );
    assert!(fake.get("Deployment/shop/web").is_none());
}

#[tokio::test(start_paused = true)]
async fn a_failed_prune_records_nothing_so_the_next_run_prunes_again() {
    let fake = Fake::new();
    let cluster = fake.cluster();
    let before = render(&format!("{SHOP}{WITH_EXTRAS}"));
    let rel = release(&before);
    apply(&cluster, &before, &rel, &options(), &Silent)
        .await
        .unwrap();
    fake.refuse_delete("Deployment/cron-ns/cleaner", true);
    let after = shop();
    let err = apply(&cluster, &after, &rel, &options(), &Silent)
        .await
        .unwrap_err();
    assert!(matches!(err, ApplyError::Prune(_)), "{err}");
    assert!(
        err.to_string().contains("Deployment/cron-ns/cleaner"),
        "{err}"
    );
    assert!(
        err.to_string().contains("no revision was recorded"),
        "{err}"
    );
    assert_eq!(inventory::list(&cluster, &rel).await.unwrap().len(), 1);
    fake.refuse_delete("Deployment/cron-ns/cleaner", false);
    let done = apply(&cluster, &after, &rel, &options(), &Silent)
        .await
        .unwrap();
    assert_eq!(done.revision, Some(2));
    assert!(fake.get("Deployment/cron-ns/cleaner").is_none());
}

#[tokio::test(start_paused = true)]
async fn only_a_tier_elsewhere_still_creates_the_namespace_holding_revisions() {
    let fake = Fake::new();
    let cluster = fake.cluster();
    let set = render(&format!("{SHOP}{WITH_EXTRAS}"));
    let rel = release(&set);
    assert_eq!(rel.namespace, "shop");
    let opts = ApplyOptions {
        selection: Selection {
            only: vec!["tools".into()],
            skip: vec![],
        },
        ..options()
    };
    let done = apply(&cluster, &set, &rel, &opts, &Silent).await.unwrap();
    assert_eq!(done.revision, Some(1));
    assert!(fake.get("Namespace/shop").is_some());
    assert!(fake.get("Deployment/tools-ns/admin").is_some());
    assert!(fake.get("Deployment/shop/api").is_none());
}

#[tokio::test(start_paused = true)]
async fn a_generated_secret_read_in_several_namespaces_has_the_same_values_everywhere() {
    let spec = format!(
        "{SHOP}  - name: reports\n    namespace: reports-ns\n    after: [data]\n    services:\n      report: {{ image: ghcr.io/shop/report:1.0.0, env: {{ DB_PASSWORD: {{ secret: db-secret, key: password }} }} }}\n"
    );
    let set = render(&spec);
    assert_eq!(
        set.generated_secrets[0].namespaces.len(),
        2,
        "{:?}",
        set.generated_secrets
    );
    let fake = Fake::new();
    let cluster = fake.cluster();
    apply(&cluster, &set, &release(&set), &options(), &Silent)
        .await
        .unwrap();
    let password = |id: &str| fake.get(id).unwrap()["data"]["password"].clone();
    let shop = password("Secret/shop/db-secret");
    assert_eq!(password("Secret/reports-ns/db-secret"), shop);
    // A copy lost in one namespace comes back with the other's value.
    let copy = strata_kube::ObjectId {
        api_version: "v1".into(),
        kind: "Secret".into(),
        namespace: "reports-ns".into(),
        name: "db-secret".into(),
    };
    cluster.delete(&copy).await.unwrap();
    let done = apply(&cluster, &set, &release(&set), &options(), &Silent)
        .await
        .unwrap();
    assert_eq!(done.secrets, [copy]);
    assert_eq!(password("Secret/reports-ns/db-secret"), shop);
    assert_eq!(password("Secret/shop/db-secret"), shop);
}

/// A database owner's login is a `kubernetes.io/basic-auth` Secret with its
/// user name rendered and its password generated: it is created with that
/// type, because an API server refuses to change a Secret's type later.
#[tokio::test(start_paused = true)]
async fn a_generated_secret_is_created_with_its_rendered_type() {
    let spec = "platform: shop\ntiers:\n  - name: data\n    services:\n      db: { blueprint: postgresql, databases: [orders] }\n";
    let set = render(spec);
    let fake = Fake::new();
    let cluster = fake.cluster();
    apply(&cluster, &set, &release(&set), &options(), &Silent)
        .await
        .unwrap();
    let owner = fake.get("Secret/shop/db-orders").unwrap();
    assert_eq!(owner["type"], "kubernetes.io/basic-auth");
    assert!(owner["data"]["password"].is_string(), "{owner}");
    let root = fake.get("Secret/shop/db-credentials").unwrap();
    assert_eq!(root["type"], "Opaque");
}

/// A claim whose class binds on first use stays `Pending` until a pod is
/// scheduled on it: the wave does not wait for it to bind, while a claim of
/// an immediately binding class is waited for.
#[tokio::test(start_paused = true)]
async fn a_claim_bound_on_first_use_is_not_waited_for() {
    let spec = "platform: shop\ntiers:\n  - name: data\n    services:\n      files: { image: ghcr.io/shop/files:1.0.0, kind: stateless, storage: 1Gi }\n";
    let set = render(spec);
    for (mode, binds_later) in [("WaitForFirstConsumer", true), ("Immediate", false)] {
        let fake = Fake::new();
        fake.insert(
            serde_json::json!({
                "apiVersion": "storage.k8s.io/v1",
                "kind": "StorageClass",
                "metadata": { "name": "standard", "annotations": { "storageclass.kubernetes.io/is-default-class": "true" } },
                "provisioner": "example.com/disk",
                "volumeBindingMode": mode,
            }),
            "cluster-admin",
        );
        fake.behave("PersistentVolumeClaim/shop/files-data", Behavior::Never);
        let result = apply(&fake.cluster(), &set, &release(&set), &options(), &Silent).await;
        assert_eq!(result.is_ok(), binds_later, "{mode}: {result:?}");
    }
}

/// A reader's namespace holds only a copy of a generated secret: destroy
/// keeps the secret, so it keeps the namespace too (deleting a namespace
/// deletes what is in it).
#[tokio::test(start_paused = true)]
async fn destroy_keeps_a_namespace_that_holds_a_kept_secret() {
    let spec = format!(
        "{SHOP}  - name: reports\n    namespace: reports-ns\n    after: [data]\n    services:\n      report: {{ image: ghcr.io/shop/report:1.0.0, env: {{ DB_PASSWORD: {{ secret: db-secret, key: password }} }} }}\n"
    );
    let set = render(&spec);
    let fake = Fake::new();
    let cluster = fake.cluster();
    let rel = release(&set);
    apply(&cluster, &set, &rel, &options(), &Silent)
        .await
        .unwrap();
    let removed = destroy(&cluster, &set, &rel, destroy_options(false), &Silent)
        .await
        .unwrap();
    assert!(
        fake.get("Secret/reports-ns/db-secret").is_some(),
        "the copy is kept"
    );
    assert!(fake.get("Deployment/reports-ns/report").is_none());
    let kept: Vec<String> = removed.kept.iter().map(|(id, _)| id.to_string()).collect();
    assert!(
        kept.contains(&"Namespace/reports-ns".to_string()),
        "{kept:?}"
    );
}

/// A pod whose container is still waiting to start has no log yet: the
/// others are read all the same, and the waiting one says why it is silent.
#[tokio::test(start_paused = true)]
async fn logs_go_on_past_a_pod_that_has_none_yet() {
    let fake = Fake::new();
    let set = shop();
    let cluster = fake.cluster();
    fake.insert(
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}),
        "strata",
    );
    for pod in ["api-1", "api-2"] {
        fake.insert(
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": pod, "namespace": "shop",
                "labels": {"app.kubernetes.io/name": "api", "app.kubernetes.io/instance": "shop"}},
                "spec": {"containers": [{"name": "api"}]}}),
            "kubelet",
        );
    }
    // Only api-2 has started: the fake refuses api-1's log.
    fake.set_logs("api-2", "ready\n");
    let mut lines = Vec::new();
    let pods = strata_kube::logs::logs(&cluster, &set, "api", &LogOptions::default(), |p, l| {
        lines.push(format!("{p} | {l}"));
    })
    .await
    .unwrap();
    assert_eq!(pods, 2);
    assert!(lines.contains(&"api-2 | ready".to_string()), "{lines:?}");
    assert!(
        lines.iter().any(|l| l.starts_with("api-1 | (no log:")),
        "{lines:?}"
    );
}

/// Discovery lists a new CRD's kind a moment after the CRD is Established:
/// its resources are applied once the kind shows, not refused as unknown.
#[tokio::test(start_paused = true)]
async fn a_custom_resource_waits_for_discovery_to_list_its_new_kind() {
    let fake = Fake::new();
    fake.discovery_lag(3);
    let set = with_custom_resource();
    apply(&fake.cluster(), &set, &release(&set), &options(), &Silent)
        .await
        .unwrap();
    assert!(fake.get("Cache/shop/sessions").is_some());
}

/// A Job's pod template cannot change in place: a Job rendered anew
/// replaces the old one.
#[tokio::test(start_paused = true)]
async fn a_changed_job_replaces_the_old_one() {
    let spec = |tag: &str| {
        format!(
            "platform: shop\ntiers:\n  - name: apps\n    services:\n      migrate: {{ image: ghcr.io/shop/migrate:{tag}, kind: job }}\n"
        )
    };
    let fake = Fake::new();
    let cluster = fake.cluster();
    let first = render(&spec("1.0.0"));
    apply(&cluster, &first, &release(&first), &options(), &Silent)
        .await
        .unwrap();
    let second = render(&spec("1.1.0"));
    apply(&cluster, &second, &release(&second), &options(), &Silent)
        .await
        .unwrap();
    let job = fake.get("Job/shop/migrate").unwrap();
    assert_eq!(
        job["spec"]["template"]["spec"]["containers"][0]["image"],
        "ghcr.io/shop/migrate:1.1.0"
    );
    let calls = fake.calls();
    let deleted = position(&calls, "delete", "Job/shop/migrate").expect("the old Job is deleted");
    assert!(deleted < last_position(&calls, "apply", "Job/shop/migrate").unwrap());
}

/// `diff` says what `apply` would refuse: fields another manager owns are
/// named with their manager, and the diff shows them taken.
#[tokio::test(start_paused = true)]
async fn diff_names_the_conflicts_apply_would_meet() {
    let fake = Fake::new();
    let set = shop();
    let cluster = fake.cluster();
    let mut theirs = set
        .objects
        .iter()
        .find(|o| o.key() == "Deployment/shop/api")
        .unwrap()
        .value
        .clone();
    theirs["spec"]["replicas"] = json!(5);
    fake.insert(
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}),
        "strata",
    );
    fake.insert(theirs, "kubectl-edit");
    let objects: Vec<_> = set.objects.iter().collect();
    let changes = strata_kube::diff::diff(&cluster, &objects, &[], 4)
        .await
        .unwrap();
    let api = changes
        .iter()
        .find(|c| c.id.to_string() == "Deployment/shop/api")
        .unwrap();
    assert!(
        api.conflicts
            .iter()
            .any(|c| c.field == ".spec.replicas" && c.manager == "kubectl-edit"),
        "{:?}",
        api.conflicts
    );
    assert!(api.diff.contains("-  replicas: 5"), "{}", api.diff);
    assert!(
        changes
            .iter()
            .filter(|c| c.id.to_string() != "Deployment/shop/api")
            .all(|c| c.conflicts.is_empty())
    );
}

#[tokio::test(start_paused = true)]
async fn missing_pull_secrets_stop_apply_before_the_first_wave() {
    let text = SHOP.replace(
        "secrets:",
        "registries:\n  ghcr.io: { pullSecret: ghcr-pull }\nsecrets:",
    );
    let set = render(&text);
    assert_eq!(set.pull_secrets.len(), 1);
    let fake = Fake::new();
    let cluster = fake.cluster();
    let f = failure(apply(&cluster, &set, &release(&set), &options(), &Silent).await);
    let Cause::PullSecretsMissing(missing) = &f.cause else {
        panic!("expected missing pull secrets, got {:?}", f.cause);
    };
    assert_eq!(missing.len(), 1);
    assert_eq!(
        (missing[0].name.as_str(), missing[0].namespace.as_str()),
        ("ghcr-pull", "shop")
    );
    let message = f.cause.to_string();
    assert!(
        message.contains("kubectl create secret docker-registry ghcr-pull --docker-server=ghcr.io")
            && message.contains("-n shop"),
        "{message}"
    );
    // The namespace was created first, nothing of the waves was applied.
    assert!(fake.get("Namespace/shop").is_some(), "{:?}", fake.ids());
    assert!(fake.get("Deployment/shop/api").is_none());
    assert!(fake.get("StatefulSet/shop/db").is_none());

    // Only the selected pods' secrets are checked: the data tier's postgres
    // comes from Docker Hub, so it applies without the secret.
    let data_only = ApplyOptions {
        selection: Selection {
            only: vec!["data".into()],
            skip: vec![],
        },
        ..options()
    };
    apply(&cluster, &set, &release(&set), &data_only, &Silent)
        .await
        .unwrap();
    assert!(fake.get("StatefulSet/shop/db").is_some());
    assert!(fake.get("Deployment/shop/api").is_none());
    // A dry run does not check: the namespace may not exist yet.
    let dry = ApplyOptions {
        dry_run: true,
        ..options()
    };
    apply(&cluster, &set, &release(&set), &dry, &Silent)
        .await
        .unwrap();
    // Once the secret exists, the apply goes through.
    fake.insert(
        json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": { "name": "ghcr-pull", "namespace": "shop" },
            "type": "kubernetes.io/dockerconfigjson",
            "data": { ".dockerconfigjson": "e30=" },
        }),
        "kubectl",
    );
    apply(&cluster, &set, &release(&set), &options(), &Silent)
        .await
        .unwrap();
    let api = fake.get("Deployment/shop/api").unwrap();
    assert_eq!(
        api["spec"]["template"]["spec"]["imagePullSecrets"],
        json!([{ "name": "ghcr-pull" }])
    );
    let db = fake.get("StatefulSet/shop/db").unwrap();
    assert!(
        db["spec"]["template"]["spec"]
            .get("imagePullSecrets")
            .is_none(),
        "postgres comes from Docker Hub"
    );
}
