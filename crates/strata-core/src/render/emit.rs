//! Objects as YAML text, written straight from the JSON value: the bytes
//! serde-saphyr writes for the same value, for the shapes and strings
//! rendered objects are made of, at a fraction of its cost (its scalar
//! quoting checks were a fifth of `strata render`'s time).
//!
//! This writer only handles what it can tell apart for certain: a
//! non-empty mapping at the top; block mappings and sequences (no sequence
//! directly inside a sequence); integers, booleans and null; keys of
//! letters, digits and `._/-` that begin with a letter; values of at most
//! 80 printable ASCII characters (longer ones serde-saphyr may fold) that
//! either need no quotes or need double quotes for a reason seen here (a
//! YAML 1.1 boolean or null word, digits alone, `: `, ` #`, a trailing
//! colon). Anything else makes [`write`] give up, and the caller asks
//! serde-saphyr for that object: the output is the same either way, which
//! the property test below compares on generated values.

use std::fmt::Write as _;

use serde_json::{Map, Value};

/// Strings serde-saphyr writes as folded block scalars once longer.
const LONGEST_LINE: usize = 80;

/// Appends `value` to `out` as YAML and returns `true`, or returns `false`
/// (with `out` holding a part of it) when the value holds something this
/// writer leaves to serde-saphyr.
pub(super) fn write(value: &Value, out: &mut String) -> bool {
    match value {
        Value::Object(map) if !map.is_empty() => mapping(map, 0, false, out),
        _ => false,
    }
}

/// A block mapping whose keys are at column `indent`; `inline` when its
/// first key follows a sequence's `- ` on the same line.
fn mapping(map: &Map<String, Value>, indent: usize, inline: bool, out: &mut String) -> bool {
    for (i, (key, value)) in map.iter().enumerate() {
        if i > 0 || !inline {
            pad(indent, out);
        }
        if !plain_key(key) {
            return false;
        }
        out.push_str(key);
        out.push(':');
        let done = match value {
            Value::Object(inner) if inner.is_empty() => {
                out.push_str(" {}\n");
                true
            }
            Value::Object(inner) => {
                out.push('\n');
                mapping(inner, indent + 2, false, out)
            }
            Value::Array(items) if items.is_empty() => {
                out.push_str(" []\n");
                true
            }
            // A sequence under a key sits at the key's column.
            Value::Array(items) => {
                out.push('\n');
                sequence(items, indent, out)
            }
            scalar => {
                out.push(' ');
                self::scalar(scalar, out)
            }
        };
        if !done {
            return false;
        }
    }
    true
}

/// A block sequence whose dashes are at column `indent`.
fn sequence(items: &[Value], indent: usize, out: &mut String) -> bool {
    for item in items {
        pad(indent, out);
        out.push_str("- ");
        let done = match item {
            Value::Object(map) if map.is_empty() => {
                out.push_str("{}\n");
                true
            }
            Value::Object(map) => mapping(map, indent + 2, true, out),
            Value::Array(_) => false,
            scalar => self::scalar(scalar, out),
        };
        if !done {
            return false;
        }
    }
    true
}

/// A scalar and the line's end.
fn scalar(value: &Value, out: &mut String) -> bool {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(number) => {
            if let Some(n) = number.as_i64() {
                let _ = write!(out, "{n}");
            } else if let Some(n) = number.as_u64() {
                let _ = write!(out, "{n}");
            } else {
                return false;
            }
        }
        Value::String(text) => match style(text) {
            Some(Style::Plain) => out.push_str(text),
            Some(Style::Quoted) => {
                out.push('"');
                for c in text.chars() {
                    if matches!(c, '"' | '\\') {
                        out.push('\\');
                    }
                    out.push(c);
                }
                out.push('"');
            }
            None => return false,
        },
        Value::Array(_) | Value::Object(_) => return false,
    }
    out.push('\n');
    true
}

/// `n` spaces.
fn pad(n: usize, out: &mut String) {
    const SPACES: &str = "                                                                ";
    let mut left = n;
    while left > 0 {
        let step = left.min(SPACES.len());
        out.push_str(&SPACES[..step]);
        left -= step;
    }
}

/// How a value string is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    /// As it is.
    Plain,
    /// In double quotes, `"` and `\` escaped.
    Quoted,
}

/// Words a YAML 1.1 reader takes for a boolean, null or a float, in any
/// case: strings spelled so are quoted.
const WORDS: &[&str] = &[
    "y", "n", "yes", "no", "on", "off", "true", "false", "null", "nan", "inf",
];

/// The length of the longest of [`WORDS`].
const LONGEST_WORD: usize = 5;

/// Whether `text` is one of [`WORDS`], in any case.
fn is_word(text: &str) -> bool {
    // Most keys and values are longer than any word: not compared.
    text.len() <= LONGEST_WORD && WORDS.iter().any(|word| word.eq_ignore_ascii_case(text))
}

/// How serde-saphyr writes `text` as a value, when this writer knows.
fn style(text: &str) -> Option<Style> {
    let bytes = text.as_bytes();
    let (&first, &last) = (bytes.first()?, bytes.last()?);
    if bytes.len() > LONGEST_LINE {
        return None;
    }
    // One pass: every byte printable, and whether `: ` or ` #` occurs (a
    // comment or a mapping to a reader).
    let mut pair = false;
    let mut previous = 0u8;
    for &b in bytes {
        if !(0x20..=0x7e).contains(&b) {
            return None;
        }
        pair |= (previous == b':' && b == b' ') || (previous == b' ' && b == b'#');
        previous = b;
    }
    if first.is_ascii_digit() {
        return digit_first(bytes);
    }
    let letter_first = first.is_ascii_alphabetic() || first == b'/';
    // `-x` is plain, but `-1`, `-inf`, `- x` and `---` are not.
    let dash_letter = first == b'-'
        && bytes.get(1).is_some_and(u8::is_ascii_alphabetic)
        && !text[1..].eq_ignore_ascii_case("inf");
    if !letter_first && !dash_letter {
        return None;
    }
    if pair || is_word(text) || last == b' ' || last == b':' {
        return Some(Style::Quoted);
    }
    Some(Style::Plain)
}

/// How a string beginning with a digit is written: digits alone are a
/// number to a reader (quoted); a quantity such as `100m`, `1.5Gi` or
/// `25%` is plain; anything that might be a float, an exponent, a radix
/// number, a time or a date is left to serde-saphyr.
fn digit_first(bytes: &[u8]) -> Option<Style> {
    if bytes.iter().all(u8::is_ascii_digit) {
        return Some(Style::Quoted);
    }
    let quantity = bytes
        .iter()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'%'))
        && bytes.iter().any(|b| b.is_ascii_alphabetic() || *b == b'%')
        && !bytes.iter().any(|b| matches!(b, b'e' | b'E'))
        && !(bytes[0] == b'0' && bytes.get(1).is_some_and(u8::is_ascii_alphabetic));
    quantity.then_some(Style::Plain)
}

/// Whether serde-saphyr writes `key` as it is: letters, digits and `._/-`,
/// beginning with a letter, and not a word a reader takes for another type.
fn plain_key(key: &str) -> bool {
    key.as_bytes().first().is_some_and(u8::is_ascii_alphabetic)
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'/' | b'-'))
        && !is_word(key)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::{Value, json};

    use super::*;

    fn saphyr(value: &Value) -> String {
        serde_saphyr::to_string(value).expect("serde-saphyr writes every JSON value")
    }

    fn written(value: &Value) -> Option<String> {
        let mut out = String::new();
        write(value, &mut out).then_some(out)
    }

    /// Strings of every kind a render holds and of those that need care.
    const STRINGS: &[&str] = &[
        "web",
        "api-1000",
        "app.kubernetes.io/name",
        "/healthz",
        "/data",
        "100m",
        "128Mi",
        "1.5Gi",
        "25%",
        "12010Gi",
        "8080",
        "0",
        "007",
        "1",
        "true",
        "false",
        "True",
        "FALSE",
        "yes",
        "No",
        "on",
        "OFF",
        "y",
        "N",
        "null",
        "Null",
        "~",
        "nan",
        "inf",
        "-inf",
        "+inf",
        ".inf",
        "-c",
        "-e5",
        "--config",
        "-",
        "- x",
        "---",
        "...",
        "-1",
        "+1",
        "1e5",
        "1E5",
        "0x1F",
        "0o17",
        "0b101",
        "0Gi",
        "1_000",
        "1.0",
        "0.5",
        "10.0.0.1",
        "10.0.0.0/8",
        "2024-01-02",
        "2024-01-02T10:00:00Z",
        "1:30",
        "12:30:45",
        "",
        " ",
        " lead",
        "trail ",
        "a: b",
        "a:b",
        "ends:",
        "http://host:80/path",
        "a #b",
        "a#b",
        "#comment",
        "key=value",
        "sh -c 'echo hi'",
        "say \"hi\"",
        "back\\slash",
        "multi\nline",
        "multi\nline\n",
        "tab\there",
        "héllo",
        "字",
        "emoji 🎉",
        "[x]",
        "{x}",
        "a, b",
        "&anchor",
        "*alias",
        "!tag",
        "|",
        ">",
        "'single'",
        "%percent",
        "@at",
        "`tick`",
        "?",
        "?query",
        "<<",
        "=",
        "until nc -z -w 2 api-1000.synthetic 8080; do echo waiting for api-1000; sleep 2; done",
        "a string of exactly eighty characters, which serde-saphyr still writes as it is!",
        "a string of eighty-one characters, which serde-saphyr may write as a folded one..",
    ];

    fn string() -> impl Strategy<Value = String> {
        prop_oneof![
            3 => proptest::sample::select(STRINGS).prop_map(str::to_string),
            1 => "[a-z0-9./:# -]{0,12}",
            1 => "[0-9][0-9a-zA-Z.%]{0,5}",
            1 => "\\PC{0,6}",
        ]
    }

    fn scalar() -> impl Strategy<Value = Value> {
        prop_oneof![
            4 => string().prop_map(Value::String),
            1 => any::<i64>().prop_map(|n| json!(n)),
            1 => any::<u64>().prop_map(|n| json!(n)),
            1 => any::<bool>().prop_map(Value::Bool),
            1 => Just(Value::Null),
            1 => (-1.0e6f64..1.0e6).prop_map(|f| json!(f)),
        ]
    }

    fn value() -> impl Strategy<Value = Value> {
        scalar().prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                proptest::collection::vec((string(), inner), 0..6)
                    .prop_map(|entries| Value::Object(entries.into_iter().collect())),
            ]
        })
    }

    /// An object of the shapes and strings a render is made of, which this
    /// writer must handle itself.
    fn object() -> impl Strategy<Value = Value> {
        let key = "[a-z][a-z0-9./-]{0,10}".prop_filter("not a word", |k| !is_word(k));
        let text = prop_oneof![
            "[a-z][a-z0-9./-]{0,20}",
            "/[a-z0-9/]{0,10}",
            "[1-9][0-9]{0,3}(m|Mi|Gi|%)",
            "[0-9]{1,5}",
            proptest::sample::select(&["true", "false", "a: b", "a #b"][..])
                .prop_map(str::to_string),
        ];
        let leaf = prop_oneof![
            3 => text.prop_map(Value::String),
            1 => any::<u16>().prop_map(|n| json!(n)),
            1 => any::<bool>().prop_map(Value::Bool),
        ];
        let key2 = key.clone();
        leaf.prop_recursive(4, 48, 5, move |inner| {
            prop_oneof![
                proptest::collection::vec(
                    inner
                        .clone()
                        .prop_filter("no sequence in a sequence", |v| !v.is_array()),
                    0..4
                )
                .prop_map(Value::Array),
                proptest::collection::vec((key2.clone(), inner), 0..5)
                    .prop_map(|entries| Value::Object(entries.into_iter().collect())),
            ]
        })
        .prop_flat_map(move |body| {
            (key.clone(), Just(body)).prop_map(|(key, body)| {
                let mut top = Map::new();
                top.insert(key, body);
                Value::Object(top)
            })
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Whatever it writes, serde-saphyr writes too.
        #[test]
        fn same_bytes_as_serde_saphyr(value in value()) {
            let mut top = Map::new();
            top.insert("top".into(), value);
            let top = Value::Object(top);
            if let Some(text) = written(&top) {
                prop_assert_eq!(text, saphyr(&top));
            }
            prop_assert_eq!(super::super::yaml(&top), saphyr(&top));
        }

        /// Objects like rendered ones are written here, not handed back.
        #[test]
        fn writes_rendered_shapes_itself(value in object()) {
            let text = written(&value);
            prop_assert!(text.is_some(), "gave up on {value}");
            prop_assert_eq!(text.unwrap(), saphyr(&value));
        }
    }

    #[test]
    fn no_word_is_longer_than_the_longest_compared() {
        assert_eq!(WORDS.iter().map(|w| w.len()).max(), Some(LONGEST_WORD));
    }

    #[test]
    fn each_string_as_serde_saphyr_writes_it() {
        let mut handled = 0;
        for text in STRINGS {
            for value in [
                json!({ "key": text }),
                json!({ "key": [text, { "inner": text }] }),
                json!({ "key": { "inner": [[text]] } }),
            ] {
                if let Some(ours) = written(&value) {
                    handled += 1;
                    assert_eq!(ours, saphyr(&value), "{text:?}");
                }
            }
            let key = json!({ *text: 1 });
            if let Some(ours) = written(&key) {
                assert_eq!(ours, saphyr(&key), "key {text:?}");
            }
        }
        // Not a test that passes by giving up on everything: 43 of the
        // strings are written here, each in two of the three shapes.
        assert!(handled >= 86, "{handled}");
    }

    #[test]
    fn leaves_what_it_does_not_know_to_serde_saphyr() {
        for value in [
            json!({ "text": "multi\nline" }),
            json!({ "text": "x".repeat(81) }),
            json!({ "ratio": 0.5 }),
            json!({ "text": "héllo" }),
            json!({ "text": "0.5" }),
            json!({ "nested": [[1]] }),
            json!({ "yes": 1 }),
            json!({}),
            json!("scalar"),
        ] {
            assert!(written(&value).is_none(), "{value}");
            assert_eq!(super::super::yaml(&value), saphyr(&value));
        }
    }
}
