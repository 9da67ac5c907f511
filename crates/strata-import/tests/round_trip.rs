//! The round trip of every corpus system: `import`, then `render`, gives,
//! object by object, the input's images, commands, args, env values (after
//! references resolve), ports, probes, resources, volumes, replicas and
//! selectors. The comparison reads both sides on its own: it normalises
//! what Kubernetes defaults and what is written two ways (a host as
//! `cart`, `cart.shop` or `cart.shop.svc.cluster.local`, a CPU as `1` or
//! `1000m`), never through the import's code.
//!
//! What Strata adds on top is listed per system, and only known kinds of
//! additions are allowed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use strata_core::network_policy::{self, Direction, Pod};
use strata_core::quantity::{Measure, Quantity};
use strata_core::render::{self, Assets};
use strata_core::source::SourceFile;
use strata_core::spec::yaml;
use strata_import::{Input, Options, Source};

const WORKLOADS: &[&str] = &["Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"];

/// The objects `strata import` kept verbatim, served as the manifests file.
struct Kept(Option<String>);

impl Assets for Kept {
    fn read(&self, _path: &str) -> Result<String, String> {
        self.0.clone().ok_or_else(|| "nothing kept".into())
    }
}

/// Files compose inputs name, read from the disk.
struct Files;

impl Assets for Files {
    fn read(&self, path: &str) -> Result<String, String> {
        std::fs::read_to_string(path).map_err(|e| e.to_string())
    }
}

fn corpus() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut systems: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    systems.sort();
    systems
}

fn input_files(system: &Path) -> Vec<SourceFile> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(system)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            SourceFile::new(
                p.display().to_string(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect()
}

/// Every object of the input files (lists unpacked), as JSON.
fn input_objects(files: &[SourceFile]) -> Vec<Value> {
    let mut out = Vec::new();
    for file in files {
        for node in yaml::parse_all(file).unwrap() {
            let value = node.to_json();
            if value.is_null() {
                continue;
            }
            if let Some(items) = value.get("items").and_then(Value::as_array) {
                out.extend(items.iter().cloned());
            } else {
                out.push(value);
            }
        }
    }
    out
}

struct System {
    name: String,
    /// The compose file of a compose system (then `input` is empty), with its directory.
    compose: Option<(Value, PathBuf)>,
    input: Vec<Value>,
    rendered: Vec<Value>,
    namespaces: BTreeSet<String>,
    default_namespace: String,
}

impl System {
    fn ns(&self, o: &Value) -> String {
        o.pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .map_or_else(|| self.default_namespace.clone(), str::to_string)
    }

    fn rendered(&self, kind: &str, ns: &str, name: &str) -> Option<&Value> {
        self.rendered.iter().find(|o| {
            o["kind"] == kind && o["metadata"]["name"] == name && o["metadata"]["namespace"] == ns
        })
    }

    /// A value with every known host written the short way.
    fn host(&self, text: &str) -> String {
        let mut out = text.to_string();
        for ns in &self.namespaces {
            for suffix in [
                format!(".{ns}.svc.cluster.local"),
                format!(".{ns}.svc"),
                format!(".{ns}"),
            ] {
                let mut next = String::new();
                let mut rest = out.as_str();
                while let Some(at) = rest.find(&suffix) {
                    let after = rest[at + suffix.len()..].chars().next();
                    next.push_str(&rest[..at]);
                    // A suffix that ends the host is dropped.
                    if after.is_some_and(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.') {
                        next.push_str(&suffix);
                    }
                    rest = &rest[at + suffix.len()..];
                }
                next.push_str(rest);
                out = next;
            }
        }
        out
    }
}

fn load(system: &Path) -> System {
    let files = input_files(system);
    let name = system.file_name().unwrap().to_string_lossy().into_owned();
    let inputs: Vec<Input> = files
        .iter()
        .map(|f| Input {
            source: Source::guess(f.text()),
            file: f.clone(),
        })
        .collect();
    let options = Options {
        platform: name.clone(),
        namespace: None,
        manifests_file: "kept.yaml".into(),
    };
    let imported = strata_import::import(&inputs, &options, &Files)
        .unwrap_or_else(|e| panic!("{name}: {e:?}"));
    let spec = SourceFile::new(format!("{name}/platform.yaml"), imported.spec.clone());
    let doc = strata_core::spec::parse(&spec)
        .unwrap_or_else(|e| panic!("{name}: {e:?}\n{}", imported.spec));
    let platform = strata_core::resolve(&doc, None)
        .unwrap_or_else(|e| panic!("{name}: {e:?}\n{}", imported.spec));
    let set = render::render(&platform, &Kept(imported.manifests.clone()))
        .unwrap_or_else(|e| panic!("{name}: {e:?}\n{}", imported.spec));
    let compose = files
        .iter()
        .find(|f| Source::guess(f.text()) == Source::Compose)
        .map(|f| (yaml::parse(f).unwrap().to_json(), system.to_path_buf()));
    let input = if compose.is_some() {
        Vec::new()
    } else {
        input_objects(&files)
    };
    let mut namespaces: BTreeSet<String> = input
        .iter()
        .filter_map(|o| {
            o.pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .collect();
    namespaces.insert(name.clone());
    System {
        compose,
        default_namespace: name.clone(),
        name,
        input,
        rendered: set.objects.into_iter().map(|o| o.value).collect(),
        namespaces,
    }
}

fn pod_template(o: &Value) -> &Value {
    if o["kind"] == "CronJob" {
        &o["spec"]["jobTemplate"]["spec"]["template"]
    } else {
        &o["spec"]["template"]
    }
}

fn quantity(v: &Value, measure: Measure) -> u128 {
    let text = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    Quantity::parse(&text, measure)
        .map(Quantity::milli)
        .unwrap_or_default()
}

/// Requests and limits of CPU, memory and any other resource.
fn resources(c: &Value) -> BTreeMap<String, u128> {
    let mut out = BTreeMap::new();
    for list in ["requests", "limits"] {
        if let Some(map) = c["resources"][list].as_object() {
            for (k, v) in map {
                let measure = if k == "cpu" {
                    Measure::Cpu
                } else if k == "memory" || k.ends_with("storage") {
                    Measure::Bytes
                } else {
                    Measure::Count
                };
                out.insert(format!("{list}.{k}"), quantity(v, measure));
            }
        }
    }
    // Kubernetes takes a request from a limit that has none.
    let limits: Vec<(String, u128)> = out
        .iter()
        .filter_map(|(k, v)| k.strip_prefix("limits.").map(|r| (r.to_string(), *v)))
        .collect();
    for (r, v) in limits {
        out.entry(format!("requests.{r}")).or_insert(v);
    }
    out
}

/// A container port, by number or name, as its number.
fn port_number(port: &Value, c: &Value) -> Value {
    match port {
        Value::String(name) => c["ports"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|p| p["name"] == *name)
            .map_or(Value::Null, |p| p["containerPort"].clone()),
        other => other.clone(),
    }
}

/// A probe with Kubernetes' defaults written out.
fn probe(p: &Value, c: &Value) -> Value {
    if p.is_null() {
        return Value::Null;
    }
    let mut handler = json!(null);
    if let Some(h) = p.get("httpGet") {
        let headers: BTreeMap<String, String> = h["httpHeaders"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|x| {
                (
                    x["name"].as_str().unwrap().into(),
                    x["value"].as_str().unwrap().into(),
                )
            })
            .collect();
        handler = json!({ "http": h["path"], "port": port_number(&h["port"], c), "scheme": h.get("scheme").cloned().unwrap_or(json!("HTTP")), "headers": headers });
    } else if let Some(t) = p.get("tcpSocket") {
        handler = json!({ "tcp": port_number(&t["port"], c) });
    } else if let Some(g) = p.get("grpc") {
        handler =
            json!({ "grpc": g["port"], "service": g.get("service").cloned().unwrap_or(json!("")) });
    } else if let Some(e) = p.get("exec") {
        handler = json!({ "exec": e["command"] });
    }
    let or = |k: &str, d: i64| p.get(k).and_then(Value::as_i64).unwrap_or(d);
    json!({
        "handler": handler,
        "initialDelaySeconds": or("initialDelaySeconds", 0),
        "periodSeconds": or("periodSeconds", 10),
        "timeoutSeconds": or("timeoutSeconds", 1),
        "successThreshold": or("successThreshold", 1),
        "failureThreshold": or("failureThreshold", 3),
    })
}

/// A container's environment as `name → value`, with ConfigMap keys
/// resolved from the input, Secret keys as `secret:NAME/KEY`, hosts short.
fn env(system: &System, ns: &str, c: &Value, side: &[Value]) -> BTreeMap<String, String> {
    env_as(system, ns, c, side, true)
}

/// [`env`], with hosts written as they are unless `short`.
fn env_as(
    system: &System,
    ns: &str,
    c: &Value,
    side: &[Value],
    short: bool,
) -> BTreeMap<String, String> {
    let host = |v: &str| if short { system.host(v) } else { v.to_string() };
    let config = |name: &str| -> BTreeMap<String, String> {
        side.iter()
            .chain(&system.input)
            .find(|o| {
                o["kind"] == "ConfigMap" && o["metadata"]["name"] == name && system.ns(o) == ns
            })
            .and_then(|o| serde_json::from_value(o["data"].clone()).ok())
            .unwrap_or_default()
    };
    let mut out = BTreeMap::new();
    for from in c["envFrom"].as_array().into_iter().flatten() {
        let prefix = from["prefix"].as_str().unwrap_or("");
        if let Some(name) = from.pointer("/configMapRef/name").and_then(Value::as_str) {
            let data = config(name);
            if data.is_empty() {
                out.insert(format!("envFrom:{name}"), "configMap".into());
            }
            for (k, v) in data {
                out.insert(format!("{prefix}{k}"), host(&v));
            }
        }
        if let Some(name) = from.pointer("/secretRef/name").and_then(Value::as_str) {
            let secret = system
                .input
                .iter()
                .find(|o| o["kind"] == "Secret" && o["metadata"]["name"] == name);
            match secret {
                Some(s) => {
                    for field in ["data", "stringData"] {
                        for k in s[field].as_object().into_iter().flatten().map(|(k, _)| k) {
                            out.insert(format!("{prefix}{k}"), format!("secret:{name}/{k}"));
                        }
                    }
                }
                None => {
                    out.insert(format!("envFrom:{name}"), "secret".into());
                }
            }
        }
    }
    for var in c["env"].as_array().into_iter().flatten() {
        let name = var["name"].as_str().unwrap().to_string();
        if name.starts_with("STRATA_CALL_") {
            continue;
        }
        let value = if let Some(v) = var.get("value") {
            host(v.as_str().unwrap_or_default())
        } else if let Some(s) = var.pointer("/valueFrom/secretKeyRef") {
            format!(
                "secret:{}/{}",
                s["name"].as_str().unwrap(),
                s["key"].as_str().unwrap()
            )
        } else if let Some(m) = var.pointer("/valueFrom/configMapKeyRef") {
            let key = m["key"].as_str().unwrap();
            config(m["name"].as_str().unwrap()).get(key).map_or_else(
                || format!("config:{}/{key}", m["name"].as_str().unwrap()),
                |v| host(v),
            )
        } else {
            var["valueFrom"].to_string()
        };
        out.insert(name, value);
    }
    out
}

/// What a pod mounts, by path: the kind of volume and what defines it
/// (a claim's size, an emptyDir's medium, a ConfigMap's files, a Secret's name).
fn mounts(system: &System, workload: &Value, c: &Value, side: &[Value]) -> BTreeMap<String, Value> {
    let ns = system.ns(workload);
    let pod = &pod_template(workload)["spec"];
    let templates = workload["spec"]["volumeClaimTemplates"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut out = BTreeMap::new();
    let mut claims = BTreeMap::new();
    for m in c["volumeMounts"].as_array().into_iter().flatten() {
        let name = &m["name"];
        let path = m["mountPath"].as_str().unwrap().to_string();
        let claim_size = |claim: &Value| {
            let s = claim
                .pointer("/spec/resources/requests/storage")
                .cloned()
                .unwrap_or(json!("1Gi"));
            json!({ "claim": quantity(&s, Measure::Bytes).to_string(), "class": claim.pointer("/spec/storageClassName"), "sub": m.get("subPath") })
        };
        let source = if let Some(t) = templates.iter().find(|t| t["metadata"]["name"] == *name) {
            claim_size(t)
        } else if let Some(v) = pod["volumes"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|v| v["name"] == *name)
        {
            if let Some(e) = v.get("emptyDir") {
                json!({ "emptyDir": e.get("medium"), "size": e.get("sizeLimit").map(|q| quantity(q, Measure::Bytes).to_string()) })
            } else if let Some(p) = v.get("persistentVolumeClaim") {
                claims.insert(path.clone(), p["claimName"].clone());
                let claim = side
                    .iter()
                    .find(|o| {
                        o["kind"] == "PersistentVolumeClaim"
                            && o["metadata"]["name"] == p["claimName"]
                            && system.ns(o) == ns
                    })
                    .cloned()
                    .unwrap_or(json!({}));
                claim_size(&claim)
            } else if let Some(cm) = v.get("configMap") {
                let data = side
                    .iter()
                    .find(|o| {
                        o["kind"] == "ConfigMap"
                            && o["metadata"]["name"] == cm["name"]
                            && system.ns(o) == ns
                    })
                    .map_or_else(|| json!({ "configMap": cm["name"] }), |o| o["data"].clone());
                json!({ "files": data, "sub": m.get("subPath") })
            } else {
                // Kept as written: compared as written.
                v.clone()
            }
        } else {
            json!("missing volume")
        };
        out.insert(path, source);
    }
    // The claims a Deployment's pods mount keep their names: the data
    // stays where it is.
    for (path, claim) in claims {
        out.insert(format!("claim {path}"), claim);
    }
    out
}

/// Everything compared of one container.
fn container(system: &System, workload: &Value, c: &Value, side: &[Value]) -> Value {
    let ns = system.ns(workload);
    let ports: BTreeSet<(i64, String)> = c["ports"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            (
                p["containerPort"].as_i64().unwrap(),
                p["protocol"].as_str().unwrap_or("TCP").to_string(),
            )
        })
        .collect();
    json!({
        "image": c["image"],
        "command": c.get("command"),
        "args": c.get("args"),
        "env": env(system, &ns, c, side),
        "ports": ports,
        "startupProbe": probe(&c["startupProbe"], c),
        "readinessProbe": probe(&c["readinessProbe"], c),
        "livenessProbe": probe(&c["livenessProbe"], c),
        "resources": resources(c),
        "mounts": mounts(system, workload, c, side),
    })
}

/// Everything compared of one workload: containers by name, replicas, selector.
fn workload(system: &System, o: &Value, side: &[Value], hpa: bool) -> Value {
    let pod = &pod_template(o)["spec"];
    let mut containers = BTreeMap::new();
    for c in pod["containers"].as_array().into_iter().flatten() {
        containers.insert(
            c["name"].as_str().unwrap().to_string(),
            container(system, o, c, side),
        );
    }
    // In order; a step may be renamed (`wait-…` is Strata's).
    let init: Vec<Value> = pod["initContainers"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| container(system, o, c, side))
        .collect();
    json!({
        "containers": containers,
        "init": init,
        "replicas": if hpa || o["kind"] == "DaemonSet" || o["kind"] == "Job" || o["kind"] == "CronJob" { Value::Null } else { o["spec"].get("replicas").cloned().unwrap_or(json!(1)) },
        "selector": if o["kind"] == "Job" || o["kind"] == "CronJob" { Value::Null } else { o["spec"]["selector"]["matchLabels"].clone() },
        "schedule": o["spec"].get("schedule"),
        "nodeSelector": pod.get("nodeSelector"),
    })
}

/// A Service's ports, type and selector.
fn service(o: &Value, pods: Option<&Value>) -> Value {
    let target = |p: &Value| match &p["targetPort"] {
        Value::Null => p["port"].clone(),
        Value::String(name) => pods
            .and_then(|w| {
                pod_template(w)["spec"]["containers"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .flat_map(|c| c["ports"].as_array().into_iter().flatten())
                    .find(|cp| cp["name"] == *name)
                    .map(|cp| cp["containerPort"].clone())
            })
            .unwrap_or(Value::Null),
        n => n.clone(),
    };
    let ports: BTreeSet<String> = o["spec"]["ports"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            format!(
                "{}->{}/{} node {}",
                p["port"],
                target(p),
                p["protocol"].as_str().unwrap_or("TCP"),
                p["nodePort"]
            )
        })
        .collect();
    json!({
        "type": o["spec"].get("type").cloned().unwrap_or(json!("ClusterIP")),
        "selector": o["spec"]["selector"],
        "ports": ports,
    })
}

/// The routes of an Ingress: host, path, Service and port (by number).
fn routes(o: &Value, side: &[Value]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for rule in o["spec"]["rules"].as_array().into_iter().flatten() {
        for p in rule["http"]["paths"].as_array().into_iter().flatten() {
            let b = &p["backend"]["service"];
            let port = if b["port"]["number"].is_null() {
                side.iter()
                    .find(|s| {
                        s["kind"] == "Service"
                            && s["metadata"]["name"] == b["name"]
                            && s["metadata"]["namespace"] == o["metadata"]["namespace"]
                    })
                    .and_then(|s| {
                        s["spec"]["ports"]
                            .as_array()?
                            .iter()
                            .find(|sp| sp["name"] == b["port"]["name"])
                            .map(|sp| sp["port"].clone())
                    })
                    .unwrap_or(b["port"]["name"].clone())
            } else {
                b["port"]["number"].clone()
            };
            out.insert(format!(
                "{} {} -> {}:{}",
                rule["host"],
                p["path"].as_str().unwrap_or("/"),
                b["name"],
                port
            ));
        }
    }
    out
}

fn compare(system: &System) -> Vec<String> {
    let mut problems = Vec::new();
    let mut matched: BTreeSet<String> = BTreeSet::new();
    let key = |o: &Value, ns: &str| {
        format!(
            "{}/{ns}/{}",
            o["kind"].as_str().unwrap(),
            o["metadata"]["name"].as_str().unwrap()
        )
    };
    let hpa_targets: BTreeSet<(String, String)> = system
        .input
        .iter()
        .filter(|o| o["kind"] == "HorizontalPodAutoscaler")
        .map(|o| {
            (
                system.ns(o),
                o["spec"]["scaleTargetRef"]["name"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            )
        })
        .collect();
    for o in &system.input {
        let ns = system.ns(o);
        let kind = o["kind"].as_str().unwrap();
        let name = o["metadata"]["name"].as_str().unwrap();
        let mut check = |what: &str, want: Value, got: Value| {
            if want != got {
                problems.push(format!(
                    "{}: {kind}/{name} {what} differs:\n  input:    {want}\n  rendered: {got}",
                    system.name
                ));
            }
        };
        if WORKLOADS.contains(&kind) {
            let Some(r) = system.rendered(kind, &ns, name) else {
                problems.push(format!("{}: {kind}/{name} is not rendered", system.name));
                continue;
            };
            matched.insert(key(r, &ns));
            // The API server refuses a workload whose pods its selector
            // does not select.
            let labels = &pod_template(r)["metadata"]["labels"];
            if let Some(selector) = r["spec"]["selector"]["matchLabels"].as_object()
                && !selector.iter().all(|(k, v)| labels[k] == *v)
            {
                check("selector of its own pods", json!(selector), json!(labels));
            }
            let hpa = hpa_targets.contains(&(ns.clone(), name.to_string()));
            let want = workload(system, o, &system.input, hpa);
            let mut got = workload(system, r, &system.rendered, hpa);
            // Strata mounts a writable /tmp under a read-only root filesystem.
            for (name, c) in got["containers"].as_object_mut().unwrap() {
                if want["containers"][name]["mounts"].get("/tmp").is_none()
                    && let Some(m) = c["mounts"].as_object_mut()
                    && m.get("/tmp").is_some_and(|v| v.get("emptyDir").is_some())
                {
                    m.remove("/tmp");
                }
            }
            check("workload", want, got);
        } else if kind == "Service" {
            let selector = &o["spec"]["selector"];
            let pods = system.input.iter().find(|w| {
                WORKLOADS.contains(&w["kind"].as_str().unwrap())
                    && system.ns(w) == ns
                    && selector.as_object().is_some_and(|s| {
                        s.iter()
                            .all(|(k, v)| pod_template(w)["metadata"]["labels"][k] == *v)
                    })
            });
            let Some(pods) = pods else { continue };
            let headless = o["spec"]["clusterIP"] == "None";
            let rendered_name = if headless && pods["kind"] == "StatefulSet" {
                format!("{}-headless", pods["metadata"]["name"].as_str().unwrap())
            } else {
                name.to_string()
            };
            let Some(r) = system.rendered("Service", &ns, &rendered_name) else {
                problems.push(format!("{}: Service/{name} is not rendered", system.name));
                continue;
            };
            matched.insert(key(r, &ns));
            let rendered_pods = system.rendered(
                pods["kind"].as_str().unwrap(),
                &ns,
                pods["metadata"]["name"].as_str().unwrap(),
            );
            let want = service(o, Some(pods));
            let mut got = service(r, rendered_pods);
            // Strata's Service also publishes the container ports the
            // input's did not: listed as additions.
            let extra: Vec<Value> = got["ports"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|p| !want["ports"].as_array().unwrap().contains(p))
                .cloned()
                .collect();
            if !extra.is_empty() {
                eprintln!("{}: Service/{name} also publishes {extra:?}", system.name);
                got["ports"] = json!(
                    got["ports"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .filter(|p| !extra.contains(p))
                        .collect::<Vec<_>>()
                );
            }
            check("service", want, got);
        } else if kind == "HorizontalPodAutoscaler" {
            let target = o["spec"]["scaleTargetRef"]["name"].as_str().unwrap();
            let Some(r) = system
                .rendered
                .iter()
                .find(|r| r["kind"] == kind && r["spec"]["scaleTargetRef"]["name"] == target)
            else {
                problems.push(format!("{}: {kind}/{name} is not rendered", system.name));
                continue;
            };
            matched.insert(key(r, &ns));
            let shape = |h: &Value| json!({ "min": h["spec"]["minReplicas"], "max": h["spec"]["maxReplicas"], "metrics": h["spec"]["metrics"] });
            check("autoscaler", shape(o), shape(r));
        } else if kind == "Ingress" {
            let got: BTreeSet<String> = system
                .rendered
                .iter()
                .filter(|r| r["kind"] == "Ingress" && r["metadata"]["namespace"] == ns.as_str())
                .inspect(|r| {
                    matched.insert(key(r, &ns));
                })
                .flat_map(|r| routes(r, &system.rendered))
                .collect();
            let want = routes(o, &system.input);
            check(
                "routes",
                json!(want),
                json!(got.intersection(&want).collect::<BTreeSet<_>>()),
            );
        } else if kind == "Gateway"
            && o["apiVersion"]
                .as_str()
                .is_some_and(|v| v.starts_with("gateway.networking.k8s.io/"))
        {
            let Some(r) = system.rendered(kind, &ns, name) else {
                problems.push(format!("{}: {kind}/{name} is not rendered", system.name));
                continue;
            };
            matched.insert(key(r, &ns));
            // Its class, listeners and certificates (Strata's listeners
            // take every host; the routes carry them).
            let shape = |g: &Value| {
                let listeners: BTreeSet<String> = g["spec"]["listeners"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|l| {
                        format!(
                            "{} {} {}",
                            l["protocol"], l["port"], l["tls"]["certificateRefs"][0]["name"]
                        )
                    })
                    .collect();
                json!({ "class": g["spec"]["gatewayClassName"], "listeners": listeners })
            };
            check("gateway", shape(o), shape(r));
        } else if kind == "HTTPRoute" {
            let rules = |route: &Value| -> BTreeSet<String> {
                let hosts: Vec<Value> = route["spec"]["hostnames"]
                    .as_array()
                    .cloned()
                    .unwrap_or_else(|| vec![Value::Null]);
                let mut out = BTreeSet::new();
                for rule in route["spec"]["rules"].as_array().into_iter().flatten() {
                    for m in rule["matches"]
                        .as_array()
                        .cloned()
                        .unwrap_or_else(|| vec![json!({})])
                    {
                        for b in rule["backendRefs"].as_array().into_iter().flatten() {
                            for h in &hosts {
                                out.insert(format!(
                                    "{h} {} -> {}:{}",
                                    m["path"]["value"].as_str().unwrap_or("/"),
                                    b["name"],
                                    b["port"]
                                ));
                            }
                        }
                    }
                }
                out
            };
            let got: BTreeSet<String> = system
                .rendered
                .iter()
                .filter(|r| r["kind"] == "HTTPRoute" && r["metadata"]["namespace"] == ns.as_str())
                .inspect(|r| {
                    matched.insert(key(r, &ns));
                })
                .flat_map(rules)
                .collect();
            let want = rules(o);
            check(
                "routes",
                json!(want),
                json!(got.intersection(&want).collect::<BTreeSet<_>>()),
            );
        } else if kind == "PersistentVolumeClaim" {
            // A claim keeps its name, size, class and access: the data stays.
            let Some(r) = system.rendered(kind, &ns, name) else {
                problems.push(format!(
                    "{}: {kind}/{name} is not rendered: its data would be left behind",
                    system.name
                ));
                continue;
            };
            matched.insert(key(r, &ns));
            let shape = |c: &Value| {
                json!({
                    "size": quantity(&c["spec"]["resources"]["requests"]["storage"], Measure::Bytes).to_string(),
                    "class": c["spec"]["storageClassName"],
                    "access": c["spec"]["accessModes"],
                })
            };
            check("claim", shape(o), shape(r));
        } else if matches!(
            kind,
            "ConfigMap"
                | "Secret"
                | "PodDisruptionBudget"
                | "NetworkPolicy"
                | "ServiceAccount"
                | "Namespace"
        ) {
            // Compared through the workloads that use them, or replaced by
            // Strata's own (listed below).
        } else if o
            .pointer("/metadata/annotations/helm.sh~1hook")
            .and_then(Value::as_str)
            .is_some_and(|h| h.starts_with("test"))
        {
            // A Helm test hook: `helm test` runs it; reported as not imported.
        } else {
            // Kept verbatim.
            match system
                .rendered
                .iter()
                .find(|r| r["kind"] == kind && r["metadata"]["name"] == name)
            {
                Some(r) => {
                    matched.insert(key(r, &ns));
                    let mut want = o.clone();
                    want["metadata"]["namespace"] = r["metadata"]["namespace"].clone();
                    let got = r.clone();
                    check("kept object", want, got);
                }
                None => problems.push(format!(
                    "{}: {kind}/{name} was neither imported nor kept",
                    system.name
                )),
            }
        }
    }
    // What Strata adds on top.
    let allowed = [
        "Namespace",
        "NetworkPolicy",
        "PodDisruptionBudget",
        "ServiceAccount",
        "ConfigMap",
        "Service",
    ];
    let mut added: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in &system.rendered {
        let ns = r["metadata"]["namespace"].as_str().unwrap_or("");
        if matched.contains(&key(r, ns)) {
            continue;
        }
        let kind = r["kind"].as_str().unwrap().to_string();
        if !allowed.contains(&kind.as_str()) {
            problems.push(format!(
                "{}: Strata adds a {kind} `{}` the input does not have",
                system.name, r["metadata"]["name"]
            ));
        }
        added
            .entry(kind)
            .or_default()
            .push(r["metadata"]["name"].as_str().unwrap().to_string());
    }
    eprintln!("{}: Strata adds:", system.name);
    for (kind, names) in added {
        eprintln!("  {kind}: {}", names.join(", "));
    }
    problems
}

/// Hosts of the input's Services that a workload's env values, commands
/// and arguments name (`cart`, `cart:7070`, `http://cart.shop.svc/x`), each
/// as (Service namespace, Service name).
fn named_hosts(system: &System, workload: &Value) -> BTreeSet<(String, String)> {
    let ns = system.ns(workload);
    let services: Vec<(String, String)> = system
        .input
        .iter()
        .filter(|o| o["kind"] == "Service")
        .map(|o| {
            (
                system.ns(o),
                o["metadata"]["name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let pod = &pod_template(workload)["spec"];
    // (variable name, text)
    let mut texts: Vec<(String, String)> = Vec::new();
    for c in pod["containers"]
        .as_array()
        .into_iter()
        .chain(pod["initContainers"].as_array())
        .flatten()
    {
        for (k, v) in env_as(system, &ns, c, &system.input, false) {
            texts.push((k, v));
        }
        for list in ["command", "args"] {
            for a in c[list].as_array().into_iter().flatten() {
                texts.extend(
                    a.as_str()
                        .unwrap()
                        .split(' ')
                        .map(|w| (String::new(), w.to_string())),
                );
            }
        }
    }
    let mut out = BTreeSet::new();
    for (var, text) in texts {
        // A host is a name (short, or with its namespace in the caller's
        // namespace) followed by `:PORT`, after `://` or `@` (not a user
        // before `@`), or the whole value of a variable naming a host.
        let hosty = ["HOST", "ADDR", "URL", "ENDPOINT", "SERVER"]
            .iter()
            .any(|w| var.contains(w));
        for (sns, name) in &services {
            let forms = [
                format!("{name}.{sns}.svc.cluster.local"),
                format!("{name}.{sns}.svc"),
                format!("{name}.{sns}"),
                name.clone(),
            ];
            for (i, form) in forms.iter().enumerate() {
                let bare = i == 3;
                let mut from = 0;
                while let Some(at) = text[from..].find(form.as_str()).map(|i| i + from) {
                    from = at + form.len();
                    let before = &text[..at];
                    let after = &text[at + form.len()..];
                    let bounded = !before
                        .ends_with(|c: char| c.is_ascii_alphanumeric() || c == '-' || c == '.')
                        && !after.starts_with(|c: char| {
                            c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '@'
                        });
                    let port = after.starts_with(':')
                        && after[1..].starts_with(|c: char| c.is_ascii_digit());
                    let url = before.ends_with("://") || before.ends_with('@');
                    let whole = hosty && text == *name;
                    if bounded && (port || url || whole || !bare) && (!bare || *sns == ns) {
                        out.insert((sns.clone(), name.clone()));
                    }
                }
            }
        }
    }
    out
}

/// Whether `policy` (an egress NetworkPolicy) lets the pods it selects
/// reach `port` of the pods labelled `labels` in `namespace`, as
/// `strata_core::network_policy` (the evaluator of every policy test, and
/// of `strata verify`) judges it with this policy alone.
fn allows(policy: &Value, namespace: &str, labels: &Value, port: &Value) -> bool {
    let pod = |namespace: &str, labels: &Value| Pod {
        namespace: namespace.to_string(),
        labels: labels
            .as_object()
            .into_iter()
            .flatten()
            .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
            .collect(),
    };
    let caller = pod(
        policy["metadata"]["namespace"].as_str().unwrap_or(""),
        &policy["spec"]["podSelector"]["matchLabels"],
    );
    let callee = pod(namespace, labels);
    port.as_u64()
        .and_then(|p| u16::try_from(p).ok())
        .is_some_and(|port| {
            // Selected by the policy, so judged by its rules alone.
            !network_policy::selecting(&[policy], Direction::Egress, &caller).is_empty()
                && network_policy::side_allows(
                    &[policy],
                    Direction::Egress,
                    &caller,
                    &callee,
                    port,
                    "TCP",
                )
        })
}

/// Every call an input workload makes (a Service host in its env or
/// arguments) is allowed by the rendered NetworkPolicies, on each port
/// of the Service.
fn calls_allowed(system: &System) -> Vec<String> {
    let mut problems = Vec::new();
    for caller in system
        .input
        .iter()
        .filter(|o| WORKLOADS.contains(&o["kind"].as_str().unwrap_or("")))
    {
        let ns = system.ns(caller);
        let name = caller["metadata"]["name"].as_str().unwrap();
        let policy = system.rendered("NetworkPolicy", &ns, &format!("{name}-egress"));
        for (sns, host) in named_hosts(system, caller) {
            let service = system
                .input
                .iter()
                .find(|o| {
                    o["kind"] == "Service"
                        && o["metadata"]["name"] == host.as_str()
                        && system.ns(o) == sns
                })
                .unwrap();
            let selector = &service["spec"]["selector"];
            let Some(callee) = system.input.iter().find(|w| {
                WORKLOADS.contains(&w["kind"].as_str().unwrap_or(""))
                    && system.ns(w) == sns
                    && selector.as_object().is_some_and(|s| {
                        s.iter()
                            .all(|(k, v)| pod_template(w)["metadata"]["labels"][k] == *v)
                    })
            }) else {
                continue;
            };
            if callee == caller {
                continue;
            }
            let labels = &pod_template(callee)["metadata"]["labels"];
            for p in service["spec"]["ports"].as_array().into_iter().flatten() {
                let target = match &p["targetPort"] {
                    Value::Null => p["port"].clone(),
                    Value::String(n) => {
                        port_number(&json!(n), &pod_template(callee)["spec"]["containers"][0])
                    }
                    n => n.clone(),
                };
                if !policy.is_some_and(|policy| allows(policy, &sns, labels, &target)) {
                    problems.push(format!(
                        "{}: {name} calls {host} on {target}, which its NetworkPolicies refuse",
                        system.name
                    ));
                }
            }
        }
    }
    problems
}

/// A compose value that is a string or a list, as words (split on spaces).
fn compose_words(v: &Value) -> Option<Vec<String>> {
    match v {
        Value::String(s) => Some(s.split_whitespace().map(str::to_string).collect()),
        Value::Array(a) => Some(
            a.iter()
                .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_string))
                .collect(),
        ),
        _ => None,
    }
}

/// A compose duration in seconds (`15s`, `1m`).
fn compose_seconds(v: &Value, default: i64) -> i64 {
    let Some(t) = v.as_str() else { return default };
    if let Some(m) = t.strip_suffix('m') {
        m.parse::<i64>().unwrap() * 60
    } else {
        t.trim_end_matches('s').parse().unwrap()
    }
}

/// What each compose service must render as, in the shape `container()`
/// gives a rendered container.
fn compose_expected(system: &System, name: &str, body: &Value) -> Value {
    let (compose, dir) = system.compose.as_ref().unwrap();
    let _ = compose;
    let mut env = BTreeMap::new();
    if let Some(file) = body["env_file"].as_str() {
        for line in std::fs::read_to_string(dir.join(file)).unwrap().lines() {
            let line = line.trim().trim_start_matches("export ");
            if let Some((k, v)) = line.split_once('=').filter(|_| !line.starts_with('#')) {
                env.insert(
                    k.to_string(),
                    v.trim_matches(|c| c == '"' || c == '\'').to_string(),
                );
            }
        }
    }
    match &body["environment"] {
        Value::Object(m) => {
            for (k, v) in m {
                env.insert(
                    k.clone(),
                    v.as_str().map_or_else(|| v.to_string(), str::to_string),
                );
            }
        }
        Value::Array(l) => {
            for i in l {
                let (k, v) = i.as_str().unwrap().split_once('=').unwrap();
                env.insert(k.to_string(), v.to_string());
            }
        }
        _ => {}
    }
    let env: BTreeMap<String, String> =
        env.into_iter().map(|(k, v)| (k, system.host(&v))).collect();
    let probe = body.get("healthcheck").map_or(Value::Null, |h| {
        let command = match &h["test"] {
            Value::String(s) => vec!["sh".to_string(), "-c".into(), s.clone()],
            Value::Array(a) => {
                let a: Vec<String> = a.iter().map(|x| x.as_str().unwrap().to_string()).collect();
                if a[0] == "CMD-SHELL" {
                    vec!["sh".into(), "-c".into(), a[1..].join(" ")]
                } else {
                    a[1..].to_vec()
                }
            }
            _ => unreachable!(),
        };
        json!({
            "handler": { "exec": command },
            "initialDelaySeconds": compose_seconds(&h["start_period"], 0),
            "periodSeconds": compose_seconds(&h["interval"], 30),
            "timeoutSeconds": compose_seconds(&h["timeout"], 30),
            "successThreshold": 1,
            "failureThreshold": h["retries"].as_i64().unwrap_or(3),
        })
    });
    let mut resources = BTreeMap::new();
    for (from, to) in [("reservations", "requests"), ("limits", "limits")] {
        let r = &body["deploy"]["resources"][from];
        if let Some(c) = r["cpus"].as_str() {
            resources.insert(format!("{to}.cpu"), quantity(&json!(c), Measure::Cpu));
        }
        if let Some(m) = r["memory"].as_str() {
            let m = m.to_ascii_lowercase();
            let (n, unit) =
                m.split_at(m.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(m.len()));
            let q = format!(
                "{n}{}",
                match unit.trim_end_matches('b') {
                    "k" => "Ki",
                    "m" => "Mi",
                    "g" => "Gi",
                    _ => "",
                }
            );
            resources.insert(format!("{to}.memory"), quantity(&json!(q), Measure::Bytes));
        }
    }
    // Compose 2.x: `cpus` and `mem_limit` beside the service.
    if let Some(c) = body.get("cpus") {
        resources.insert(
            "limits.cpu".into(),
            quantity(&json!(c.to_string().trim_matches('"')), Measure::Cpu),
        );
    }
    if let Some(m) = body["mem_limit"].as_str() {
        let (n, unit) = m.split_at(m.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(m.len()));
        let q = format!(
            "{n}{}",
            match unit.trim_end_matches('b') {
                "k" => "Ki",
                "m" => "Mi",
                "g" => "Gi",
                _ => "",
            }
        );
        resources.insert("limits.memory".into(), quantity(&json!(q), Measure::Bytes));
    }
    let limits: Vec<(String, u128)> = resources
        .iter()
        .filter_map(|(k, v)| k.strip_prefix("limits.").map(|r| (r.to_string(), *v)))
        .collect();
    for (r, v) in limits {
        resources.entry(format!("requests.{r}")).or_insert(v);
    }
    let mut mounts = BTreeMap::new();
    for v in body["volumes"].as_array().into_iter().flatten() {
        let parts: Vec<&str> = v.as_str().unwrap().split(':').collect();
        if parts[0].starts_with('.') {
            let content = std::fs::read_to_string(dir.join(parts[0])).unwrap();
            let (folder, file) = parts[1].rsplit_once('/').unwrap();
            mounts.insert(
                folder.to_string(),
                json!({ "files": { file: content }, "sub": null }),
            );
        } else {
            mounts.insert(parts[1].to_string(), json!({ "claim": quantity(&json!("10Gi"), Measure::Bytes).to_string(), "class": null, "sub": null }));
        }
    }
    for t in body["tmpfs"].as_array().into_iter().flatten() {
        mounts.insert(
            t.as_str().unwrap().to_string(),
            json!({ "emptyDir": "Memory", "size": null }),
        );
    }
    let ports: BTreeSet<(i64, String)> = body["ports"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            p.as_str()
                .unwrap()
                .rsplit(':')
                .next()
                .unwrap()
                .parse::<i64>()
                .unwrap()
        })
        .chain(
            body["expose"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| p.as_str().unwrap().parse::<i64>().unwrap()),
        )
        .map(|n| (n, "TCP".to_string()))
        .collect();
    let _ = name;
    json!({
        "image": body["image"],
        "command": body.get("entrypoint").and_then(compose_words),
        "args": body.get("command").and_then(compose_words),
        "env": env,
        "ports": ports,
        "startupProbe": Value::Null,
        "readinessProbe": probe,
        "livenessProbe": probe,
        "resources": resources,
        "mounts": mounts,
    })
}

/// Each compose service renders as a workload with what the compose file
/// gave it; its container ports include those it publishes or exposes.
fn compare_compose(system: &System) -> Vec<String> {
    let (compose, _) = system.compose.as_ref().unwrap();
    let ns = &system.default_namespace;
    let mut problems = Vec::new();
    for (name, body) in compose["services"].as_object().unwrap() {
        let Some(rendered) = ["Deployment", "StatefulSet", "Job"]
            .iter()
            .find_map(|k| system.rendered(k, ns, name))
        else {
            problems.push(format!(
                "{}: compose service {name} is not rendered",
                system.name
            ));
            continue;
        };
        let want = compose_expected(system, name, body);
        let c = &pod_template(rendered)["spec"]["containers"][0];
        let mut got = container(system, rendered, c, &system.rendered);
        // Strata's own /tmp under a read-only root (where the compose file
        // had a tmpfs, it is on disk now: the import reports it).
        let mut want = want;
        want["mounts"].as_object_mut().unwrap().remove("/tmp");
        got["mounts"].as_object_mut().unwrap().remove("/tmp");
        // Ports the compose file does not declare but callers use are added.
        let declared: Vec<Value> = want["ports"].as_array().unwrap().clone();
        let extra: Vec<Value> = got["ports"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| !declared.contains(p))
            .cloned()
            .collect();
        if !extra.is_empty() {
            eprintln!("{}: {name} also listens on {extra:?}", system.name);
            got["ports"] = json!(
                declared
                    .iter()
                    .filter(|p| got["ports"].as_array().unwrap().contains(p))
                    .collect::<Vec<_>>()
            );
        }
        let replicas = body["deploy"]["replicas"].as_i64().unwrap_or(1);
        if rendered["kind"] != "Job" && rendered["spec"]["replicas"] != replicas {
            problems.push(format!(
                "{}: {name} runs {} replicas, not {replicas}",
                system.name, rendered["spec"]["replicas"]
            ));
        }
        if want != got {
            problems.push(format!(
                "{}: compose service {name} differs:\n  input:    {want}\n  rendered: {got}",
                system.name
            ));
        }
    }
    problems
}

/// Every host a compose service names (env, command, `depends_on`, bind
/// mounted files) is reachable through the rendered NetworkPolicies.
fn compose_calls_allowed(system: &System) -> (usize, Vec<String>) {
    let (compose, dir) = system.compose.as_ref().unwrap();
    let ns = &system.default_namespace;
    let services = compose["services"].as_object().unwrap();
    let mut problems = Vec::new();
    let mut calls = 0;
    for (caller, body) in services {
        let mut texts: Vec<String> = compose_expected(system, caller, body)["env"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_str().unwrap().to_string())
            .collect();
        texts.extend(
            body.get("command")
                .and_then(compose_words)
                .unwrap_or_default(),
        );
        for v in body["volumes"].as_array().into_iter().flatten() {
            let source = v.as_str().unwrap().split(':').next().unwrap();
            if source.starts_with('.') {
                texts.push(std::fs::read_to_string(dir.join(source)).unwrap());
            }
        }
        let mut callees: BTreeSet<String> = body["depends_on"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| c.as_str().unwrap().to_string())
            .collect();
        callees.extend(
            body["depends_on"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(c, _)| c.clone()),
        );
        for callee in services.keys().filter(|c| *c != caller) {
            if texts.iter().any(|t| {
                t.contains(&format!("{callee}:"))
                    || t.contains(&format!("//{callee}"))
                    || t == callee
            }) {
                callees.insert(callee.clone());
            }
        }
        let policy = system.rendered("NetworkPolicy", ns, &format!("{caller}-egress"));
        for callee in callees {
            let Some(workload) = ["Deployment", "StatefulSet", "Job"]
                .iter()
                .find_map(|k| system.rendered(k, ns, &callee))
            else {
                continue;
            };
            let labels = &pod_template(workload)["metadata"]["labels"];
            let ports = pod_template(workload)["spec"]["containers"][0]["ports"].clone();
            // A one-shot job listens on nothing: waiting for it is no call.
            if ports.is_null() {
                continue;
            }
            calls += 1;
            for p in ports.as_array().unwrap() {
                if !policy.is_some_and(|policy| allows(policy, ns, labels, &p["containerPort"])) {
                    problems.push(format!(
                        "{}: {caller} calls {callee} on {}, which its NetworkPolicies refuse",
                        system.name, p["containerPort"]
                    ));
                }
            }
        }
    }
    (calls, problems)
}

#[test]
fn every_call_of_the_input_is_allowed() {
    let mut problems = Vec::new();
    let mut calls = 0;
    for path in corpus() {
        let system = load(&path);
        if system.compose.is_some() {
            let (n, found) = compose_calls_allowed(&system);
            calls += n;
            problems.extend(found);
            continue;
        }
        calls += system
            .input
            .iter()
            .filter(|o| WORKLOADS.contains(&o["kind"].as_str().unwrap_or("")))
            .map(|w| named_hosts(&system, w).len())
            .sum::<usize>();
        problems.extend(calls_allowed(&system));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    eprintln!("{calls} calls checked");
    assert!(calls >= 10, "only {calls} calls in the corpus");
}

#[test]
fn every_corpus_system_round_trips() {
    let systems = corpus();
    let mut problems = Vec::new();
    for path in &systems {
        let system = load(path);
        if system.compose.is_some() {
            problems.extend(compare_compose(&system));
            continue;
        }
        let workloads = system
            .input
            .iter()
            .filter(|o| WORKLOADS.contains(&o["kind"].as_str().unwrap_or("")))
            .count();
        assert!(workloads > 0, "{}: no workload", system.name);
        problems.extend(compare(&system));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(
        systems.len() >= 3,
        "the corpus has {} systems",
        systems.len()
    );
}

#[test]
fn the_comparison_sees_a_changed_value() {
    // The comparison itself must be able to fail: change one env value of a
    // rendered workload and it reports it.
    let mut system = corpus()
        .iter()
        .map(|p| load(p))
        .find(|s| s.compose.is_none())
        .unwrap();
    let at = system
        .rendered
        .iter()
        .position(|o| {
            WORKLOADS.contains(&o["kind"].as_str().unwrap())
                && !pod_template(o)["spec"]["containers"][0]["image"].is_null()
        })
        .unwrap();
    let kind = system.rendered[at]["kind"].as_str().unwrap().to_string();
    let spec = if kind == "CronJob" {
        "/spec/jobTemplate/spec/template/spec"
    } else {
        "/spec/template/spec"
    };
    *system.rendered[at]
        .pointer_mut(&format!("{spec}/containers/0/image"))
        .unwrap() = json!("changed:0");
    assert!(compare(&system).iter().any(|p| p.contains("changed:0")));
}
