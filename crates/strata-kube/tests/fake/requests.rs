//! What each request does to the fake's memory, and its answer: discovery,
//! list, get, pod logs, create, merge patch, server-side apply, delete.
//! Every request on an object is recorded as a [`Call`].

use std::collections::HashMap;

use serde_json::{Value, json};

use super::Call;
use super::fields::{
    conflicts, fold_string_data, immutable_change, invalid_fields, merge, unknown_fields,
};
use super::routing::{Parsed, Reply, failure};
use super::store::{Key, KindDef, State};

/// The kind and namespace a request is about.
pub(super) struct Target {
    pub(super) def: KindDef,
    /// Empty for a cluster-scoped kind, or a list across namespaces.
    pub(super) ns: String,
}

impl Target {
    /// `Kind/ns/name` or `Kind/name`, as calls record it.
    fn id(&self, name: &str) -> String {
        if self.ns.is_empty() {
            format!("{}/{name}", self.def.kind)
        } else {
            format!("{}/{}/{name}", self.def.kind, self.ns)
        }
    }

    fn key(&self, name: &str) -> Key {
        (
            self.def.group.clone(),
            self.def.plural.clone(),
            self.ns.clone(),
            name.to_string(),
        )
    }

    fn not_found(&self, name: &str) -> Reply {
        failure(
            404,
            "NotFound",
            &format!("{} \"{name}\" not found", self.def.plural),
        )
    }
}

/// The field manager a request writes as.
fn manager(q: &HashMap<String, String>) -> String {
    q.get("fieldManager")
        .cloned()
        .unwrap_or_else(|| "unknown".into())
}

/// Holds `value`, a custom resource about to be written, to its CRD's
/// schema: [`undeclared_refusal`], then [`invalid_refusal`].
fn schema_refusal(
    state: &mut State,
    target: &Target,
    value: &mut Value,
    q: &HashMap<String, String>,
) -> Option<Reply> {
    undeclared_refusal(state, target, value, q, false).or_else(|| invalid_refusal(target, value))
}

/// A custom resource's fields its CRD's schema does not declare: refused
/// with strict field validation (a server-side apply in the words of its
/// typed patch, others in those of strict decoding), else dropped from
/// `value` with a warning.
fn undeclared_refusal(
    state: &mut State,
    target: &Target,
    value: &mut Value,
    q: &HashMap<String, String>,
    server_side_apply: bool,
) -> Option<Reply> {
    let def = &target.def;
    let schema = def.schema.as_ref()?;
    let validation = q.get("fieldValidation").map(String::as_str);
    if let Err(fields) = unknown_fields(schema, value, validation, &mut state.warnings) {
        let message = if server_side_apply {
            let fields: Vec<String> = fields.iter().map(|f| format!(".{f}")).collect();
            format!(
                "failed to create typed patch object ({}/{}; {}/{}, Kind={}): {}: field not declared in schema",
                target.ns,
                value["metadata"]["name"].as_str().unwrap_or_default(),
                def.group,
                def.version,
                def.kind,
                fields.join(", ")
            )
        } else {
            let fields: Vec<String> = fields
                .iter()
                .map(|f| format!("unknown field \"{f}\""))
                .collect();
            format!(
                "{kind} in version \"{}\" cannot be handled as a {kind}: strict decoding error: {}",
                def.version,
                fields.join(", "),
                kind = def.kind
            )
        };
        return Some(failure(400, "BadRequest", &message));
    }
    None
}

/// A custom resource its CRD's schema refuses, under any field validation:
/// a value of the wrong type, not among those allowed, missing (422).
fn invalid_refusal(target: &Target, value: &Value) -> Option<Reply> {
    let schema = target.def.schema.as_ref()?;
    invalid_fields(schema, value).map(|message| failure(422, "Invalid", &message))
}

fn matches_labels(value: &Value, selector: Option<&String>) -> bool {
    let Some(selector) = selector.filter(|s| !s.is_empty()) else {
        return true;
    };
    selector.split(',').all(|term| match term.split_once('=') {
        Some((k, v)) => value["metadata"]["labels"][k] == v,
        None => value["metadata"]["labels"].get(term).is_some(),
    })
}

/// `/api`: the core group's one version.
pub(super) fn core_versions() -> Reply {
    (
        200,
        json!({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]}),
        None,
    )
}

/// `/apis`: every named group with its versions, the first preferred.
pub(super) fn groups(state: &State) -> Reply {
    let mut groups: Vec<(String, Vec<String>)> = Vec::new();
    for def in state.kinds.iter().filter(|d| !d.group.is_empty()) {
        match groups.iter_mut().find(|(g, _)| *g == def.group) {
            Some((_, versions)) if !versions.contains(&def.version) => {
                versions.push(def.version.clone());
            }
            Some(_) => {}
            None => groups.push((def.group.clone(), vec![def.version.clone()])),
        }
    }
    let groups: Vec<Value> = groups
        .iter()
        .map(|(group, versions)| {
            let versions: Vec<Value> = versions
                .iter()
                .map(|v| json!({"groupVersion": format!("{group}/{v}"), "version": v}))
                .collect();
            json!({"name": group, "versions": versions, "preferredVersion": versions[0]})
        })
        .collect();
    (
        200,
        json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}),
        None,
    )
}

/// The kinds of a group version. A new CRD's kind may still be lagging:
/// each discovery request of its group brings it closer to being listed.
pub(super) fn discovery(state: &mut State, parsed: &Parsed, path: &str) -> Reply {
    for (def, left) in &mut state.lagging {
        if def.group == parsed.group && def.version == parsed.version {
            *left = left.saturating_sub(1);
        }
    }
    let (listed, lagging): (Vec<_>, Vec<_>) =
        state.lagging.drain(..).partition(|(_, left)| *left == 0);
    state.lagging = lagging;
    state.kinds.extend(listed.into_iter().map(|(def, _)| def));
    let gv = if parsed.group.is_empty() {
        parsed.version.clone()
    } else {
        format!("{}/{}", parsed.group, parsed.version)
    };
    let resources: Vec<Value> = state
        .kinds
        .iter()
        .filter(|d| d.group == parsed.group && d.version == parsed.version)
        .map(|d| json!({"name": d.plural, "singularName": d.kind.to_lowercase(), "namespaced": d.namespaced, "kind": d.kind,
            "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"]}))
        .collect();
    if resources.is_empty() {
        return failure(
            404,
            "NotFound",
            &format!("the server could not find {path}"),
        );
    }
    (
        200,
        json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}),
        None,
    )
}

/// An object as an answer of metadata only gives it: a
/// `PartialObjectMetadata` holding its whole `metadata` and nothing else.
fn partial(value: &Value) -> Value {
    json!({"apiVersion": "meta.k8s.io/v1", "kind": "PartialObjectMetadata", "metadata": value["metadata"]})
}

/// The objects of a kind in a namespace (or all), matching `labelSelector`;
/// with `metadata`, a `PartialObjectMetadataList` of their metadata.
pub(super) fn list(
    state: &mut State,
    target: &Target,
    q: &HashMap<String, String>,
    metadata: bool,
) -> Reply {
    let (def, ns) = (&target.def, &target.ns);
    state.calls.push(Call {
        verb: if metadata { "list-metadata" } else { "list" },
        id: format!("{}/{ns}", def.kind),
        dry_run: false,
    });
    let mut items: Vec<Value> = state
        .objects
        .iter()
        .filter(|(k, _)| k.0 == def.group && k.1 == def.plural && (ns.is_empty() || k.2 == *ns))
        .filter(|(_, s)| matches_labels(&s.value, q.get("labelSelector")))
        .map(|(_, s)| {
            if metadata {
                partial(&s.value)
            } else {
                state.view(s)
            }
        })
        .collect();
    // EndpointSlices are the controller's, made up from the Services.
    if def.kind == "EndpointSlice" {
        items.extend(
            state
                .endpoint_slices(ns)
                .into_iter()
                .filter(|v| matches_labels(v, q.get("labelSelector")))
                .map(|v| if metadata { partial(&v) } else { v }),
        );
    }
    let (api_version, kind) = if metadata {
        (
            "meta.k8s.io/v1".to_string(),
            "PartialObjectMetadataList".to_string(),
        )
    } else if def.group.is_empty() {
        (def.version.clone(), format!("{}List", def.kind))
    } else {
        (
            format!("{}/{}", def.group, def.version),
            format!("{}List", def.kind),
        )
    };
    (
        200,
        json!({"apiVersion": api_version, "kind": kind,
            "metadata": {"resourceVersion": state.version.to_string()}, "items": items}),
        None,
    )
}

/// A pod's log, as set by the test.
pub(super) fn log(state: &mut State, target: &Target, name: &str) -> Reply {
    state.calls.push(Call {
        verb: "log",
        id: target.id(name),
        dry_run: false,
    });
    if let Some((code, message)) = state.log_failures.get(name) {
        return failure(*code, "InternalError", message);
    }
    match state.logs.get(name) {
        Some(text) => (200, Value::Null, Some(text.clone())),
        None => failure(404, "NotFound", &format!("pods \"{name}\" not found")),
    }
}

/// One object, with its made-up status (with `metadata`, a
/// `PartialObjectMetadata` of it); each GET counts as a poll, and brings a
/// delayed deletion one step closer to done.
pub(super) fn get(state: &mut State, target: &Target, name: &str, metadata: bool) -> Reply {
    state.calls.push(Call {
        verb: if metadata { "get-metadata" } else { "get" },
        id: target.id(name),
        dry_run: false,
    });
    if state.forbidden_gets.contains(&target.id(name)) {
        return failure(
            403,
            "Forbidden",
            &format!(
                "{} \"{name}\" is forbidden: User \"dev\" cannot get resource \"{}\" in API group \"{}\"",
                target.def.plural, target.def.plural, target.def.group
            ),
        );
    }
    let k = target.key(name);
    let gone = match state.objects.get_mut(&k) {
        None => true,
        Some(stored) => match stored.deleting {
            Some(0) => true,
            Some(n) => {
                stored.deleting = Some(n - 1);
                false
            }
            None => false,
        },
    };
    if gone {
        if state.objects.contains_key(&k) {
            state.remove(&k);
        }
        return target.not_found(name);
    }
    let stored = &state.objects[&k];
    if metadata {
        return (200, partial(&stored.value), None);
    }
    (200, state.view(stored), None)
}

/// The changes a watch of `target` from resourceVersion `since` has not
/// sent yet, as watch events, and the version of the last one looked at.
pub(super) fn changes_since(
    state: &State,
    target: &Target,
    selector: Option<&String>,
    since: u64,
) -> (Vec<Value>, u64) {
    let (def, ns) = (&target.def, &target.ns);
    let start = state.changes.partition_point(|c| c.version <= since);
    let events = state.changes[start..]
        .iter()
        .filter(|c| {
            c.key.0 == def.group && c.key.1 == def.plural && (ns.is_empty() || c.key.2 == *ns)
        })
        .filter(|c| matches_labels(&c.object, selector))
        .map(|c| json!({"type": c.kind, "object": c.object}))
        .collect();
    (
        events,
        state.changes.last().map_or(since, |c| c.version.max(since)),
    )
}

/// Creates an object unless one of that name exists.
pub(super) fn create(
    state: &mut State,
    target: &Target,
    q: &HashMap<String, String>,
    body: &[u8],
    dry_run: bool,
) -> Reply {
    let (def, ns) = (&target.def, &target.ns);
    let Ok(mut value) = serde_json::from_slice::<Value>(body) else {
        return failure(400, "BadRequest", "body is not JSON");
    };
    let name = value["metadata"]["name"].as_str().unwrap_or("").to_string();
    state.calls.push(Call {
        verb: "create",
        id: target.id(&name),
        dry_run,
    });
    if def.namespaced && !state.namespace_exists(ns) {
        return failure(404, "NotFound", &format!("namespaces \"{ns}\" not found"));
    }
    let k = target.key(&name);
    if state.objects.contains_key(&k) {
        return failure(
            409,
            "AlreadyExists",
            &format!("{} \"{name}\" already exists", def.plural),
        );
    }
    if def.namespaced {
        value["metadata"]["namespace"] = json!(ns);
    }
    fold_string_data(&mut value);
    if let Some(refusal) = schema_refusal(state, target, &mut value, q) {
        return refusal;
    }
    let manager = manager(q);
    state.stamp(&mut value, &manager, "Update");
    if !dry_run {
        state.put(k, value.clone(), manager);
    }
    (201, value, None)
}

/// A JSON merge patch of an existing object.
pub(super) fn merge_patch(
    state: &mut State,
    target: &Target,
    name: &str,
    q: &HashMap<String, String>,
    body: &[u8],
    dry_run: bool,
) -> Reply {
    let Ok(mut patch) = serde_json::from_slice::<Value>(body) else {
        return failure(400, "BadRequest", "body is not JSON");
    };
    let k = target.key(name);
    let manager = manager(q);
    state.calls.push(Call {
        verb: "merge",
        id: target.id(name),
        dry_run,
    });
    let Some(stored) = state.objects.get(&k) else {
        return target.not_found(name);
    };
    // A resourceVersion in the patch is a precondition, as on a server.
    let expected = &patch["metadata"]["resourceVersion"];
    if !expected.is_null() && *expected != stored.value["metadata"]["resourceVersion"] {
        return failure(
            409,
            "Conflict",
            &format!(
                "Operation cannot be fulfilled on {} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
                target.def.plural
            ),
        );
    }
    let mut value = stored.value.clone();
    patch["kind"] = value["kind"].clone();
    fold_string_data(&mut patch);
    if let Some(p) = patch.as_object_mut() {
        p.remove("kind");
    }
    let spec_before = value["spec"].clone();
    merge(&mut value, &patch, true);
    if let Some(refusal) = schema_refusal(state, target, &mut value, q) {
        return refusal;
    }
    if value["spec"] != spec_before {
        super::store::next_generation(&mut value);
    }
    state.stamp(&mut value, &manager, "Update");
    if !dry_run && let Some(stored) = state.objects.get(&k) {
        let owner = stored.manager.clone();
        state.put(k, value.clone(), owner);
    }
    (200, value, None)
}

/// Server-side apply: creates the object, or merges into it when the
/// manager owns it, or with `force`, or when no field changes hands;
/// otherwise a conflict naming each field.
pub(super) fn apply(
    state: &mut State,
    target: &Target,
    name: &str,
    q: &HashMap<String, String>,
    body: &[u8],
    dry_run: bool,
) -> Reply {
    let (def, ns) = (&target.def, &target.ns);
    let Ok(mut patch) = serde_json::from_slice::<Value>(body) else {
        return failure(400, "BadRequest", "body is not JSON");
    };
    let k = target.key(name);
    let manager = manager(q);
    state.calls.push(Call {
        verb: "apply",
        id: target.id(name),
        dry_run,
    });
    // A deprecated version is warned about on every request, answered or not.
    if let Some(warning) = &def.deprecation {
        state.warnings.push(warning.clone());
    }
    if def.namespaced && !state.namespace_exists(ns) {
        return failure(404, "NotFound", &format!("namespaces \"{ns}\" not found"));
    }
    // The applied configuration is typed first (undeclared fields), then
    // the object it makes validated (types, allowed values).
    if let Some(refusal) = undeclared_refusal(state, target, &mut patch, q, true) {
        return refusal;
    }
    let force = q.get("force").is_some_and(|v| v == "true");
    let mut applied = patch.clone();
    if def.namespaced {
        applied["metadata"]["namespace"] = json!(ns);
    }
    fold_string_data(&mut applied);
    let (mut value, owner) = match state.objects.get(&k) {
        Some(stored) => {
            if stored.manager != manager && !force {
                let mut fields = Vec::new();
                conflicts(&applied, &stored.value, "", &mut fields);
                if !fields.is_empty() {
                    let causes: Vec<Value> = fields
                        .iter()
                        .map(|f| {
                            json!({"reason": "FieldManagerConflict",
                        "message": format!("conflict with \"{}\"", stored.manager), "field": f})
                        })
                        .collect();
                    return (
                        409,
                        json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 409, "reason": "Conflict",
                        "message": format!("Apply failed with {} conflicts", fields.len()), "details": {"causes": causes}}),
                        None,
                    );
                }
            }
            if let Some(message) = immutable_change(&stored.value, &applied) {
                return failure(422, "Invalid", &message);
            }
            let mut value = stored.value.clone();
            let spec_before = value["spec"].clone();
            merge(&mut value, &applied, false);
            if value["spec"] != spec_before {
                super::store::next_generation(&mut value);
            }
            (value, manager.clone())
        }
        None => (applied, manager.clone()),
    };
    if let Some(refusal) = invalid_refusal(target, &value) {
        return refusal;
    }
    state.stamp(&mut value, &owner, "Apply");
    if !dry_run {
        if value["kind"] == "CustomResourceDefinition" {
            state.register_crd(&value);
        }
        state.put(k.clone(), value.clone(), owner);
        let stored = &state.objects[&k];
        return (200, state.view(stored), None);
    }
    (200, value, None)
}

/// Deletes an object: at once, or marked and gone after the GETs the test
/// set; refused when the test says so.
pub(super) fn delete(
    state: &mut State,
    target: &Target,
    name: &str,
    body: &[u8],
    dry_run: bool,
) -> Reply {
    let orphan = serde_json::from_slice::<Value>(body)
        .is_ok_and(|options| options["propagationPolicy"] == "Orphan");
    state.calls.push(Call {
        verb: "delete",
        id: target.id(name),
        dry_run,
    });
    let k = target.key(name);
    if !state.objects.contains_key(&k) {
        return target.not_found(name);
    }
    if dry_run {
        return (200, state.objects[&k].value.clone(), None);
    }
    if state.refused_deletes.contains(&target.id(name)) {
        return failure(
            403,
            "Forbidden",
            &format!(
                "{} \"{name}\" is forbidden: the fake refuses",
                target.def.plural
            ),
        );
    }
    if let Some(n) = state.delete_delays.get(&target.id(name)).copied() {
        state.version += 1;
        let version = state.version.to_string();
        let stored = state.objects.get_mut(&k).expect("checked above");
        stored.deleting = Some(n);
        stored.value["metadata"]["deletionTimestamp"] = json!("2026-01-01T00:00:00Z");
        stored.value["metadata"]["resourceVersion"] = json!(version);
        let value = stored.value.clone();
        state.changed("MODIFIED", &k);
        (200, value, None)
    } else {
        let value = state.objects[&k].value.clone();
        state.remove(&k);
        state.collect_dependents(&value, orphan);
        (200, value, None)
    }
}
