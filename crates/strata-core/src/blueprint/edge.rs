//! OpenResty and nginx as the platform's edge proxy: one shared nginx
//! configuration (temporary files under `/tmp`, a health endpoint, an
//! upstream with keep-alive), differing only in image and paths.

use serde_json::json;

use super::recipe::{self, reference, resources, user};
use crate::model::{Auth, Blueprint, BlueprintInfo, Mode, OptionDoc, Recipe, Supplied, Tuning};

const OPTIONS: &[OptionDoc] = &[OptionDoc::text(
    "upstream",
    "The platform service every request is proxied to (its first port); without it, the proxy answers only `/healthz`.",
)];

/// How clients of either proxy authenticate.
const EDGE_AUTH: Auth =
    Auth::none("none: the proxy passes every request to its upstream, which decides");

/// The `openresty` blueprint.
pub(super) struct OpenResty;

impl Blueprint for OpenResty {
    fn info(&self) -> &'static BlueprintInfo {
        &OPENRESTY_INFO
    }

    fn recipe(&self, tuning: &Tuning) -> Recipe {
        openresty(tuning)
    }
}

static OPENRESTY_INFO: BlueprintInfo = BlueprintInfo {
    name: "openresty",
    summary: "OpenResty as the edge proxy in front of one upstream service",
    modes: &[Mode::new(
        "edge",
        "proxy pods on port 8080 running as a non-root user",
        2,
    )],
    version: "1.25.3.2-alpine",
    takes: &[],
    options: OPTIONS,
    auth: EDGE_AUTH,
};

/// The `nginx` blueprint.
pub(super) struct Nginx;

impl Blueprint for Nginx {
    fn info(&self) -> &'static BlueprintInfo {
        &NGINX_INFO
    }

    fn recipe(&self, tuning: &Tuning) -> Recipe {
        nginx(tuning)
    }
}

static NGINX_INFO: BlueprintInfo = BlueprintInfo {
    name: "nginx",
    summary: "nginx (the unprivileged image) as the edge proxy in front of one upstream service",
    modes: &[Mode::new(
        "edge",
        "proxy pods on port 8080 running as the image's non-root user",
        2,
    )],
    version: "1.27.3-alpine",
    takes: &[],
    options: OPTIONS,
    auth: EDGE_AUTH,
};

fn config(tuning: &Tuning, mime_types: &str) -> String {
    let (upstream, location) = match tuning.options.get("upstream") {
        Some(service) => (
            format!("  upstream app {{\n    server {};\n    keepalive 32;\n  }}\n", reference(service, "address")),
            "    location / {\n      proxy_pass http://app;\n      proxy_http_version 1.1;\n      proxy_set_header Connection \"\";\n      proxy_set_header Host $host;\n      proxy_set_header X-Real-IP $remote_addr;\n      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n      proxy_set_header X-Forwarded-Proto $scheme;\n      proxy_connect_timeout 1s;\n      proxy_read_timeout 60s;\n    }\n".to_string(),
        ),
        None => (String::new(), "    location / {\n      return 404;\n    }\n".to_string()),
    };
    format!(
        "# Written by the Strata edge blueprint.\n\
         worker_processes auto;\n\
         pid /tmp/nginx.pid;\n\
         error_log /dev/stderr warn;\n\
         events {{\n  worker_connections 4096;\n}}\n\
         http {{\n\
         \x20 include {mime_types};\n\
         \x20 access_log /dev/stdout;\n\
         \x20 client_body_temp_path /tmp/client_body;\n\
         \x20 proxy_temp_path /tmp/proxy;\n\
         \x20 fastcgi_temp_path /tmp/fastcgi;\n\
         \x20 uwsgi_temp_path /tmp/uwsgi;\n\
         \x20 scgi_temp_path /tmp/scgi;\n\
         \x20 server_tokens off;\n\
         \x20 sendfile on;\n\
         \x20 keepalive_timeout 65;\n\
         {upstream}\
         \x20 server {{\n\
         \x20   listen 8080;\n\
         \x20   location = /healthz {{\n      access_log off;\n      return 200 \"ok\\n\";\n    }}\n\
         {location}\
         \x20 }}\n\
         }}\n"
    )
}

fn edge(tuning: &Tuning, image: String, binary: &str, mime_types: &str, user_id: u32) -> Recipe {
    let mut spec = json!({
        "image": image,
        "command": [binary, "-e", "/dev/stderr", "-c", "/etc/strata-edge/nginx.conf", "-g", "daemon off;"],
        "ports": { "http": 8080 },
        "probes": { "port": "http", "path": "/healthz" },
        "security": user(user_id, user_id, true),
        "resources": resources("250m", "128Mi", "1", "512Mi"),
        "config": { "mountPath": "/etc/strata-edge", "files": { "nginx.conf": config(tuning, mime_types) } },
    });
    if let Some(upstream) = tuning.options.get("upstream") {
        spec["needs"] = json!([upstream]);
    }
    Recipe {
        spec,
        supplied: Supplied {
            exports: recipe::endpoint(tuning, &tuning.service, "http", 8080),
            ..Supplied::default()
        },
    }
}

fn openresty(tuning: &Tuning) -> Recipe {
    edge(
        tuning,
        format!("openresty/openresty:{}", tuning.version),
        "openresty",
        "/usr/local/openresty/nginx/conf/mime.types",
        1000,
    )
}

fn nginx(tuning: &Tuning) -> Recipe {
    edge(
        tuning,
        format!("nginxinc/nginx-unprivileged:{}", tuning.version),
        "nginx",
        "/etc/nginx/mime.types",
        101,
    )
}
