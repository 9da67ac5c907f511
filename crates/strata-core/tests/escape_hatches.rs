//! Each default a real app may need to change, changed in the spec: the
//! render shows the change, and what does not fit is an error at its key.

use serde_json::{Value, json};
use strata_core::render::{self, NoAssets};
use strata_core::source::SourceFile;
use strata_core::spec;

/// The rendered objects of a spec text.
fn objects(text: &str) -> Vec<Value> {
    let file = SourceFile::new("p.yaml", text);
    let doc = spec::parse(&file).unwrap_or_else(|e| panic!("{e:#?}"));
    let platform = strata_core::resolve(&doc, None).unwrap_or_else(|e| panic!("{e:#?}"));
    render::render(&platform, &NoAssets)
        .unwrap_or_else(|e| panic!("{e:#?}"))
        .objects
        .into_iter()
        .map(|o| o.value)
        .collect()
}

/// `code file:line:col` of every problem of a spec text.
fn problems(text: &str) -> Vec<String> {
    let file = SourceFile::new("p.yaml", text);
    let errors = match spec::parse(&file) {
        Err(errors) => errors,
        Ok(doc) => strata_core::resolve(&doc, None).err().unwrap_or_default(),
    };
    errors
        .iter()
        .map(|d| format!("{} {}", d.code, d.location().unwrap_or_default()))
        .collect()
}

fn find<'a>(objects: &'a [Value], kind: &str, name: &str) -> &'a Value {
    objects
        .iter()
        .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind}/{name}"))
}

const SHOP: &str = "platform: shop
tiers:
  - name: apps
    services:
      frontend:
        image: shop/frontend:1.0
        ports: { http: { port: 80, targetPort: 8080, nodePort: 30080 } }
        service:
          type: NodePort
          name: frontend-external
          externalTrafficPolicy: Local
          from: [203.0.113.0/24]
          annotations: { example.com/lb: internal }
      checkout:
        image: shop/checkout:1.0
        ports: { grpc: 5050 }
        env: { FRONTEND: '${frontend.host}' }
";

#[test]
fn a_service_s_own_service_takes_its_type_node_ports_policy_and_name() {
    let objects = objects(SHOP);
    let service = find(&objects, "Service", "frontend-external");
    assert_eq!(service["spec"]["type"], "NodePort");
    assert_eq!(service["spec"]["externalTrafficPolicy"], "Local");
    assert_eq!(
        service["spec"]["ports"][0],
        json!({ "name": "http", "port": 80, "targetPort": "http", "protocol": "TCP", "appProtocol": "http", "nodePort": 30080 })
    );
    assert_eq!(
        service["metadata"]["annotations"]["example.com/lb"],
        "internal"
    );
    assert!(
        !objects
            .iter()
            .any(|o| o["kind"] == "Service" && o["metadata"]["name"] == "frontend"),
        "one Service, under its own name"
    );
    // Callers dial the Service's name.
    let checkout = find(&objects, "Deployment", "checkout");
    let env = &checkout["spec"]["template"]["spec"]["containers"][0]["env"];
    assert!(
        env.as_array()
            .unwrap()
            .iter()
            .any(|v| v["value"] == "frontend-external.shop.svc.cluster.local"),
        "{env}"
    );
    // Default deny admits the outside blocks on the container's port.
    let policy = find(&objects, "NetworkPolicy", "frontend-ingress");
    assert!(
        policy["spec"]["ingress"]
            .as_array()
            .unwrap()
            .contains(&json!({ "from": [{ "ipBlock": { "cidr": "203.0.113.0/24" } }], "ports": [{ "protocol": "TCP", "port": 8080 }] })),
        "{policy}"
    );
}

#[test]
fn service_settings_that_do_not_fit_are_errors_at_their_key() {
    let spec = |service: &str, port: &str| {
        format!(
            "platform: p\ntiers:\n  - name: apps\n    services:\n      web:\n        image: a/web:1.0\n        ports: {{ http: {port} }}\n        service: {service}\n      api:\n        image: a/api:1.0\n        ports: {{ http: 8080 }}\n"
        )
    };
    assert_eq!(
        problems(&spec(
            "{ type: ClusterIP }",
            "{ port: 80, nodePort: 30080 }"
        )),
        ["missing-option p.yaml:7:46"]
    );
    assert_eq!(
        problems(&spec("{ externalTrafficPolicy: Local }", "80")),
        ["missing-option p.yaml:8:43"]
    );
    assert_eq!(
        problems(&spec("{ name: api }", "80")),
        ["duplicate-object p.yaml:8:26"]
    );
    assert_eq!(
        problems(&spec("{ type: Public }", "80")),
        ["unknown-value p.yaml:8:26"]
    );
}

/// The pod spec of the Deployment `name`.
fn pod(objects: &[Value], name: &str) -> Value {
    find(objects, "Deployment", name)["spec"]["template"]["spec"].clone()
}

fn web(security: &str) -> String {
    format!(
        "platform: p\ntiers:\n  - name: apps\n    services:\n      web:\n        image: a/web:1.0\n        ports: {{ http: 80 }}\n        security: {security}\n"
    )
}

#[test]
fn the_image_s_own_user_runs_when_asked() {
    let text = web("{ runAsUser: image }");
    let spec = pod(&objects(&text), "web");
    let context = &spec["securityContext"];
    for key in ["runAsUser", "runAsGroup", "fsGroup"] {
        assert!(context.get(key).is_none(), "{key}: {context}");
    }
    // Restricted still: the kubelet refuses the pod if the image's user is root.
    assert_eq!(context["runAsNonRoot"], true);
    assert_eq!(
        spec["containers"][0]["securityContext"]["runAsNonRoot"],
        true
    );
    // Strata cannot read the image: `check` says so where the key is written.
    let file = SourceFile::new("p.yaml", text);
    let platform = strata_core::resolve(&spec::parse(&file).unwrap(), None).unwrap();
    let warnings: Vec<String> = platform
        .warnings()
        .iter()
        .filter(|d| d.code == "image-user")
        .map(|d| format!("{} {}", d.code, d.location().unwrap_or_default()))
        .collect();
    assert_eq!(warnings, ["image-user p.yaml:8:32"]);
    // An image that must start as root, under baseline: no non-root demand.
    let root = pod(
        &objects(&web("{ runAsUser: image, profile: baseline }")),
        "web",
    );
    assert!(root["securityContext"].get("runAsNonRoot").is_none());
}

#[test]
fn security_settings_need_the_profile_that_allows_them() {
    assert_eq!(
        problems(&web("{ privilegeEscalation: true }")),
        ["escalation-not-allowed p.yaml:8:42"]
    );
    assert_eq!(
        problems(&web("{ capabilities: [SYS_ADMIN], profile: baseline }")),
        ["capability-not-allowed p.yaml:8:36"]
    );
    let escalating = pod(
        &objects(&web("{ privilegeEscalation: true, profile: baseline }")),
        "web",
    );
    assert_eq!(
        escalating["containers"][0]["securityContext"]["allowPrivilegeEscalation"],
        true
    );
    let binding = pod(
        &objects(&web("{ capabilities: [NET_BIND_SERVICE] }")),
        "web",
    );
    assert_eq!(
        binding["containers"][0]["securityContext"]["capabilities"],
        json!({ "drop": ["ALL"], "add": ["NET_BIND_SERVICE"] })
    );
}

#[test]
fn a_namespace_enforcing_restricted_refuses_each_setting_at_its_line() {
    let text = "platform: p
namespaces:
  p: { podSecurity: { enforce: restricted } }
tiers:
  - name: apps
    services:
      web:
        image: a/web:1.0
        security: { profile: baseline, runAsUser: 0, privilegeEscalation: true }
";
    assert_eq!(
        problems(text),
        [
            "pod-security-violation p.yaml:9:51",
            "pod-security-violation p.yaml:9:75"
        ]
    );
}

#[test]
fn the_pod_takes_the_spec_s_container_name_labels_annotations_and_selector() {
    let text = "platform: shop
tiers:
  - name: apps
    services:
      cart:
        image: shop/cart:1.0
        ports: { grpc: 7070 }
        container: server
        podLabels: { version: v1 }
        podAnnotations: { sidecar.istio.io/inject: 'false', prometheus.io/scrape: 'false' }
        selector: { app: cartservice }
        scratch: [/cache, { path: /run/fast, memory: true, size: 64Mi }]
        autoscale: { min: 2, max: 4 }
      checkout: { image: shop/checkout:1.0, needs: [cart] }
";
    let objects = objects(text);
    let deployment = find(&objects, "Deployment", "cart");
    // The selector an existing workload has, which cannot change.
    assert_eq!(
        deployment["spec"]["selector"],
        json!({ "matchLabels": { "app": "cartservice" } })
    );
    let template = &deployment["spec"]["template"];
    assert_eq!(template["metadata"]["labels"]["app"], "cartservice");
    assert_eq!(template["metadata"]["labels"]["version"], "v1");
    assert_eq!(
        template["metadata"]["annotations"]["sidecar.istio.io/inject"],
        "false"
    );
    let pod = &template["spec"];
    assert_eq!(pod["containers"][0]["name"], "server");
    assert!(
        pod["volumes"]
            .as_array()
            .unwrap()
            .contains(&json!({ "name": "writable-1", "emptyDir": { "medium": "Memory", "sizeLimit": "64Mi" } })),
        "{}",
        pod["volumes"]
    );
    // Everything that finds the pods finds them by that selector.
    let service = find(&objects, "Service", "cart");
    assert_eq!(service["spec"]["selector"], json!({ "app": "cartservice" }));
    let budget = find(&objects, "PodDisruptionBudget", "cart");
    assert_eq!(
        budget["spec"]["selector"],
        json!({ "matchLabels": { "app": "cartservice" } })
    );
    let policy = find(&objects, "NetworkPolicy", "cart-ingress");
    assert_eq!(
        policy["spec"]["podSelector"],
        json!({ "matchLabels": { "app": "cartservice" } })
    );
    let caller = find(&objects, "NetworkPolicy", "checkout-egress");
    assert!(
        caller.to_string().contains("\"app\":\"cartservice\""),
        "the caller's egress finds the pods too: {caller}"
    );
}

#[test]
fn defaults_pool_places_every_service_unless_it_says_none() {
    let text = "platform: p
nodePools:
  general: { selector: { pool: general } }
defaults: { pool: general }
tiers:
  - name: apps
    services:
      api: { image: a/api:1.0, ports: { http: 80 } }
      edge: { image: a/edge:1.0, ports: { http: 80 }, pool: none }
";
    let objects = objects(text);
    let node_selector = |name: &str| {
        find(&objects, "Deployment", name)["spec"]["template"]["spec"]["nodeSelector"].clone()
    };
    assert_eq!(node_selector("api"), json!({ "pool": "general" }));
    assert_eq!(node_selector("edge"), Value::Null);
    assert_eq!(
        problems(
            "platform: p\ndefaults: { pool: gpu }\ntiers:\n  - name: apps\n    services:\n      api: { image: a/api:1.0 }\n"
        ),
        ["unknown-pool p.yaml:2:19"]
    );
}
