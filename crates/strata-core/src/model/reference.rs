//! `${service.field}` references inside environment values, and the
//! endpoints a service exports for them.

use std::ops::Range;

/// One `${target.field}` found in a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// The service referred to.
    pub target: String,
    /// The exported field (`host`, `port`, `url`, `ports.admin`…).
    pub field: String,
    /// Byte range of the whole `${…}` within the value.
    pub range: Range<usize>,
}

/// A piece of a value: literal text or a reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Text kept as it is (`$${` already unescaped to `${`).
    Text(String),
    /// A reference to resolve.
    Reference(Reference),
}

/// Why a value's references cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// Byte range of the faulty `${…}` within the value.
    pub range: Range<usize>,
    /// What is wrong.
    pub message: String,
}

/// Splits a value into text and references.
///
/// ```
/// use strata_core::model::reference::{split, Piece};
/// let pieces = split("redis://${redis.host}:6379").unwrap();
/// assert_eq!(pieces.len(), 3);
/// assert!(matches!(&pieces[1], Piece::Reference(r) if r.target == "redis" && r.field == "host"));
/// assert_eq!(split("cost: $${5}").unwrap(), vec![Piece::Text("cost: ${5}".into())]);
/// ```
///
/// # Errors
/// An unclosed `${`, or a reference that is not `service.field`.
pub fn split(value: &str) -> Result<Vec<Piece>, SyntaxError> {
    let mut pieces = Vec::new();
    let mut text = String::new();
    let mut rest = value;
    let mut offset = 0;
    while let Some(at) = rest.find("${") {
        if rest[..at].ends_with('$') {
            text.push_str(&rest[..at - 1]);
            text.push_str("${");
            rest = &rest[at + 2..];
            offset += at + 2;
            continue;
        }
        text.push_str(&rest[..at]);
        let start = offset + at;
        let Some(len) = rest[at..].find('}') else {
            return Err(SyntaxError {
                range: start..value.len(),
                message: "this `${` is never closed with `}`".into(),
            });
        };
        let inner = &rest[at + 2..at + len];
        let range = start..start + len + 1;
        let Some((target, field)) = inner.trim().split_once('.') else {
            return Err(SyntaxError {
                range,
                message: format!(
                    "`${{{inner}}}` is not a reference of the form `${{service.field}}`"
                ),
            });
        };
        if target.is_empty() || field.is_empty() {
            return Err(SyntaxError {
                range,
                message: format!(
                    "`${{{inner}}}` is not a reference of the form `${{service.field}}`"
                ),
            });
        }
        if !text.is_empty() {
            pieces.push(Piece::Text(std::mem::take(&mut text)));
        }
        pieces.push(Piece::Reference(Reference {
            target: target.to_string(),
            field: field.to_string(),
            range,
        }));
        rest = &rest[at + len + 1..];
        offset += at + len + 1;
    }
    text.push_str(rest);
    if !text.is_empty() {
        pieces.push(Piece::Text(text));
    }
    Ok(pieces)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn errors() {
        assert!(split("${redis.host").is_err());
        assert!(split("${redis}").is_err());
        assert!(split("${.x}").is_err());
        assert_eq!(split("plain").unwrap(), vec![Piece::Text("plain".into())]);
    }

    proptest! {
        #[test]
        fn never_panics(value in "\\PC{0,40}") {
            let _ = split(&value);
        }

        #[test]
        fn ranges_cover_the_reference(prefix in "[a-z:/ ]{0,8}", target in "[a-z]{1,8}", field in "[a-z]{1,8}") {
            let value = format!("{prefix}${{{target}.{field}}}");
            let pieces = split(&value).unwrap();
            let reference = pieces.iter().find_map(|p| match p { Piece::Reference(r) => Some(r), Piece::Text(_) => None }).unwrap();
            prop_assert_eq!(&value[reference.range.clone()], format!("${{{target}.{field}}}"));
        }
    }
}
