//! Database isolation: a SQL server whose callers share one owner (and so
//! one another's migrations, locks and load).

use super::system::is_sql;
use super::{Check, callers, per_service};
use crate::finding::{CheckInfo, Priority};
use crate::model::{EnvValue, Platform, Service};

/// Several services on one database.
pub(super) const SHARED_DATABASE: Check = Check {
    info: CheckInfo::new(
        "shared-database",
        Priority::P0,
        "several services share one database server",
        "Without their own database and owner, one service's migration, lock or load is every service's outage.",
        "declare a database with its own owner for each service that calls it (`databases: [{ name, owner }]` on the `postgresql` or `mysql` blueprint), or give each its own server",
    ),
    run: |platform, _| {
        per_service(platform, |id, service| {
            let dependents = callers(platform, id);
            if !is_sql(service) || dependents.len() < 2 {
                return Vec::new();
            }
            // Isolation is traced where callers read an owner's Secret (the
            // only way to its password): callers logging in as one owner
            // share it. Where no caller's login can be seen, it is counted:
            // a blueprint that declares an owner per caller lets each have
            // its own.
            let logins = logins(platform, service, &dependents);
            if !logins.is_empty() {
                return logins
                    .iter()
                    .filter(|(_, users)| users.len() > 1)
                    .map(|(owner, users)| {
                        format!(
                            "`{}` is shared: {} log in as `{owner}`",
                            service.name,
                            users.join(", ")
                        )
                    })
                    .collect();
            }
            let owners = service
                .tuning
                .as_ref()
                .map_or(0, |t| t.database_owners().len());
            if owners >= dependents.len() {
                return Vec::new();
            }
            vec![format!(
                "`{}` is shared by {} service(s) ({}) but declares {owners} database owner(s): {} more needed",
                service.name,
                dependents.len(),
                dependents.join(", "),
                dependents.len() - owners
            )]
        })
    },
};

/// The database owners `callers` of `server` log in as, each with its
/// callers in order: a caller reading the password from an owner's Secret
/// logs in as that owner. Empty when no caller's login can be seen.
fn logins<'a>(
    platform: &Platform,
    server: &Service,
    callers: &[&'a str],
) -> Vec<(String, Vec<&'a str>)> {
    let Some(tuning) = &server.tuning else {
        return Vec::new();
    };
    let mut out: Vec<(String, Vec<&'a str>)> = Vec::new();
    for caller in callers {
        let Some(service) = platform.service(caller) else {
            continue;
        };
        for owner in tuning.database_owners() {
            let secret = crate::model::owner_secret_of(&server.name, &owner);
            let reads = service
                .env
                .iter()
                .any(|v| matches!(&v.value, EnvValue::Secret(r) if r.name == secret));
            if !reads {
                continue;
            }
            match out.iter_mut().find(|(o, _)| *o == owner) {
                Some((_, users)) => users.push(caller),
                None => out.push((owner, vec![caller])),
            }
        }
    }
    out
}
