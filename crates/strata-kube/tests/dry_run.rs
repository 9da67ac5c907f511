//! `apply --dry-run`: every wave checked, every refusal reported with the
//! notes of what could not be checked, and the API server's warnings
//! (deprecated versions of an operator's CRDs) shown.

mod fake;
mod support;

use std::path::Path;

use fake::Fake;
use serde_json::json;
use strata_core::render::{Object, RenderedSet};
use strata_kube::apply::Cause;
use strata_kube::{ApplyOptions, Silent, apply};
use support::{failure, insert_shop_namespace, options, release, shop};

fn dry() -> ApplyOptions {
    ApplyOptions {
        dry_run: true,
        ..options()
    }
}

fn push(set: &mut RenderedSet, wave: usize, value: serde_json::Value) {
    set.objects.push(Object {
        wave,
        tier: Some("apps".into()),
        service: None,
        value,
    });
}

/// The least a Kafka's spec must say, for Strimzi's schema.
fn kafka_spec() -> serde_json::Value {
    json!({"kafka": {"listeners": [{"name": "plain", "port": 9092, "type": "internal", "tls": false}]}})
}

/// Strimzi 0.51 serves `kafka.strimzi.io/v1beta2` deprecated: the server's
/// warning comes back with the object, as from a real API server holding
/// the published CRDs.
#[tokio::test(start_paused = true)]
async fn a_dry_run_shows_the_servers_deprecation_warnings() {
    let fake = Fake::new();
    fake.install_crds(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../testdata/crds/strimzi/0.51.0/040-Crd-kafka.yaml"),
    );
    insert_shop_namespace(&fake);
    let mut set = shop();
    push(
        &mut set,
        1,
        json!({"apiVersion": "kafka.strimzi.io/v1beta2", "kind": "Kafka", "metadata": {"name": "events", "namespace": "shop"}, "spec": kafka_spec()}),
    );
    push(
        &mut set,
        1,
        json!({"apiVersion": "kafka.strimzi.io/v1", "kind": "Kafka", "metadata": {"name": "logs", "namespace": "shop"}, "spec": kafka_spec()}),
    );
    let done = apply(&fake.cluster(), &set, &release(&set), &dry(), &Silent)
        .await
        .unwrap();
    let warned: Vec<String> = done
        .warnings
        .iter()
        .map(|(id, w)| format!("{id}: {w}"))
        .collect();
    assert_eq!(warned.len(), 1, "{warned:?}");
    assert!(
        warned[0].starts_with("Kafka/shop/events: ") && warned[0].contains("deprecated"),
        "{warned:?}"
    );
    assert!(fake.get("Kafka/shop/events").is_none(), "nothing written");
}

/// A refusal in an early wave does not hide those of later waves: every
/// wave is checked, every refusal reported, and the notes on what could
/// not be checked are kept.
#[tokio::test(start_paused = true)]
async fn a_dry_run_checks_every_wave_and_keeps_its_notes() {
    let fake = Fake::new();
    insert_shop_namespace(&fake);
    let mut set = shop();
    push(
        &mut set,
        0,
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "extra"}}),
    );
    push(
        &mut set,
        2,
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings", "namespace": "extra"}}),
    );
    // Someone scaled api (wave 2) and web (wave 3) by hand: both conflict.
    for name in ["api", "web"] {
        let mut theirs = set
            .objects
            .iter()
            .find(|o| o.key() == format!("Deployment/shop/{name}"))
            .unwrap()
            .value
            .clone();
        theirs["spec"]["replicas"] = json!(5);
        fake.insert(theirs, "kubectl-edit");
    }
    let f = failure(apply(&fake.cluster(), &set, &release(&set), &dry(), &Silent).await);
    assert_eq!(f.step, "dry run");
    let Cause::Refusals(refused) = &f.cause else {
        panic!("every refusal: {}", f.cause);
    };
    let text: Vec<String> = refused.iter().map(ToString::to_string).collect();
    assert_eq!(text.len(), 2, "{text:?}");
    assert!(text[0].contains("Deployment/shop/api"), "{text:?}");
    assert!(text[1].contains("Deployment/shop/web"), "{text:?}");
    assert!(
        f.notes.iter().any(|n| n.contains(
            "ConfigMap/extra/settings: not checked, namespace `extra` does not exist yet"
        )),
        "{:?}",
        f.notes
    );
    assert_eq!(
        fake.get("Deployment/shop/api").unwrap()["spec"]["replicas"],
        5,
        "nothing written"
    );
}
