//! The operator CRDs of `testdata/crds` (upstream manifests, byte for byte)
//! and custom resources checked against their schemas, as an API server
//! with those CRDs installed checks them under strict field validation.
//!
//! The one way the tests check a custom resource against its CRD: `strata`'s
//! render tests include this module with `#[path]`, and the fake API server
//! (`fake`) checks every custom resource it is sent with [`Schema`], the
//! schema of the CRD version it serves. A CRD's `openAPIV3Schema` is a
//! *structural* schema in OpenAPI's dialect; [`structural`] turns it into
//! the JSON Schema the `jsonschema` crate checks:
//!
//! - an object schema that does not preserve unknown fields
//!   (`x-kubernetes-preserve-unknown-fields`) refuses them
//!   (`additionalProperties: false`), as strict validation does where the
//!   server would prune them;
//! - `x-kubernetes-int-or-string` admits an integer or a string;
//! - `nullable: true` admits `null`; elsewhere `null` is refused, where the
//!   server would prune it (Strata never means to write one);
//! - the root's `metadata` is an ObjectMeta's fields, a `name` required;
//!   an embedded resource (`x-kubernetes-embedded-resource`)
//!   admits `apiVersion`, `kind` and `metadata`.
//!
//! CEL rules (`x-kubernetes-validations`) and list-type uniqueness are
//! not evaluated.

#![allow(dead_code)] // each test binary uses its own part

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value, json};
use strata_core::source::SourceFile;

/// One definition: a kind of one group, read from one file.
#[derive(Debug)]
pub(crate) struct Crd {
    /// The file, relative to `testdata/crds` (`strimzi/1.2.0/040-Crd-kafka.yaml`).
    pub(crate) file: String,
    /// The operator's folder (`strimzi`).
    pub(crate) operator: String,
    /// The operator's release, where the folder keeps several
    /// (`1.2.0` of `strimzi/1.2.0/`).
    pub(crate) release: Option<String>,
    /// `spec.group`.
    pub(crate) group: String,
    /// `spec.names.kind`.
    pub(crate) kind: String,
    /// `spec.versions`, in order.
    pub(crate) versions: Vec<CrdVersion>,
}

/// One version a CRD defines.
#[derive(Debug)]
pub(crate) struct CrdVersion {
    /// Its name (`v1`).
    pub(crate) name: String,
    /// Whether the API server serves it.
    pub(crate) served: bool,
    /// Whether it is deprecated (the server warns on every request).
    pub(crate) deprecated: bool,
    /// Its `schema.openAPIV3Schema`.
    pub(crate) schema: Value,
}

/// Every CRD of a folder, and schemas compiled on first use.
pub(crate) struct Crds {
    crds: Vec<Crd>,
    compiled: Mutex<HashMap<(usize, usize), Arc<Schema>>>,
}

/// One CRD version's schema (or a part of it), compiled.
pub(crate) struct Schema(jsonschema::Validator);

/// One way a value strays from its schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    /// The field, as the API server names it (`spec.config[0].name`).
    pub(crate) path: String,
    /// The field as a JSON pointer into the value (`/spec/config/0/name`).
    pub(crate) pointer: String,
    /// What is wrong with it.
    pub(crate) what: What,
}

/// What is wrong with a field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum What {
    /// The schema does not declare it (nor preserves unknown fields there).
    Unknown,
    /// The schema refuses its value: why, in the API server's words
    /// (`Invalid value: "string": spec.partitions in body must be of type
    /// integer: "3"`).
    Invalid(String),
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.what {
            What::Unknown => write!(f, "{}: field not declared in schema", self.path),
            What::Invalid(why) => write!(f, "{}: {why}", self.path),
        }
    }
}

impl Schema {
    /// The schema of a whole resource, from its CRD version's
    /// `openAPIV3Schema`.
    pub(crate) fn resource(open_api: &Value) -> Result<Schema, String> {
        Schema::compile(&root(open_api))
    }

    /// The schema of a part of a resource (`status`), from that part of
    /// its CRD version's `openAPIV3Schema`.
    pub(crate) fn part(open_api: &Value) -> Result<Schema, String> {
        Schema::compile(&structural(open_api, false))
    }

    fn compile(schema: &Value) -> Result<Schema, String> {
        jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .should_validate_formats(false)
            .build(schema)
            .map(Schema)
            .map_err(|e| e.to_string())
    }

    /// Every problem of `value`, in the order the schema finds them; an
    /// object's undeclared fields each a problem of its own.
    pub(crate) fn problems(&self, value: &Value) -> Vec<Problem> {
        let mut out = Vec::new();
        for error in self.0.iter_errors(value) {
            let pointer = error.instance_path().as_str().to_string();
            let path = field_path(value, &pointer);
            let what = match error.kind() {
                jsonschema::error::ValidationErrorKind::AdditionalProperties { unexpected } => {
                    for field in unexpected {
                        let escaped = field.replace('~', "~0").replace('/', "~1");
                        let pointer = format!("{pointer}/{escaped}");
                        out.push(Problem {
                            path: field_path(value, &pointer),
                            pointer,
                            what: What::Unknown,
                        });
                    }
                    continue;
                }
                jsonschema::error::ValidationErrorKind::Required { property } => {
                    let field = property.as_str().unwrap_or_default();
                    let escaped = field.replace('~', "~0").replace('/', "~1");
                    let pointer = format!("{pointer}/{escaped}");
                    out.push(Problem {
                        path: field_path(value, &pointer),
                        pointer,
                        what: What::Invalid("Required value".into()),
                    });
                    continue;
                }
                _ => What::Invalid(invalid(&error, &path)),
            };
            out.push(Problem {
                path,
                pointer,
                what,
            });
        }
        out
    }
}

/// The API server's name of the field at `pointer` in `value`:
/// `spec.config[0].name`, `<root>` for the whole.
fn field_path(value: &Value, pointer: &str) -> String {
    let mut path = String::new();
    let mut at = Some(value);
    for token in pointer.split('/').skip(1) {
        let token = token.replace("~1", "/").replace("~0", "~");
        if let Some(Value::Array(items)) = at {
            path.push_str(&format!("[{token}]"));
            at = token.parse::<usize>().ok().and_then(|i| items.get(i));
        } else {
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(&token);
            at = at.and_then(|v| v.get(&token));
        }
    }
    if path.is_empty() {
        "<root>".into()
    } else {
        path
    }
}

/// Why the schema refuses `value` at `path`, as the API server says it.
fn invalid(error: &jsonschema::ValidationError<'_>, path: &str) -> String {
    use jsonschema::error::{TypeKind, ValidationErrorKind as Kind};
    let value = error.instance();
    let json_type = |v: &Value| match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "number",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    match error.kind() {
        Kind::Type { kind } => {
            let expected = match kind {
                TypeKind::Single(t) => t.to_string(),
                TypeKind::Multiple(set) => set
                    .iter()
                    .map(|t| t.to_string())
                    .collect::<Vec<_>>()
                    .join(" or "),
            };
            format!(
                "Invalid value: \"{}\": {path} in body must be of type {expected}: {value}",
                json_type(value)
            )
        }
        Kind::Enum { options } => {
            let supported: Vec<String> = options
                .as_array()
                .into_iter()
                .flatten()
                .map(Value::to_string)
                .collect();
            format!(
                "Unsupported value: {value}: supported values: {}",
                supported.join(", ")
            )
        }
        _ => format!("Invalid value: {value}: {error}"),
    }
}

/// Why a custom resource is refused.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// No CRD of the folder defines its group and kind.
    NoDefinition,
    /// Several releases define it and none was chosen, or the one chosen
    /// is not kept.
    NoRelease(String),
    /// The CRD does not serve its `apiVersion`'s version, or deprecates it.
    Version(String),
    /// The schema refuses it: each problem with its path.
    Schema(Vec<String>),
}

/// The workspace's `testdata/crds`.
pub(crate) fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/crds")
}

impl Crds {
    /// Reads every CRD under `dir` (`*.yaml`, any depth; other documents
    /// of a file are skipped).
    pub(crate) fn load(dir: &Path) -> Crds {
        let mut files = Vec::new();
        collect(dir, &mut files);
        files.sort();
        let mut crds = Vec::new();
        for path in files {
            let relative = path.strip_prefix(dir).unwrap().display().to_string();
            let text = std::fs::read_to_string(&path).unwrap();
            let manifests = strata_core::lint::read(&SourceFile::new(&relative, text))
                .unwrap_or_else(|e| panic!("{relative}: {e:?}"))
                .manifests;
            let parts: Vec<&str> = relative.split('/').collect();
            let operator = parts[0].to_string();
            let release = (parts.len() > 2).then(|| parts[1].to_string());
            for manifest in manifests {
                let value = serde_json::Value::from(manifest.value);
                if value["kind"] != "CustomResourceDefinition" {
                    continue;
                }
                let spec = &value["spec"];
                let versions = spec["versions"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|v| CrdVersion {
                        name: v["name"].as_str().unwrap_or_default().to_string(),
                        served: v["served"] == true,
                        deprecated: v["deprecated"] == true,
                        schema: v["schema"]["openAPIV3Schema"].clone(),
                    })
                    .collect();
                crds.push(Crd {
                    file: relative.clone(),
                    operator: operator.clone(),
                    release: release.clone(),
                    group: spec["group"].as_str().unwrap_or_default().to_string(),
                    kind: spec["names"]["kind"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                    versions,
                });
            }
        }
        Crds {
            crds,
            compiled: Mutex::new(HashMap::new()),
        }
    }

    /// Every definition read.
    pub(crate) fn all(&self) -> &[Crd] {
        &self.crds
    }

    /// The definitions of `group` and `kind`, one per release kept.
    pub(crate) fn definitions(&self, group: &str, kind: &str) -> Vec<&Crd> {
        self.crds
            .iter()
            .filter(|c| c.group == group && c.kind == kind)
            .collect()
    }

    /// Checks `object` against the CRD of its group and kind and the
    /// version its `apiVersion` names. Where several releases define the
    /// kind, `release` chooses the one whose folder begins with it (`1.2`
    /// chooses `1.2.0`).
    pub(crate) fn validate(&self, object: &Value, release: Option<&str>) -> Result<(), Refusal> {
        let api_version = object["apiVersion"].as_str().unwrap_or_default();
        let kind = object["kind"].as_str().unwrap_or_default();
        let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
        let candidates: Vec<usize> = (0..self.crds.len())
            .filter(|&i| self.crds[i].group == group && self.crds[i].kind == kind)
            .collect();
        let index = match (candidates.as_slice(), release) {
            ([], _) => return Err(Refusal::NoDefinition),
            ([one], _) => *one,
            (_, Some(release)) => *candidates
                .iter()
                .find(|&&i| {
                    self.crds[i]
                        .release
                        .as_deref()
                        .is_some_and(|r| r == release || r.starts_with(&format!("{release}.")))
                })
                .ok_or_else(|| {
                    Refusal::NoRelease(format!("no release {release} of {kind} is kept"))
                })?,
            (_, None) => {
                return Err(Refusal::NoRelease(format!(
                    "several releases define {kind}: choose one"
                )));
            }
        };
        let crd = &self.crds[index];
        let served: Vec<&str> = crd
            .versions
            .iter()
            .filter(|v| v.served)
            .map(|v| v.name.as_str())
            .collect();
        let Some(at) = crd
            .versions
            .iter()
            .position(|v| v.name == version && v.served)
        else {
            return Err(Refusal::Version(format!(
                "{} does not serve {api_version}; it serves {}",
                crd.file,
                served.join(", ")
            )));
        };
        if crd.versions[at].deprecated {
            return Err(Refusal::Version(format!(
                "{} deprecates {api_version}",
                crd.file
            )));
        }
        let problems: Vec<String> = self
            .schema(index, at)
            .problems(object)
            .iter()
            .map(Problem::to_string)
            .collect();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Refusal::Schema(problems))
        }
    }

    fn schema(&self, crd: usize, version: usize) -> Arc<Schema> {
        let mut compiled = self.compiled.lock().unwrap();
        compiled
            .entry((crd, version))
            .or_insert_with(|| {
                Arc::new(
                    Schema::resource(&self.crds[crd].versions[version].schema).unwrap_or_else(
                        |e| panic!("{}: the schema does not compile: {e}", self.crds[crd].file),
                    ),
                )
            })
            .clone()
    }
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml") {
            out.push(path);
        }
    }
}

/// A resource's `metadata`: an ObjectMeta, as the API server's own schema
/// declares it (the fields it sets itself included).
fn object_meta() -> Value {
    let strings = json!({ "type": "object", "additionalProperties": { "type": "string" } });
    let objects = json!({ "type": "array", "items": { "type": "object" } });
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["name"],
        "properties": {
            "name": { "type": "string" },
            "generateName": { "type": "string" },
            "namespace": { "type": "string" },
            "labels": strings,
            "annotations": strings,
            "finalizers": { "type": "array", "items": { "type": "string" } },
            "ownerReferences": objects,
            "managedFields": objects,
            "uid": { "type": "string" },
            "resourceVersion": { "type": "string" },
            "generation": { "type": "integer" },
            "creationTimestamp": { "type": ["string", "null"] },
            "deletionTimestamp": { "type": "string" },
            "deletionGracePeriodSeconds": { "type": "integer" },
            "selfLink": { "type": "string" },
        },
    })
}

/// The JSON Schema of a CRD version's `openAPIV3Schema`, at the root of a
/// resource.
pub(crate) fn root(schema: &Value) -> Value {
    let mut out = structural(schema, false);
    let properties = out
        .as_object_mut()
        .unwrap()
        .entry("properties")
        .or_insert_with(|| json!({}));
    properties["metadata"] = object_meta();
    properties["apiVersion"] = json!({ "type": "string" });
    properties["kind"] = json!({ "type": "string" });
    out
}

/// The JSON Schema of one structural schema node; `logic` inside
/// `allOf`/`anyOf`/`oneOf`/`not`, whose branches only validate values and
/// declare no fields of their own.
pub(crate) fn structural(schema: &Value, logic: bool) -> Value {
    let Some(node) = schema.as_object() else {
        return schema.clone();
    };
    let flag = |key: &str| node.get(key) == Some(&Value::Bool(true));
    let mut out = Map::new();
    for (key, value) in node {
        let converted = match key.as_str() {
            "properties" => Value::Object(
                value
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(k, v)| (k.clone(), structural(v, logic)))
                    .collect(),
            ),
            "items" | "additionalProperties" if value.is_object() => structural(value, logic),
            "allOf" | "anyOf" | "oneOf" => Value::Array(
                value
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|v| structural(v, true))
                    .collect(),
            ),
            "not" => structural(value, true),
            "description" | "nullable" | "example" | "default" => continue,
            k if k.starts_with("x-kubernetes-") => continue,
            _ => value.clone(),
        };
        out.insert(key.clone(), converted);
    }
    if flag("x-kubernetes-int-or-string") {
        out.remove("type");
        if !out.contains_key("anyOf") {
            out.insert(
                "anyOf".into(),
                json!([{ "type": "integer" }, { "type": "string" }]),
            );
        }
    }
    if flag("nullable") {
        if let Some(kind) = out.get("type").cloned() {
            out.insert("type".into(), json!([kind, "null"]));
        }
        if let Some(Value::Array(values)) = out.get_mut("enum") {
            values.push(Value::Null);
        }
    }
    let preserves = flag("x-kubernetes-preserve-unknown-fields");
    if flag("x-kubernetes-embedded-resource") && !preserves {
        let properties = out
            .entry("properties")
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .unwrap();
        for key in ["apiVersion", "kind"] {
            properties
                .entry(key)
                .or_insert_with(|| json!({ "type": "string" }));
        }
        properties
            .entry("metadata")
            .or_insert_with(|| json!({ "type": "object" }));
    }
    let object = out.get("type") == Some(&json!("object")) || out.contains_key("properties");
    if object && !logic && !preserves && !out.contains_key("additionalProperties") {
        out.insert("additionalProperties".into(), Value::Bool(false));
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(schema: Value, instance: Value) -> bool {
        jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .build(&root(&schema))
            .unwrap()
            .is_valid(&instance)
    }

    fn cr(spec: Value) -> Value {
        json!({ "apiVersion": "x.io/v1", "kind": "X", "metadata": { "name": "a" }, "spec": spec })
    }

    #[test]
    fn unknown_fields_are_refused_unless_preserved() {
        let schema = json!({ "type": "object", "properties": { "spec": {
            "type": "object",
            "properties": {
                "known": { "type": "string" },
                "free": { "type": "object", "x-kubernetes-preserve-unknown-fields": true },
                "empty": { "type": "object" },
            },
        } } });
        assert!(check(
            schema.clone(),
            cr(json!({ "known": "a", "free": { "any": 1 } }))
        ));
        assert!(!check(schema.clone(), cr(json!({ "unknown": "a" }))));
        assert!(!check(schema.clone(), cr(json!({ "empty": { "a": 1 } }))));
        let mut bad_meta = cr(json!({}));
        bad_meta["metadata"]["nme"] = json!("a");
        assert!(!check(schema, bad_meta));
    }

    #[test]
    fn int_or_string_and_nullable() {
        let schema = json!({ "type": "object", "properties": { "spec": {
            "type": "object",
            "properties": {
                "port": { "x-kubernetes-int-or-string": true },
                "name": { "type": "string", "nullable": true },
                "size": { "type": "string" },
            },
        } } });
        assert!(check(schema.clone(), cr(json!({ "port": 80 }))));
        assert!(check(schema.clone(), cr(json!({ "port": "http" }))));
        assert!(!check(schema.clone(), cr(json!({ "port": true }))));
        assert!(check(schema.clone(), cr(json!({ "name": null }))));
        assert!(!check(schema, cr(json!({ "size": null }))));
    }

    #[test]
    fn value_validations_declare_no_fields() {
        let schema = json!({ "type": "object", "properties": { "spec": {
            "type": "object",
            "properties": { "a": { "type": "string" }, "b": { "type": "string" } },
            "oneOf": [{ "required": ["a"] }, { "required": ["b"], "properties": { "b": { "minLength": 2 } } }],
        } } });
        assert!(check(schema.clone(), cr(json!({ "a": "x" }))));
        assert!(check(schema.clone(), cr(json!({ "b": "xy" }))));
        assert!(!check(schema, cr(json!({ "a": "x", "b": "xy" }))));
    }

    #[test]
    fn the_served_version_must_match() {
        let crds = Crds::load(&testdata());
        let kafka = |version: &str| {
            json!({ "apiVersion": format!("kafka.strimzi.io/{version}"), "kind": "KafkaTopic",
                "metadata": { "name": "t" }, "spec": { "partitions": 1 } })
        };
        assert_eq!(crds.validate(&kafka("v1"), Some("1.2")), Ok(()));
        assert!(matches!(
            crds.validate(&kafka("v1beta2"), Some("1.2")),
            Err(Refusal::Version(_))
        ));
        assert!(matches!(
            crds.validate(&kafka("v1beta2"), Some("0.51")),
            Err(Refusal::Version(m)) if m.contains("deprecates")
        ));
        assert!(matches!(
            crds.validate(&kafka("v1"), None),
            Err(Refusal::NoRelease(_))
        ));
        let mut unknown = kafka("v1");
        unknown["spec"]["partitons"] = json!(1);
        assert!(matches!(
            crds.validate(&unknown, Some("0.51")),
            Err(Refusal::Schema(p)) if p.iter().any(|p| p.contains("partitons"))
        ));
        let nothing = json!({ "apiVersion": "x.io/v1", "kind": "X", "metadata": { "name": "a" } });
        assert_eq!(crds.validate(&nothing, None), Err(Refusal::NoDefinition));
    }
}
