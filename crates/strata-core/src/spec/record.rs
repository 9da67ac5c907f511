//! The macros that declare the spec's wire types from one list each: a
//! record (struct, JSON Schema and [`Decode`] impl, with its rarely written
//! fields out of line) and a keyword enum (a closed set of words).

#[cfg(doc)]
use super::decode::Decode;

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
        $crate::spec::record::record!(@split
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

        $crate::spec::record::record!(@keys $name { $( $kind $key )* });

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
        $crate::spec::record::record!(@split $head
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
        $crate::spec::record::record!(@split $head
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

        $crate::spec::record::record!(@keys $name { $( $kind $key )* });

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
                $crate::spec::record::keyword_enum!(@join $($word),+), ")"
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
    use crate::rare::Rare;
    use crate::source::SourceFile;
    use crate::spec::decode::{Decode, Decoder};
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
