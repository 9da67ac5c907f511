//! Evaluates the rendered NetworkPolicies of every example, in every
//! environment, for every pair of services and every port: traffic must be
//! allowed exactly where the call graph has an edge. Companions, externals
//! inside the cluster, spawned pods and the mesh's control plane too.

mod support;

use std::collections::{BTreeMap, BTreeSet};

use strata_core::model::{self, Peer, Platform, Protocol};
use strata_core::render::{self, network::has_peers};
use strata_core::source::SourceFile;
use strata_core::spec;
use support::evaluator::{Direction, Pod, allowed, side_allows};
use support::pods::{companion_pods, pod_of};
use support::{Directory, examples, network_policies};

/// How a policy names a port's protocol.
fn protocol(port: &model::Port) -> &'static str {
    if port.protocol == Protocol::Udp {
        "UDP"
    } else {
        "TCP"
    }
}

/// The ports `from` may reach on `to` by the spec's graph.
fn expected(platform: &Platform, from: usize, to: usize) -> BTreeSet<(u16, &'static str)> {
    let target = &platform.services[to];
    let mut ports = BTreeSet::new();
    let edge = platform
        .edges
        .iter()
        .any(|e| e.from().0 == from && e.to().0 == to);
    // Members of a blueprint's group (a Sentinel group, an operator's pods)
    // talk among themselves, replicated or not.
    let members = target
        .tuning
        .as_ref()
        .is_some_and(|t| !t.supplied.members.is_empty());
    if edge || (from == to && (has_peers(target) || members)) {
        ports.extend(target.ports.iter().map(|p| (p.number, protocol(p))));
    }
    // A group's members reach each other on every port: the sidecar's
    // merged metrics port too.
    if from == to
        && members
        && let Some(port) = render::scrape_port(platform, target)
    {
        ports.insert((port, "TCP"));
    }
    if matches!(platform.network.scraper, Peer::Service(s) if s.0 == from)
        && let Some(port) = render::scrape_port(platform, target)
        && from != to
    {
        ports.insert((port, "TCP"));
    }
    ports
}

#[test]
fn traffic_is_allowed_exactly_along_the_edges() {
    let mut checked_pairs = 0;
    for path in examples() {
        let file = SourceFile::new(
            path.display().to_string(),
            std::fs::read_to_string(&path).unwrap(),
        );
        let doc = spec::parse(&file).unwrap();
        let mut environments = vec![None];
        environments.extend(model::environment_names(&doc.spec).into_iter().map(Some));
        for env in environments {
            let platform = strata_core::resolve(&doc, env).unwrap();
            if !platform.network.policies {
                continue;
            }
            let set = render::render(&platform, &Directory(path.parent().unwrap().to_path_buf()))
                .unwrap();
            let policies = network_policies(&set);
            let running: Vec<usize> = (0..platform.services.len())
                .filter(|&i| platform.services[i].kind.is_long_running())
                .collect();
            let pods: BTreeMap<usize, Pod> = running
                .iter()
                .map(|&i| {
                    (
                        i,
                        pod_of(&set.objects, &platform, &platform.services[i].name),
                    )
                })
                .collect();
            for &from in &running {
                for &to in &running {
                    let target = &platform.services[to];
                    let actual: BTreeSet<(u16, &'static str)> = target
                        .ports
                        .iter()
                        .map(|p| (p.number, protocol(p)))
                        // In a mesh, the sidecar's merged metrics port too.
                        .chain(render::scrape_port(&platform, target).map(|p| (p, "TCP")))
                        .filter(|&(port, proto)| {
                            allowed(&policies, &pods[&from], &pods[&to], port, proto)
                        })
                        .collect();
                    assert_eq!(
                        actual,
                        expected(&platform, from, to),
                        "{} ({env:?}): {} → {}",
                        path.display(),
                        platform.services[from].name,
                        target.name
                    );
                    checked_pairs += 1;
                }
            }
            // A blueprint's companions (Sentinels) are reached on their
            // ports by the service's callers and its own pods, by no one else,
            // and reach the service's pods.
            for &to in &running {
                let service = &platform.services[to];
                for (companion, pod) in companion_pods(&set.objects, service) {
                    for &from in &running {
                        let edge = from == to
                            || platform
                                .edges
                                .iter()
                                .any(|e| e.from().0 == from && e.to().0 == to);
                        for port in &companion.ports {
                            assert_eq!(
                                allowed(&policies, &pods[&from], &pod, port.number, protocol(port)),
                                edge,
                                "{} ({env:?}): {} → {}:{}",
                                path.display(),
                                platform.services[from].name,
                                companion.name,
                                port.number
                            );
                        }
                    }
                    for port in &service.ports {
                        assert!(
                            allowed(&policies, &pod, &pods[&to], port.number, protocol(port)),
                            "{}: {} → {}:{}",
                            path.display(),
                            companion.name,
                            service.name,
                            port.number
                        );
                    }
                }
            }
            // An external inside the cluster is reached on its ports by the
            // services that call it, and by no other.
            for (index, external) in platform.externals.iter().enumerate() {
                let model::Reach::Pods { namespace, labels } = &external.reach else {
                    continue;
                };
                let pod = Pod {
                    namespace: namespace.clone(),
                    labels: labels.clone(),
                };
                for &from in &running {
                    let calls = platform.services[from]
                        .rare
                        .externals
                        .iter()
                        .any(|c| c.external == index);
                    for (_, port) in &external.ports {
                        assert_eq!(
                            side_allows(
                                &policies,
                                Direction::Egress,
                                &pods[&from],
                                &pod,
                                *port,
                                "TCP"
                            ),
                            calls,
                            "{} ({env:?}): {} → external {}:{port}",
                            path.display(),
                            platform.services[from].name,
                            external.name,
                        );
                    }
                }
            }
            // The pods a service spawns at run time are reached by that
            // service alone, on their ports, and reach the services they
            // call on those services' ports, no others.
            for &spawner in &running {
                let service = &platform.services[spawner];
                let Some(spawned) = &service.spawns else {
                    continue;
                };
                let pod = Pod {
                    namespace: service.namespace.clone(),
                    labels: spawned.labels.clone(),
                };
                for &other in &running {
                    let name = &platform.services[other].name;
                    for (_, port) in &spawned.ports {
                        assert_eq!(
                            allowed(&policies, &pods[&other], &pod, *port, "TCP"),
                            other == spawner,
                            "{} ({env:?}): {name} → pods spawned by {}:{port}",
                            path.display(),
                            service.name,
                        );
                    }
                    let called = spawned.calls.iter().any(|c| c.0 == other);
                    for port in &platform.services[other].ports {
                        assert_eq!(
                            allowed(&policies, &pod, &pods[&other], port.number, protocol(port)),
                            called,
                            "{} ({env:?}): pods spawned by {} → {name}:{}",
                            path.display(),
                            service.name,
                            port.number,
                        );
                    }
                }
            }
            // A backup job's pods reach the service they save on the dump's
            // ports and the store of the platform its backups go to (the
            // model's backup dependency), no other service; its service's
            // own pods reach the store only along an edge (checked above).
            for &saved in &running {
                let service = &platform.services[saved];
                let Some(job) = set.objects.iter().find(|o| {
                    o.kind() == "CronJob" && o.name() == render::backup::cronjob_name(&service.name)
                }) else {
                    continue;
                };
                let pod = Pod {
                    namespace: service.namespace.clone(),
                    labels:
                        job.value["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"]
                            .as_object()
                            .unwrap()
                            .iter()
                            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
                            .collect(),
                };
                let tuning = service.tuning.as_ref().unwrap();
                let Some(model::BackupMethod::Dump(dump)) = tuning.blueprint.backup(tuning) else {
                    panic!("a backup CronJob of {} without a dump", service.name);
                };
                let stores: Vec<usize> = service
                    .needs
                    .iter()
                    .filter(|n| {
                        n.origin == model::DependencyOrigin::Backup(model::BackupCaller::Job)
                    })
                    .filter_map(|n| match n.target {
                        model::DependencyTarget::Service(id) => Some(id.0),
                        model::DependencyTarget::Tier(_) => None,
                    })
                    .collect();
                assert_eq!(
                    stores,
                    service
                        .backup
                        .as_ref()
                        .unwrap()
                        .target
                        .store
                        .map(|s| s.0)
                        .into_iter()
                        .collect::<Vec<_>>(),
                    "{}: the backup dependency of {} is its store",
                    path.display(),
                    service.name
                );
                for &to in &running {
                    let target = &platform.services[to];
                    for port in &target.ports {
                        let expected = (to == saved && dump.ports.contains(&port.number))
                            || (stores.contains(&to) && target.ports.first() == Some(port));
                        assert_eq!(
                            allowed(&policies, &pod, &pods[&to], port.number, protocol(port)),
                            expected,
                            "{} ({env:?}): backup of {} → {}:{}",
                            path.display(),
                            service.name,
                            target.name,
                            port.number,
                        );
                        checked_pairs += 1;
                    }
                }
            }
            // Every meshed pod reaches istiod, wherever it runs, and no other
            // pod of its namespace on istiod's ports.
            if let Peer::External { namespace, labels } = &platform.network.control_plane
                && platform.network.mesh.is_some()
            {
                let istiod = Pod {
                    namespace: namespace.clone(),
                    labels: labels.clone(),
                };
                let neighbour = Pod::new(namespace, &[("app", "neighbour")]);
                for &from in running
                    .iter()
                    .filter(|&&i| platform.in_mesh(&platform.services[i].namespace))
                {
                    let name = &platform.services[from].name;
                    assert!(
                        allowed(&policies, &pods[&from], &istiod, 15012, "TCP"),
                        "{} ({env:?}): {name} → istiod in {namespace}",
                        path.display(),
                    );
                    assert!(
                        !side_allows(
                            &policies,
                            Direction::Egress,
                            &pods[&from],
                            &neighbour,
                            15012,
                            "TCP"
                        ),
                        "{} ({env:?}): {name} → a neighbour of istiod",
                        path.display(),
                    );
                }
            }
            // Every namespace denies by default and still resolves names.
            for namespace in &platform.namespaces {
                let in_ns = |name: &str| {
                    policies.iter().any(|p| {
                        p["metadata"]["namespace"] == namespace.name.as_str()
                            && p["metadata"]["name"] == name
                    })
                };
                assert!(
                    in_ns("default-deny") && in_ns("allow-dns"),
                    "{}: {}",
                    path.display(),
                    namespace.name
                );
            }
        }
    }
    assert!(checked_pairs > 1000, "checked {checked_pairs} pairs");
}
