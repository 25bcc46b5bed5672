//! Accounts and tokens: `JWT_SECRET` (or `JWT_SECRET_OCID`, an OCI Vault secret holding it),
//! `ALLOW_REGISTRATION`, `ACCESS_TOKEN_TTL_SECONDS` and `REFRESH_TOKEN_TTL_SECONDS`. (How OCI
//! calls are signed, `OCI_AUTH`, is in `oci.rs`.)

use super::vars::{err, ConfigError, Vars};
use mediaserver_api::Registration;
use mediaserver_core::Secret;

#[derive(Debug, Clone)]
pub struct AuthConfig {
    pub jwt_secret: Option<Secret>,
    /// `JWT_SECRET_OCID`: read from OCI Vault at startup into `jwt_secret`.
    pub jwt_secret_ocid: Option<String>,
    /// `ALLOW_REGISTRATION`: unset → only the first account (the admin); `true` → open;
    /// `false` → closed (accounts come from `mediaserver user create`).
    pub registration: Registration,
    pub access_token_ttl_secs: u64,
    pub refresh_token_ttl_secs: u64,
}

/// `embedded`: the laptop setup (see `Config::is_embedded`), the only one where the JWT secret
/// may be generated instead of shared.
pub(super) fn from_vars(vars: &Vars, embedded: bool) -> Result<AuthConfig, ConfigError> {
    let jwt_secret = vars.get("JWT_SECRET").map(Secret::new);
    if let Some(s) = &jwt_secret {
        if s.expose().len() < 32 {
            return Err(err("JWT_SECRET", "must be at least 32 characters"));
        }
    }
    let jwt_secret_ocid = vars.get("JWT_SECRET_OCID");
    if let Some(id) = &jwt_secret_ocid {
        if jwt_secret.is_some() {
            return Err(err(
                "JWT_SECRET_OCID",
                "set either JWT_SECRET or JWT_SECRET_OCID, not both",
            ));
        }
        super::oci::validate_secret_ocid("JWT_SECRET_OCID", id)?;
    }
    if !embedded && jwt_secret.is_none() && jwt_secret_ocid.is_none() {
        return Err(err(
            "JWT_SECRET",
            "required when using PostgreSQL, MySQL or a cloud bucket (every server must share it); \
             generate one with: openssl rand -hex 32 (or keep it in OCI Vault: JWT_SECRET_OCID)",
        ));
    }
    // Not `bool_or`: unset is a third choice, open only until the admin exists.
    let registration = if vars.get("ALLOW_REGISTRATION").is_none() {
        Registration::FirstAccountOnly
    } else if vars.bool_or("ALLOW_REGISTRATION", false)? {
        Registration::Open
    } else {
        Registration::Closed
    };
    let access_token_ttl_secs = vars.parse_or("ACCESS_TOKEN_TTL_SECONDS", 900u64)?;
    let refresh_token_ttl_secs = vars.parse_or("REFRESH_TOKEN_TTL_SECONDS", 30 * 24 * 3600u64)?;
    if access_token_ttl_secs == 0 || refresh_token_ttl_secs == 0 {
        return Err(err(
            "ACCESS_TOKEN_TTL_SECONDS",
            "token lifetimes must be greater than 0",
        ));
    }
    Ok(AuthConfig {
        jwt_secret,
        jwt_secret_ocid,
        registration,
        access_token_ttl_secs,
        refresh_token_ttl_secs,
    })
}

#[cfg(test)]
mod tests {
    use super::super::tests::cfg;

    #[test]
    fn allow_registration_unset_means_the_first_account_only() {
        use mediaserver_api::Registration;
        assert_eq!(
            cfg(&[]).unwrap().auth.registration,
            Registration::FirstAccountOnly
        );
        let open = cfg(&[("ALLOW_REGISTRATION", "true")]).unwrap();
        assert_eq!(open.auth.registration, Registration::Open);
        let closed = cfg(&[("ALLOW_REGISTRATION", "false")]).unwrap();
        assert_eq!(closed.auth.registration, Registration::Closed);
    }

    #[test]
    fn postgres_or_cloud_bucket_requires_jwt_secret() {
        let e = cfg(&[("DATABASE_URL", "postgres://u@localhost/db")]).unwrap_err();
        assert_eq!(e.var, "JWT_SECRET");
        let e = cfg(&[("STORAGE_PROVIDER", "AWSBucket")]).unwrap_err();
        assert_eq!(e.var, "JWT_SECRET");
        let secret = "0123456789abcdef0123456789abcdef";
        let c = cfg(&[
            ("DATABASE_URL", "postgres://u@localhost/db"),
            ("JWT_SECRET", secret),
        ])
        .unwrap();
        assert!(!c.is_embedded());
        assert_eq!(format!("{:?}", c.auth.jwt_secret), "Some(***)");
        assert!(!format!("{c:?}").contains(secret));
        // MySQL is a shared database too, under either scheme.
        for url in ["mysql://u:p@localhost:3306/db", "mariadb://u@localhost/db"] {
            assert_eq!(cfg(&[("DATABASE_URL", url)]).unwrap_err().var, "JWT_SECRET");
            let c = cfg(&[("DATABASE_URL", url), ("JWT_SECRET", secret)]).unwrap();
            assert_eq!(c.database.url, url);
            assert!(!c.is_embedded());
        }
    }
}
