//! Typed decoding of a [`Node`] tree that reports every problem, not the first.
//!
//! Each wire type implements [`Decode`]. A failed field records a diagnostic
//! and yields `None`; its siblings are still decoded, so one `strata check`
//! shows all mistakes of a file at once.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};

use super::null::Clearable;
use super::yaml::{Node, NodeKind};
use crate::diag::{Diagnostic, suggestion};
use crate::source::{SourceFile, Span};

/// A value and the span it was written at.
#[derive(Debug, Clone, PartialEq)]
pub struct Spanned<T> {
    /// The decoded value.
    pub value: T,
    /// Where it was written.
    pub span: Span,
}

impl<T> std::ops::Deref for Spanned<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T: JsonSchema> JsonSchema for Spanned<T> {
    fn inline_schema() -> bool {
        T::inline_schema()
    }
    fn schema_name() -> Cow<'static, str> {
        T::schema_name()
    }
    fn schema_id() -> Cow<'static, str> {
        T::schema_id()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        T::json_schema(generator)
    }
}

/// The text of a scalar `node`, moved out of it; empty for any other node.
/// For decoders that have checked the text through [`Decoder::scalar`].
pub fn into_text(node: Node) -> String {
    match node.kind {
        NodeKind::Scalar { text, .. } => text,
        NodeKind::Seq(_) | NodeKind::Map(_) => String::new(),
    }
}

/// A type that can be read from a YAML [`Node`].
pub trait Decode: Sized {
    /// What a valid value looks like, for "expected …" messages.
    const EXPECTED: &'static str;

    /// Decodes `node`, recording problems in `d`; `None` when it cannot.
    ///
    /// The node is consumed: its strings move into the value rather than
    /// being copied, and a mapping or list is freed entry by entry as it is
    /// decoded, so a large tree and its decoded form never coexist whole.
    fn decode(node: Node, d: &mut Decoder<'_>) -> Option<Self>;
}

/// The state of one decoding pass: the file and the problems found so far.
pub struct Decoder<'f> {
    file: &'f SourceFile,
    diagnostics: Vec<Diagnostic>,
    /// Decoding a fragment merged over something else later (an
    /// environment's override): missing required keys are not reported,
    /// since the merged result is decoded again in full.
    partial: bool,
}

/// The entries of a mapping that passed the unknown-key check, each in the
/// slot of its key in the record's list of keys, taken in that order.
pub struct Fields {
    span: Span,
    keys: &'static [&'static str],
    values: Vec<Option<Node>>,
    next: usize,
}

impl Fields {
    /// The span of the whole mapping.
    pub fn span(&self) -> Span {
        self.span
    }

    /// Takes the value under `key`, the next of the record's keys: a
    /// record's fields are decoded in the order of its keys.
    fn take(&mut self, key: &str) -> Option<Node> {
        let at = self.next;
        debug_assert_eq!(self.keys.get(at), Some(&key), "fields taken out of order");
        self.next += 1;
        self.values.get_mut(at).and_then(Option::take)
    }
}

impl<'f> Decoder<'f> {
    /// A decoder for nodes parsed from `file`.
    pub fn new(file: &'f SourceFile) -> Self {
        Decoder {
            file,
            diagnostics: Vec::new(),
            partial: false,
        }
    }

    /// Decodes `node` as a fragment to be merged over a base: required keys
    /// may be missing (the value is then `None`); every other problem is
    /// reported as usual.
    pub fn partial<T: Decode>(&mut self, node: Node) -> Option<T> {
        let outer = std::mem::replace(&mut self.partial, true);
        let value = T::decode(node, self);
        self.partial = outer;
        value
    }

    /// The file being decoded.
    pub fn file(&self) -> &'f SourceFile {
        self.file
    }

    /// Records a problem.
    pub fn report(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    /// Everything recorded so far.
    pub fn into_diagnostics(self) -> Vec<Diagnostic> {
        self.diagnostics
    }

    /// Whether nothing has been recorded.
    pub fn is_clean(&self) -> bool {
        self.diagnostics.is_empty()
    }

    /// An error pointing at `span` of this file.
    pub fn error(
        &self,
        code: &'static str,
        message: impl Into<String>,
        span: Span,
        label: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic::error(code, message).at(self.file, span, label)
    }

    /// Records that `node` is not what `expected` describes.
    pub fn wrong_type(&mut self, node: &Node, expected: &str) {
        let found = node.describe();
        let mut diagnostic = self.error(
            "wrong-type",
            format!("expected {expected}, found {found}"),
            node.span,
            format!("this is {found}"),
        );
        let help = match &node.kind {
            NodeKind::Scalar { text, .. } if expected.starts_with("a list") => {
                format!("write a list, even of one item: `[{text}]`")
            }
            _ if expected.starts_with("a string")
                && (found == "a boolean" || found == "a number") =>
            {
                "put the value in quotes to make it a string".to_string()
            }
            _ => format!("write {expected} here"),
        };
        diagnostic = diagnostic.help(help);
        self.report(diagnostic);
    }

    /// Checks that `node` is a mapping whose keys are all in `known` (or
    /// start with `x-`, which is reserved for the user's own anchors), and
    /// sorts its values by key for [`field`](Self::field) and its kin.
    pub fn fields(
        &mut self,
        node: Node,
        expected: &str,
        known: &'static [&'static str],
    ) -> Option<Fields> {
        let NodeKind::Map(entries) = node.kind else {
            self.wrong_type(&node, expected);
            return None;
        };
        let mut values: Vec<Option<Node>> = Vec::new();
        values.resize_with(known.len(), || None);
        for (key, value) in entries {
            let Some(name) = key.as_scalar() else {
                self.wrong_type(&key, "a key written as plain text");
                continue;
            };
            if let Some(at) = known.iter().position(|k| *k == name) {
                values[at] = Some(value);
            } else if !name.starts_with("x-") {
                let hint = suggestion(name, known, "key");
                self.report(
                    self.error(
                        "unknown-key",
                        format!("unknown key `{name}` in {expected}"),
                        key.span,
                        "not a known key",
                    )
                    .help(hint),
                );
            }
        }
        Some(Fields {
            span: node.span,
            keys: known,
            values,
            next: 0,
        })
    }

    /// Decodes an optional field; `None` when absent or invalid. `~` is
    /// refused there: it would read as absent and the default would apply
    /// silently (see [`null`](super::null)).
    pub fn field<T: Decode>(&mut self, fields: &mut Fields, key: &str) -> Option<Spanned<T>> {
        let node = fields.take(key)?;
        if node.is_null() {
            self.report(
                self.error(
                    "null-value",
                    format!("`{key}: ~` sets nothing, and `{key}` cannot be cleared"),
                    node.span,
                    "null",
                )
                .help(format!(
                    "write {} under `{key}`, or remove the key to keep its default",
                    T::EXPECTED
                )),
            );
            return None;
        }
        self.spanned(node)
    }

    /// Decodes a field a spec may clear: `~` gives the type's cleared value.
    pub fn clearable_field<T: Clearable>(
        &mut self,
        fields: &mut Fields,
        key: &str,
    ) -> Option<Spanned<T>> {
        let node = fields.take(key)?;
        if node.is_null() {
            return Some(Spanned {
                value: T::cleared(),
                span: node.span,
            });
        }
        self.spanned(node)
    }

    /// Decodes a required field, reporting its absence at the mapping.
    pub fn required<T: Decode>(
        &mut self,
        fields: &mut Fields,
        key: &str,
        owner: &str,
    ) -> Option<Spanned<T>> {
        match fields.take(key).filter(|n| !n.is_null()) {
            Some(node) => self.spanned(node),
            None if self.partial => None,
            None => {
                let span = fields.span;
                let head = Span::new(span.start(), span.start());
                self.report(
                    self.error(
                        "missing-key",
                        format!("{owner} needs `{key}`"),
                        head,
                        format!("`{key}` is missing here"),
                    )
                    .help(format!("add `{key}:` with {}", T::EXPECTED)),
                );
                None
            }
        }
    }

    /// Decodes `node` and keeps its span.
    pub fn spanned<T: Decode>(&mut self, node: Node) -> Option<Spanned<T>> {
        let span = node.span;
        T::decode(node, self).map(|value| Spanned { value, span })
    }

    /// The scalar text of `node`, or a wrong-type report.
    pub fn scalar<'n>(&mut self, node: &'n Node, expected: &str) -> Option<&'n str> {
        match &node.kind {
            NodeKind::Scalar { text, .. } if !node.is_null() => Some(text),
            _ => {
                self.wrong_type(node, expected);
                None
            }
        }
    }

    /// The scalar text of `node`, moved out of it, or a wrong-type report.
    pub fn into_scalar(&mut self, node: Node, expected: &str) -> Option<String> {
        match node.kind {
            NodeKind::Scalar { text, .. } if !node.is_null() => Some(text),
            _ => {
                self.wrong_type(&node, expected);
                None
            }
        }
    }

    /// Decodes one of a fixed set of words, with "did you mean" on a typo;
    /// `what` names the set after its article (`an` `access mode`).
    pub fn keyword<T: Copy>(
        &mut self,
        node: &Node,
        (article, what): (&str, &str),
        choices: &[(&str, T)],
    ) -> Option<T> {
        let expected = format!(
            "{article} {what} ({})",
            choices
                .iter()
                .map(|(w, _)| *w)
                .collect::<Vec<_>>()
                .join(", ")
        );
        let text = self.scalar(node, &expected)?;
        if let Some((_, value)) = choices.iter().find(|(w, _)| *w == text) {
            return Some(*value);
        }
        let words: Vec<&str> = choices.iter().map(|(w, _)| *w).collect();
        let hint = suggestion(text, &words, what);
        self.report(
            self.error(
                "unknown-value",
                format!("`{text}` is not {article} {what}"),
                node.span,
                format!("not {article} {what}"),
            )
            .help(hint),
        );
        None
    }
}

impl Decode for String {
    const EXPECTED: &'static str = "a string";
    fn decode(node: Node, d: &mut Decoder<'_>) -> Option<Self> {
        d.into_scalar(node, Self::EXPECTED)
    }
}

impl Decode for bool {
    const EXPECTED: &'static str = "`true` or `false`";
    fn decode(node: Node, d: &mut Decoder<'_>) -> Option<Self> {
        match &node.kind {
            NodeKind::Scalar {
                text,
                quoted: false,
            } if matches!(text.as_str(), "true" | "True" | "TRUE") => Some(true),
            NodeKind::Scalar {
                text,
                quoted: false,
            } if matches!(text.as_str(), "false" | "False" | "FALSE") => Some(false),
            _ => {
                d.wrong_type(&node, Self::EXPECTED);
                None
            }
        }
    }
}

macro_rules! decode_integer {
    ($($ty:ty),*) => {$(
        impl Decode for $ty {
            const EXPECTED: &'static str = "a whole number";
            fn decode(node: Node, d: &mut Decoder<'_>) -> Option<Self> {
                let text = match &node.kind {
                    NodeKind::Scalar { text, quoted: false } => text.as_str(),
                    _ => {
                        d.wrong_type(&node, Self::EXPECTED);
                        return None;
                    }
                };
                match text.parse::<$ty>() {
                    Ok(value) => Some(value),
                    Err(_) if text.parse::<i128>().is_ok() => {
                        d.report(
                            d.error(
                                "out-of-range",
                                format!("{text} is out of range: expected {} to {}", <$ty>::MIN, <$ty>::MAX),
                                node.span,
                                "out of range",
                            )
                            .help(format!("write a whole number from {} to {}", <$ty>::MIN, <$ty>::MAX)),
                        );
                        None
                    }
                    Err(_) => {
                        d.wrong_type(&node, Self::EXPECTED);
                        None
                    }
                }
            }
        }
    )*};
}
decode_integer!(u16, u32, u64);

/// Declares a whole-number type bounded above, refused past its bound at the
/// value's line: numbers that size a list or divide a duration must not be
/// able to exhaust memory or wrap.
macro_rules! bounded_count {
    ($(#[$doc:meta])* $name:ident, $max:expr, $why:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub u32);

        impl $name {
            /// The largest value accepted.
            pub const MAX: u32 = $max;
        }

        impl crate::spec::decode::Decode for $name {
            const EXPECTED: &'static str = "a whole number";
            fn decode(
                node: crate::spec::yaml::Node,
                d: &mut crate::spec::decode::Decoder<'_>,
            ) -> Option<Self> {
                let span = node.span;
                let value = u32::decode(node, d)?;
                if value > Self::MAX {
                    d.report(
                        d.error(
                            "out-of-range",
                            format!("{value} is out of range: expected 0 to {}", Self::MAX),
                            span,
                            "too large",
                        )
                        .help(format!("write at most {}: {}", Self::MAX, $why)),
                    );
                    return None;
                }
                Some($name(value))
            }
        }

        impl schemars::JsonSchema for $name {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }
            fn inline_schema() -> bool {
                true
            }
            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                schemars::json_schema!({ "type": "integer", "minimum": 0, "maximum": $max })
            }
        }
    };
}
pub(crate) use bounded_count;

impl Decode for f64 {
    const EXPECTED: &'static str = "a number";
    fn decode(node: Node, d: &mut Decoder<'_>) -> Option<Self> {
        if let NodeKind::Scalar {
            text,
            quoted: false,
        } = &node.kind
        {
            match text.parse::<f64>() {
                Ok(v) if v.is_finite() => Some(v),
                _ => {
                    d.wrong_type(&node, Self::EXPECTED);
                    None
                }
            }
        } else {
            d.wrong_type(&node, Self::EXPECTED);
            None
        }
    }
}

impl<T: Decode> Decode for Vec<Spanned<T>> {
    const EXPECTED: &'static str = "a list";
    fn decode(node: Node, d: &mut Decoder<'_>) -> Option<Self> {
        let NodeKind::Seq(items) = node.kind else {
            d.wrong_type(
                &node,
                &format!("a list of {}", T::EXPECTED.trim_start_matches("a ")),
            );
            return None;
        };
        // A bad item is reported and left out; the good ones are still
        // returned so that later checks can report their own problems.
        // Pushed into a list of the exact size: collected, the items would
        // reuse the tree's list, and its spare room would stay in the spec.
        let mut decoded = Vec::with_capacity(items.len());
        decoded.extend(items.into_iter().filter_map(|item| d.spanned(item)));
        Some(decoded)
    }
}

/// A value decoded once and shared: an environment's copy of the spec
/// shares every service it does not override with the base spec.
impl<T: Decode> Decode for std::sync::Arc<T> {
    const EXPECTED: &'static str = T::EXPECTED;
    fn decode(node: Node, d: &mut Decoder<'_>) -> Option<Self> {
        T::decode(node, d).map(std::sync::Arc::new)
    }
}

/// A large record most specs leave out, kept out of line so that the
/// records holding it stay small when it is absent.
impl<T: Decode> Decode for Box<T> {
    const EXPECTED: &'static str = T::EXPECTED;
    fn decode(node: Node, d: &mut Decoder<'_>) -> Option<Self> {
        T::decode(node, d).map(Box::new)
    }
}

/// A mapping from keys of type `K` to values of type `V`, in source order.
#[derive(Debug, Clone, PartialEq)]
pub struct Map<K, V>(pub Vec<(Spanned<K>, Spanned<V>)>);

impl<K, V> Default for Map<K, V> {
    fn default() -> Self {
        Map(Vec::new())
    }
}

impl<K, V> Map<K, V> {
    /// The entries in source order.
    pub fn iter(&self) -> impl Iterator<Item = (&Spanned<K>, &Spanned<V>)> {
        self.0.iter().map(|(k, v)| (k, v))
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there is no entry.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<K: AsRef<str>, V> Map<K, V> {
    /// The value under `key`.
    pub fn get(&self, key: &str) -> Option<&Spanned<V>> {
        self.0
            .iter()
            .find(|(k, _)| k.value.as_ref() == key)
            .map(|(_, v)| v)
    }
}

impl<K: Decode, V: Decode> Decode for Map<K, V> {
    const EXPECTED: &'static str = "a mapping";
    fn decode(node: Node, d: &mut Decoder<'_>) -> Option<Self> {
        let NodeKind::Map(entries) = node.kind else {
            d.wrong_type(&node, Self::EXPECTED);
            return None;
        };
        let mut out = Vec::with_capacity(entries.len());
        for (key, value) in entries {
            let key = d.spanned::<K>(key);
            let value = d.spanned::<V>(value);
            if let (Some(k), Some(v)) = (key, value) {
                out.push((k, v));
            }
        }
        Some(Map(out))
    }
}

impl<K: JsonSchema, V: JsonSchema> JsonSchema for Map<K, V> {
    fn schema_name() -> Cow<'static, str> {
        format!("Map_of_{}", V::schema_name()).into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let key = generator.subschema_for::<K>();
        let value = generator.subschema_for::<V>();
        json_schema!({
            "type": "object",
            "propertyNames": key,
            "additionalProperties": value,
        })
    }
}
