//! `EVENTS_SECRET_OCID` and `WEBHOOK_SECRET_OCID`: OCI Vault secrets holding `EVENTS_SECRET` and
//! `WEBHOOK_SECRET`, read at startup (`secrets.rs`) like `JWT_SECRET_OCID`, so a deployment
//! keeps no shared secret in its environment. Each is instead of its plain variable, not beside it.

use super::vars::{err, ConfigError, Vars};

#[derive(Debug, Clone, Default)]
pub struct VaultSecretOcids {
    /// `EVENTS_SECRET_OCID`: read into `http.events_secret`.
    pub events_secret: Option<String>,
    /// `WEBHOOK_SECRET_OCID`: read into `http.webhook`'s secret (with `WEBHOOK_URL` set).
    pub webhook_secret: Option<String>,
}

impl VaultSecretOcids {
    pub fn any(&self) -> bool {
        self.events_secret.is_some() || self.webhook_secret.is_some()
    }
}

pub(super) fn from_vars(vars: &Vars) -> Result<VaultSecretOcids, ConfigError> {
    let read = |plain: &'static str, ocid: &'static str| -> Result<Option<String>, ConfigError> {
        let Some(id) = vars.get(ocid) else {
            return Ok(None);
        };
        if vars.get(plain).is_some() {
            return Err(err(ocid, format!("set either {plain} or {ocid}, not both")));
        }
        super::oci::validate_secret_ocid(ocid, &id)?;
        Ok(Some(id))
    };
    let events_secret = read("EVENTS_SECRET", "EVENTS_SECRET_OCID")?;
    let webhook_secret = read("WEBHOOK_SECRET", "WEBHOOK_SECRET_OCID")?;
    if webhook_secret.is_some() && vars.get("WEBHOOK_URL").is_none() {
        return Err(err(
            "WEBHOOK_SECRET_OCID",
            "only means something with WEBHOOK_URL set",
        ));
    }
    Ok(VaultSecretOcids {
        events_secret,
        webhook_secret,
    })
}

#[cfg(test)]
mod tests {
    use super::super::tests::cfg;

    #[test]
    fn events_and_webhook_secrets_from_the_vault() {
        let ev = "ocid1.vaultsecret.oc1.iad.amaaaaaaevents";
        let wh = "ocid1.vaultsecret.oc1.iad.amaaaaaawebhook";
        let c = cfg(&[
            ("EVENTS_SECRET_OCID", ev),
            ("WEBHOOK_URL", "https://hooks.example.com/x"),
            ("WEBHOOK_SECRET_OCID", wh),
        ])
        .unwrap();
        assert_eq!(c.vault.events_secret.as_deref(), Some(ev));
        assert_eq!(c.vault.webhook_secret.as_deref(), Some(wh));
        // Filled from the vault at startup; until then the webhook is configured, secret pending.
        assert!(c.http.webhook.is_some());
        let e = cfg(&[("EVENTS_SECRET", "s"), ("EVENTS_SECRET_OCID", ev)]).unwrap_err();
        assert_eq!(e.var, "EVENTS_SECRET_OCID");
        let e = cfg(&[("WEBHOOK_SECRET_OCID", wh)]).unwrap_err();
        assert_eq!(e.var, "WEBHOOK_SECRET_OCID");
        let e = cfg(&[("EVENTS_SECRET_OCID", "not-an-ocid")]).unwrap_err();
        assert_eq!(e.var, "EVENTS_SECRET_OCID");
        // Without either, WEBHOOK_URL still needs its secret.
        let e = cfg(&[("WEBHOOK_URL", "https://hooks.example.com/x")]).unwrap_err();
        assert_eq!(e.var, "WEBHOOK_SECRET");
    }
}
