//! Names that look like they hold a secret (`DB_PASSWORD`, `api_token`):
//! the one word list by which `lint` and `audit` judge a plain
//! environment variable.

/// Words that mark a name as secret-looking, upper case.
pub(crate) const SECRET_WORDS: [&str; 7] = [
    "PASSWORD",
    "PASSWD",
    "SECRET",
    "TOKEN",
    "API_KEY",
    "PRIVATE_KEY",
    "CREDENTIAL",
];

/// Whether `name` contains one of [`SECRET_WORDS`], in any case.
pub(crate) fn looks_secret(name: &str) -> bool {
    let name = name.to_ascii_uppercase();
    SECRET_WORDS.iter().any(|word| name.contains(word))
}

#[cfg(test)]
mod tests {
    use super::looks_secret;

    #[test]
    fn names_with_a_secret_word_look_secret_in_any_case() {
        assert!(looks_secret("DB_PASSWORD"));
        assert!(looks_secret("github_token"));
        assert!(!looks_secret("APIKEY"));
        assert!(!looks_secret("DB_HOST"));
    }
}
