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

/// Declares a wire record: the struct (with its JSON Schema) and its
/// [`Decode`] impl, from one list of fields, so keys cannot drift between
/// the decoder and the schema.
///
/// Fields marked `rare` (optional or clearable ones that most specs leave
/// out) are kept out of line, in a second struct declared after the
/// record's fields (`pub struct RareServiceKeys;`), under a field
/// `rare` of type [`Rare`](crate::rare::Rare): a record that writes none of them holds one
/// pointer for them all. They are read as `record.rare.key`. Keys, their
/// order, every diagnostic and the JSON Schema are the same wherever a field
/// is kept.
macro_rules! record {
    // A record with `rare` fields: the fields sorted into the two structs,
    // in order, while each is also kept in the list of every key.
    (
        $(#[$meta:meta])*
        pub struct $name:ident ($expected:literal) { $($body:tt)* }
        $(#[$rare_meta:meta])*
        pub struct $rare:ident;
    ) => {
        $crate::spec::decode::record!(@split
            { $(#[$meta])* $name $expected $(#[$rare_meta])* $rare }
            [] [] []
            $($body)*
        );
    };
    (
        $(#[$meta:meta])*
        pub struct $name:ident ($expected:literal) {
            $(
                $(#[$field_meta:meta])*
                $kind:ident $field:ident : $ty:ty = $key:literal,
            )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, schemars::JsonSchema)]
        #[schemars(deny_unknown_fields, extend("patternProperties" = { "^x-": {} }))]
        pub struct $name {
            $(
                $(#[$field_meta])*
                #[schemars(rename = $key, transform = $crate::spec::null::nullability::$kind)]
                pub $field: record!(@type $kind $ty),
            )*
        }

        $crate::spec::decode::record!(@keys $name { $( $kind $key )* });

        impl $crate::spec::decode::Decode for $name {
            const EXPECTED: &'static str = $expected;
            fn decode(
                node: $crate::spec::yaml::Node,
                d: &mut $crate::spec::decode::Decoder<'_>,
            ) -> Option<Self> {
                #[allow(unused_mut)]
                let mut fields = d.fields(node, $expected, Self::FIELDS)?;
                $( let $field = record!(@get $kind d, fields, $key, $expected); )*
                Some($name { $( $field: record!(@finish $kind $field), )* })
            }
        }
    };
    (@split $head:tt [$($own:tt)*] [$($rare:tt)*] [$($all:tt)*]
        $(#[$field_meta:meta])*
        rare $kind:ident $field:ident : $ty:ty = $key:literal,
        $($rest:tt)*
    ) => {
        $crate::spec::decode::record!(@split $head
            [$($own)*]
            [$($rare)* { [$(#[$field_meta])*] $kind $field : $ty = $key }]
            [$($all)* { [$(#[$field_meta])*] $kind $field : $ty = $key }]
            $($rest)*
        );
    };
    (@split $head:tt [$($own:tt)*] [$($rare:tt)*] [$($all:tt)*]
        $(#[$field_meta:meta])*
        $kind:ident $field:ident : $ty:ty = $key:literal,
        $($rest:tt)*
    ) => {
        $crate::spec::decode::record!(@split $head
            [$($own)* { [$(#[$field_meta])*] $kind $field : $ty = $key }]
            [$($rare)*]
            [$($all)* { [$(#[$field_meta])*] $kind $field : $ty = $key }]
            $($rest)*
        );
    };
    (@split
        { $(#[$meta:meta])* $name:ident $expected:literal $(#[$rare_meta:meta])* $rare:ident }
        [$( { [$(#[$own_meta:meta])*] $own_kind:ident $own:ident : $own_ty:ty = $own_key:literal } )*]
        [$( { [$(#[$rare_field_meta:meta])*] $rare_kind:ident $rare_field:ident : $rare_ty:ty = $rare_key:literal } )*]
        [$( { [$(#[$field_meta:meta])*] $kind:ident $field:ident : $ty:ty = $key:literal } )*]
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq)]
        pub struct $name {
            $(
                $(#[$own_meta])*
                pub $own: record!(@type $own_kind $own_ty),
            )*
            /// The fields most specs leave out, read as `rare.KEY`.
            pub rare: $crate::rare::Rare<$rare>,
        }

        $(#[$rare_meta])*
        #[derive(Debug, Clone, PartialEq, Default)]
        pub struct $rare {
            $(
                $(#[$rare_field_meta])*
                pub $rare_field: record!(@type $rare_kind $rare_ty),
            )*
        }

        impl $crate::rare::RareFields for $rare {
            const NONE: &'static Self = &$rare { $( $rare_field: None, )* };
            fn is_empty(&self) -> bool {
                true $( && self.$rare_field.is_none() )*
            }
        }

        $crate::spec::decode::record!(@keys $name { $( $kind $key )* });

        // The schema is that of the record with every field in line, in
        // the order of its keys: where a field is kept does not show.
        const _: () = {
            type Kept = $name;
            const _: () = {
                #[allow(dead_code)]
                #[derive(schemars::JsonSchema)]
                #[schemars(deny_unknown_fields, extend("patternProperties" = { "^x-": {} }))]
                $(#[$meta])*
                struct $name {
                    $(
                        $(#[$field_meta])*
                        #[schemars(rename = $key, transform = $crate::spec::null::nullability::$kind)]
                        $field: record!(@type $kind $ty),
                    )*
                }

                impl schemars::JsonSchema for Kept {
                    fn schema_name() -> std::borrow::Cow<'static, str> {
                        <$name as schemars::JsonSchema>::schema_name()
                    }
                    fn schema_id() -> std::borrow::Cow<'static, str> {
                        <$name as schemars::JsonSchema>::schema_id()
                    }
                    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
                        <$name as schemars::JsonSchema>::json_schema(generator)
                    }
                }
            };
        };

        impl $crate::spec::decode::Decode for $name {
            const EXPECTED: &'static str = $expected;
            fn decode(
                node: $crate::spec::yaml::Node,
                d: &mut $crate::spec::decode::Decoder<'_>,
            ) -> Option<Self> {
                let mut fields = d.fields(node, $expected, Self::FIELDS)?;
                $( let $field = record!(@get $kind d, fields, $key, $expected); )*
                Some($name {
                    $( $own: record!(@finish $own_kind $own), )*
                    rare: $crate::rare::Rare::new($rare {
                        $( $rare_field: record!(@finish $rare_kind $rare_field), )*
                    }),
                })
            }
        }
    };
    (@keys $name:ident { $( $kind:ident $key:literal )* }) => {
        impl $name {
            /// The keys this record accepts, as written in a spec.
            pub const FIELDS: &'static [&'static str] = &[$($key),*];

            /// What `~` means under each key, in [`FIELDS`](Self::FIELDS) order.
            pub const NULLS: &'static [(&'static str, $crate::spec::null::NullPolicy)] =
                &[$(($key, record!(@null $kind))),*];
        }
    };
    (@type required $ty:ty) => { $crate::spec::decode::Spanned<$ty> };
    (@type optional $ty:ty) => { Option<$crate::spec::decode::Spanned<$ty>> };
    (@type clearable $ty:ty) => { Option<$crate::spec::decode::Spanned<$ty>> };
    (@null required) => { $crate::spec::null::NullPolicy::Required };
    (@null optional) => { $crate::spec::null::NullPolicy::Refused };
    (@null clearable) => { $crate::spec::null::NullPolicy::Clears };
    (@get required $d:ident, $fields:ident, $key:literal, $expected:literal) => {
        $d.required(&mut $fields, $key, $expected)
    };
    (@get optional $d:ident, $fields:ident, $key:literal, $expected:literal) => {
        $d.field(&mut $fields, $key)
    };
    (@get clearable $d:ident, $fields:ident, $key:literal, $expected:literal) => {
        $d.clearable_field(&mut $fields, $key)
    };
    (@finish required $field:ident) => { $field? };
    (@finish optional $field:ident) => { $field };
    (@finish clearable $field:ident) => { $field };
}
pub(crate) use record;

/// Declares a closed set of words as an enum, each word written once: its
/// `as_str`, its [`Decode`] impl (an unknown word is `unknown-value`, with
/// the closest word as a hint) and its JSON Schema (a string enum) all come
/// from the one list.
macro_rules! keyword_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident ($article:ident $what:literal) {
            $(
                $(#[$variant_meta:meta])*
                $variant:ident = $word:literal,
            )+
        }
        $(schema: $description:literal)?
    ) => {
        $(#[$meta])*
        pub enum $name {
            $(
                $(#[$variant_meta])*
                $variant,
            )+
        }

        impl $name {
            /// Every value with the word a spec writes for it.
            pub const WORDS: &'static [(&'static str, $name)] = &[$(($word, $name::$variant)),+];

            /// The word a spec writes.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $word,)+
                }
            }
        }

        impl $crate::spec::decode::Decode for $name {
            const EXPECTED: &'static str = concat!(
                stringify!($article), " ", $what, " (",
                $crate::spec::decode::keyword_enum!(@join $($word),+), ")"
            );
            fn decode(
                node: $crate::spec::yaml::Node,
                d: &mut $crate::spec::decode::Decoder<'_>,
            ) -> Option<Self> {
                d.keyword(&node, (stringify!($article), $what), Self::WORDS)
            }
        }

        impl schemars::JsonSchema for $name {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }
            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                #[allow(unused_mut)]
                let mut schema = schemars::json_schema!({ "type": "string", "enum": [$($word),+] });
                $(schema.insert("description".into(), $description.into());)?
                schema
            }
        }
    };
    (@join $first:literal $(, $rest:literal)*) => {
        concat!($first $(, ", ", $rest)*)
    };
}
pub(crate) use keyword_enum;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rare::Rare;
    use crate::spec::service::{RareServiceKeys, ServiceSpec};
    use crate::spec::yaml;

    fn service(text: &str) -> (Option<ServiceSpec>, Vec<(String, String, usize)>) {
        let file = SourceFile::new("s.yaml", text);
        let node = yaml::parse(&file).unwrap();
        let mut decoder = Decoder::new(&file);
        let spec = ServiceSpec::decode(node, &mut decoder);
        let problems = decoder
            .into_diagnostics()
            .into_iter()
            .map(|d| {
                let at = d.labels.first().map_or(0, |l| l.span.start());
                (d.code.to_string(), d.message, at)
            })
            .collect();
        (spec, problems)
    }

    #[test]
    fn a_service_that_writes_no_rare_key_allocates_no_block() {
        let text =
            "{ image: a/b:1.0.0, ports: { http: 80 }, env: { A: b }, replicas: 2, needs: [db] }";
        let (spec, problems) = service(text);
        let spec = spec.unwrap();
        assert!(problems.is_empty(), "{problems:?}");
        assert!(!spec.rare.is_allocated());
        assert!(spec.rare.blueprint.is_none() && spec.rare.gpu.is_none());
        assert_eq!(spec.rare, Rare::new(RareServiceKeys::default()));
    }

    #[test]
    fn a_rare_key_is_read_through_the_block_with_its_span() {
        let text = "{ image: a/b:1.0.0, gpu: 2 }";
        let (spec, problems) = service(text);
        let spec = spec.unwrap();
        assert!(problems.is_empty(), "{problems:?}");
        assert!(spec.rare.is_allocated());
        let gpu = spec.rare.gpu.as_ref().unwrap();
        assert_eq!(gpu.value, 2);
        assert_eq!(gpu.span.start(), text.find('2').unwrap());
        assert!(spec.rare.blueprint.is_none());
    }

    #[test]
    fn rare_keys_are_checked_where_they_are_written_like_the_others() {
        let text = "{ image: a/b:1.0.0, gpu: lots, replicas: many, blueprnt: redis, spread: ~ }";
        let (spec, problems) = service(text);
        assert!(spec.is_some());
        let codes: Vec<(&str, usize)> = problems
            .iter()
            .map(|(c, _, at)| (c.as_str(), *at))
            .collect();
        // In the order of the record's keys (`replicas` before `gpu`), as
        // when every field was kept in line.
        assert_eq!(
            codes,
            [
                ("unknown-key", text.find("blueprnt").unwrap()),
                ("wrong-type", text.find("many").unwrap()),
                ("wrong-type", text.find("lots").unwrap()),
                ("null-value", text.find('~').unwrap()),
            ]
        );
        assert_eq!(problems[0].1, "unknown key `blueprnt` in a service");
    }

    #[test]
    fn the_schema_lists_a_record_s_keys_in_order_wherever_each_is_kept() {
        let schema = crate::spec::json_schema();
        let properties = &schema["$defs"]["ServiceSpec"]["properties"];
        let keys: Vec<&str> = properties
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, ServiceSpec::FIELDS);
        assert_eq!(
            properties["blueprint"]["description"],
            "A catalog blueprint that supplies image, ports, storage and endpoints."
        );
    }

    #[test]
    fn a_service_that_writes_no_rare_key_is_a_quarter_of_its_old_size() {
        // 1,584 bytes with every key in line; held for every service of a
        // spec through the whole check.
        assert!(
            size_of::<ServiceSpec>() <= 400,
            "{}",
            size_of::<ServiceSpec>()
        );
    }
}
