//! What a blueprint creates at the spec's word: databases, users, topics.

use super::error;
use crate::diag::Diagnostic;
use crate::model::tuning::{Database, Topic, User, is_sql_identifier};
use crate::source::SourceFile;
use crate::spec::Spanned;
use crate::spec::service::{DatabaseSpec, TopicSpec};
use std::collections::BTreeMap;

pub(super) fn databases(
    list: Option<&Spanned<Vec<Spanned<DatabaseSpec>>>>,
    file: &SourceFile,
    errors: &mut Vec<Diagnostic>,
) -> Vec<Database> {
    let mut out: Vec<Database> = Vec::new();
    for item in list.iter().flat_map(|l| &l.value) {
        let (name, owner, schemas) = match &item.value {
            DatabaseSpec::Name(name) => (name.clone(), None, Vec::new()),
            DatabaseSpec::Detail(d) => (
                d.name.value.clone(),
                d.owner.as_ref().map(|o| o.value.clone()),
                d.schemas
                    .iter()
                    .flat_map(|s| &s.value)
                    .map(|s| s.value.clone())
                    .collect(),
            ),
        };
        let words = std::iter::once(&name)
            .chain(owner.iter())
            .chain(schemas.iter());
        if let Some(bad) = words.into_iter().find(|w| !is_sql_identifier(w)) {
            errors.push(
                error(
                    file,
                    "invalid-option",
                    format!("`{bad}` is not a plain SQL identifier"),
                    item.span,
                    "not an identifier",
                )
                .help("use lowercase letters, digits and `_`, starting with a letter: `nova_core`"),
            );
            continue;
        }
        if out.iter().any(|d| d.name == name) {
            errors.push(
                error(
                    file,
                    "invalid-option",
                    format!("the database `{name}` is listed twice"),
                    item.span,
                    "listed again",
                )
                .help("list each database once"),
            );
            continue;
        }
        out.push(Database {
            owner: owner.unwrap_or_else(|| name.clone()),
            name,
            schemas,
            span: item.span,
        });
    }
    out
}

/// The `users:` of an object store: each an access key MinIO accepts, not
/// the name of the server's own credentials, with buckets the store creates.
pub(super) fn users(
    map: Option<&Spanned<crate::spec::service::UsersSpec>>,
    options: &BTreeMap<String, String>,
    file: &SourceFile,
    errors: &mut Vec<Diagnostic>,
) -> Vec<User> {
    let created: Vec<&str> = options
        .get("buckets")
        .map(|b| b.split(',').map(str::trim).collect())
        .unwrap_or_default();
    let mut out = Vec::new();
    for (name, buckets) in map.iter().flat_map(|m| m.value.iter()) {
        let user = &name.value.0;
        if user.len() < 3 || user == "credentials" {
            errors.push(
                error(
                    file,
                    "invalid-option",
                    format!("`{user}` cannot name an object-store user"),
                    name.span,
                    "not a user name",
                )
                .help("MinIO access keys have 3 characters or more, and `credentials` names the root login's Secret: choose another name, such as the service's"),
            );
            continue;
        }
        if buckets.value.is_empty() {
            errors.push(
                error(
                    file,
                    "invalid-option",
                    format!("the user `{user}` may use no bucket"),
                    buckets.span,
                    "no buckets",
                )
                .help("list the buckets it reads and writes: `[models]`"),
            );
            continue;
        }
        if let Some(bad) = buckets
            .value
            .iter()
            .find(|b| !created.contains(&b.value.as_str()))
        {
            errors.push(
                error(
                    file,
                    "invalid-option",
                    format!(
                        "the user `{user}` names the bucket `{}`, which `options.buckets` does not create",
                        bad.value
                    ),
                    bad.span,
                    "not created",
                )
                .help(format!(
                    "add `{}` to `options: {{ buckets: ... }}`, or name one of its buckets",
                    bad.value
                )),
            );
            continue;
        }
        out.push(User {
            name: user.clone(),
            buckets: buckets.value.iter().map(|b| b.value.clone()).collect(),
        });
    }
    out
}

pub(super) fn topics(
    list: Option<&Spanned<Vec<Spanned<TopicSpec>>>>,
    brokers: u32,
    file: &SourceFile,
    errors: &mut Vec<Diagnostic>,
) -> Vec<Topic> {
    let mut out: Vec<Topic> = Vec::new();
    for item in list.iter().flat_map(|l| &l.value) {
        let mut topic = Topic {
            name: String::new(),
            partitions: 3,
            replicas: brokers.clamp(1, 3),
            config: BTreeMap::new(),
            span: item.span,
        };
        match &item.value {
            TopicSpec::Name(name) => topic.name.clone_from(name),
            TopicSpec::Detail(d) => {
                topic.name.clone_from(&d.name.value);
                if let Some(p) = &d.partitions {
                    topic.partitions = p.value.max(1);
                }
                if let Some(r) = &d.replicas {
                    topic.replicas = r.value.0.max(1);
                }
                if let Some(retention) = &d.retention {
                    match crate::quantity::period_ms(&retention.value) {
                        Some(ms) => {
                            topic.config.insert("retention.ms".into(), ms.to_string());
                        }
                        None => errors.push(
                            error(file, "invalid-option", format!("`{}` is not a retention period", retention.value), retention.span, "not a period")
                                .help("write a whole number of days, hours or minutes: `7d`, `12h`, `30m`"),
                        ),
                    }
                }
                for (k, v) in d.config.iter().flat_map(|c| c.value.iter()) {
                    topic.config.insert(k.value.clone(), v.value.clone());
                }
            }
        }
        let valid = !topic.name.is_empty()
            && topic.name.len() <= 249
            && topic
                .name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.');
        if !valid {
            errors.push(
                error(
                    file,
                    "invalid-option",
                    format!(
                        "`{}` is not a topic name Kubernetes and Kafka both accept",
                        topic.name
                    ),
                    item.span,
                    "invalid topic name",
                )
                .help("use lowercase letters, digits, `-` and `.`: `nft-minted`"),
            );
            continue;
        }
        if out.iter().any(|t| t.name == topic.name) {
            errors.push(
                error(
                    file,
                    "invalid-option",
                    format!("the topic `{}` is listed twice", topic.name),
                    item.span,
                    "listed again",
                )
                .help("list each topic once"),
            );
            continue;
        }
        out.push(topic);
    }
    out
}
