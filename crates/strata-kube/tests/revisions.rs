//! Revisions: each successful apply is recorded, the last ten are kept,
//! `rollback` re-applies one, and `--atomic` rolls a failed apply back to
//! the previous revision. Time is paused, so waits cost nothing.

mod fake;
mod support;

use fake::{Behavior, Fake};
use strata_kube::apply::Rollback;
use strata_kube::inventory::{self, InventoryError};
use strata_kube::{ApplyError, ApplyOptions, Silent, apply, rollback};
use support::{failure, options, release, render, shop, upgraded_spec};

#[tokio::test(start_paused = true)]
async fn history_lists_revisions_and_rollback_reapplies_one() {
    let fake = Fake::new();
    let cluster = fake.cluster();
    let v1 = shop();
    let v2 = render(&upgraded_spec());
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
    let (v1, v2) = (shop(), render(&upgraded_spec()));
    let rel = release(&v1);
    for i in 0..12 {
        let set = if i % 2 == 0 { &v1 } else { &v2 };
        apply(&cluster, set, &rel, &options(), &Silent)
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
async fn an_apply_that_changes_nothing_records_no_revision() {
    let fake = Fake::new();
    let cluster = fake.cluster();
    let (v1, v2) = (shop(), render(&upgraded_spec()));
    let rel = release(&v1);
    for set in [&v1, &v2, &v2, &v2] {
        apply(&cluster, set, &rel, &options(), &Silent)
            .await
            .unwrap();
    }
    // The history holds what changed the cluster, not each run: the
    // revision before the latest is still v1, what a rollback goes to.
    let history = inventory::list(&cluster, &rel).await.unwrap();
    let summary: Vec<(u32, bool)> = history.iter().map(|r| (r.number, r.set == v1)).collect();
    assert_eq!(summary, [(1, true), (2, false)]);
    assert_eq!(inventory::numbers(&cluster, &rel).await.unwrap(), [1, 2]);
    // The same render with another selection is recorded: a rollback
    // re-applies with the selection of its revision.
    let skipping = support::selecting(&[], &["web"]);
    let done = apply(&cluster, &v2, &rel, &skipping, &Silent)
        .await
        .unwrap();
    assert_eq!((done.revision, done.recorded), (Some(3), true));
    // A rollback is asked for: it is recorded even when it changes nothing.
    let done = rollback(&cluster, &rel, 3, &options(), &Silent)
        .await
        .unwrap();
    assert_eq!((done.revision, done.recorded), (Some(4), true));
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
        upgraded_spec().trim_end()
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
        upgraded_spec().trim_end()
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
