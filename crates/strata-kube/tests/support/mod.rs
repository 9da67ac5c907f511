//! What the engine's tests share: the `shop` platform and its variants,
//! the options they apply with, objects other actors leave in the cluster,
//! and ways to read the fake's log of calls.

#![allow(dead_code)] // each test binary uses its own part

use std::time::Duration;

use serde_json::{Value, json};
use strata_core::render::{self, NoAssets, RenderedSet};
use strata_core::{source::SourceFile, spec};
use strata_kube::apply::Failure;
use strata_kube::progress::{Event, Progress};
use strata_kube::{Applied, ApplyError, ApplyOptions, Cluster, Release, Selection, Silent, apply};

use crate::fake::{Call, Fake};

/// Three waves after the namespace's: `db` (with a generated secret), then
/// `api`, then `web`, which needs `api`.
pub(crate) const SHOP: &str = r"
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

/// Tiers in namespaces of their own, appended to `SHOP`: what a later
/// `SHOP` alone leaves to prune.
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

/// The objects a spec renders to, with no raw manifests.
pub(crate) fn render(text: &str) -> RenderedSet {
    let file = SourceFile::new("shop.yaml", text);
    let doc = spec::parse(&file).unwrap_or_else(|e| panic!("{e:?}"));
    let platform = strata_core::resolve(&doc, None).unwrap_or_else(|e| panic!("{e:?}"));
    render::render(&platform, &NoAssets).unwrap_or_else(|e| panic!("{e:?}"))
}

/// `SHOP` rendered.
pub(crate) fn shop() -> RenderedSet {
    render(SHOP)
}

/// `SHOP` with api's image moved from 1.2.0 to 1.3.0.
pub(crate) fn upgraded_spec() -> String {
    SHOP.replace("api:1.2.0", "api:1.3.0")
}

/// `SHOP` with the tiers of `WITH_EXTRAS`, rendered.
pub(crate) fn shop_with_extras() -> RenderedSet {
    render(&format!("{SHOP}{WITH_EXTRAS}"))
}

/// `SHOP` with a `reports` tier in its own namespace reading the generated
/// `db-secret`, so the secret is copied there.
pub(crate) fn shop_with_reports() -> RenderedSet {
    render(&format!(
        "{SHOP}  - name: reports\n    namespace: reports-ns\n    after: [data]\n    services:\n      report: {{ image: ghcr.io/shop/report:1.0.0, env: {{ DB_PASSWORD: {{ secret: db-secret, key: password }} }} }}\n"
    ))
}

/// The release a set is recorded under, its revisions in namespace `shop`.
pub(crate) fn release(set: &RenderedSet) -> Release {
    Release::new(set, "shop")
}

/// A one-minute timeout, four applies at a time; readiness only by watch
/// (the safety-net re-read would come after the timeout).
pub(crate) fn options() -> ApplyOptions {
    ApplyOptions {
        timeout: Duration::from_mins(1),
        poll: Duration::from_secs(1),
        resync: Duration::from_mins(10),
        concurrency: 4,
        ..ApplyOptions::default()
    }
}

/// `options()` with `only` and `skip` selecting tiers or services.
pub(crate) fn selecting(only: &[&str], skip: &[&str]) -> ApplyOptions {
    let names = |names: &[&str]| names.iter().map(|&n| n.to_string()).collect();
    ApplyOptions {
        selection: Selection {
            only: names(only),
            skip: names(skip),
        },
        ..options()
    }
}

/// Applies `set` under its own release with `options()`.
pub(crate) async fn apply_set(cluster: &Cluster, set: &RenderedSet) -> Result<Applied, ApplyError> {
    apply(cluster, set, &release(set), &options(), &Silent).await
}

/// The failure of an apply expected to fail in a wave.
pub(crate) fn failure(result: Result<Applied, ApplyError>) -> Box<Failure> {
    match result {
        Err(ApplyError::Failed(f)) => f,
        other => panic!("expected a failed apply, got {other:?}"),
    }
}

/// Namespace `shop`, as if an earlier apply had created it.
pub(crate) fn insert_shop_namespace(fake: &Fake) {
    fake.insert(
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}),
        "strata",
    );
}

/// Someone ran `kubectl edit` on the api Deployment before Strata applied
/// it: `kubectl-edit` owns `.spec.replicas`, set to 5.
pub(crate) fn insert_api_edited_by_hand(fake: &Fake, set: &RenderedSet) {
    let mut theirs = set
        .objects
        .iter()
        .find(|o| o.key() == "Deployment/shop/api")
        .unwrap()
        .value
        .clone();
    theirs["spec"]["replicas"] = json!(5);
    insert_shop_namespace(fake);
    fake.insert(theirs, "kubectl-edit");
}

/// A pod named `name` in `shop` with the labels of `service`'s pods, with
/// neither spec nor status: callers add what their test needs.
pub(crate) fn shop_pod(name: &str, service: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "shop",
        "labels": {"app.kubernetes.io/name": service, "app.kubernetes.io/instance": "shop"}}})
}

/// Where the first real (not dry-run) `verb` call on `id` is in `calls`.
pub(crate) fn position(calls: &[Call], verb: &str, id: &str) -> Option<usize> {
    calls
        .iter()
        .position(|c| c.verb == verb && c.id == id && !c.dry_run)
}

/// Where the last real (not dry-run) `verb` call on `id` is in `calls`.
pub(crate) fn last_position(calls: &[Call], verb: &str, id: &str) -> Option<usize> {
    calls
        .iter()
        .rposition(|c| c.verb == verb && c.id == id && !c.dry_run)
}

/// How many GETs of `id` there are in `calls`.
pub(crate) fn gets(calls: &[Call], id: &str) -> usize {
    calls
        .iter()
        .filter(|c| c.verb == "get" && c.id == id)
        .count()
}

/// Keeps what an apply reported, in order.
#[derive(Default)]
pub(crate) struct Recorder(std::sync::Mutex<Vec<Event>>);

impl Progress for Recorder {
    fn event(&self, event: Event) {
        self.0.lock().unwrap().push(event);
    }
}

impl Recorder {
    /// Every event so far.
    pub(crate) fn events(&self) -> Vec<Event> {
        self.0.lock().unwrap().clone()
    }

    /// What was reported of the readiness of `Kind/ns/name`: `waiting`
    /// (each new reason) and `ready`, in order.
    pub(crate) fn of(&self, id: &str) -> Vec<&'static str> {
        self.events()
            .iter()
            .filter_map(|e| match e {
                Event::Waiting { id: i, .. } if i.to_string() == id => Some("waiting"),
                Event::Ready { id: i, .. } if i.to_string() == id => Some("ready"),
                _ => None,
            })
            .collect()
    }
}
