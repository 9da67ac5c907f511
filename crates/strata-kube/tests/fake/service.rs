//! The fake as a `tower::Service`, the way `kube::Client` talks to it: the
//! request body read, every request delayed by the fake's request latency,
//! applies counted while in flight (and delayed when the test asks), the
//! answer sent back as JSON or plain text, or a watch streamed as changes
//! happen (one JSON event a line, as the API server sends them).

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::stream::{self, StreamExt};
use http::{Request, Response, StatusCode};
use http_body::Frame;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use kube::client::Body;
use serde_json::{Value, json};
use tokio::time::Instant;

use super::Fake;
use super::requests::changes_since;
use super::routing::{Answer, Watch};

/// A response body: a whole answer or a watch's stream of events.
pub(crate) type Answered = BoxBody<Bytes, Infallible>;

impl tower::Service<Request<Body>> for Fake {
    type Response = Response<Answered>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        let fake = self.clone();
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let body = body
                .collect()
                .await
                .map(http_body_util::Collected::to_bytes)
                .unwrap_or_default();
            let header = |name| {
                parts
                    .headers
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string()
            };
            let content_type = header(http::header::CONTENT_TYPE);
            let accept = header(http::header::ACCEPT);
            let is_apply =
                parts.method == http::Method::PATCH && content_type.contains("apply-patch");
            let is_proxy = parts.uri.path().contains("/proxy");
            let (latency, delay) = {
                let mut state = fake.lock();
                if is_apply {
                    state.in_flight += 1;
                    state.max_in_flight = state.max_in_flight.max(state.in_flight);
                }
                if is_proxy {
                    state.proxies_in_flight += 1;
                    state.max_proxies_in_flight =
                        state.max_proxies_in_flight.max(state.proxies_in_flight);
                }
                (
                    state.request_latency,
                    state.apply_delay.filter(|_| is_apply),
                )
            };
            if let Some(latency) = latency {
                tokio::time::sleep(latency).await;
            }
            if let Some(delay) = delay {
                tokio::time::sleep(delay).await;
            }
            // Who the caller acts as: the tests name a ServiceAccount by
            // impersonation, which kubectl sends over plain HTTP.
            let user = parts
                .headers
                .get("impersonate-user")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let answer = fake.handle(
                &parts.method,
                &parts.uri,
                user.as_deref(),
                &content_type,
                &accept,
                &body,
            );
            if is_apply {
                fake.lock().in_flight -= 1;
            }
            if is_proxy {
                fake.lock().proxies_in_flight -= 1;
            }
            let ((code, value, text), warnings) = match answer {
                Answer::Reply(reply, warnings) => (reply, warnings),
                Answer::Watch(watch) => {
                    let body = BodyExt::boxed(StreamBody::new(fake.watch(*watch)));
                    return Ok(Response::builder()
                        .status(StatusCode::OK)
                        .header(http::header::CONTENT_TYPE, "application/json")
                        .body(body)
                        .expect("a valid response"));
                }
            };
            let body = match text {
                Some(text) => Bytes::from(text),
                None => Bytes::from(serde_json::to_vec(&value).unwrap_or_default()),
            };
            let mut response = Response::builder()
                .status(StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
                .header(http::header::CONTENT_TYPE, "application/json");
            // As the API server: `299 - "TEXT"`, quotes escaped.
            for warning in warnings {
                response = response.header(
                    http::header::WARNING,
                    format!("299 - \"{}\"", warning.replace('"', "\\\"")),
                );
            }
            Ok(response
                .body(BodyExt::boxed(Full::new(body)))
                .expect("a valid response"))
        })
    }
}

impl Fake {
    /// The events of `watch`, each a JSON line, as changes happen: those
    /// after its resourceVersion (from version 0, every object there is
    /// as added), the made-up status of each object reporting ready when
    /// its time comes, until the watch's timeout, which ends it with a
    /// bookmark when asked for.
    fn watch(
        &self,
        watch: Watch,
    ) -> impl futures::Stream<Item = Result<Frame<Bytes>, Infallible>> + Send + use<> {
        let until = Instant::now() + watch.timeout;
        let start = if watch.since == 0 {
            let state = self.lock();
            let (def, ns) = (&watch.target.def, &watch.target.ns);
            let current: Vec<Value> = state
                .objects
                .iter()
                .filter(|(k, _)| {
                    k.0 == def.group && k.1 == def.plural && (ns.is_empty() || k.2 == *ns)
                })
                .map(|(_, s)| json!({"type": "ADDED", "object": state.view(s)}))
                .collect();
            (current, state.version)
        } else {
            (Vec::new(), watch.since)
        };
        let fake = self.clone();
        stream::unfold(
            (fake, watch, start.1, Some(start.0)),
            move |(fake, watch, since, first)| async move {
                if let Some(first) = first {
                    return Some((first, (fake, watch, since, None)));
                }
                loop {
                    let notify = fake.changed.clone();
                    let changed = notify.notified();
                    tokio::pin!(changed);
                    changed.as_mut().enable();
                    let (events, seen, next) = {
                        let mut state = fake.lock();
                        state.settle();
                        let (events, seen) = changes_since(
                            &state,
                            &watch.target,
                            watch.selector.as_ref(),
                            since,
                        );
                        (events, seen, state.next_settling())
                    };
                    if !events.is_empty() {
                        return Some((events, (fake, watch, seen, None)));
                    }
                    if Instant::now() >= until {
                        if !watch.bookmarks {
                            return None;
                        }
                        let def = &watch.target.def;
                        let api_version = if def.group.is_empty() {
                            def.version.clone()
                        } else {
                            format!("{}/{}", def.group, def.version)
                        };
                        let bookmark = json!({"type": "BOOKMARK", "object": {"apiVersion": api_version,
                            "kind": def.kind, "metadata": {"resourceVersion": seen.to_string()}}});
                        let mut ended = watch;
                        ended.bookmarks = false;
                        return Some((vec![bookmark], (fake, ended, seen, None)));
                    }
                    let wake = next.map_or(until, |at| at.min(until));
                    tokio::select! {
                        () = &mut changed => {}
                        () = tokio::time::sleep_until(wake) => {}
                    }
                }
            },
        )
        .flat_map(|events| {
            stream::iter(events.into_iter().map(|event| {
                let mut line = serde_json::to_vec(&event).unwrap_or_default();
                line.push(b'\n');
                Ok(Frame::data(Bytes::from(line)))
            }))
        })
    }
}
