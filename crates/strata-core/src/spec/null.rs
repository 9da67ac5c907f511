//! What `~` (null) means under each key of a spec: nothing is ignored.
//!
//! A key whose default a spec may need to undo is *clearable*: `~` (and
//! the word `none` where its type says so) clears the default, and the
//! reference (docs/spec.md) says what that leaves. Under every other key `~`
//! is refused at its line (`null-value`): it would otherwise read as "not
//! written" and the default would apply silently.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};

use super::decode::{Decode, Decoder, Map, Spanned};
use super::yaml::{Node, NodeKind};

/// How a record's key treats `~`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NullPolicy {
    /// The key must be written; `~` counts as missing.
    Required,
    /// `~` is refused (`null-value`).
    Refused,
    /// `~` clears the key's default.
    Clears,
}

/// A type a spec may clear with `~`: the value that stands for "none".
pub trait Clearable: Decode {
    /// The value `~` decodes to.
    fn cleared() -> Self;
}

impl<T: Decode> Clearable for Vec<Spanned<T>> {
    fn cleared() -> Self {
        Vec::new()
    }
}

impl<K: Decode + PartialEq, V: Decode> Clearable for Map<K, V>
where
    Map<K, V>: Decode,
{
    fn cleared() -> Self {
        Map(Vec::new())
    }
}

impl<T: Clearable> Clearable for Box<T> {
    fn cleared() -> Self {
        Box::new(T::cleared())
    }
}

/// A value, or `none` (also written `~`): a setting that can be switched
/// off where Strata would otherwise supply a default (`limits: none`).
#[derive(Debug, Clone, PartialEq)]
pub enum OrNone<T> {
    /// `none` or `~`.
    None,
    /// A value.
    Value(T),
}

impl<T> OrNone<T> {
    /// The value, unless `none`.
    pub fn value(&self) -> Option<&T> {
        match self {
            OrNone::None => None,
            OrNone::Value(value) => Some(value),
        }
    }
}

impl<T: Decode> Decode for OrNone<T> {
    const EXPECTED: &'static str = T::EXPECTED;
    fn decode(node: Node, d: &mut Decoder<'_>) -> Option<Self> {
        if node.is_null() || is_none_word(&node) {
            return Some(OrNone::None);
        }
        T::decode(node, d).map(OrNone::Value)
    }
}

impl<T: Decode> Clearable for OrNone<T> {
    fn cleared() -> Self {
        OrNone::None
    }
}

impl<T: JsonSchema> JsonSchema for OrNone<T> {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        format!("{}OrNone", T::schema_name()).into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let value = generator.subschema_for::<T>();
        json_schema!({ "anyOf": [value, { "const": "none" }] })
    }
}

/// Whether `node` is the plain word `none`.
pub(crate) fn is_none_word(node: &Node) -> bool {
    matches!(&node.kind, NodeKind::Scalar { text, quoted: false } if text == "none")
}

/// The JSON Schema of each kind of record key, applied by `record!`: an
/// optional key that refuses `~` does not admit null, a clearable one does.
pub(crate) mod nullability {
    use schemars::Schema;
    use serde_json::Value;

    /// A required key: as generated.
    pub(crate) fn required(_: &mut Schema) {}

    /// An optional key: null removed from what the generator allowed.
    pub(crate) fn optional(schema: &mut Schema) {
        let Some(object) = schema.as_object_mut() else {
            return;
        };
        if let Some(Value::Array(types)) = object.get_mut("type") {
            types.retain(|t| t != "null");
            if types.len() == 1 {
                let only = types[0].clone();
                object.insert("type".into(), only);
            }
        }
        let single = match object.get_mut("anyOf") {
            Some(Value::Array(choices)) => {
                choices.retain(|c| c.get("type").and_then(Value::as_str) != Some("null"));
                (choices.len() == 1).then(|| choices[0].clone())
            }
            _ => None,
        };
        if let Some(Value::Object(only)) = single {
            object.remove("anyOf");
            for (key, value) in only {
                object.entry(key).or_insert(value);
            }
        }
    }

    /// A clearable key: null admitted.
    pub(crate) fn clearable(schema: &mut Schema) {
        let null = serde_json::json!({ "type": "null" });
        let Some(object) = schema.as_object_mut() else {
            return;
        };
        let admits_null = match object.get("type") {
            Some(Value::String(t)) => t == "null",
            Some(Value::Array(types)) => types.iter().any(|t| t == "null"),
            _ => false,
        } || matches!(object.get("anyOf"), Some(Value::Array(choices)) if choices.contains(&null));
        if admits_null {
            return;
        }
        if let Some(Value::Array(choices)) = object.get_mut("anyOf") {
            choices.push(null);
            return;
        }
        let description = object.remove("description");
        let inner = Value::Object(std::mem::take(object));
        object.insert("anyOf".into(), serde_json::json!([inner, null]));
        if let Some(description) = description {
            object.insert("description".into(), description);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::NullPolicy;
    use crate::source::SourceFile;
    use crate::spec::decode::{Decode, Decoder};
    use crate::spec::network::*;
    use crate::spec::platform::*;
    use crate::spec::runtime::*;
    use crate::spec::service::*;
    use crate::spec::storage::*;
    use crate::spec::yaml;

    /// Every record of the spec, with what `~` under each of its keys does
    /// and a decoder of one key set to `~`.
    type Walk = (
        &'static str,
        &'static [(&'static str, NullPolicy)],
        fn(&str) -> Vec<(String, usize)>,
    );

    /// Decodes `{ KEY: ~ }` as `T`, as an override would (required keys may
    /// be missing), and returns each problem's code and line.
    fn null_of<T: Decode>(key: &str) -> Vec<(String, usize)> {
        let file = SourceFile::new("n.yaml", format!("\n{key}: ~\n"));
        let node = yaml::parse(&file).unwrap();
        let mut decoder = Decoder::new(&file);
        let _ = decoder.partial::<T>(node);
        decoder
            .into_diagnostics()
            .iter()
            .map(|d| {
                let line = d.location().unwrap_or_default();
                let line = line
                    .split(':')
                    .nth(1)
                    .and_then(|l| l.parse().ok())
                    .unwrap_or(0);
                (d.code.to_string(), line)
            })
            .collect()
    }

    macro_rules! records {
        ($($ty:ident),* $(,)?) => {
            vec![$((stringify!($ty), $ty::NULLS, null_of::<$ty> as fn(&str) -> Vec<(String, usize)>)),*]
        };
    }

    fn every_record() -> Vec<Walk> {
        records![
            GatewaySpec,
            ListenSpec,
            CorsRecord,
            ControllerSpec,
            ServiceObjectSpec,
            JwtSpec,
            ExposeSpec,
            CallsSpec,
            EgressSpec,
            ExternalSpec,
            NetworkSpec,
            TelemetrySpec,
            TracingSpec,
            ServeSpec,
            HashSpec,
            LoadBalancerRecord,
            PlatformSpec,
            RegistrySpec,
            DeliverySpec,
            ArgoCdSpec,
            ArgoRetrySpec,
            PriorityDetail,
            OperatorSpec,
            StorageClassSpec,
            SecretSpec,
            MonitoringSpec,
            SloSpec,
            LatencySpec,
            EnvironmentSpec,
            DefaultsSpec,
            NodePoolSpec,
            CapacitySpec,
            NamespaceSpec,
            PodSecuritySpec,
            BudgetSpec,
            BudgetLimitsSpec,
            ContainerLimitsSpec,
            TierSpec,
            TenantSpec,
            NodeRange,
            ProbeSettings,
            ProbeSpec,
            SecuritySettings,
            AutoscaleSpec,
            ScalingSpec,
            MetricsSpec,
            ConfigSpec,
            FileRef,
            PatchSpec,
            ServiceSpec,
            AccessSpec,
            SpawnsSpec,
            DatabaseDetail,
            TopicDetail,
            ResourcesSpec,
            ResourceList,
            PortDetail,
            VolumeSpec,
            NamedVolumeSpec,
            InitStepSpec,
            SidecarSpec,
            ScratchDetail,
            BackupSpec,
            SecretRef,
            ConfigRef,
        ]
    }

    #[test]
    fn the_walk_covers_every_record_of_the_spec() {
        let sources = [
            include_str!("network.rs"),
            include_str!("platform.rs"),
            include_str!("runtime.rs"),
            include_str!("service.rs"),
            include_str!("storage.rs"),
        ];
        let mut declared: Vec<&str> = sources
            .iter()
            .flat_map(|s| s.split("record! {").skip(1))
            .filter_map(|block| block.split("pub struct ").nth(1))
            .filter_map(|rest| rest.split_whitespace().next())
            .collect();
        declared.sort_unstable();
        let mut walked: Vec<&str> = every_record().iter().map(|(name, _, _)| *name).collect();
        walked.sort_unstable();
        assert_eq!(declared, walked, "add the new record to `every_record`");
    }

    #[test]
    fn null_is_refused_at_its_line_or_clears_under_every_key() {
        let docs = include_str!("../../../../docs/spec.md");
        for (record, nulls, decode) in every_record() {
            for &(key, policy) in nulls {
                let problems = decode(key);
                let refused = problems.contains(&("null-value".to_string(), 2));
                match policy {
                    NullPolicy::Refused => {
                        assert!(refused, "{record}.{key}: `~` not refused: {problems:?}");
                    }
                    NullPolicy::Clears => {
                        assert!(!refused, "{record}.{key}: `~` refused though clearable");
                        // Each clearable key's row in the reference says what `~` leaves.
                        let row = docs
                            .lines()
                            .find(|l| l.starts_with(&format!("| `{key}` |")) && l.contains('~'));
                        assert!(
                            row.is_some(),
                            "docs/spec.md: no row of `{key}` says what `~` clears"
                        );
                    }
                    NullPolicy::Required => {
                        assert!(
                            !refused,
                            "{record}.{key}: required keys count `~` as missing"
                        );
                    }
                }
            }
        }
    }
}
