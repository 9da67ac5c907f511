//! Resource amounts as written in a spec: CPU and bytes.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};

use super::decode::{Decode, Decoder};
use super::yaml::Node;
use crate::quantity::{Measure, Quantity};

/// CPU, in cores (`2`, `0.5`, `500m`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Cpu(pub Quantity);

/// Memory or storage, in bytes (`512Mi`, `10Gi`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Bytes(pub Quantity);

fn decode_quantity(
    node: &Node,
    d: &mut Decoder<'_>,
    measure: Measure,
    expected: &str,
) -> Option<Quantity> {
    let text = d.scalar(node, expected)?;
    match Quantity::parse(text, measure) {
        Ok(q) => Some(q),
        Err(err) => {
            let example = match measure {
                Measure::Cpu => "write cores as `2`, `0.5` or `500m`",
                Measure::Bytes => "write bytes with a unit: `512Mi`, `10Gi`, `1G`",
                Measure::Count => "write a whole number",
            };
            let help = match &err.suggestion {
                Some(s) => format!("did you mean `{s}`? ({example})"),
                None => example.to_string(),
            };
            d.report(
                d.error("invalid-quantity", err.message, node.span, "not a quantity")
                    .help(help),
            );
            None
        }
    }
}

impl Decode for Cpu {
    const EXPECTED: &'static str = "a CPU amount such as `500m` or `2`";
    fn decode(node: Node, d: &mut Decoder<'_>) -> Option<Self> {
        let node = &node;
        decode_quantity(node, d, Measure::Cpu, Self::EXPECTED).map(Cpu)
    }
}

impl Decode for Bytes {
    const EXPECTED: &'static str = "a size such as `512Mi` or `10Gi`";
    fn decode(node: Node, d: &mut Decoder<'_>) -> Option<Self> {
        let node = &node;
        // `512m` is valid Kubernetes syntax for half a byte: never what is meant.
        if let Some(number) = node
            .as_scalar()
            .and_then(|t| t.strip_suffix('m'))
            .filter(|n| n.parse::<f64>().is_ok())
        {
            d.report(
                d.error(
                    "invalid-quantity",
                    format!("`{number}m` is {number} thousandths of a byte"),
                    node.span,
                    "milli-bytes",
                )
                .help(format!(
                    "did you mean `{number}Mi`? (`m` means milli; mebibytes are `Mi`)"
                )),
            );
            return None;
        }
        decode_quantity(node, d, Measure::Bytes, Self::EXPECTED).map(Bytes)
    }
}

const QUANTITY_PATTERN: &str =
    r"^\+?([0-9]+(\.[0-9]*)?|\.[0-9]+)(([KMGTPE]i)|[numkMGTPE]|[eE][-+]?[0-9]+)?$";

impl JsonSchema for Cpu {
    fn schema_name() -> Cow<'static, str> {
        "Cpu".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "CPU cores as a Kubernetes quantity: `2`, `0.5`, `500m`.",
            "anyOf": [{ "type": "number", "minimum": 0 }, { "type": "string", "pattern": QUANTITY_PATTERN }]
        })
    }
}

impl JsonSchema for Bytes {
    fn schema_name() -> Cow<'static, str> {
        "Bytes".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "Bytes as a Kubernetes quantity: `512Mi`, `10Gi`, `1G`.",
            "anyOf": [{ "type": "integer", "minimum": 0 }, { "type": "string", "pattern": QUANTITY_PATTERN }]
        })
    }
}
