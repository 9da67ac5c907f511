//! The Job that creates the generated secrets in the cluster, for every way
//! of delivering a render but `strata apply` (which creates them itself):
//! `kubectl apply`, the Kustomize export, Argo CD, the Helm chart.
//!
//! It runs in wave 0 with kubectl, as a ServiceAccount whose Roles allow it
//! to read and complete only those Secrets, and to create Secrets (which
//! RBAC cannot limit by name) in their namespaces. For each secret it
//! reads every copy, takes a key's value from the first copy that has it or
//! draws a new one, then creates each missing copy and adds each missing
//! key; an existing value is never changed, so it can run any number of
//! times. Values live only in the script's memory: they are piped to
//! kubectl, never written to a file or an argument, and never rendered.

use serde_json::{Map, Value, json};

use super::{GeneratedSecret, Object, labels};
use crate::model::Platform;

/// The name of the ServiceAccount, Roles, RoleBindings and NetworkPolicy,
/// and the prefix of the Job's name.
pub const NAME: &str = "strata-secrets";

/// The `app.kubernetes.io/component` of every object of the Job, by which
/// the verbs that create the secrets themselves leave them out.
pub const COMPONENT: &str = "secret-generator";

/// kubectl with a POSIX shell and coreutils (busybox) on Alpine. A kubectl
/// works with API servers one minor version either side of its own.
pub const IMAGE: &str = "alpine/kubectl:1.33.4";

/// The unprivileged user (`nobody`) the script runs as.
const USER: u32 = 65534;

/// Where kubectl finds the in-cluster token and CA, as it would if the
/// token were mounted automatically.
const TOKEN_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// The script; see its head for what it reads.
const SCRIPT: &str = include_str!("secret_job.sh");

/// The objects that create `secrets` from a Job in wave 0: its
/// ServiceAccount, a Role and RoleBinding in each namespace of the secrets,
/// egress to the API server under NetworkPolicies, and the Job. None when
/// nothing is generated.
pub(super) fn render(platform: &Platform, secrets: &[GeneratedSecret]) -> Vec<Object> {
    if secrets.is_empty() {
        return Vec::new();
    }
    let home = home_namespace(platform, secrets);
    let labels = self::labels(platform);
    let metadata =
        |name: &str, ns: &str| json!({ "name": name, "namespace": ns, "labels": labels });
    let mut values = vec![json!({
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": metadata(NAME, home),
        // The Job's pod mounts a short-lived token itself.
        "automountServiceAccountToken": false,
    })];
    let mut namespaces: Vec<&str> = secrets
        .iter()
        .flat_map(|s| s.namespaces.iter().map(String::as_str))
        .collect();
    namespaces.sort_unstable();
    namespaces.dedup();
    for ns in namespaces {
        let mut names: Vec<&str> = secrets
            .iter()
            .filter(|s| s.namespaces.iter().any(|n| n == ns))
            .map(|s| s.name.as_str())
            .collect();
        names.sort_unstable();
        values.push(json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": metadata(NAME, ns),
            "rules": [
                // Reading and completing only these secrets; creation
                // cannot be limited by name.
                { "apiGroups": [""], "resources": ["secrets"], "resourceNames": names, "verbs": ["get", "patch"] },
                { "apiGroups": [""], "resources": ["secrets"], "verbs": ["create"] },
            ],
        }));
        values.push(json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": metadata(NAME, ns),
            "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": NAME },
            "subjects": [{ "kind": "ServiceAccount", "name": NAME, "namespace": home }],
        }));
    }
    if platform.network.policies {
        values.push(super::network::policy_object(
            metadata(&format!("{NAME}-api-server"), home),
            Value::Object(selector()),
            "Egress",
            vec![super::api_server(platform)],
        ));
    }
    values.push(job(platform, secrets, home, &labels));
    values
        .into_iter()
        .map(|value| Object::new(0, None, None, value))
        .collect()
}

/// Whether `object` is one of the Job's objects.
pub fn is_part(object: &Object) -> bool {
    object.value["metadata"]["labels"]["app.kubernetes.io/component"] == COMPONENT
        && object.value["metadata"]["labels"]["app.kubernetes.io/name"] == NAME
}

/// Where the Job runs: the shared namespace when the platform creates it,
/// else the first namespace of the first secret.
fn home_namespace<'a>(platform: &'a Platform, secrets: &'a [GeneratedSecret]) -> &'a str {
    if platform
        .namespaces
        .iter()
        .any(|n| n.name == platform.shared_namespace)
    {
        &platform.shared_namespace
    } else {
        secrets
            .iter()
            .find_map(|s| s.namespaces.first())
            .map_or(&platform.shared_namespace, |ns| ns)
    }
}

fn selector() -> Map<String, Value> {
    let mut selector = Map::new();
    selector.insert("app.kubernetes.io/name".into(), json!(NAME));
    selector.insert("app.kubernetes.io/component".into(), json!(COMPONENT));
    selector
}

fn labels(platform: &Platform) -> Map<String, Value> {
    let mut labels = labels::platform(platform);
    labels.extend(selector());
    labels
}

/// The Job, named after its pod template so that a changed list of
/// secrets is a new Job (a Job's template cannot change): restricted, with
/// a read-only root, a token only in its container, and `/tmp` for
/// kubectl's cache.
fn job(
    platform: &Platform,
    secrets: &[GeneratedSecret],
    home: &str,
    labels: &Map<String, Value>,
) -> Value {
    let lines: Vec<String> = secrets
        .iter()
        .map(|s| {
            format!(
                "{} {} {} {}",
                s.name,
                s.secret_type,
                s.keys.join(","),
                s.namespaces.join(",")
            )
        })
        .collect();
    let mut template = json!({ "labels": labels });
    if platform.in_mesh(home) {
        template["annotations"] = json!({ super::NATIVE_SIDECAR_ANNOTATION: "true" });
    }
    let mut pod = json!({
        "restartPolicy": "Never",
        "serviceAccountName": NAME,
        "automountServiceAccountToken": false,
        "securityContext": {
            "runAsNonRoot": true, "runAsUser": USER, "runAsGroup": USER,
            "seccompProfile": { "type": "RuntimeDefault" },
        },
        "containers": [{
            "name": "generate",
            "image": IMAGE,
            "imagePullPolicy": "IfNotPresent",
            "command": ["sh", "-c", SCRIPT],
            "env": [
                { "name": "GENERATE", "value": lines.join("\n") },
                { "name": "PLATFORM", "value": platform.name },
                // kubectl keeps its discovery cache under $HOME.
                { "name": "HOME", "value": "/tmp" },
            ],
            "resources": {
                "requests": { "cpu": "50m", "memory": "64Mi" },
                "limits": { "cpu": "200m", "memory": "128Mi" },
            },
            "securityContext": {
                "allowPrivilegeEscalation": false, "privileged": false,
                "readOnlyRootFilesystem": true, "runAsNonRoot": true,
                "capabilities": { "drop": ["ALL"] },
            },
            "volumeMounts": [
                { "name": "tmp", "mountPath": "/tmp" },
                { "name": "token", "mountPath": TOKEN_DIR, "readOnly": true },
            ],
        }],
        "volumes": [
            { "name": "tmp", "emptyDir": { "sizeLimit": "64Mi" } },
            // What automounting would give, for this container only and
            // expiring after ten minutes.
            { "name": "token", "projected": { "sources": [
                { "serviceAccountToken": { "path": "token", "expirationSeconds": 600 } },
                { "configMap": { "name": "kube-root-ca.crt", "items": [{ "key": "ca.crt", "path": "ca.crt" }] } },
                { "downwardAPI": { "items": [{ "path": "namespace", "fieldRef": { "fieldPath": "metadata.namespace" } }] } },
            ] } },
        ],
    });
    super::add_pull_secrets(platform, &mut pod);
    let template = json!({ "metadata": template, "spec": pod });
    json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": format!("{NAME}-{:08x}", fingerprint(&template.to_string())),
            "namespace": home,
            "labels": labels,
        },
        "spec": {
            "backoffLimit": 6,
            "activeDeadlineSeconds": 600,
            "template": template,
        },
    })
}

/// FNV-1a, folded to 32 bits: stable across runs, machines and versions,
/// which a name must be.
fn fingerprint(text: &str) -> u64 {
    let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    (hash >> 32) ^ (hash & 0xffff_ffff)
}
