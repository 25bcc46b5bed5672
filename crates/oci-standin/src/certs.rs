//! An instance identity like the metadata service hands out: an intermediate CA and a leaf
//! certificate whose subject carries `opc-certtype:instance` and `opc-tenant:{tenancy}`.

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
use x509_cert::der::{Decode, Encode};

use mediaserver_oci::OciError;
use mediaserver_oci::PrivateKey;

/// The OID of organizationalUnitName: a second OU goes in under a "custom" type because
/// rcgen keeps one value per attribute type.
const OU: [u64; 4] = [2, 5, 4, 11];

pub struct InstanceIdentity {
    pub tenancy: String,
    pub leaf_cert_pem: String,
    pub leaf_cert_der: Vec<u8>,
    pub leaf_key: PrivateKey,
    pub intermediate_cert_pem: String,
    pub intermediate_cert_der: Vec<u8>,
    pub intermediate_key: PrivateKey,
}

fn rc(e: rcgen::Error) -> OciError {
    OciError::Key {
        what: "stand-in certificate".into(),
        message: e.to_string(),
        source: Some(Box::new(e)),
    }
}

fn rc_key(key: &PrivateKey) -> Result<KeyPair, OciError> {
    KeyPair::from_pem_and_sign_algo(&key.to_pkcs8_pem()?, &rcgen::PKCS_RSA_SHA256).map_err(rc)
}

impl InstanceIdentity {
    pub fn generate(tenancy: &str) -> Result<Self, OciError> {
        let intermediate_key = PrivateKey::generate()?;
        let leaf_key = PrivateKey::generate()?;
        let ca_kp = rc_key(&intermediate_key)?;
        let leaf_kp = rc_key(&leaf_key)?;

        let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(rc)?;
        ca.distinguished_name
            .push(DnType::CommonName, "PKISVC Identity Intermediate stand-in");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca_cert = ca.self_signed(&ca_kp).map_err(rc)?;

        let mut leaf = CertificateParams::new(Vec::<String>::new()).map_err(rc)?;
        leaf.distinguished_name
            .push(DnType::CommonName, "ocid1.instance.oc1.iad.standin");
        leaf.distinguished_name
            .push(DnType::OrganizationalUnitName, "opc-certtype:instance");
        leaf.distinguished_name.push(
            DnType::CustomDnType(OU.to_vec()),
            format!("opc-tenant:{tenancy}"),
        );
        let leaf_cert = leaf.signed_by(&leaf_kp, &ca_cert, &ca_kp).map_err(rc)?;

        Ok(InstanceIdentity {
            tenancy: tenancy.to_string(),
            leaf_cert_pem: leaf_cert.pem(),
            leaf_cert_der: leaf_cert.der().to_vec(),
            leaf_key,
            intermediate_cert_pem: ca_cert.pem(),
            intermediate_cert_der: ca_cert.der().to_vec(),
            intermediate_key,
        })
    }
}

/// SHA-256 of a certificate's DER as `aa:bb:…`: the fingerprint in a `fed-x509-sha256` keyId.
/// Computed here rather than borrowed from the client, so the stand-in checks the client's.
pub fn sha256_fingerprint(der: &[u8]) -> String {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, der)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Checks that `leaf_der` is signed (sha256WithRSAEncryption) by the key of `issuer_der`.
pub fn verify_issued_by(leaf_der: &[u8], issuer_der: &[u8]) -> Result<(), String> {
    let leaf =
        x509_cert::Certificate::from_der(leaf_der).map_err(|e| format!("certificate: {e}"))?;
    let issuer = x509_cert::Certificate::from_der(issuer_der)
        .map_err(|e| format!("intermediate certificate: {e}"))?;
    if leaf.tbs_certificate.issuer != issuer.tbs_certificate.subject {
        return Err("the certificate was not issued by the intermediate certificate".into());
    }
    let tbs = leaf.tbs_certificate.to_der().map_err(|e| e.to_string())?;
    let spki = issuer
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .map_err(|e| e.to_string())?;
    let sig = leaf
        .signature
        .as_bytes()
        .ok_or_else(|| "the certificate signature is not whole bytes".to_string())?;
    aws_lc_rs::signature::UnparsedPublicKey::new(
        &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256,
        &spki,
    )
    .verify(&tbs, sig)
    .map_err(|_| {
        "the certificate's signature does not verify with the intermediate's key".to_string()
    })
}
