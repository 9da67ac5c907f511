//! Every delivery path starts the platform: `strata render` of every
//! example, base and each environment, applied with `kubectl apply
//! --server-side` to the fake API server, then the script of the rendered
//! secret Job run for real (kubectl on the PATH, as the Job's
//! ServiceAccount under the rendered RBAC), leaves no pod template reading
//! a Secret that does not exist; applying and running it again changes no
//! value.
//!
//! The fake has no kubelet, so the Job's container command runs here, with
//! the container's environment and a kubeconfig instead of the in-cluster
//! one. Without kubectl the test says so and passes (CI has kubectl).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

mod loopback;
mod support;

use support::strata;

#[test]
fn every_example_starts_with_its_generated_secrets_from_kubectl_apply() {
    if !kubectl_available() {
        return;
    }
    // Each render against a fake of its own; kubectl mostly waits.
    std::thread::scope(|scope| {
        for (spec, env) in support::examples() {
            scope.spawn(move || {
                let label = format!("{spec} {}", env.as_deref().unwrap_or("(base)"));
                deliver(&spec, env.as_deref(), &label);
            });
        }
    });
}

/// Applies one render twice, running the Job's script after each apply.
fn deliver(spec: &str, env: Option<&str>, label: &str) {
    let dir = tempfile::tempdir().unwrap();
    let yaml = dir.path().join("render.yaml");
    let mut args = vec!["render", spec];
    if let Some(env) = env {
        args.extend(["--env", env]);
    }
    let rendered = strata().args(&args).output().unwrap();
    assert!(
        rendered.status.success(),
        "{label}: {}",
        text(&rendered.stderr)
    );
    std::fs::write(&yaml, &rendered.stdout).unwrap();
    let objects = objects(spec, env);

    let fake = loopback::Fake::new();
    outside_the_render(&fake, &objects);
    let port = loopback::serve(fake.clone());
    let admin = dir.path().join("admin");
    loopback::write_kubeconfig(&admin, port, None);

    apply(&admin, &yaml, label);
    let job = objects
        .iter()
        .find(|o| is_secret_job(o) && o["kind"] == "Job");
    let all = secret_references(&objects);
    let outside = from_outside(spec, env, &all);
    if !outside.is_empty() {
        eprintln!("{label}: provided from outside, not checked: {outside:?}");
    }
    let references: Vec<String> = all
        .into_iter()
        .filter(|r| !outside.iter().any(|name| r.ends_with(&format!("/{name}"))))
        .collect();
    let Some(job) = job else {
        let missing = missing(&fake, &references);
        assert!(missing.is_empty(), "{label}: nothing generates {missing:?}");
        return;
    };
    assert!(
        !missing(&fake, &references).is_empty(),
        "{label}: the Job has nothing to do, so this test proves nothing"
    );
    let account = dir.path().join("account");
    let identity = format!(
        "system:serviceaccount:{}:{}",
        job["metadata"]["namespace"].as_str().unwrap(),
        job["spec"]["template"]["spec"]["serviceAccountName"]
            .as_str()
            .unwrap()
    );
    loopback::write_kubeconfig(&account, port, Some(&identity));
    let out = run_job(job, &account, dir.path());
    assert!(out.contains("created secret"), "{label}: {out}");
    let missing = missing(&fake, &references);
    assert!(
        missing.is_empty(),
        "{label}: pods read missing Secrets {missing:?}"
    );
    let first = secret_values(&fake);
    same_values_in_every_namespace(&objects, &first, label);

    apply(&admin, &yaml, label);
    let out = run_job(job, &account, dir.path());
    assert!(
        out.trim().is_empty(),
        "{label}: the second run wrote: {out}"
    );
    assert_eq!(first, secret_values(&fake), "{label}: a value changed");
}

/// The names of the Secrets the spec says are made outside Strata, which
/// pods may read: the certificates of gateways (`gateways.NAME.tls`,
/// mounted into a gateway service's pods), and secrets that services read
/// with `{ secret, key }` without the platform declaring them (under
/// `secrets:` or as a blueprint's credentials), which docs/render.md says
/// must exist in the cluster. Registry pull secrets are not read by pod
/// templates in the sense below (see [`secret_references`]).
fn from_outside(spec: &str, env: Option<&str>, references: &[String]) -> Vec<String> {
    let text = std::fs::read_to_string(support::workspace().join(spec)).unwrap();
    let file = strata_core::source::SourceFile::new(spec, text);
    let doc = strata_core::spec::parse(&file).unwrap();
    let platform = strata_core::resolve(&doc, env).unwrap();
    let declared = |name: &str| platform.secrets.iter().any(|s| s.name == name);
    let mut names: Vec<String> = platform
        .gateways
        .iter()
        .filter_map(|g| g.tls.clone())
        .collect();
    names.extend(
        references
            .iter()
            .filter_map(|r| r.split_once('/').map(|(_, name)| name))
            .filter(|name| !declared(name))
            .map(str::to_string),
    );
    names.sort();
    names.dedup();
    names
}

fn kubectl_available() -> bool {
    let found = Command::new("kubectl")
        .args(["version", "--client"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(std::env::var_os("CI").is_none(), "CI must have kubectl");
        eprintln!("skipped: kubectl is not on the PATH");
    }
    found
}

/// The render as JSON objects.
fn objects(spec: &str, env: Option<&str>) -> Vec<Value> {
    let mut args = vec!["render", spec, "-o", "json"];
    if let Some(env) = env {
        args.extend(["--env", env]);
    }
    let out = strata().args(&args).output().unwrap();
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    list["items"].as_array().unwrap().clone()
}

fn is_secret_job(object: &Value) -> bool {
    object["metadata"]["labels"]["app.kubernetes.io/component"] == "secret-generator"
}

/// What a cluster has before the platform: the kinds of the operators the
/// spec installs separately (served as if their CRDs were there), and the
/// namespaces of tools the render says it does not create (the objects it
/// marks `strata.dev/ignore: missing-namespace`: Argo CD's Application,
/// a gateway's namespace of its own).
fn outside_the_render(fake: &loopback::Fake, objects: &[Value]) {
    for object in objects {
        let (api_version, kind) = (
            object["apiVersion"].as_str().unwrap(),
            object["kind"].as_str().unwrap(),
        );
        if !fake.serves(api_version, kind) {
            fake.serve_kind(
                api_version,
                kind,
                object["metadata"]["namespace"].is_string(),
            );
        }
        let ignored = object["metadata"]["annotations"]["strata.dev/ignore"]
            .as_str()
            .unwrap_or("");
        if ignored.split(',').any(|id| id == "missing-namespace") {
            let namespace = object["metadata"]["namespace"].as_str().unwrap();
            fake.insert(
                serde_json::json!({ "apiVersion": "v1", "kind": "Namespace", "metadata": { "name": namespace } }),
                "outside",
            );
        }
    }
}

fn apply(kubeconfig: &Path, yaml: &Path, label: &str) {
    let out = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(["apply", "--server-side", "--validate=false", "-f"])
        .arg(yaml)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{label}: kubectl apply: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

/// Runs the Job's container command here, with its environment, as its
/// ServiceAccount; returns what it printed.
fn run_job(job: &Value, kubeconfig: &Path, home: &Path) -> String {
    let container = &job["spec"]["template"]["spec"]["containers"][0];
    let command: Vec<&str> = container["command"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    let mut process = Command::new(command[0]);
    process.args(&command[1..]).env_clear();
    for var in container["env"].as_array().unwrap() {
        process.env(
            var["name"].as_str().unwrap(),
            var["value"].as_str().unwrap(),
        );
    }
    let out = process
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("KUBECONFIG", kubeconfig)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the Job failed: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// `namespace/name` of every Secret a pod template reads: env
/// `secretKeyRef`, `envFrom` `secretRef`, `secret` and projected volumes,
/// unless marked optional. Pull secrets (`imagePullSecrets`) are not
/// counted: the registry's credentials come from outside (`strata apply`
/// checks them; see docs/render.md).
fn secret_references(objects: &[Value]) -> Vec<String> {
    fn walk(value: &Value, namespace: &str, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                if map.get("containers").is_some_and(Value::is_array) {
                    pod_spec(value, namespace, out);
                }
                for child in map.values() {
                    walk(child, namespace, out);
                }
            }
            Value::Array(items) => items.iter().for_each(|i| walk(i, namespace, out)),
            _ => {}
        }
    }
    fn pod_spec(pod: &Value, namespace: &str, out: &mut Vec<String>) {
        let mut add = |reference: &Value, name_field: &str| {
            if reference["optional"] != true
                && let Some(name) = reference[name_field].as_str()
            {
                out.push(format!("{namespace}/{name}"));
            }
        };
        for key in ["initContainers", "containers"] {
            for container in pod[key].as_array().into_iter().flatten() {
                for var in container["env"].as_array().into_iter().flatten() {
                    add(&var["valueFrom"]["secretKeyRef"], "name");
                }
                for from in container["envFrom"].as_array().into_iter().flatten() {
                    add(&from["secretRef"], "name");
                }
            }
        }
        for volume in pod["volumes"].as_array().into_iter().flatten() {
            add(&volume["secret"], "secretName");
            for source in volume["projected"]["sources"]
                .as_array()
                .into_iter()
                .flatten()
            {
                add(&source["secret"], "name");
            }
        }
    }
    let mut out = Vec::new();
    for object in objects {
        let namespace = object["metadata"]["namespace"].as_str().unwrap_or("");
        walk(object, namespace, &mut out);
    }
    out.sort();
    out.dedup();
    out
}

fn missing(fake: &loopback::Fake, references: &[String]) -> Vec<String> {
    references
        .iter()
        .filter(|r| fake.get(&format!("Secret/{r}")).is_none())
        .cloned()
        .collect()
}

/// `data` of every Secret in the fake, by `namespace/name`.
fn secret_values(fake: &loopback::Fake) -> BTreeMap<String, Value> {
    fake.ids()
        .into_iter()
        .filter_map(|id| {
            let rest = id.strip_prefix("Secret/")?;
            Some((rest.to_string(), fake.get(&id)?["data"].clone()))
        })
        .collect()
}

/// A generated secret has the keys the Job was given, with one value in
/// all its namespaces: a client's password is the server's.
fn same_values_in_every_namespace(
    objects: &[Value],
    secrets: &BTreeMap<String, Value>,
    label: &str,
) {
    let job = objects
        .iter()
        .find(|o| is_secret_job(o) && o["kind"] == "Job")
        .unwrap();
    let lines = job["spec"]["template"]["spec"]["containers"][0]["env"][0]["value"]
        .as_str()
        .unwrap();
    for line in lines.lines() {
        let fields: Vec<&str> = line.split(' ').collect();
        let (name, keys, namespaces) = (fields[0], fields[2], fields[3]);
        for key in keys.split(',') {
            let values: Vec<&Value> = namespaces
                .split(',')
                .map(|ns| &secrets[&format!("{ns}/{name}")][key])
                .collect();
            assert!(values[0].is_string(), "{label}: {name} lacks {key}");
            assert!(
                values.iter().all(|v| v == &values[0]),
                "{label}: {name}.{key} differs between {namespaces}"
            );
        }
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
