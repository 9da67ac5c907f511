//! The review as a whole: what each check finds in a spec, in which order,
//! and what options switch off.

use super::*;
use crate::finding::{Finding, Priority};
use crate::source::SourceFile;
use crate::spec;

const SPEC: &str = "
platform: shop
environments:
  local: { replicas: 1 }
  prod: {}
namespaces:
  shop: { budget: { cpu: 1 } }
gateways:
  edge: { kind: ingress, hosts: [shop.example.com] }
nodePools:
  general: { selector: { pool: general } }
tiers:
  - name: data
    services:
      db: { image: postgres:16.4, ports: { pg: 5432 }, storage: 10Gi }
  - name: apps
    services:
      orders: { image: shop/orders:1.0.0, ports: { http: 8080 }, needs: [db], expose: { path: /orders } }
      billing:
        image: shop/billing
        ports: { http: 8080 }
        needs: [db]
        env: { STRIPE_API_KEY: sk_live_123 }
        replicas: 3
        spread: false
        probes: false
        security: { profile: baseline }
      vision: { image: shop/vision:1.0.0, gpu: 1, pool: general, resources: { requests: { cpu: 2 } } }
";

fn ids(env: Option<&str>, options: &Options) -> Vec<&'static str> {
    let file = SourceFile::new("shop.yaml", SPEC);
    let platform = crate::resolve(&spec::parse(&file).unwrap(), env).unwrap();
    audit(&platform, options)
        .iter()
        .map(|f| f.check.id)
        .collect()
}

#[test]
fn the_review_finds_each_problem_of_the_spec() {
    let found = ids(Some("prod"), &Options::default());
    for id in [
        "shared-database",
        "over-capacity",
        "secret-in-env",
        "postgres-without-ha",
        "call-without-timeout",
        "gpu-without-pool",
        "route-without-tls",
        "mutable-image-tag",
        "relaxed-security",
        "call-without-circuit-breaker",
        "probes-off",
        "availability-off",
    ] {
        assert!(found.contains(&id), "{id} in {found:?}");
    }
    let priorities: Vec<Priority> = found
        .iter()
        .map(|id| {
            CHECKS
                .iter()
                .find(|c| c.info.id == *id)
                .unwrap()
                .info
                .priority
        })
        .collect();
    let mut sorted = priorities.clone();
    sorted.sort();
    assert_eq!(priorities, sorted, "most urgent first");
}

#[test]
fn findings_go_by_priority_then_service_by_service_the_platform_s_last() {
    let file = SourceFile::new("shop.yaml", SPEC);
    let platform = crate::resolve(&spec::parse(&file).unwrap(), Some("prod")).unwrap();
    let found: Vec<(&str, String)> = audit(&platform, &Options::default())
        .into_iter()
        .map(|f| (f.check.id, f.object))
        .collect();
    let expected = [
        ("shared-database", "service db"),
        ("secret-in-env", "service billing"),
        ("over-capacity", "namespace shop"),
        ("postgres-without-ha", "service db"),
        ("store-without-backup", "service db"),
        ("call-without-timeout", "service orders"),
        ("route-without-tls", "service orders"),
        ("call-without-timeout", "service billing"),
        ("mutable-image-tag", "service billing"),
        ("relaxed-security", "service billing"),
        ("gpu-without-pool", "service vision"),
        ("call-without-circuit-breaker", "service orders"),
        ("call-without-circuit-breaker", "service billing"),
        ("unreachable-service", "service billing"),
        ("probes-off", "service billing"),
        ("availability-off", "service billing"),
        ("probes-off", "service vision"),
    ];
    let expected: Vec<(&str, String)> = expected
        .iter()
        .map(|(id, object)| (*id, object.to_string()))
        .collect();
    assert_eq!(found, expected);
}

#[test]
fn a_laptop_may_run_single_replicas_and_checks_can_be_disabled() {
    assert!(!ids(Some("local"), &Options::default()).contains(&"postgres-without-ha"));
    let options = Options {
        disabled: vec!["shared-database".into()],
        ..Options::default()
    };
    assert!(!ids(Some("prod"), &options).contains(&"shared-database"));
    let strict = Options {
        max_critical_path: 1,
        ..Options::default()
    };
    assert!(ids(Some("prod"), &strict).contains(&"long-critical-path"));
    assert!(!ids(Some("prod"), &Options::default()).contains(&"long-critical-path"));
}

fn findings(spec: &str, env: Option<&str>) -> Vec<Finding> {
    let file = SourceFile::new("t.yaml", spec);
    let platform = crate::resolve(&spec::parse(&file).unwrap(), env).unwrap();
    audit(&platform, &Options::default())
}

const SHARED: &str = "
platform: t
tiers:
  - name: data
    services:
      pg: { blueprint: postgresql, databases: DATABASES }
  - name: apps
    services:
      a: { image: t/a:1.0.0, ports: { http: 8080 }, env: { DB: '${pg.host}' } }
      b: { image: t/b:1.0.0, ports: { http: 8080 }, env: { DB: '${pg.host}' } }
";

#[test]
fn a_database_server_is_shared_until_each_caller_can_have_its_own_owner() {
    let shared = |databases: &str| {
        findings(&SHARED.replace("DATABASES", databases), None)
            .into_iter()
            .filter(|f| f.check.id == "shared-database")
            .map(|f| f.diagnostic.message)
            .collect::<Vec<_>>()
    };
    assert!(shared("[a, b]").is_empty());
    assert!(shared("[{ name: a, owner: a }, { name: b, owner: b }, c]").is_empty());
    let one_owner = shared("[{ name: a, owner: app }, { name: b, owner: app }]");
    assert_eq!(one_owner.len(), 1, "{one_owner:?}");
    assert!(
        one_owner[0].contains("declares 1 database owner(s): 1 more needed"),
        "{one_owner:?}"
    );
    assert!(shared("[]")[0].contains("2 more needed"));
}

#[test]
fn callers_reading_one_owners_password_share_its_database() {
    let spec = SHARED
        .replace(
            "DATABASES",
            "[{ name: core, owner: core }, { name: search, owner: search }]",
        )
        .replace(
            "env: { DB: '${pg.host}' } }\n      b:",
            "env: { DB: '${pg.host}', PW: { secret: pg-core, key: password } } }\n      b:",
        );
    let messages = |spec: &str| {
        findings(spec, None)
            .into_iter()
            .filter(|f| f.check.id == "shared-database")
            .map(|f| f.diagnostic.message)
            .collect::<Vec<_>>()
    };
    let b = "b: { image: t/b:1.0.0, ports: { http: 8080 }, env: { DB: '${pg.host}' } }";
    let reading = |secret: &str| {
        spec.replace(
            b,
            &b.replace(
                "'${pg.host}' }",
                &format!("'${{pg.host}}', PW: {{ secret: {secret}, key: password }} }}"),
            ),
        )
    };
    let own = reading("pg-search");
    assert!(messages(&own).is_empty(), "{:?}", messages(&own));
    let shared = reading("pg-core");
    assert_eq!(messages(&shared), ["`pg` is shared: a, b log in as `core`"]);
}

#[test]
fn init_steps_are_audited_like_the_container() {
    let found = findings(
        "
platform: t
tiers:
  - name: apps
    services:
      api:
        image: t/api:1.0.0
        ports: { http: 8080 }
        init: { seed: { image: 't/seed:latest', env: { SEED_PASSWORD: hunter2 } } }
",
        None,
    );
    let messages = |id: &str| -> Vec<String> {
        found
            .iter()
            .filter(|f| f.check.id == id)
            .map(|f| f.diagnostic.message.clone())
            .collect()
    };
    assert_eq!(
        messages("mutable-image-tag"),
        ["`api` runs `t/seed:latest`"]
    );
    assert_eq!(
        messages("secret-in-env"),
        ["`api` sets SEED_PASSWORD in plain text"]
    );
}

fn ids_for_image(image: &str) -> Vec<&'static str> {
    let spec = format!(
        "platform: t\ntiers:\n  - name: apps\n    services:\n      s: {{ image: '{image}', ports: {{ http: 8080 }} }}\n"
    );
    findings(&spec, None).iter().map(|f| f.check.id).collect()
}

#[test]
fn an_image_is_pinned_by_a_version_tag_or_a_digest() {
    for unpinned in [
        "nginx",
        "nginx:latest",
        "ghcr.io/o/r:main",
        "r:stable",
        "r:master",
        "localhost:5000/a/b",
        "registry:5000/x",
    ] {
        assert!(
            ids_for_image(unpinned).contains(&"mutable-image-tag"),
            "{unpinned}"
        );
    }
    for pinned in [
        "nginx:1.27",
        "nginx@sha256:abc",
        "nginx:latest@sha256:abc",
        "localhost:5000/a/b:1.0",
        "registry:5000",
        "a/b:",
        "a:1:latest",
    ] {
        assert!(
            !ids_for_image(pinned).contains(&"mutable-image-tag"),
            "{pinned}"
        );
    }
}

#[test]
fn the_system_a_service_runs_is_read_from_its_image_s_last_name() {
    for redis in [
        "redis",
        "docker.io/library/redis:7",
        "ghcr.io/acme/redis-stack:7",
        "valkey@sha256:abc",
        "localhost:5000/keydb:6",
    ] {
        assert!(
            ids_for_image(redis).contains(&"redis-single-point"),
            "{redis}"
        );
    }
    for postgres in ["postgres:16", "localhost:5000/db/postgresql@sha256:abc"] {
        assert!(
            ids_for_image(postgres).contains(&"postgres-without-ha"),
            "{postgres}"
        );
    }
    for other in ["redis-exporter:1", "redis/other:1", "registry:5000"] {
        let found = ids_for_image(other);
        assert!(
            !found.contains(&"redis-single-point") && !found.contains(&"postgres-without-ha"),
            "{other}: {found:?}"
        );
    }
}

#[test]
fn secrets_in_the_clear_are_found_where_they_are_written() {
    let spec = "
platform: t
secrets:
  stripe: { data: { api-key: sk_live_1, account: acme } }
tiers:
  - name: apps
    services:
      s:
        image: t/s:1.0.0
        args: [--password=hunter2, --port=80, --api-key, abc]
        config:
          mountPath: /etc/s
          files: { app.ini: \"user = app\\npassword = hunter2\\ntoken_ttl = 60\\n\" }
        env:
          DB_PASSWORD: x
          my_token: y
          DB_PASS: z
          STRIPE_KEY: k
          APIKEY: a
          DATABASE_URL: postgres://app:hunter2@db:5432/app
          PASSWD_FILE: /run/secrets/db
          Credential: ''
          FEATURE_TOKEN_ENABLED: 'true'
          HOST: h
";
    let found: Vec<Finding> = findings(spec, None)
        .into_iter()
        .filter(|f| f.check.id == "secret-in-env")
        .collect();
    let messages: Vec<&str> = found
        .iter()
        .map(|f| f.diagnostic.message.as_str())
        .collect();
    assert_eq!(
        messages,
        [
            "`s` sets DB_PASSWORD in plain text",
            "`s` sets my_token in plain text",
            "`s` sets DB_PASS in plain text",
            "`s` sets STRIPE_KEY in plain text",
            "`s` sets APIKEY in plain text",
            "`s` sets DATABASE_URL to a URL with a password in it",
            "`s` passes --password in plain text on a command line",
            "`s` passes --api-key in plain text on a command line",
            "`s`'s configuration file `app.ini` sets password in plain text",
            "the secret `stripe` gives api-key in plain text under `data:`",
        ]
    );
    // Each variable is reported at its own line, not the service's.
    let line = |f: &Finding| {
        f.diagnostic
            .location()
            .unwrap()
            .rsplit(':')
            .nth(1)
            .unwrap()
            .to_string()
    };
    let lines: Vec<String> = found[..6].iter().map(line).collect();
    assert_eq!(lines, ["15", "16", "17", "18", "19", "20"]);
    assert_eq!(line(&found[9]), "4");
}

#[test]
fn a_mounted_token_is_its_own_finding_unless_the_blueprint_needs_it() {
    let found = findings(
        "
platform: t
tiers:
  - name: ops
    services:
      prometheus: { blueprint: prometheus }
      hub: { image: t/hub:1.0.0, ports: { http: 8080 }, serviceAccountToken: true }
",
        None,
    );
    let tokens: Vec<&str> = found
        .iter()
        .filter(|f| f.check.id == "api-token")
        .map(|f| f.object.as_str())
        .collect();
    assert_eq!(tokens, ["service hub"]);
    assert!(
        !found
            .iter()
            .any(|f| f.check.id == "relaxed-security" && f.object == "service hub"),
        "a token is not a relaxed security profile"
    );
}

#[test]
fn environments_that_are_not_production_may_run_single_replicas() {
    let spec = "
platform: t
environments:
  dev: { production: false }
  local: {}
  sandbox: { production: true }
tiers:
  - name: data
    services:
      pg: { blueprint: postgresql }
";
    let has = |env: Option<&str>| {
        findings(spec, env)
            .iter()
            .any(|f| f.check.id == "postgres-without-ha")
    };
    assert!(has(None));
    assert!(!has(Some("dev")));
    assert!(!has(Some("local")));
    assert!(has(Some("sandbox")));
}

#[test]
fn every_mode_a_fix_suggests_exists() {
    let catalog = crate::blueprint::catalog();
    let lint_fixes = crate::lint::CHECKS.iter().map(|c| c.info.fix);
    for fix in CHECKS.iter().map(|c| c.info.fix).chain(lint_fixes) {
        let mut blueprint = None;
        for part in fix.split(['`', ',', '{', '}']) {
            let part = part.trim();
            if let Some(name) = part.strip_prefix("blueprint: ") {
                blueprint = catalog.get(name.trim());
                assert!(blueprint.is_some(), "`{name}` in {fix:?}");
            } else if let Some(mode) = part.strip_prefix("mode: ") {
                let modes: Vec<&str> = match blueprint {
                    Some(b) => b.info().modes.iter().map(|m| m.name).collect(),
                    None => catalog
                        .all()
                        .flat_map(|b| b.info().modes.iter().map(|m| m.name))
                        .collect(),
                };
                assert!(modes.contains(&mode.trim()), "`mode: {mode}` in {fix:?}");
            }
        }
    }
}

#[test]
fn a_patch_that_breaks_the_namespace_s_pod_security_is_found_at_the_patch() {
    let spec = |patch: &str| {
        format!(
            "
platform: t
tiers:
  - name: apps
    services:
      agent:
        image: t/agent:1.0.0
        ports: {{ http: 8080 }}
        patches:
          - {{ target: Deployment, merge: {{ spec: {{ template: {{ spec: {patch} }} }} }} }}
"
        )
    };
    let found = findings(
        &spec(
            "{ hostNetwork: true, hostPID: true, volumes: [{ name: root, hostPath: { path: / } }] }",
        ),
        None,
    );
    let violation: Vec<&Finding> = found
        .iter()
        .filter(|f| f.check.id == "pod-security-violation")
        .collect();
    assert_eq!(violation.len(), 1, "{found:#?}");
    assert_eq!(violation[0].location().as_deref(), Some("t.yaml:10:13"));
    assert_eq!(violation[0].check.priority, Priority::P0);
    for what in [
        "hostNetwork: true",
        "hostPID: true",
        "the host's `/`",
        "enforce: restricted",
    ] {
        assert!(
            violation[0].diagnostic.message.contains(what),
            "{what}: {}",
            violation[0].diagnostic.message
        );
    }
    // A patch the restricted level allows is no finding.
    let allowed = findings(&spec("{ terminationGracePeriodSeconds: 5 }"), None);
    assert!(
        allowed
            .iter()
            .all(|f| f.check.id != "pod-security-violation"),
        "{allowed:#?}"
    );
}

#[test]
fn a_production_store_is_flagged_until_it_is_backed_up() {
    let spec = |backup: &str| {
        format!(
            "platform: shop\nenvironments:\n  prod: {{ production: true }}\n  dev: {{ production: false }}\ntiers:\n  - name: data\n    services:\n      store: {{ blueprint: minio, backup: none }}\n      db: {{ blueprint: postgresql{backup} }}\n"
        )
    };
    let flagged = |text: String, env: &str| {
        let file = SourceFile::new("shop.yaml", text);
        let platform = crate::resolve(&spec::parse(&file).unwrap(), Some(env)).unwrap();
        audit(&platform, &Options::default())
            .into_iter()
            .filter(|f| f.check.id == "store-without-backup")
            .map(|f| f.object)
            .collect::<Vec<_>>()
    };
    assert_eq!(flagged(spec(""), "prod"), ["service store", "service db"]);
    assert!(flagged(spec(""), "dev").is_empty());
    assert_eq!(
        flagged(spec(", backup: { to: store }"), "prod"),
        ["service store"]
    );
}
