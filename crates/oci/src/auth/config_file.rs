//! The `~/.oci/config` file: INI sections (profiles) of `key=value` lines, read the way the
//! OCI SDKs read it (Python's `configparser`): keys are case-insensitive, `#`/`;` start comment
//! lines, `key: value` also works, indented lines continue a value, and every profile inherits
//! the keys of `[DEFAULT]`. Hand-written because the general INI crates do not implement the
//! DEFAULT inheritance, and the whole format is this one screen.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::OciError;

pub const DEFAULT_PROFILE: &str = "DEFAULT";

/// `~/.oci/config`.
pub fn default_path() -> PathBuf {
    expand_home("~/.oci/config")
}

/// Expands a leading `~` or `~/` to `$HOME`.
pub fn expand_home(p: &str) -> PathBuf {
    match (p.strip_prefix('~'), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) if rest.is_empty() || rest.starts_with('/') => {
            PathBuf::from(home).join(rest.trim_start_matches('/'))
        }
        _ => PathBuf::from(p),
    }
}

/// A parsed config file: profile name → keys (lower case) → values.
#[derive(Clone, Default)]
pub struct ConfigFile {
    path: PathBuf,
    sections: BTreeMap<String, BTreeMap<String, String>>,
}

impl ConfigFile {
    /// Reads and parses `path`; a missing file is named.
    pub fn load(path: &Path) -> Result<Self, OciError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            let message = if e.kind() == std::io::ErrorKind::NotFound {
                format!(
                    "OCI config file {} does not exist (set OCI_CONFIG_FILE, or OCI_AUTH=instance_principal|resource_principal)",
                    path.display()
                )
            } else {
                format!("cannot read OCI config file {}: {e}", path.display())
            };
            OciError::config_from(message, e)
        })?;
        Self::parse(&text, path)
    }

    /// Parses config text; `path` is only for messages.
    pub fn parse(text: &str, path: &Path) -> Result<Self, OciError> {
        let mut sections: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        let mut current: Option<String> = None;
        let mut last_key: Option<String> = None;
        let bad = |n: usize, why: &str| {
            OciError::config(format!(
                "OCI config file {}, line {n}: {why}",
                path.display()
            ))
        };
        for (i, raw) in text.lines().enumerate() {
            let n = i + 1;
            let line = raw.trim_end();
            let trimmed = line.trim_start();
            if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
                continue;
            }
            // An indented line continues the previous value (configparser's multi-line values).
            if line.starts_with([' ', '\t']) {
                if let (Some(section), Some(key)) = (&current, &last_key) {
                    if let Some(v) = sections.get_mut(section).and_then(|s| s.get_mut(key)) {
                        v.push('\n');
                        v.push_str(trimmed);
                        continue;
                    }
                }
            }
            if let Some(name) = trimmed.strip_prefix('[') {
                let name = name
                    .strip_suffix(']')
                    .ok_or_else(|| bad(n, "a section header must end with ']'"))?
                    .trim()
                    .to_string();
                if sections.contains_key(&name) {
                    return Err(bad(n, &format!("profile [{name}] appears twice")));
                }
                sections.insert(name.clone(), BTreeMap::new());
                current = Some(name);
                last_key = None;
                continue;
            }
            let section = current
                .as_ref()
                .ok_or_else(|| bad(n, "a key=value line before any [PROFILE] header"))?;
            let split = trimmed
                .find(['=', ':'])
                .ok_or_else(|| bad(n, "expected key=value"))?;
            let key = trimmed[..split].trim().to_ascii_lowercase();
            let value = trimmed[split + 1..].trim().to_string();
            if key.is_empty() {
                return Err(bad(n, "empty key"));
            }
            if let Some(s) = sections.get_mut(section) {
                s.insert(key.clone(), value);
            }
            last_key = Some(key);
        }
        Ok(ConfigFile {
            path: path.to_path_buf(),
            sections,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Profile names in the file.
    pub fn profiles(&self) -> impl Iterator<Item = &str> {
        self.sections.keys().map(String::as_str)
    }

    /// The profile's keys merged over `[DEFAULT]`'s. A profile that is not in the file is an
    /// error listing the ones that are.
    pub fn profile(&self, name: &str) -> Result<Profile, OciError> {
        let Some(own) = self.sections.get(name) else {
            let known: Vec<&str> = self.profiles().collect();
            return Err(OciError::config(format!(
                "profile '{name}' not found in OCI config file {} (profiles there: {}; set OCI_PROFILE)",
                self.path.display(),
                if known.is_empty() { "none".to_string() } else { known.join(", ") }
            )));
        };
        let mut values = self
            .sections
            .get(DEFAULT_PROFILE)
            .cloned()
            .unwrap_or_default();
        values.extend(own.iter().map(|(k, v)| (k.clone(), v.clone())));
        Ok(Profile {
            name: name.to_string(),
            path: self.path.clone(),
            values,
        })
    }
}

/// One profile's effective keys.
#[derive(Clone)]
pub struct Profile {
    name: String,
    path: PathBuf,
    values: BTreeMap<String, String>,
}

impl Profile {
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.values
            .get(&key.to_ascii_lowercase())
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// A key the caller cannot do without; the error names the key, the profile and the file.
    pub fn require(&self, key: &str) -> Result<&str, OciError> {
        self.get(key).ok_or_else(|| {
            OciError::config(format!(
                "OCI config file {}, profile [{}]: '{key}' is missing",
                self.path.display(),
                self.name
            ))
        })
    }
}

impl std::fmt::Debug for ConfigFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // pass_phrase and key_content are secrets: show profile and key names only.
        let sections: BTreeMap<&String, Vec<&String>> = self
            .sections
            .iter()
            .map(|(name, values)| (name, values.keys().collect()))
            .collect();
        f.debug_struct("ConfigFile")
            .field("path", &self.path)
            .field("sections", &sections)
            .finish()
    }
}

impl std::fmt::Debug for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // pass_phrase and key_content are secrets: show key names only.
        f.debug_struct("Profile")
            .field("name", &self.name)
            .field("keys", &self.values.keys().collect::<Vec<_>>())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "\
# comment
[DEFAULT]
user=ocid1.user.oc1..default
fingerprint = aa:bb
Tenancy=ocid1.tenancy.oc1..t
region=us-ashburn-1
key_file=~/.oci/key.pem
pass_phrase=secret

[OTHER]
user: ocid1.user.oc1..other
; comment
region = eu-frankfurt-1
pass_phrase=
";

    #[test]
    fn debug_hides_values() {
        let cfg = ConfigFile::parse(TEXT, Path::new("/x/config")).unwrap();
        let shown = format!("{cfg:?}");
        assert!(shown.contains("pass_phrase"), "{shown}");
        assert!(!shown.contains("secret"), "{shown}");
        let shown = format!("{:?}", cfg.profile("DEFAULT").unwrap());
        assert!(!shown.contains("secret"), "{shown}");
    }

    #[test]
    fn profiles_inherit_default_and_override_it() {
        let cfg = ConfigFile::parse(TEXT, Path::new("/x/config")).unwrap();
        let d = cfg.profile("DEFAULT").unwrap();
        assert_eq!(d.get("tenancy"), Some("ocid1.tenancy.oc1..t"));
        assert_eq!(d.get("pass_phrase"), Some("secret"));
        let o = cfg.profile("OTHER").unwrap();
        assert_eq!(o.get("user"), Some("ocid1.user.oc1..other"));
        assert_eq!(o.get("region"), Some("eu-frankfurt-1"));
        assert_eq!(o.get("fingerprint"), Some("aa:bb"));
        assert_eq!(
            o.get("pass_phrase"),
            None,
            "an empty value overrides and counts as unset"
        );
        assert!(!format!("{o:?}").contains("secret"));
    }

    #[test]
    fn missing_profile_and_key_are_named() {
        let cfg = ConfigFile::parse(TEXT, Path::new("/x/config")).unwrap();
        let msg = cfg.profile("PROD").unwrap_err().to_string();
        assert!(
            msg.contains("'PROD'") && msg.contains("DEFAULT, OTHER") && msg.contains("/x/config"),
            "{msg}"
        );
        let msg = cfg
            .profile("OTHER")
            .unwrap()
            .require("key_content")
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("key_content") && msg.contains("[OTHER]"),
            "{msg}"
        );
    }

    #[test]
    fn malformed_lines_point_at_the_line() {
        let msg = ConfigFile::parse("[A]\nnot a pair\n", Path::new("c"))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("line 2"), "{msg}");
        let msg = ConfigFile::parse("user=x\n", Path::new("c"))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("line 1"), "{msg}");
    }

    #[test]
    fn home_is_expanded() {
        let home = std::env::var("HOME").unwrap();
        assert_eq!(
            expand_home("~/.oci/k.pem"),
            PathBuf::from(&home).join(".oci/k.pem")
        );
        assert_eq!(expand_home("/abs/k.pem"), PathBuf::from("/abs/k.pem"));
    }
}
