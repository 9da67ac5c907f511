//! Security and exposure: plain-text secrets, unpinned images, relaxed
//! security contexts, pods their namespace refuses once patched, mounted API tokens, routes without TLS and data
//! stores anyone may log in to.

use super::system::store;
use super::{Check, Problem, per_service};
use crate::finding::{CheckInfo, Priority};
use crate::image::ImageRef;
use crate::model::{EnvValue, FileContent, Profile, ServiceId};
use crate::secret_names::{looks_secret, may_be_secret, secret_arguments, url_with_password};

/// Secrets written in the clear: in env (by the variable's name, or a URL
/// with a password), on a command line, in an inline configuration file, or
/// as a declared Secret's `data`.
pub(super) const SECRET_IN_ENV: Check = Check {
    info: CheckInfo::new(
        "secret-in-env",
        Priority::P0,
        "a secret is written in plain text in the spec",
        "It ends up in Git, in rendered manifests and in every reader's terminal.",
        "declare it under `secrets:` with `generate:` and use `{ secret: NAME, key: KEY }`",
    ),
    run: |platform, _| {
        let mut problems = Vec::new();
        for (i, service) in platform.services.iter().enumerate() {
            let id = ServiceId(i);
            let vars = service
                .env
                .iter()
                .chain(service.added_containers().flat_map(|c| &c.env));
            for var in vars {
                let EnvValue::Literal(value) = &var.value else {
                    continue;
                };
                let message = if looks_secret(&var.name) && may_be_secret(value) {
                    format!("`{}` sets {} in plain text", service.name, var.name)
                } else if url_with_password(value) {
                    format!(
                        "`{}` sets {} to a URL with a password in it",
                        service.name, var.name
                    )
                } else {
                    continue;
                };
                problems.push(Problem::at(id, service, message, var.span));
            }
            let command_lines = std::iter::once([&service.rare.command, &service.rare.args])
                .chain(service.added_containers().map(|c| [&c.command, &c.args]));
            for line in command_lines {
                let line: Vec<String> = line.into_iter().flatten().cloned().collect();
                for flag in secret_arguments(&line) {
                    problems.push(Problem::of(
                        id,
                        service,
                        format!(
                            "`{}` passes {flag} in plain text on a command line",
                            service.name
                        ),
                    ));
                }
            }
            for file in service.config.iter().flat_map(|c| &c.files) {
                if let FileContent::Inline(text) = &file.content {
                    for key in secret_settings(text) {
                        problems.push(Problem::of(
                            id,
                            service,
                            format!(
                                "`{}`'s configuration file `{}` sets {key} in plain text",
                                service.name, file.name
                            ),
                        ));
                    }
                }
            }
        }
        for secret in &platform.secrets {
            for (key, span) in &secret.written {
                if looks_secret(key) {
                    problems.push(Problem::platform(
                        format!("secret {}", secret.name),
                        format!(
                            "the secret `{}` gives {key} in plain text under `data:`",
                            secret.name
                        ),
                        *span,
                    ));
                }
            }
        }
        problems
    },
};

/// The secret-looking keys `text` (an INI, properties, YAML or `.env`
/// file) sets to a value written in it, not taken from the environment.
fn secret_settings(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| {
            let line = line.trim();
            if line.starts_with(['#', ';', '/']) {
                return None;
            }
            let at = line.find(['=', ':'])?;
            let (key, value) = (line[..at].trim(), line[at + 1..].trim());
            (may_be_secret(value) && !key.contains(' ') && looks_secret(key))
                .then(|| key.to_string())
        })
        .collect()
}

/// Mutable image tags.
pub(super) const MUTABLE_IMAGE: Check = Check {
    info: CheckInfo::new(
        "mutable-image-tag",
        Priority::P1,
        "an image is not pinned to a version",
        "The same spec deploys different code on each pull, and a rollback restores nothing.",
        "pin the image: `REGISTRY/NAME:1.2.3` or a digest",
    ),
    run: |platform, _| {
        per_service(platform, |_, service| {
            // Its init steps' and sidecars' images run in its pods too.
            service
                .image
                .iter()
                .chain(service.added_containers().map(|c| &c.image))
                .filter(|image| {
                    let reference = ImageRef::parse(image);
                    !image.is_empty()
                        && reference.digest.is_none()
                        && matches!(
                            reference.tag,
                            None | Some("latest" | "stable" | "main" | "master")
                        )
                })
                .map(|image| format!("`{}` runs `{image}`", service.name))
                .collect::<Vec<_>>()
        })
    },
};

/// Privileged or relaxed security.
pub(super) const RELAXED_SECURITY: Check = Check {
    info: CheckInfo::new(
        "relaxed-security",
        Priority::P1,
        "a service runs with less than the restricted security profile",
        "Root, extra capabilities or a writable root filesystem make a compromise of the process a compromise of the node.",
        "use `security: restricted`; if the image needs root, fix the image",
    ),
    run: |platform, _| {
        per_service(platform, |_, service| {
            let security = &service.runtime.security;
            let mut relaxed = Vec::new();
            if security.profile != Profile::Restricted {
                relaxed.push(format!("the {} profile", security.profile.as_str()));
            }
            if !security.read_only_root && security.profile != Profile::Privileged {
                relaxed.push("a writable root filesystem".to_string());
            }
            if service.host_access().is_some() {
                relaxed.push("the node's namespaces and files (its blueprint's)".to_string());
            }
            (!relaxed.is_empty())
                .then(|| format!("`{}` runs with {}", service.name, relaxed.join(", ")))
        })
    },
};

/// Pods, as patched, that their namespace's Pod Security level refuses.
pub(super) const POD_SECURITY: Check = Check {
    info: CheckInfo::new(
        "pod-security-violation",
        Priority::P0,
        "a service's pods, as patched, break its namespace's Pod Security level",
        "The API server refuses the pods: the service never starts. A patch that makes them privileged, or gives them the node's namespaces or files, is how a compromise of the process becomes one of the node.",
        "drop what the patch adds, or lower the namespace's `podSecurity.enforce` if the pods truly need the host",
    ),
    run: |platform, _| {
        platform
            .services
            .iter()
            .enumerate()
            .flat_map(|(i, service)| {
                crate::render::pod_security(platform, service)
                    .into_iter()
                    .map(move |d| {
                        let span = d.labels.first().map_or(service.span, |l| l.span);
                        Problem::at(ServiceId(i), service, d.message, span)
                    })
            })
            .collect()
    },
};

/// Data stores that admit clients without credentials.
pub(super) const STORE_WITHOUT_AUTH: Check = Check {
    info: CheckInfo::new(
        "store-without-auth",
        Priority::P2,
        "a data store admits clients without credentials",
        "Any pod that reaches it reads and changes its data: the NetworkPolicies are all that stands between it and a compromised neighbour.",
        "keep its authentication on (remove `auth: \"off\"`) and give its clients the password from its `secret`; where its blueprint has none, keep `network.policies` on and declare its callers with `needs:`",
    ),
    run: |platform, _| {
        per_service(platform, |_, service| {
            let tuning = store(service)?;
            let blueprint = tuning.blueprint;
            if blueprint.authenticates(tuning) {
                return None;
            }
            let why = match blueprint.info().auth.off {
                Some(off) if blueprint.info().auth.required => {
                    format!("its password is switched off (`{off}`)")
                }
                _ => format!("the `{}` blueprint sets up no login", blueprint.name()),
            };
            Some(format!(
                "`{}` ({}) lets any client in: {why}",
                service.name,
                blueprint.name()
            ))
        })
    },
};

/// A Kubernetes API token mounted without a documented need.
pub(super) const API_TOKEN: Check = Check {
    info: CheckInfo::new(
        "api-token",
        Priority::P2,
        "a service mounts its service account token",
        "Whoever compromises the process can call the Kubernetes API as the service account.",
        "remove `serviceAccountToken: true` unless the service calls the Kubernetes API; if it does, grant its ServiceAccount only the access it needs",
    ),
    run: |platform, _| {
        per_service(platform, |_, service| {
            // A blueprint that mounts the token itself (Prometheus discovers
            // its targets through the API) documents the need in its recipe.
            let blueprint_needs_token = service.tuning.as_ref().is_some_and(|t| {
                t.blueprint.recipe(t).spec["serviceAccountToken"] == serde_json::Value::Bool(true)
            });
            (service.runtime.service_account_token && !blueprint_needs_token).then(|| {
                format!(
                    "`{}` mounts a service account token (`serviceAccountToken: true`)",
                    service.name
                )
            })
        })
    },
};

/// Exposed routes without TLS.
pub(super) const ROUTE_WITHOUT_TLS: Check = Check {
    info: CheckInfo::new(
        "route-without-tls",
        Priority::P1,
        "a route is exposed without TLS",
        "Credentials and tokens cross the network in clear text.",
        "set `tls:` on the gateway to a TLS Secret",
    ),
    run: |platform, _| {
        per_service(platform, |id, service| {
            platform
                .routes
                .iter()
                .filter(|r| r.service == id)
                .filter_map(|route| {
                    let gateway = &platform.gateways[route.gateway];
                    gateway.tls.is_none().then(|| {
                        format!(
                            "`{}` is exposed at {} through `{}` without TLS",
                            service.name, route.path, gateway.name
                        )
                    })
                })
                .collect::<Vec<_>>()
        })
    },
};
