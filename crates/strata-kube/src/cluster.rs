//! The cluster as Strata sees it: objects as JSON values, addressed by
//! `apiVersion`, `kind`, namespace and name, with the resource of each kind
//! found by discovery (so custom resources work like built-in kinds).

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;

use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, ListParams, Patch,
    PatchParams, PostParams,
};
use kube::client::Body;
use kube::discovery::Scope;
use kube::{Client, Resource, core::Status};
use serde_json::Value;
use strata_core::kind;

/// The field manager of every server-side apply Strata makes.
pub const FIELD_MANAGER: &str = "strata";

/// Which object: enough to find it in a cluster.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectId {
    /// `apiVersion`, e.g. `apps/v1`.
    pub api_version: String,
    /// `kind`, e.g. `Deployment`.
    pub kind: String,
    /// The namespace; empty for cluster-scoped objects, and for namespaced
    /// objects that go to the client's default namespace.
    pub namespace: String,
    /// `metadata.name`.
    pub name: String,
}

impl ObjectId {
    /// The id of the Secret `name` in `namespace`.
    pub fn secret(namespace: &str, name: &str) -> Self {
        ObjectId {
            api_version: "v1".into(),
            kind: kind::SECRET.into(),
            namespace: namespace.into(),
            name: name.into(),
        }
    }

    /// The id of an object given as JSON.
    pub fn of(value: &Value) -> Self {
        let text = |v: &Value| v.as_str().unwrap_or("").to_string();
        ObjectId {
            api_version: text(&value["apiVersion"]),
            kind: text(&value["kind"]),
            namespace: text(&value["metadata"]["namespace"]),
            name: text(&value["metadata"]["name"]),
        }
    }
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.namespace.is_empty() {
            write!(f, "{}/{}", self.kind, self.name)
        } else {
            write!(f, "{}/{}/{}", self.kind, self.namespace, self.name)
        }
    }
}

/// One field two managers both want to set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldConflict {
    /// The other field manager (`kubectl-client-side-apply`, `helm`…).
    pub manager: String,
    /// The field path, e.g. `.spec.replicas`.
    pub field: String,
}

/// What can go wrong talking to the cluster about one object.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// Discovery does not know the kind: no CRD, or a wrong `apiVersion`.
    #[error(
        "{id}: the cluster does not serve kind `{}` in `{}`; install its CRD or operator first, or check `apiVersion`",
        id.kind,
        id.api_version
    )]
    UnknownKind {
        /// The object.
        id: Box<ObjectId>,
    },
    /// Server-side apply found fields owned by another manager.
    #[error("{id}: {} owned by another field manager ({}); rerun with --force-conflicts to take them over", plural_fields(conflicts.len()), describe(conflicts))]
    Conflict {
        /// The object.
        id: Box<ObjectId>,
        /// Each conflicting field and its manager.
        conflicts: Vec<FieldConflict>,
    },
    /// The API server refused the request.
    #[error("{id}: {message} ({reason}, HTTP {code})")]
    Api {
        /// The object.
        id: Box<ObjectId>,
        /// HTTP status code.
        code: u16,
        /// The machine-readable reason (`NotFound`, `Invalid`, `Forbidden`…).
        reason: String,
        /// The server's message.
        message: String,
    },
    /// The request did not reach the API server or got no answer.
    #[error("{id}: the cluster did not answer: {message}")]
    Unreachable {
        /// The object.
        id: Box<ObjectId>,
        /// What the client reported.
        message: String,
    },
}

fn plural_fields(n: usize) -> String {
    if n == 1 {
        "1 field is".to_string()
    } else {
        format!("{n} fields are")
    }
}

fn describe(conflicts: &[FieldConflict]) -> String {
    conflicts
        .iter()
        .map(|c| format!("{} by `{}`", c.field, c.manager))
        .collect::<Vec<_>>()
        .join(", ")
}

impl ClusterError {
    /// True when the server said the object (or its namespace) does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, ClusterError::Api { code: 404, .. })
    }

    fn from_kube(id: &ObjectId, err: kube::Error) -> Self {
        match err {
            kube::Error::Api(status) => Self::from_status(id, &status),
            kube::Error::Discovery(_) => ClusterError::UnknownKind {
                id: Box::new(id.clone()),
            },
            other => ClusterError::Unreachable {
                id: Box::new(id.clone()),
                message: other.to_string(),
            },
        }
    }

    fn from_status(id: &ObjectId, status: &Status) -> Self {
        let conflicts: Vec<FieldConflict> = status
            .details
            .iter()
            .flat_map(|d| d.causes.iter())
            .filter(|c| c.reason == "FieldManagerConflict")
            .map(|c| FieldConflict {
                manager: conflict_manager(&c.message),
                field: c.field.clone(),
            })
            .collect();
        if status.code == 409 && !conflicts.is_empty() {
            return ClusterError::Conflict {
                id: Box::new(id.clone()),
                conflicts,
            };
        }
        ClusterError::Api {
            id: Box::new(id.clone()),
            code: status.code,
            reason: status.reason.clone(),
            message: status.message.clone(),
        }
    }
}

/// The manager named in a conflict cause: `conflict with "kubectl" using apps/v1`.
fn conflict_manager(message: &str) -> String {
    message
        .split('"')
        .nth(1)
        .map_or_else(|| message.to_string(), str::to_string)
}

/// A kind the cluster serves.
#[derive(Debug, Clone)]
pub struct Kind {
    /// Group, version and plural.
    pub resource: ApiResource,
    /// Namespaced or cluster-scoped.
    pub namespaced: bool,
}

/// What a watch saw of one object.
#[derive(Debug, Clone)]
pub enum Change {
    /// The object as it now is: listed when the watch started, or added
    /// or modified since.
    Present(Value),
    /// The object was deleted.
    Gone(ObjectId),
}

/// A connection to one cluster, with discovery answers cached and the
/// API server's warnings on applies kept until taken.
pub struct Cluster {
    client: Client,
    kinds: Mutex<HashMap<(String, String), Kind>>,
    warnings: Mutex<Vec<(ObjectId, String)>>,
}

impl Cluster {
    /// Wraps a client.
    pub fn new(client: Client) -> Self {
        Cluster {
            client,
            kinds: Mutex::new(HashMap::new()),
            warnings: Mutex::new(Vec::new()),
        }
    }

    /// The warnings the API server sent with applies since last taken
    /// (deprecated API versions, unknown fields it dropped…), each once.
    pub fn take_warnings(&self) -> Vec<(ObjectId, String)> {
        self.warnings
            .lock()
            .map(|mut w| std::mem::take(&mut *w))
            .unwrap_or_default()
    }

    /// The underlying client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The namespace of the kubeconfig context, for namespaced objects
    /// rendered without one (raw manifests).
    pub fn default_namespace(&self) -> &str {
        self.client.default_namespace()
    }

    /// The resource serving `api_version` / `kind`. Only answers are cached,
    /// so a kind becomes known once its CRD is established.
    pub async fn kind(&self, id: &ObjectId) -> Result<Kind, ClusterError> {
        let key = (id.api_version.clone(), id.kind.clone());
        if let Some(kind) = self.kinds.lock().map_or(None, |k| k.get(&key).cloned()) {
            return Ok(kind);
        }
        let (group, version) = match id.api_version.split_once('/') {
            Some((g, v)) => (g, v),
            None => ("", id.api_version.as_str()),
        };
        let gvk = GroupVersionKind::gvk(group, version, &id.kind);
        let (resource, caps) = kube::discovery::pinned_kind(&self.client, &gvk)
            .await
            .map_err(|e| match e {
                kube::Error::Api(status) if status.code == 404 => ClusterError::UnknownKind {
                    id: Box::new(id.clone()),
                },
                other => ClusterError::from_kube(id, other),
            })?;
        let kind = Kind {
            resource,
            namespaced: caps.scope == Scope::Namespaced,
        };
        if let Ok(mut kinds) = self.kinds.lock() {
            kinds.insert(key, kind.clone());
        }
        Ok(kind)
    }

    /// The namespace an object lives in: its own, or the default one for a
    /// namespaced object without one; empty when cluster-scoped.
    pub async fn namespace_of(&self, id: &ObjectId) -> Result<String, ClusterError> {
        let kind = self.kind(id).await?;
        Ok(if !kind.namespaced {
            String::new()
        } else if id.namespace.is_empty() {
            self.default_namespace().to_string()
        } else {
            id.namespace.clone()
        })
    }

    async fn api(&self, id: &ObjectId) -> Result<Api<DynamicObject>, ClusterError> {
        let kind = self.kind(id).await?;
        Ok(if !kind.namespaced {
            Api::all_with(self.client.clone(), &kind.resource)
        } else if id.namespace.is_empty() {
            Api::default_namespaced_with(self.client.clone(), &kind.resource)
        } else {
            Api::namespaced_with(self.client.clone(), &id.namespace, &kind.resource)
        })
    }

    /// The live object, or `None` when it does not exist.
    pub async fn get(&self, id: &ObjectId) -> Result<Option<Value>, ClusterError> {
        let api = self.api(id).await?;
        match api.get_opt(&id.name).await {
            Ok(found) => Ok(found.map(to_value)),
            Err(e) => Err(ClusterError::from_kube(id, e)),
        }
    }

    /// Server-side apply of `value` as field manager `strata`, with strict
    /// field validation; the object as
    /// the server stored it (or would, with `dry_run`). The request is sent
    /// raw so that the API server's `Warning` headers can be kept.
    pub async fn apply(
        &self,
        value: &Value,
        force: bool,
        dry_run: bool,
    ) -> Result<Value, ClusterError> {
        let id = ObjectId::of(value);
        let kind = self.kind(&id).await?;
        let namespace = if !kind.namespaced {
            None
        } else if id.namespace.is_empty() {
            Some(self.default_namespace().to_string())
        } else {
            Some(id.namespace.clone())
        };
        // Strict: a field the server does not know is refused, never dropped.
        let mut params = PatchParams::apply(FIELD_MANAGER).validation_strict();
        if force {
            params = params.force();
        }
        if dry_run {
            params = params.dry_run();
        }
        let url = DynamicObject::url_path(&kind.resource, namespace.as_deref());
        let request = kube::core::Request::new(url)
            .patch(&id.name, &params, &Patch::Apply(value))
            .map_err(|e| ClusterError::from_kube(&id, kube::Error::BuildRequest(e)))?;
        let response = self
            .client
            .send(request.map(Body::from))
            .await
            .map_err(|e| ClusterError::from_kube(&id, e))?;
        let warnings: Vec<String> = response
            .headers()
            .get_all("warning")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(warning_text)
            .collect();
        if !warnings.is_empty()
            && let Ok(mut kept) = self.warnings.lock()
        {
            for warning in warnings {
                let entry = (id.clone(), warning);
                if !kept.contains(&entry) {
                    kept.push(entry);
                }
            }
        }
        let code = response.status();
        let body = response
            .into_body()
            .collect_bytes()
            .await
            .map_err(|e| ClusterError::from_kube(&id, e))?;
        if code.is_client_error() || code.is_server_error() {
            let status = serde_json::from_slice::<Status>(&body).unwrap_or_else(|_| {
                Status::failure(String::from_utf8_lossy(&body).trim(), "").with_code(code.as_u16())
            });
            return Err(ClusterError::from_status(&id, &status));
        }
        // Through the same type as a GET, so that both read alike.
        serde_json::from_slice::<DynamicObject>(&body)
            .map(to_value)
            .map_err(|e| ClusterError::Unreachable {
                id: Box::new(id.clone()),
                message: format!("the answer is not an object: {e}"),
            })
    }

    /// Creates `value` unless an object of that name exists; true when created.
    pub async fn create(&self, value: &Value, dry_run: bool) -> Result<bool, ClusterError> {
        let id = ObjectId::of(value);
        let api = self.api(&id).await?;
        let object: DynamicObject =
            serde_json::from_value(value.clone()).map_err(|e| ClusterError::Api {
                id: Box::new(id.clone()),
                code: 0,
                reason: "Invalid".into(),
                message: e.to_string(),
            })?;
        let params = PostParams {
            dry_run,
            field_manager: Some(FIELD_MANAGER.to_string()),
        };
        match api.create(&params, &object).await {
            Ok(_) => Ok(true),
            Err(kube::Error::Api(status)) if status.code == 409 => Ok(false),
            Err(e) => Err(ClusterError::from_kube(&id, e)),
        }
    }

    /// A JSON merge patch (used only to add missing keys to a Secret).
    pub async fn merge(&self, id: &ObjectId, patch: &Value) -> Result<(), ClusterError> {
        let api = self.api(id).await?;
        let params = PatchParams {
            field_manager: Some(FIELD_MANAGER.to_string()),
            ..PatchParams::default()
        };
        api.patch(&id.name, &params, &Patch::Merge(patch))
            .await
            .map(|_| ())
            .map_err(|e| ClusterError::from_kube(id, e))
    }

    /// Asks for deletion (dependents in the background); false when the
    /// object was already gone.
    pub async fn delete(&self, id: &ObjectId) -> Result<bool, ClusterError> {
        self.delete_with(id, &DeleteParams::background()).await
    }

    /// Asks for deletion leaving its dependents (a StatefulSet's pods) in
    /// place, as `kubectl delete --cascade=orphan`; false when already gone.
    pub async fn delete_orphaning(&self, id: &ObjectId) -> Result<bool, ClusterError> {
        let params = DeleteParams {
            propagation_policy: Some(kube::api::PropagationPolicy::Orphan),
            ..DeleteParams::default()
        };
        self.delete_with(id, &params).await
    }

    /// Asks for deletion with `params`; false when already gone.
    async fn delete_with(
        &self,
        id: &ObjectId,
        params: &DeleteParams,
    ) -> Result<bool, ClusterError> {
        let api = self.api(id).await?;
        match api.delete(&id.name, params).await {
            Ok(_) => Ok(true),
            Err(kube::Error::Api(status)) if status.code == 404 => Ok(false),
            Err(e) => Err(ClusterError::from_kube(id, e)),
        }
    }

    /// Objects of a kind in `namespace` (every namespace when empty and the
    /// kind is namespaced) matching `labels` (`k=v,k2=v2`, or empty). A
    /// cluster-scoped kind has none in a namespace.
    pub async fn list(
        &self,
        api_version: &str,
        kind: &str,
        namespace: &str,
        labels: &str,
    ) -> Result<Vec<Value>, ClusterError> {
        self.list_as(api_version, kind, namespace, labels, false)
            .await
    }

    /// What [`list`](Self::list) finds, metadata only: each object as
    /// `apiVersion`, `kind` and `metadata` (uid, labels, generation,
    /// resourceVersion…). The API server leaves out spec, data and status
    /// (`Accept: …;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1`), so
    /// this costs little whatever the objects hold.
    pub async fn list_metadata(
        &self,
        api_version: &str,
        kind: &str,
        namespace: &str,
        labels: &str,
    ) -> Result<Vec<Value>, ClusterError> {
        self.list_as(api_version, kind, namespace, labels, true)
            .await
    }

    /// A list, whole or of metadata only, read straight into JSON values
    /// (not through typed objects: a list may be large), each item typed
    /// as the kind listed.
    async fn list_as(
        &self,
        api_version: &str,
        kind: &str,
        namespace: &str,
        labels: &str,
        metadata: bool,
    ) -> Result<Vec<Value>, ClusterError> {
        let id = ObjectId {
            api_version: api_version.into(),
            kind: kind.into(),
            namespace: namespace.into(),
            name: String::new(),
        };
        let found = self.kind(&id).await?;
        if !found.namespaced && !namespace.is_empty() {
            return Ok(Vec::new());
        }
        let scope = (found.namespaced && !namespace.is_empty()).then_some(namespace);
        let request = kube::core::Request::new(DynamicObject::url_path(&found.resource, scope));
        let mut params = ListParams::default();
        if !labels.is_empty() {
            params = params.labels(labels);
        }
        let request = if metadata {
            request.list_metadata(&params)
        } else {
            request.list(&params)
        }
        .map_err(|e| ClusterError::from_kube(&id, kube::Error::BuildRequest(e)))?;
        let list: kube::core::ObjectList<Value> = self
            .client
            .request(request)
            .await
            .map_err(|e| ClusterError::from_kube(&id, e))?;
        Ok(list
            .items
            .into_iter()
            .map(|value| typed(value, api_version, kind))
            .collect())
    }
}

/// A listed item with its type: items of a list may come without it, and
/// metadata-only items carry `meta.k8s.io/v1` `PartialObjectMetadata`.
fn typed(mut value: Value, api_version: &str, kind: &str) -> Value {
    value["apiVersion"] = Value::from(api_version);
    value["kind"] = Value::from(kind);
    value
}

impl Cluster {
    /// The objects of a kind in `namespace` (every namespace when empty, or
    /// cluster-scoped) as they are, then each change as it happens, for as
    /// long as the stream is read: kube-runtime's watcher, which lists,
    /// watches from the list's resourceVersion, resumes a broken watch and
    /// lists again when the server has forgotten that version, backing off
    /// between failures. A refusal (401, 403, 404) ends nothing: the caller
    /// decides; other failures are retried and not reported.
    pub fn watch(
        &self,
        api_version: &str,
        kind: &Kind,
        namespace: &str,
    ) -> impl futures::Stream<Item = Result<Change, ClusterError>> + Send + use<> {
        use futures::StreamExt;
        use kube::runtime::{WatchStreamExt, watcher};
        let api: Api<DynamicObject> = if kind.namespaced && !namespace.is_empty() {
            Api::namespaced_with(self.client.clone(), namespace, &kind.resource)
        } else {
            Api::all_with(self.client.clone(), &kind.resource)
        };
        let api_version = api_version.to_string();
        let kind_name = kind.resource.kind.clone();
        let of_kind = ObjectId {
            api_version: api_version.clone(),
            kind: kind_name.clone(),
            namespace: namespace.to_string(),
            name: String::new(),
        };
        watcher(api, watcher::Config::default())
            .default_backoff()
            .filter_map(move |event| {
                let typed =
                    |object: DynamicObject| typed(to_value(object), &api_version, &kind_name);
                let change = match event {
                    Ok(watcher::Event::Apply(o) | watcher::Event::InitApply(o)) => {
                        Some(Ok(Change::Present(typed(o))))
                    }
                    Ok(watcher::Event::Delete(o)) => {
                        Some(Ok(Change::Gone(ObjectId::of(&typed(o)))))
                    }
                    Err(
                        watcher::Error::InitialListFailed(kube::Error::Api(status))
                        | watcher::Error::WatchStartFailed(kube::Error::Api(status)),
                    ) if matches!(status.code, 401 | 403 | 404) => {
                        Some(Err(ClusterError::from_status(&of_kind, &status)))
                    }
                    // The start and end of a listing say nothing of one
                    // object; other failures the watcher retries.
                    Ok(watcher::Event::Init | watcher::Event::InitDone) | Err(_) => None,
                };
                std::future::ready(change)
            })
    }
}

/// The text of a `Warning` header: `299 - "TEXT"` gives `TEXT`.
fn warning_text(header: &str) -> String {
    let rest = header
        .split_once(' ')
        .and_then(|(_, rest)| rest.split_once(' '))
        .map_or(header, |(_, text)| text)
        .trim();
    rest.strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .map_or_else(|| rest.to_string(), |t| t.replace("\\\"", "\""))
}

fn to_value(object: DynamicObject) -> Value {
    serde_json::to_value(object).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn warning_headers_give_their_text() {
        assert_eq!(
            warning_text(
                r#"299 - "kafka.strimzi.io/v1beta2 Kafka is deprecated; use kafka.strimzi.io/v1 Kafka""#
            ),
            "kafka.strimzi.io/v1beta2 Kafka is deprecated; use kafka.strimzi.io/v1 Kafka"
        );
        assert_eq!(
            warning_text(r#"299 - "unknown field \"spec.foo\"""#),
            r#"unknown field "spec.foo""#
        );
        assert_eq!(warning_text("garbled"), "garbled");
    }

    #[test]
    fn ids_print_with_and_without_namespace() {
        let ns = ObjectId::of(
            &json!({"apiVersion": "v1", "kind": kind::NAMESPACE, "metadata": {"name": "shop"}}),
        );
        assert_eq!(ns.to_string(), "Namespace/shop");
        let d = ObjectId::of(
            &json!({"apiVersion": "apps/v1", "kind": kind::DEPLOYMENT, "metadata": {"name": "api", "namespace": "shop"}}),
        );
        assert_eq!(d.to_string(), "Deployment/shop/api");
    }

    #[test]
    fn a_conflict_names_fields_managers_and_the_way_out() {
        let status: Status = serde_json::from_value(json!({
            "status": "Failure", "code": 409, "reason": "Conflict",
            "message": "Apply failed with 1 conflict: conflict with \"kubectl-edit\" using apps/v1: .spec.replicas",
            "details": {"causes": [{"reason": "FieldManagerConflict", "message": "conflict with \"kubectl-edit\" using apps/v1", "field": ".spec.replicas"}]}
        }))
        .unwrap();
        let id = ObjectId::of(
            &json!({"apiVersion": "apps/v1", "kind": kind::DEPLOYMENT, "metadata": {"name": "api", "namespace": "shop"}}),
        );
        let err = ClusterError::from_status(&id, &status);
        assert!(
            matches!(&err, ClusterError::Conflict { conflicts, .. } if conflicts[0].manager == "kubectl-edit")
        );
        assert_eq!(
            err.to_string(),
            "Deployment/shop/api: 1 field is owned by another field manager (.spec.replicas by `kubectl-edit`); rerun with --force-conflicts to take them over"
        );
    }

    #[test]
    fn other_refusals_keep_the_servers_message() {
        let status: Status = serde_json::from_value(json!({
            "status": "Failure", "code": 422, "reason": "Invalid", "message": "spec.replicas: Invalid value: -1"
        }))
        .unwrap();
        let id = ObjectId::of(
            &json!({"apiVersion": "apps/v1", "kind": kind::DEPLOYMENT, "metadata": {"name": "api"}}),
        );
        let err = ClusterError::from_status(&id, &status);
        assert_eq!(
            err.to_string(),
            "Deployment/api: spec.replicas: Invalid value: -1 (Invalid, HTTP 422)"
        );
        assert!(!err.is_not_found());
    }
}
