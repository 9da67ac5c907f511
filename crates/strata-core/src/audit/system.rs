//! What software a service runs, judged from its blueprint or its image's
//! name: the checks of one store (Redis, PostgreSQL, SQL servers) ask here,
//! and those of every store its blueprint keeps data in.

use crate::image::ImageRef;
use crate::model::{Service, Tuning};

/// A service's system: its blueprint, else its image's last name
/// (`redis` for `docker.io/library/redis:7`).
fn system(service: &Service) -> &str {
    if let Some(blueprint) = &service.rare.blueprint {
        return blueprint;
    }
    ImageRef::parse(service.image.as_deref().unwrap_or("")).base_name()
}

/// Redis, or a server that speaks its protocol.
pub(super) fn is_redis(service: &Service) -> bool {
    matches!(
        system(service),
        "redis" | "redis-stack" | "valkey" | "keydb"
    )
}

/// A SQL database server.
pub(super) fn is_sql(service: &Service) -> bool {
    matches!(
        system(service),
        "postgres" | "postgresql" | "mysql" | "mariadb" | "percona"
    )
}

/// PostgreSQL.
pub(super) fn is_postgres(service: &Service) -> bool {
    matches!(system(service), "postgres" | "postgresql")
}

/// The blueprint of a service whose system keeps data: its recipe gives it
/// a volume (whether or not the service keeps it).
pub(super) fn store(service: &Service) -> Option<&Tuning> {
    service
        .tuning
        .as_deref()
        .filter(|t| t.blueprint.recipe(t).spec.get("storage").is_some())
}
