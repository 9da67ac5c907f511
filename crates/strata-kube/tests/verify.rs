//! `verify` against the fake API server: a platform applied and left alone
//! passes every check; each kind of trouble a cluster can have after an
//! apply (a workload not ready, a Service without ready endpoints, a health
//! URL answering 500, a Secret deleted, a NetworkPolicy edited so that a
//! declared call is refused, an object changed by hand, a spec changed since
//! the last apply) fails its check, naming the object and what to run next.

mod fake;
mod support;

use fake::{Behavior, Fake};
use serde_json::json;
use strata_core::model::Platform;
use strata_core::render::{self, NoAssets, RenderedSet};
use strata_core::{source::SourceFile, spec};
use strata_kube::verify::{Check, Next, Outcome, Report, Verdict, VerifyOptions, verify};
use strata_kube::{Cluster, ObjectId};
use support::{SHOP, apply_set, release};

/// `SHOP` with an HTTP readiness path on api and web: their health URLs.
fn spec_text() -> String {
    SHOP.replace(
        "api: { image: ghcr.io/shop/api:1.2.0, ports: { http: 8080 } }",
        "api: { image: ghcr.io/shop/api:1.2.0, ports: { http: 8080 }, probes: { path: /healthz } }",
    )
    .replace(
        "ports: { http: 8080 }, needs: [api] }",
        "ports: { http: 8080 }, needs: [api], probes: { path: /ready } }",
    )
}

/// The platform and what it renders, without the secret-generating Job
/// (as the binary leaves it out of what it applies and verifies).
fn platform(text: &str) -> (Platform, RenderedSet) {
    let file = SourceFile::new("shop.yaml", text);
    let doc = spec::parse(&file).unwrap_or_else(|e| panic!("{e:?}"));
    let platform = strata_core::resolve(&doc, None).unwrap_or_else(|e| panic!("{e:?}"));
    let mut set = render::render(&platform, &NoAssets).unwrap_or_else(|e| panic!("{e:?}"));
    set.objects.retain(|o| !render::secret_job::is_part(o));
    (platform, set)
}

/// The platform applied to a new fake cluster.
async fn applied() -> (Fake, Cluster, Platform, RenderedSet) {
    let fake = Fake::new();
    let cluster = fake.cluster();
    let (platform, set) = platform(&spec_text());
    apply_set(&cluster, &set).await.unwrap();
    (fake, cluster, platform, set)
}

async fn run(cluster: &Cluster, platform: &Platform, set: &RenderedSet) -> Report {
    verify(
        cluster,
        platform,
        set,
        &release(set),
        &VerifyOptions::default(),
    )
    .await
    .unwrap()
}

/// The failures of `check`.
fn failed(report: &Report, check: Check) -> Vec<&Outcome> {
    report.failures().filter(|o| o.check == check).collect()
}

/// The one failure of `check` about `subject`.
fn failure<'a>(report: &'a Report, check: Check, subject: &str) -> &'a Outcome {
    let found: Vec<&Outcome> = failed(report, check)
        .into_iter()
        .filter(|o| o.subject == subject)
        .collect();
    assert_eq!(found.len(), 1, "{check} {subject}: {report:#?}");
    found[0]
}

fn id(kind: &str, api_version: &str, name: &str) -> ObjectId {
    ObjectId {
        api_version: api_version.into(),
        kind: kind.into(),
        namespace: "shop".into(),
        name: name.into(),
    }
}

#[tokio::test(start_paused = true)]
async fn health_urls_are_asked_at_most_concurrency_at_once() {
    // Seven services with a health URL, each answer taking a second.
    let mut text = spec_text();
    for n in 0..5 {
        text.push_str(&format!(
            "      extra{n}: {{ image: ghcr.io/shop/extra:1.0.0, ports: {{ http: 8080 }}, probes: {{ path: /healthz }}, expose: [] }}\n"
        ));
    }
    let (platform, set) = platform(&text);
    for (concurrency, most) in [(1, 1), (3, 3), (8, 7)] {
        let fake = Fake::new();
        let cluster = fake.cluster();
        apply_set(&cluster, &set).await.unwrap();
        fake.request_latency(std::time::Duration::from_secs(1));
        let report = verify(
            &cluster,
            &platform,
            &set,
            &release(&set),
            &VerifyOptions {
                concurrency,
                ..VerifyOptions::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(report.counts(Check::Health).0, 7, "{report:#?}");
        assert_eq!(
            fake.max_proxies_in_flight(),
            most,
            "--concurrency {concurrency}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_platform_applied_and_left_alone_passes_every_check() {
    let (fake, cluster, platform, set) = applied().await;
    let report = run(&cluster, &platform, &set).await;
    assert!(report.passed(), "{report:#?}");
    // Each check looked at what there is to look at.
    let passed = |check| report.counts(check).0;
    assert_eq!(passed(Check::Revision), 1);
    assert_eq!(passed(Check::Drift), 1);
    assert!(passed(Check::Workload) >= 3, "{report:#?}");
    // db, db-headless, api, web.
    assert_eq!(passed(Check::Endpoints), 4, "{report:#?}");
    assert_eq!(passed(Check::Reference), 1, "the generated db-secret");
    assert_eq!(passed(Check::Health), 2, "{report:#?}");
    assert_eq!(passed(Check::Policy), 1, "web → api");
    // db has no HTTP health URL: said, not failed.
    assert_eq!(report.counts(Check::Health).2, 1);
    // The health URLs went through the service proxy, on the probe's path.
    let mut proxied: Vec<String> = fake
        .calls()
        .into_iter()
        .filter(|c| c.verb == "proxy")
        .map(|c| c.id)
        .collect();
    proxied.sort();
    assert_eq!(
        proxied,
        [
            "Service/shop/api:http/healthz",
            "Service/shop/web:http/ready"
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn nothing_applied_is_named_with_apply_as_the_way_on() {
    let fake = Fake::new();
    let cluster = fake.cluster();
    let (platform, set) = platform(&spec_text());
    let report = run(&cluster, &platform, &set).await;
    assert!(!report.passed());
    let revision = &failed(&report, Check::Revision)[0];
    assert!(revision.detail.contains("no revision"), "{revision:?}");
    assert_eq!(revision.next, Some(Next::Apply));
    let api = failure(&report, Check::Workload, "Deployment/shop/api");
    assert_eq!(api.detail, "not in the cluster");
    assert_eq!(api.next, Some(Next::Apply));
}

#[tokio::test(start_paused = true)]
async fn a_workload_not_ready_is_named_with_its_logs() {
    let (fake, cluster, platform, set) = applied().await;
    fake.behave("Deployment/shop/api", Behavior::Never);
    let report = run(&cluster, &platform, &set).await;
    let api = failure(&report, Check::Workload, "Deployment/shop/api");
    assert!(api.detail.contains("0 of 1 replicas available"), "{api:?}");
    assert_eq!(api.next, Some(Next::Logs("api".into())));
    assert_eq!(api.service.as_deref(), Some("api"));
    // Its pods are not ready, so neither are the Service's endpoints.
    let endpoints = failure(&report, Check::Endpoints, "Service/shop/api");
    assert!(endpoints.detail.contains("no ready endpoints"));
    assert_eq!(failed(&report, Check::Workload).len(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_service_without_ready_endpoints_fails_and_so_does_its_health_url() {
    let (fake, cluster, platform, set) = applied().await;
    fake.endpoints("Service/shop/api", 0);
    let report = run(&cluster, &platform, &set).await;
    let endpoints = failure(&report, Check::Endpoints, "Service/shop/api");
    assert_eq!(endpoints.next, Some(Next::Logs("api".into())));
    // The API server cannot proxy to a Service without endpoints.
    let health = failure(&report, Check::Health, "Service/shop/api:http/healthz");
    assert!(
        health
            .detail
            .starts_with("answered 503: no endpoints available"),
        "{health:?}"
    );
    // The workload itself says it is ready: only the traffic checks fail.
    assert!(failed(&report, Check::Workload).is_empty());
    assert_eq!(report.failures().count(), 2, "{report:#?}");
}

#[tokio::test(start_paused = true)]
async fn a_health_url_answering_500_is_named() {
    let (fake, cluster, platform, set) = applied().await;
    fake.proxy_answer("Service/shop/web", 500, "database unreachable\nat line 3");
    let report = run(&cluster, &platform, &set).await;
    let web = failure(&report, Check::Health, "Service/shop/web:http/ready");
    assert_eq!(web.detail, "answered 500: database unreachable");
    assert_eq!(web.next, Some(Next::Logs("web".into())));
    assert_eq!(report.failures().count(), 1, "{report:#?}");
}

#[tokio::test(start_paused = true)]
async fn a_deleted_secret_is_named_with_apply_to_make_it_again() {
    let (fake, cluster, platform, set) = applied().await;
    fake.remove("Secret/shop/db-secret");
    let report = run(&cluster, &platform, &set).await;
    let secret = failure(&report, Check::Reference, "Secret/shop/db-secret");
    assert!(secret.detail.contains("Strata makes it"), "{secret:?}");
    assert_eq!(secret.next, Some(Next::Apply));
}

#[tokio::test(start_paused = true)]
async fn a_secret_made_outside_strata_is_named_with_how_to_make_it() {
    let fake = Fake::new();
    let cluster = fake.cluster();
    let (platform, set) = platform(&spec_text().replace(
        "needs: [api], probes",
        "env: { KEY: { secret: stripe, key: token } }, needs: [api], probes",
    ));
    // As if it had existed at apply time, then been deleted.
    fake.insert(
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}),
        "strata",
    );
    fake.insert(
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "stripe", "namespace": "shop"}, "data": {"token": "eA=="}}),
        "kubectl",
    );
    apply_set(&cluster, &set).await.unwrap();
    fake.remove("Secret/shop/stripe");
    let report = run(&cluster, &platform, &set).await;
    let stripe = failure(&report, Check::Reference, "Secret/shop/stripe");
    assert_eq!(
        stripe.next,
        Some(Next::Create(ObjectId::secret("shop", "stripe")))
    );
    assert_eq!(stripe.service.as_deref(), Some("web"));
}

#[tokio::test(start_paused = true)]
async fn a_policy_refusing_a_declared_call_is_named() {
    let (fake, cluster, platform, set) = applied().await;
    // Someone narrows api's ingress to another port by hand.
    let mut policy = fake.get("NetworkPolicy/shop/api-ingress").unwrap();
    for rule in policy["spec"]["ingress"].as_array_mut().unwrap() {
        rule["ports"] = json!([{"protocol": "TCP", "port": 9999}]);
    }
    fake.insert(policy, "kubectl-edit");
    let report = run(&cluster, &platform, &set).await;
    let call = failure(&report, Check::Policy, "web → api 8080/TCP");
    assert!(
        call.detail.contains("ingress policies selecting api"),
        "{call:?}"
    );
    assert!(call.detail.contains("api-ingress"), "{call:?}");
    assert_eq!(
        call.next,
        Some(Next::Describe(id(
            "NetworkPolicy",
            "networking.k8s.io/v1",
            "api-ingress"
        )))
    );
    // The edit is drift too.
    failure(&report, Check::Drift, "NetworkPolicy/shop/api-ingress");
}

#[tokio::test(start_paused = true)]
async fn the_policy_check_judges_the_pods_that_run() {
    // web waits for the whole data tier: db admits the pods labelled as
    // needing it.
    let text = spec_text().replace("needs: [api], probes", "needs: [api, tier/data], probes");
    let fake = Fake::new();
    let cluster = fake.cluster();
    let (platform, set) = platform(&text);
    apply_set(&cluster, &set).await.unwrap();
    let labels = |name: &str| {
        set.objects
            .iter()
            .find(|o| o.name() == name && ["Deployment", "StatefulSet"].contains(&o.kind()))
            .unwrap()
            .value["spec"]["template"]["metadata"]["labels"]
            .clone()
    };
    let pod = |name: &str, labels: serde_json::Value| json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "shop", "labels": labels}, "status": {"phase": "Running"}});
    for (name, service) in [("api-1", "api"), ("web-1", "web"), ("db-0", "db")] {
        fake.insert(pod(name, labels(service)), "kubelet");
    }
    let report = run(&cluster, &platform, &set).await;
    assert!(failed(&report, Check::Policy).is_empty(), "{report:#?}");
    assert_eq!(report.counts(Check::Policy).0, 2, "web → api, web → db");
    // A pod left from before web needed the tier, without its label: what
    // runs is refused, though the spec's pods would be admitted.
    let mut old = labels("web");
    old.as_object_mut()
        .unwrap()
        .retain(|k, _| !k.starts_with("needs.strata.dev/"));
    fake.insert(pod("web-0", old), "kubelet");
    // A finished pod is not judged.
    let mut done = pod(
        "web-2",
        json!({"app.kubernetes.io/name": "web", "app.kubernetes.io/instance": "shop"}),
    );
    done["status"]["phase"] = json!("Succeeded");
    fake.insert(done, "kubelet");
    let report = run(&cluster, &platform, &set).await;
    let call = failure(&report, Check::Policy, "web → db 5432/TCP");
    assert!(
        call.detail.contains("ingress policies selecting db")
            && call.detail.contains("(pod web-0 → pod db-0)"),
        "{call:?}"
    );
    assert_eq!(failed(&report, Check::Policy).len(), 1, "{report:#?}");
}

#[tokio::test(start_paused = true)]
async fn a_deleted_egress_policy_refuses_on_the_callers_side() {
    let (fake, cluster, platform, set) = applied().await;
    fake.remove("NetworkPolicy/shop/web-egress");
    let report = run(&cluster, &platform, &set).await;
    let call = failure(&report, Check::Policy, "web → api 8080/TCP");
    assert!(
        call.detail.contains("egress policies selecting web"),
        "{call:?}"
    );
    assert!(call.detail.contains("default-deny"), "{call:?}");
    let gone = failure(&report, Check::Drift, "NetworkPolicy/shop/web-egress");
    assert!(gone.detail.contains("not in the cluster"), "{gone:?}");
    assert_eq!(gone.next, Some(Next::Apply));
}

#[tokio::test(start_paused = true)]
async fn an_object_changed_by_hand_is_listed_as_drift() {
    let (fake, cluster, platform, set) = applied().await;
    let mut api = fake.get("Deployment/shop/api").unwrap();
    api["spec"]["replicas"] = json!(5);
    fake.insert(api, "kubectl-edit");
    let report = run(&cluster, &platform, &set).await;
    let drift = failure(&report, Check::Drift, "Deployment/shop/api");
    assert!(drift.detail.contains("live `replicas: 5`"), "{drift:?}");
    assert!(drift.detail.contains("applied `replicas: 1`"), "{drift:?}");
    assert_eq!(drift.next, Some(Next::Diff));
    assert_eq!(drift.service.as_deref(), Some("api"));
    // Nothing else is wrong: five ready replicas are still ready.
    assert_eq!(report.failures().count(), 1, "{report:#?}");
}

#[tokio::test(start_paused = true)]
async fn a_spec_changed_since_the_last_apply_is_not_what_is_deployed() {
    let (_fake, cluster, _, _) = applied().await;
    let (platform, set) = platform(&spec_text().replace("api:1.2.0", "api:1.3.0"));
    let report = run(&cluster, &platform, &set).await;
    let revision = &failed(&report, Check::Revision);
    assert_eq!(revision.len(), 1);
    assert!(
        revision[0]
            .detail
            .contains("0 objects to add, 1 to change, 0 to prune"),
        "{revision:?}"
    );
    assert_eq!(revision[0].next, Some(Next::Diff));
    // The cluster is as revision 1 left it: no drift.
    assert!(failed(&report, Check::Drift).is_empty());
    assert!(
        report
            .outcomes
            .iter()
            .all(|o| o.verdict != Verdict::Failed || o.check == Check::Revision)
    );
}

#[tokio::test(start_paused = true)]
async fn a_route_whose_backend_has_no_ready_endpoints_is_named() {
    let fake = Fake::new();
    let cluster = fake.cluster();
    fake.insert(
        json!({"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass", "metadata": {"name": "nginx"},
            "spec": {"controller": "k8s.io/ingress-nginx"}}),
        "helm",
    );
    let text = spec_text()
        .replace(
            "tiers:",
            "gateways:\n  edge: { kind: ingress, class: nginx, hosts: [shop.example.com] }\ntiers:",
        )
        .replace(
            "needs: [api], probes",
            "needs: [api], expose: { path: / }, probes",
        );
    let (platform, set) = platform(&text);
    apply_set(&cluster, &set).await.unwrap();
    let report = run(&cluster, &platform, &set).await;
    assert!(report.passed(), "{report:#?}");
    assert_eq!(report.counts(Check::Route).0, 1, "{report:#?}");
    fake.endpoints("Service/shop/web", 0);
    let report = run(&cluster, &platform, &set).await;
    let route = failure(
        &report,
        Check::Route,
        "Ingress/shop/edge → Service/shop/web",
    );
    assert!(route.detail.contains("no ready endpoints"), "{route:?}");
    assert_eq!(route.next, Some(Next::Logs("web".into())));
    fake.remove("Service/shop/web");
    let report = run(&cluster, &platform, &set).await;
    let route = failure(
        &report,
        Check::Route,
        "Ingress/shop/edge → Service/shop/web",
    );
    assert!(route.detail.contains("not in the cluster"), "{route:?}");
    assert_eq!(route.next, Some(Next::Apply));
}
