//! Compose's own value forms read as Strata's: sizes (`512m`), durations
//! (`1m30s`), command words, and the ports well-known images listen on.

use serde_json::Value;

/// `"512m"`, `"1g"`, `"1.5gb"` (compose byte values) as a Kubernetes
/// quantity (`512Mi`, `1Gi`, `1.5Gi`).
pub(super) fn bytes(text: &str) -> Option<String> {
    let text = text.trim().to_ascii_lowercase();
    let digits: String = text
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    digits.parse::<f64>().ok()?;
    let suffix = match text[digits.len()..].trim_end_matches('b') {
        "" => "",
        "k" => "Ki",
        "m" => "Mi",
        "g" => "Gi",
        _ => return None,
    };
    Some(format!("{digits}{suffix}"))
}

/// A compose duration (`1m30s`, `10s`, `500ms`) in whole seconds, at least 1.
pub(super) fn seconds(text: &str) -> Option<u64> {
    let mut total = 0.0;
    let mut number = String::new();
    let mut chars = text.trim().chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() || c == '.' {
            number.push(c);
            continue;
        }
        let mut unit = c.to_string();
        while let Some(&n) = chars.peek() {
            if n.is_ascii_alphabetic() {
                unit.push(n);
                chars.next();
            } else {
                break;
            }
        }
        let n: f64 = number.parse().ok()?;
        number.clear();
        total += n * match unit.as_str() {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 0.001,
            "us" | "µs" => 0.000_001,
            _ => return None,
        };
    }
    if !number.is_empty() {
        total += number.parse::<f64>().ok()?;
    }
    // Whole seconds, rounded up: the text of the rounded number parses.
    format!("{:.0}", total.ceil().max(1.0)).parse().ok()
}

/// A command written as a string, split as a shell would split words
/// (quotes kept together); a list as it is.
pub(super) fn words(value: &Value) -> Vec<String> {
    match value {
        Value::Array(items) => items.iter().map(text).collect(),
        Value::String(s) => {
            let mut out = Vec::new();
            let mut word = String::new();
            let mut quote: Option<char> = None;
            let mut any = false;
            for c in s.chars() {
                match (quote, c) {
                    (Some(q), c) if c == q => quote = None,
                    (None, '"' | '\'') => {
                        quote = Some(c);
                        any = true;
                    }
                    (None, c) if c.is_whitespace() => {
                        if !word.is_empty() || any {
                            out.push(std::mem::take(&mut word));
                        }
                        any = false;
                    }
                    (_, c) => word.push(c),
                }
            }
            if !word.is_empty() || any {
                out.push(word);
            }
            out
        }
        _ => Vec::new(),
    }
}

pub(super) fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The port a store's image listens on, by the image's name.
pub(crate) fn image_port(image: &str) -> Option<u16> {
    let repo = image.split('@').next().unwrap_or(image);
    let repo = repo.rsplit('/').next().unwrap_or(repo);
    let name = repo.split(':').next().unwrap_or(repo);
    Some(match name {
        "postgres" | "postgresql" => 5432,
        "mysql" | "mariadb" => 3306,
        "redis" | "valkey" | "keydb" => 6379,
        "mongo" | "mongodb" => 27017,
        "rabbitmq" => 5672,
        "nats" => 4222,
        "memcached" => 11211,
        "kafka" => 9092,
        "elasticsearch" | "opensearch" => 9200,
        "minio" => 9000,
        "zookeeper" => 2181,
        "etcd" => 2379,
        "cassandra" => 9042,
        "influxdb" => 8086,
        "neo4j" => 7687,
        "qdrant" => 6333,
        _ => return None,
    })
}

/// The name of a port by its number: what it serves, else `port-N`.
pub(crate) fn port_name_for(number: u16) -> String {
    known_port(number).map_or_else(|| format!("port-{number}"), str::to_string)
}

/// Ports whose number says what they serve, for their names.
pub(super) fn known_port(number: u16) -> Option<&'static str> {
    Some(match number {
        80 | 8080 | 8000 | 3000 | 5000 | 8081 | 9000 => "http",
        443 | 8443 => "https",
        5432 => "postgres",
        3306 => "mysql",
        6379 => "redis",
        27017 => "mongodb",
        5672 => "amqp",
        4222 => "nats",
        9092 => "kafka",
        11211 => "memcache",
        9200 => "http-search",
        50051 => "grpc",
        _ => return None,
    })
}
