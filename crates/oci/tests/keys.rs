//! Key loading across the PEM forms `openssl` writes (fixtures made with OpenSSL 3:
//! `genrsa -traditional`, `pkcs8 -topk8 [-v2 aes-256-cbc]`, `rsa -traditional -aes128|-des3`,
//! `genrsa -aes128`), the fingerprint OCI's console shows (`openssl rsa -pubout -outform DER |
//! openssl md5 -c`), and the errors a user sees for a bad key.

// A panic is how a test reports failure; the workspace's unwrap/expect lints are for code that ships.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use mediaserver_oci::{OciError, PrivateKey, SigningKey};

const PASS: &str = "correct horse";

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/keys")
        .join(name)
}

fn expected_fingerprint() -> String {
    std::fs::read_to_string(fixture("pkcs1.fingerprint"))
        .unwrap()
        .trim()
        .to_string()
}

#[test]
fn every_form_of_the_same_key_loads_to_the_same_fingerprint() {
    let want = expected_fingerprint();
    for (file, pass) in [
        ("pkcs1.pem", None),
        ("pkcs8.pem", None),
        ("pkcs8_encrypted.pem", Some(PASS)),
        ("traditional_aes128.pem", Some(PASS)),
        ("traditional_des3.pem", Some(PASS)),
        // A pass phrase for an unencrypted key is ignored, as the SDKs do (a DEFAULT profile's
        // pass_phrase often reaches a profile whose key has none).
        ("pkcs1.pem", Some(PASS)),
    ] {
        let key = PrivateKey::from_pem_file(&fixture(file), pass)
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(key.fingerprint(), want, "{file}");
        assert_eq!(key.sign_rsa_sha256(b"x").unwrap().len(), 256, "{file}");
        key.check_fingerprint(&want.to_uppercase(), file).unwrap();
    }
    let other = PrivateKey::from_pem_file(&fixture("genrsa_aes128.pem"), Some(PASS)).unwrap();
    assert_ne!(other.fingerprint(), want);
}

#[test]
fn wrong_pass_phrase_is_named() {
    for file in [
        "pkcs8_encrypted.pem",
        "traditional_aes128.pem",
        "traditional_des3.pem",
        "genrsa_aes128.pem",
    ] {
        let err = PrivateKey::from_pem_file(&fixture(file), Some("wrong")).unwrap_err();
        assert!(
            matches!(err, OciError::WrongPassPhrase { .. }),
            "{file}: {err:?}"
        );
        let msg = err.to_string();
        assert!(
            msg.contains("wrong pass phrase") && msg.contains(file),
            "{msg}"
        );
    }
}

#[test]
fn encrypted_key_without_pass_phrase_says_so() {
    for file in ["pkcs8_encrypted.pem", "traditional_aes128.pem"] {
        let msg = PrivateKey::from_pem_file(&fixture(file), None)
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("encrypted") && msg.contains("pass phrase"),
            "{msg}"
        );
    }
}

#[test]
fn missing_file_names_the_path() {
    let path = fixture("no-such-key.pem");
    let msg = PrivateKey::from_pem_file(&path, None)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains(&path.display().to_string()) && msg.contains("no such file"),
        "{msg}"
    );
}

#[test]
fn public_and_non_rsa_keys_are_refused_with_a_reason() {
    let msg = PrivateKey::from_pem_file(&fixture("public.pem"), None)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("public key"), "{msg}");
    let msg = PrivateKey::from_pem_file(&fixture("ec_pkcs8.pem"), None)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("not an RSA key"), "{msg}");
    let msg = PrivateKey::from_pem(b"hello", None, "from TEST_VAR")
        .unwrap_err()
        .to_string();
    assert!(msg.contains("TEST_VAR"), "{msg}");
}

#[test]
fn fingerprint_mismatch_names_both() {
    let key = PrivateKey::from_pem_file(&fixture("pkcs1.pem"), None).unwrap();
    let wrong = "00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff";
    let msg = key
        .check_fingerprint(wrong, "in key.pem")
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains(wrong) && msg.contains(&expected_fingerprint()),
        "{msg}"
    );
}

#[test]
fn generated_keys_round_trip_through_pkcs8_and_debug_hides_them() {
    let key = PrivateKey::generate().unwrap();
    let pem = key.to_pkcs8_pem().unwrap();
    let again = PrivateKey::from_pem(pem.as_bytes(), None, "round trip").unwrap();
    assert_eq!(key.fingerprint(), again.fingerprint());
    assert!(key
        .public_key_pem()
        .starts_with("-----BEGIN PUBLIC KEY-----"));
    let dbg = format!("{key:?}");
    assert!(
        dbg.contains(key.fingerprint()) && !dbg.contains("PRIVATE"),
        "{dbg}"
    );
}
