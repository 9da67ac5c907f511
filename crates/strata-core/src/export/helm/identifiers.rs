//! Go template field names for values: Kubernetes names (`minio-grpc`,
//! `nvidia.com/gpu`) as identifiers Helm's `.Values.a.b` paths accept.

/// `minio-grpc` → `minioGrpc`; a leading digit gets a `_`; any other
/// character becomes `_`. Distinct DNS labels give distinct identifiers.
pub fn identifier(name: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in name.chars() {
        if c == '-' {
            upper = true;
            continue;
        }
        if upper {
            if c.is_ascii_alphabetic() {
                out.push(c.to_ascii_uppercase());
            } else {
                out.push('_');
                out.push(c);
            }
            upper = false;
        } else if c.is_ascii_alphanumeric() {
            out.push(c);
        } else {
            out.push('_');
        }
    }
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

/// `web-api` → `webApi`; `Deployment` → `deployment`.
pub(super) fn lower_camel(word: &str) -> String {
    let id = identifier(word);
    let mut chars = id.chars();
    chars
        .next()
        .map(|c| c.to_ascii_lowercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

/// `web-api` → `WebApi`, without a leading `_`.
pub(super) fn upper_camel(word: &str) -> String {
    let id = identifier(word);
    let id = id.trim_start_matches('_');
    let mut chars = id.chars();
    chars
        .next()
        .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_go_template_fields() {
        assert_eq!(identifier("minio-grpc"), "minioGrpc");
        assert_eq!(identifier("a-1"), "a_1");
        assert_eq!(identifier("1st"), "_1st");
        assert_eq!(identifier("nvidia.com/gpu"), "nvidia_com_gpu");
    }
}
