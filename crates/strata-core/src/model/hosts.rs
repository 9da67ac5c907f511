//! Host names written out in free text: an environment value or an argument
//! that dials another service by name instead of through a `${…}` reference.
//!
//! The rule, applied to each text:
//!
//! * The text is cut into entries at whitespace, `,` and `;` (a broker
//!   list, a command line, a sentence). Quotes and brackets around an entry
//!   are dropped, and `KEY=VALUE` (a flag, a setting: `=` before any `:`,
//!   `/`, `?`, `#` or `@`) is read as its VALUE.
//! * `scheme://[user[:password]@]HOST[:port][/…]` names HOST.
//! * `[user[:password]@]HOST:PORT[/…]`, PORT all digits, names HOST.
//! * An entry that is a dotted name and nothing else (`cart.shop`,
//!   `cart.shop.svc.cluster.local`) names itself.
//! * A single word (`cartservice`) names itself only where the caller
//!   expects a bare name (an environment variable whose name says it holds
//!   an address, such as `REDIS_HOST`), and only when the whole text is a
//!   list of such words: in `the user service is down`, no word is a host.
//!
//! Everything else names nothing: a path (`/data`, `user/api`), an e-mail
//! address, an IPv6 literal, `a:b` with a port that is not a number. A
//! host is made of letters, digits, `-`, `_` and `.`; a `${…}` reference,
//! which declares its call itself, is masked out by the caller so that no
//! host runs into one.

/// The words of a variable's name that say it holds an address, so that a
/// bare name in its value is a host (`REDIS_HOST: cache`), while in
/// `CACHE_KIND: redis` it is only a word.
const ADDRESS_WORDS: [&str; 23] = [
    "HOST",
    "HOSTS",
    "HOSTNAME",
    "ADDR",
    "ADDRS",
    "ADDRESS",
    "ADDRESSES",
    "URL",
    "URLS",
    "URI",
    "URIS",
    "ENDPOINT",
    "ENDPOINTS",
    "SERVER",
    "SERVERS",
    "BROKER",
    "BROKERS",
    "UPSTREAM",
    "UPSTREAMS",
    "BOOTSTRAP",
    "DSN",
    "PEERS",
    "SEEDS",
];

/// Whether a variable's name says it holds an address: one of its words
/// (cut at anything but letters and digits) is `HOST`, `ADDR`, `URL`,
/// `ENDPOINT`, `SERVER`, `BROKER`… in any case.
///
/// ```
/// use strata_core::model::hosts::names_an_address;
/// assert!(names_an_address("REDIS_HOST"));
/// assert!(names_an_address("spring.rabbitmq.addresses"));
/// assert!(!names_an_address("CACHE_KIND"));
/// assert!(!names_an_address("SECURITY_MODE"));
/// ```
pub fn names_an_address(variable: &str) -> bool {
    variable
        .split(|c: char| !c.is_ascii_alphanumeric())
        .any(|word| ADDRESS_WORDS.iter().any(|w| w.eq_ignore_ascii_case(word)))
}

/// The hosts `text` names, as written, in order (see the module's rule).
/// `bare` says whether a single word may be a host there.
///
/// ```
/// use strata_core::model::hosts::hosts;
/// assert_eq!(hosts("http://user:pw@cartservice:7070/x", false), ["cartservice"]);
/// assert_eq!(hosts("broker-1:9092,broker-2:9092", false), ["broker-1", "broker-2"]);
/// assert_eq!(hosts("cache", true), ["cache"]);
/// assert!(hosts("the user service is down", true).is_empty());
/// ```
pub fn hosts(text: &str, bare: bool) -> Vec<&str> {
    let bare = bare && is_list(text);
    text.split(|c: char| c.is_whitespace() || c == ',' || c == ';')
        .filter_map(|entry| host(entry, bare))
        .collect()
}

/// Whether `text` is a list of single words: no entry between `,` or `;`
/// holds a space.
fn is_list(text: &str) -> bool {
    text.split([',', ';'])
        .all(|item| !item.trim().contains(char::is_whitespace))
}

/// The host one entry names, if any.
fn host(entry: &str, bare: bool) -> Option<&str> {
    let entry = entry.trim_matches(|c| {
        matches!(
            c,
            '"' | '\'' | '`' | '(' | ')' | '[' | ']' | '{' | '}' | '<' | '>'
        )
    });
    // A flag or a setting (`--redis=cache:6379`, `HOST=cache`), unless the
    // `=` belongs to an address (`…?sslmode=disable`).
    let entry = match entry.find(['=', ':', '/', '?', '#', '@']) {
        Some(at) if entry[at..].starts_with('=') => &entry[at + 1..],
        _ => entry,
    };
    let (rest, url) = match entry.find("://") {
        Some(at) => (&entry[at + 3..], true),
        None => (entry, false),
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, followed) = (&rest[..end], end < rest.len());
    let (credentials, address) = match authority.rfind('@') {
        Some(at) => (true, &authority[at + 1..]),
        None => (false, authority),
    };
    let (name, port) = match address.split_once(':') {
        Some((name, port)) => (name, Some(port)),
        None => (address, None),
    };
    let name = name.trim_end_matches('.');
    let valid = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !valid {
        return None;
    }
    match port {
        Some(port) => {
            let port = port.trim_end_matches('.');
            let numeric =
                !port.is_empty() && port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit());
            numeric.then_some(name)
        }
        None if url => Some(name),
        // Without a scheme or a port, only a name standing alone: not a
        // path (`user/api`) nor an e-mail address.
        None if credentials || followed => None,
        None => (name.contains('.') || bare).then_some(name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn urls_name_their_host_whatever_their_credentials_port_or_path() {
        for (text, host) in [
            ("http://user:pw@cartservice:7070/x", "cartservice"),
            ("http://user/api", "user"),
            ("amqp://guest:guest@rabbitmq", "rabbitmq"),
            ("redis://cache:6379/0", "cache"),
            ("redis://:secret@cache:6379", "cache"),
            ("postgres://app@pg-rw:5432/app?sslmode=disable", "pg-rw"),
            (
                "jdbc:postgresql://pg-rw.data.svc:5432/app",
                "pg-rw.data.svc",
            ),
            (
                "http://cart.shop.svc.cluster.local./healthz",
                "cart.shop.svc.cluster.local",
            ),
            ("grpc://catalog:3550#x", "catalog"),
        ] {
            assert_eq!(hosts(text, false), [host], "{text}");
        }
    }

    #[test]
    fn an_address_with_a_port_names_its_host() {
        assert_eq!(hosts("cartservice:7070", false), ["cartservice"]);
        assert_eq!(
            hosts("cartservice.shop.svc.cluster.local:7070", false),
            ["cartservice.shop.svc.cluster.local"]
        );
        assert_eq!(hosts("guest:guest@rabbitmq:5672", false), ["rabbitmq"]);
        assert_eq!(hosts("minio:9000/models", false), ["minio"]);
        assert_eq!(
            hosts("broker-1:9092,broker-2:9092", false),
            ["broker-1", "broker-2"]
        );
        assert_eq!(
            hosts("mongodb://a:27017,b:27017/db?replicaSet=rs", false),
            ["a", "b"]
        );
        assert_eq!(
            hosts("--upstream=http://user:8080", false),
            ["user"],
            "a flag's value"
        );
        assert_eq!(hosts("connect to (cart:7070) now", false), ["cart"]);
    }

    #[test]
    fn a_dotted_name_alone_is_a_host_anywhere() {
        assert_eq!(hosts("cart.shop", false), ["cart.shop"]);
        assert_eq!(hosts("ask cart.shop.svc first", false), ["cart.shop.svc"]);
    }

    #[test]
    fn a_single_word_is_a_host_only_where_one_is_expected_and_alone() {
        assert_eq!(hosts("cache", true), ["cache"]);
        assert!(hosts("cache", false).is_empty());
        assert_eq!(hosts("cache-1, cache-2", true), ["cache-1", "cache-2"]);
        assert!(hosts("the user service is down", true).is_empty());
        assert!(hosts("the user service is down", false).is_empty());
    }

    #[test]
    fn paths_mail_and_other_colons_name_nothing() {
        for text in [
            "/data/duckdb",
            "./user",
            "user/api",
            "admin@user",
            "http://:8081",
            "http://[::1]:8080/",
            "[::1]:8080",
            "a:b",
            "user:pass",
            "C:\\data",
            "${}",
            "\0:6379",
            "redis-\0:6379",
            "",
        ] {
            assert!(
                hosts(text, true).is_empty(),
                "{text}: {:?}",
                hosts(text, true)
            );
        }
    }

    #[test]
    fn address_variables_are_told_by_their_words() {
        for name in [
            "REDIS_HOST",
            "CART_SERVICE_ADDR",
            "DATABASE_URL",
            "KAFKA_BROKERS",
            "KAFKA_BOOTSTRAP_SERVERS",
            "MONGO_URI",
            "otel.exporter.otlp.endpoint",
        ] {
            assert!(names_an_address(name), "{name}");
        }
        for name in [
            "CACHE",
            "DB_TYPE",
            "SECURITY",
            "HOSTILE",
            "RUST_LOG",
            "URLENCODE",
        ] {
            assert!(!names_an_address(name), "{name}");
        }
    }

    proptest! {
        #[test]
        fn every_host_is_a_piece_of_the_text(text in "\\PC{0,60}", bare in any::<bool>()) {
            for host in hosts(&text, bare) {
                prop_assert!(!host.is_empty());
                prop_assert!(text.contains(host));
            }
        }

        #[test]
        fn a_name_with_a_port_is_found_inside_any_list(
            name in "[a-z][a-z0-9-]{0,12}",
            port in 1u16..,
            before in "[a-z ]{0,10}",
        ) {
            let text = format!("{before}, {name}:{port}");
            prop_assert!(hosts(&text, false).contains(&name.as_str()));
        }
    }
}
