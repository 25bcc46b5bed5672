//! Image references: `<host>/<path>[:tag][@digest]`, validated the way the OCI distribution
//! spec and OCIR define each part, so a typo is reported at the part it is in rather than as a
//! registry 404. Hand-written because the references `oci-client` parses are accepted loosely
//! (no registry host required, no per-part errors); this type is converted into
//! `oci_client::Reference` for the registry calls.
//!
//! OCIR hosts are recognised and tied to their region: `<key>.ocir.io` and
//! `<region identifier>.ocir.io` (oc1), `ocir.<region>.oci.<domain>` and
//! `artifacts.<region>.oci.<domain>` (every realm). On OCIR the first path component is the
//! tenancy namespace.

use std::fmt;

use crate::region::Region;

/// Which part of a reference was wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Reference,
    Registry,
    Namespace,
    Repository,
    Tag,
    Digest,
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Part::Reference => "reference",
            Part::Registry => "registry host",
            Part::Namespace => "tenancy namespace",
            Part::Repository => "repository",
            Part::Tag => "tag",
            Part::Digest => "digest",
        })
    }
}

/// A malformed image reference: the whole input, the part, where it starts (1-based
/// character position) and what a valid one looks like.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid image reference '{input}': {part} '{value}' (at character {position}) is invalid: {message}")]
pub struct ReferenceError {
    pub input: String,
    pub part: Part,
    pub value: String,
    pub position: usize,
    pub message: String,
}

/// Longest repository path (everything between the host and the tag), as registries enforce.
const MAX_REPOSITORY_LEN: usize = 255;

/// A validated image reference.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ImageReference {
    registry: String,
    repository: String,
    tag: Option<String>,
    digest: Option<String>,
}

impl ImageReference {
    /// Parses `<host>[:port]/<path>[:tag][@sha256:<64 hex>]`. The host is required (this is
    /// for registries named explicitly, not Docker Hub shorthand) and lower-cased.
    pub fn parse(input: &str) -> Result<Self, ReferenceError> {
        let s = input.trim();
        // Positions are reported in the trimmed input, 1-based.
        let offset = input.len() - input.trim_start().len();
        let fail = |part: Part, value: &str, at: usize, message: &str| ReferenceError {
            input: input.to_string(),
            part,
            value: value.to_string(),
            position: input[..(offset + at).min(input.len())].chars().count() + 1,
            message: message.to_string(),
        };
        if s.is_empty() {
            return Err(fail(Part::Reference, "", 0, "the reference is empty"));
        }
        if let Some(bad) = s.find(|c: char| c.is_whitespace() || c.is_control()) {
            let start = s[..bad].rfind(['/', ':', '@']).map(|i| i + 1).unwrap_or(0);
            let part = part_at(s, start);
            let stops: &[char] = if part == Part::Tag {
                &['@']
            } else {
                &['/', ':', '@']
            };
            let end = s[bad..].find(stops).map(|i| bad + i).unwrap_or(s.len());
            let message = match part {
                Part::Tag => TAG_RULE.to_string(),
                p => format!("a {p} must not contain spaces or control characters"),
            };
            return Err(fail(part, &s[start..end], start, &message));
        }

        // digest
        let (rest, digest) = match s.split_once('@') {
            Some((r, d)) => {
                let at = r.len() + 1;
                validate_digest(d).map_err(|m| fail(Part::Digest, d, at, &m))?;
                (r, Some(d.to_string()))
            }
            None => (s, None),
        };
        // host
        let Some((host, path_and_tag)) = rest.split_once('/') else {
            return Err(fail(
                Part::Registry,
                rest,
                0,
                "a reference starts with the registry host: <host>/<namespace>/<repository>[:tag], \
                 e.g. iad.ocir.io/mytenancy/mediaserver:latest",
            ));
        };
        if !looks_like_host(host) {
            return Err(fail(
                Part::Registry,
                host,
                0,
                "a reference starts with the registry host (a name with a dot or a port, or \
                 localhost): <host>/<namespace>/<repository>[:tag], e.g. \
                 iad.ocir.io/mytenancy/mediaserver:latest",
            ));
        }
        validate_host(host).map_err(|m| fail(Part::Registry, host, 0, &m))?;
        let host = host.to_ascii_lowercase();
        // tag: after the last ':' of the path (a ':' cannot occur in repository components)
        let path_start = host.len() + 1;
        let (repository, tag) = match path_and_tag.rsplit_once(':') {
            Some((r, t)) => {
                let at = path_start + r.len() + 1;
                validate_tag(t).map_err(|m| fail(Part::Tag, t, at, &m))?;
                (r, Some(t.to_string()))
            }
            None => (path_and_tag, None),
        };
        let ocir = ocir_region(&host);
        if let Err((at, part, value, m)) = validate_repository(repository, ocir.is_some()) {
            return Err(fail(part, &value, path_start + at, &m));
        }
        if let OcirHost::UnknownRegion(r) = ocir_host_kind(&host) {
            return Err(fail(
                Part::Registry,
                &host,
                0,
                &format!(
                    "'{r}' is not a known OCI region identifier or key (e.g. iad.ocir.io, \
                     us-ashburn-1.ocir.io, fra.ocir.io)"
                ),
            ));
        }
        Ok(ImageReference {
            registry: host,
            repository: repository.to_string(),
            tag,
            digest,
        })
    }

    /// An OCIR reference from its parts: `region` is an identifier or a three-letter key
    /// (`us-ashburn-1`, `IAD`), `namespace` the tenancy's Object Storage namespace,
    /// `repository` the path inside it, `tag` optional.
    pub fn ocir(
        region: &str,
        namespace: &str,
        repository: &str,
        tag: Option<&str>,
    ) -> Result<Self, ReferenceError> {
        let region = Region::lookup(region).map_err(|e| ReferenceError {
            input: format!("{region}/{namespace}/{repository}"),
            part: Part::Registry,
            value: region.to_string(),
            position: 1,
            message: e.to_string(),
        })?;
        let mut s = format!(
            "{}/{}/{}",
            region.ocir_host(),
            namespace.trim(),
            repository.trim()
        );
        if let Some(t) = tag {
            s.push(':');
            s.push_str(t.trim());
        }
        Self::parse(&s)
    }

    /// `host[:port]`, lower case.
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// The path between host and tag, e.g. `mytenancy/mediaserver`.
    pub fn repository(&self) -> &str {
        &self.repository
    }

    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// `sha256:…`
    pub fn digest(&self) -> Option<&str> {
        self.digest.as_deref()
    }

    /// The OCIR region when the host is an OCIR registry.
    pub fn ocir_region(&self) -> Option<Region> {
        ocir_region(&self.registry)
    }

    /// On OCIR, the tenancy namespace (the first path component).
    pub fn namespace(&self) -> Option<&str> {
        self.ocir_region()?;
        self.repository.split('/').next()
    }

    /// The same image pinned to `digest` (the tag is kept for readers; registries and
    /// container runtimes pull by the digest).
    pub fn with_digest(&self, digest: &str) -> Result<Self, ReferenceError> {
        let mut s = format!("{}/{}", self.registry, self.repository);
        if let Some(t) = &self.tag {
            s.push(':');
            s.push_str(t);
        }
        s.push('@');
        s.push_str(digest);
        Self::parse(&s)
    }

    /// `host/repository@digest`, the form that pulls exactly one image; `None` without a digest.
    pub fn pinned(&self) -> Option<String> {
        self.digest
            .as_ref()
            .map(|d| format!("{}/{}@{d}", self.registry, self.repository))
    }

    /// The `oci-client` form of this reference.
    pub fn to_client_reference(&self) -> oci_client::Reference {
        match (&self.tag, &self.digest) {
            (_, Some(d)) => oci_client::Reference::with_digest(
                self.registry.clone(),
                self.repository.clone(),
                d.clone(),
            ),
            (Some(t), None) => oci_client::Reference::with_tag(
                self.registry.clone(),
                self.repository.clone(),
                t.clone(),
            ),
            (None, None) => oci_client::Reference::with_tag(
                self.registry.clone(),
                self.repository.clone(),
                "latest".into(),
            ),
        }
    }
}

impl fmt::Display for ImageReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

impl std::str::FromStr for ImageReference {
    type Err = ReferenceError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// Which part of `s` the byte offset `at` falls in (for the whitespace error).
fn part_at(s: &str, at: usize) -> Part {
    if let Some(i) = s.find('@') {
        if at > i {
            return Part::Digest;
        }
    }
    match s.find('/') {
        None => Part::Registry,
        Some(slash) if at <= slash => Part::Registry,
        Some(_) => {
            let before = &s[..at];
            if before.ends_with(':') && !before.contains('@') {
                Part::Tag
            } else {
                Part::Repository
            }
        }
    }
}

/// Docker's rule for telling a host from a first path component.
fn looks_like_host(s: &str) -> bool {
    s.contains('.') || s.contains(':') || s.eq_ignore_ascii_case("localhost")
}

fn validate_host(host: &str) -> Result<(), String> {
    let (name, port) = match host.rsplit_once(':') {
        Some((n, p)) => (n, Some(p)),
        None => (host, None),
    };
    if let Some(p) = port {
        if p.is_empty() || p.parse::<u16>().map(|n| n == 0).unwrap_or(true) {
            return Err(format!("the port '{p}' is not a number from 1 to 65535"));
        }
    }
    let ok_label = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if name.is_empty() || name.len() > 253 || !name.split('.').all(ok_label) {
        return Err(
            "a host name is dot-separated labels of letters, digits and '-' (optionally :port)"
                .into(),
        );
    }
    Ok(())
}

const TAG_RULE: &str =
    "a tag is 1 to 128 letters, digits, '_', '.' or '-', and does not start with '.' or '-'";

/// `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`
fn validate_tag(t: &str) -> Result<(), String> {
    let rule = TAG_RULE;
    let mut chars = t.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphanumeric() || c == '_' => {}
        _ => return Err(rule.into()),
    }
    if t.len() > 128 || !chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')) {
        return Err(rule.into());
    }
    Ok(())
}

fn validate_digest(d: &str) -> Result<(), String> {
    let Some((alg, hex)) = d.split_once(':') else {
        return Err("a digest is sha256: followed by 64 hex digits".into());
    };
    let len = match alg {
        "sha256" => 64,
        "sha512" => 128,
        _ => {
            return Err(format!(
                "unsupported algorithm '{alg}': a digest is sha256: followed by 64 hex digits"
            ))
        }
    };
    if hex.len() != len || !hex.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f')) {
        return Err(format!(
            "a {alg} digest is {alg}: followed by {len} lower-case hex digits (this one has {})",
            hex.len()
        ));
    }
    Ok(())
}

/// Path components per the distribution spec: `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`, joined by
/// `/`. On OCIR the first component is the tenancy namespace and a repository follows it.
/// Errors carry (byte offset in `path`, part, the component, message).
fn validate_repository(path: &str, ocir: bool) -> Result<(), (usize, Part, String, String)> {
    if path.is_empty() {
        return Err((
            0,
            Part::Repository,
            String::new(),
            "the repository is missing after the host".into(),
        ));
    }
    if path.len() > MAX_REPOSITORY_LEN {
        return Err((
            0,
            Part::Repository,
            path.to_string(),
            format!("a repository path is at most {MAX_REPOSITORY_LEN} characters"),
        ));
    }
    let mut at = 0;
    let count = path.split('/').count();
    if ocir && count < 2 {
        return Err((
            0,
            Part::Repository,
            path.to_string(),
            "an OCIR image is <tenancy namespace>/<repository>: the repository is missing".into(),
        ));
    }
    for (i, comp) in path.split('/').enumerate() {
        let part = if ocir && i == 0 {
            Part::Namespace
        } else {
            Part::Repository
        };
        if let Err(m) = validate_component(comp) {
            let m = if part == Part::Namespace {
                format!("{m} (the tenancy namespace is the Object Storage namespace, e.g. axaxnpcrorw5: `oci os ns get`)")
            } else {
                m
            };
            return Err((at, part, comp.to_string(), m));
        }
        at += comp.len() + 1;
    }
    Ok(())
}

fn validate_component(c: &str) -> Result<(), String> {
    if c.is_empty() {
        return Err("empty path component (two '/' in a row, or a '/' at the end)".into());
    }
    if c.chars().any(|ch| ch.is_ascii_uppercase()) {
        return Err("must be lower case".into());
    }
    let rule =
        "path components are lower-case letters and digits, separated by '.', '_', '__' or '-'";
    let bytes = c.as_bytes();
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if !alnum(bytes[0]) || !alnum(bytes[bytes.len() - 1]) {
        return Err(format!(
            "{rule}, starting and ending with a letter or digit"
        ));
    }
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if alnum(b) {
            i += 1;
            continue;
        }
        // A separator run: '.', '_', '__' or one or more '-'.
        let start = i;
        while i < bytes.len() && !alnum(bytes[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|b| b == b'-');
        if !ok {
            return Err(format!("{rule}; '{sep}' is not a separator"));
        }
    }
    Ok(())
}

enum OcirHost {
    Region(Region),
    UnknownRegion(String),
    NotOcir,
}

fn ocir_host_kind(host: &str) -> OcirHost {
    let name = host.split(':').next().unwrap_or(host);
    if let Some(r) = name.strip_suffix(".ocir.io") {
        if r.contains('.') {
            return OcirHost::NotOcir;
        }
        return match Region::lookup(r) {
            Ok(region) => OcirHost::Region(region),
            Err(_) => OcirHost::UnknownRegion(r.to_string()),
        };
    }
    // ocir.<region>.oci.<domain> / artifacts.<region>.oci.<domain>
    let labels: Vec<&str> = name.split('.').collect();
    if labels.len() >= 4 && matches!(labels[0], "ocir" | "artifacts") && labels[2] == "oci" {
        if let Ok(region) = Region::lookup(labels[1]) {
            if labels[3..].join(".") == region.second_level_domain() {
                return OcirHost::Region(region);
            }
        }
    }
    OcirHost::NotOcir
}

fn ocir_region(host: &str) -> Option<Region> {
    match ocir_host_kind(host) {
        OcirHost::Region(r) => Some(r),
        _ => None,
    }
}

/// Whether `host` is an OCIR registry (any realm, key or identifier form).
pub fn is_ocir_host(host: &str) -> bool {
    ocir_region(&host.to_ascii_lowercase()).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn parses_ocir_and_other_registries() {
        let r = ImageReference::parse("IAD.ocir.io/axaxnpcrorw5/media/server:1.2.3").unwrap();
        assert_eq!(r.registry(), "iad.ocir.io");
        assert_eq!(r.repository(), "axaxnpcrorw5/media/server");
        assert_eq!(r.tag(), Some("1.2.3"));
        assert_eq!(r.namespace(), Some("axaxnpcrorw5"));
        assert_eq!(r.ocir_region().unwrap().id(), "us-ashburn-1");
        assert_eq!(r.to_string(), "iad.ocir.io/axaxnpcrorw5/media/server:1.2.3");

        let r = ImageReference::parse("us-phoenix-1.ocir.io/ns/app").unwrap();
        assert_eq!(r.ocir_region().unwrap().key(), "phx");
        assert_eq!(r.tag(), None);

        let r = ImageReference::parse("ocir.us-luke-1.oci.oraclegovcloud.com/ns/app:v1").unwrap();
        assert_eq!(r.ocir_region().unwrap().id(), "us-luke-1");

        let r = ImageReference::parse(&format!("127.0.0.1:5000/library/app:t@{D}")).unwrap();
        assert_eq!(r.registry(), "127.0.0.1:5000");
        assert_eq!(r.repository(), "library/app");
        assert_eq!(r.digest(), Some(D));
        assert_eq!(r.ocir_region(), None);
        assert_eq!(r.namespace(), None);
        assert_eq!(
            r.pinned().unwrap(),
            format!("127.0.0.1:5000/library/app@{D}")
        );

        let r = ImageReference::parse("localhost/a__b.c-d--e/f").unwrap();
        assert_eq!(r.repository(), "a__b.c-d--e/f");
    }

    #[test]
    fn builds_ocir_references_from_region_identifier_or_key() {
        let a = ImageReference::ocir("us-ashburn-1", "ns1", "mediaserver", Some("latest")).unwrap();
        let b = ImageReference::ocir("IAD", "ns1", "mediaserver", Some("latest")).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.to_string(), "iad.ocir.io/ns1/mediaserver:latest");
        let gov = ImageReference::ocir("ltn", "ns1", "m", None).unwrap();
        assert_eq!(
            gov.to_string(),
            "ocir.uk-gov-london-1.oci.oraclegovcloud.uk/ns1/m"
        );
        let err = ImageReference::ocir("mars-1", "ns", "m", None).unwrap_err();
        assert_eq!(err.part, Part::Registry);
        assert!(err.to_string().contains("mars-1"), "{err}");
    }

    #[test]
    fn pins_by_digest() {
        let r = ImageReference::parse("fra.ocir.io/ns/app:latest").unwrap();
        let p = r.with_digest(D).unwrap();
        assert_eq!(p.to_string(), format!("fra.ocir.io/ns/app:latest@{D}"));
        assert_eq!(p.pinned().unwrap(), format!("fra.ocir.io/ns/app@{D}"));
        assert!(r.with_digest("sha256:abc").is_err());
    }

    fn err(input: &str) -> ReferenceError {
        ImageReference::parse(input).unwrap_err()
    }

    #[test]
    fn errors_point_at_the_part() {
        let e = err("iad.ocir.io/ns/repo:Bad Tag!");
        assert_eq!(e.part, Part::Tag);
        assert_eq!(e.value, "Bad Tag!");
        assert_eq!(e.position, 21);
        assert!(
            e.to_string().starts_with(
                "invalid image reference 'iad.ocir.io/ns/repo:Bad Tag!': tag 'Bad Tag!' (at character 21) is invalid"
            ),
            "{e}"
        );

        let e = err("iad.ocir.io/ns/repo:-x");
        assert_eq!((e.part, e.value.as_str()), (Part::Tag, "-x"));
        let long = format!("iad.ocir.io/ns/repo:{}", "a".repeat(129));
        assert_eq!(err(&long).part, Part::Tag);

        let e = err("iad.ocir.io/MyTenancy/repo:1");
        assert_eq!((e.part, e.value.as_str()), (Part::Namespace, "MyTenancy"));
        assert!(e.message.contains("lower case"), "{e}");
        assert_eq!(e.position, 13);

        let e = err("iad.ocir.io/ns/Repo");
        assert_eq!((e.part, e.value.as_str()), (Part::Repository, "Repo"));
        assert_eq!(e.position, 16);

        let e = err("iad.ocir.io/mediaserver:1");
        assert_eq!(e.part, Part::Repository);
        assert!(e.message.contains("tenancy namespace"), "{e}");

        let e = err("example.com/a//b");
        assert_eq!(e.part, Part::Repository);
        let e = err("example.com/a/b-");
        assert_eq!((e.part, e.value.as_str()), (Part::Repository, "b-"));
        let e = err("example.com/a/b..c");
        assert!(e.message.contains("'..'"), "{e}");

        let e = err("mediaserver:latest");
        assert_eq!(e.part, Part::Registry);
        let e = err("mytenancy/mediaserver:latest");
        assert_eq!((e.part, e.value.as_str()), (Part::Registry, "mytenancy"));
        let e = err("xyz.ocir.io/ns/app");
        assert_eq!(e.part, Part::Registry);
        assert!(e.message.contains("'xyz'"), "{e}");
        let e = err("host.example:99999/ns/app");
        assert!(e.message.contains("port"), "{e}");
        let e = err("bad_host.example/ns/app");
        assert_eq!(e.part, Part::Registry);

        let e = err("iad.ocir.io/ns/app@sha256:abc");
        assert_eq!((e.part, e.value.as_str()), (Part::Digest, "sha256:abc"));
        assert_eq!(e.position, 20);
        let e = err("iad.ocir.io/ns/app@md5:0123");
        assert!(e.message.contains("md5"), "{e}");
        let upper = format!(
            "iad.ocir.io/ns/app@{}",
            D.to_uppercase().replace("SHA", "sha")
        );
        assert_eq!(err(&upper).part, Part::Digest);

        let e = err("iad.ocir.io/ns/my app:1");
        assert_eq!(e.part, Part::Repository);
        assert!(e.message.contains("spaces"), "{e}");
        assert_eq!(err("  ").part, Part::Reference);
    }

    #[test]
    fn recognises_ocir_hosts() {
        assert!(is_ocir_host("iad.ocir.io"));
        assert!(is_ocir_host("FRA.ocir.io"));
        assert!(is_ocir_host("eu-frankfurt-1.ocir.io"));
        assert!(is_ocir_host("artifacts.eu-frankfurt-1.oci.oraclecloud.com"));
        assert!(!is_ocir_host("ocir.eu-frankfurt-1.oci.oraclegovcloud.com"));
        assert!(!is_ocir_host("ghcr.io"));
        assert!(!is_ocir_host("127.0.0.1:5000"));
    }
}
