//! The blueprint catalog: named recipes for infrastructure (`redis`,
//! `postgresql`, `kafka`…) that a service selects with `blueprint:` and tunes
//! with a few typed keys (`mode`, `version`, `databases`, `topics`,
//! `shards`, `settings`, `options`).
//!
//! Each blueprint is a plug-in: a type implementing the model's
//! [`Blueprint`] trait, in a file of its own, listed once in [`BLUEPRINTS`].
//! It sits above the model and the render stage and uses both; they call it
//! only through the trait. A blueprint does three things, each in one place:
//!
//! 1. **Fill in the service** ([`Blueprint::recipe`]): the fields the service
//!    does not set, written as the same YAML a user would write (image, ports,
//!    storage, probes, security, resources, args, env, config files). They are
//!    decoded by the spec decoder, so they are checked like a user's fields,
//!    and the user's own fields always win.
//! 2. **Supply what is not a service field** ([`Supplied`]): exports for
//!    `${service.field}` references, credentials, sidecars, scratch
//!    directories, member groups for NetworkPolicies.
//! 3. **Render extra objects** ([`Blueprint::objects`]): a Sentinel
//!    StatefulSet, a CloudNativePG `Cluster`, Strimzi resources, RBAC…
//!
//! A mode that renders an operator's custom resource names the operator; the
//! platform declares it under `operators:`.
//!
//! [`Supplied`]: crate::model::Supplied

mod database;
mod recipe;

mod alertmanager;
mod clickhouse;
mod consul;
mod edge;
mod elasticsearch;
mod etcd;
mod grafana;
mod jaeger;
mod kafka;
mod keycloak;
mod kong;
mod kube_state_metrics;
mod loki;
mod milvus;
mod minio;
mod mosquitto;
mod mysql;
mod nacos;
mod nats;
mod neo4j;
mod node_exporter;
mod postgresql;
mod prometheus;
mod qdrant;
mod ray;
mod redis;
mod vault;
mod weaviate;

pub mod docs;

use crate::model::{Blueprint, Catalog};

/// Every blueprint built into this release, in the order docs list them.
pub static BLUEPRINTS: &[&dyn Blueprint] = &[
    &consul::Consul,
    &redis::Redis,
    &postgresql::PostgreSQL,
    &mysql::MySQL,
    &kafka::Kafka,
    &minio::MinIO,
    &nats::Nats,
    &mosquitto::Mosquitto,
    &qdrant::Qdrant,
    &neo4j::Neo4j,
    &milvus::Milvus,
    &weaviate::Weaviate,
    &elasticsearch::Elasticsearch,
    &clickhouse::ClickHouse,
    &etcd::Etcd,
    &nacos::Nacos,
    &loki::Loki,
    &grafana::Grafana,
    &prometheus::Prometheus,
    &alertmanager::Alertmanager,
    &node_exporter::NodeExporter,
    &kube_state_metrics::KubeStateMetrics,
    &jaeger::Jaeger,
    &keycloak::Keycloak,
    &vault::Vault,
    &ray::Ray,
    &kong::Kong,
    &edge::OpenResty,
    &edge::Nginx,
];

/// The catalog of [`BLUEPRINTS`].
pub const fn catalog() -> Catalog {
    Catalog::new(BLUEPRINTS)
}

#[cfg(test)]
mod tests;
