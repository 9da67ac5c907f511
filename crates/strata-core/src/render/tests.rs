//! Behaviour of rendering, one production default at a time.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::*;
use crate::source::SourceFile;
use crate::spec;

struct Files(HashMap<&'static str, &'static str>);

impl Assets for Files {
    fn read(&self, path: &str) -> Result<String, String> {
        self.0
            .get(path)
            .map(std::string::ToString::to_string)
            .ok_or_else(|| "no such file".to_string())
    }
}

fn render_with(
    text: &str,
    env: Option<&str>,
    files: &[(&'static str, &'static str)],
) -> Result<RenderedSet, Vec<Diagnostic>> {
    let file = SourceFile::new("platform.yaml", text);
    let doc = spec::parse(&file).expect("the fixture parses");
    let platform = crate::resolve(&doc, env).expect("the fixture resolves");
    render(&platform, &Files(files.iter().copied().collect()))
}

fn objects(text: &str) -> Vec<Object> {
    render_with(text, None, &[]).expect("renders").objects
}

fn find<'a>(objects: &'a [Object], kind: &str, name: &str) -> &'a Value {
    &objects
        .iter()
        .find(|o| o.kind() == kind && o.name() == name)
        .unwrap_or_else(|| {
            panic!(
                "no {kind}/{name} among {:?}",
                objects.iter().map(Object::key).collect::<Vec<_>>()
            )
        })
        .value
}

fn container(workload: &Value) -> &Value {
    let spec = &workload["spec"];
    let template = if workload["kind"] == "CronJob" {
        &spec["jobTemplate"]["spec"]["template"]
    } else {
        &spec["template"]
    };
    &template["spec"]["containers"][0]
}

const PLATFORM: &str = "
platform: shop
namespace: shop
tiers:
  - name: data
    services:
      db: { image: postgres:16.4, ports: { postgres: 5432 }, storage: 10Gi, replicas: 3 }
  - name: apps
    services:
      api:
        image: shop/api:1.2.0
        ports: { http: 8080, grpc: 9090, metrics: 9100 }
        replicas: 2
        env: { DB: '${db.address}', PASSWORD: { secret: db-credentials, key: password } }
      rpc: { image: shop/rpc:1.0.0, ports: { grpc: 50051 } }
      raw: { image: shop/raw:1.0.0, ports: { tcp: 7000 } }
      report: { image: shop/report:1.0.0, kind: cron, schedule: '0 3 * * *' }
";

#[test]
fn objects_come_in_wave_then_kind_order() {
    let objects = objects(PLATFORM);
    assert_eq!(objects[0].kind(), "Namespace");
    let keys: Vec<(usize, usize)> = objects
        .iter()
        .map(|o| (o.wave, kind_rank(o.kind())))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort_unstable();
    assert_eq!(keys, sorted);
    let db = objects
        .iter()
        .position(|o| o.kind() == "StatefulSet")
        .unwrap();
    let api = objects
        .iter()
        .position(|o| o.kind() == "Deployment" && o.name() == "api")
        .unwrap();
    assert!(db < api, "the database's wave comes before the API's");
}

#[test]
fn rendering_is_deterministic() {
    let a = render_with(PLATFORM, None, &[]).unwrap();
    let b = render_with(PLATFORM, None, &[]).unwrap();
    let all = |s: &RenderedSet| {
        crate::export::stream(
            &s.objects.iter().collect::<Vec<_>>(),
            crate::export::Format::Yaml,
        )
    };
    assert_eq!(all(&a), all(&b));
}

#[test]
fn probes_check_the_port_unless_a_path_is_declared() {
    let objects = objects(PLATFORM);
    // An HTTP port without a declared path: the port answers, no path is guessed.
    let api = container(find(&objects, "Deployment", "api"));
    assert_eq!(
        api["readinessProbe"]["tcpSocket"],
        json!({ "port": "http" })
    );
    assert!(api["readinessProbe"].get("httpGet").is_none());
    let rpc = container(find(&objects, "Deployment", "rpc"));
    assert_eq!(rpc["livenessProbe"]["grpc"], json!({ "port": 50051 }));
    let raw = container(find(&objects, "Deployment", "raw"));
    assert_eq!(raw["startupProbe"]["tcpSocket"], json!({ "port": "tcp" }));
    assert_eq!(
        raw["startupProbe"]["failureThreshold"],
        json!(60),
        "300 s of startup at 5 s periods"
    );
    let report = container(find(&objects, "CronJob", "report"));
    assert!(report.get("livenessProbe").is_none(), "jobs are not probed");
}

#[test]
fn probes_take_every_setting_per_probe_or_for_all() {
    let tuned = objects(
        "platform: p\ntiers:\n  - name: apps\n    services:\n      api:\n        image: a/api:1.0\n        ports: { http: 8080, admin: 9000 }\n        probes:\n          path: /health\n          headers: { X-Probe: strata }\n          initialDelay: 5s\n          timeout: 2s\n          startupSeconds: 120\n          readiness: { path: /ready, port: admin, period: 7s, successThreshold: 2 }\n          liveness: { kind: exec, command: [cat, /tmp/alive], failureThreshold: 6 }\n          startup: false\n",
    );
    let api = container(find(&tuned, "Deployment", "api"));
    assert!(api.get("startupProbe").is_none(), "left out");
    assert_eq!(
        api["readinessProbe"],
        json!({
            "httpGet": { "path": "/ready", "port": "admin" },
            "periodSeconds": 7, "timeoutSeconds": 2, "failureThreshold": 3,
            "initialDelaySeconds": 5, "successThreshold": 2,
        })
    );
    assert_eq!(
        api["livenessProbe"],
        json!({
            "exec": { "command": ["cat", "/tmp/alive"] },
            "periodSeconds": 20, "timeoutSeconds": 2, "failureThreshold": 6,
            "initialDelaySeconds": 5,
        })
    );
    // The shared settings alone: an HTTP GET with its headers on every probe.
    let plain = objects(
        "platform: p\ntiers:\n  - name: apps\n    services:\n      api:\n        image: a/api:1.0\n        ports: { http: 8080 }\n        probes: { path: /health, headers: { X-Probe: strata }, startupSeconds: 120 }\n",
    );
    let api = container(find(&plain, "Deployment", "api"));
    assert_eq!(
        api["startupProbe"],
        json!({
            "httpGet": { "path": "/health", "port": "http", "httpHeaders": [{ "name": "X-Probe", "value": "strata" }] },
            "periodSeconds": 5, "timeoutSeconds": 3, "failureThreshold": 24,
        })
    );
}

#[test]
fn probe_settings_that_do_not_fit_are_errors_at_their_key() {
    let codes = |probes: &str| -> Vec<String> {
        let text = format!(
            "platform: p\ntiers:\n  - name: apps\n    services:\n      api:\n        image: a/api:1.0\n        ports: {{ http: 8080, dns: {{ port: 53, protocol: udp }} }}\n        probes: {probes}\n"
        );
        let file = SourceFile::new("p.yaml", text);
        match spec::parse(&file) {
            Err(e) => e.iter().map(|d| d.code.to_string()).collect(),
            Ok(doc) => crate::resolve(&doc, None)
                .err()
                .unwrap_or_default()
                .iter()
                .map(|d| format!("{} {}", d.code, d.location().unwrap_or_default()))
                .collect(),
        }
    };
    assert_eq!(
        codes("{ kind: tcp, path: /x }"),
        ["conflicting-keys p.yaml:8:36"]
    );
    assert_eq!(codes("{ kind: http }"), ["missing-option p.yaml:8:25"]);
    assert_eq!(codes("{ kind: exec }"), ["missing-option p.yaml:8:25"]);
    assert_eq!(codes("{ port: dns }"), ["unprobeable-port p.yaml:8:25"]);
    assert_eq!(
        codes("{ liveness: { successThreshold: 2 } }"),
        ["invalid-probe p.yaml:8:49"]
    );
    assert_eq!(codes("{ period: 0s }"), ["invalid-duration p.yaml:8:27"]);
    assert_eq!(codes("{ kind: smoke }"), ["unknown-value"]);
}

#[test]
fn workloads_are_restricted_by_default() {
    let objects = objects(PLATFORM);
    let api = find(&objects, "Deployment", "api");
    let pod = &api["spec"]["template"]["spec"];
    assert_eq!(pod["securityContext"]["runAsNonRoot"], json!(true));
    assert_eq!(
        pod["securityContext"]["seccompProfile"]["type"],
        json!("RuntimeDefault")
    );
    assert_eq!(pod["automountServiceAccountToken"], json!(false));
    let c = container(api);
    assert_eq!(
        c["securityContext"]["allowPrivilegeEscalation"],
        json!(false)
    );
    assert_eq!(c["securityContext"]["readOnlyRootFilesystem"], json!(true));
    assert_eq!(c["securityContext"]["capabilities"]["drop"], json!(["ALL"]));
    assert!(
        c["volumeMounts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["mountPath"] == "/tmp"),
        "a writable /tmp"
    );
    assert_eq!(
        c["resources"]["requests"],
        json!({ "cpu": "100m", "memory": "128Mi" })
    );
    assert_eq!(
        c["resources"]["limits"],
        json!({ "cpu": "200m", "memory": "256Mi" })
    );
    let ns = find(&objects, "Namespace", "shop");
    assert_eq!(
        ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"],
        json!("restricted")
    );
}

#[test]
fn replicated_services_get_spread_and_a_disruption_budget() {
    let objects = objects(PLATFORM);
    assert!(find(&objects, "Deployment", "api")["spec"]["template"]["spec"]["topologySpreadConstraints"].is_array());
    assert_eq!(
        find(&objects, "PodDisruptionBudget", "api")["spec"]["maxUnavailable"],
        json!(1)
    );
    assert!(
        find(&objects, "Deployment", "rpc")["spec"]["template"]["spec"]
            .get("topologySpreadConstraints")
            .is_none()
    );
    assert!(
        !objects
            .iter()
            .any(|o| o.kind() == "PodDisruptionBudget" && o.name() == "rpc"),
        "one replica, no budget"
    );
}

#[test]
fn stateful_services_get_identity_and_claims_that_outlive_them() {
    let objects = objects(PLATFORM);
    let db = find(&objects, "StatefulSet", "db");
    assert_eq!(db["spec"]["serviceName"], json!("db-headless"));
    assert_eq!(
        db["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"],
        json!("10Gi")
    );
    assert_eq!(
        db["spec"]["persistentVolumeClaimRetentionPolicy"]["whenDeleted"],
        json!("Retain")
    );
    assert_eq!(
        find(&objects, "Service", "db-headless")["spec"]["clusterIP"],
        json!("None")
    );
    let env = &container(find(&objects, "Deployment", "api"))["env"];
    assert_eq!(
        env[0],
        json!({ "name": "DB", "value": "db.shop.svc.cluster.local:5432" })
    );
    assert_eq!(
        env[1]["valueFrom"]["secretKeyRef"],
        json!({ "name": "db-credentials", "key": "password" })
    );
}

#[test]
fn every_object_carries_the_recommended_labels_and_its_tier() {
    for object in objects(PLATFORM) {
        let labels = &object.value["metadata"]["labels"];
        assert_eq!(
            labels["app.kubernetes.io/managed-by"],
            json!("strata"),
            "{}",
            object.key()
        );
        assert_eq!(
            labels["app.kubernetes.io/part-of"],
            json!("shop"),
            "{}",
            object.key()
        );
        if let Some(tier) = &object.tier {
            assert_eq!(labels[TIER_LABEL], json!(tier), "{}", object.key());
            assert!(
                labels["app.kubernetes.io/name"].is_string(),
                "{}",
                object.key()
            );
        }
    }
}

#[test]
fn metrics_ports_get_scrape_annotations_or_a_service_monitor() {
    let objects = objects(PLATFORM);
    let annotations =
        &find(&objects, "Deployment", "api")["spec"]["template"]["metadata"]["annotations"];
    assert_eq!(annotations["prometheus.io/port"], json!("9100"));
    let with_monitors = self::objects(&format!(
        "{PLATFORM}monitoring: {{ serviceMonitors: true }}\n"
    ));
    let monitor = find(&with_monitors, "ServiceMonitor", "api");
    assert_eq!(monitor["spec"]["endpoints"][0]["port"], json!("metrics"));
    assert!(
        find(&with_monitors, "Deployment", "api")["spec"]["template"]["metadata"]
            .get("annotations")
            .is_none()
    );
}

#[test]
fn every_default_can_be_switched_off() {
    let text = "
platform: shop
tiers:
  - name: apps
    services:
      api:
        image: shop/api:1.2.0
        ports: { http: 8080 }
        replicas: 3
        probes: false
        spread: false
        disruptionBudget: false
        serviceAccountToken: true
        terminationGracePeriod: 2m
        security: { profile: baseline, runAsUser: 0, readOnlyRootFilesystem: false }
";
    let objects = objects(text);
    let api = find(&objects, "Deployment", "api");
    let pod = &api["spec"]["template"]["spec"];
    let c = container(api);
    assert!(c.get("readinessProbe").is_none());
    assert!(pod.get("topologySpreadConstraints").is_none());
    assert!(!objects.iter().any(|o| o.kind() == "PodDisruptionBudget"));
    assert_eq!(pod["automountServiceAccountToken"], json!(true));
    assert_eq!(pod["terminationGracePeriodSeconds"], json!(120));
    assert!(pod["securityContext"].get("runAsNonRoot").is_none());
    assert_eq!(c["securityContext"]["readOnlyRootFilesystem"], json!(false));
    assert_eq!(
        find(&objects, "Namespace", "shop")["metadata"]["labels"]["pod-security.kubernetes.io/enforce"],
        json!("baseline")
    );
}

#[test]
fn autoscaled_services_leave_replicas_to_the_autoscaler() {
    let text = "
platform: shop
environments:
  local: { replicas: 1 }
tiers:
  - name: apps
    services:
      api: { image: shop/api:1.2.0, ports: { http: 8080 }, autoscale: { min: 3, max: 10, cpu: 70% } }
";
    let objects = objects(text);
    assert!(
        find(&objects, "Deployment", "api")["spec"]
            .get("replicas")
            .is_none()
    );
    let hpa = find(&objects, "HorizontalPodAutoscaler", "api");
    assert_eq!(hpa["apiVersion"], json!("autoscaling/v2"));
    assert_eq!(
        (
            hpa["spec"]["minReplicas"].clone(),
            hpa["spec"]["maxReplicas"].clone()
        ),
        (json!(3), json!(10))
    );
    assert_eq!(
        hpa["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"],
        json!(70)
    );
    let local = render_with(text, Some("local"), &[]).unwrap().objects;
    assert!(
        !local.iter().any(|o| o.kind() == "HorizontalPodAutoscaler"),
        "a pinned environment has no autoscaler"
    );
    assert_eq!(
        find(&local, "Deployment", "api")["spec"]["replicas"],
        json!(1)
    );
}

#[test]
fn node_pools_give_selectors_tolerations_and_gpus() {
    let text = "
platform: ai
nodePools:
  gpu: { selector: { nvidia.com/gpu.present: 'true' }, taints: ['nvidia.com/gpu=true:NoSchedule', dedicated] }
tiers:
  - name: models
    services:
      vllm: { image: vllm/vllm-openai:v0.6.3, ports: { http: 8000 }, gpu: 2, pool: gpu }
";
    let objects = objects(text);
    let vllm = find(&objects, "Deployment", "vllm");
    let pod = &vllm["spec"]["template"]["spec"];
    assert_eq!(
        pod["nodeSelector"],
        json!({ "nvidia.com/gpu.present": "true" })
    );
    assert_eq!(
        pod["tolerations"][0],
        json!({ "key": "nvidia.com/gpu", "operator": "Equal", "value": "true", "effect": "NoSchedule" })
    );
    assert_eq!(pod["tolerations"][1]["operator"], json!("Exists"));
    assert_eq!(
        container(vllm)["resources"]["limits"]["nvidia.com/gpu"],
        json!("2")
    );
}

#[test]
fn budgets_become_quotas_with_default_limits() {
    let text = "
platform: data
namespaces:
  data: { budget: { cpu: 8, memory: 16Gi, gpu: 1, pvcs: 10 } }
tenants:
  acme: { budget: { cpu: 2, memory: 4Gi }, namespaces: [data, ml] }
tiers:
  - name: apps
    services:
      web: { image: nginx:1.27 }
";
    let objects = objects(text);
    // The tenant's other namespaces: its labels, isolated, no share of its quota.
    for child in ["tenant-acme-data", "tenant-acme-ml"] {
        assert_eq!(
            find(&objects, "Namespace", child)["metadata"]["labels"]["strata.dev/tenant"],
            json!("acme")
        );
        assert!(objects.iter().any(|o| o.kind() == "NetworkPolicy"
            && o.name() == "default-deny"
            && o.namespace() == child));
        assert!(
            !objects
                .iter()
                .any(|o| o.kind() == "ResourceQuota" && o.namespace() == child)
        );
    }
    let quota = objects
        .iter()
        .find(|o| o.kind() == "ResourceQuota" && o.namespace() == "data")
        .unwrap();
    assert_eq!(
        quota.value["spec"]["hard"],
        json!({ "requests.cpu": "8", "requests.memory": "16Gi", "requests.nvidia.com/gpu": "1", "persistentvolumeclaims": "10" })
    );
    assert!(
        objects
            .iter()
            .any(|o| o.kind() == "LimitRange" && o.namespace() == "data")
    );
    let tenant = find(&objects, "Namespace", "tenant-acme");
    assert_eq!(
        tenant["metadata"]["labels"]["strata.dev/tenant"],
        json!("acme")
    );
    assert!(
        objects
            .iter()
            .any(|o| o.kind() == "ResourceQuota" && o.namespace() == "tenant-acme")
    );
}

#[test]
fn config_files_are_mounted_from_a_config_map() {
    let text = "
platform: edge
tiers:
  - name: edge
    services:
      proxy:
        image: openresty/openresty:1.25.3.2-alpine
        ports: { http: 8080 }
        config:
          mountPath: /etc/nginx/conf.d
          files:
            default.conf: { file: proxy/default.conf }
            extra.conf: 'server_tokens off;'
";
    let set = render_with(
        text,
        None,
        &[("proxy/default.conf", "server { listen 8080; }\n")],
    )
    .unwrap();
    let config = find(&set.objects, "ConfigMap", "proxy-config");
    assert_eq!(
        config["data"]["default.conf"],
        json!("server { listen 8080; }\n")
    );
    assert_eq!(config["data"]["extra.conf"], json!("server_tokens off;"));
    let mounts = &container(find(&set.objects, "Deployment", "proxy"))["volumeMounts"];
    assert!(
        mounts
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["mountPath"] == "/etc/nginx/conf.d" && m["readOnly"] == true)
    );
    let missing = render_with(text, None, &[]).unwrap_err();
    assert_eq!(missing[0].code, "unreadable-file");
    assert_eq!(missing[0].location().unwrap(), "platform.yaml:12:35");
}

#[test]
fn patches_change_one_object_or_explain_why_not() {
    let base = "
platform: shop
tiers:
  - name: data
    services:
      db:
        image: postgres:16.4
        ports: { postgres: 5432 }
        storage: 10Gi
        patches:
";
    let merge = format!(
        "{base}          - {{ target: StatefulSet, merge: {{ spec: {{ podManagementPolicy: Parallel }} }} }}\n          - {{ target: Service/db-headless, json: [{{ op: add, path: /metadata/annotations, value: {{ a: b }} }}] }}\n"
    );
    let objects = objects(&merge);
    assert_eq!(
        find(&objects, "StatefulSet", "db")["spec"]["podManagementPolicy"],
        json!("Parallel")
    );
    assert_eq!(
        find(&objects, "Service", "db-headless")["metadata"]["annotations"],
        json!({ "a": "b" })
    );

    let ambiguous = format!(
        "{base}          - {{ target: Service, merge: {{ spec: {{ type: NodePort }} }} }}\n"
    );
    let errors = render_with(&ambiguous, None, &[]).unwrap_err();
    assert_eq!(errors[0].code, "ambiguous-patch-target");
    assert!(
        errors[0]
            .help
            .as_deref()
            .unwrap()
            .contains("`Service/db-headless`")
    );

    let missing = format!("{base}          - {{ target: Deployment, merge: {{ spec: {{}} }} }}\n");
    assert_eq!(
        render_with(&missing, None, &[]).unwrap_err()[0].code,
        "unknown-patch-target"
    );

    let rename = format!(
        "{base}          - {{ target: StatefulSet, merge: {{ metadata: {{ name: other }} }} }}\n"
    );
    assert_eq!(
        render_with(&rename, None, &[]).unwrap_err()[0].code,
        "patch-renames"
    );

    let bad_path = format!(
        "{base}          - {{ target: StatefulSet, json: [{{ op: remove, path: /spec/nothing }}] }}\n"
    );
    assert_eq!(
        render_with(&bad_path, None, &[]).unwrap_err()[0].code,
        "patch-failed"
    );
}

#[test]
fn tier_manifests_are_included_as_they_are_in_their_own_wave() {
    let text = "
platform: shop
tiers:
  - name: operators
    manifests: [operators/cnpg.yaml]
  - name: data
    after: [operators]
    services:
      db: { image: postgres:16.4, ports: { postgres: 5432 } }
";
    let manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: operator-settings\n  namespace: cnpg-system\ndata:\n  a: '1'\n---\n";
    let set = render_with(text, None, &[("operators/cnpg.yaml", manifest)]).unwrap();
    let raw = set
        .objects
        .iter()
        .find(|o| o.name() == "operator-settings")
        .unwrap();
    assert_eq!(
        raw.value,
        json!({ "apiVersion": "v1", "kind": "ConfigMap", "metadata": { "name": "operator-settings", "namespace": "cnpg-system" }, "data": { "a": "1" } })
    );
    let db = set
        .objects
        .iter()
        .find(|o| o.kind() == "Deployment")
        .unwrap();
    assert_eq!(raw.wave, 1);
    assert_eq!(db.wave, 2, "the tier waits for the operators' manifests");
}

#[test]
fn a_generated_secret_read_from_several_namespaces_is_one_secret() {
    let text = "platform: p\ntiers:\n  - name: data\n    namespace: data\n    services:\n      cache: { blueprint: redis }\n  - name: apps\n    namespace: apps\n    services:\n      api: { image: ghcr.io/p/api:1.0.0, ports: { http: 8080 }, env: { R: '${cache.url}', PW: { secret: cache-credentials, key: password } } }\n";
    let set = render_with(text, None, &[]).unwrap();
    let copies: Vec<&GeneratedSecret> = set
        .generated_secrets
        .iter()
        .filter(|s| s.name == "cache-credentials")
        .collect();
    assert_eq!(copies.len(), 1, "{copies:?}");
    assert_eq!(copies[0].namespaces, ["data", "apps"]);
}

#[test]
fn secret_values_appear_only_when_the_spec_gives_them() {
    let text = "
platform: shop
secrets:
  db-credentials: { generate: [password] }
  api-keys: { data: { stripe: sk_test_123 } }
tiers:
  - name: apps
    services:
      api:
        image: shop/api:1.2.0
        env:
          DB_PASSWORD: { secret: db-credentials, key: password }
          STRIPE: { secret: api-keys, key: stripe }
";
    let set = render_with(text, None, &[]).unwrap();
    assert!(
        !set.objects.iter().any(|o| o.name() == "db-credentials"),
        "generated secrets are left to apply"
    );
    assert_eq!(
        set.generated_secrets,
        vec![GeneratedSecret {
            name: "db-credentials".into(),
            namespaces: vec!["shop".into()],
            secret_type: "Opaque".into(),
            keys: vec!["password".into()]
        }]
    );
    assert_eq!(
        find(&set.objects, "Secret", "api-keys")["stringData"],
        json!({ "stripe": "sk_test_123" })
    );
}

const MESH: &str = "
platform: voice
network: { mesh: istio }
defaults:
  calls: { timeout: 3s, connectTimeout: 1s, retries: 3, circuitBreaker: 50%, pool: 50 }
gateways:
  edge:
    kind: istio
    hosts: [voice.example.com]
    tls: voice-tls
    jwt: { issuer: https://auth.example.com, jwksUri: https://auth.example.com/jwks }
tiers:
  - name: data
    namespace: voice-infra
    services:
      redis: { image: redis:7.4.1, ports: { redis: 6379, http-admin: 8001 } }
  - name: apps
    namespace: voice-prod
    services:
      api:
        image: voice/api:1.0.0
        ports: { http: 8080, metrics: 9090 }
        needs: [redis]
        expose: { path: /api, rewrite: / }
        calls: { redis: { timeout: 500ms } }
      worker: { image: voice/worker:1.0.0, ports: { grpc: 9000 }, needs: [redis] }
";

#[test]
fn istio_gateways_route_and_the_mesh_authorizes_exactly_the_callers() {
    let objects = objects(MESH);
    let gateway = find(&objects, "Gateway", "edge");
    assert_eq!(
        gateway["spec"]["selector"],
        json!({ "istio": "ingressgateway" })
    );
    assert_eq!(
        gateway["spec"]["servers"][1]["tls"]["credentialName"],
        json!("voice-tls")
    );
    let vs = find(&objects, "VirtualService", "edge-voice-example-com");
    assert_eq!(vs["spec"]["gateways"], json!(["voice-prod/edge"]));
    assert_eq!(
        vs["spec"]["http"][0]["match"][0]["uri"]["prefix"],
        json!("/api")
    );
    assert_eq!(vs["spec"]["http"][0]["rewrite"]["uri"], json!("/"));
    assert_eq!(
        vs["spec"]["http"][0]["route"][0]["destination"]["host"],
        json!("api.voice-prod.svc.cluster.local")
    );
    assert_eq!(
        find(&objects, "RequestAuthentication", "api-jwt")["spec"]["jwtRules"][0]["issuer"],
        json!("https://auth.example.com")
    );
    let strict = objects
        .iter()
        .filter(|o| o.kind() == "PeerAuthentication" && o.name() == "default")
        .count();
    assert_eq!(strict, 2, "STRICT mTLS in both namespaces");
    let redis = find(&objects, "AuthorizationPolicy", "redis");
    let mut principals: Vec<String> = redis["spec"]["rules"][0]["from"][0]["source"]["principals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap().to_string())
        .collect();
    principals.sort();
    assert_eq!(
        principals,
        [
            "cluster.local/ns/voice-prod/sa/api",
            "cluster.local/ns/voice-prod/sa/worker"
        ]
    );
    let api = find(&objects, "AuthorizationPolicy", "api");
    assert_eq!(
        api["spec"]["rules"][0]["from"][0]["source"]["requestPrincipals"],
        json!(["*"]),
        "the route requires a JWT"
    );
    let worker = find(&objects, "AuthorizationPolicy", "worker");
    assert_eq!(
        worker["spec"]["rules"],
        json!([]),
        "nobody calls the worker: deny all"
    );
}

#[test]
fn call_policy_becomes_mesh_traffic_policy_with_per_edge_overrides() {
    let objects = objects(MESH);
    let rule = find(&objects, "DestinationRule", "redis");
    assert_eq!(
        rule["spec"]["trafficPolicy"]["connectionPool"]["tcp"],
        json!({ "maxConnections": 50, "connectTimeout": "1000ms" })
    );
    assert_eq!(
        rule["spec"]["trafficPolicy"]["outlierDetection"]["maxEjectionPercent"],
        json!(50)
    );
    let vs = find(&objects, "VirtualService", "redis-calls");
    let http = vs["spec"]["http"].as_array().unwrap();
    let overridden = http
        .iter()
        .find(|h| h["timeout"] == "500ms")
        .expect("api's own timeout");
    assert_eq!(
        overridden["match"][0]["sourceLabels"]["app.kubernetes.io/name"],
        json!("api")
    );
    assert_eq!(
        http.last().unwrap()["timeout"],
        json!("3000ms"),
        "everyone else gets the default"
    );
    assert_eq!(http.last().unwrap()["retries"]["attempts"], json!(3));
    let tcp_only = self::objects(&MESH.replace(
        "ports: { redis: 6379, http-admin: 8001 }",
        "ports: { redis: 6379 }",
    ));
    assert!(
        !tcp_only.iter().any(|o| o.name() == "redis-calls"),
        "HTTP timeouts do not apply to a TCP service"
    );
    assert!(
        tcp_only
            .iter()
            .any(|o| o.kind() == "DestinationRule" && o.name() == "redis")
    );
}

#[test]
fn an_operator_outside_the_mesh_reaches_its_pods_on_its_ports_only() {
    let objects = objects(
        "platform: voice\nnetwork: { mesh: istio }\noperators: { cloudnative-pg: { installed: true } }\ntiers:\n  - name: data\n    services:\n      pg: { blueprint: postgresql, mode: ha }\n",
    );
    let peer = find(&objects, "PeerAuthentication", "pg-members-operator");
    assert_eq!(
        peer["spec"]["selector"]["matchLabels"]["cnpg.io/cluster"],
        json!("pg")
    );
    assert_eq!(peer["spec"]["mtls"]["mode"], json!("STRICT"));
    assert_eq!(
        peer["spec"]["portLevelMtls"],
        json!({ "8000": { "mode": "PERMISSIVE" }, "5432": { "mode": "PERMISSIVE" } })
    );
    let allow = find(&objects, "AuthorizationPolicy", "pg-members-operator");
    assert_eq!(
        allow["spec"]["rules"],
        json!([{ "to": [{ "operation": { "ports": ["8000", "5432"] } }] }])
    );
    // Pods Strata runs have no operator to admit.
    assert!(
        !self::objects(MESH)
            .iter()
            .any(|o| o.name().ends_with("-operator"))
    );
}

#[test]
fn a_rate_limit_is_a_local_limit_in_each_pods_sidecar() {
    let limited = MESH.replace(
        "expose: { path: /api, rewrite: / }",
        "expose: { path: /api, rewrite: / }\n        serve: { rateLimit: 1000 }",
    );
    let objects = objects(&limited);
    let filter = find(&objects, "EnvoyFilter", "api-rate-limit");
    assert_eq!(filter["metadata"]["namespace"], json!("voice-prod"));
    assert_eq!(
        filter["spec"]["workloadSelector"]["labels"]["app.kubernetes.io/name"],
        json!("api")
    );
    let patch = &filter["spec"]["configPatches"][0];
    assert_eq!(patch["match"]["context"], json!("SIDECAR_INBOUND"));
    let config = &patch["patch"]["value"]["typed_config"];
    assert_eq!(
        config["token_bucket"],
        json!({ "max_tokens": 1000, "tokens_per_fill": 1000, "fill_interval": "60s" })
    );
    assert_eq!(
        config["filter_enforced"]["default_value"]["numerator"],
        json!(100)
    );
    assert_eq!(
        objects.iter().filter(|o| o.kind() == "EnvoyFilter").count(),
        1,
        "only the limited service gets a filter"
    );
    assert!(
        !self::objects(MESH)
            .iter()
            .any(|o| o.kind() == "EnvoyFilter")
    );
}

#[test]
fn without_a_mesh_call_policy_reaches_the_caller_as_environment() {
    let text = MESH
        .replace("network: { mesh: istio }", "")
        .replace("    jwt: { issuer: https://auth.example.com, jwksUri: https://auth.example.com/jwks }\n", "")
        .replace("kind: istio", "kind: ingress");
    let objects = objects(&text);
    assert!(
        !objects
            .iter()
            .any(|o| o.kind() == "DestinationRule" || o.kind() == "AuthorizationPolicy")
    );
    let env = &container(find(&objects, "Deployment", "api"))["env"];
    let value = |name: &str| {
        env.as_array()
            .unwrap()
            .iter()
            .find(|v| v["name"] == name)
            .map(|v| v["value"].clone())
    };
    assert_eq!(value("STRATA_CALL_REDIS_TIMEOUT_MS"), Some(json!("500")));
    assert_eq!(value("STRATA_CALL_REDIS_RETRIES"), Some(json!("3")));
    assert_eq!(
        value("STRATA_CALL_REDIS_CIRCUIT_BREAKER_PERCENT"),
        Some(json!("50"))
    );
}

#[test]
fn ingress_and_gateway_api_routes() {
    let text = MESH
        .replace("network: { mesh: istio }", "")
        .replace("    jwt: { issuer: https://auth.example.com, jwksUri: https://auth.example.com/jwks }\n", "")
        .replace("kind: istio", "kind: ingress\n    class: nginx");
    let objects = objects(&text);
    let ingress = find(&objects, "Ingress", "edge-api");
    assert_eq!(ingress["spec"]["ingressClassName"], json!("nginx"));
    assert_eq!(
        ingress["spec"]["tls"][0],
        json!({ "hosts": ["voice.example.com"], "secretName": "voice-tls" })
    );
    assert_eq!(
        ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/rewrite-target"],
        json!("/$2")
    );
    assert_eq!(
        ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"],
        json!({ "name": "api", "port": { "number": 8080 } })
    );

    let text = MESH
        .replace("network: { mesh: istio }", "")
        .replace("    jwt: { issuer: https://auth.example.com, jwksUri: https://auth.example.com/jwks }\n", "")
        .replace("kind: istio", "kind: gateway-api\n    class: eg");
    let objects = self::objects(&text);
    assert_eq!(
        find(&objects, "Gateway", "edge")["spec"]["gatewayClassName"],
        json!("eg")
    );
    let route = find(&objects, "HTTPRoute", "edge-api");
    assert_eq!(route["spec"]["hostnames"], json!(["voice.example.com"]));
    assert_eq!(
        route["spec"]["rules"][0]["filters"][0]["urlRewrite"]["path"]["replacePrefixMatch"],
        json!("/")
    );
    assert_eq!(
        route["spec"]["parentRefs"][0],
        json!({ "name": "edge", "namespace": "voice-prod" })
    );
}

#[test]
fn kong_gateways_get_declarative_config_with_plugins() {
    let text = "
platform: knowton
gateways:
  api-gateway:
    kind: kong
    service: kong
    hosts: [api.knowton.io]
    rateLimit: 100
    cors: [https://knowton.io]
    jwt: { issuer: knowton, jwksUri: https://knowton.io/jwks }
tiers:
  - name: gateway
    services:
      kong: { image: kong:3.8.0, ports: { http: 8000, admin: 8001 }, replicas: 2 }
  - name: apps
    services:
      content: { image: knowton/content:1.0.0, ports: { http: 3000 }, expose: { path: /content } }
";
    let objects = objects(text);
    let config = find(&objects, "ConfigMap", "api-gateway-kong");
    let kong: Value = serde_saphyr_yaml(config["data"]["kong.yml"].as_str().unwrap());
    let service = &kong["services"][0];
    assert_eq!(
        service["url"],
        json!("http://content.knowton.svc.cluster.local:3000")
    );
    let plugins: Vec<&str> = service["routes"][0]["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(plugins, ["rate-limiting", "jwt", "cors"]);
    let deployment = find(&objects, "Deployment", "kong");
    let env = &container(deployment)["env"];
    assert!(
        env.as_array()
            .unwrap()
            .iter()
            .any(|v| v["name"] == "KONG_DECLARATIVE_CONFIG")
    );
    let ingress = find(&objects, "NetworkPolicy", "content-ingress");
    assert_eq!(
        ingress["spec"]["ingress"][0]["from"][0]["podSelector"]["matchLabels"]["app.kubernetes.io/name"],
        json!("kong")
    );
}

fn serde_saphyr_yaml(text: &str) -> Value {
    let file = SourceFile::new("kong.yml", text);
    crate::spec::yaml::parse(&file)
        .expect("kong.yml parses")
        .to_json()
}

#[test]
fn network_mistakes_are_reported_at_their_place() {
    let resolve = |text: &str| {
        let file = SourceFile::new("platform.yaml", text);
        crate::resolve(&spec::parse(&file).unwrap(), None).unwrap_err()
    };
    let two = MESH.replace(
        "gateways:\n  edge:",
        "gateways:\n  admin: { kind: ingress }\n  edge:",
    );
    assert_eq!(resolve(&two)[0].code, "ambiguous-gateway");
    let typo = MESH.replace(
        "expose: { path: /api, rewrite: / }",
        "expose: { via: egde, path: /api }",
    );
    let errors = resolve(&typo);
    assert_eq!(
        (errors[0].code, errors[0].help.as_deref()),
        ("unknown-gateway", Some("did you mean `edge`?"))
    );
    let stranger = MESH.replace(
        "calls: { redis: { timeout: 500ms } }",
        "calls: { worker: { timeout: 500ms } }",
    );
    assert_eq!(resolve(&stranger)[0].code, "unknown-callee");
}

#[test]
fn namespaces_take_annotations_pod_security_levels_and_limit_budgets() {
    let text = "
platform: shop
namespaces:
  shop:
    annotations: { quota.cpu: '32' }
    podSecurity: { enforce: baseline, warn: restricted }
    budget: { cpu: 4, memory: 8Gi, limits: { cpu: 8, memory: 16Gi } }
tenants:
  acme: { annotations: { owner: acme } }
tiers:
  - name: apps
    services:
      api: { image: shop/api:1.0.0, ports: { http: 8080 } }
";
    let objects = objects(text);
    let shop = &find(&objects, "Namespace", "shop")["metadata"];
    assert_eq!(shop["annotations"], json!({ "quota.cpu": "32" }));
    let labels = &shop["labels"];
    assert_eq!(
        labels["pod-security.kubernetes.io/enforce"],
        json!("baseline")
    );
    assert_eq!(
        labels["pod-security.kubernetes.io/warn"],
        json!("restricted")
    );
    assert_eq!(
        labels["pod-security.kubernetes.io/audit"],
        json!("restricted")
    );
    assert_eq!(
        find(&objects, "Namespace", "tenant-acme")["metadata"]["annotations"],
        json!({ "owner": "acme" })
    );
    let hard = &find(&objects, "ResourceQuota", "budget")["spec"]["hard"];
    assert_eq!(hard["limits.cpu"], json!("8"));
    assert_eq!(hard["limits.memory"], json!("16Gi"));
    assert_eq!(hard["requests.cpu"], json!("4"));
}

#[test]
fn priorities_scratch_directories_shared_volumes_and_scaling_behaviour() {
    let text = "
platform: shop
priorities:
  high: 1000
  medium: { value: 500, default: true, description: most services }
tiers:
  - name: apps
    services:
      api:
        image: shop/api:1.0.0
        ports: { http: 8080 }
        priority: high
        scratch: [/home/app/.cache, /var/cache/app/]
        autoscale:
          min: 2
          max: 20
          scaleUp: { pods: 4, percent: 100%, every: 15s }
          scaleDown: { wait: 5m }
      models:
        image: shop/models:1.0.0
        ports: { http: 8080 }
        replicas: 2
        kind: stateless
        storage: { size: 100Gi, class: efs, access: ReadWriteMany }
      weights:
        image: shop/weights:1.0.0
        ports: { http: 8080 }
        kind: stateless
        storage: { size: 10Gi, class: nfs, access: ReadOnlyMany, mountPath: /models }
";
    let objects = objects(text);
    let high = find(&objects, "PriorityClass", "high");
    assert_eq!(
        (&high["value"], &high["globalDefault"]),
        (&json!(1000), &json!(false))
    );
    let medium = find(&objects, "PriorityClass", "medium");
    assert_eq!(medium["globalDefault"], json!(true));
    assert_eq!(medium["description"], json!("most services"));
    let api = find(&objects, "Deployment", "api");
    let pod = &api["spec"]["template"]["spec"];
    assert_eq!(pod["priorityClassName"], json!("high"));
    let mounts: Vec<&Value> = container(api)["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| &m["mountPath"])
        .collect();
    assert_eq!(
        mounts,
        [
            &json!("/tmp"),
            &json!("/home/app/.cache"),
            &json!("/var/cache/app")
        ]
    );
    assert_eq!(
        pod["volumes"][1],
        json!({ "name": "writable-0", "emptyDir": {} })
    );
    let behavior = &find(&objects, "HorizontalPodAutoscaler", "api")["spec"]["behavior"];
    assert_eq!(
        behavior["scaleUp"],
        json!({ "selectPolicy": "Max", "policies": [
            { "type": "Pods", "value": 4, "periodSeconds": 15 },
            { "type": "Percent", "value": 100, "periodSeconds": 15 },
        ] })
    );
    assert_eq!(
        behavior["scaleDown"],
        json!({ "stabilizationWindowSeconds": 300 })
    );
    let claim = find(&objects, "PersistentVolumeClaim", "models-data");
    assert_eq!(claim["spec"]["accessModes"], json!(["ReadWriteMany"]));
    let models = find(&objects, "Deployment", "models");
    assert_eq!(models["spec"]["strategy"]["type"], json!("RollingUpdate"));
    let weights = find(&objects, "Deployment", "weights");
    assert_eq!(
        container(weights)["volumeMounts"][1],
        json!({ "name": "data", "mountPath": "/models", "readOnly": true })
    );
    assert!(
        find(&objects, "Deployment", "api")["spec"]["template"]["spec"]
            .get("priorityClassName")
            .is_some()
    );
}

#[test]
fn a_service_port_may_differ_from_the_container_port() {
    let text = "
platform: shop
gateways:
  edge: { kind: ingress, hosts: [shop.example.com] }
tiers:
  - name: apps
    services:
      web: { image: shop/web:1.0.0, ports: { http: { port: 80, targetPort: 8080 } }, expose: { path: / } }
      api: { image: shop/api:1.0.0, ports: { http: 8080 }, env: { WEB: '${web.url}' } }
";
    let objects = objects(text);
    let service = find(&objects, "Service", "web");
    assert_eq!(service["spec"]["ports"][0]["port"], json!(80));
    assert_eq!(service["spec"]["ports"][0]["targetPort"], json!("http"));
    let web = find(&objects, "Deployment", "web");
    assert_eq!(container(web)["ports"][0]["containerPort"], json!(8080));
    let ingress = &find(&objects, "NetworkPolicy", "web-ingress")["spec"]["ingress"];
    assert!(
        ingress
            .as_array()
            .unwrap()
            .iter()
            .all(|rule| rule["ports"][0]["port"] == json!(8080)),
        "{ingress}"
    );
    let env = &container(find(&objects, "Deployment", "api"))["env"];
    assert!(
        env.as_array()
            .unwrap()
            .iter()
            .any(|v| v["value"] == json!("http://web.shop.svc.cluster.local:80")),
        "{env}"
    );
    let route = find(&objects, "Ingress", "edge");
    assert_eq!(
        route["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["port"]["number"],
        json!(80)
    );
}

#[test]
fn access_renders_a_role_its_binding_and_egress_to_the_api_server() {
    let objects = objects(
        "platform: demo\nnetwork: { apiServer: 10.0.0.1/32 }\ntiers:\n  - name: apps\n    services:\n      hub:\n        image: demo/hub:1.0\n        serviceAccountToken: true\n        access:\n          - { resources: [pods, pods/log], verbs: [get, list, create, delete] }\n          - { apiGroups: [batch], resources: [jobs], verbs: [create] }\n      web: { image: demo/web:1.0, ports: { http: 8080 } }\n",
    );
    assert_eq!(
        find(&objects, "Role", "hub")["rules"],
        json!([
            { "apiGroups": [""], "resources": ["pods", "pods/log"], "verbs": ["get", "list", "create", "delete"] },
            { "apiGroups": ["batch"], "resources": ["jobs"], "verbs": ["create"] },
        ])
    );
    let binding = find(&objects, "RoleBinding", "hub");
    assert_eq!(binding["roleRef"]["name"], "hub");
    assert_eq!(
        binding["subjects"],
        json!([{ "kind": "ServiceAccount", "name": "hub", "namespace": "demo" }])
    );
    assert_eq!(
        find(&objects, "NetworkPolicy", "hub-egress")["spec"]["egress"],
        json!([{ "to": [{ "ipBlock": { "cidr": "10.0.0.1/32" } }], "ports": [{ "protocol": "TCP", "port": 443 }, { "protocol": "TCP", "port": 6443 }] }])
    );
    assert!(
        objects
            .iter()
            .all(|o| o.kind() != "Role" || o.name() == "hub"),
        "no Role without access"
    );
    assert!(
        objects.iter().all(|o| o.name() != "web-egress"),
        "no API server egress without access"
    );
}

/// Two services on one host, one of them with a public and a protected route.
const ROUTES: &str = "
platform: t
network: { mesh: istio }
gateways:
  edge:
    kind: istio
    hosts: [shop.example.com]
    jwt: { issuer: https://id.example.com, jwksUri: https://id.example.com/jwks }
tiers:
  - name: apps
    services:
      web: { image: ghcr.io/x/web:1.0.0, ports: { http: 8080 }, expose: { path: /, auth: false } }
      api:
        image: ghcr.io/x/api:1.0.0
        ports: { http: 8080 }
        expose: [{ path: /login, auth: false }, { path: /users }, { path: /api/v1/long, timeout: 2m, retries: 0 }]
";

#[test]
fn routes_of_one_host_share_one_virtual_service_longest_prefix_first() {
    let objects = objects(ROUTES);
    let services: Vec<&Object> = objects
        .iter()
        .filter(|o| o.kind() == "VirtualService")
        .collect();
    assert_eq!(services.len(), 1, "one VirtualService for the one host");
    let http = services[0].value["spec"]["http"].as_array().unwrap();
    let prefixes: Vec<&str> = http
        .iter()
        .map(|h| h["match"][0]["uri"]["prefix"].as_str().unwrap())
        .collect();
    assert_eq!(prefixes, ["/api/v1/long", "/login", "/users", "/"]);
    assert_eq!(http[0]["timeout"], json!("120000ms"));
    assert_eq!(
        http[0]["retries"]["perTryTimeout"],
        json!("120000ms"),
        "no retry: the one try has the whole timeout"
    );
    let jwt = objects
        .iter()
        .filter(|o| o.kind() == "RequestAuthentication")
        .count();
    assert_eq!(
        jwt, 1,
        "one RequestAuthentication for api's two protected routes"
    );
}

#[test]
fn a_public_route_opens_only_its_own_paths() {
    let objects = objects(ROUTES);
    let rules = find(&objects, "AuthorizationPolicy", "api")["spec"]["rules"]
        .as_array()
        .unwrap()
        .clone();
    let public: Vec<&Value> = rules
        .iter()
        .filter(|r| r["from"][0]["source"]["requestPrincipals"].is_null())
        .collect();
    assert_eq!(public.len(), 1);
    assert_eq!(
        public[0]["to"][0]["operation"]["paths"],
        json!(["/login", "/login/*"]),
        "without paths, /users would be served without a JWT"
    );
    let protected = rules
        .iter()
        .filter(|r| r["from"][0]["source"]["requestPrincipals"] == json!(["*"]))
        .count();
    assert_eq!(protected, 1, "the protected routes share one rule");
    let web = find(&objects, "AuthorizationPolicy", "web");
    assert!(
        web["spec"]["rules"][0]["to"][0]["operation"]["paths"].is_null(),
        "`/` admits every path"
    );
}

#[test]
fn ingress_and_gateway_api_give_each_route_object_its_own_name() {
    let base = "
platform: t
gateways: { edge: { kind: KIND, hosts: [a.example.com] } }
tiers:
  - name: apps
    services:
      api:
        image: ghcr.io/x/api:1.0.0
        ports: { http: 8080 }
        expose: [{ path: /a, rewrite: /x }, { path: /b, rewrite: /y }, { path: /c, host: b.example.com }, { path: /d }]
";
    for kind in ["ingress", "gateway-api"] {
        let set = render_with(&base.replace("KIND", kind), None, &[]).expect("no duplicate");
        let names: Vec<String> = set
            .objects
            .iter()
            .filter(|o| matches!(o.kind(), "Ingress" | "HTTPRoute"))
            .map(|o| o.name().to_string())
            .collect();
        assert!(names.len() >= 2, "{kind}: {names:?}");
    }
    let objects = objects(&base.replace("KIND", "gateway-api"));
    let rules = &find(&objects, "HTTPRoute", "edge-api-1")["spec"]["rules"];
    assert_eq!(
        rules.as_array().unwrap().len(),
        3,
        "a rule per route of a.example.com"
    );
    let objects = self::objects(&base.replace("KIND", "ingress"));
    assert_eq!(
        find(&objects, "Ingress", "edge-api-2")["metadata"]["annotations"]["nginx.ingress.kubernetes.io/rewrite-target"],
        json!("/y/$2")
    );
}

const KONG: &str = "
platform: r
defaults:
  calls: { timeout: 3s, connectTimeout: 1s, retries: 3 }
gateways:
  api:
    kind: kong
    service: kong
    tls: r-tls
    expose: { type: LoadBalancer, from: [203.0.113.0/24] }
    cors: { origins: [\"https://*.r.io\"], methods: [GET, POST] }
tiers:
  - name: t
    services:
      db: { image: postgres:16.4, ports: { postgres: 5432 } }
      kong: { blueprint: kong }
      web:
        image: ghcr.io/r/web:1.0.0
        ports: { http: 3000 }
        needs: [db]
        expose: [{ path: /a }, { path: /b, rateLimit: 10 }, { path: /slow, timeout: 30s, retries: 0 }]
";

#[test]
fn kong_names_services_and_routes_uniquely_with_the_call_policy() {
    let objects = objects(KONG);
    let config = find(&objects, "ConfigMap", "api-kong");
    let kong: Value = serde_saphyr_yaml(config["data"]["kong.yml"].as_str().unwrap());
    let services = kong["services"].as_array().unwrap();
    let names: Vec<&str> = services
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["web-1", "web-2"],
        "the slow route has its own timeouts"
    );
    let routes: Vec<&str> = services
        .iter()
        .flat_map(|s| s["routes"].as_array().unwrap())
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(routes, ["api-web-1", "api-web-2", "api-web-3"]);
    assert_eq!(services[0]["connect_timeout"], json!(1000));
    assert_eq!(services[0]["read_timeout"], json!(3000));
    assert_eq!(services[0]["write_timeout"], json!(3000));
    assert_eq!(services[0]["retries"], json!(3));
    assert_eq!(services[1]["read_timeout"], json!(30000));
    assert_eq!(services[1]["retries"], json!(0));
    let cors = &services[0]["routes"][0]["plugins"][0];
    assert_eq!(cors["name"], json!("cors"));
    assert_eq!(
        cors["config"]["origins"],
        json!(["https://[a-zA-Z0-9-]+\\.r\\.io"])
    );
    assert_eq!(cors["config"]["methods"], json!(["GET", "POST"]));
}

#[test]
fn kong_config_comes_with_the_kong_pods_and_serves_tls_from_outside() {
    let objects = objects(KONG);
    let wave = |kind: &str, name: &str| {
        objects
            .iter()
            .find(|o| o.kind() == kind && o.name() == name)
            .unwrap()
            .wave
    };
    assert!(
        wave("ConfigMap", "api-kong") <= wave("Deployment", "kong"),
        "Kong mounts its configuration at start"
    );
    assert!(wave("Deployment", "kong") < wave("Deployment", "web"));
    let kong = container(find(&objects, "Deployment", "kong"));
    let env: HashMap<&str, &str> = kong["env"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| Some((v["name"].as_str()?, v["value"].as_str()?)))
        .collect();
    assert_eq!(env["KONG_PROXY_LISTEN"], "0.0.0.0:8000, 0.0.0.0:8443 ssl");
    assert_eq!(env["KONG_SSL_CERT"], "/kong-tls/tls.crt");
    assert_eq!(
        kong["env"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|v| v["name"] == "KONG_PROXY_LISTEN")
            .count(),
        1
    );
    assert!(
        kong["ports"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["containerPort"] == 8443)
    );
    let service = find(&objects, "Service", "api-public");
    assert_eq!(service["spec"]["type"], json!("LoadBalancer"));
    assert_eq!(service["spec"]["externalTrafficPolicy"], json!("Local"));
    assert_eq!(
        service["spec"]["ports"],
        json!([
            { "name": "http", "port": 80, "targetPort": "proxy", "protocol": "TCP" },
            { "name": "https", "port": 443, "targetPort": "proxy-tls", "protocol": "TCP" },
        ])
    );
    assert_eq!(
        find(&objects, "Service", "kong")["spec"]["type"],
        json!("ClusterIP"),
        "in-cluster callers and the status port stay inside"
    );
    let policy = find(&objects, "NetworkPolicy", "api-public");
    assert_eq!(
        policy["spec"]["ingress"][0]["from"],
        json!([{ "ipBlock": { "cidr": "203.0.113.0/24" } }])
    );
    assert_eq!(
        policy["spec"]["ingress"][0]["ports"],
        json!([{ "protocol": "TCP", "port": 8000 }, { "protocol": "TCP", "port": 8443 }])
    );
}

#[test]
fn call_policy_targets_the_host_an_operator_serves() {
    let text = "
platform: t
network: { mesh: istio }
defaults:
  calls: { connectTimeout: 1s, circuitBreaker: 50% }
operators: { cloudnative-pg: { installed: true } }
tiers:
  - name: data
    services:
      pg: { blueprint: postgresql, mode: ha }
  - name: apps
    services:
      api: { image: ghcr.io/x/api:1.0.0, ports: { http: 8080 }, env: { DB: \"${pg.host}\" } }
";
    let objects = objects(text);
    assert_eq!(
        find(&objects, "DestinationRule", "pg")["spec"]["host"],
        json!("pg-rw.t.svc.cluster.local")
    );
    assert_eq!(
        find(&objects, "DestinationRule", "pg-read")["spec"]["host"],
        json!("pg-ro.t.svc.cluster.local")
    );
}

#[test]
fn a_meshed_platform_labels_its_namespaces_for_sidecar_injection() {
    let objects = objects(MESH);
    let namespaces: Vec<&Object> = objects.iter().filter(|o| o.kind() == "Namespace").collect();
    assert_eq!(namespaces.len(), 2);
    for namespace in namespaces {
        assert_eq!(
            namespace.value["metadata"]["labels"]["istio-injection"],
            json!("enabled")
        );
    }
    let plain = self::objects(&MESH.replace("network: { mesh: istio }", ""));
    assert!(
        find(&plain, "Namespace", "voice-prod")["metadata"]["labels"]["istio-injection"].is_null()
    );
}

#[test]
fn sidecars_reach_istiod_where_the_control_plane_runs() {
    let egress_to = |objects: &[Object], namespace: &str| {
        let policy = objects
            .iter()
            .find(|o| o.name() == "allow-mesh-control-plane" && o.namespace() == namespace)
            .unwrap();
        policy.value["spec"]["egress"][0].clone()
    };
    let default = objects(MESH);
    assert_eq!(
        egress_to(&default, "voice-prod")["to"],
        json!([{ "namespaceSelector": { "matchLabels": { "kubernetes.io/metadata.name": "istio-system" } }, "podSelector": { "matchLabels": { "app": "istiod" } } }])
    );
    assert!(
        !default
            .iter()
            .any(|o| o.name() == "mesh-control-plane-ingress"),
        "istio-system is not the platform's: its policies are not ours"
    );

    let text = MESH.replace(
        "network: { mesh: istio }",
        "network: { mesh: istio, apiServer: 10.0.0.1/32, controlPlane: { namespace: voice-infra } }",
    );
    let objects = objects(&text);
    for namespace in ["voice-infra", "voice-prod"] {
        let rule = egress_to(&objects, namespace);
        assert_eq!(
            rule["to"][0]["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"],
            "voice-infra"
        );
        assert_eq!(
            rule["ports"],
            json!([{ "protocol": "TCP", "port": 15012 }, { "protocol": "TCP", "port": 15014 }])
        );
    }
    let ingress = find(&objects, "NetworkPolicy", "mesh-control-plane-ingress");
    assert_eq!(ingress["metadata"]["namespace"], "voice-infra");
    assert_eq!(
        ingress["spec"]["podSelector"],
        json!({ "matchLabels": { "app": "istiod" } })
    );
    assert_eq!(
        ingress["spec"]["ingress"][0]["from"],
        json!([{ "namespaceSelector": {} }]),
        "sidecars of every namespace"
    );
    assert_eq!(
        ingress["spec"]["ingress"][1],
        json!({ "from": [{ "ipBlock": { "cidr": "10.0.0.1/32" } }], "ports": [{ "protocol": "TCP", "port": 15017 }] })
    );
    let egress = find(&objects, "NetworkPolicy", "mesh-control-plane-egress");
    assert_eq!(
        egress["spec"]["egress"],
        json!([super::network::api_server_rule("10.0.0.1/32")])
    );

    let labelled = self::objects(&MESH.replace(
        "network: { mesh: istio }",
        "network: { mesh: istio, controlPlane: { namespace: mesh, labels: { istio.io/rev: canary } } }",
    ));
    assert_eq!(
        egress_to(&labelled, "voice-prod")["to"][0]["podSelector"],
        json!({ "matchLabels": { "istio.io/rev": "canary" } })
    );
}

#[test]
fn pods_a_service_spawns_are_reached_by_it_alone_and_call_what_they_declare() {
    let text = MESH.replace(
        "      worker: { image: voice/worker:1.0.0, ports: { grpc: 9000 }, needs: [redis] }\n",
        "      worker: { image: voice/worker:1.0.0, ports: { grpc: 9000 }, needs: [redis] }
      hub:
        image: voice/hub:1.0.0
        ports: { http: 8081 }
        spawns: { labels: { component: notebook }, ports: { http: 8888 }, calls: [hub, redis] }
",
    );
    let objects = objects(&text);
    let spawned = json!({ "namespaceSelector": { "matchLabels": { "kubernetes.io/metadata.name": "voice-prod" } }, "podSelector": { "matchLabels": { "component": "notebook" } } });
    let hub = json!({ "namespaceSelector": { "matchLabels": { "kubernetes.io/metadata.name": "voice-prod" } }, "podSelector": { "matchLabels": { "app.kubernetes.io/name": "hub", "app.kubernetes.io/instance": "voice" } } });
    let ingress = find(&objects, "NetworkPolicy", "hub-spawned-ingress");
    assert_eq!(
        ingress["spec"]["podSelector"],
        json!({ "matchLabels": { "component": "notebook" } })
    );
    assert_eq!(
        ingress["spec"]["ingress"],
        json!([{ "from": [hub], "ports": [{ "protocol": "TCP", "port": 8888 }] }])
    );
    let egress = find(&objects, "NetworkPolicy", "hub-spawned-egress");
    let callees: Vec<&Value> = egress["spec"]["egress"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["to"][0]["podSelector"]["matchLabels"]["app.kubernetes.io/name"])
        .collect();
    assert_eq!(callees, [&json!("hub"), &json!("redis")]);
    // Each side of each call: the hub's egress to them, the callees' ingress from them.
    assert!(
        find(&objects, "NetworkPolicy", "hub-egress")["spec"]["egress"]
            .as_array()
            .unwrap()
            .contains(&json!({ "to": [spawned], "ports": [{ "protocol": "TCP", "port": 8888 }] }))
    );
    for callee in ["hub-ingress", "redis-ingress"] {
        let from = &find(&objects, "NetworkPolicy", callee)["spec"]["ingress"][0]["from"];
        assert!(from.as_array().unwrap().contains(&spawned), "{callee}");
    }
    // Their own identity, with no API token, admitted by their callees and
    // admitting the hub only, on their port.
    let account = find(&objects, "ServiceAccount", "hub-spawned");
    assert_eq!(account["automountServiceAccountToken"], json!(false));
    let principal = json!("cluster.local/ns/voice-prod/sa/hub-spawned");
    for callee in ["hub", "redis"] {
        let policy = find(&objects, "AuthorizationPolicy", callee);
        assert!(
            policy["spec"]["rules"][0]["from"][0]["source"]["principals"]
                .as_array()
                .unwrap()
                .contains(&principal),
            "{callee}"
        );
    }
    let authorization = find(&objects, "AuthorizationPolicy", "hub-spawned");
    assert_eq!(
        authorization["spec"],
        json!({
            "selector": { "matchLabels": { "component": "notebook" } },
            "action": "ALLOW",
            "rules": [{
                "from": [{ "source": { "principals": ["cluster.local/ns/voice-prod/sa/hub"] } }],
                "to": [{ "operation": { "ports": ["8888"] } }],
            }],
        })
    );
    assert!(
        !find(&objects, "AuthorizationPolicy", "api")["spec"]["rules"][0]["from"][0]["source"]
            ["principals"]
            .as_array()
            .is_some_and(|p| p.contains(&principal)),
        "no access to what they do not call"
    );
}

#[test]
fn volcano_schedules_pods_in_a_queue_bounded_by_the_namespace_budget() {
    let text = "
platform: ml
operators: { volcano: { installed: true }, kuberay-operator: { installed: true } }
namespaces:
  train: { budget: { cpu: 32, memory: 128Gi, gpu: 4 } }
tiers:
  - name: base
    namespace: base
    services:
      db: { image: postgres:16.4, ports: { postgres: 5432 } }
  - name: training
    namespace: train
    services:
      trainer: { image: ml/trainer:1.0.0, kind: job, scheduler: volcano, needs: [db] }
      ray: { blueprint: ray, scheduler: volcano }
      api: { image: ml/api:1.0.0, ports: { http: 8080 } }
";
    let objects = objects(text);
    let job = find(&objects, "Job", "trainer");
    let pod = &job["spec"]["template"];
    assert_eq!(pod["spec"]["schedulerName"], "volcano");
    assert_eq!(
        pod["metadata"]["annotations"]["scheduling.volcano.sh/queue-name"],
        "train"
    );
    let api = find(&objects, "Deployment", "api");
    assert!(api["spec"]["template"]["spec"]["schedulerName"].is_null());
    let ray = find(&objects, "RayCluster", "ray");
    assert_eq!(
        ray["metadata"]["labels"]["ray.io/scheduler-name"],
        "volcano"
    );
    assert_eq!(ray["metadata"]["labels"]["volcano.sh/queue-name"], "train");
    let queues: Vec<&Object> = objects.iter().filter(|o| o.kind() == "Queue").collect();
    assert_eq!(queues.len(), 1, "one queue, for the one namespace using it");
    let queue = &queues[0].value;
    assert_eq!(queue["metadata"]["name"], "train");
    assert!(queue["metadata"]["namespace"].is_null(), "cluster-scoped");
    assert_eq!(
        queue["spec"],
        json!({ "weight": 1, "capability": { "cpu": "32", "memory": "128Gi", "nvidia.com/gpu": "4" } })
    );
    let trainer_wave = objects.iter().find(|o| o.kind() == "Job").unwrap().wave;
    assert!(
        queues[0].wave <= trainer_wave && queues[0].wave > 0,
        "with the first service it queues, after the waves before it"
    );
}

#[test]
fn a_gateway_lives_in_its_own_namespace_with_cors_on_its_routes() {
    let text = MESH.replace(
        "    tls: voice-tls\n",
        "    tls: voice-tls\n    namespace: istio-system\n    cors: [\"https://*.example.com\", https://voice.example.com]\n",
    );
    let objects = objects(&text);
    let gateway = objects.iter().find(|o| o.kind() == "Gateway").unwrap();
    assert_eq!(gateway.namespace(), "istio-system");
    let vs = objects
        .iter()
        .find(|o| o.kind() == "VirtualService" && o.name() == "edge-voice-example-com")
        .unwrap();
    assert_eq!(vs.namespace(), "istio-system");
    assert_eq!(vs.value["spec"]["gateways"], json!(["istio-system/edge"]));
    assert_eq!(
        vs.value["spec"]["http"][0]["corsPolicy"]["allowOrigins"],
        json!([{ "regex": "https://[a-zA-Z0-9-]+\\.example\\.com" }, { "exact": "https://voice.example.com" }])
    );
}

#[test]
fn two_objects_of_one_name_are_an_error_never_a_silent_overwrite() {
    let text = "
platform: shop
tiers:
  - name: extra
    manifests: [extra.yaml]
  - name: data
    services:
      db: { image: postgres:16.4, ports: { postgres: 5432 } }
";
    let manifest = "apiVersion: v1\nkind: Service\nmetadata:\n  name: db\n  namespace: shop\nspec:\n  ports: [{ port: 1 }]\n";
    let errors = render_with(text, None, &[("extra.yaml", manifest)]).unwrap_err();
    let error = errors
        .iter()
        .find(|e| e.code == "duplicate-object")
        .unwrap_or_else(|| panic!("{errors:?}"));
    assert!(
        error
            .message
            .contains("line 1 of the manifest `extra.yaml`")
            && error
                .message
                .contains("Service `db` in the namespace `shop`")
            && error.message.contains("the service `db`"),
        "{error:?}"
    );
    // At the manifest's name in the spec, and at the service.
    let file = error.file.as_ref().unwrap();
    let at = |label: usize| file.location(error.labels[label].span);
    assert_eq!((at(0), at(1)), ((5, 17), (8, 7)));
}

#[test]
fn a_call_without_retries_gets_the_whole_timeout_for_its_one_try() {
    let text = MESH.replace(
        "calls: { redis: { timeout: 500ms } }",
        "calls: { redis: { timeout: 180s, retries: 0 } }",
    );
    let objects = objects(&text);
    let http = &find(&objects, "VirtualService", "redis-calls")["spec"]["http"];
    let own = http
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["timeout"] == "180000ms")
        .unwrap();
    assert_eq!(own["retries"]["attempts"], json!(0));
    assert_eq!(own["retries"]["perTryTimeout"], json!("180000ms"));
}

#[test]
fn in_a_mesh_the_sidecar_validates_tokens_for_any_gateway_kind() {
    let text = KONG
        .replace("platform: r\n", "platform: r\nnetwork: { mesh: istio }\n")
        .replace(
            "    tls: r-tls\n",
            "    tls: r-tls\n    jwt: { issuer: https://id.r.io, jwksUri: https://id.r.io/jwks }\n",
        );
    let objects = objects(&text);
    let rules = &find(&objects, "RequestAuthentication", "web-jwt")["spec"]["jwtRules"];
    assert_eq!(
        rules,
        &json!([{ "issuer": "https://id.r.io", "jwksUri": "https://id.r.io/jwks", "forwardOriginalToken": true }]),
        "the AuthorizationPolicy requires a request principal: something must yield it"
    );
}

#[test]
fn a_metrics_port_that_is_the_api_port_admits_anonymous_gets_of_the_metrics_path_only() {
    // A ServiceMonitor scrapes the Service's port itself, not the sidecar's.
    let text = ROUTES
        .replace(
            "network: { mesh: istio }",
            "network: { mesh: istio }\nmonitoring: { serviceMonitors: true }",
        )
        .replace(
            "        ports: { http: 8080 }\n        expose: [",
            "        ports: { http: 8080 }\n        metrics: { port: http }\n        expose: [",
        );
    let objects = objects(&text);
    let rules = find(&objects, "AuthorizationPolicy", "api")["spec"]["rules"]
        .as_array()
        .unwrap()
        .clone();
    let anonymous: Vec<&Value> = rules.iter().filter(|r| r.get("from").is_none()).collect();
    assert_eq!(
        anonymous,
        [
            &json!({ "to": [{ "operation": { "ports": ["8080"], "methods": ["GET"], "paths": ["/metrics"] } }] })
        ],
        "a GET of /users in plain text must not pass"
    );
}

const RENAMED: &str = "
platform: kt
namespace: kt-prod
namespaces:
  kt-prod: { labels: { environment: production } }
  kt-data: { budget: { pods: 20 } }
  kt-staging: { annotations: { owner: qa } }
environments:
  staging:
    namespaces: { kt-prod: kt-staging, kt-data: kt-staging-data }
    namespaceLabels: { environment: staging }
tiers:
  - name: data
    namespace: kt-data
    services:
      db: { image: postgres:16.4, ports: { postgres: 5432 }, storage: 10Gi }
  - name: apps
    services:
      api: { image: kt/api:1.0.0, ports: { http: 8080 }, env: { DB: '${db.host}' } }
";

#[test]
fn an_environment_renames_every_namespace_and_labels_them() {
    let staging = render_with(RENAMED, Some("staging"), &[]).unwrap().objects;
    let text =
        serde_json::to_string(&staging.iter().map(|o| &o.value).collect::<Vec<_>>()).unwrap();
    assert!(!text.contains("\"kt-prod\""), "a base name is left: {text}");
    assert!(!text.contains("\"kt-data\""), "a base name is left: {text}");
    let prod = find(&staging, "Namespace", "kt-staging");
    assert_eq!(prod["metadata"]["labels"]["environment"], "staging");
    // An entry under the environment's own name applies there only.
    assert_eq!(prod["metadata"]["annotations"]["owner"], "qa");
    let data = find(&staging, "Namespace", "kt-staging-data");
    assert_eq!(data["metadata"]["labels"]["environment"], "staging");
    // The data namespace's budget follows its rename.
    let quota = staging
        .iter()
        .find(|o| o.kind() == "ResourceQuota")
        .expect("a quota");
    assert_eq!(quota.value["metadata"]["namespace"], "kt-staging-data");
    // References follow the rename.
    let api = find(&staging, "Deployment", "api");
    assert_eq!(api["metadata"]["namespace"], "kt-staging");
    let db = container(api)["env"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "DB")
        .unwrap()
        .clone();
    assert_eq!(db["value"], "db.kt-staging-data.svc.cluster.local");
    // The api's egress to the database names the renamed namespace.
    assert!(text.contains("\"kubernetes.io/metadata.name\":\"kt-staging-data\""));
    // The base spec keeps its own names and labels.
    let base = render_with(RENAMED, None, &[]).unwrap().objects;
    let prod = find(&base, "Namespace", "kt-prod");
    assert_eq!(prod["metadata"]["labels"]["environment"], "production");
    assert!(prod["metadata"]["annotations"]["owner"].is_null());
}

const VOLUMES: &str = "
platform: v
tiers:
  - name: data
    services:
      ch:
        image: clickhouse/clickhouse-server:24.8
        replicas: 2
        storage: 10Gi
        volumes: [{ name: logs, size: 5Gi, mountPath: /var/log/app, class: standard }]
      web:
        image: v/web:1.0.0
        volumes: [{ name: uploads, size: 1Gi, mountPath: /srv/uploads }]
";

#[test]
fn extra_volumes_are_claimed_per_pod_or_once_and_mounted() {
    let objects = render_with(VOLUMES, None, &[]).unwrap().objects;
    let set = find(&objects, "StatefulSet", "ch");
    let templates: Vec<&str> = set["spec"]["volumeClaimTemplates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(templates, ["data", "logs"]);
    let logs = &set["spec"]["volumeClaimTemplates"][1]["spec"];
    assert_eq!(logs["storageClassName"], "standard");
    assert_eq!(logs["resources"]["requests"]["storage"], "5Gi");
    let mounts = container(set)["volumeMounts"].to_string();
    assert!(
        mounts.contains(r#"{"name":"logs","mountPath":"/var/log/app"}"#),
        "{mounts}"
    );
    // A volume alone makes the service stateful, as `storage` does.
    let web = find(&objects, "StatefulSet", "web");
    assert_eq!(
        web["spec"]["volumeClaimTemplates"][0]["metadata"]["name"],
        "uploads"
    );
    // Stateless: one claim beside the Deployment, which is replaced, not surged.
    let stateless = VOLUMES.replace(
        "image: v/web:1.0.0",
        "image: v/web:1.0.0\n        kind: stateless",
    );
    let objects = render_with(&stateless, None, &[]).unwrap().objects;
    let claim = find(&objects, "PersistentVolumeClaim", "web-uploads");
    assert_eq!(claim["spec"]["resources"]["requests"]["storage"], "1Gi");
    let web = find(&objects, "Deployment", "web");
    assert_eq!(web["spec"]["strategy"]["type"], "Recreate");
    assert_eq!(
        web["spec"]["template"]["spec"]["volumes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["name"] == "uploads")
            .unwrap()["persistentVolumeClaim"]["claimName"],
        "web-uploads"
    );
    // `plan` counts every claim: 2 pods × 2 volumes, and one.
    let file = SourceFile::new("platform.yaml", &stateless);
    let platform = crate::resolve(&spec::parse(&file).unwrap(), None).unwrap();
    let totals = crate::plan::Plan::new(&platform).total;
    assert_eq!(totals.pvcs, 5);
    assert_eq!(totals.storage, crate::quantity::Quantity::units(31 << 30));
}

#[test]
fn a_daemon_gets_the_claim_it_mounts() {
    let objects = objects(
        "
platform: d
tiers:
  - name: t
    services:
      agent: { image: d/agent:1.0.0, kind: daemon, storage: 1Gi }
",
    );
    find(&objects, "PersistentVolumeClaim", "agent-data");
}

#[test]
fn literal_variables_can_live_in_an_editable_config_map() {
    let objects = objects(
        "
platform: e
tiers:
  - name: t
    services:
      db: { image: postgres:16.4, ports: { postgres: 5432 } }
      api:
        image: e/api:1.0.0
        envFrom: configMap
        env:
          LOG_LEVEL: info
          DB_HOST: ${db.host}
          DB_PASSWORD: { secret: db-credentials, key: password }
",
    );
    let data = &find(&objects, "ConfigMap", "api-env")["data"];
    assert_eq!(
        data,
        &json!({ "LOG_LEVEL": "info", "DB_HOST": "db.e.svc.cluster.local" })
    );
    let api = container(find(&objects, "Deployment", "api"));
    assert_eq!(
        api["envFrom"],
        json!([{ "configMapRef": { "name": "api-env" } }])
    );
    let names: Vec<&str> = api["env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["DB_PASSWORD"]);
    // Without the key, nothing changes.
    let db = container(find(&objects, "Deployment", "db"));
    assert!(db.get("envFrom").is_none());
    assert!(objects.iter().all(|o| o.name() != "db-env"));
}

#[test]
fn in_a_mesh_metrics_are_scraped_from_the_sidecar_and_the_api_port_stays_strict() {
    let text = ROUTES.replace(
        "        ports: { http: 8080 }\n        expose: [",
        "        ports: { http: 8080 }\n        metrics: { port: http }\n        expose: [",
    );
    let objects = objects(&text);
    assert!(
        !objects.iter().any(|o| o.name() == "api-metrics"),
        "no PERMISSIVE port: the scraper reads the sidecar's merged endpoint"
    );
    let rules = find(&objects, "AuthorizationPolicy", "api")["spec"]["rules"]
        .as_array()
        .unwrap()
        .clone();
    assert!(
        rules.iter().all(|r| r.get("from").is_some()),
        "nothing anonymous reaches the API port"
    );
    let pod = &find(&objects, "Deployment", "api")["spec"]["template"]["metadata"]["annotations"];
    assert_eq!(pod["prometheus.istio.io/merge-metrics"], json!("true"));
    assert_eq!(
        pod["prometheus.io/port"],
        json!("8080"),
        "the injector rewrites it to 15020"
    );
    let ingress = &find(&objects, "NetworkPolicy", "api-ingress")["spec"]["ingress"];
    assert!(
        ingress
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["ports"] == json!([{ "protocol": "TCP", "port": 15020 }])),
        "{ingress}"
    );
}

#[test]
fn mesh_policies_select_operator_run_pods_by_their_operators_labels() {
    let text = "
platform: t
network: { mesh: istio }
operators: { cloudnative-pg: { installed: true } }
tiers:
  - name: data
    services:
      pg: { blueprint: postgresql, mode: ha }
  - name: apps
    services:
      api: { image: ghcr.io/x/api:1.0.0, ports: { http: 8080 }, env: { DB: \"${pg.host}\" } }
";
    let objects = objects(text);
    let operated =
        json!({ "matchLabels": { "cnpg.io/cluster": "pg", "cnpg.io/podRole": "instance" } });
    assert_eq!(
        find(&objects, "AuthorizationPolicy", "pg")["spec"]["selector"],
        operated,
        "CloudNativePG does not copy Strata's labels onto its pods"
    );
}

#[test]
fn a_tier_out_of_the_mesh_gets_no_sidecar_policies_and_plain_text_calls() {
    let text = MESH.replace(
        "  - name: data\n    namespace: voice-infra\n",
        "  - name: data\n    namespace: voice-infra\n    mesh: false\n",
    );
    let objects = objects(&text);
    let injection =
        |ns: &str| find(&objects, "Namespace", ns)["metadata"]["labels"]["istio-injection"].clone();
    assert_eq!(injection("voice-infra"), json!("disabled"));
    assert_eq!(injection("voice-prod"), json!("enabled"));
    let in_infra = |kind: &str| {
        objects
            .iter()
            .any(|o| o.kind() == kind && o.namespace() == "voice-infra")
    };
    assert!(
        !in_infra("PeerAuthentication"),
        "no STRICT mTLS without sidecars"
    );
    assert!(!in_infra("AuthorizationPolicy"), "nothing would enforce it");
    assert_eq!(
        find(&objects, "DestinationRule", "redis")["spec"]["trafficPolicy"]["tls"],
        json!({ "mode": "DISABLE" }),
        "meshed callers talk plain text to a callee without a sidecar"
    );
    assert!(
        find(&objects, "AuthorizationPolicy", "api")["spec"]["rules"].is_array(),
        "the meshed tier keeps its policies"
    );
}

#[test]
fn mesh_telemetry_renders_a_namespace_default_and_per_service_sampling() {
    let text = MESH
        .replace(
            "network: { mesh: istio }",
            "network: { mesh: istio, telemetry: { tracing: jaeger, sampling: 10%, accessLog: \"response.code >= 400\" } }",
        )
        .replace(
            "        calls: { redis: { timeout: 500ms } }\n",
            "        calls: { redis: { timeout: 500ms } }\n        tracing: { sampling: 50% }\n",
        );
    let objects = objects(&text);
    let defaults: Vec<&Object> = objects
        .iter()
        .filter(|o| o.kind() == "Telemetry" && o.name() == "default")
        .collect();
    assert_eq!(defaults.len(), 2, "one per meshed namespace");
    assert_eq!(
        defaults[0].value["spec"],
        json!({
            "tracing": [{ "providers": [{ "name": "jaeger" }], "randomSamplingPercentage": 10 }],
            "accessLogging": [{ "providers": [{ "name": "envoy" }], "filter": { "expression": "response.code >= 400" } }],
        })
    );
    let api = find(&objects, "Telemetry", "api");
    assert_eq!(
        api["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"],
        json!("api")
    );
    assert_eq!(
        api["spec"]["tracing"][0]["randomSamplingPercentage"],
        json!(50)
    );
}

const SERVE: &str = "
platform: t
network: { mesh: istio }
defaults: { calls: { timeout: 3s, retries: 3 } }
tiers:
  - name: apps
    services:
      model:
        image: ghcr.io/x/model:1.0.0
        ports: { http: 8080 }
        serve: { loadBalancer: least-request, timeout: 180s, retries: 0, pool: 500 }
      voice:
        image: ghcr.io/x/voice:1.0.0
        ports: { http: 8081 }
        serve: { loadBalancer: { hash: { header: x-session-id } }, sessionAffinity: 1h }
      agent: { image: ghcr.io/x/agent:1.0.0, ports: { http: 8000 }, needs: [model, voice] }
      chat:
        image: ghcr.io/x/chat:1.0.0
        ports: { http: 8001 }
        needs: [model]
        calls: { model: { timeout: 30s } }
";

#[test]
fn serve_sets_the_callee_side_policy_under_each_callers_own() {
    let objects = objects(SERVE);
    let model = &find(&objects, "DestinationRule", "model")["spec"]["trafficPolicy"];
    assert_eq!(model["loadBalancer"], json!({ "simple": "LEAST_REQUEST" }));
    assert_eq!(model["connectionPool"]["tcp"]["maxConnections"], json!(500));
    let http = find(&objects, "VirtualService", "model-calls")["spec"]["http"]
        .as_array()
        .unwrap()
        .clone();
    let default = http.last().unwrap();
    assert!(default.get("match").is_none());
    assert_eq!(
        default["timeout"],
        json!("180000ms"),
        "serve: over the platform's 3s"
    );
    assert_eq!(default["retries"]["attempts"], json!(0), "never retried");
    let chat = http.iter().find(|h| h.get("match").is_some()).unwrap();
    assert_eq!(
        chat["timeout"],
        json!("30000ms"),
        "the caller's own calls: win"
    );
    assert_eq!(
        chat["retries"]["attempts"],
        json!(0),
        "the rest comes from serve:"
    );
    let voice = &find(&objects, "DestinationRule", "voice")["spec"]["trafficPolicy"];
    assert_eq!(
        voice["loadBalancer"],
        json!({ "consistentHash": { "httpHeaderName": "x-session-id" } })
    );
    let service = &find(&objects, "Service", "voice")["spec"];
    assert_eq!(service["sessionAffinity"], json!("ClientIP"));
    assert_eq!(
        service["sessionAffinityConfig"]["clientIP"]["timeoutSeconds"],
        json!(3600)
    );
}

#[test]
fn serve_without_a_mesh_reaches_callers_as_environment() {
    let text = SERVE
        .replace("network: { mesh: istio }\n", "")
        .replace("loadBalancer: least-request, ", "")
        .replace("loadBalancer: { hash: { header: x-session-id } }, ", "");
    let objects = objects(&text);
    let env = &container(find(&objects, "Deployment", "agent"))["env"];
    let timeout = env
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "STRATA_CALL_MODEL_TIMEOUT_MS")
        .unwrap();
    assert_eq!(timeout["value"], json!("180000"));
    assert_eq!(
        find(&objects, "Service", "voice")["spec"]["sessionAffinity"],
        json!("ClientIP")
    );
}

#[test]
fn session_affinity_alone_hashes_the_client_address_in_a_mesh() {
    let objects = objects(&SERVE.replace("loadBalancer: { hash: { header: x-session-id } }, ", ""));
    assert_eq!(
        find(&objects, "DestinationRule", "voice")["spec"]["trafficPolicy"]["loadBalancer"],
        json!({ "consistentHash": { "useSourceIp": true } })
    );
}

#[test]
fn namespace_limits_replace_the_limit_range_defaults_and_add_bounds() {
    let spec = |limits: &str| {
        format!(
            "platform: shop\nnamespaces:\n  apps:\n    limits: {limits}\ntiers:\n  - name: apps\n    namespace: apps\n    services:\n      api: {{ image: demo/api:1.0 }}\n"
        )
    };
    // A namespace without a budget gets the LimitRange too.
    let objects = objects(&spec(
        "{ max: { cpu: 4, memory: 8Gi }, min: { cpu: 100m }, default: { cpu: 500m, memory: 512Mi }, defaultRequest: { cpu: 250m } }",
    ));
    assert_eq!(
        find(&objects, "LimitRange", "defaults")["spec"]["limits"],
        json!([{
            "type": "Container",
            "defaultRequest": { "cpu": "250m", "memory": "128Mi" },
            "default": { "cpu": "500m", "memory": "512Mi" },
            "max": { "cpu": "4", "memory": "8Gi" },
            "min": { "cpu": "100m" },
        }])
    );
    let codes = |limits: &str| {
        let file = SourceFile::new("platform.yaml", spec(limits));
        let doc = spec::parse(&file).expect("the fixture parses");
        match crate::resolve(&doc, None) {
            Ok(_) => Vec::new(),
            Err(errors) => errors
                .iter()
                .map(|e| {
                    format!(
                        "{} {} {}",
                        e.code,
                        e.location().unwrap_or_default(),
                        e.message
                    )
                })
                .collect(),
        }
    };
    assert_eq!(
        codes("{ default: { cpu: 500m }, defaultRequest: { cpu: 1 } }"),
        [
            "invalid-limits platform.yaml:4:31 the cpu limits are out of order: `default` 500m is below `defaultRequest` 1"
        ]
    );
    // An absent default is the built-in one (200m / 256Mi).
    assert_eq!(
        codes("{ max: { memory: 200Mi } }"),
        [
            "invalid-limits platform.yaml:4:30 the memory limits are out of order: `max` 200Mi is below the built-in `default` 256Mi"
        ]
    );
}

#[test]
fn pods_that_wait_for_their_needs_do_so_in_init_containers() {
    let text = "
platform: shop
operators: { cloudnative-pg: { installed: true } }
tiers:
  - name: data
    services:
      pg: { blueprint: postgresql, mode: ha }
      cache: { image: redis:7.4.5, ports: { redis: 6379 } }
  - name: apps
    services:
      api:
        image: ghcr.io/shop/api:1.0.0
        ports: { http: 8080 }
        waitForNeeds: true
        needs: [cache]
        env: { DB: '${pg.url}', SEARCH: '${search.url}' }
        calls: { search: { wait: false } }
      search: { image: ghcr.io/shop/search:1.0.0, ports: { http: 9200 } }
      web: { image: ghcr.io/shop/web:1.0.0, ports: { http: 3000 }, needs: [api] }
";
    let objects = objects(text);
    let spec = &find(&objects, "Deployment", "api")["spec"]["template"]["spec"];
    let waits = spec["initContainers"].as_array().unwrap();
    let names: Vec<&str> = waits.iter().map(|c| c["name"].as_str().unwrap()).collect();
    // Not `search`: it is called without waiting.
    assert_eq!(names, ["wait-cache", "wait-pg"]);
    let command = waits[1]["command"][2].as_str().unwrap();
    assert!(
        command.contains("nc -z -w 2 pg-rw.shop.svc.cluster.local 5432"),
        "the host the operator serves: {command}"
    );
    assert_eq!(waits[0]["securityContext"]["runAsNonRoot"], json!(true));
    let web = &find(&objects, "Deployment", "web")["spec"]["template"]["spec"];
    assert!(web["initContainers"].is_null(), "only where asked");
}

#[test]
fn init_steps_run_in_order_after_the_waits_with_the_services_mounts() {
    let text = "
platform: shop
tiers:
  - name: data
    services:
      store: { image: minio/minio:RELEASE.2024-11-07T00-52-20Z, ports: { api: 9000 }, kind: stateful }
  - name: apps
    services:
      api:
        image: ghcr.io/shop/api:1.0.0
        ports: { http: 8080 }
        waitForNeeds: true
        storage: { size: 10Gi, mountPath: /models }
        scratch: [/home/app/.cache]
        config: { mountPath: /etc/api, files: { app.yaml: 'a: 1' } }
        init:
          fetch:
            image: quay.io/minio/mc:RELEASE.2024-11-21T17-21-54Z
            command: [sh, -c, 'mc mirror s3/models /models']
            env:
              S3: '${store.url}'
              KEY: { secret: store-login, key: secretkey }
          migrate:
            image: ghcr.io/shop/api:1.0.0
            args: [migrate]
            resources: { requests: { cpu: 500m }, limits: { memory: 1Gi } }
secrets:
  store-login: { generate: [secretkey] }
";
    let objects = objects(text);
    let api = find(&objects, "StatefulSet", "api");
    let spec = &api["spec"]["template"]["spec"];
    let init = spec["initContainers"].as_array().unwrap();
    let names: Vec<&str> = init.iter().map(|c| c["name"].as_str().unwrap()).collect();
    // The reference makes `store` a need, so `waitForNeeds` waits for it first.
    assert_eq!(names, ["wait-store", "fetch", "migrate"]);
    let fetch = &init[1];
    assert_eq!(
        fetch["env"],
        json!([
            { "name": "S3", "value": "tcp://store.shop.svc.cluster.local:9000" },
            { "name": "KEY", "valueFrom": { "secretKeyRef": { "name": "store-login", "key": "secretkey" } } },
        ])
    );
    // Every mount of the container, so the step can fill the volume.
    assert_eq!(fetch["volumeMounts"], spec["containers"][0]["volumeMounts"]);
    assert_eq!(fetch["securityContext"], container(api)["securityContext"]);
    assert_eq!(
        fetch["resources"],
        json!({ "requests": { "cpu": "100m", "memory": "128Mi" }, "limits": { "cpu": "1", "memory": "512Mi" } })
    );
    // A request alone raises the default limit; a limit alone is the request.
    assert_eq!(
        init[2]["resources"],
        json!({ "requests": { "cpu": "500m", "memory": "1Gi" }, "limits": { "cpu": "1", "memory": "1Gi" } })
    );
    assert_eq!(init[2]["args"], json!(["migrate"]));
    assert!(init[2]["env"].is_null() && init[2]["command"].is_null());
    // Out of a mesh the sidecar question does not arise.
    assert!(api["spec"]["template"]["metadata"]["annotations"].is_null());
    // The step's reference is the service's dependency: egress to `store`.
    let egress = find(&objects, "NetworkPolicy", "api-egress");
    assert!(
        egress["spec"]["egress"].as_array().unwrap().iter().any(
            |rule| rule["to"][0]["podSelector"]["matchLabels"]["app.kubernetes.io/name"] == "store"
        ),
        "{egress:#}"
    );
    insta::assert_snapshot!("init-steps", crate::export::yaml(&json!(&init[1..])));
}

#[test]
fn init_steps_and_jobs_in_a_mesh_get_the_proxy_as_a_native_sidecar() {
    let text = "
platform: shop
network: { mesh: istio }
tiers:
  - name: apps
    services:
      api:
        image: ghcr.io/shop/api:1.0.0
        ports: { http: 8080 }
        init: { prepare: { image: ghcr.io/shop/api:1.0.0, args: [prepare] } }
      web: { image: ghcr.io/shop/web:1.0.0, ports: { http: 3000 } }
      migrate: { image: ghcr.io/shop/api:1.0.0, kind: job }
      report: { image: ghcr.io/shop/api:1.0.0, kind: cron, schedule: '0 3 * * *' }
  - name: outside
    namespace: outside
    mesh: false
    services:
      batch:
        image: ghcr.io/shop/batch:1.0.0
        init: { prepare: { image: ghcr.io/shop/batch:1.0.0 } }
";
    let objects = objects(text);
    // A Job's pod completes only if its proxy stops with it.
    assert_eq!(
        find(&objects, "Job", "migrate")["spec"]["template"]["metadata"]["annotations"]
            [crate::render::NATIVE_SIDECAR_ANNOTATION],
        json!("true")
    );
    assert_eq!(
        find(&objects, "CronJob", "report")["spec"]["jobTemplate"]["spec"]["template"]["metadata"]
            ["annotations"][crate::render::NATIVE_SIDECAR_ANNOTATION],
        json!("true")
    );
    let annotations = |name: &str| {
        find(&objects, "Deployment", name)["spec"]["template"]["metadata"]["annotations"].clone()
    };
    assert_eq!(
        annotations("api")[crate::render::NATIVE_SIDECAR_ANNOTATION],
        json!("true")
    );
    assert!(annotations("web").is_null(), "only pods with init steps");
    assert!(
        annotations("batch").is_null(),
        "no sidecar outside the mesh"
    );
}

#[test]
fn a_job_creates_the_generated_secrets_with_rights_to_those_only() {
    let text = "platform: p\nnetwork: { mesh: istio }\ntiers:\n  - name: data\n    namespace: data\n    services:\n      cache: { blueprint: redis }\n  - name: apps\n    namespace: apps\n    services:\n      api: { image: ghcr.io/p/api:1.0.0, ports: { http: 8080 }, env: { R: '${cache.url}', PW: { secret: cache-credentials, key: password } } }\n";
    let set = render_with(text, None, &[]).unwrap();
    let parts: Vec<&Object> = set
        .objects
        .iter()
        .filter(|o| super::secret_job::is_part(o))
        .collect();
    assert!(parts.iter().all(|o| o.wave == 0));
    let keys: Vec<String> = parts.iter().map(|o| o.key()).collect();
    let job = parts.iter().find(|o| o.kind() == "Job").unwrap();
    assert!(job.name().starts_with("strata-secrets-"), "{keys:?}");
    // The platform creates no namespace `p`: the server's namespace is home.
    assert_eq!(job.namespace(), "data");
    for expected in [
        "ServiceAccount/data/strata-secrets",
        "Role/data/strata-secrets",
        "RoleBinding/data/strata-secrets",
        "Role/apps/strata-secrets",
        "RoleBinding/apps/strata-secrets",
        "NetworkPolicy/data/strata-secrets-api-server",
    ] {
        assert!(keys.iter().any(|k| k == expected), "{expected}: {keys:?}");
    }
    let role = find(&set.objects, "Role", "strata-secrets");
    assert_eq!(
        role["rules"],
        json!([
            { "apiGroups": [""], "resources": ["secrets"], "resourceNames": ["cache-credentials"], "verbs": ["get", "patch"] },
            { "apiGroups": [""], "resources": ["secrets"], "verbs": ["create"] },
        ])
    );
    let template = &job.value["spec"]["template"];
    assert_eq!(
        template["metadata"]["annotations"][super::NATIVE_SIDECAR_ANNOTATION],
        "true"
    );
    let pod = &template["spec"];
    assert_eq!(pod["automountServiceAccountToken"], false);
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    let c = &pod["containers"][0];
    assert_eq!(c["securityContext"]["readOnlyRootFilesystem"], true);
    assert_eq!(c["securityContext"]["capabilities"]["drop"], json!(["ALL"]));
    assert_eq!(
        c["env"][0],
        json!({ "name": "GENERATE", "value": "cache-credentials Opaque password data,apps" })
    );

    // Nothing generated, nothing rendered for it.
    let plain = "platform: p\ntiers:\n  - name: apps\n    services:\n      api: { image: ghcr.io/p/api:1.0.0 }\n";
    let set = render_with(plain, None, &[]).unwrap();
    assert!(!set.objects.iter().any(super::secret_job::is_part));
}

#[test]
fn a_changed_list_of_secrets_is_a_new_job() {
    let spec = |keys: &str| {
        format!(
            "platform: p\nsecrets:\n  s: {{ generate: [{keys}] }}\ntiers:\n  - name: apps\n    services:\n      api: {{ image: ghcr.io/p/api:1.0.0, env: {{ A: {{ secret: s, key: a }} }} }}\n"
        )
    };
    let job_name = |text: &str| {
        let set = render_with(text, None, &[]).unwrap();
        let job = set
            .objects
            .iter()
            .find(|o| o.kind() == "Job" && super::secret_job::is_part(o))
            .map(|o| o.name().to_string());
        job.unwrap()
    };
    assert_eq!(job_name(&spec("a")), job_name(&spec("a")));
    assert_ne!(job_name(&spec("a")), job_name(&spec("a, b")));
}

#[test]
fn a_taken_over_selector_selects_its_own_pods() {
    // A Helm chart's selector names the component (`primary`); Strata's own
    // component label would make the pods unselectable.
    let objects = objects(
        "platform: t
tiers:
  - name: data
    services:
      db:
        image: postgres:16.4
        ports: { postgres: 5432 }
        storage: 1Gi
        selector: { app.kubernetes.io/name: postgresql, app.kubernetes.io/component: primary }
",
    );
    let workload = find(&objects, "StatefulSet", "db");
    let labels = &workload["spec"]["template"]["metadata"]["labels"];
    for (k, v) in workload["spec"]["selector"]["matchLabels"]
        .as_object()
        .unwrap()
    {
        assert_eq!(&labels[k], v, "{k}");
    }
    assert_eq!(labels["app.kubernetes.io/component"], json!("primary"));
}

#[test]
fn a_services_labels_made_once_are_those_each_object_made() {
    // Platform and service labels, and a selector taken over that sets
    // Strata's own keys: each label in the place and with the value the
    // maps built step by step gave it.
    let file = SourceFile::new(
        "platform.yaml",
        "platform: t
labels: { team: core, zone: b }
tiers:
  - name: data
    services:
      db:
        image: postgres:16.4
        ports: { postgres: 5432 }
        labels: { zone: a, owner: data }
        selector: { app.kubernetes.io/name: postgresql, app.kubernetes.io/component: primary }
      web:
        image: nginx:1.27
        labels: { owner: web }
",
    );
    let doc = spec::parse(&file).expect("the fixture parses");
    let platform = crate::resolve(&doc, None).expect("the fixture resolves");
    let entries = |map: &serde_json::Map<String, Value>| -> Vec<(String, Value)> {
        map.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    };
    for service in &platform.services {
        // The labels as they were built before: each part a map of its
        // own, extended in turn.
        let mut expected = serde_json::Map::new();
        for (k, v) in &platform.labels {
            expected.insert(k.clone(), json!(v));
        }
        expected.insert("app.kubernetes.io/part-of".into(), json!(platform.name));
        expected.insert("app.kubernetes.io/managed-by".into(), json!("strata"));
        for (k, v) in &service.labels {
            expected.insert(k.clone(), json!(v));
        }
        let strata: serde_json::Map<String, Value> = [
            ("app.kubernetes.io/name".to_string(), json!(service.name)),
            (
                "app.kubernetes.io/instance".to_string(),
                json!(platform.name),
            ),
        ]
        .into_iter()
        .collect();
        let selector: serde_json::Map<String, Value> = match &service.rare.selector {
            Some(own) => own.iter().map(|(k, v)| (k.clone(), json!(v))).collect(),
            None => strata.clone(),
        };
        expected.extend(strata);
        expected.extend(selector.clone());
        expected
            .entry("app.kubernetes.io/component")
            .or_insert_with(|| {
                json!(
                    service
                        .rare
                        .blueprint
                        .as_deref()
                        .unwrap_or(service.kind.as_str())
                )
            });
        expected.insert(
            "strata.dev/tier".into(),
            json!(platform.tier_of(service).name),
        );

        let own = labels::ServiceLabels::new(&platform, service);
        assert_eq!(
            entries(&own.labels()),
            entries(&expected),
            "{}",
            service.name
        );
        assert_eq!(
            entries(&labels::service(&platform, service)),
            entries(&expected)
        );
        assert_eq!(
            entries(&own.selector()),
            entries(&selector),
            "{}",
            service.name
        );
        let metadata = own.metadata("x");
        assert_eq!(metadata, labels::metadata(&platform, service, "x"));
        assert_eq!(
            entries(metadata["labels"].as_object().unwrap()),
            entries(&expected)
        );
    }
}

/// What `check` and `render` gave of one spec, and the kinds of the
/// deferred bodies each made.
struct Both {
    checked: Result<Checked, Vec<Diagnostic>>,
    check_made: Vec<&'static str>,
    rendered: Result<RenderedSet, Vec<Diagnostic>>,
    render_made: Vec<&'static str>,
}

/// A file of a test's [`Files`]: its path and text.
type File = (&'static str, &'static str);

/// `check` and `render` of `text` (with `files`), on one thread (the spec
/// holds fewer services than a thread renders at once).
fn check_and_render(text: &str, files: &[File]) -> Both {
    let file = SourceFile::new("platform.yaml", text);
    let platform = crate::resolve(&spec::parse(&file).expect("parses"), None).expect("resolves");
    let files = Files(files.iter().copied().collect());
    let mut checked = None;
    let check_made = body::tests::made_while(|| checked = Some(check(&platform, &files)));
    let mut rendered = None;
    let render_made = body::tests::made_while(|| rendered = Some(render(&platform, &files)));
    Both {
        checked: checked.expect("checked"),
        check_made,
        rendered: rendered.expect("rendered"),
        render_made,
    }
}

/// Services of every kind of deferred object (NetworkPolicies, Services,
/// a headless one, ServiceAccounts, a spawned one, a Role and its binding,
/// ConfigMaps inline and of variables, a PodDisruptionBudget, an
/// autoscaler, a ServiceMonitor), a ConfigMap read from a file, a patched
/// service and a blueprint whose operator runs its pods.
const DEFERRED: &str = "
platform: shop
network: { apiServer: 10.0.0.1/32 }
monitoring: { serviceMonitors: true }
operators: { cloudnative-pg: { installed: true } }
tiers:
  - name: data
    services:
      db: { image: postgres:16.4, ports: { postgres: 5432 }, storage: 10Gi, replicas: 3 }
      pg: { blueprint: postgresql, mode: ha }
  - name: apps
    services:
      api:
        image: shop/api:1.2.0
        ports: { http: 8080, metrics: 9100 }
        metrics: { port: metrics }
        autoscale: { min: 2, max: 6, cpu: 70% }
        needs: [db, pg]
        envFrom: configMap
        env: { LOG: info, DB: '${db.address}' }
        config:
          mountPath: /etc/api
          files:
            inline.conf: 'a = 1'
      proxy:
        image: shop/proxy:1.0.0
        ports: { http: 8080 }
        replicas: 2
        needs: [api]
        config:
          mountPath: /etc/proxy
          files:
            default.conf: { file: proxy/default.conf }
            extra.conf: 'b = 2'
      hub:
        image: shop/hub:1.0.0
        ports: { http: 8080 }
        serviceAccountToken: true
        access:
          - { resources: [pods], verbs: [get, list, create] }
        spawns: { labels: { component: notebook }, ports: { http: 8888 }, calls: [api] }
      patched:
        image: shop/patched:1.0.0
        ports: { http: 8080 }
        replicas: 2
        patches:
";

/// A patch that applies, on a deferred kind.
const GOOD_PATCH: &str =
    "          - { target: Service, merge: { metadata: { annotations: { a: b } } } }\n";

#[test]
fn check_knows_every_deferred_object_render_makes() {
    let files = [("proxy/default.conf", "server { listen 8080; }\n")];
    let text = format!("{DEFERRED}{GOOD_PATCH}");
    let Both {
        checked,
        check_made,
        rendered,
        render_made,
    } = check_and_render(&text, &files);
    let (checked, set) = (checked.expect("checks"), rendered.expect("renders"));
    assert_eq!(checked.len(), set.objects.len());
    assert!(set.objects.iter().all(|o| checked.holds(o)));
    assert_eq!(checked.pull_secrets, set.pull_secrets);
    assert_eq!(checked.generated_secrets, set.generated_secrets);
    let kinds: std::collections::BTreeSet<&str> = set.objects.iter().map(Object::kind).collect();
    for kind in [
        "NetworkPolicy",
        "Service",
        "ServiceAccount",
        "Role",
        "RoleBinding",
        "ConfigMap",
        "PodDisruptionBudget",
        "HorizontalPodAutoscaler",
        "ServiceMonitor",
        "Cluster",
    ] {
        assert!(kinds.contains(kind), "{kind} among {kinds:?}");
    }
    // Render makes every deferred body, each of an object of the set;
    // check makes whole only those of the patched service, all of which
    // its patch may change (the others' controllers it makes only in the
    // detail admission reads).
    let count =
        |kinds: &mut dyn Iterator<Item = &str>, kind: &str| kinds.filter(|k| *k == kind).count();
    for kind in &render_made {
        assert!(
            count(&mut render_made.iter().copied(), kind)
                <= count(&mut set.objects.iter().map(Object::kind), kind),
            "{kind}"
        );
    }
    assert!(count(&mut render_made.iter().copied(), "NetworkPolicy") >= 8);
    let mut made_for_patched = check_made.clone();
    made_for_patched.sort_unstable();
    assert_eq!(
        made_for_patched,
        [
            "Deployment",
            "PodDisruptionBudget",
            "Service",
            "ServiceAccount"
        ],
        "check made {check_made:?}"
    );
    assert!(render_made.len() > check_made.len() + 10);
}

#[test]
fn check_reports_what_render_reports_of_deferred_objects() {
    let proxy = ("proxy/default.conf", "server { listen 8080; }\n");
    // A tier's raw manifest (made whole) naming an object a service defers.
    let manifest =
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: api\n  namespace: shop\n---\n";
    let cases: Vec<(String, Vec<File>, &str)> = vec![
        (format!("{DEFERRED}{GOOD_PATCH}"), vec![], "unreadable-file"),
        (
            format!("{DEFERRED}          - {{ target: Service, json: [{{ op: remove, path: /spec/nothing }}] }}\n"),
            vec![proxy],
            "patch-failed",
        ),
        (
            format!("{DEFERRED}          - {{ target: HorizontalPodAutoscaler, merge: {{}} }}\n"),
            vec![proxy],
            "unknown-patch-target",
        ),
        (
            format!("{DEFERRED}          - {{ target: Service, merge: {{ metadata: {{ name: other }} }} }}\n"),
            vec![proxy],
            "patch-renames",
        ),
        (
            DEFERRED.replace("  - name: data\n", "  - name: data\n    manifests: [extra.yaml]\n")
                + GOOD_PATCH,
            vec![proxy, ("extra.yaml", manifest)],
            "duplicate-object",
        ),
        // A service named as the pods another spawns: its ingress
        // NetworkPolicy (deferred; it has peers) collides with theirs
        // (made whole), its ServiceAccount with theirs.
        (
            DEFERRED.replace("      patched:", "      hub-spawned: { image: shop/x:1.0.0, ports: { http: 8080 }, storage: 1Gi, replicas: 3 }\n      patched:")
                + GOOD_PATCH,
            vec![proxy],
            "duplicate-object",
        ),
    ];
    for (text, files, code) in cases {
        let both = check_and_render(&text, &files);
        let expected = both.rendered.expect_err(code);
        assert_eq!(expected[0].code, code, "{expected:?}");
        let found = both.checked.expect_err(code);
        assert_eq!(found, expected, "{code}");
    }
}

#[test]
fn check_makes_no_network_policy_body() {
    let text = "platform: demo\ntiers:\n  - name: data\n    services:\n      db: { image: demo/db:1.0, ports: { pg: 5432 }, replicas: 3, storage: 1Gi }\n  - name: apps\n    services:\n      web: { image: demo/web:1.0, ports: { http: 8080 }, needs: [db], expose: [] }\n";
    let Both {
        checked,
        check_made,
        rendered,
        render_made,
    } = check_and_render(text, &[]);
    let set = rendered.expect("renders");
    let policies = set.objects.iter().filter(|o| o.kind() == "NetworkPolicy");
    assert!(policies.count() >= 4);
    assert!(checked.expect("checks").len() == set.objects.len());
    assert!(render_made.contains(&"NetworkPolicy"), "{render_made:?}");
    assert!(check_made.is_empty(), "check made {check_made:?}");
}
