//! Revisions: what each successful apply put in the cluster, kept in the
//! cluster itself as Secrets of type `strata.dev/revision` named
//! `strata.PLATFORM.ENV.vN`, holding the rendered set as gzip-compressed
//! JSON. Prune compares against the latest; rollback re-applies one.

use std::io::{Read, Write};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use strata_core::kind;
use strata_core::render::{GeneratedSecret, Object, RenderedSet};

use crate::cluster::{Cluster, ClusterError, ObjectId};
use crate::steps::Selection;

/// The Secret type of a revision.
pub const REVISION_TYPE: &str = "strata.dev/revision";
/// Label: the platform.
pub const PLATFORM_LABEL: &str = "strata.dev/platform";
/// Label: the environment (`base` without one).
pub const ENVIRONMENT_LABEL: &str = "strata.dev/environment";
/// Label: the revision number.
pub const REVISION_LABEL: &str = "strata.dev/revision";
/// Revisions kept per platform and environment; older ones are deleted.
pub const HISTORY_LIMIT: usize = 10;

/// One platform in one environment, and where its revisions live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    /// The platform's name.
    pub platform: String,
    /// The environment, if any.
    pub environment: Option<String>,
    /// The namespace holding the revisions.
    pub namespace: String,
}

impl Release {
    /// The release of `set`. Revisions live in the shared namespace when the
    /// platform renders it, otherwise in its first namespace.
    pub fn new(set: &RenderedSet, shared_namespace: &str) -> Self {
        let rendered: Vec<&str> = set
            .objects
            .iter()
            .filter(|o| o.kind() == kind::NAMESPACE)
            .map(Object::name)
            .collect();
        let namespace = if rendered.contains(&shared_namespace) || rendered.is_empty() {
            shared_namespace
        } else {
            rendered[0]
        };
        Release {
            platform: set.platform.clone(),
            environment: set.environment.clone(),
            namespace: namespace.to_string(),
        }
    }

    /// The environment's label value: its name, or `base`.
    pub fn environment_label(&self) -> &str {
        self.environment.as_deref().unwrap_or("base")
    }

    /// The label selector of this release's revisions: its platform and
    /// environment, and a revision number.
    pub fn selector(&self) -> String {
        format!(
            "{PLATFORM_LABEL}={},{ENVIRONMENT_LABEL}={},{REVISION_LABEL}",
            self.platform,
            self.environment_label()
        )
    }

    /// The Secret holding revision `number`.
    pub fn secret_id(&self, number: u32) -> ObjectId {
        ObjectId::secret(
            &self.namespace,
            &format!(
                "strata.{}.{}.v{number}",
                self.platform,
                self.environment_label()
            ),
        )
    }
}

/// One recorded apply.
#[derive(Debug, Clone, PartialEq)]
pub struct Revision {
    /// 1, 2, 3…
    pub number: u32,
    /// Why it was recorded: `apply`, `rollback to 2`.
    pub cause: String,
    /// When the Secret was created (RFC 3339), as the server says.
    pub created: String,
    /// The `--only` / `--skip` of that apply.
    pub selection: Selection,
    /// What was rendered.
    pub set: RenderedSet,
    /// How each object applied looked live when it was recorded (see
    /// [`stamp`]); empty for revisions recorded before stamps were kept.
    pub stamps: Stamps,
}

/// How objects looked live, by id: what a later apply compares with the
/// cluster to leave alone what nobody changed.
pub type Stamps = std::collections::BTreeMap<ObjectId, String>;

/// What tells whether a live object changed: its uid (deleted and made
/// again is a change) with its generation, which moves with every change
/// of spec and not with status; for kinds without a generation (ConfigMaps,
/// Secrets, Services…), its resourceVersion, which moves with any change.
pub fn stamp(live: &Value) -> Option<String> {
    let metadata = &live["metadata"];
    let uid = metadata["uid"].as_str()?;
    match metadata["generation"].as_i64() {
        Some(generation) if generation > 0 => Some(format!("{uid}/g{generation}")),
        _ => Some(format!("{uid}/rv{}", metadata["resourceVersion"].as_str()?)),
    }
}

/// Reading or writing revisions failed.
#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    /// The cluster refused or did not answer.
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    /// A revision Secret cannot be read back.
    #[error(
        "revision Secret `{name}` is damaged: {why}; delete it or roll back to another revision"
    )]
    Damaged {
        /// The Secret's name.
        name: String,
        /// What is wrong.
        why: String,
    },
    /// Another apply recorded the same revision number at the same time.
    #[error(
        "revision {number} of `{platform}` was recorded by another apply running at the same time; run again once it is done"
    )]
    Race {
        /// The platform.
        platform: String,
        /// The number both wanted.
        number: u32,
    },
    /// No such revision.
    #[error(
        "revision {number} of `{platform}` does not exist; `strata history` lists the revisions"
    )]
    Missing {
        /// The platform.
        platform: String,
        /// The number asked for.
        number: u32,
    },
}

#[derive(Serialize, Deserialize)]
struct Payload {
    platform: String,
    environment: Option<String>,
    revision: u32,
    cause: String,
    only: Vec<String>,
    skip: Vec<String>,
    objects: Vec<StoredObject>,
    generated_secrets: Vec<StoredSecret>,
}

#[derive(Serialize, Deserialize)]
struct StoredObject {
    wave: usize,
    tier: Option<String>,
    service: Option<String>,
    value: Value,
    /// Its [`stamp`] when recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    live: Option<String>,
}

#[derive(Serialize, Deserialize, PartialEq)]
struct StoredSecret {
    name: String,
    namespaces: Vec<String>,
    keys: Vec<String>,
    /// Absent from revisions recorded before Secrets had types here.
    #[serde(default = "opaque")]
    secret_type: String,
}

fn opaque() -> String {
    "Opaque".into()
}

impl From<&GeneratedSecret> for StoredSecret {
    fn from(s: &GeneratedSecret) -> Self {
        StoredSecret {
            name: s.name.clone(),
            namespaces: s.namespaces.clone(),
            keys: s.keys.clone(),
            secret_type: s.secret_type.clone(),
        }
    }
}

impl From<StoredSecret> for GeneratedSecret {
    fn from(s: StoredSecret) -> Self {
        GeneratedSecret {
            name: s.name,
            namespaces: s.namespaces,
            keys: s.keys,
            secret_type: s.secret_type,
        }
    }
}

/// The Secret recording `set` as revision `number` of `release`, with the
/// `stamps` of its objects.
pub fn encode(
    release: &Release,
    set: &RenderedSet,
    stamps: &Stamps,
    selection: &Selection,
    number: u32,
    cause: &str,
) -> Value {
    let payload = Payload {
        platform: set.platform.clone(),
        environment: set.environment.clone(),
        revision: number,
        cause: cause.to_string(),
        only: selection.only.clone(),
        skip: selection.skip.clone(),
        objects: set
            .objects
            .iter()
            .map(|o| StoredObject {
                wave: o.wave,
                tier: o.tier.clone(),
                service: o.service.clone(),
                value: o.value.clone(),
                live: stamps.get(&ObjectId::of(&o.value)).cloned(),
            })
            .collect(),
        generated_secrets: set
            .generated_secrets
            .iter()
            .map(StoredSecret::from)
            .collect(),
    };
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    // Writing to a Vec cannot fail.
    let _ = gz.write_all(&serde_json::to_vec(&payload).unwrap_or_default());
    let bytes = gz.finish().unwrap_or_default();
    let id = release.secret_id(number);
    json!({
        "apiVersion": "v1",
        "kind": kind::SECRET,
        "metadata": {
            "name": id.name,
            "namespace": id.namespace,
            "labels": {
                PLATFORM_LABEL: release.platform,
                ENVIRONMENT_LABEL: release.environment_label(),
                REVISION_LABEL: number.to_string(),
                "app.kubernetes.io/managed-by": "strata",
            },
            "annotations": { "strata.dev/cause": cause },
        },
        "type": REVISION_TYPE,
        "data": { "release": STANDARD.encode(bytes) },
    })
}

/// Reads a revision Secret back.
pub fn decode(secret: &Value) -> Result<Revision, InventoryError> {
    let name = secret["metadata"]["name"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let damaged = |why: String| InventoryError::Damaged {
        name: name.clone(),
        why,
    };
    let text = payload_text(secret)?;
    let mut payload: Payload =
        serde_json::from_slice(&text).map_err(|e| damaged(format!("not a revision: {e}")))?;
    let stamps = payload
        .objects
        .iter_mut()
        .filter_map(|o| Some((ObjectId::of(&o.value), o.live.take()?)))
        .collect();
    Ok(Revision {
        stamps,
        number: payload.revision,
        cause: payload.cause,
        created: secret["metadata"]["creationTimestamp"]
            .as_str()
            .unwrap_or("")
            .to_string(),
        selection: Selection {
            only: payload.only,
            skip: payload.skip,
        },
        set: RenderedSet {
            platform: payload.platform,
            environment: payload.environment,
            objects: payload
                .objects
                .into_iter()
                .map(|o| Object {
                    wave: o.wave,
                    tier: o.tier,
                    service: o.service,
                    value: o.value,
                })
                .collect(),
            generated_secrets: payload
                .generated_secrets
                .into_iter()
                .map(GeneratedSecret::from)
                .collect(),
            // Not recorded: a rollback re-applies pods whose pull secrets
            // were there when the revision was applied.
            pull_secrets: Vec::new(),
        },
    })
}

/// The JSON a revision Secret holds, unzipped.
fn payload_text(secret: &Value) -> Result<Vec<u8>, InventoryError> {
    let damaged = |why: String| InventoryError::Damaged {
        name: secret["metadata"]["name"]
            .as_str()
            .unwrap_or("")
            .to_string(),
        why,
    };
    let data = secret["data"]["release"]
        .as_str()
        .ok_or_else(|| damaged("no `release` key".into()))?;
    let bytes = STANDARD
        .decode(data)
        .map_err(|e| damaged(format!("not base64: {e}")))?;
    let mut text = Vec::new();
    GzDecoder::new(bytes.as_slice())
        .read_to_end(&mut text)
        .map_err(|e| damaged(format!("not gzip: {e}")))?;
    Ok(text)
}

/// A revision as [`Payload`] holds it, each object left as the JSON text
/// it was recorded as: read without building any object, to compare with
/// a render.
#[derive(Deserialize)]
struct RawPayload<'a> {
    platform: String,
    environment: Option<String>,
    revision: u32,
    only: Vec<String>,
    skip: Vec<String>,
    #[serde(borrow)]
    objects: Vec<RawObject<'a>>,
    generated_secrets: Vec<StoredSecret>,
}

#[derive(Deserialize)]
struct RawObject<'a> {
    wave: usize,
    tier: Option<String>,
    service: Option<String>,
    #[serde(borrow)]
    value: &'a serde_json::value::RawValue,
    #[serde(default)]
    live: Option<String>,
}

/// The latest revision of a release, as an apply of `set` needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct Latest {
    /// Its number.
    pub number: u32,
    /// The `--only` / `--skip` of that apply.
    pub selection: Selection,
    /// How each object looked live when it was recorded.
    pub stamps: Stamps,
    /// What it rendered; `None` when exactly `set`, object for object.
    pub set: Option<RenderedSet>,
}

impl Latest {
    /// What it rendered: its own set, or `set` when it rendered the same.
    pub fn set_or<'a>(&'a self, set: &'a RenderedSet) -> &'a RenderedSet {
        self.set.as_ref().unwrap_or(set)
    }
}

/// The latest revision, if any, compared with `set`: when it recorded
/// exactly `set` (object for object as JSON text, the same generated
/// secrets), only its stamps and selection are read, not its objects,
/// which the caller has already; otherwise it is read whole.
pub async fn latest_against(
    cluster: &Cluster,
    release: &Release,
    set: &RenderedSet,
) -> Result<Option<Latest>, InventoryError> {
    let Some(&number) = numbers(cluster, release).await?.last() else {
        return Ok(None);
    };
    against(&secret(cluster, release, number).await?, set).map(Some)
}

/// A revision Secret read as [`latest_against`] reads it.
fn against(secret: &Value, set: &RenderedSet) -> Result<Latest, InventoryError> {
    let text = payload_text(secret)?;
    if let Ok(raw) = serde_json::from_slice::<RawPayload>(&text)
        && let Some(stamps) = same_render(&raw, set)
    {
        return Ok(Latest {
            number: raw.revision,
            selection: Selection {
                only: raw.only,
                skip: raw.skip,
            },
            stamps,
            set: None,
        });
    }
    let revision = decode(secret)?;
    Ok(Latest {
        number: revision.number,
        selection: revision.selection,
        stamps: revision.stamps,
        set: Some(revision.set),
    })
}

/// The stamps `raw` recorded when it rendered exactly `set`: each object
/// with its wave, tier and service, and its value written as JSON as the
/// revision wrote it.
fn same_render(raw: &RawPayload, set: &RenderedSet) -> Option<Stamps> {
    let stored: Vec<StoredSecret> = set
        .generated_secrets
        .iter()
        .map(StoredSecret::from)
        .collect();
    let same_secrets = raw.generated_secrets == stored;
    if raw.platform != set.platform
        || raw.environment != set.environment
        || raw.objects.len() != set.objects.len()
        || !same_secrets
    {
        return None;
    }
    let mut text = Vec::new();
    let mut stamps = Stamps::new();
    for (recorded, object) in raw.objects.iter().zip(&set.objects) {
        text.clear();
        // Writing to a Vec cannot fail.
        let _ = serde_json::to_writer(&mut text, &object.value);
        if recorded.wave != object.wave
            || recorded.tier != object.tier
            || recorded.service != object.service
            || recorded.value.get().as_bytes() != text.as_slice()
        {
            return None;
        }
        if let Some(live) = &recorded.live {
            stamps.insert(ObjectId::of(&object.value), live.clone());
        }
    }
    Some(stamps)
}

/// Every revision of `release`, oldest first.
pub async fn list(cluster: &Cluster, release: &Release) -> Result<Vec<Revision>, InventoryError> {
    let secrets = cluster
        .list("v1", kind::SECRET, &release.namespace, &release.selector())
        .await?;
    let mut revisions = secrets
        .iter()
        .filter(|s| s["type"] == REVISION_TYPE)
        .map(decode)
        .collect::<Result<Vec<_>, _>>()?;
    revisions.sort_by_key(|r| r.number);
    Ok(revisions)
}

/// The numbers of the revisions of `release`, oldest first, from the
/// labels of their Secrets: one list of metadata only, so that however
/// large the revisions, none is read.
pub async fn numbers(cluster: &Cluster, release: &Release) -> Result<Vec<u32>, InventoryError> {
    let secrets = cluster
        .list_metadata("v1", kind::SECRET, &release.namespace, &release.selector())
        .await?;
    let mut numbers: Vec<u32> = secrets
        .iter()
        .filter_map(number_of)
        // Named as this release names its revisions: not another Secret
        // that happens to carry the labels.
        .filter(|(number, name)| *name == release.secret_id(*number).name)
        .map(|(number, _)| number)
        .collect();
    numbers.sort_unstable();
    Ok(numbers)
}

/// The revision number a Secret's labels give, with its name.
fn number_of(secret: &Value) -> Option<(u32, &str)> {
    let metadata = &secret["metadata"];
    let number = metadata["labels"][REVISION_LABEL].as_str()?.parse().ok()?;
    Some((number, metadata["name"].as_str()?))
}

/// The latest revision, if any: its number from [`numbers`], then only its
/// Secret read.
pub async fn latest(
    cluster: &Cluster,
    release: &Release,
) -> Result<Option<Revision>, InventoryError> {
    match numbers(cluster, release).await?.last() {
        Some(&number) => load(cluster, release, number).await.map(Some),
        None => Ok(None),
    }
}

/// One revision by number.
pub async fn load(
    cluster: &Cluster,
    release: &Release,
    number: u32,
) -> Result<Revision, InventoryError> {
    decode(&secret(cluster, release, number).await?)
}

/// The Secret of revision `number`, which must be there.
async fn secret(
    cluster: &Cluster,
    release: &Release,
    number: u32,
) -> Result<Value, InventoryError> {
    cluster
        .get(&release.secret_id(number))
        .await?
        .ok_or_else(|| InventoryError::Missing {
            platform: release.platform.clone(),
            number,
        })
}

/// Records `set` as the next revision, with the `stamps` of its objects,
/// and deletes revisions beyond [`HISTORY_LIMIT`]; returns its number.
pub async fn record(
    cluster: &Cluster,
    release: &Release,
    set: &RenderedSet,
    stamps: &Stamps,
    selection: &Selection,
    cause: &str,
) -> Result<u32, InventoryError> {
    let existing = numbers(cluster, release).await?;
    let number = existing.last().map_or(1, |n| n + 1);
    let secret = encode(release, set, stamps, selection, number, cause);
    if !cluster.create(&secret, false).await? {
        return Err(InventoryError::Race {
            platform: release.platform.clone(),
            number,
        });
    }
    let keep_from = (existing.len() + 1).saturating_sub(HISTORY_LIMIT);
    for old in existing.iter().take(keep_from) {
        cluster.delete(&release.secret_id(*old)).await?;
    }
    Ok(number)
}

/// The cluster-scoped objects (StorageClasses, ClusterRoles, CRDs…) the
/// latest revision of every other release in the cluster holds, each with
/// the releases holding it (`platform `knowton``, with its environment
/// when it has one). Namespaces are left out: what they hold decides.
pub async fn shared_holders(
    cluster: &Cluster,
    platform: &str,
    environment: Option<&str>,
) -> Result<std::collections::BTreeMap<ObjectId, Vec<String>>, InventoryError> {
    // Metadata only: the labels say which is the latest revision of each
    // release, and only those are read.
    let secrets = cluster
        .list_metadata(
            "v1",
            kind::SECRET,
            "",
            &format!("{PLATFORM_LABEL},{REVISION_LABEL}"),
        )
        .await?;
    // The latest revision of each release: (platform, environment) → its
    // number and Secret.
    let mut latest: std::collections::BTreeMap<(String, String), (u32, ObjectId)> =
        std::collections::BTreeMap::new();
    for secret in &secrets {
        let labels = &secret["metadata"]["labels"];
        let release = (
            labels[PLATFORM_LABEL].as_str().unwrap_or("").to_string(),
            labels[ENVIRONMENT_LABEL]
                .as_str()
                .unwrap_or("base")
                .to_string(),
        );
        let Some((number, name)) = number_of(secret) else {
            continue;
        };
        if latest.get(&release).is_none_or(|(n, _)| *n < number) {
            let namespace = secret["metadata"]["namespace"].as_str().unwrap_or("");
            latest.insert(release, (number, ObjectId::secret(namespace, name)));
        }
    }
    let me = (
        platform.to_string(),
        environment.unwrap_or("base").to_string(),
    );
    let mut holders: std::collections::BTreeMap<ObjectId, Vec<String>> =
        std::collections::BTreeMap::new();
    for ((other, env), (number, id)) in &latest {
        if (other, env) == (&me.0, &me.1) {
            continue;
        }
        // Gone since the list, or a Secret of another type with the labels.
        let Some(secret) = cluster.get(id).await? else {
            continue;
        };
        if secret["type"] != REVISION_TYPE {
            continue;
        }
        let revision = decode(&secret)?;
        let who = if env == "base" {
            format!("platform `{other}` (revision {number})")
        } else {
            format!("platform `{other}` in `{env}` (revision {number})")
        };
        for object in revision
            .set
            .objects
            .iter()
            .filter(|o| o.namespace().is_empty() && o.kind() != kind::NAMESPACE)
        {
            holders
                .entry(ObjectId::of(&object.value))
                .or_default()
                .push(who.clone());
        }
    }
    Ok(holders)
}

/// Deletes every revision of `release` (after `destroy`).
pub async fn forget(cluster: &Cluster, release: &Release) -> Result<usize, InventoryError> {
    let numbers = numbers(cluster, release).await?;
    for number in &numbers {
        cluster.delete(&release.secret_id(*number)).await?;
    }
    Ok(numbers.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::steps::tests::shop;

    #[test]
    fn a_revision_round_trips_through_its_secret() {
        let mut set = shop();
        set.generated_secrets.push(GeneratedSecret {
            name: "db".into(),
            namespaces: vec!["data".into(), "apps".into()],
            keys: vec!["password".into()],
            secret_type: "kubernetes.io/basic-auth".into(),
        });
        let release = Release::new(&set, "apps");
        let selection = Selection {
            only: vec![],
            skip: vec!["operators".into()],
        };
        let id = ObjectId::of(&set.objects[0].value);
        let stamps = Stamps::from([(id, "uid-1/g2".to_string())]);
        let mut secret = encode(&release, &set, &stamps, &selection, 3, "apply");
        assert_eq!(secret["metadata"]["name"], "strata.shop.dev.v3");
        assert_eq!(secret["metadata"]["namespace"], "apps");
        assert_eq!(secret["type"], REVISION_TYPE);
        assert_eq!(secret["metadata"]["labels"][REVISION_LABEL], "3");
        secret["metadata"]["creationTimestamp"] = json!("2026-01-01T00:00:00Z");
        let revision = decode(&secret).unwrap();
        assert_eq!(revision.number, 3);
        assert_eq!(revision.set, set);
        assert_eq!(revision.stamps, stamps);
        assert_eq!(revision.selection, selection);
        assert_eq!(revision.created, "2026-01-01T00:00:00Z");
    }

    #[test]
    fn a_revision_of_the_same_render_is_read_without_its_objects() {
        let mut set = shop();
        set.generated_secrets.push(GeneratedSecret {
            name: "db".into(),
            namespaces: vec!["data".into()],
            keys: vec!["password".into()],
            secret_type: "Opaque".into(),
        });
        let release = Release::new(&set, "apps");
        let selection = Selection {
            only: vec!["apps".into()],
            skip: vec![],
        };
        let stamps: Stamps = set
            .objects
            .iter()
            .enumerate()
            .map(|(i, o)| (ObjectId::of(&o.value), format!("uid-{i}/g1")))
            .collect();
        let secret = encode(&release, &set, &stamps, &selection, 4, "apply");
        let same = against(&secret, &set).unwrap();
        assert_eq!(
            same,
            Latest {
                number: 4,
                selection: selection.clone(),
                stamps: stamps.clone(),
                set: None,
            }
        );
        assert!(std::ptr::eq(same.set_or(&set), &raw const set));
        // Anything rendered otherwise: the revision is read whole, and
        // says the same as `decode`.
        let whole = decode(&secret).unwrap();
        let changes: [fn(&mut RenderedSet); 6] = [
            |s| s.objects[1].value["metadata"]["labels"] = json!({"edited": "yes"}),
            |s| s.objects[1].wave += 1,
            |s| s.objects[1].service = Some("other".into()),
            |s| {
                s.objects.pop();
            },
            |s| s.generated_secrets[0].keys.push("user".into()),
            |s| s.environment = Some("prod".into()),
        ];
        for (i, change) in changes.iter().enumerate() {
            let mut other = set.clone();
            change(&mut other);
            let read = against(&secret, &other).unwrap();
            assert_eq!(read.set.as_ref(), Some(&whole.set), "change {i}");
            assert_eq!(read.stamps, stamps, "change {i}");
            assert_eq!(
                (read.number, &read.selection),
                (4, &selection),
                "change {i}"
            );
        }
        // The same objects with their keys in another order are a change
        // of text only: read whole, to be compared as values.
        let mut reordered = set.clone();
        let value = &mut reordered.objects[0].value;
        let first = value.as_object().unwrap().keys().next().unwrap().clone();
        let moved = value.as_object_mut().unwrap().shift_remove(&first).unwrap();
        value[first.as_str()] = moved;
        assert_eq!(reordered, set);
        assert!(against(&secret, &reordered).unwrap().set.is_some());
    }

    #[test]
    fn revisions_are_compressed() {
        let set = shop();
        let secret = encode(
            &Release::new(&set, "apps"),
            &set,
            &Stamps::new(),
            &Selection::default(),
            1,
            "apply",
        );
        let stored = secret["data"]["release"].as_str().unwrap().len();
        let plain: usize = set.objects.iter().map(|o| o.value.to_string().len()).sum();
        assert!(stored < plain, "{stored} >= {plain}");
    }

    #[test]
    fn stamps_follow_the_generation_else_the_resource_version() {
        let deployment =
            json!({"metadata": {"uid": "u1", "generation": 3, "resourceVersion": "90"}});
        assert_eq!(stamp(&deployment).as_deref(), Some("u1/g3"));
        let config_map = json!({"metadata": {"uid": "u2", "resourceVersion": "91"}});
        assert_eq!(stamp(&config_map).as_deref(), Some("u2/rv91"));
        assert_eq!(stamp(&json!({"metadata": {}})), None);
    }

    #[test]
    fn a_damaged_revision_is_reported_not_trusted() {
        let secret = json!({"metadata": {"name": "strata.shop.dev.v1"}, "data": {"release": "bm90IGd6aXA="}});
        let err = decode(&secret).unwrap_err();
        assert!(err.to_string().contains("strata.shop.dev.v1"));
        assert!(err.to_string().contains("not gzip"));
    }

    #[test]
    fn revisions_live_in_the_shared_namespace_when_rendered() {
        let set = shop();
        assert_eq!(Release::new(&set, "apps").namespace, "apps");
        assert_eq!(Release::new(&set, "elsewhere").namespace, "data");
        let base = RenderedSet {
            environment: None,
            ..set
        };
        let release = Release::new(&base, "apps");
        assert_eq!(release.secret_id(1).name, "strata.shop.base.v1");
        assert_eq!(
            release.selector(),
            "strata.dev/platform=shop,strata.dev/environment=base,strata.dev/revision"
        );
    }
}
