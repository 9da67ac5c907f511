//! What looks like a secret written in the clear: names that hold one
//! (`DB_PASS`, `stripeKey`, `JWT_SIGNING_KEY`), URLs with a password, and
//! `--password=…` arguments. The one set of rules by which `lint` and
//! `audit` judge plain values.
//!
//! A name is cut into words (at `_`, `-`, `.` and lower-to-upper case
//! changes); it looks secret when a word is a secret word, or when it ends
//! in `KEY` after a word that makes a credential of it, and not when its
//! last word says it holds something else (a file, a length, a name).

/// Words that make a name secret wherever they stand.
const SECRET_WORDS: [&str; 11] = [
    "PASSWORD",
    "PASSWD",
    "PASS",
    "PWD",
    "SECRET",
    "TOKEN",
    "APIKEY",
    "CREDENTIAL",
    "CREDENTIALS",
    "PRIVATEKEY",
    "PASSPHRASE",
];

/// Words before `KEY` that leave it an ordinary key (a map's, a table's).
const ORDINARY_KEYS: [&str; 16] = [
    "PARTITION",
    "CACHE",
    "SORT",
    "ROUTING",
    "PRIMARY",
    "FOREIGN",
    "PUBLIC",
    "HASH",
    "SHARD",
    "LOOKUP",
    "IDEMPOTENCY",
    "MESSAGE",
    "ACCESS",
    "IDENTITY",
    "DIRECTORY",
    "DIR",
];

/// Last words that say the value is about a secret, not the secret itself.
const NOT_THE_SECRET: [&str; 19] = [
    "FILE", "PATH", "DIR", "NAME", "REF", "LENGTH", "LEN", "TTL", "EXPIRY", "EXPIRES", "TIMEOUT",
    "ENABLED", "POLICY", "HEADER", "ID", "URL", "USER", "USERS", "USERNAME",
];

/// The words of a name, upper case: `jwtSigningKey` and `JWT_SIGNING_KEY`
/// both give `JWT`, `SIGNING`, `KEY`.
fn words(name: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut previous_lower = false;
    for c in name.chars() {
        if !c.is_ascii_alphanumeric() {
            if !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
            previous_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && previous_lower && !word.is_empty() {
            words.push(std::mem::take(&mut word));
        }
        previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        word.push(c.to_ascii_uppercase());
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// Whether a variable, flag or key called `name` holds a secret.
pub(crate) fn looks_secret(name: &str) -> bool {
    let words = words(name);
    let Some(last) = words.last() else {
        return false;
    };
    if NOT_THE_SECRET.contains(&last.as_str()) && words.len() > 1 {
        return false;
    }
    // The shell's working directory, not a password.
    if words == ["PWD"] {
        return false;
    }
    // `PRIVATE_KEY`, `API_KEY`: the pair is the secret word.
    let joined: Vec<String> = words.windows(2).map(<[String]>::concat).collect();
    if words
        .iter()
        .chain(&joined)
        .any(|w| SECRET_WORDS.contains(&w.as_str()))
    {
        return true;
    }
    last == "KEY" && words.len() > 1 && !ORDINARY_KEYS.contains(&words[words.len() - 2].as_str())
}

/// Whether `value`, given in the clear for a secret-looking name, may be
/// the secret itself: not empty, not a switch (`true`, `off`), not where a
/// file holding it is (`/etc/kong/tls.key`, as `KONG_SSL_CERT_KEY` takes),
/// and not taken from elsewhere (`${…}`, `$(VAR)`, `{{ … }}`, `%(…)s`,
/// `<placeholder>`).
pub(crate) fn may_be_secret(value: &str) -> bool {
    let value = value.trim().trim_matches(['"', '\'']);
    let switch = [
        "true", "false", "yes", "no", "on", "off", "none", "null", "~",
    ]
    .iter()
    .any(|word| value.eq_ignore_ascii_case(word));
    let file =
        value.starts_with('/') && value[1..].contains('/') && !value.contains(char::is_whitespace);
    !value.is_empty() && !switch && !file && !value.starts_with(['$', '{', '%', '<'])
}

/// Whether `value` is a URL with a password in it (`postgres://u:pw@db/x`),
/// other than one Kubernetes fills in from another variable (`$(DB_PASS)`).
pub(crate) fn url_with_password(value: &str) -> bool {
    let Some((_, rest)) = value.split_once("://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let Some((userinfo, _)) = authority.rsplit_once('@') else {
        return false;
    };
    userinfo
        .split_once(':')
        .is_some_and(|(_, password)| !password.is_empty() && !password.starts_with("$("))
}

/// The names of the arguments of `args` that give a secret in the clear:
/// `--password=hunter2`, or `--api-key hunter2`.
pub(crate) fn secret_arguments(args: &[String]) -> Vec<String> {
    let mut found = Vec::new();
    for (i, arg) in args.iter().enumerate() {
        let Some(flag) = arg.strip_prefix("--").or_else(|| arg.strip_prefix('-')) else {
            continue;
        };
        let (name, value) = match flag.split_once('=') {
            Some((name, value)) => (name, Some(value.to_string())),
            None => (
                flag,
                args.get(i + 1).filter(|v| !v.starts_with('-')).cloned(),
            ),
        };
        let given = value.is_some_and(|v| may_be_secret(&v));
        if given && looks_secret(name) {
            found.push(format!("--{name}"));
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_holding_a_secret_look_secret_in_any_spelling() {
        for name in [
            "DB_PASSWORD",
            "github_token",
            "DB_PASS",
            "PWD_DB",
            "STRIPE_KEY",
            "JWT_SIGNING_KEY",
            "APIKEY",
            "apiKey",
            "stripeSecretKey",
            "AWS_SECRET_ACCESS_KEY",
            "PRIVATE_KEY",
            "KEYSTORE_PASSPHRASE",
        ] {
            assert!(looks_secret(name), "{name}");
        }
    }

    #[test]
    fn names_about_a_secret_or_of_ordinary_keys_do_not() {
        for name in [
            "DB_HOST",
            "PASSWORD_FILE",
            "SECRET_NAME",
            "TOKEN_TTL",
            "PASSWORD_MIN_LENGTH",
            "PARTITION_KEY",
            "CACHE_KEY",
            "PUBLIC_KEY",
            "S3_ACCESS_KEY",
            "AUTHENTICATION_APIKEY_USERS",
            "NACOS_AUTH_IDENTITY_KEY",
            "BADGER_DIRECTORY_KEY",
            "KEY",
            "PASSENGER_COUNT",
            "COMPASS_URL",
            "PWD",
            "AUTH_MODE",
            "",
        ] {
            assert!(!looks_secret(name), "{name}");
        }
    }

    #[test]
    fn switches_and_references_are_not_secrets() {
        assert!(may_be_secret("hunter2"));
        for value in [
            "",
            "/etc/kong/tls.key",
            "False",
            "off",
            "${db.password}",
            "$(DB_PASS)",
            "{{ .Values.x }}",
            "<fill me>",
        ] {
            assert!(!may_be_secret(value), "{value}");
        }
    }

    #[test]
    fn urls_with_a_password_are_found() {
        assert!(url_with_password("postgres://app:hunter2@db:5432/app"));
        assert!(url_with_password("redis://:hunter2@cache:6379/0"));
        assert!(!url_with_password("postgres://app@db:5432/app"));
        assert!(!url_with_password("postgres://app:$(DB_PASS)@db/app"));
        assert!(!url_with_password("http://web:8080/a@b"));
        assert!(!url_with_password("not a url"));
    }

    #[test]
    fn secret_arguments_are_found_with_or_without_equals() {
        let args: Vec<String> = [
            "--password=hunter2",
            "--api-key",
            "abc",
            "--verbose",
            "--token",
            "$(TOKEN)",
            "--port=80",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(secret_arguments(&args), ["--password", "--api-key"]);
    }
}
