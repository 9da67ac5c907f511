//! `strata logs`: the logs of every container of every pod of a service,
//! merged as they come, each line prefixed with its pod and container.

use std::time::Duration;

use futures::io::AsyncBufReadExt;
use futures::stream::{self, BoxStream, StreamExt};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, LogParams};
use strata_core::kind;
use strata_core::render::RenderedSet;

use crate::apply::pod_selector;
use crate::cluster::{Cluster, ClusterError, ObjectId};

/// Which logs.
#[derive(Debug, Clone, Default)]
pub struct LogOptions {
    /// Keep streaming new lines.
    pub follow: bool,
    /// Only lines newer than this.
    pub since: Option<Duration>,
    /// Only the last N lines of each container.
    pub tail: Option<i64>,
}

/// Why logs cannot be shown.
#[derive(Debug, thiserror::Error)]
pub enum LogsError {
    /// The service is not rendered by the spec.
    #[error("`{name}` is not a service with pods in this platform; services with pods: {known}")]
    UnknownService {
        /// The name given.
        name: String,
        /// The services that have pods.
        known: String,
    },
    /// The service has no pods right now.
    #[error(
        "no pods of `{service}` in namespace `{namespace}` (selector {selector}); is it applied? `strata status` shows it"
    )]
    NoPods {
        /// The service.
        service: String,
        /// Its namespace.
        namespace: String,
        /// The label selector used.
        selector: String,
    },
    /// The cluster refused.
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    /// A log stream failed.
    #[error("cannot read the logs of {pod}: {message}")]
    Stream {
        /// `pod/container`.
        pod: String,
        /// What failed.
        message: String,
    },
}

/// Where the pods of `service` are: the workload's id and its pod selector.
pub fn find(set: &RenderedSet, service: &str) -> Result<(ObjectId, String), LogsError> {
    let with_pods: Vec<(&str, ObjectId, String)> = set
        .objects
        .iter()
        .filter_map(|o| {
            let selector = pod_selector(&o.value)?;
            Some((o.service.as_deref()?, ObjectId::of(&o.value), selector))
        })
        .collect();
    with_pods
        .iter()
        .find(|(s, _, _)| *s == service)
        .map(|(_, id, selector)| (id.clone(), selector.clone()))
        .ok_or_else(|| LogsError::UnknownService {
            name: service.to_string(),
            known: with_pods
                .iter()
                .map(|(s, _, _)| *s)
                .collect::<Vec<_>>()
                .join(", "),
        })
}

/// Streams the logs of the pods of `service` to `line(prefix, text)`;
/// returns when every stream has ended (never, with `follow`, unless the
/// pods go away).
pub async fn logs(
    cluster: &Cluster,
    set: &RenderedSet,
    service: &str,
    options: &LogOptions,
    mut line: impl FnMut(&str, &str),
) -> Result<usize, LogsError> {
    let (workload, selector) = find(set, service)?;
    let namespace = cluster.namespace_of(&workload).await?;
    let pods = cluster.list("v1", kind::POD, &namespace, &selector).await?;
    if pods.is_empty() {
        return Err(LogsError::NoPods {
            service: service.to_string(),
            namespace,
            selector,
        });
    }
    let api: Api<Pod> = Api::namespaced(cluster.client().clone(), &namespace);
    let mut streams: Vec<BoxStream<'static, Result<(String, String), LogsError>>> = Vec::new();
    for pod in &pods {
        let name = pod["metadata"]["name"].as_str().unwrap_or("").to_string();
        let containers: Vec<String> = pod["spec"]["containers"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c["name"].as_str().map(str::to_string))
            .collect();
        let several = containers.len() > 1;
        for container in containers {
            let params = LogParams {
                container: Some(container.clone()),
                follow: options.follow,
                since_seconds: options.since.map(|d| d.as_secs().cast_signed()),
                tail_lines: options.tail,
                ..LogParams::default()
            };
            let prefix = if several {
                format!("{name}/{container}")
            } else {
                name.clone()
            };
            // A container still waiting to start (image pull, config) has no
            // log yet: say so on its line and read the others.
            let reader = match api.log_stream(&name, &params).await {
                Ok(reader) => reader,
                Err(e) => {
                    line(&prefix, &format!("(no log: {})", refusal(pod, &e)));
                    continue;
                }
            };
            let lines = reader.lines().map(move |l| match l {
                Ok(text) => Ok((prefix.clone(), text)),
                Err(e) => Err(LogsError::Stream {
                    pod: prefix.clone(),
                    message: e.to_string(),
                }),
            });
            streams.push(lines.boxed());
        }
    }
    let mut merged = stream::select_all(streams);
    while let Some(item) = merged.next().await {
        match item {
            Ok((prefix, text)) => line(&prefix, &text),
            // One broken stream ends that pod's lines, not the others'.
            Err(LogsError::Stream { pod, message }) => {
                line(&pod, &format!("(log ended: {message})"));
            }
            Err(e) => return Err(e),
        }
    }
    Ok(pods.len())
}

/// Why a pod's log could not be read, on one line: the node (whose
/// kubelet serves logs), the HTTP status and the server's message.
fn refusal(pod: &serde_json::Value, error: &kube::Error) -> String {
    let node = pod["spec"]["nodeName"]
        .as_str()
        .map_or_else(|| "no node yet".to_string(), |n| format!("node `{n}`"));
    let what = match error {
        kube::Error::Api(status) => {
            let reason = if status.reason.is_empty() {
                String::new()
            } else {
                format!(" {}", status.reason)
            };
            format!(
                "HTTP {}{reason}: {}",
                status.code,
                one_line(&status.message)
            )
        }
        other => one_line(&other.to_string()),
    };
    format!("{node}, {what}")
}

/// `text` with its line breaks folded into spaces.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_log_is_one_line_with_node_status_and_message() {
        let status: kube::core::Status = serde_json::from_value(serde_json::json!({
            "status": "Failure", "code": 500, "reason": "InternalError",
            "message": "Get \"https://10.0.0.7:10250/containerLogs/shop/api-1/api\":\n dial tcp 10.0.0.7:10250: connect: connection refused"
        }))
        .unwrap();
        let pod =
            serde_json::json!({"metadata": {"name": "api-1"}, "spec": {"nodeName": "worker-2"}});
        let text = refusal(&pod, &kube::Error::Api(Box::new(status)));
        assert_eq!(
            text,
            "node `worker-2`, HTTP 500 InternalError: Get \"https://10.0.0.7:10250/containerLogs/shop/api-1/api\": dial tcp 10.0.0.7:10250: connect: connection refused"
        );
        assert!(!text.contains("Status {"), "no Debug dump");
    }
    use crate::steps::tests::shop;

    #[test]
    fn a_service_is_found_by_its_workload() {
        let mut set = shop();
        set.objects[10].value["spec"] =
            serde_json::json!({"selector": {"matchLabels": {"app.kubernetes.io/name": "api"}}});
        let (id, selector) = find(&set, "api").unwrap();
        assert_eq!(id.to_string(), "Deployment/apps/api");
        assert_eq!(selector, "app.kubernetes.io/name=api");
        let err = find(&set, "nope").unwrap_err();
        assert!(err.to_string().contains("`nope`"));
        assert!(err.to_string().contains("api"));
    }
}
