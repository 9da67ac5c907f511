//! Filling a service from its blueprint's recipe: the recipe's fields,
//! decoded by the spec decoder like a user's, under the service's own.

use crate::diag::Diagnostic;
use crate::model::Tuning;
use crate::source::{SourceFile, Span};
use crate::spec::decode::{Decode, Decoder};
use crate::spec::runtime::{ProbesSpec, SecuritySpec};
use crate::spec::service::{ResourceList, ResourcesSpec, ServiceSpec, StorageSpec, VolumeSpec};
use crate::spec::yaml::{self, Node, NodeKind};
use crate::spec::{Map, Spanned};

/// The service `own` as written, with every field it leaves out taken from
/// its blueprint's recipe. Mappings the user writes in part (`env`,
/// `security`, `resources`, `probes`, `storage`) are merged key by key, so
/// `storage: 100Gi` keeps the image's data path.
///
/// Recipe values get the span of the `blueprint:` line, so a problem in them
/// is reported there.
///
/// # Errors
/// A recipe that does not decode as a service: a bug of the blueprint, which
/// the catalog's tests rule out.
pub fn fill(own: &ServiceSpec, tuning: &Tuning, span: Span) -> Result<ServiceSpec, Diagnostic> {
    let mut recipe = tuning.blueprint.recipe(tuning);
    if recipe.spec.get("replicas").is_none() && recipe.spec["kind"] != "daemon" {
        recipe.spec["replicas"] = tuning.mode.replicas.into();
    }
    let file = SourceFile::new(
        format!("blueprint {}", tuning.blueprint.name()),
        recipe.spec.to_string(),
    );
    let internal = |message: String| {
        Diagnostic::error(
            "blueprint-failed",
            format!(
                "the `{}` blueprint gave an invalid service: {message}",
                tuning.blueprint.name()
            ),
        )
    };
    let mut node = yaml::parse(&file).map_err(|d| internal(d.message))?;
    respan(&mut node, span);
    let mut decoder = Decoder::new(&file);
    let base = ServiceSpec::decode(&node, &mut decoder);
    let base = match base {
        Some(base) if decoder.is_clean() => base,
        _ => {
            let messages: Vec<String> = decoder
                .into_diagnostics()
                .into_iter()
                .map(|d| d.message)
                .collect();
            return Err(internal(messages.join("; ")));
        }
    };
    Ok(merge(own, base))
}

fn respan(node: &mut Node, span: Span) {
    node.span = span;
    match &mut node.kind {
        NodeKind::Map(entries) => {
            for (k, v) in entries {
                respan(k, span);
                respan(v, span);
            }
        }
        NodeKind::Seq(items) => items.iter_mut().for_each(|i| respan(i, span)),
        _ => {}
    }
}

fn merge(own: &ServiceSpec, base: ServiceSpec) -> ServiceSpec {
    let mut out = own.clone();
    macro_rules! prefer_own {
        ($($field:ident),*) => { $( if out.$field.is_none() { out.$field = base.$field.clone(); } )* };
    }
    prefer_own!(
        image,
        kind,
        command,
        args,
        ports,
        replicas,
        config,
        needs,
        labels,
        spread,
        disruption_budget,
        termination_grace_period,
        service_account_token,
        metrics
    );
    out.env = merge_map(own.env.as_ref(), base.env);
    // The rights the blueprint's own process needs stay beside the user's.
    out.access = match (own.access.clone(), base.access) {
        (Some(mut mine), Some(theirs)) => {
            mine.value.extend(theirs.value);
            Some(mine)
        }
        (mine, theirs) => mine.or(theirs),
    };
    out.resources = match (own.resources.clone(), base.resources) {
        (Some(mine), Some(theirs)) => Some(Spanned {
            span: mine.span,
            value: ResourcesSpec {
                requests: merge_list(mine.value.requests, theirs.value.requests),
                limits: merge_list(mine.value.limits, theirs.value.limits),
            },
        }),
        (mine, theirs) => mine.or(theirs),
    };
    out.security = match (own.security.clone(), base.security) {
        (Some(mine), Some(theirs)) => Some(match (mine.value, theirs.value) {
            (SecuritySpec::Profile(p), SecuritySpec::Settings(mut s)) => {
                s.profile = Some(Spanned {
                    value: p,
                    span: mine.span,
                });
                Spanned {
                    value: SecuritySpec::Settings(s),
                    span: mine.span,
                }
            }
            (SecuritySpec::Settings(mut m), SecuritySpec::Settings(t)) => {
                m.profile = m.profile.or(t.profile);
                // A user id of their own means their own group too, unless given.
                if m.run_as_user.is_none() {
                    m.run_as_user = t.run_as_user;
                    m.run_as_group = m.run_as_group.or(t.run_as_group);
                    m.fs_group = m.fs_group.or(t.fs_group);
                }
                m.read_only_root_filesystem =
                    m.read_only_root_filesystem.or(t.read_only_root_filesystem);
                m.capabilities = m.capabilities.or(t.capabilities);
                Spanned {
                    value: SecuritySpec::Settings(m),
                    span: mine.span,
                }
            }
            (value, _) => Spanned {
                value,
                span: mine.span,
            },
        }),
        (mine, theirs) => mine.or(theirs),
    };
    out.probes = match (own.probes.clone(), base.probes) {
        (Some(mine), Some(theirs)) => Some(match (mine.value, theirs.value) {
            (ProbesSpec::Settings(mut m), ProbesSpec::Settings(t)) => {
                if m.port.is_none() {
                    m.port = t.port;
                    m.path = m.path.or(t.path);
                    m.readiness_path = m.readiness_path.or(t.readiness_path);
                }
                m.startup_seconds = m.startup_seconds.or(t.startup_seconds);
                Spanned {
                    value: ProbesSpec::Settings(m),
                    span: mine.span,
                }
            }
            (value, _) => Spanned {
                value,
                span: mine.span,
            },
        }),
        (mine, theirs) => mine.or(theirs),
    };
    out.storage = match (own.storage.clone(), base.storage) {
        (Some(mine), Some(theirs)) => {
            let path = match &theirs.value {
                StorageSpec::Volume(v) => v.mount_path.clone(),
                StorageSpec::Size(_) => None,
            };
            let volume = match mine.value {
                StorageSpec::Size(size) => VolumeSpec {
                    size: Spanned {
                        value: size,
                        span: mine.span,
                    },
                    class: None,
                    mount_path: path,
                    access: None,
                },
                StorageSpec::Volume(mut v) => {
                    v.mount_path = v.mount_path.or(path);
                    v
                }
            };
            Some(Spanned {
                value: StorageSpec::Volume(volume),
                span: mine.span,
            })
        }
        (mine, theirs) => mine.or(theirs),
    };
    out
}

fn merge_list(
    mine: Option<Spanned<ResourceList>>,
    theirs: Option<Spanned<ResourceList>>,
) -> Option<Spanned<ResourceList>> {
    match (mine, theirs) {
        (Some(mut m), Some(t)) => {
            m.value.cpu = m.value.cpu.or(t.value.cpu);
            m.value.memory = m.value.memory.or(t.value.memory);
            Some(m)
        }
        (m, t) => m.or(t),
    }
}

fn merge_map<K: Clone + PartialEq, V: Clone>(
    own: Option<&Spanned<Map<K, V>>>,
    base: Option<Spanned<Map<K, V>>>,
) -> Option<Spanned<Map<K, V>>> {
    let Some(mut base) = base else {
        return own.cloned();
    };
    let Some(own) = own else { return Some(base) };
    for (key, value) in own.value.iter() {
        match base.value.0.iter_mut().find(|(k, _)| k.value == key.value) {
            Some(entry) => entry.1 = value.clone(),
            None => base.value.0.push((key.clone(), value.clone())),
        }
    }
    base.span = own.span;
    Some(base)
}
