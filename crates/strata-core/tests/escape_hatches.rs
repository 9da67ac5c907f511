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
