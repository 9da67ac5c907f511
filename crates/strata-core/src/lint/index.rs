//! What the cross-object checks look up, built once per run so that `lint`
//! stays linear in the number of objects: each check asks the index about
//! one object instead of scanning the whole set for it.

use std::collections::{HashMap, HashSet};

use super::value::{Map, Value};

use super::Manifest;
use super::checks::{list, long_running, pod_labels, selects};

/// The whole set of manifests, indexed for the cross-object checks.
pub struct Index<'a> {
    manifests: &'a [Manifest],
    /// Long-running workloads and pods with pod labels, by namespace, label
    /// and string value, in set order.
    by_label: HashMap<(&'a str, &'a str, &'a str), Vec<usize>>,
    /// Long-running workloads and pods with pod labels, by namespace, in set
    /// order: the candidates of a selector without string values.
    labelled: HashMap<&'a str, Vec<usize>>,
    /// Workloads a PodDisruptionBudget of their namespace selects.
    budgeted: HashSet<usize>,
    /// Workloads a NetworkPolicy of their namespace selects.
    isolated: HashSet<usize>,
    /// `Kind`, namespace and name of every object.
    objects: HashSet<(&'a str, &'a str, &'a str)>,
    /// Namespace and name of every Service, and whether it is headless.
    services: HashMap<(&'a str, &'a str), bool>,
    /// Namespace, name and kind of every string `scaleTargetRef`.
    autoscaled: HashSet<(&'a str, &'a str, &'a str)>,
    /// Names of the Namespaces the set creates.
    namespaces: HashSet<&'a str>,
    /// Whether the set creates any Namespace.
    creates_namespaces: bool,
    /// The `Container` limits of the LimitRanges of each namespace, in set order.
    container_limits: HashMap<&'a str, Vec<&'a Value>>,
    /// Objects with the group, kind, namespace and name of an earlier one.
    duplicates: HashSet<usize>,
}

impl<'a> Index<'a> {
    /// Indexes `manifests`: a few passes over the set.
    pub fn new(manifests: &'a [Manifest]) -> Index<'a> {
        let mut index = Index {
            manifests,
            by_label: HashMap::new(),
            labelled: HashMap::new(),
            budgeted: HashSet::new(),
            isolated: HashSet::new(),
            objects: HashSet::new(),
            services: HashMap::new(),
            autoscaled: HashSet::new(),
            namespaces: HashSet::new(),
            creates_namespaces: false,
            container_limits: HashMap::new(),
            duplicates: HashSet::new(),
        };
        let mut first_of = HashSet::new();
        for (i, m) in manifests.iter().enumerate() {
            let (kind, namespace, name) = (m.kind(), m.namespace(), m.name());
            index.objects.insert((kind, namespace, name));
            if !first_of.insert((group(m), kind, namespace, name)) {
                index.duplicates.insert(i);
            }
            if long_running(m)
                && let Some(labels) = pod_labels(m)
            {
                index.labelled.entry(namespace).or_default().push(i);
                for (key, value) in labels.iter() {
                    if let Some(value) = value.as_str() {
                        index
                            .by_label
                            .entry((namespace, key, value))
                            .or_default()
                            .push(i);
                    }
                }
            }
            let spec = &m.value["spec"];
            match kind {
                "Service" => {
                    let headless = spec["clusterIP"] == "None";
                    *index.services.entry((namespace, name)).or_default() |= headless;
                }
                "HorizontalPodAutoscaler" => {
                    let target = &spec["scaleTargetRef"];
                    if let (Some(target_name), Some(target_kind)) =
                        (target["name"].as_str(), target["kind"].as_str())
                    {
                        index
                            .autoscaled
                            .insert((namespace, target_name, target_kind));
                    }
                }
                "Namespace" => {
                    index.creates_namespaces = true;
                    index.namespaces.insert(name);
                }
                "LimitRange" => index.container_limits.entry(namespace).or_default().extend(
                    list(&spec["limits"])
                        .iter()
                        .filter(|l| l["type"] == "Container"),
                ),
                _ => {}
            }
        }
        // Coverage is marked from the selecting side, once per selector.
        for m in manifests {
            let spec = &m.value["spec"];
            match m.kind() {
                "PodDisruptionBudget" => {
                    if let Some(selector) = spec["selector"]["matchLabels"].as_object() {
                        let selected = index.selected(m.namespace(), selector);
                        index.budgeted.extend(selected);
                    }
                }
                "NetworkPolicy" => {
                    let selector = &spec["podSelector"];
                    let selected = if selector.as_object().is_some_and(Map::is_empty) {
                        index
                            .labelled
                            .get(m.namespace())
                            .cloned()
                            .unwrap_or_default()
                    } else if let Some(selector) = selector["matchLabels"].as_object() {
                        index.selected(m.namespace(), selector)
                    } else {
                        Vec::new()
                    };
                    index.isolated.extend(selected);
                }
                _ => {}
            }
        }
        index
    }

    /// The position of `m` in the set, if it is one of its manifests.
    fn position(&self, m: &Manifest) -> Option<usize> {
        let offset = std::ptr::from_ref(m)
            .addr()
            .checked_sub(self.manifests.as_ptr().addr())?;
        let i = offset / size_of::<Manifest>();
        self.manifests
            .get(i)
            .filter(|o| std::ptr::eq(*o, m))
            .map(|_| i)
    }

    /// Positions of the long-running workloads and pods of `namespace`
    /// whose pods `selector` selects, in set order. Only the workloads
    /// carrying the selector's rarest string label are tried.
    fn selected(&self, namespace: &str, selector: &Map) -> Vec<usize> {
        if selector.is_empty() {
            return Vec::new();
        }
        let rarest = selector
            .iter()
            .filter_map(|(key, value)| {
                let value = value.as_str()?;
                Some(
                    self.by_label
                        .get(&(namespace, key, value))
                        .map_or(&[][..], Vec::as_slice),
                )
            })
            .min_by_key(|candidates| candidates.len());
        let candidates =
            rarest.unwrap_or_else(|| self.labelled.get(namespace).map_or(&[][..], Vec::as_slice));
        candidates
            .iter()
            .copied()
            .filter(|&i| pod_labels(&self.manifests[i]).is_some_and(|l| selects(selector, l)))
            .collect()
    }

    /// The long-running workloads and pods of `namespace` whose pods
    /// `selector` selects, in set order.
    pub(super) fn selected_workloads(&self, namespace: &str, selector: &Map) -> Vec<&'a Manifest> {
        self.selected(namespace, selector)
            .into_iter()
            .map(|i| &self.manifests[i])
            .collect()
    }

    /// Whether a PodDisruptionBudget of its namespace selects `m`'s pods.
    pub(super) fn budgeted(&self, m: &Manifest) -> bool {
        self.position(m).is_some_and(|i| self.budgeted.contains(&i))
    }

    /// Whether a NetworkPolicy of its namespace selects `m`'s pods.
    pub(super) fn isolated(&self, m: &Manifest) -> bool {
        self.position(m).is_some_and(|i| self.isolated.contains(&i))
    }

    /// Whether `m` has the group, kind, namespace and name of an earlier
    /// manifest of the set.
    pub(super) fn repeats_earlier(&self, m: &Manifest) -> bool {
        self.position(m)
            .is_some_and(|i| self.duplicates.contains(&i))
    }

    /// Whether the set has a `kind` object named `name` in `namespace`.
    pub(super) fn has(&self, kind: &str, namespace: &str, name: &str) -> bool {
        self.objects.contains(&(kind, namespace, name))
    }

    /// Whether the set has a headless Service named `name` in `namespace`.
    pub(super) fn has_headless_service(&self, namespace: &str, name: &str) -> bool {
        self.services.get(&(namespace, name)) == Some(&true)
    }

    /// Whether a HorizontalPodAutoscaler of `m`'s namespace scales it.
    pub(super) fn autoscaled(&self, m: &Manifest) -> bool {
        self.autoscaled
            .contains(&(m.namespace(), m.name(), m.kind()))
    }

    /// Whether the set creates Namespaces but not `name`.
    pub(super) fn lacks_namespace(&self, name: &str) -> bool {
        self.creates_namespaces && !self.namespaces.contains(name)
    }

    /// The `Container` limits of the LimitRanges of `namespace`.
    pub(super) fn container_limits(&self, namespace: &str) -> &[&'a Value] {
        self.container_limits
            .get(namespace)
            .map_or(&[], Vec::as_slice)
    }
}

/// The API group of an object (`""` for the core group).
fn group(m: &Manifest) -> &str {
    m.value["apiVersion"]
        .as_str()
        .and_then(|a| a.rsplit_once('/'))
        .map_or("", |(g, _)| g)
}

#[cfg(test)]
mod tests {
    //! The indexed checks against the scans they replace, on generated sets
    //! in which every cross-object situation occurs, found and not found.

    use std::collections::{BTreeMap, BTreeSet};

    use proptest::prelude::*;
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    use serde_json::{Map as JsonMap, Value as Json, json};

    use super::super::checks::{CHECKS, Run, list, long_running, pod_labels, selects};
    use super::super::value::{Map, Value};
    use super::{Index, Manifest};
    use crate::source::{SourceFile, Span};

    /// The workloads of `namespace` whose pods `selector` selects, by a scan.
    fn scan_selected<'a>(
        all: &'a [Manifest],
        namespace: &str,
        selector: &Map,
    ) -> Vec<&'a Manifest> {
        all.iter()
            .filter(|o| o.namespace() == namespace && long_running(o))
            .filter(|o| pod_labels(o).is_some_and(|l| selects(selector, l)))
            .collect()
    }

    /// Each cross-object check as a scan of the whole set per object: the
    /// messages the check gave before the index.
    #[allow(clippy::too_many_lines)]
    fn scanned(id: &str, m: &Manifest, all: &[Manifest]) -> Vec<String> {
        let spec = &m.value["spec"];
        let ns = m.namespace();
        let found = |yes: bool, message: String| if yes { vec![message] } else { Vec::new() };
        match id {
            "no-disruption-budget" => {
                let replicas = spec["replicas"].as_u64().unwrap_or(1);
                if !matches!(m.kind(), "Deployment" | "StatefulSet") || replicas < 2 {
                    return Vec::new();
                }
                let covered = all
                    .iter()
                    .filter(|o| o.kind() == "PodDisruptionBudget" && o.namespace() == ns)
                    .any(|pdb| {
                        pdb.value["spec"]["selector"]["matchLabels"]
                            .as_object()
                            .zip(pod_labels(m))
                            .is_some_and(|(s, l)| selects(s, l))
                    });
                found(
                    !covered,
                    format!("{replicas} replicas and no disruption budget"),
                )
            }
            "service-selects-nothing" => match spec["selector"].as_object() {
                Some(s) if m.kind() == "Service" && !s.is_empty() => found(
                    scan_selected(all, ns, s).is_empty(),
                    "no workload in this set has pods it selects".into(),
                ),
                _ => Vec::new(),
            },
            "service-port-missing" => {
                let Some(s) = spec["selector"].as_object().filter(|s| !s.is_empty()) else {
                    return Vec::new();
                };
                let targets = scan_selected(all, ns, s);
                if m.kind() != "Service" || targets.is_empty() {
                    return Vec::new();
                }
                list(&spec["ports"])
                    .iter()
                    .filter_map(|p| p["targetPort"].as_str())
                    .filter(|port| {
                        !targets.iter().any(|t| {
                            let pod = if t.kind() == "Pod" {
                                &t.value["spec"]
                            } else {
                                &t.value["spec"]["template"]["spec"]
                            };
                            list(&pod["containers"])
                                .iter()
                                .any(|c| list(&c["ports"]).iter().any(|cp| cp["name"] == *port))
                        })
                    })
                    .map(|port| format!("target port `{port}` is not a port of the selected pods"))
                    .collect()
            }
            "route-to-missing-service" => {
                let backends: Vec<&str> = match m.kind() {
                    "Ingress" => list(&spec["rules"])
                        .iter()
                        .flat_map(|r| list(&r["http"]["paths"]))
                        .filter_map(|p| p["backend"]["service"]["name"].as_str())
                        .collect(),
                    "HTTPRoute" => list(&spec["rules"])
                        .iter()
                        .flat_map(|r| list(&r["backendRefs"]))
                        .filter_map(|b| b["name"].as_str())
                        .collect(),
                    _ => Vec::new(),
                };
                backends
                    .into_iter()
                    .filter(|b| {
                        !all.iter()
                            .any(|o| o.kind() == "Service" && o.namespace() == ns && o.name() == *b)
                    })
                    .map(|b| format!("backend Service `{b}` is not in this set"))
                    .collect()
            }
            "autoscaler-target-missing" => {
                if m.kind() != "HorizontalPodAutoscaler" {
                    return Vec::new();
                }
                let target = &spec["scaleTargetRef"];
                let (kind, name) = (
                    target["kind"].as_str().unwrap_or(""),
                    target["name"].as_str().unwrap_or(""),
                );
                let there = all
                    .iter()
                    .any(|o| o.kind() == kind && o.name() == name && o.namespace() == ns);
                found(!there, format!("{kind}/{name} is not in this set"))
            }
            "autoscaled-replicas-pinned" => {
                if spec["replicas"].is_null() || !matches!(m.kind(), "Deployment" | "StatefulSet") {
                    return Vec::new();
                }
                let scaled = all.iter().any(|o| {
                    o.kind() == "HorizontalPodAutoscaler"
                        && o.namespace() == ns
                        && o.value["spec"]["scaleTargetRef"]["name"] == m.name()
                        && o.value["spec"]["scaleTargetRef"]["kind"] == m.kind()
                });
                found(
                    scaled,
                    "an autoscaler scales it, yet replicas is set".into(),
                )
            }
            "headless-service-missing" => {
                if m.kind() != "StatefulSet" {
                    return Vec::new();
                }
                let Some(service) = spec["serviceName"].as_str() else {
                    return vec!["spec.serviceName is not set".into()];
                };
                let headless = all.iter().any(|o| {
                    o.kind() == "Service"
                        && o.namespace() == ns
                        && o.name() == service
                        && o.value["spec"]["clusterIP"] == "None"
                });
                found(
                    !headless,
                    format!("no headless Service `{service}` in this set"),
                )
            }
            "no-network-policy" => {
                let Some(labels) = pod_labels(m).filter(|_| long_running(m)) else {
                    return Vec::new();
                };
                let covered = all
                    .iter()
                    .filter(|o| o.kind() == "NetworkPolicy" && o.namespace() == ns)
                    .any(|p| {
                        let selector = &p.value["spec"]["podSelector"];
                        selector.as_object().is_some_and(Map::is_empty)
                            || selector["matchLabels"]
                                .as_object()
                                .is_some_and(|s| selects(s, labels))
                    });
                found(!covered, "its pods are not isolated".into())
            }
            "missing-namespace" => {
                let namespaces: Vec<&str> = all
                    .iter()
                    .filter(|o| o.kind() == "Namespace")
                    .map(Manifest::name)
                    .collect();
                match m.value["metadata"]["namespace"].as_str() {
                    Some(ns)
                        if !namespaces.is_empty()
                            && !namespaces.contains(&ns)
                            && m.kind() != "Namespace" =>
                    {
                        vec![format!("namespace `{ns}` is not in this set")]
                    }
                    _ => Vec::new(),
                }
            }
            "outside-limit-range" => {
                // The ranges of the fixture have a CPU minimum only.
                let ranges = all
                    .iter()
                    .filter(|o| o.kind() == "LimitRange" && o.namespace() == ns)
                    .flat_map(|o| list(&o.value["spec"]["limits"]))
                    .filter(|l| l["type"] == "Container")
                    .count();
                let pod = if m.kind() == "Pod" {
                    spec
                } else {
                    &spec["template"]["spec"]
                };
                let containers = if pod.is_object() {
                    list(&pod["containers"])
                } else {
                    &[]
                };
                let mut out = Vec::new();
                for c in containers {
                    for _ in 0..ranges {
                        out.push(format!(
                            "container `{}` requests cpu \"100m\" in {ns}, below the LimitRange minimum \"200m\"",
                            c["name"].as_str().unwrap_or("?"),
                        ));
                    }
                }
                out
            }
            "duplicate-object" => {
                let group = |v: &Value| {
                    v["apiVersion"]
                        .as_str()
                        .and_then(|a| a.rsplit_once('/'))
                        .map_or("", |(g, _)| g)
                        .to_string()
                };
                let same = |o: &Manifest| {
                    group(&o.value) == group(&m.value)
                        && o.kind() == m.kind()
                        && o.namespace() == ns
                        && o.name() == m.name()
                };
                let first = all.iter().position(same);
                let me = all.iter().position(|o| std::ptr::eq(o, m));
                found(
                    matches!((first, me), (Some(f), Some(me)) if f < me),
                    format!("{} is defined more than once", m.display()),
                )
            }
            _ => unreachable!("{id} is no cross-object check"),
        }
    }

    const CROSS_OBJECT: [&str; 11] = [
        "no-disruption-budget",
        "service-selects-nothing",
        "service-port-missing",
        "route-to-missing-service",
        "autoscaler-target-missing",
        "autoscaled-replicas-pinned",
        "headless-service-missing",
        "no-network-policy",
        "missing-namespace",
        "outside-limit-range",
        "duplicate-object",
    ];

    const KINDS: [&str; 12] = [
        "Namespace",
        "Deployment",
        "StatefulSet",
        "Pod",
        "Job",
        "Service",
        "PodDisruptionBudget",
        "NetworkPolicy",
        "HorizontalPodAutoscaler",
        "LimitRange",
        "Ingress",
        "HTTPRoute",
    ];

    /// A few labels from a small vocabulary, a number among the values.
    fn labels() -> impl Strategy<Value = Json> {
        prop::collection::vec((0..2usize, 0..3usize), 0..3).prop_map(|pairs| {
            let mut map = JsonMap::new();
            for (k, v) in pairs {
                let value = [json!("x"), json!("y"), json!(1)][v].clone();
                map.insert(["app", "tier"][k].to_string(), value);
            }
            Json::Object(map)
        })
    }

    /// One object of a kind that takes part in a cross-object check, with
    /// names, namespaces, labels and selectors drawn from small sets so
    /// that they meet often.
    fn object() -> impl Strategy<Value = Json> {
        (
            0..KINDS.len(),
            0..3usize,
            0..2usize,
            labels(),
            labels(),
            any::<bool>(),
            any::<bool>(),
        )
            .prop_map(|(kind, ns, name, labels, selector, flag, other)| {
                let kind = KINDS[kind];
                let name = ["x", "y"][name];
                let mut metadata = json!({ "name": name });
                if ns < 2 && kind != "Namespace" {
                    metadata["namespace"] = json!(["a", "b"][ns]);
                }
                if kind == "Namespace" {
                    metadata["name"] = json!(["a", "b", "default"][ns]);
                }
                let pod = json!({ "containers": [{
                    "name": "c",
                    "ports": [{ "name": if flag { "http" } else { "web" } }],
                    "resources": { "requests": { "cpu": "100m" } },
                }] });
                let spec = match kind {
                    "Deployment" | "StatefulSet" | "Job" => {
                        let mut spec = json!({
                            "selector": { "matchLabels": selector },
                            "template": { "metadata": { "labels": labels }, "spec": pod },
                        });
                        if flag || other {
                            spec["replicas"] = json!(if flag { 2 } else { 1 });
                        }
                        if kind == "StatefulSet" && other {
                            spec["serviceName"] = json!(name);
                        }
                        spec
                    }
                    "Pod" => {
                        metadata["labels"] = labels;
                        pod
                    }
                    "Service" => {
                        let mut spec = json!({
                            "selector": selector,
                            "ports": [{ "port": 80, "targetPort": "http" }],
                        });
                        if flag {
                            spec["clusterIP"] = json!("None");
                        }
                        spec
                    }
                    "PodDisruptionBudget" => json!({ "selector": { "matchLabels": selector } }),
                    "NetworkPolicy" if flag && selector == json!({}) => json!({ "podSelector": {} }),
                    "NetworkPolicy" => json!({ "podSelector": { "matchLabels": selector } }),
                    "HorizontalPodAutoscaler" => json!({ "scaleTargetRef": {
                        "kind": if flag { "Deployment" } else { "StatefulSet" },
                        "name": if other { "x" } else { "y" },
                    } }),
                    "LimitRange" => json!({ "limits": [{ "type": "Container", "min": { "cpu": "200m" } }] }),
                    "Ingress" => json!({ "rules": [{ "http": { "paths": [
                        { "backend": { "service": { "name": if flag { "x" } else { "y" } } } }
                    ] } }] }),
                    "HTTPRoute" => json!({ "rules": [{ "backendRefs": [{ "name": if other { "x" } else { "y" } }] }] }),
                    _ => Json::Null,
                };
                let api_version = match kind {
                    "Deployment" | "StatefulSet" if other => "apps/v1",
                    "Deployment" | "StatefulSet" => "extensions/v1beta1",
                    _ => "v1",
                };
                let mut object = json!({ "apiVersion": api_version, "kind": kind, "metadata": metadata });
                if !spec.is_null() {
                    object["spec"] = spec;
                }
                object
            })
    }

    fn manifests(values: Vec<Json>) -> Vec<Manifest> {
        let file = SourceFile::new("t.yaml", "");
        values
            .into_iter()
            .map(|value| Manifest {
                value: Value::from(value),
                file: file.clone(),
                span: Span::new(0, 0),
            })
            .collect()
    }

    #[test]
    fn indexed_checks_find_what_the_scans_found() {
        let strategy = prop::collection::vec(object(), 0..14);
        let mut runner = TestRunner::deterministic();
        // Per check: objects it flagged, objects it passed.
        let mut seen: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
        for _ in 0..400 {
            let set = manifests(strategy.new_tree(&mut runner).unwrap().current());
            // The checks run on what `Linter` keeps of each manifest; the
            // scans saw all of it.
            let kept: Vec<Manifest> = set
                .iter()
                .map(|m| Manifest {
                    value: super::super::kept::kept(m.value.clone()),
                    ..m.clone()
                })
                .collect();
            let index = Index::new(&kept);
            for id in CROSS_OBJECT {
                let check = CHECKS.iter().find(|c| c.info.id == id).unwrap();
                let Run::Set(run) = check.run else {
                    panic!("{id} is a cross-object check");
                };
                for (m, k) in set.iter().zip(&kept) {
                    let indexed = run(k, &index);
                    let expected = scanned(id, m, &set);
                    assert_eq!(
                        indexed,
                        expected,
                        "{id} on {}\nin {:#?}",
                        m.display(),
                        set.iter().map(|m| &m.value).collect::<Vec<_>>()
                    );
                    let counts = seen.entry(id).or_default();
                    if indexed.is_empty() {
                        counts.1 += 1;
                    } else {
                        counts.0 += 1;
                    }
                }
            }
        }
        for id in CROSS_OBJECT {
            let (flagged, passed) = seen[id];
            assert!(
                flagged > 0 && passed > 0,
                "{id}: {flagged} flagged, {passed} passed"
            );
        }
    }

    #[test]
    fn the_cross_object_checks_are_those_run_on_the_set() {
        let set: BTreeSet<&str> = CHECKS
            .iter()
            .filter(|c| matches!(c.run, Run::Set(_)))
            .map(|c| c.info.id)
            .collect();
        assert_eq!(set, CROSS_OBJECT.into_iter().collect());
    }

    #[test]
    fn an_object_from_another_set_is_no_duplicate() {
        let set = manifests(vec![
            json!({ "apiVersion": "v1", "kind": "Service", "metadata": { "name": "x" } });
            2
        ]);
        let index = Index::new(&set);
        assert!(!index.repeats_earlier(&set[0]));
        assert!(index.repeats_earlier(&set[1]));
        let copy = set[1].clone();
        assert!(!index.repeats_earlier(&copy));
    }
}
