//! From an HTTP request to what it asks: the server's version, discovery
//! (the API versions and groups, then a group's kinds), or a verb on a
//! kind's objects, with the query parameters that matter (`dryRun`,
//! `fieldManager`, `force`, `labelSelector`) and the shape of answer the
//! caller accepts (whole objects or their metadata only), if the caller may.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::endpoints;
use super::rbac::{self, Attributes};
use super::requests::{self, Target};
use super::store::{KindDef, State};
use super::{Call, Fake};

/// Status code, JSON body, or a plain-text body instead (logs).
pub(super) type Reply = (u16, Value, Option<String>);

/// A failure as the API server reports it: a `Status` object.
pub(super) fn failure(code: u16, reason: &str, message: &str) -> Reply {
    (
        code,
        json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": code, "reason": reason, "message": message}),
        None,
    )
}

/// What the fake answers: a reply at once, or a stream of changes.
pub(super) enum Answer {
    /// A reply, with the warnings to send as `Warning` headers.
    Reply(Reply, Vec<String>),
    /// A watch: the changes of `target` after resourceVersion `since`
    /// that match `selector`, until `timeout`.
    Watch(Box<Watch>),
}

/// A watch request.
pub(super) struct Watch {
    pub(super) target: Target,
    pub(super) selector: Option<String>,
    pub(super) since: u64,
    pub(super) timeout: std::time::Duration,
    /// Whether a bookmark is sent when the watch ends.
    pub(super) bookmarks: bool,
}

/// What a request path names.
pub(super) struct Parsed {
    /// The kind, when the path names one the fake serves.
    def: Option<KindDef>,
    pub(super) group: String,
    pub(super) version: String,
    namespace: Option<String>,
    name: Option<String>,
    /// `log` for pod logs, `proxy` for the service proxy.
    sub: Option<String>,
    /// `/api/v1` or `/apis/GROUP/VERSION`: the kinds of a group.
    discovery: bool,
    plural: String,
}

fn parse_path(state: &State, path: &str) -> Option<Parsed> {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (group, version, rest) = match parts.as_slice() {
        ["api", v, rest @ ..] => (String::new(), (*v).to_string(), rest),
        ["apis", g, v, rest @ ..] => ((*g).to_string(), (*v).to_string(), rest),
        _ => return None,
    };
    let (namespace, rest) = if rest.len() >= 3 && rest[0] == "namespaces" {
        (Some(rest[1].to_string()), &rest[2..])
    } else {
        (None, rest)
    };
    if rest.is_empty() {
        return Some(Parsed {
            def: None,
            group,
            version,
            namespace,
            name: None,
            sub: None,
            discovery: true,
            plural: String::new(),
        });
    }
    let plural = rest[0].to_string();
    let def = state
        .kinds
        .iter()
        .find(|d| d.group == group && d.version == version && d.plural == plural)
        .cloned();
    Some(Parsed {
        def,
        group,
        version,
        namespace,
        name: rest.get(1).map(|s| (*s).to_string()),
        sub: rest.get(2).map(|s| (*s).to_string()),
        discovery: false,
        plural,
    })
}

/// The answer a GET accepts: whole objects, or only their metadata, as
/// `Accept: application/json;as=PartialObjectMetadata[List];g=meta.k8s.io;v=v1`
/// asks (kube-rs' `get_metadata`, `list_metadata`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Shape {
    /// The objects themselves.
    Whole,
    /// `PartialObjectMetadata`: one object's metadata.
    Metadata,
    /// `PartialObjectMetadataList`: each listed object's metadata.
    MetadataList,
}

/// The shape `accept` asks for; a shape the API server does not serve is
/// refused with 406 Not Acceptable, as it refuses one.
fn shape(accept: &str) -> Result<Shape, Reply> {
    let params: HashMap<&str, &str> = accept
        .split(';')
        .skip(1)
        .filter_map(|p| p.trim().split_once('='))
        .collect();
    let Some(kind) = params.get("as") else {
        return Ok(Shape::Whole);
    };
    let meta = params.get("g") == Some(&"meta.k8s.io") && params.get("v") == Some(&"v1");
    match *kind {
        "PartialObjectMetadata" if meta => Ok(Shape::Metadata),
        "PartialObjectMetadataList" if meta => Ok(Shape::MetadataList),
        _ => Err(failure(
            406,
            "NotAcceptable",
            &format!("only the following media types are accepted: application/json; not {accept}"),
        )),
    }
}

fn query(uri: &http::Uri) -> HashMap<String, String> {
    uri.query()
        .unwrap_or("")
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), percent_decode(v)))
        .collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl Fake {
    /// Answers one request made as `user` (an administrator when `None`),
    /// with the warnings to send as `Warning` headers.
    pub(super) fn handle(
        &self,
        method: &http::Method,
        uri: &http::Uri,
        user: Option<&str>,
        content_type: &str,
        accept: &str,
        body: &[u8],
    ) -> Answer {
        let mut state = self.lock();
        state.warnings.clear();
        state.settle();
        let headers = Headers {
            user,
            content_type,
            accept,
        };
        let answer = match route(&mut state, method, uri, &headers, body) {
            Ok(reply) => Answer::Reply(reply, std::mem::take(&mut state.warnings)),
            Err(watch) => Answer::Watch(watch),
        };
        drop(state);
        self.changed.notify_waiters();
        answer
    }
}

/// The request headers that matter.
struct Headers<'a> {
    /// Who the caller acts as (an administrator when `None`).
    user: Option<&'a str>,
    content_type: &'a str,
    accept: &'a str,
}

/// A reply, or the watch asked for.
fn route(
    state: &mut State,
    method: &http::Method,
    uri: &http::Uri,
    headers: &Headers<'_>,
    body: &[u8],
) -> Result<Reply, Box<Watch>> {
    let (user, content_type) = (headers.user, headers.content_type);
    let path = uri.path();
    match path {
        "/version" => {
            return Ok((
                200,
                json!({"major": "1", "minor": "33", "gitVersion": "v1.33.0-fake"}),
                None,
            ));
        }
        "/api" => return Ok(requests::core_versions()),
        "/apis" => return Ok(requests::groups(state)),
        _ => {}
    }
    let Some(parsed) = parse_path(state, path) else {
        return Ok(failure(
            404,
            "NotFound",
            &format!("the server could not find {path}"),
        ));
    };
    let q = query(uri);
    let dry_run = q.get("dryRun").is_some_and(|v| v == "All");
    if parsed.discovery {
        return Ok(requests::discovery(state, &parsed, path));
    }
    let Some(def) = parsed.def.clone() else {
        return Ok(failure(
            404,
            "NotFound",
            &format!(
                "the server could not find the requested resource {}",
                parsed.plural
            ),
        ));
    };
    let ns = if def.namespaced {
        parsed.namespace.clone().unwrap_or_default()
    } else {
        String::new()
    };
    let target = Target { def, ns };
    let watch = q.get("watch").is_some_and(|v| v == "true" || v == "1");
    let verb = match (method.as_str(), parsed.name.is_some()) {
        ("GET", true) => "get",
        ("GET", false) if watch => "watch",
        ("GET", false) => "list",
        ("POST", _) => "create",
        ("PATCH", _) => "patch",
        ("DELETE", _) => "delete",
        _ => "",
    };
    let attributes = Attributes {
        verb,
        def: &target.def,
        namespace: &target.ns,
        name: parsed.name.as_deref(),
    };
    if !rbac::allowed(state, user, &attributes) {
        let message = rbac::forbidden_message(user.unwrap_or(""), &attributes);
        return Ok(failure(403, "Forbidden", &message));
    }
    let shape = match shape(headers.accept) {
        Ok(shape) => shape,
        Err(refusal) => return Ok(refusal),
    };
    // As the API server: metadata of one object is not a list, nor the
    // reverse. (It also watches metadata; nothing here asks it to.)
    match (shape, method.as_str(), parsed.name.is_some(), watch) {
        (Shape::Whole, ..)
        | (Shape::Metadata, "GET", true, false)
        | (Shape::MetadataList, "GET", false, false) => {}
        (Shape::Metadata, "GET", false, _) => {
            return Ok(failure(
                406,
                "NotAcceptable",
                "you requested PartialObjectMetadata, but the requested object is a list",
            ));
        }
        (Shape::MetadataList, "GET", true, _) => {
            return Ok(failure(
                406,
                "NotAcceptable",
                "you requested PartialObjectMetadataList, but the requested object is not a list",
            ));
        }
        _ => {
            return Ok(failure(
                406,
                "NotAcceptable",
                "the fake serves metadata only to GET and LIST",
            ));
        }
    }
    let metadata = shape != Shape::Whole;
    if watch && parsed.name.is_none() {
        let since = q
            .get("resourceVersion")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        state.calls.push(Call {
            verb: "watch",
            id: format!("{}/{}", target.def.kind, target.ns),
            dry_run: false,
        });
        return Err(Box::new(Watch {
            selector: q.get("labelSelector").cloned(),
            since,
            timeout: std::time::Duration::from_secs(
                q.get("timeoutSeconds")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(1800),
            ),
            bookmarks: q.get("allowWatchBookmarks").is_some_and(|v| v == "true"),
            target,
        }));
    }
    Ok(match (method.as_str(), parsed.name.as_deref()) {
        ("GET", None) => requests::list(state, &target, &q, metadata),
        ("GET", Some(name)) if parsed.sub.as_deref() == Some("log") => {
            requests::log(state, &target, name)
        }
        ("GET", Some(name)) if parsed.sub.as_deref() == Some("proxy") => {
            let rest = path
                .split_once(&format!("/{name}/proxy"))
                .map_or("", |(_, rest)| rest);
            endpoints::proxy(state, &target.ns, name, rest)
        }
        ("GET", Some(name)) => requests::get(state, &target, name, metadata),
        ("POST", None) => requests::create(state, &target, &q, body, dry_run),
        ("PATCH", Some(name)) if content_type.starts_with("application/merge-patch") => {
            requests::merge_patch(state, &target, name, &q, body, dry_run)
        }
        ("PATCH", Some(name)) => requests::apply(state, &target, name, &q, body, dry_run),
        ("DELETE", Some(name)) => requests::delete(state, &target, name, body, dry_run),
        _ => failure(405, "MethodNotAllowed", "not supported by the fake"),
    })
}
