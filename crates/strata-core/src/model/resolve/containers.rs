//! The containers of a pod beside the service's own: its `init:` steps and
//! its `sidecars:`, with their variables resolved like the service's.

use super::Resolver;
use super::ServiceNames;
use super::limits::{INIT_STEP_SIZE, SIDECAR_SIZE};
use super::storage::POD_VOLUMES;
use crate::diag::suggestion;
use crate::model::endpoint::Endpoints;
use crate::model::{Container, Dependency, Service, Sidecar, WorkloadKind};
use crate::spec::Spanned;
use crate::spec::names::Name;
use crate::spec::service::ServiceSpec;

/// The texts of a list of strings, as written.
fn texts(list: Option<&Spanned<Vec<Spanned<String>>>>) -> Vec<String> {
    list.iter()
        .flat_map(|l| &l.value)
        .map(|a| a.value.clone())
        .collect()
}

impl Resolver<'_> {
    /// A service's `init:` steps, in the order written, each with its
    /// variables resolved like the service's own; their references are
    /// dependencies of the service (its pods cannot start without them).
    pub(super) fn init_steps(
        &mut self,
        service: &Service,
        spec: &ServiceSpec,
        services: &ServiceNames<'_>,
        endpoints: Endpoints<'_>,
    ) -> (Vec<Container>, Vec<Dependency>) {
        let (mut steps, mut references) = (Vec::new(), Vec::new());
        let Some(init) = self.own_pod_template(service, spec.rare.init.as_ref(), "init") else {
            return (steps, references);
        };
        for (name, step) in init.value.iter() {
            if !self.container_name(service, spec, name, "init step") {
                continue;
            }
            let step_name = &name.value.0;
            let step = &step.value;
            let (env, found) = self.env(
                step.env.as_ref(),
                &format!("{step_name}/"),
                services,
                endpoints,
            );
            references.extend(found);
            steps.push(Container {
                name: step_name.clone(),
                image: step.image.value.clone(),
                command: texts(step.command.as_ref()),
                args: texts(step.args.as_ref()),
                env,
                resources: self.helper_resources(step.resources.as_ref(), INIT_STEP_SIZE),
            });
        }
        (steps, references)
    }

    /// A service's `sidecars:`, in the order written, with their variables
    /// resolved like the service's own and their references dependencies of
    /// the service. Their ports are the service's already (see `ports`).
    pub(super) fn sidecars(
        &mut self,
        service: &Service,
        spec: &ServiceSpec,
        services: &ServiceNames<'_>,
        endpoints: Endpoints<'_>,
    ) -> (Vec<Sidecar>, Vec<Dependency>) {
        let (mut sidecars, mut references) = (Vec::new(), Vec::new());
        let Some(list) = self.own_pod_template(service, spec.rare.sidecars.as_ref(), "sidecars")
        else {
            return (sidecars, references);
        };
        let runs_to_completion = matches!(service.kind, WorkloadKind::Job | WorkloadKind::Cron);
        for (name, sidecar) in list.value.iter() {
            if !self.container_name(service, spec, name, "sidecar") {
                continue;
            }
            let sidecar_name = &name.value.0;
            let sidecar = &sidecar.value;
            let native = match &sidecar.native {
                Some(native) if !native.value && runs_to_completion => {
                    self.error(
                        "unsupported-for-kind",
                        format!(
                            "the sidecar `{sidecar_name}` of the {} `{}` must be native: a container that never exits keeps the pod from completing",
                            service.kind.as_str(),
                            service.name
                        ),
                        native.span,
                        "a job's pod would never end",
                        "remove `native: false`: sidecars of jobs and crons run as native sidecars".into(),
                    );
                    true
                }
                Some(native) => native.value,
                None => runs_to_completion,
            };
            let (env, found) = self.env(
                sidecar.env.as_ref(),
                &format!("{sidecar_name}/"),
                services,
                endpoints,
            );
            references.extend(found);
            let mounts = sidecar
                .mounts
                .iter()
                .flat_map(|m| &m.value)
                .filter(|mount| self.mountable(service, mount))
                .map(|mount| mount.value.0.clone())
                .collect();
            sidecars.push(Sidecar {
                container: Container {
                    name: sidecar_name.clone(),
                    image: sidecar.image.value.clone(),
                    command: texts(sidecar.command.as_ref()),
                    args: texts(sidecar.args.as_ref()),
                    env,
                    resources: self.helper_resources(sidecar.resources.as_ref(), SIDECAR_SIZE),
                },
                mounts,
                native,
            });
        }
        (sidecars, references)
    }

    /// `list`, the service's `key` (`init` or `sidecars`), unless its
    /// blueprint mode has an operator make its pods: then Strata writes no
    /// pod template to add them to, which is an error at the key.
    fn own_pod_template<'s, T>(
        &mut self,
        service: &Service,
        list: Option<&'s Spanned<T>>,
        key: &str,
    ) -> Option<&'s Spanned<T>> {
        let list = list?;
        if let Some(tuning) = service.tuning.as_ref().filter(|t| t.mode.operated) {
            self.error(
                "unsupported-for-mode",
                format!(
                    "the `{}` mode of `{}` runs its pods through an operator: Strata writes no pod template to add `{key}` to",
                    tuning.mode.name,
                    tuning.blueprint.name()
                ),
                list.span,
                "no pod template of Strata's to add to",
                format!("remove `{key}`, or use a mode whose pods Strata runs"),
            );
            return None;
        }
        Some(list)
    }

    /// Whether `name` is free for a container of the service's pod, where
    /// Kubernetes refuses two containers of one name: not the main
    /// container's, a blueprint's sidecar's, another step's or sidecar's,
    /// nor one beginning with `wait-` (`waitForNeeds`') or `istio-` (the
    /// mesh injector's). An error at the name when it is not.
    fn container_name(
        &mut self,
        service: &Service,
        spec: &ServiceSpec,
        name: &Spanned<Name>,
        what: &str,
    ) -> bool {
        let wanted = &name.value.0;
        let blueprint_sidecars = service
            .tuning
            .iter()
            .flat_map(|t| &t.supplied.sidecars)
            .filter_map(|c| c["name"].as_str());
        let steps = spec
            .rare
            .init
            .iter()
            .flat_map(|l| l.value.iter().map(|(k, _)| k));
        let sidecars = spec
            .rare
            .sidecars
            .iter()
            .flat_map(|l| l.value.iter().map(|(k, _)| k));
        // A step and a sidecar of one name: the later one is refused.
        let repeated = steps
            .chain(sidecars)
            .any(|other| other.value.0 == *wanted && other.span.start() < name.span.start());
        let reserved = wanted == &service.container
            || wanted.starts_with("wait-")
            || wanted.starts_with("istio-")
            || blueprint_sidecars.clone().any(|c| c == wanted);
        if !reserved && !repeated {
            return true;
        }
        let mut taken: Vec<String> = vec![service.container.clone()];
        taken.extend(blueprint_sidecars.map(str::to_string));
        self.error(
            "reserved-name",
            format!("the {what} `{wanted}` would share its container's name with another"),
            name.span,
            "a name another container of the pod has",
            format!(
                "rename it: not {}, another step's or sidecar's, nor one beginning with `wait-` or `istio-`",
                taken
                    .iter()
                    .map(|t| format!("`{t}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
        false
    }

    /// Whether the pod has the volume a sidecar's `mounts` entry names; an
    /// `unknown-volume` error at the entry when it has not.
    fn mountable(&mut self, service: &Service, mount: &Spanned<Name>) -> bool {
        let read_only_root = service.runtime.security.read_only_root
            && service.runtime.security.profile != crate::model::Profile::Privileged;
        let mut names: Vec<&str> = Vec::new();
        let [data, tmp, config, scratch] = POD_VOLUMES;
        if service.storage.is_some() {
            names.push(data);
        }
        if read_only_root {
            names.push(tmp);
        }
        if service.config.is_some() {
            names.push(config);
        }
        if !service.rare.scratch.is_empty() {
            names.push(scratch);
        }
        names.extend(service.rare.volumes.iter().map(|v| v.name.as_str()));
        if names.contains(&mount.value.0.as_str()) {
            return true;
        }
        let help = if names.is_empty() {
            "the pod has no volumes to share: give the service `storage`, `volumes`, `config` or `scratch`".to_string()
        } else {
            suggestion(&mount.value.0, &names, "volume")
        };
        self.error(
            "unknown-volume",
            format!(
                "the pod of `{}` has no volume `{}` to mount",
                service.name, mount.value.0
            ),
            mount.span,
            "no such volume",
            help,
        );
        false
    }
}
