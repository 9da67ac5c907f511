//! The fake API server of `strata-kube`'s tests, served over HTTP on a
//! loopback port so that the binary and kubectl talk to it as to a cluster,
//! with a kubeconfig that names it.

#![allow(dead_code)] // each test binary uses its own part

use std::path::Path;

use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tower::Service;

#[path = "../../../strata-kube/tests/fake/mod.rs"]
mod fake;

pub(crate) use fake::Fake;

/// Serves `fake` from a thread of its own; returns the port. The server
/// lives as long as the test process.
pub(crate) fn serve(fake: Fake) -> u16 {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("a loopback port");
            let _ = tx.send(listener.local_addr().expect("an address").port());
            while let Ok((stream, _)) = listener.accept().await {
                let fake = fake.clone();
                tokio::spawn(async move {
                    let service =
                        hyper::service::service_fn(move |request: http::Request<Incoming>| {
                            let mut fake = fake.clone();
                            async move {
                                let (parts, body) = request.into_parts();
                                let bytes = body.collect().await?.to_bytes();
                                let request = http::Request::from_parts(
                                    parts,
                                    kube::client::Body::from(bytes),
                                );
                                Ok::<_, hyper::Error>(
                                    fake.call(request).await.unwrap_or_else(|e| match e {}),
                                )
                            }
                        });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
    });
    rx.recv().expect("the server starts")
}

/// Writes a kubeconfig for the fake on `port` to `path`: as an
/// administrator, or acting as `user` (`system:serviceaccount:NS:NAME`,
/// which RBAC then authorizes). kubectl sends no bearer token over plain
/// HTTP, so the user is named by impersonation (`as:`), which it does send.
pub(crate) fn write_kubeconfig(path: &Path, port: u16, user: Option<&str>) {
    let user = match user {
        Some(name) => format!("{{ as: \"{name}\" }}"),
        None => "{ token: admin }".to_string(),
    };
    std::fs::write(
        path,
        format!(
            "apiVersion: v1
kind: Config
clusters:
- name: fake
  cluster: {{ server: \"http://127.0.0.1:{port}\" }}
users:
- name: me
  user: {user}
contexts:
- name: fake
  context: {{ cluster: fake, user: me, namespace: default }}
current-context: fake
"
        ),
    )
    .expect("the kubeconfig is written");
}
