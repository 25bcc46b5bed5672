//! Reading environment variables for the configuration: every section goes through [`Vars`], so
//! blank means unset everywhere and every bad value becomes a [`ConfigError`] naming its variable.

use std::fmt;
use std::str::FromStr;

/// A configuration value that cannot be used, and the variable it came from.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("{var}: {message}")]
pub struct ConfigError {
    pub var: &'static str,
    pub message: String,
}

pub(crate) fn err(var: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        var,
        message: message.into(),
    }
}

/// The variables as the configuration sees them: values trimmed, blank ones unset.
pub(crate) struct Vars<'a> {
    lookup: &'a dyn Fn(&str) -> Option<String>,
}

impl<'a> Vars<'a> {
    pub(crate) fn new(lookup: &'a dyn Fn(&str) -> Option<String>) -> Self {
        Vars { lookup }
    }

    /// The trimmed value of `name`; `None` when unset or blank.
    pub(crate) fn get(&self, name: &str) -> Option<String> {
        (self.lookup)(name)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    }

    /// `name` parsed as a `T`, or `default` when unset.
    pub(crate) fn parse_or<T: FromStr>(
        &self,
        name: &'static str,
        default: T,
    ) -> Result<T, ConfigError>
    where
        T::Err: fmt::Display,
    {
        match self.get(name) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|e| err(name, format!("'{v}' is not valid: {e}"))),
        }
    }

    /// `name` as a boolean (`true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off`), or `default`.
    pub(crate) fn bool_or(&self, name: &'static str, default: bool) -> Result<bool, ConfigError> {
        match self.get(name).map(|v| v.to_ascii_lowercase()) {
            None => Ok(default),
            Some(v) if matches!(v.as_str(), "1" | "true" | "yes" | "on") => Ok(true),
            Some(v) if matches!(v.as_str(), "0" | "false" | "no" | "off") => Ok(false),
            Some(v) => Err(err(
                name,
                format!("'{v}' is not a boolean (use true or false)"),
            )),
        }
    }

    /// The same view as a plain lookup function, for readers in other crates.
    pub(crate) fn lookup(&self) -> impl Fn(&str) -> Option<String> + '_ {
        |name| self.get(name)
    }
}

/// `http://…` or `https://…`.
pub(crate) fn is_http_url(u: &str) -> bool {
    u.starts_with("http://") || u.starts_with("https://")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_is_unset_and_values_are_trimmed() {
        let lookup = |k: &str| match k {
            "BLANK" => Some("  ".to_string()),
            "PADDED" => Some(" 42 ".to_string()),
            "YES" => Some("On".to_string()),
            _ => None,
        };
        let vars = Vars::new(&lookup);
        assert_eq!(vars.get("BLANK"), None);
        assert_eq!(vars.get("PADDED").as_deref(), Some("42"));
        assert_eq!(vars.parse_or("PADDED", 0u32), Ok(42));
        assert_eq!(vars.parse_or("BLANK", 7u32), Ok(7));
        assert_eq!(vars.bool_or("YES", false), Ok(true));
        assert_eq!(vars.bool_or("BLANK", true), Ok(true));
        assert_eq!(vars.parse_or("YES", 0u32).unwrap_err().var, "YES");
    }
}
