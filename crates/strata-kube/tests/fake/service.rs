//! The fake as a `tower::Service`, the way `kube::Client` talks to it: the
//! request body read, applies counted while in flight (and delayed when the
//! test asks), the answer sent back as JSON or plain text.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use kube::client::Body;

use super::Fake;

impl tower::Service<Request<Body>> for Fake {
    type Response = Response<Full<Bytes>>;
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
            let content_type = parts
                .headers
                .get(http::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            let is_apply =
                parts.method == http::Method::PATCH && content_type.contains("apply-patch");
            let delay = if is_apply {
                let mut state = fake.lock();
                state.in_flight += 1;
                state.max_in_flight = state.max_in_flight.max(state.in_flight);
                state.apply_delay
            } else {
                None
            };
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
            let ((code, value, text), warnings) = fake.handle(
                &parts.method,
                &parts.uri,
                user.as_deref(),
                &content_type,
                &body,
            );
            if is_apply {
                fake.lock().in_flight -= 1;
            }
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
            Ok(response.body(Full::new(body)).expect("a valid response"))
        })
    }
}
