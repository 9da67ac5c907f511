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

/// The resolved platform of a spec text.
fn platform(text: &str) -> strata_core::model::Platform {
    let file = SourceFile::new("p.yaml", text);
    let doc = spec::parse(&file).unwrap_or_else(|e| panic!("{e:#?}"));
    strata_core::resolve(&doc, None).unwrap_or_else(|e| panic!("{e:#?}"))
}

const SIDECARS: &str = "platform: p
tiers:
  - name: data
    services:
      db: { image: a/db:1.0, ports: { pg: 5432 } }
  - name: apps
    services:
      api:
        image: a/api:1.0
        ports: { http: 8080 }
        config: { mountPath: /etc/api, files: { api.yaml: 'a: 1' } }
        scratch: [/var/run/api]
        sidecars:
          envoy:
            image: envoyproxy/envoy:v1.31.0
            args: [-c, /etc/api/envoy.yaml]
            ports: { proxy: 15000 }
            env: { UPSTREAM: '${db.host}' }
            mounts: [config, scratch]
      report:
        image: a/report:1.0
        kind: job
        sidecars:
          shipper: { image: fluent/fluent-bit:3.1.9, resources: { requests: { cpu: 10m } } }
";

#[test]
fn sidecars_run_beside_the_container_with_its_security_ports_and_mounts() {
    let objects = objects(SIDECARS);
    let pod = pod(&objects, "api");
    let containers = pod["containers"].as_array().unwrap();
    assert_eq!(containers.len(), 2, "{containers:#?}");
    let (main, envoy) = (&containers[0], &containers[1]);
    assert_eq!(envoy["name"], "envoy");
    assert_eq!(envoy["image"], "envoyproxy/envoy:v1.31.0");
    assert_eq!(envoy["args"], json!(["-c", "/etc/api/envoy.yaml"]));
    assert_eq!(envoy["securityContext"], main["securityContext"]);
    assert_eq!(
        envoy["ports"],
        json!([{ "name": "proxy", "containerPort": 15000, "protocol": "TCP" }])
    );
    assert_eq!(
        main["ports"],
        json!([{ "name": "http", "containerPort": 8080, "protocol": "TCP" }]),
        "the sidecar's port is its own container's"
    );
    assert_eq!(
        envoy["env"][0],
        json!({ "name": "UPSTREAM", "value": "db.p.svc.cluster.local" })
    );
    let mounted: Vec<&str> = envoy["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["mountPath"].as_str().unwrap())
        .collect();
    assert_eq!(mounted, ["/var/run/api", "/etc/api"], "no /tmp: not asked");
    assert_eq!(
        envoy["resources"],
        json!({ "requests": { "cpu": "50m", "memory": "64Mi" }, "limits": { "cpu": "200m", "memory": "256Mi" } })
    );
    // The Service and the NetworkPolicies count the sidecar's port.
    let service = find(&objects, "Service", "api");
    let ports: Vec<&Value> = service["spec"]["ports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| &p["name"])
        .collect();
    assert_eq!(ports, [&json!("http"), &json!("proxy")]);
    let platform = platform(SIDECARS);
    let api = platform.services.iter().find(|s| s.name == "api").unwrap();
    assert!(
        api.needs.iter().any(|n| n.target
            == strata_core::model::DependencyTarget::Service(
                platform
                    .services
                    .iter()
                    .position(|s| s.name == "db")
                    .map(strata_core::model::ServiceId)
                    .unwrap()
            )),
        "a sidecar's reference is a dependency of the service"
    );
    let footprint = &api.footprint()[0];
    assert_eq!(
        footprint.resources.requests.cpu,
        api.resources
            .requests
            .cpu
            .saturating_add(strata_core::quantity::Quantity::from_milli(50)),
        "plan counts the sidecar"
    );
}

#[test]
fn a_job_s_sidecars_are_native_so_its_pod_completes() {
    let objects = objects(SIDECARS);
    let job = find(&objects, "Job", "report");
    let spec = &job["spec"]["template"]["spec"];
    assert_eq!(spec["containers"].as_array().unwrap().len(), 1);
    let shipper = &spec["initContainers"][0];
    assert_eq!(shipper["name"], "shipper");
    assert_eq!(shipper["restartPolicy"], "Always");
    assert_eq!(
        shipper["resources"]["requests"],
        json!({ "cpu": "10m", "memory": "64Mi" })
    );
}

#[test]
fn sidecars_that_do_not_fit_are_errors_at_their_key() {
    let spec = |sidecar: &str| {
        format!(
            "platform: p
tiers:
  - name: apps
    services:
      api:
        image: a/api:1.0
        ports: {{ http: 8080 }}
        sidecars:
          {sidecar}
"
        )
    };
    assert_eq!(
        problems(&spec("api: { image: a/s:1.0 }")),
        ["reserved-name p.yaml:9:11"]
    );
    assert_eq!(
        problems(&spec("proxy: { image: a/s:1.0, ports: { admin: 8080 } }")),
        ["duplicate-port p.yaml:9:52"]
    );
    assert_eq!(
        problems(&spec("proxy: { image: a/s:1.0, ports: { http: 9000 } }")),
        ["duplicate-port p.yaml:9:51"]
    );
    assert_eq!(
        problems(&spec("proxy: { image: a/s:1.0, mounts: [data] }")),
        ["unknown-volume p.yaml:9:45"]
    );
    let job = "platform: p
tiers:
  - name: apps
    services:
      report:
        image: a/report:1.0
        kind: job
        sidecars: { shipper: { image: a/s:1.0, native: false } }
";
    assert_eq!(problems(job), ["unsupported-for-kind p.yaml:8:56"]);
    let operated = "platform: p
operators: { cloudnative-pg: { installed: true } }
tiers:
  - name: data
    services:
      db:
        blueprint: postgresql
        mode: ha
        sidecars: { shipper: { image: a/s:1.0 } }
";
    assert_eq!(problems(operated), ["unsupported-for-mode p.yaml:9:19"]);
    let probed = "platform: p
tiers:
  - name: apps
    services:
      api:
        image: a/api:1.0
        ports: { http: 8080 }
        probes: { port: admin }
        sidecars: { proxy: { image: a/s:1.0, ports: { admin: 9901 } } }
";
    assert_eq!(
        problems(probed),
        ["unknown-port p.yaml:8:25"],
        "probes check the main container"
    );
}

#[test]
fn a_host_a_sidecar_names_without_an_edge_is_an_undeclared_call() {
    let text = "platform: p
tiers:
  - name: data
    services:
      db: { image: a/db:1.0, ports: { pg: 5432 } }
  - name: apps
    services:
      api:
        image: a/api:1.0
        ports: { http: 8080 }
        sidecars:
          exporter: { image: a/e:1.0, env: { DSN: 'postgres://db:5432/app' } }
";
    let warnings = platform(text).warnings();
    let undeclared: Vec<String> = warnings
        .iter()
        .filter(|w| w.code == "undeclared-call")
        .map(|w| format!("{} {}", w.message, w.location().unwrap_or_default()))
        .collect();
    assert_eq!(undeclared.len(), 1, "{undeclared:#?}");
    assert!(
        undeclared[0].contains("`exporter/DSN`") && undeclared[0].ends_with("p.yaml:12:51"),
        "{undeclared:#?}"
    );
}
