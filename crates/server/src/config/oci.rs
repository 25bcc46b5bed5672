//! How OCI is reached: `OCI_AUTH`, `OCI_CONFIG_FILE`, `OCI_PROFILE`, `OCI_REGION`, the
//! `OCI_*_ENDPOINT`/`OCIR_ENDPOINT` overrides and the `OCI_RESOURCE_PRINCIPAL_*` variables; and
//! the form of the Vault secret OCIDs (`JWT_SECRET_OCID`, `DATABASE_URL_SECRET_OCID`) that the
//! sections they replace read.

use super::vars::{err, ConfigError, Vars};
use mediaserver_oci::{AuthKind, AuthSettings, EndpointOverrides, Region};

/// The OCI settings. An unknown `OCI_REGION` only matters when OCI is used (the variable also
/// names the region of an S3-compatible bucket); a bad `OCI_AUTH` or endpoint always does.
pub(super) fn from_vars(vars: &Vars, uses_oci: bool) -> Result<AuthSettings, ConfigError> {
    let kind = match vars.get("OCI_AUTH") {
        Some(v) => v
            .parse::<AuthKind>()
            .map_err(|e| err("OCI_AUTH", e.to_string().trim_start_matches("OCI_AUTH: ")))?,
        None => AuthKind::default(),
    };
    let region = match vars.get("OCI_REGION").map(|r| Region::lookup(&r)) {
        Some(Ok(r)) => Some(r),
        Some(Err(e)) if uses_oci => return Err(err("OCI_REGION", e.to_string())),
        _ => None,
    };
    let overrides = EndpointOverrides::from_lookup(vars.lookup());
    overrides.validate().map_err(|(v, m)| err(v, m))?;
    Ok(AuthSettings {
        kind,
        config_file: vars
            .get("OCI_CONFIG_FILE")
            .map(|p| mediaserver_oci::auth::config_file::expand_home(&p)),
        profile: vars.get("OCI_PROFILE"),
        region,
        overrides,
        resource_principal: mediaserver_oci::auth::ResourcePrincipalEnv::from_lookup(vars.lookup()),
    })
}

/// `id`, the value of `name`, looks like an OCI Vault secret's OCID.
pub(super) fn validate_secret_ocid(name: &'static str, id: &str) -> Result<(), ConfigError> {
    mediaserver_oci::vault::validate_secret_ocid(id).map_err(|m| err(name, m))
}

#[cfg(test)]
mod tests {
    use super::super::tests::cfg;

    #[test]
    fn secrets_from_oci_vault_and_oci_settings() {
        let jwt = "ocid1.vaultsecret.oc1.iad.amaaaaaajwt";
        let db = "ocid1.vaultsecret.oc1.iad.amaaaaaadb";
        let c = cfg(&[
            ("JWT_SECRET_OCID", jwt),
            ("DATABASE_URL_SECRET_OCID", db),
            ("OCI_AUTH", "instance_principal"),
            ("OCI_REGION", "FRA"),
            ("OCI_SECRETS_ENDPOINT", "http://127.0.0.1:9000"),
        ])
        .unwrap();
        assert_eq!(c.auth.jwt_secret_ocid.as_deref(), Some(jwt));
        assert_eq!(c.database.url_secret_ocid.as_deref(), Some(db));
        assert_eq!(c.database.url, "", "filled from the vault at startup");
        assert!(!c.is_embedded());
        assert_eq!(c.oci.kind, mediaserver_oci::AuthKind::InstancePrincipal);
        assert_eq!(c.oci.region.map(|r| r.id()), Some("eu-frankfurt-1"));
        assert_eq!(
            c.oci.overrides.secrets.as_deref(),
            Some("http://127.0.0.1:9000")
        );

        let e = cfg(&[("JWT_SECRET_OCID", "ocid1.vault.oc1..x")]).unwrap_err();
        assert_eq!(e.var, "JWT_SECRET_OCID");
        assert!(e.message.contains("not a secret OCID"), "{e}");
        let e = cfg(&[
            ("JWT_SECRET_OCID", jwt),
            ("JWT_SECRET", "0123456789abcdef0123456789abcdef"),
        ])
        .unwrap_err();
        assert_eq!(e.var, "JWT_SECRET_OCID");
        let e = cfg(&[
            ("DATABASE_URL_SECRET_OCID", db),
            ("DATABASE_URL", "postgres://x@y/z"),
        ])
        .unwrap_err();
        assert_eq!(e.var, "DATABASE_URL_SECRET_OCID");
        // Without a JWT secret of either kind, a vault-held database URL still needs one.
        let e = cfg(&[("DATABASE_URL_SECRET_OCID", db)]).unwrap_err();
        assert_eq!(e.var, "JWT_SECRET");
        let e = cfg(&[("OCI_AUTH", "magic")]).unwrap_err();
        assert_eq!(e.var, "OCI_AUTH");
        let e = cfg(&[("OCI_OBJECTSTORAGE_ENDPOINT", "objectstorage")]).unwrap_err();
        assert_eq!(e.var, "OCI_OBJECTSTORAGE_ENDPOINT");
        let e = cfg(&[("JWT_SECRET_OCID", jwt), ("OCI_REGION", "atlantis-1")]).unwrap_err();
        assert_eq!(e.var, "OCI_REGION");
        // OCI_REGION also names an S3-compatible bucket's region: unknown is fine when unused.
        let e = cfg(&[
            ("STORAGE_PROVIDER", "OCIBucket"),
            ("JWT_SECRET", "0123456789abcdef0123456789abcdef"),
            ("OCI_REGION", "atlantis-1"),
        ])
        .unwrap_err();
        assert_eq!(e.var, "OCI_REGION");
        assert!(cfg(&[("OCI_REGION", "atlantis-1")])
            .unwrap()
            .oci
            .region
            .is_none());
    }
}
