//! Compose files (the compose specification, v2 and v3 files) to draft
//! services: images, commands, environment and env files, ports,
//! `depends_on` (with conditions), healthchecks, volumes, `deploy`, and the
//! networks that say who may call whom.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};
use strata_core::diag::Diagnostic;
use strata_core::pod_security::RESTRICTED_CAPABILITY;
use strata_core::render::Assets;
use strata_core::source::SourceFile;

use crate::draft::{Draft, DraftEnv, DraftPort, DraftService, EnvValue, Kind, Loc};
use crate::kube::pod::{dns_label, port_name, read_only_root, store_image, unset_resources};
use crate::yaml::{self, Doc};
use crate::{Fate, Options};

mod values;

use values::{bytes, seconds, text, words};
pub(crate) use values::{image_port, port_name_for};

/// A compose file's services, read into `draft`.
///
/// # Errors
/// The file is not YAML, or has no `services` mapping.
pub fn read(
    file: &SourceFile,
    options: &Options,
    files: &dyn Assets,
    draft: &mut Draft,
) -> Result<(), Vec<Diagnostic>> {
    let docs = yaml::documents(file).map_err(|d| vec![d])?;
    let Some(doc) = docs.into_iter().next() else {
        return Ok(());
    };
    let Some(services) = doc
        .value
        .get("services")
        .and_then(Value::as_object)
        .cloned()
    else {
        return Err(vec![
            Diagnostic::error(
                "invalid-compose",
                "this file has no `services` mapping, which a compose file has",
            )
            .at(file, doc.node.span, "no `services`")
            .help("import Kubernetes manifests with `--from kubernetes`"),
        ]);
    };
    let namespace = crate::kube::default_namespace(options);
    let dir = std::path::Path::new(file.name())
        .parent()
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    let compose = Compose {
        file,
        doc: &doc,
        dir,
        files,
    };
    let mut completed: BTreeSet<String> = BTreeSet::new();
    for body in services.values() {
        if let Some(map) = body.get("depends_on").and_then(Value::as_object) {
            for (callee, cond) in map {
                if cond.get("condition").and_then(Value::as_str)
                    == Some("service_completed_successfully")
                {
                    completed.insert(callee.clone());
                }
            }
        }
    }
    for (name, body) in &services {
        let service = compose.service(name, body, &namespace, completed.contains(name), draft);
        draft.services.push(service);
    }
    for key in ["configs", "secrets"] {
        if doc.value.get(key).is_some() {
            draft.note(&compose.loc(&[key]), Fate::Dropped, format!("top-level `{key}`"), "compose configs and secrets have no import yet: write them as `config:` files or `secrets:`");
        }
    }
    Ok(())
}

/// One compose file being read.
struct Compose<'a> {
    file: &'a SourceFile,
    doc: &'a Doc,
    dir: String,
    files: &'a dyn Assets,
}

impl Compose<'_> {
    fn loc(&self, path: &[&str]) -> Loc {
        Loc {
            file: self.file.clone(),
            span: self.doc.span(path),
        }
    }

    /// The text of a file next to the compose file.
    fn read(&self, path: &str) -> Result<String, String> {
        let joined = if self.dir.is_empty() || path.starts_with('/') {
            path.to_string()
        } else {
            format!("{}/{path}", self.dir)
        };
        self.files.read(&joined)
    }

    #[allow(clippy::too_many_lines)]
    fn service(
        &self,
        raw_name: &str,
        body: &Value,
        namespace: &str,
        completes: bool,
        draft: &mut Draft,
    ) -> DraftService {
        let at = |rest: &[&str]| {
            let mut p = vec!["services", raw_name];
            p.extend_from_slice(rest);
            self.loc(&p)
        };
        let name = dns_label(raw_name);
        let origin = format!("compose service {raw_name}");
        // A service others wait to complete runs once: a Job.
        let kind = if completes {
            Kind::Job
        } else {
            Kind::Stateless
        };
        let mut s = DraftService::new(
            name.clone(),
            namespace.to_string(),
            at(&[]),
            origin.clone(),
            kind,
        );
        if name != raw_name {
            draft.note(
                &at(&[]),
                Fate::Review,
                origin.clone(),
                format!("a service name is a DNS label: named `{name}`"),
            );
        }
        let mut hosts = vec![raw_name.to_string()];
        for key in ["container_name", "hostname"] {
            if let Some(h) = body.get(key).and_then(Value::as_str) {
                hosts.push(h.to_string());
            }
        }
        // Networks: who may call whom.
        let mut networks = BTreeSet::new();
        match body.get("networks") {
            Some(Value::Array(list)) => networks.extend(list.iter().map(text)),
            Some(Value::Object(map)) => {
                for (net, settings) in map {
                    networks.insert(net.clone());
                    for alias in settings
                        .get("aliases")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                    {
                        hosts.push(text(alias));
                    }
                }
            }
            _ => {
                networks.insert("default".to_string());
            }
        }
        if body.get("network_mode").is_some() {
            draft.note(
                &at(&["network_mode"]),
                Fate::Dropped,
                origin.clone(),
                "`network_mode` has no spec form: pods have a network of their own",
            );
        }
        s.networks = Some(networks);
        s.hosts = hosts;

        // Image.
        let image = match (body.get("image").and_then(Value::as_str), body.get("build")) {
            (Some(image), _) => image.to_string(),
            (None, Some(_)) => {
                draft.note(
                    &at(&["build"]),
                    Fate::Review,
                    origin.clone(),
                    format!("built from source: Kubernetes needs an image in a registry; build and push it, then replace `registry.example.invalid/{name}:0.1.0`"),
                );
                format!("registry.example.invalid/{name}:0.1.0")
            }
            (None, None) => {
                draft.note(
                    &at(&[]),
                    Fate::Review,
                    origin.clone(),
                    "no image and no build: write its image",
                );
                format!("registry.example.invalid/{name}:0.1.0")
            }
        };
        s.store = store_image(&image);
        s.set("image", json!(image), &[]);
        if kind == Kind::Job {
            s.set(
                "kind",
                json!("job"),
                &["others wait for it to complete (`service_completed_successfully`)"],
            );
        }
        if let Some(entrypoint) = body.get("entrypoint") {
            let w = words(entrypoint);
            s.argv.extend(w.iter().cloned());
            s.set("command", json!(w), &[]);
        }
        if let Some(command) = body.get("command") {
            let w = words(command);
            s.argv.extend(w.iter().cloned());
            s.set("args", json!(w), &[]);
        }

        // Replicas and resources.
        let deploy = body.get("deploy").cloned().unwrap_or(Value::Null);
        if kind == Kind::Stateless {
            let replicas = deploy
                .get("replicas")
                .and_then(Value::as_u64)
                .or_else(|| body.get("scale").and_then(Value::as_u64))
                .unwrap_or(1);
            s.set("replicas", json!(replicas), &[]);
        }
        let mut resources = Map::new();
        for (from, to) in [("reservations", "requests"), ("limits", "limits")] {
            let mut list = Map::new();
            if let Some(cpus) = deploy.pointer(&format!("/resources/{from}/cpus")) {
                list.insert("cpu".into(), json!(text(cpus)));
            }
            if let Some(memory) = deploy
                .pointer(&format!("/resources/{from}/memory"))
                .map(text)
            {
                match bytes(&memory) {
                    Some(q) => {
                        list.insert("memory".into(), json!(q));
                    }
                    None => draft.note(
                        &at(&["deploy", "resources", from, "memory"]),
                        Fate::Dropped,
                        origin.clone(),
                        format!("`{memory}` is not a size"),
                    ),
                }
            }
            if !list.is_empty() {
                resources.insert(to.into(), Value::Object(list));
            }
        }
        for (key, to) in [("cpus", "cpu"), ("mem_limit", "memory")] {
            if let Some(v) = body.get(key) {
                let q = if key == "cpus" {
                    Some(text(v))
                } else {
                    bytes(&text(v))
                };
                if let Some(q) = q {
                    resources.entry("limits").or_insert_with(|| json!({}))[to] = json!(q);
                }
            }
        }
        let list = |key: &str| {
            resources
                .get(key)
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default()
        };
        let (requests, limits) = (list("requests"), list("limits"));
        s.patches
            .extend(unset_resources(&requests, &limits, kind.pod_spec()));
        if !resources.contains_key("limits") {
            resources.insert("limits".into(), json!("none"));
        }
        s.set(
            "resources",
            Value::Object(resources),
            &["as the compose file has them (`deploy.resources`)"],
        );

        // Ports: published and exposed.
        let mut ports: Vec<DraftPort> = Vec::new();
        let mut edge = false;
        let edge = &mut edge;
        let mut add_port = |number: u16,
                            udp: bool,
                            published: Option<String>,
                            draft: &mut Draft,
                            loc: &Loc| {
            if ports.iter().any(|p| p.target == number) {
                return;
            }
            let base = if udp {
                format!("udp-{number}")
            } else {
                port_name_for(number)
            };
            let name = if ports.iter().any(|p| p.name == base) {
                port_name(&format!("{base}-{number}"))
            } else {
                port_name(&base)
            };
            ports.push(DraftPort {
                name,
                port: number,
                target: number,
                protocol: udp.then_some("udp"),
                node_port: None,
            });
            if let Some(host) = published {
                *edge = true;
                draft.note(loc, Fate::Review, origin.clone(), format!("published on the host at {host}: in Kubernetes, route to it through a gateway (`expose:`) or give it `service: {{ type: LoadBalancer }}`"));
            }
        };
        for (i, port) in body
            .get("ports")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let loc = at(&["ports", &i.to_string()]);
            match port {
                Value::Object(long) => {
                    let target = long
                        .get("target")
                        .and_then(Value::as_u64)
                        .and_then(|n| u16::try_from(n).ok());
                    let udp = long.get("protocol").and_then(Value::as_str) == Some("udp");
                    if let Some(t) = target {
                        add_port(t, udp, long.get("published").map(text), draft, &loc);
                    }
                }
                other => {
                    let spec = text(other);
                    let (spec, udp) = spec
                        .strip_suffix("/udp")
                        .map_or((spec.as_str(), false), |s| (s, true));
                    let spec = spec.trim_end_matches("/tcp");
                    let parts: Vec<&str> = spec.rsplitn(2, ':').collect();
                    let container = parts[0];
                    if container.contains('-') {
                        draft.note(
                            &loc,
                            Fate::Dropped,
                            origin.clone(),
                            "a port range has no spec form: list its ports",
                        );
                        continue;
                    }
                    if let Ok(n) = container.parse::<u16>() {
                        add_port(n, udp, parts.get(1).map(|h| (*h).to_string()), draft, &loc);
                    }
                }
            }
        }
        for (i, port) in body
            .get("expose")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let t = text(port);
            if let Ok(n) = t.trim_end_matches("/tcp").parse::<u16>() {
                add_port(n, false, None, draft, &at(&["expose", &i.to_string()]));
            }
        }
        s.ports = ports;
        s.edge = *edge;

        // Environment: env files first, `environment` over them.
        let mut env: Vec<DraftEnv> = Vec::new();
        let mut push = |name: String, value: String, comment: Option<String>| {
            env.retain(|v| v.name != name);
            env.push(DraftEnv {
                name,
                value: EnvValue::Literal(value),
                comment,
            });
        };
        let env_files: Vec<String> = match body.get("env_file") {
            Some(Value::Array(list)) => list
                .iter()
                .map(|f| f.get("path").map_or_else(|| text(f), text))
                .collect(),
            Some(Value::Object(map)) => map.get("path").map(text).into_iter().collect(),
            Some(other) => vec![text(other)],
            None => Vec::new(),
        };
        for path in env_files {
            match self.read(&path) {
                Ok(content) => {
                    for line in content.lines() {
                        let line = line.trim();
                        if line.is_empty() || line.starts_with('#') {
                            continue;
                        }
                        let line = line.strip_prefix("export ").unwrap_or(line);
                        if let Some((k, v)) = line.split_once('=') {
                            let v = v.trim();
                            let v = v.strip_prefix('"').and_then(|v| v.strip_suffix('"')).or_else(|| v.strip_prefix('\'').and_then(|v| v.strip_suffix('\''))).unwrap_or(v);
                            push(k.trim().to_string(), v.to_string(), Some(format!("from {path}")));
                        }
                    }
                }
                Err(why) => draft.note(&at(&["env_file"]), Fate::Dropped, origin.clone(), format!("the env file `{path}` cannot be read ({why}): add its variables under `env:`")),
            }
        }
        match body.get("environment") {
            Some(Value::Object(map)) => {
                for (k, v) in map {
                    if v.is_null() {
                        draft.note(&at(&["environment", k]), Fate::Dropped, origin.clone(), format!("`{k}` takes its value from the shell running compose: write it under `env:`"));
                    } else {
                        push(k.clone(), text(v), None);
                    }
                }
            }
            Some(Value::Array(list)) => {
                for (i, item) in list.iter().enumerate() {
                    let item = text(item);
                    match item.split_once('=') {
                        Some((k, v)) => push(k.to_string(), v.to_string(), None),
                        None => draft.note(&at(&["environment", &i.to_string()]), Fate::Dropped, origin.clone(), format!("`{item}` takes its value from the shell running compose: write it under `env:`")),
                    }
                }
            }
            _ => {}
        }
        for var in &env {
            if let EnvValue::Literal(v) = &var.value
                && v.contains("${")
            {
                draft.note(&at(&["environment"]), Fate::Review, origin.clone(), format!("`{}` uses compose interpolation (`${{…}}`), which is not done: it is kept as a literal `$${{`; write the value", var.name));
            }
        }
        s.env = env;

        // depends_on: waits, with their conditions.
        match body.get("depends_on") {
            Some(Value::Array(list)) => {
                for callee in list {
                    s.calls
                        .entry(dns_label(&text(callee)))
                        .or_default()
                        .push("depends_on".into());
                }
            }
            Some(Value::Object(map)) => {
                for (callee, cond) in map {
                    let condition = cond
                        .get("condition")
                        .map_or_else(|| "service_started".into(), text);
                    s.calls
                        .entry(dns_label(callee))
                        .or_default()
                        .push(format!("depends_on ({condition})"));
                }
            }
            _ => {}
        }

        // Healthcheck → probes.
        if kind != Kind::Job {
            let check = body.get("healthcheck");
            let disabled = check.is_some_and(|c| {
                c.get("disable") == Some(&json!(true))
                    || c.get("test")
                        .map(words)
                        .is_some_and(|t| t.first().map(String::as_str) == Some("NONE"))
            });
            match check.filter(|_| !disabled) {
                Some(check) => {
                    let test = check.get("test").cloned().unwrap_or(Value::Null);
                    let command: Vec<String> = match &test {
                        Value::Array(items) => {
                            let items: Vec<String> = items.iter().map(text).collect();
                            match items.first().map(String::as_str) {
                                Some("CMD") => items[1..].to_vec(),
                                Some("CMD-SHELL") => {
                                    vec!["sh".into(), "-c".into(), items[1..].join(" ")]
                                }
                                _ => items,
                            }
                        }
                        Value::String(line) => vec!["sh".into(), "-c".into(), line.clone()],
                        _ => Vec::new(),
                    };
                    let period = check
                        .get("interval")
                        .map(text)
                        .and_then(|t| seconds(&t))
                        .unwrap_or(30);
                    let timeout = check
                        .get("timeout")
                        .map(text)
                        .and_then(|t| seconds(&t))
                        .unwrap_or(30);
                    let retries = check.get("retries").and_then(Value::as_u64).unwrap_or(3);
                    let probe = json!({ "kind": "exec", "command": command, "period": format!("{period}s"), "timeout": format!("{timeout}s"), "failureThreshold": retries });
                    let mut probes =
                        json!({ "readiness": probe, "liveness": probe, "startup": false });
                    if let Some(start) = check
                        .get("start_period")
                        .map(text)
                        .and_then(|t| seconds(&t))
                    {
                        probes["liveness"]["initialDelay"] = json!(format!("{start}s"));
                        probes["readiness"]["initialDelay"] = json!(format!("{start}s"));
                    }
                    s.set(
                        "probes",
                        probes,
                        &["the compose healthcheck, as readiness and liveness"],
                    );
                }
                None => {
                    s.set("probes", json!(false), &["no healthcheck in the compose file; `probes: true` gives it Strata's (a TCP check of the first port)"]);
                }
            }
        }

        // Security.
        if body.get("privileged") == Some(&json!(true)) {
            s.set(
                "security",
                json!("privileged"),
                &["privileged in the compose file"],
            );
        } else {
            let mut security = Map::new();
            let user = body.get("user").map(text);
            let (uid, gid) = match user
                .as_deref()
                .map(|u| u.split_once(':').map_or((u, None), |(a, b)| (a, Some(b))))
            {
                Some((u, g)) => (u.parse::<u64>().ok(), g.and_then(|g| g.parse::<u64>().ok())),
                None => (None, None),
            };
            if user.is_some() && uid.is_none() {
                draft.note(
                    &at(&["user"]),
                    Fate::Review,
                    origin.clone(),
                    "a user by name: Kubernetes runs a numeric user id; the image's user is kept",
                );
            }
            let caps: Vec<String> = body
                .get("cap_add")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(text)
                .collect();
            let non_root = uid.is_some_and(|u| u != 0);
            let profile = if non_root && caps.iter().all(|c| c == RESTRICTED_CAPABILITY) {
                "restricted"
            } else {
                "baseline"
            };
            security.insert("profile".into(), json!(profile));
            security.insert(
                "runAsUser".into(),
                uid.map_or_else(|| json!("image"), |u| json!(u)),
            );
            if let Some(g) = gid {
                security.insert("runAsGroup".into(), json!(g));
            }
            security.insert(
                "readOnlyRootFilesystem".into(),
                json!(body.get("read_only") == Some(&json!(true))),
            );
            if !caps.is_empty() {
                security.insert("capabilities".into(), json!(caps));
            }
            let why = if non_root {
                "the compose file's user"
            } else {
                "the compose file names no non-root user, so it keeps the image's user and may start as root"
            };
            s.set("security", Value::Object(security), &[why]);
        }

        // Volumes.
        let mut storage: Option<Value> = None;
        let mut extra = Vec::new();
        let mut scratch = Vec::new();
        let mut config: Option<(String, Map<String, Value>)> = None;
        for (i, volume) in body
            .get("volumes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let loc = at(&["volumes", &i.to_string()]);
            let (source, target, kind_of) = match volume {
                Value::Object(long) => (
                    long.get("source").map(text).unwrap_or_default(),
                    long.get("target").map(text).unwrap_or_default(),
                    long.get("type").map_or_else(|| "volume".into(), text),
                ),
                other => {
                    let t = text(other);
                    let parts: Vec<&str> = t.split(':').collect();
                    match parts.as_slice() {
                        [target] => (String::new(), (*target).to_string(), "volume".to_string()),
                        [source, target, ..] => {
                            let bind = source.starts_with('.')
                                || source.starts_with('/')
                                || source.starts_with('~');
                            (
                                (*source).to_string(),
                                (*target).to_string(),
                                if bind { "bind".into() } else { "volume".into() },
                            )
                        }
                        [] => continue,
                    }
                }
            };
            match kind_of.as_str() {
                "volume" if !source.is_empty() => {
                    let volume_name = dns_label(&source);
                    let v = json!({ "size": "10Gi", "mountPath": target });
                    draft.note(&loc, Fate::Review, origin.clone(), format!("the volume `{source}` becomes a claim of 10Gi: compose volumes have no size, set `size`"));
                    if storage.is_none() {
                        storage = Some(v);
                    } else {
                        let mut v = v;
                        v["name"] = json!(if volume_name == "data" {
                            "data-1".into()
                        } else {
                            volume_name
                        });
                        extra.push(v);
                    }
                }
                "volume" | "tmpfs" => scratch.push(if kind_of == "tmpfs" {
                    json!({ "path": target, "memory": true })
                } else {
                    json!(target)
                }),
                "bind" => {
                    let file_name = target.rsplit('/').next().unwrap_or(&target).to_string();
                    let dir = target
                        .rsplit_once('/')
                        .map_or("/", |(d, _)| if d.is_empty() { "/" } else { d })
                        .to_string();
                    match self.read(&source) {
                        Ok(content) if config.as_ref().is_none_or(|(d, _)| *d == dir) && !file_name.is_empty() => {
                            let entry = config.get_or_insert_with(|| (dir.clone(), Map::new()));
                            s.argv.push(content.clone());
                            entry.1.insert(file_name, json!(content));
                            draft.note(&loc, Fate::Review, origin.clone(), format!("the file `{source}` becomes a `config:` file in {dir}: the whole directory is then the ConfigMap's"));
                        }
                        _ => draft.note(&loc, Fate::Dropped, origin.clone(), format!("the host path `{source}` has no spec form: build it into the image, or write its files under `config:`")),
                    }
                }
                other => draft.note(
                    &loc,
                    Fate::Dropped,
                    origin.clone(),
                    format!("a `{other}` mount has no spec form"),
                ),
            }
        }
        if let Some(t) = body.get("tmpfs") {
            for path in match t {
                Value::Array(l) => l.iter().map(text).collect(),
                other => vec![text(other)],
            } {
                scratch.push(
                    json!({ "path": path.split(':').next().unwrap_or(&path), "memory": true }),
                );
            }
        }
        if let Some(storage) = storage {
            // A service with its own volume runs as a StatefulSet.
            if kind == Kind::Stateless {
                s.kind = Kind::Stateful;
                s.store = true;
            }
            s.set("storage", storage, &[]);
        }
        if !extra.is_empty() {
            s.set("volumes", json!(extra), &[]);
        }
        if read_only_root(&s)
            && scratch
                .iter()
                .any(|v| v == "/tmp" || v.get("path").is_some_and(|p| p == "/tmp"))
        {
            // Strata mounts a writable /tmp itself under a read-only root.
            scratch.retain(|v| v != "/tmp" && v.get("path").is_none_or(|p| p != "/tmp"));
            draft.note(&at(&["tmpfs"]), Fate::Review, origin.clone(), "the tmpfs at /tmp becomes Strata's own writable /tmp, on the node's disk rather than in memory");
        }
        if !scratch.is_empty() {
            s.set("scratch", json!(scratch), &[]);
        }
        if let Some((dir, files)) = config {
            s.set("config", json!({ "mountPath": dir, "files": files }), &[]);
        }
        if let Some(labels) = body.get("labels") {
            let map: BTreeMap<String, String> = match labels {
                Value::Object(m) => m.iter().map(|(k, v)| (k.clone(), text(v))).collect(),
                Value::Array(l) => l
                    .iter()
                    .filter_map(|i| {
                        text(i)
                            .split_once('=')
                            .map(|(a, b)| (a.to_string(), b.to_string()))
                    })
                    .collect(),
                _ => BTreeMap::new(),
            };
            if !map.is_empty() {
                s.set("podAnnotations", json!(map), &["the compose labels"]);
            }
        }
        for key in [
            "extra_hosts",
            "dns",
            "devices",
            "pid",
            "ipc",
            "sysctls",
            "ulimits",
            "logging",
            "profiles",
            "links",
            "external_links",
            "secrets",
            "configs",
            "working_dir",
            "stop_grace_period",
            "init",
            "shm_size",
        ] {
            if body.get(key).is_some() {
                let why = match key {
                    "links" | "external_links" => {
                        "links are the services' names, which Strata's Services keep"
                    }
                    "profiles" => "every service is imported, whatever its profiles",
                    _ => "no spec key: add it with a patch if it matters",
                };
                draft.note(
                    &at(&[key]),
                    Fate::Dropped,
                    origin.clone(),
                    format!("`{key}`: {why}"),
                );
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compose_values_read_as_kubernetes_ones() {
        assert_eq!(bytes("512m").as_deref(), Some("512Mi"));
        assert_eq!(bytes("1G").as_deref(), Some("1Gi"));
        assert_eq!(bytes("1.5gb").as_deref(), Some("1.5Gi"));
        assert_eq!(bytes("lots"), None);
        assert_eq!(seconds("1m30s"), Some(90));
        assert_eq!(seconds("500ms"), Some(1));
        assert_eq!(seconds("10"), Some(10));
        assert_eq!(
            words(&json!("sh -c 'echo a b' \"\"")),
            ["sh", "-c", "echo a b", ""]
        );
        assert_eq!(words(&json!(["a", 1])), ["a", "1"]);
    }
}
