//! RSA private keys as OCI uses them: loaded from PEM (PKCS#1 `RSA PRIVATE KEY`, PKCS#8
//! `PRIVATE KEY`, encrypted PKCS#8 `ENCRYPTED PRIVATE KEY`, and OpenSSL's "traditional"
//! encrypted PKCS#1 with `Proc-Type`/`DEK-Info` headers), signing with RSASSA-PKCS1-v1_5 SHA-256
//! through aws-lc-rs, and the public-key fingerprint OCI shows in its console (MD5 of the
//! SubjectPublicKeyInfo DER, colon-separated hex).
//!
//! The traditional encrypted PEM format is decrypted here by hand (OpenSSL's EVP_BytesToKey
//! with MD5, one round, then CBC) because no maintained crate reads it and `openssl rsa
//! -traditional -aes128` keys are still common in `~/.oci`.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der, PublicKeyX509Der};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{self, KeyPair as _, RsaKeyPair};
use base64::Engine as _;
use md5::Digest as _;

use crate::error::OciError;

/// Something that signs with RSASSA-PKCS1-v1_5 over SHA-256: what every OCI request signature
/// is. [`PrivateKey`] is the implementation; the trait lets a test plug in a reference signer.
pub trait SigningKey: Send + Sync {
    fn sign_rsa_sha256(&self, message: &[u8]) -> Result<Vec<u8>, OciError>;
}

/// An RSA private key (2048–8192 bits). Cheap to clone. `Debug` shows only the fingerprint.
#[derive(Clone)]
pub struct PrivateKey {
    inner: Arc<Inner>,
}

struct Inner {
    pair: RsaKeyPair,
    public_der: Vec<u8>,
    fingerprint: String,
}

const RSA_ENCRYPTION: pkcs8::ObjectIdentifier =
    pkcs8::ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");

impl PrivateKey {
    /// Reads a PEM key file. `what` in errors is the path; a missing file is named.
    pub fn from_pem_file(path: &Path, pass_phrase: Option<&str>) -> Result<Self, OciError> {
        let bytes = std::fs::read(path).map_err(|e| OciError::KeyFile {
            path: path.to_path_buf(),
            message: if e.kind() == std::io::ErrorKind::NotFound {
                "no such file".to_string()
            } else {
                e.to_string()
            },
            source: e,
        })?;
        Self::from_pem(&bytes, pass_phrase, &format!("in {}", path.display()))
    }

    /// Parses a PEM key. `what` describes where it came from, for error messages
    /// (e.g. `"in /home/me/.oci/key.pem"` or `"from OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM"`).
    pub fn from_pem(
        pem_bytes: &[u8],
        pass_phrase: Option<&str>,
        what: &str,
    ) -> Result<Self, OciError> {
        let blocks = pem::parse_many(pem_bytes)
            .map_err(|e| OciError::key_from(what, format!("is not a PEM file ({e})"), e))?;
        let Some(block) = blocks.iter().find(|b| b.tag().ends_with("PRIVATE KEY")) else {
            if blocks
                .iter()
                .any(|b| b.tag().contains("PUBLIC KEY") || b.tag() == "CERTIFICATE")
            {
                return Err(OciError::key(
                    what,
                    "is a public key or certificate; a private key is needed",
                ));
            }
            return Err(OciError::key(what, "contains no PEM private key"));
        };
        let pass = pass_phrase.filter(|p| !p.is_empty());
        match block.tag() {
            "RSA PRIVATE KEY" => {
                let der = match block.headers().get("DEK-Info") {
                    Some(dek) => {
                        let pass = pass.ok_or_else(|| {
                            OciError::key(what, "is encrypted and no pass phrase was given")
                        })?;
                        decrypt_traditional(dek, block.contents(), pass, what)?
                    }
                    None => block.contents().to_vec(),
                };
                let pair = RsaKeyPair::from_der(&der).map_err(|e| {
                    if block.headers().get("DEK-Info").is_some() && e.description_() != "TooSmall" {
                        OciError::WrongPassPhrase {
                            what: what.to_string(),
                        }
                    } else {
                        rejected(e, what)
                    }
                })?;
                Self::from_pair(pair, what)
            }
            "PRIVATE KEY" => Self::from_pkcs8_der(block.contents(), what),
            "ENCRYPTED PRIVATE KEY" => {
                let pass = pass.ok_or_else(|| {
                    OciError::key(what, "is encrypted and no pass phrase was given")
                })?;
                let info =
                    pkcs8::EncryptedPrivateKeyInfo::try_from(block.contents()).map_err(|e| {
                        OciError::key_from(what, format!("is not encrypted PKCS#8 ({e})"), e)
                    })?;
                let doc = info.decrypt(pass.as_bytes()).map_err(|e| match e {
                    pkcs8::Error::EncryptedPrivateKey(
                        pkcs8::pkcs5::Error::UnsupportedAlgorithm { .. },
                    ) => {
                        OciError::key_from(what, format!("uses an unsupported encryption ({e})"), e)
                    }
                    _ => OciError::WrongPassPhrase {
                        what: what.to_string(),
                    },
                })?;
                // Decrypting with a wrong pass phrase sometimes "succeeds" into garbage.
                if pkcs8::PrivateKeyInfo::try_from(doc.as_bytes()).is_err() {
                    return Err(OciError::WrongPassPhrase {
                        what: what.to_string(),
                    });
                }
                Self::from_pkcs8_der(doc.as_bytes(), what)
            }
            other => Err(OciError::key(
                what,
                format!("is a {other}, not an RSA private key (OCI API keys are RSA)"),
            )),
        }
    }

    fn from_pkcs8_der(der: &[u8], what: &str) -> Result<Self, OciError> {
        let info = pkcs8::PrivateKeyInfo::try_from(der)
            .map_err(|e| OciError::key_from(what, format!("is not PKCS#8 ({e})"), e))?;
        if info.algorithm.oid != RSA_ENCRYPTION {
            return Err(OciError::key(
                what,
                format!(
                    "is not an RSA key (algorithm {}); OCI API keys are RSA",
                    info.algorithm.oid
                ),
            ));
        }
        let pair = RsaKeyPair::from_pkcs8(der).map_err(|e| rejected(e, what))?;
        Self::from_pair(pair, what)
    }

    fn from_pair(pair: RsaKeyPair, what: &str) -> Result<Self, OciError> {
        let public: PublicKeyX509Der<'static> = pair
            .public_key()
            .as_der()
            .map_err(|_| OciError::key(what, "public key cannot be encoded"))?;
        let public_der = public.as_ref().to_vec();
        let fingerprint = md5_fingerprint(&public_der);
        Ok(PrivateKey {
            inner: Arc::new(Inner {
                pair,
                public_der,
                fingerprint,
            }),
        })
    }

    /// A fresh 2048-bit key: the ephemeral session key of instance principals, and test keys.
    pub fn generate() -> Result<Self, OciError> {
        let pair = RsaKeyPair::generate(KeySize::Rsa2048)
            .map_err(|_| OciError::key("generation", "RSA key generation failed"))?;
        Self::from_pair(pair, "generated")
    }

    /// The public key as SubjectPublicKeyInfo DER.
    pub fn public_key_der(&self) -> &[u8] {
        &self.inner.public_der
    }

    /// The public key as a `-----BEGIN PUBLIC KEY-----` PEM.
    pub fn public_key_pem(&self) -> String {
        pem::encode(&pem::Pem::new("PUBLIC KEY", self.inner.public_der.clone()))
    }

    /// The public key DER in base64 on one line: the `publicKey` field of x509 federation.
    pub fn public_key_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(&self.inner.public_der)
    }

    /// OCI's key fingerprint: MD5 of the public key DER, lower-case hex pairs joined by `:`.
    pub fn fingerprint(&self) -> &str {
        &self.inner.fingerprint
    }

    /// The private key as unencrypted PKCS#8 PEM (for handing a key to another process or a
    /// stand-in; treat the result as a secret).
    pub fn to_pkcs8_pem(&self) -> Result<String, OciError> {
        let der: Pkcs8V1Der<'static> = self
            .inner
            .pair
            .as_der()
            .map_err(|_| OciError::key("export", "private key cannot be encoded"))?;
        Ok(pem::encode(&pem::Pem::new(
            "PRIVATE KEY",
            der.as_ref().to_vec(),
        )))
    }

    /// Checks a configured fingerprint (case and surrounding blanks ignored) against this key.
    pub fn check_fingerprint(&self, configured: &str, what: &str) -> Result<(), OciError> {
        if configured.trim().eq_ignore_ascii_case(self.fingerprint()) {
            Ok(())
        } else {
            Err(OciError::FingerprintMismatch {
                configured: configured.trim().to_string(),
                actual: self.fingerprint().to_string(),
                what: what.to_string(),
            })
        }
    }
}

impl SigningKey for PrivateKey {
    fn sign_rsa_sha256(&self, message: &[u8]) -> Result<Vec<u8>, OciError> {
        let mut sig = vec![0u8; self.inner.pair.public_modulus_len()];
        self.inner
            .pair
            .sign(
                &signature::RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                message,
                &mut sig,
            )
            .map_err(|_| OciError::Signing("RSA signing failed".into()))?;
        Ok(sig)
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PrivateKey(fingerprint {})", self.inner.fingerprint)
    }
}

fn rejected(e: aws_lc_rs::error::KeyRejected, what: &str) -> OciError {
    match e.description_() {
        "TooSmall" => OciError::key(
            what,
            "is smaller than 2048 bits; OCI API keys must be RSA keys of at least 2048 bits",
        ),
        "TooLarge" => OciError::key(what, "is larger than 8192 bits"),
        other => OciError::key_from(what, format!("is not a usable RSA key ({other})"), e),
    }
}

/// MD5 of `der`, as `aa:bb:...` (how OCI prints API key fingerprints).
pub fn md5_fingerprint(der: &[u8]) -> String {
    colon_hex(&md5::Md5::digest(der))
}

pub(crate) fn colon_hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// OpenSSL "traditional" PEM encryption: `DEK-Info: AES-128-CBC,<hex iv>`; the key is
/// EVP_BytesToKey(MD5, pass, salt = first 8 bytes of the IV, 1 round).
fn decrypt_traditional(
    dek: &str,
    data: &[u8],
    pass: &str,
    what: &str,
) -> Result<Vec<u8>, OciError> {
    use cbc::cipher::{block_padding::Pkcs7, BlockDecryptMut, KeyIvInit};
    let (cipher, iv_hex) = dek
        .split_once(',')
        .ok_or_else(|| OciError::key(what, format!("has a malformed DEK-Info header '{dek}'")))?;
    let iv = hex::decode(iv_hex.trim())
        .map_err(|_| OciError::key(what, format!("has a malformed DEK-Info IV '{iv_hex}'")))?;
    let cipher = cipher.trim().to_ascii_uppercase();
    let key_len = match cipher.as_str() {
        "AES-128-CBC" => 16,
        "AES-192-CBC" => 24,
        "AES-256-CBC" => 32,
        "DES-EDE3-CBC" => 24,
        other => {
            return Err(OciError::key(
                what,
                format!("is encrypted with {other}, which is not supported (use AES-CBC or convert the key to PKCS#8)"),
            ))
        }
    };
    let block_len = if cipher == "DES-EDE3-CBC" { 8 } else { 16 };
    if iv.len() != block_len {
        return Err(OciError::key(what, "has a DEK-Info IV of the wrong length"));
    }
    let key = evp_bytes_to_key(pass.as_bytes(), &iv[..8], key_len);
    let wrong = || OciError::WrongPassPhrase {
        what: what.to_string(),
    };
    let out = match cipher.as_str() {
        "AES-128-CBC" => cbc::Decryptor::<aes::Aes128>::new_from_slices(&key, &iv)
            .map_err(|_| wrong())?
            .decrypt_padded_vec_mut::<Pkcs7>(data),
        "AES-192-CBC" => cbc::Decryptor::<aes::Aes192>::new_from_slices(&key, &iv)
            .map_err(|_| wrong())?
            .decrypt_padded_vec_mut::<Pkcs7>(data),
        "AES-256-CBC" => cbc::Decryptor::<aes::Aes256>::new_from_slices(&key, &iv)
            .map_err(|_| wrong())?
            .decrypt_padded_vec_mut::<Pkcs7>(data),
        _ => cbc::Decryptor::<des::TdesEde3>::new_from_slices(&key, &iv)
            .map_err(|_| wrong())?
            .decrypt_padded_vec_mut::<Pkcs7>(data),
    };
    out.map_err(|_| wrong())
}

fn evp_bytes_to_key(pass: &[u8], salt: &[u8], len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 16);
    let mut prev: Vec<u8> = Vec::new();
    while out.len() < len {
        let mut h = md5::Md5::new();
        h.update(&prev);
        h.update(pass);
        h.update(salt);
        prev = h.finalize().to_vec();
        out.extend_from_slice(&prev);
    }
    out.truncate(len);
    out
}
