//! The Kubernetes permissions each verb needs, as its requests to the fake
//! API server show them, compared with the table of docs/rbac.md: a verb
//! that starts making a new kind of request fails here until the page
//! says so, and the page lists nothing a verb does not ask for.

mod fake;
mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use fake::{Call, Fake};
use serde_json::json;
use strata_core::render::{self, NoAssets};
use strata_core::{source::SourceFile, spec};
use strata_kube::backup::{Callers, Wait, backup, list, restore};
use strata_kube::verify::{VerifyOptions, verify};
use support::{apply_set, release};

const SPEC: &str = r"
platform: shop
tiers:
  - name: data
    services:
      store: { blueprint: minio, backup: none }
      db: { blueprint: postgresql, databases: [orders], backup: { to: store } }
      cache: { blueprint: redis, backup: { to: store } }
  - name: apps
    after: [data]
    services:
      api: { image: ghcr.io/shop/api:1.2.0, ports: { http: 8080 }, needs: [db, cache], probes: { path: /healthz } }
";

const STAMP: &str = "20260105T030000Z";

const WAIT: Wait = Wait {
    interval: Duration::from_secs(1),
    timeout: Duration::from_secs(30),
};

/// The resource a request's object is of: its kind in the plural, lower
/// case; a subresource after a `/`.
fn resource(call: &Call) -> String {
    let kind = call.id.split('/').next().unwrap_or_default().to_lowercase();
    let plural = if let Some(stem) = kind.strip_suffix('y') {
        format!("{stem}ies")
    } else if kind.ends_with('s') {
        format!("{kind}es")
    } else {
        format!("{kind}s")
    };
    match call.verb {
        "log" => format!("{plural}/log"),
        "proxy" => format!("{plural}/proxy"),
        _ => plural,
    }
}

/// The RBAC verbs a request needs: a server-side apply patches, and
/// creates what is not there yet (a dry run, of objects that are there,
/// only patches); a merge patch patches; a log and a proxy are reads of
/// their subresource.
fn verbs(call: &Call) -> &'static [&'static str] {
    match call.verb {
        "get" | "get-metadata" | "log" | "proxy" => &["get"],
        "list" | "list-metadata" => &["list"],
        "watch" => &["watch"],
        "apply" if call.dry_run => &["patch"],
        "apply" => &["create", "patch"],
        "create" => &["create"],
        "merge" => &["patch"],
        "delete" => &["delete"],
        // The fake's own note that a controller made an object ready.
        _ => &[],
    }
}

/// What `calls` need: each resource with its verbs.
fn needed(calls: &[Call]) -> BTreeMap<String, BTreeSet<&'static str>> {
    let mut needed: BTreeMap<String, BTreeSet<&'static str>> = BTreeMap::new();
    for call in calls {
        let verbs = verbs(call);
        if !verbs.is_empty() {
            needed
                .entry(resource(call))
                .or_default()
                .extend(verbs.iter().copied());
        }
    }
    needed
}

/// The table of docs/rbac.md: for each strata verb, each resource with its
/// verbs.
fn documented() -> BTreeMap<String, BTreeMap<String, BTreeSet<String>>> {
    let page = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/rbac.md"),
    )
    .unwrap();
    let mut table: BTreeMap<String, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for row in page.lines().filter(|l| l.starts_with("| `strata ")) {
        let cells: Vec<&str> = row.trim_matches('|').split('|').map(str::trim).collect();
        let verb = cells[0]
            .trim_matches('`')
            .trim_start_matches("strata ")
            .to_string();
        let resources = table.entry(verb).or_default();
        for entry in cells[1].split(", ") {
            let (resource, verbs) = entry.trim_matches('`').split_once(": ").unwrap();
            resources.insert(
                resource.to_string(),
                verbs.split(' ').map(str::to_string).collect(),
            );
        }
    }
    table
}

/// A table row as docs/rbac.md writes it.
fn row(verb: &str, needed: &BTreeMap<String, BTreeSet<&'static str>>) -> String {
    let order = ["get", "list", "watch", "create", "patch", "delete"];
    let cells: Vec<String> = needed
        .iter()
        .map(|(resource, verbs)| {
            let verbs: Vec<&str> = order
                .iter()
                .copied()
                .filter(|v| verbs.contains(v))
                .collect();
            format!("`{resource}: {}`", verbs.join(" "))
        })
        .collect();
    format!("| `strata {verb}` | {} |", cells.join(", "))
}

#[tokio::test(start_paused = true)]
async fn each_verb_asks_for_what_docs_rbac_md_lists() {
    let doc = spec::parse(&SourceFile::new("shop.yaml", SPEC)).unwrap();
    let platform = strata_core::resolve(&doc, None).unwrap();
    let mut set = render::render(&platform, &NoAssets).unwrap();
    set.objects.retain(|o| !render::secret_job::is_part(o));
    let fake = Fake::new();
    let cluster = fake.cluster();
    let mut observed: BTreeMap<&str, BTreeMap<String, BTreeSet<&'static str>>> = BTreeMap::new();

    // Workloads ready a moment after each change, so apply watches them.
    fake.readiness(Duration::from_secs(3), Duration::from_secs(1));
    apply_set(&cluster, &set).await.unwrap();
    observed.insert("apply", needed(&fake.calls()));
    fake.readiness(Duration::ZERO, Duration::from_secs(1));

    fake.clear_calls();
    let objects: Vec<&render::Object> = set.objects.iter().collect();
    strata_kube::status::status(&cluster, &objects, 8)
        .await
        .unwrap();
    observed.insert("status", needed(&fake.calls()));

    // The pods that run, for verify's policy check and restore's waiting.
    for (name, service) in [("api-1", "api"), ("cache-0", "cache")] {
        let labels = set
            .objects
            .iter()
            .find(|o| o.name() == service && ["Deployment", "StatefulSet"].contains(&o.kind()))
            .unwrap()
            .value["spec"]["template"]["metadata"]["labels"]
            .clone();
        fake.insert(
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "shop", "labels": labels}}),
            "kubelet",
        );
    }
    fake.clear_calls();
    verify(
        &cluster,
        &platform,
        &set,
        &release(&set),
        &VerifyOptions::default(),
    )
    .await
    .unwrap();
    observed.insert("verify", needed(&fake.calls()));

    fake.clear_calls();
    backup(
        &cluster,
        &platform,
        &["db".into()],
        STAMP,
        WAIT,
        &mut |_| {},
    )
    .await
    .unwrap();
    observed.insert("backup", needed(&fake.calls()));

    let job = "db-backups-20260105t030000z";
    fake.insert(
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": format!("{job}-x7k2p"), "namespace": "shop", "labels": {"job-name": job}}, "spec": {"containers": [{"name": "upload"}]}}),
        "kubelet",
    );
    fake.set_logs(&format!("{job}-x7k2p"), "");
    fake.clear_calls();
    list(&cluster, &platform, "db", STAMP, WAIT, &mut |_| {})
        .await
        .unwrap();
    observed.insert("backups", needed(&fake.calls()));

    // Redis: its callers and its server stopped and started again.
    fake.clear_calls();
    restore(
        &cluster,
        &platform,
        "cache",
        "20260104T030000Z",
        Callers::Stop,
        "20260106T030000Z",
        WAIT,
        &mut |_| {},
    )
    .await
    .unwrap();
    let mut restoring = needed(&fake.calls());
    // PostgreSQL: into the running server.
    fake.clear_calls();
    restore(
        &cluster,
        &platform,
        "db",
        "20260104T030000Z",
        Callers::Stop,
        "20260107T030000Z",
        WAIT,
        &mut |_| {},
    )
    .await
    .unwrap();
    for (resource, verbs) in needed(&fake.calls()) {
        restoring.entry(resource).or_default().extend(verbs);
    }
    observed.insert("restore", restoring);

    let documented = documented();
    let expected: Vec<String> = observed
        .iter()
        .map(|(verb, needed)| row(verb, needed))
        .collect();
    for (verb, needed) in &observed {
        let written = documented.get(*verb).cloned().unwrap_or_default();
        let asked: BTreeMap<String, BTreeSet<String>> = needed
            .iter()
            .map(|(r, v)| (r.clone(), v.iter().map(|v| (*v).to_string()).collect()))
            .collect();
        assert_eq!(
            written,
            asked,
            "docs/rbac.md is not what `strata {verb}` asks for; its rows should read:\n{}",
            expected.join("\n")
        );
    }
}
