//! `logs` of a service: every pod's lines, prefixed with the pod, and a
//! word for a pod that has none yet.

mod fake;
mod support;

use fake::Fake;
use serde_json::json;
use strata_kube::logs::{LogOptions, logs};
use support::{insert_shop_namespace, shop, shop_pod};

/// The api pods these tests read.
const PODS: [&str; 2] = ["api-1", "api-2"];

/// Namespace `shop` with the two api pods in it, their container declared.
fn insert_api_pods(fake: &Fake) {
    insert_shop_namespace(fake);
    for name in PODS {
        let mut pod = shop_pod(name, "api");
        pod["spec"] = json!({"containers": [{"name": "api"}]});
        fake.insert(pod, "kubelet");
    }
}

#[tokio::test(start_paused = true)]
async fn logs_of_a_service_come_from_all_its_pods_prefixed() {
    let fake = Fake::new();
    let set = shop();
    let cluster = fake.cluster();
    insert_api_pods(&fake);
    for pod in PODS {
        fake.set_logs(pod, &format!("hello from {pod}\nbye from {pod}\n"));
    }
    let mut lines = Vec::new();
    let pods = logs(&cluster, &set, "api", &LogOptions::default(), |p, l| {
        lines.push(format!("{p} | {l}"));
    })
    .await
    .unwrap();
    assert_eq!(pods, 2);
    lines.sort();
    assert_eq!(
        lines,
        [
            "api-1 | bye from api-1",
            "api-1 | hello from api-1",
            "api-2 | bye from api-2",
            "api-2 | hello from api-2"
        ]
    );
    let none = logs(&cluster, &set, "web", &LogOptions::default(), |_, _| {}).await;
    assert!(none.unwrap_err().to_string().contains("no pods of `web`"));
}

/// A pod whose container is still waiting to start has no log yet: the
/// others are read all the same, and the waiting one says why it is silent.
#[tokio::test(start_paused = true)]
async fn logs_go_on_past_a_pod_that_has_none_yet() {
    let fake = Fake::new();
    let set = shop();
    let cluster = fake.cluster();
    insert_api_pods(&fake);
    // Only api-2 has started: the fake refuses api-1's log.
    fake.set_logs("api-2", "ready\n");
    let mut lines = Vec::new();
    let pods = logs(&cluster, &set, "api", &LogOptions::default(), |p, l| {
        lines.push(format!("{p} | {l}"));
    })
    .await
    .unwrap();
    assert_eq!(pods, 2);
    assert!(lines.contains(&"api-2 | ready".to_string()), "{lines:?}");
    assert!(
        lines.iter().any(|l| l.starts_with("api-1 | (no log:")),
        "{lines:?}"
    );
}

/// A pod whose kubelet does not answer: one line naming its node, the
/// HTTP status and the server's message, never a Debug dump; the other
/// pods are read.
#[tokio::test(start_paused = true)]
async fn a_pod_whose_kubelet_does_not_answer_gets_one_line() {
    let fake = Fake::new();
    let set = shop();
    let cluster = fake.cluster();
    insert_shop_namespace(&fake);
    for (name, node) in [("api-1", "worker-1"), ("api-2", "worker-2")] {
        let mut pod = shop_pod(name, "api");
        pod["spec"] = json!({"containers": [{"name": "api"}], "nodeName": node});
        fake.insert(pod, "kubelet");
    }
    fake.kubelet_down("api-1", "worker-1");
    fake.set_logs("api-2", "ready\n");
    let mut lines = Vec::new();
    logs(&cluster, &set, "api", &LogOptions::default(), |p, l| {
        lines.push(format!("{p} | {l}"));
    })
    .await
    .unwrap();
    let refused: Vec<&String> = lines.iter().filter(|l| l.starts_with("api-1")).collect();
    assert_eq!(refused.len(), 1, "{lines:?}");
    assert!(
        refused[0].starts_with("api-1 | (no log: node `worker-1`, HTTP 500 InternalError: Get ")
            && refused[0].contains("connection refused"),
        "{refused:?}"
    );
    assert!(!refused[0].contains("Status {") && !refused[0].contains("ApiError"));
    assert!(lines.contains(&"api-2 | ready".to_string()), "{lines:?}");
}
