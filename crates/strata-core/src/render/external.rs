//! Call settings for externals: `STRATA_CALL_<EXTERNAL>_*`, like those of
//! calls between services without a mesh. They are given with a mesh too:
//! its routes cover the platform's services, not a dependency the spec does
//! not run. (Their egress is in `network`.)

use serde_json::{Value, json};

use crate::model::{Platform, Service};

/// `STRATA_CALL_<EXTERNAL>_*` variables for each external `caller` calls.
pub(super) fn env(platform: &Platform, caller: &Service) -> Vec<Value> {
    let mut vars = Vec::new();
    for call in &caller.rare.externals {
        let callee = platform.externals[call.external]
            .name
            .to_ascii_uppercase()
            .replace('-', "_");
        for (suffix, value) in call.calls.settings() {
            if let Some(value) = value {
                vars.push(json!({ "name": format!("STRATA_CALL_{callee}_{suffix}"), "value": value.to_string() }));
            }
        }
    }
    vars
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use crate::model::{self, Platform};
    use crate::render::{NoAssets, render};
    use crate::source::SourceFile;
    use crate::spec;

    const SPEC: &str = "
platform: demo
defaults: { calls: { timeout: 2s } }
externals:
  kafka:
    hosts: [kafka-0.kafka.infra.svc.cluster.local, kafka-1.kafka.infra.svc.cluster.local]
    ports: { kafka: 9092 }
    namespace: infra
    selector: { app.kubernetes.io/name: kafka }
  mail:
    hosts: [smtp.example.com]
    ports: { smtp: 587 }
    cidr: 203.0.113.0/24
tiers:
  - name: apps
    services:
      api:
        image: demo/api:1.0.0
        ports: { http: 8080 }
        env: { BROKERS: '${kafka.address}', TOPIC_PORT: '${kafka.ports.kafka}' }
        needs: [mail]
        calls: { mail: { timeout: 10s } }
      worker: { image: demo/worker:1.0.0, ports: { http: 8080 }, needs: [api] }
";

    fn platform(text: &str) -> Result<Platform, Vec<String>> {
        let file = SourceFile::new("platform.yaml", text);
        let doc = spec::parse(&file)
            .map_err(|d| d.iter().map(|d| d.code.to_string()).collect::<Vec<_>>())?;
        crate::resolve(&doc, None).map_err(|d| d.iter().map(|d| d.code.to_string()).collect())
    }

    fn egress(objects: &[crate::render::Object], name: &str) -> Value {
        objects
            .iter()
            .find(|o| o.kind() == "NetworkPolicy" && o.name() == format!("{name}-egress"))
            .map_or(Value::Null, |o| o.value["spec"]["egress"].clone())
    }

    #[test]
    fn externals_export_fields_make_edges_without_waves_and_open_egress() {
        let platform = platform(SPEC).unwrap();
        let api = platform.service("api").unwrap();
        assert_eq!(api.wave, 1, "externals run already: nothing to wait for");
        assert!(api.needs.is_empty());
        let named: Vec<&str> = api
            .rare
            .externals
            .iter()
            .map(|c| platform.externals[c.external].name.as_str())
            .collect();
        assert_eq!(named, ["kafka", "mail"]);
        let env = |name: &str| {
            api.env
                .iter()
                .find(|v| v.name == name)
                .map(|v| v.value.clone())
        };
        assert_eq!(
            env("BROKERS"),
            Some(model::EnvValue::Literal(
                "kafka-0.kafka.infra.svc.cluster.local:9092,kafka-1.kafka.infra.svc.cluster.local:9092".into()
            ))
        );
        assert_eq!(
            env("TOPIC_PORT"),
            Some(model::EnvValue::Literal("9092".into()))
        );

        let objects = render(&platform, &NoAssets).unwrap().objects;
        let rules = egress(&objects, "api");
        assert!(rules.as_array().unwrap().contains(&json!({
            "to": [{
                "namespaceSelector": { "matchLabels": { "kubernetes.io/metadata.name": "infra" } },
                "podSelector": { "matchLabels": { "app.kubernetes.io/name": "kafka" } },
            }],
            "ports": [{ "protocol": "TCP", "port": 9092 }],
        })));
        assert!(rules.as_array().unwrap().contains(&json!({
            "to": [{ "ipBlock": { "cidr": "203.0.113.0/24" } }],
            "ports": [{ "protocol": "TCP", "port": 587 }],
        })));
        assert_eq!(
            egress(&objects, "worker")
                .to_string()
                .matches("9092")
                .count(),
            0
        );

        let deployment = objects
            .iter()
            .find(|o| o.kind() == "Deployment" && o.name() == "api")
            .unwrap();
        let vars = &deployment.value["spec"]["template"]["spec"]["containers"][0]["env"];
        let var = |name: &str| {
            vars.as_array()
                .unwrap()
                .iter()
                .find(|v| v["name"] == name)
                .map(|v| v["value"].clone())
        };
        assert_eq!(var("STRATA_CALL_KAFKA_TIMEOUT_MS"), Some(json!("2000")));
        assert_eq!(var("STRATA_CALL_MAIL_TIMEOUT_MS"), Some(json!("10000")));
    }

    #[test]
    fn an_external_says_where_it_is_once_and_is_named_apart_from_services() {
        let nowhere = SPEC.replace("    cidr: 203.0.113.0/24\n", "");
        assert_eq!(platform(&nowhere).unwrap_err(), ["invalid-external"]);
        let both = SPEC.replace(
            "    cidr: 203.0.113.0/24\n",
            "    cidr: 203.0.113.0/24\n    namespace: mail\n",
        );
        assert_eq!(platform(&both).unwrap_err(), ["invalid-external"]);
        let clash = SPEC
            .replace("  mail:\n", "  worker:\n")
            .replace("[mail]", "[worker]")
            .replace("mail: { timeout", "worker: { timeout");
        assert!(
            platform(&clash)
                .unwrap_err()
                .contains(&"duplicate-external".to_string())
        );
        let field = SPEC.replace("${kafka.ports.kafka}", "${kafka.url}");
        assert_eq!(platform(&field).unwrap_err(), ["unknown-field"]);
        let wait = SPEC.replace("{ timeout: 10s }", "{ wait: false }");
        assert_eq!(platform(&wait).unwrap_err(), ["wait-on-external"]);
    }
}
