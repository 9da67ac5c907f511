//! Names that end up in Kubernetes objects, checked where they are written.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};

use super::decode::{Decode, Decoder, into_text};
use super::yaml::Node;

/// A DNS-1123 label: the name of a platform, tier, service, environment,
/// node pool, tenant or namespace.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Name(pub String);

/// A port name: an IANA service name (at most 15 characters).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PortName(pub String);

/// An environment variable name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EnvName(pub String);

/// An HTTP header name (`X-Probe`, `Authorization`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HeaderName(pub String);

/// A label or annotation key (`app`, `example.com/team`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LabelKey(pub String);

/// A label value: empty, or up to 63 letters, digits, `-`, `_` and `.`,
/// starting and ending with a letter or digit.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LabelValue(pub String);

/// A host name a gateway serves: a lowercase DNS name, its first label
/// possibly `*` (`shop.example.com`, `*.example.com`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HostName(pub String);

/// An HTTP path prefix (`/api/v1`): a `/`, then URL path characters, with no
/// `//`, `/./` or `/../` step.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HttpPath(pub String);

/// Why `host` is not a host name a gateway can serve.
///
/// ```
/// use strata_core::spec::names::host_name_problem;
/// assert_eq!(host_name_problem("shop.example.com"), None);
/// assert_eq!(host_name_problem("*.example.com"), None);
/// assert!(host_name_problem("\"><script>").is_some());
/// assert!(host_name_problem("10.0.0.1").is_some());
/// ```
pub fn host_name_problem(host: &str) -> Option<String> {
    if host.len() > 253 {
        return Some(format!(
            "it is {} characters long, at most 253 are allowed",
            host.len()
        ));
    }
    let name = host.strip_prefix("*.").unwrap_or(host);
    if name.parse::<std::net::IpAddr>().is_ok() {
        return Some("it is an IP address; gateways route by DNS name".into());
    }
    let dotted = name.contains('.');
    name.split('.').find_map(|label| {
        dns_label_problem(label, 63).map(|why| {
            if dotted {
                format!("`{}`: {why}", shown(label))
            } else {
                why
            }
        })
    })
}

/// `text` as a message shows it: control characters (a newline in a label
/// value, say) escaped, everything else as written.
fn shown(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            let escaped: Vec<char> = if c.is_control() {
                c.escape_default().collect()
            } else {
                vec![c]
            };
            escaped
        })
        .collect()
}

/// Why `path` is not an HTTP path prefix the API server and gateways accept.
///
/// ```
/// use strata_core::spec::names::http_path_problem;
/// assert_eq!(http_path_problem("/api/v1"), None);
/// assert_eq!(http_path_problem("/a%20b"), None);
/// assert!(http_path_problem("api").is_some());
/// assert!(http_path_problem("/<script>").is_some());
/// assert!(http_path_problem("/a/../b").is_some());
/// ```
pub fn http_path_problem(path: &str) -> Option<String> {
    if !path.starts_with('/') {
        return Some("it does not start with `/`".into());
    }
    let bytes = path.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        let allowed = b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/%".contains(&b);
        if !allowed {
            let c = path[i..].chars().next().unwrap_or('?');
            return Some(format!(
                "`{}` is not allowed in a URL path: percent-encode it",
                shown(&c.to_string())
            ));
        }
        if b == b'%'
            && !(bytes
                .get(i + 1..i + 3)
                .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)))
        {
            return Some("`%` starts no percent-encoded byte".into());
        }
    }
    let lower = path.to_ascii_lowercase();
    if let Some(step) = ["//", "/./", "/../", "%2f"]
        .into_iter()
        .find(|s| lower.contains(s))
    {
        return Some(format!(
            "it contains `{step}`, which the API server refuses"
        ));
    }
    if path.ends_with("/..") || path.ends_with("/.") {
        return Some("it ends in a `.` or `..` step, which the API server refuses".into());
    }
    None
}

/// A file beside the spec, by a relative path that stays in the spec's
/// folder (`config/app.conf`, `crds/operator.yaml`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SpecPath(pub String);

/// Why `path` cannot name a file beside the spec: a spec handed to CI must
/// not read `/etc/passwd` or `../../secrets` into a ConfigMap or a log.
///
/// ```
/// use strata_core::spec::names::spec_path_problem;
/// assert_eq!(spec_path_problem("config/app.conf"), None);
/// assert_eq!(spec_path_problem("./crds.yaml"), None);
/// assert!(spec_path_problem("/etc/passwd").is_some());
/// assert!(spec_path_problem("config/../../x").is_some());
/// ```
pub fn spec_path_problem(path: &str) -> Option<String> {
    if path.is_empty() {
        return Some("it is empty".into());
    }
    if path.starts_with('/') || path.starts_with('\\') || path.get(1..3) == Some(":\\") {
        return Some("it is absolute".into());
    }
    if path.split(['/', '\\']).any(|step| step == "..") {
        return Some("it climbs out of the spec's folder with `..`".into());
    }
    if path.contains('\0') {
        return Some("it holds a NUL byte".into());
    }
    None
}

/// A container registry's host, with an optional port (`harbor.example.com`,
/// `registry.local:5000`): the part of an image reference before the first `/`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RegistryHost(pub String);

/// Why `host` is not a registry host an image reference can start with.
///
/// ```
/// use strata_core::spec::names::registry_host_problem;
/// assert_eq!(registry_host_problem("harbor.example.com"), None);
/// assert_eq!(registry_host_problem("registry.local:5000"), None);
/// assert!(registry_host_problem("harbor").is_some());
/// assert!(registry_host_problem("ghcr.io/acme").is_some());
/// ```
pub fn registry_host_problem(host: &str) -> Option<String> {
    if host.contains("://") {
        return Some("it has a scheme; write the host alone".into());
    }
    if host.contains('/') {
        return Some("it has a path; write the host alone, every image under it is covered".into());
    }
    let (name, port) = match host.rsplit_once(':') {
        Some((name, port)) => (name, Some(port)),
        None => (host, None),
    };
    if let Some(port) = port
        && !port.parse::<u16>().is_ok_and(|p| p > 0)
    {
        return Some(format!("`{port}` is not a port from 1 to 65535"));
    }
    if name.len() > 253 {
        return Some("it is longer than 253 characters".into());
    }
    for part in name.split('.') {
        let valid = !part.is_empty()
            && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !part.starts_with('-')
            && !part.ends_with('-');
        if !valid {
            return Some(format!(
                "`{part}` is not a host name part: letters, digits and inner `-`, separated by dots"
            ));
        }
    }
    // Docker reads a first path part without a dot or port as an account
    // on Docker Hub (`harbor/app` is hub.docker.com's `harbor`), not a host.
    if !name.contains('.') && port.is_none() && name != "localhost" {
        return Some(
            "without a dot or a port, an image's first part names a Docker Hub account, not a host"
                .into(),
        );
    }
    None
}

/// Why `name` is not a DNS-1123 label of at most `max` characters.
///
/// ```
/// use strata_core::spec::names::dns_label_problem;
/// assert_eq!(dns_label_problem("redis-grpc", 63), None);
/// assert!(dns_label_problem("Redis_gRPC", 63).is_some());
/// ```
pub fn dns_label_problem(name: &str, max: usize) -> Option<String> {
    if name.is_empty() {
        return Some("it is empty".into());
    }
    if name.len() > max {
        return Some(format!(
            "it is {} characters long, at most {max} are allowed",
            name.len()
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Some(format!(
            "it contains `{c}`; only lowercase letters, digits and `-` are allowed"
        ));
    }
    if name.starts_with('-') || name.ends_with('-') {
        return Some("it must start and end with a letter or digit".into());
    }
    None
}

/// The closest valid label to `name` (lowercased, other characters to `-`).
pub fn to_dns_label(name: &str, max: usize) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    while out.contains("--") {
        out = out.replace("--", "-");
    }
    let out = out.trim_matches('-');
    out.chars()
        .take(max)
        .collect::<String>()
        .trim_end_matches('-')
        .to_string()
}

fn decode_label(node: Node, d: &mut Decoder<'_>, what: &str, max: usize) -> Option<String> {
    let Some(text) = node.as_scalar().filter(|_| !node.is_null()) else {
        d.wrong_type(&node, &format!("{what} (a lowercase name)"));
        return None;
    };
    if let Some(problem) = dns_label_problem(text, max) {
        let fixed = to_dns_label(text, max);
        let mut diagnostic = d.error(
            "invalid-name",
            format!("`{text}` is not a valid {what}: {problem}"),
            node.span,
            "not a DNS-1123 label",
        );
        diagnostic = if fixed.is_empty() {
            diagnostic.help(format!(
                "use lowercase letters, digits and `-`, at most {max} characters"
            ))
        } else {
            diagnostic.help(format!("did you mean `{fixed}`?"))
        };
        d.report(diagnostic);
        return None;
    }
    Some(into_text(node))
}

impl Decode for Name {
    const EXPECTED: &'static str = "a lowercase name such as `redis-grpc`";
    fn decode(node: Node, d: &mut Decoder<'_>) -> Option<Self> {
        decode_label(node, d, "name", 63).map(Name)
    }
}

impl Decode for PortName {
    const EXPECTED: &'static str = "a port name such as `http` or `grpc`";
    fn decode(node: Node, d: &mut Decoder<'_>) -> Option<Self> {
        let span = node.span;
        let name = decode_label(node, d, "port name", 15)?;
        if !name.chars().any(|c| c.is_ascii_lowercase()) {
            d.report(
                d.error(
                    "invalid-name",
                    format!("`{name}` is not a valid port name: it needs a letter"),
                    span,
                    "no letter",
                )
                .help("name ports for what they serve: `http`, `grpc`, `metrics`, `admin`…"),
            );
            return None;
        }
        Some(PortName(name))
    }
}

impl Decode for HeaderName {
    const EXPECTED: &'static str = "an HTTP header name such as `X-Probe`";
    fn decode(node: Node, d: &mut Decoder<'_>) -> Option<Self> {
        let owned = node;
        let node = &owned;
        let text = d.scalar(node, Self::EXPECTED)?;
        // RFC 9110's token characters.
        let valid = !text.is_empty()
            && text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c));
        if !valid {
            d.report(
                d.error(
                    "invalid-name",
                    format!("`{text}` is not an HTTP header name"),
                    node.span,
                    "not a header name",
                )
                .help("use letters, digits and `-`: `X-Probe`"),
            );
            return None;
        }
        Some(HeaderName(into_text(owned)))
    }
}

impl Decode for EnvName {
    const EXPECTED: &'static str = "an environment variable name such as `REDIS_URL`";
    fn decode(node: Node, d: &mut Decoder<'_>) -> Option<Self> {
        let owned = node;
        let node = &owned;
        let text = d.scalar(node, Self::EXPECTED)?;
        let valid = text
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-');
        if !valid {
            let mut fixed: String = text
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() {
                        c.to_ascii_uppercase()
                    } else {
                        '_'
                    }
                })
                .collect();
            if fixed.starts_with(|c: char| c.is_ascii_digit()) {
                fixed.insert(0, '_');
            }
            d.report(
                d.error(
                    "invalid-name",
                    format!("`{text}` is not a valid environment variable name"),
                    node.span,
                    "invalid name",
                )
                .help(format!(
                    "start with a letter or `_`, then letters, digits, `_`, `.` or `-`: did you mean `{fixed}`?"
                )),
            );
            return None;
        }
        Some(EnvName(into_text(owned)))
    }
}

impl Decode for RegistryHost {
    const EXPECTED: &'static str =
        "a registry host such as `harbor.example.com` or `registry.local:5000`";
    fn decode(node: Node, d: &mut Decoder<'_>) -> Option<Self> {
        let owned = node;
        let node = &owned;
        let text = d.scalar(node, Self::EXPECTED)?;
        if let Some(problem) = registry_host_problem(text) {
            d.report(
                d.error(
                    "invalid-registry",
                    format!("`{text}` is not a registry host: {problem}"),
                    node.span,
                    "not a registry host",
                )
                .help("write the host of the image references, with a port if they have one: `harbor.example.com`, `registry.local:5000`"),
            );
            return None;
        }
        Some(RegistryHost(into_text(owned)))
    }
}

impl Decode for LabelKey {
    const EXPECTED: &'static str = "a label key such as `team` or `example.com/team`";
    fn decode(node: Node, d: &mut Decoder<'_>) -> Option<Self> {
        let owned = node;
        let node = &owned;
        let text = d.scalar(node, Self::EXPECTED)?;
        let (prefix, name) = text
            .rsplit_once('/')
            .map_or((None, text), |(p, n)| (Some(p), n));
        let name_ok = !name.is_empty()
            && name.len() <= 63
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            && name
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphanumeric())
            && name
                .chars()
                .last()
                .is_some_and(|c| c.is_ascii_alphanumeric());
        let prefix_ok = prefix.is_none_or(|p| {
            p.len() <= 253
                && p.split('.')
                    .all(|part| dns_label_problem(part, 63).is_none())
        });
        if !(name_ok && prefix_ok) {
            d.report(
                d.error("invalid-name", format!("`{text}` is not a valid label key"), node.span, "invalid label key")
                    .help("a label key is an optional DNS prefix and `/`, then up to 63 letters, digits, `-`, `_` or `.`"),
            );
            return None;
        }
        Some(LabelKey(into_text(owned)))
    }
}

impl Decode for SpecPath {
    const EXPECTED: &'static str = "a path relative to the spec, such as `config/app.conf`";
    fn decode(node: Node, d: &mut Decoder<'_>) -> Option<Self> {
        let owned = node;
        let node = &owned;
        let text = d.scalar(node, Self::EXPECTED)?;
        if let Some(why) = spec_path_problem(text) {
            d.report(
                d.error(
                    "invalid-path",
                    format!("`{}` cannot name a file beside the spec: {why}", shown(text)),
                    node.span,
                    "outside the spec's folder",
                )
                .help("Strata reads files from the spec's folder and below only: move or copy the file there and write its path relative to the spec"),
            );
            return None;
        }
        Some(SpecPath(into_text(owned)))
    }
}

impl Decode for HostName {
    const EXPECTED: &'static str = "a host name such as `shop.example.com`";
    fn decode(node: Node, d: &mut Decoder<'_>) -> Option<Self> {
        let owned = node;
        let node = &owned;
        let text = d.scalar(node, Self::EXPECTED)?;
        if let Some(why) = host_name_problem(text) {
            d.report(
                d.error(
                    "invalid-host",
                    format!("`{}` is not a host name: {why}", shown(text)),
                    node.span,
                    "not a host name",
                )
                .help("write a lowercase DNS name such as `shop.example.com`, or `*.example.com` for every name under a domain"),
            );
            return None;
        }
        Some(HostName(into_text(owned)))
    }
}

impl Decode for HttpPath {
    const EXPECTED: &'static str = "an HTTP path such as `/api`";
    fn decode(node: Node, d: &mut Decoder<'_>) -> Option<Self> {
        let owned = node;
        let node = &owned;
        let text = d.scalar(node, Self::EXPECTED)?;
        if let Some(why) = http_path_problem(text) {
            let help = if text.starts_with('/') {
                "write a path of letters, digits and `-._~!$&'()*+,;=:@/`, other bytes percent-encoded (`%20`)".to_string()
            } else {
                format!("write `/{text}`")
            };
            d.report(
                d.error(
                    "invalid-path",
                    format!("`{}` is not an HTTP path: {why}", shown(text)),
                    node.span,
                    "not an HTTP path",
                )
                .help(help),
            );
            return None;
        }
        Some(HttpPath(into_text(owned)))
    }
}

impl Decode for LabelValue {
    const EXPECTED: &'static str = "a label value such as `web` or `v1.2`";
    fn decode(node: Node, d: &mut Decoder<'_>) -> Option<Self> {
        let owned = node;
        let node = &owned;
        let text = d.scalar(node, Self::EXPECTED)?;
        let edges_ok = |c: Option<char>| c.is_none_or(|c| c.is_ascii_alphanumeric());
        let valid = text.len() <= 63
            && text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            && edges_ok(text.chars().next())
            && edges_ok(text.chars().last());
        if !valid {
            let why = if text.len() > 63 {
                format!(
                    "it is {} characters long, at most 63 are allowed",
                    text.len()
                )
            } else {
                "only letters, digits, `-`, `_` and `.` are allowed, with a letter or digit at each end".to_string()
            };
            d.report(
                d.error(
                    "invalid-label-value",
                    format!("`{}` is not a valid label value: {why}", shown(text)),
                    node.span,
                    "invalid label value",
                )
                .help("the API server refuses it: use a short word such as `web` or `v1.2` (free text belongs in an annotation)"),
            );
            return None;
        }
        Some(LabelValue(into_text(owned)))
    }
}

macro_rules! string_like {
    ($($ty:ident => $pattern:expr, $description:expr;)*) => {$(
        impl AsRef<str> for $ty {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl JsonSchema for $ty {
            fn schema_name() -> Cow<'static, str> {
                stringify!($ty).into()
            }
            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                json_schema!({ "type": "string", "pattern": $pattern, "description": $description })
            }
        }
    )*};
}

string_like! {
    Name => "^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", "A DNS-1123 label: lowercase letters, digits and '-', at most 63 characters.";
    PortName => "^[a-z0-9]([-a-z0-9]{0,13}[a-z0-9])?$", "An IANA service name: lowercase letters, digits and '-', at most 15 characters.";
    EnvName => "^[A-Za-z_][-._A-Za-z0-9]*$", "An environment variable name.";
    HeaderName => "^[-!#$%&'*+.^_`|~A-Za-z0-9]+$", "An HTTP header name.";
    LabelKey => "^([a-z0-9.-]{1,253}/)?[A-Za-z0-9]([-_.A-Za-z0-9]{0,61}[A-Za-z0-9])?$", "A Kubernetes label key.";
    SpecPath => "^[^/\\\\]", "A path relative to the spec, staying in its folder (no leading '/', no '..').";
    HostName => "^(\\*\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$", "A lowercase DNS name, its first label possibly '*'.";
    HttpPath => "^/([-A-Za-z0-9/._~!$&'()*+,;=:@]|%[0-9A-Fa-f]{2})*$", "An HTTP path: '/', then URL path characters, other bytes percent-encoded.";
    LabelValue => "^([A-Za-z0-9]([-_.A-Za-z0-9]{0,61}[A-Za-z0-9])?)?$", "A Kubernetes label value: at most 63 letters, digits, '-', '_' and '.', a letter or digit at each end.";
    RegistryHost => "^[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?(\\.[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?)*(:[0-9]{1,5})?$", "A container registry host, with an optional port: the part of an image reference before the first '/'.";
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn labels() {
        assert!(dns_label_problem("a", 63).is_none());
        assert!(dns_label_problem("a-1", 63).is_none());
        assert!(dns_label_problem("-a", 63).is_some());
        assert!(dns_label_problem(&"a".repeat(64), 63).is_some());
        assert_eq!(to_dns_label("Redis_gRPC", 63), "redis-grpc");
    }

    #[test]
    fn registry_hosts() {
        for good in [
            "harbor.example.com",
            "registry.nova.example",
            "ghcr.io",
            "localhost",
            "localhost:5000",
            "harbor:8443",
            "10.0.0.5:5000",
        ] {
            assert_eq!(registry_host_problem(good), None, "{good}");
        }
        for bad in [
            "harbor",
            "https://harbor.example.com",
            "ghcr.io/acme",
            "harbor.example.com:0",
            "harbor.example.com:http",
            "-a.example.com",
            "a..com",
            "har_bor.com",
            "",
        ] {
            assert!(registry_host_problem(bad).is_some(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn suggested_labels_are_valid(name in "[A-Za-z0-9_ .-]{1,80}") {
            let fixed = to_dns_label(&name, 63);
            prop_assume!(!fixed.is_empty());
            prop_assert_eq!(dns_label_problem(&fixed, 63), None);
        }
    }
}
