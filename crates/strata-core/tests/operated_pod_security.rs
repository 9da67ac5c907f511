//! The pod templates Strata hands an operator meet their namespace's Pod
//! Security level, as plain workloads' do: each operated kind's templates,
//! read where that operator reads them, with the containers the operator
//! adds from its own defaults unless the template names them.
//!
//! Where the custom resource cannot carry a container's security context
//! (the operator makes it alone), the mode says so and `check` warns at a
//! namespace enforcing `restricted` (`operator-pod-security`); those kinds
//! are listed in [`OPERATOR_MADE`] with the reason.

use serde_json::{Value, json};
use strata_core::pod_security;
use strata_core::render::{self, NoAssets};
use strata_core::source::SourceFile;
use strata_core::spec;
use strata_core::spec::runtime::Profile;

/// A pod as the operator makes it from Strata's custom resource: the pod's
/// security context and each container's, by name.
struct OperatedPod {
    what: String,
    pod: Value,
    containers: Vec<(String, Value)>,
}

/// Kinds whose operator makes every container itself, the custom resource
/// carrying no container security context: why the pods still meet the
/// level, or why `check` warns.
const OPERATOR_MADE: &[(&str, &str)] = &[
    (
        "Cluster",
        "CloudNativePG runs its pods restricted by itself (non-root, RuntimeDefault seccomp, no privilege escalation, all capabilities dropped)",
    ),
    (
        "InnoDBCluster",
        "the MySQL operator makes its init containers and sidecar itself: `check` warns `operator-pod-security` under restricted",
    ),
    (
        "Milvus",
        "the Milvus operator makes its init container and components itself: `check` warns `operator-pod-security` under restricted",
    ),
];

fn at<'a>(value: &'a Value, pointer: &str) -> &'a Value {
    value.pointer(pointer).unwrap_or(&Value::Null)
}

/// The pods an operator makes of `object`, as Strata hands it over.
fn operated_pods(object: &Value) -> Option<Vec<OperatedPod>> {
    let kind = object["kind"].as_str().unwrap_or_default();
    let name = object["metadata"]["name"].as_str().unwrap_or_default();
    let named = |pod: &Value, containers: &[(&str, &str)]| OperatedPod {
        what: format!("{kind}/{name}"),
        pod: pod.clone(),
        containers: containers
            .iter()
            .map(|(c, pointer)| ((*c).to_string(), at(object, pointer).clone()))
            .collect(),
    };
    let template = |spec: &Value, what: String, added: &[&str]| {
        let mut containers: Vec<(String, Value)> = spec["containers"]
            .as_array()
            .into_iter()
            .flatten()
            .chain(spec["initContainers"].as_array().into_iter().flatten())
            .map(|c| {
                (
                    c["name"].as_str().unwrap_or_default().to_string(),
                    c["securityContext"].clone(),
                )
            })
            .collect();
        // What the operator adds unless the template names it.
        for added in added {
            if !containers.iter().any(|(n, _)| n == added) {
                containers.push(((*added).to_string(), Value::Null));
            }
        }
        OperatedPod {
            what,
            pod: spec["securityContext"].clone(),
            containers,
        }
    };
    Some(match kind {
        "ClickHouseInstallation" | "ClickHouseKeeperInstallation" => {
            let logs = !object["spec"]["defaults"]["templates"]["logVolumeClaimTemplate"].is_null();
            let (main, added): (&str, &[&str]) = if kind == "ClickHouseInstallation" {
                ("clickhouse", if logs { &["clickhouse-log"] } else { &[] })
            } else {
                ("clickhouse-keeper", &[])
            };
            object["spec"]["templates"]["podTemplates"]
                .as_array()?
                .iter()
                .map(|t| {
                    let mut pod = template(&t["spec"], format!("{kind}/{name}"), added);
                    assert!(
                        pod.containers.iter().any(|(n, _)| n == main),
                        "{kind}/{name}: the template names `{main}`"
                    );
                    pod.what.push_str(&format!(" template {}", t["name"]));
                    pod
                })
                .collect()
        }
        "RayCluster" => {
            let mut pods = vec![template(
                &object["spec"]["headGroupSpec"]["template"]["spec"],
                format!("{kind}/{name} head"),
                &[],
            )];
            for group in object["spec"]["workerGroupSpecs"].as_array()? {
                pods.push(template(
                    &group["template"]["spec"],
                    format!("{kind}/{name} {}", group["groupName"]),
                    &[],
                ));
            }
            pods
        }
        "Elasticsearch" => object["spec"]["nodeSets"]
            .as_array()?
            .iter()
            .map(|set| {
                template(
                    &set["podTemplate"]["spec"],
                    format!("{kind}/{name} {}", set["name"]),
                    &["elasticsearch"],
                )
            })
            .collect(),
        "KafkaNodePool" => vec![named(
            at(object, "/spec/template/pod/securityContext"),
            &[("kafka", "/spec/template/kafkaContainer/securityContext")],
        )],
        "Kafka" => vec![named(
            at(object, "/spec/entityOperator/template/pod/securityContext"),
            &[
                (
                    "topic-operator",
                    "/spec/entityOperator/template/topicOperatorContainer/securityContext",
                ),
                (
                    "user-operator",
                    "/spec/entityOperator/template/userOperatorContainer/securityContext",
                ),
            ],
        )],
        "RedisCluster" => {
            let mut containers = vec![
                ("leader", "/spec/redisLeader/securityContext"),
                ("follower", "/spec/redisFollower/securityContext"),
            ];
            if object["spec"]["redisExporter"]["enabled"] == true {
                containers.push(("exporter", "/spec/redisExporter/securityContext"));
            }
            vec![named(at(object, "/spec/podSecurityContext"), &containers)]
        }
        // The operator's containers drop every capability and forbid
        // privilege escalation themselves; the pod's context is Strata's.
        "Prometheus" => vec![OperatedPod {
            what: format!("{kind}/{name}"),
            pod: object["spec"]["securityContext"].clone(),
            containers: vec![(
                "prometheus".into(),
                json!({ "allowPrivilegeEscalation": false, "capabilities": { "drop": ["ALL"] } }),
            )],
        }],
        _ => return None,
    })
}

/// What `level` refuses in a pod, by Strata's Pod Security evaluator (the
/// one `check` and `render` judge every rendered pod template with): the
/// operated pod as a pod spec of its security contexts.
fn refusals(pod: &OperatedPod, level: &str) -> Vec<String> {
    let level = match level {
        "restricted" => Profile::Restricted,
        "baseline" => Profile::Baseline,
        _ => Profile::Privileged,
    };
    let containers: Vec<Value> = pod
        .containers
        .iter()
        .map(|(name, context)| json!({ "name": name, "securityContext": context }))
        .collect();
    let spec = json!({ "securityContext": pod.pod, "containers": containers });
    pod_security::refusals(&spec, &json!({}), level)
        .into_iter()
        .map(|v| format!("{}: {}", pod.what, v.what))
        .collect()
}

/// An example's directory, whose files its tiers' `manifests:` name.
struct Dir(std::path::PathBuf);

impl render::Assets for Dir {
    fn read(&self, p: &str) -> Result<String, String> {
        std::fs::read_to_string(self.0.join(p)).map_err(|e| e.to_string())
    }
}

const OPERATORS: &str = "operators: { cloudnative-pg: { installed: true }, strimzi: { installed: true }, clickhouse-operator: { installed: true }, redis-operator: { installed: true }, eck-operator: { installed: true }, mysql-operator: { installed: true }, milvus-operator: { installed: true }, kuberay-operator: { installed: true }, prometheus-operator: { installed: true } }\n";

/// Every operated mode, each in a namespace of its own at Strata's default
/// level (restricted, where the service asks for nothing less).
const EVERY_OPERATED_MODE: &str = "      ch: { blueprint: clickhouse, mode: altinity, replicas: 2, volumes: [{ name: logs, size: 1Gi, mountPath: /var/log/clickhouse-server }] }
      kafka: { blueprint: kafka, mode: strimzi, topics: [orders] }
      ray: { blueprint: ray, mode: kuberay }
      shards: { blueprint: redis, mode: cluster }
      search: { blueprint: elasticsearch, mode: eck }
      pg: { blueprint: postgresql, mode: ha }
";

fn render(text: &str) -> Vec<Value> {
    let file = SourceFile::new("p.yaml", text);
    let platform = strata_core::resolve(&spec::parse(&file).unwrap(), None)
        .unwrap_or_else(|e| panic!("{e:#?}"));
    render::render(&platform, &NoAssets)
        .unwrap_or_else(|e| panic!("{e:#?}"))
        .objects
        .into_iter()
        .map(|o| o.value)
        .collect()
}

/// Each operated custom resource's pods against its namespace's enforced
/// level; returns how many pods were checked.
fn check(objects: &[Value], problems: &mut Vec<String>) -> usize {
    let level = |namespace: &str| {
        objects
            .iter()
            .find(|o| o["kind"] == "Namespace" && o["metadata"]["name"] == namespace)
            .and_then(|n| n["metadata"]["labels"]["pod-security.kubernetes.io/enforce"].as_str())
            .unwrap_or("restricted")
            .to_string()
    };
    let mut checked = 0;
    for object in objects {
        let kind = object["kind"].as_str().unwrap_or_default();
        if OPERATOR_MADE.iter().any(|(k, _)| *k == kind) {
            continue;
        }
        let Some(pods) = operated_pods(object) else {
            continue;
        };
        let namespace = object["metadata"]["namespace"].as_str().unwrap_or_default();
        for pod in pods {
            problems.extend(refusals(&pod, &level(namespace)));
            checked += 1;
        }
    }
    checked
}

#[test]
fn every_operated_pod_template_meets_restricted() {
    let mut problems = Vec::new();
    let text = format!(
        "platform: demo\n{OPERATORS}monitoring: {{ controller: {{ namespace: monitoring, labels: {{ app: prometheus }} }} }}\ntiers:\n  - name: data\n    services:\n{EVERY_OPERATED_MODE}      prometheus: {{ blueprint: prometheus, mode: operator }}\n"
    );
    let objects = render(&text);
    assert_eq!(
        at(
            objects.iter().find(|o| o["kind"] == "Namespace").unwrap(),
            "/metadata/labels/pod-security.kubernetes.io~1enforce"
        ),
        "restricted"
    );
    let checked = check(&objects, &mut problems);
    assert!(checked >= 8, "{checked} operated pods");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_example_s_operated_pods_meet_their_namespace_s_level() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut problems = Vec::new();
    let mut checked = 0;
    for entry in std::fs::read_dir(root.join("examples")).unwrap() {
        let path = entry.unwrap().path().join("platform.yaml");
        if !path.exists() {
            continue;
        }
        let file = SourceFile::new("platform.yaml", std::fs::read_to_string(&path).unwrap());
        let doc = spec::parse(&file).unwrap();
        let mut environments = vec![None];
        environments.extend(
            strata_core::model::environment_names(&doc.spec)
                .into_iter()
                .map(Some),
        );
        for env in environments {
            let platform = strata_core::resolve(&doc, env).unwrap();
            let objects: Vec<Value> =
                render::render(&platform, &Dir(path.parent().unwrap().to_path_buf()))
                    .unwrap()
                    .objects
                    .into_iter()
                    .map(|o| o.value)
                    .collect();
            checked += check(&objects, &mut problems);
        }
    }
    assert!(checked > 0);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_checker_refuses_what_restricted_refuses() {
    let pod = |pod: Value, container: Value| OperatedPod {
        what: "p".into(),
        pod,
        containers: vec![("c".into(), container)],
    };
    let good = json!({ "allowPrivilegeEscalation": false, "capabilities": { "drop": ["ALL"] } });
    let pod_context =
        json!({ "runAsNonRoot": true, "seccompProfile": { "type": "RuntimeDefault" } });
    assert!(refusals(&pod(pod_context.clone(), good.clone()), "restricted").is_empty());
    assert_eq!(
        refusals(&pod(json!(null), good.clone()), "restricted").len(),
        2
    );
    assert_eq!(
        refusals(&pod(pod_context.clone(), json!(null)), "restricted").len(),
        2
    );
    assert!(refusals(&pod(pod_context.clone(), json!(null)), "baseline").is_empty());
    let privileged = json!({ "privileged": true });
    assert!(!refusals(&pod(pod_context, privileged), "baseline").is_empty());
}

#[test]
fn check_warns_where_an_operator_makes_containers_strata_cannot_secure() {
    let warnings = |namespaces: &str| {
        let text = format!(
            "platform: demo\n{OPERATORS}{namespaces}tiers:\n  - name: data\n    namespace: db\n    services:\n      mysql: {{ blueprint: mysql, mode: ha }}\n      ch: {{ blueprint: clickhouse, mode: altinity }}\n"
        );
        let file = SourceFile::new("p.yaml", text);
        let platform = strata_core::resolve(&spec::parse(&file).unwrap(), None)
            .unwrap_or_else(|e| panic!("{e:#?}"));
        platform
            .warnings()
            .iter()
            .filter(|w| w.code == "operator-pod-security")
            .map(|w| format!("{} {}", w.message, w.location().unwrap_or_default()))
            .collect::<Vec<_>>()
    };
    let restricted = warnings("");
    assert_eq!(restricted.len(), 1, "{restricted:?}");
    assert!(
        restricted[0].contains("`mysql` runs through `mysql-operator`")
            && restricted[0].contains("the init containers and the sidecar")
            && restricted[0].ends_with("p.yaml:7:7"),
        "{restricted:?}"
    );
    assert!(warnings("namespaces: { db: { podSecurity: { enforce: baseline } } }\n").is_empty());
}
