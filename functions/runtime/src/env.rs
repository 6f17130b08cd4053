//! Environment configuration with errors that name the variable.
//!
//! Configuration is read through [`Env`], a snapshot of variables, rather than `std::env`
//! directly: tests build one from pairs and never mutate the process environment (which is
//! `unsafe` in edition 2024 and racy across parallel tests). An empty value counts as unset.

use std::collections::HashMap;
use std::fmt::Display;
use std::str::FromStr;

/// A configuration problem found at cold start. The message always names the variable.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("environment variable {0} is required but not set")]
    Missing(String),
    #[error("environment variable {name} is malformed: {reason}")]
    Invalid { name: String, reason: String },
}

impl ConfigError {
    pub fn invalid(name: &str, reason: impl Display) -> Self {
        ConfigError::Invalid {
            name: name.to_owned(),
            reason: reason.to_string(),
        }
    }
}

/// A snapshot of environment variables.
#[derive(Debug, Clone, Default)]
pub struct Env {
    vars: HashMap<String, String>,
}

impl Env {
    /// The process environment, read once.
    pub fn from_process() -> Self {
        Self::from_pairs(std::env::vars())
    }

    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Self {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    /// The trimmed value, or `None` when unset or blank.
    pub fn optional(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }

    pub fn required(&self, name: &str) -> Result<&str, ConfigError> {
        self.optional(name)
            .ok_or_else(|| ConfigError::Missing(name.to_owned()))
    }

    /// Parses the variable, or returns `default` when it is unset.
    pub fn parse_or<T>(&self, name: &str, default: T) -> Result<T, ConfigError>
    where
        T: FromStr,
        T::Err: Display,
    {
        match self.optional(name) {
            None => Ok(default),
            Some(raw) => raw.parse().map_err(|e| ConfigError::invalid(name, e)),
        }
    }

    /// A comma-separated list; blanks between commas are dropped. `None` when unset.
    pub fn list(&self, name: &str) -> Option<Vec<String>> {
        self.optional(name).map(|raw| {
            raw.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        })
    }

    /// A comma-separated list that must name at least one entry.
    pub fn required_list(&self, name: &str) -> Result<Vec<String>, ConfigError> {
        let list = self
            .list(name)
            .ok_or_else(|| ConfigError::Missing(name.to_owned()))?;
        if list.is_empty() {
            return Err(ConfigError::invalid(name, "names no entry"));
        }
        Ok(list)
    }

    /// An absolute `http(s)` URL without a trailing slash.
    pub fn base_url(&self, name: &str) -> Result<String, ConfigError> {
        let raw = self.required(name)?;
        check_base_url(name, raw)
    }
}

/// Checks that `raw` is an absolute http(s) URL with a host and no query or fragment, and
/// returns it without a trailing slash, so paths can be appended with `format!("{base}/x")`.
pub fn check_base_url(name: &str, raw: &str) -> Result<String, ConfigError> {
    let rest = raw
        .strip_prefix("https://")
        .or_else(|| raw.strip_prefix("http://"))
        .ok_or_else(|| ConfigError::invalid(name, "must start with https:// or http://"))?;
    let host = rest.split('/').next().unwrap_or_default();
    if host.is_empty() {
        return Err(ConfigError::invalid(name, "has no host"));
    }
    if raw.contains(['?', '#', ' ']) {
        return Err(ConfigError::invalid(
            name,
            "must not carry a query, fragment or space",
        ));
    }
    Ok(raw.trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_counts_as_unset_and_errors_name_the_variable() {
        let env = Env::from_pairs([("A", "  "), ("B", "x")]);
        assert_eq!(env.optional("A"), None);
        assert_eq!(env.required("A"), Err(ConfigError::Missing("A".into())));
        assert!(env.required("A").unwrap_err().to_string().contains("A"));
        assert_eq!(env.required("B"), Ok("x"));
    }

    #[test]
    fn parse_or_names_the_variable_on_garbage() {
        let env = Env::from_pairs([("N", "ten")]);
        let err = env.parse_or::<u64>("N", 5).unwrap_err();
        assert!(err.to_string().contains("N is malformed"), "{err}");
        assert_eq!(env.parse_or::<u64>("M", 5), Ok(5));
    }

    #[test]
    fn lists_drop_blanks_and_required_lists_need_an_entry() {
        let env = Env::from_pairs([("L", " a, ,b ,"), ("E", ",")]);
        assert_eq!(env.required_list("L").unwrap(), vec!["a", "b"]);
        assert!(matches!(
            env.required_list("E"),
            Err(ConfigError::Invalid { .. })
        ));
        assert!(matches!(
            env.required_list("X"),
            Err(ConfigError::Missing(_))
        ));
    }

    #[test]
    fn base_urls_are_absolute_and_lose_their_trailing_slash() {
        assert_eq!(
            check_base_url("U", "https://api.example.com/prod/").unwrap(),
            "https://api.example.com/prod"
        );
        assert!(check_base_url("U", "api.example.com").is_err());
        assert!(check_base_url("U", "https://").is_err());
        assert!(check_base_url("U", "https://x/?a=b").is_err());
    }
}
