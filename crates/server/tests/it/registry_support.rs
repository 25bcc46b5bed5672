//! A real container registry for tests: Debian's `docker-registry` (the CNCF distribution
//! registry) on a loopback port with htpasswd (bcrypt) auth and filesystem storage in a temp
//! directory, plus images pushed into it with `skopeo` from an OCI image layout built here
//! (oci-layout, index.json, a config blob and one layer tarball, every blob named by its
//! sha256). `scripts/install-deps.sh` installs docker-registry, skopeo and apache2-utils.
#![allow(dead_code)]

use crate::common::sha256_hex;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tempfile::TempDir;

pub struct TestRegistry {
    /// `127.0.0.1:PORT`
    pub host: String,
    dir: TempDir,
    child: Child,
}

fn require(tool: &str) {
    let found = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()))
        .unwrap_or(false);
    assert!(
        found,
        "`{tool}` is not installed: run scripts/install-deps.sh (it installs docker-registry, \
         skopeo and apache2-utils)"
    );
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl TestRegistry {
    /// Starts a registry that accepts `users` (name, password) and nobody else.
    pub fn start(users: &[(&str, &str)]) -> TestRegistry {
        for tool in ["docker-registry", "skopeo", "htpasswd"] {
            require(tool);
        }
        let dir = tempfile::tempdir().unwrap();
        let mut htpasswd = String::new();
        for (user, pass) in users {
            // bcrypt (the only scheme the registry accepts), minimum cost: tests log in a lot.
            let out = Command::new("htpasswd")
                .args(["-nbB", "-C", "4", user, pass])
                .output()
                .unwrap();
            assert!(out.status.success(), "htpasswd: {out:?}");
            htpasswd.push_str(String::from_utf8(out.stdout).unwrap().trim());
            htpasswd.push('\n');
        }
        std::fs::write(dir.path().join("htpasswd"), htpasswd).unwrap();
        let auth = format!(
            "  htpasswd:\n    realm: mediaserver-test\n    path: {}\n",
            dir.path().join("htpasswd").display()
        );
        Self::start_with_auth(dir, &auth)
    }

    /// Starts a registry with token auth (the distribution token spec): clients get a JWT
    /// from `realm`, which the registry checks against `cert_pem` (the signer's certificate,
    /// sent in the token's `x5c`), `issuer` and `service`.
    pub fn start_with_token_auth(
        realm: &str,
        service: &str,
        issuer: &str,
        cert_pem: &str,
    ) -> TestRegistry {
        for tool in ["docker-registry", "skopeo"] {
            require(tool);
        }
        let dir = tempfile::tempdir().unwrap();
        let bundle = dir.path().join("token-cert.pem");
        std::fs::write(&bundle, cert_pem).unwrap();
        let auth = format!(
            "  token:\n    realm: {realm}\n    service: {service}\n    issuer: {issuer}\n    rootcertbundle: {}\n",
            bundle.display()
        );
        Self::start_with_auth(dir, &auth)
    }

    fn start_with_auth(dir: TempDir, auth: &str) -> TestRegistry {
        let port = free_port();
        let config = format!(
            "version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {root}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\nauth:\n{auth}",
            root = dir.path().join("data").display(),
        );
        let config_path = dir.path().join("config.yml");
        std::fs::write(&config_path, config).unwrap();
        let log = std::fs::File::create(dir.path().join("registry.log")).unwrap();
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config_path)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start docker-registry");
        let reg = TestRegistry {
            host: format!("127.0.0.1:{port}"),
            dir,
            child,
        };
        reg.wait_ready();
        reg
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(mut s) = std::net::TcpStream::connect(&self.host) {
                use std::io::{Read, Write};
                let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
                let req = format!("GET /v2/ HTTP/1.0\r\nHost: {}\r\n\r\n", self.host);
                if s.write_all(req.as_bytes()).is_ok() {
                    let mut buf = [0u8; 64];
                    if let Ok(n) = s.read(&mut buf) {
                        if String::from_utf8_lossy(&buf[..n]).contains(" 401 ") {
                            return;
                        }
                    }
                }
            }
            assert!(
                Instant::now() < deadline,
                "docker-registry did not come up: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Whether `repo` still has a manifest with `digest` (a GET by digest, as skopeo does).
    pub fn has_manifest(&self, user: &str, pass: &str, repo: &str, digest: &str) -> bool {
        let out = Command::new("skopeo")
            .args([
                "--insecure-policy",
                "inspect",
                "--raw",
                "--tls-verify=false",
            ])
            .arg(format!("--creds={user}:{pass}"))
            .arg(format!("docker://{}/{repo}@{digest}", self.host))
            .output()
            .unwrap();
        out.status.success()
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }

    /// Builds a one-layer OCI image whose layer holds `content`, pushes it as
    /// `{host}/{repo}:{tag}` with skopeo, and returns the manifest digest skopeo reports.
    pub fn push(&self, user: &str, pass: &str, repo: &str, tag: &str, content: &[u8]) -> String {
        self.push_created(user, pass, repo, tag, content, None)
    }

    /// [`TestRegistry::push`] of an image whose config says it was `created` (RFC 3339).
    pub fn push_created(
        &self,
        user: &str,
        pass: &str,
        repo: &str,
        tag: &str,
        content: &[u8],
        created: Option<&str>,
    ) -> String {
        let layout = self.dir.path().join(format!(
            "layout-{}-{}",
            sha256_hex(content),
            sha256_hex(created.unwrap_or("").as_bytes())
        ));
        build_oci_layout_created(&layout, tag, content, created);
        let out = Command::new("skopeo")
            .args([
                "--insecure-policy",
                "copy",
                "--quiet",
                "--dest-tls-verify=false",
            ])
            .arg(format!("--dest-creds={user}:{pass}"))
            .arg(format!("oci:{}:{tag}", layout.display()))
            .arg(format!("docker://{}/{repo}:{tag}", self.host))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "skopeo copy: {}\nregistry log: {}",
            String::from_utf8_lossy(&out.stderr),
            self.log()
        );
        self.skopeo_digest(user, pass, repo, tag)
    }

    /// Pushes a multi-platform image: an OCI index of one image per `(os, arch, content)`, each
    /// created at `created`, as `{host}/{repo}:{tag}` (skopeo `--all`); returns the index digest.
    pub fn push_index(
        &self,
        user: &str,
        pass: &str,
        repo: &str,
        tag: &str,
        images: &[(&str, &str, &[u8], &str)],
    ) -> String {
        let layout = self.dir.path().join(format!("index-{tag}"));
        std::fs::create_dir_all(layout.join("blobs/sha256")).unwrap();
        std::fs::write(
            layout.join("oci-layout"),
            r#"{"imageLayoutVersion":"1.0.0"}"#,
        )
        .unwrap();
        let manifests: Vec<serde_json::Value> = images
            .iter()
            .map(|(os, arch, content, created)| {
                let (digest, size) = write_image(&layout, content, Some(created), os, arch);
                serde_json::json!({
                    "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "digest": digest,
                    "size": size,
                    "platform": {"os": os, "architecture": arch},
                })
            })
            .collect();
        let index = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": manifests,
        });
        let (index_digest, index_size) = write_blob(&layout, index.to_string().as_bytes());
        let top = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [{
                "mediaType": "application/vnd.oci.image.index.v1+json",
                "digest": index_digest,
                "size": index_size,
                "annotations": {"org.opencontainers.image.ref.name": tag},
            }],
        });
        std::fs::write(layout.join("index.json"), top.to_string()).unwrap();
        let out = Command::new("skopeo")
            .args([
                "--insecure-policy",
                "copy",
                "--all",
                "--quiet",
                "--dest-tls-verify=false",
            ])
            .arg(format!("--dest-creds={user}:{pass}"))
            .arg(format!("oci:{}:{tag}", layout.display()))
            .arg(format!("docker://{}/{repo}:{tag}", self.host))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "skopeo copy --all: {}\nregistry log: {}",
            String::from_utf8_lossy(&out.stderr),
            self.log()
        );
        self.skopeo_digest(user, pass, repo, tag)
    }

    /// The digest of `repo:tag` by skopeo: `inspect --format {{.Digest}}`, checked against the
    /// sha256 of the raw manifest.
    pub fn skopeo_digest(&self, user: &str, pass: &str, repo: &str, tag: &str) -> String {
        let image = format!("docker://{}/{repo}:{tag}", self.host);
        let run = |args: &[&str]| {
            let out = Command::new("skopeo")
                .args(["--insecure-policy", "inspect", "--tls-verify=false"])
                .arg(format!("--creds={user}:{pass}"))
                .args(args)
                .arg(&image)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "skopeo inspect: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            out.stdout
        };
        let formatted = String::from_utf8(run(&["--format", "{{.Digest}}"]))
            .unwrap()
            .trim()
            .to_string();
        let raw = run(&["--raw"]);
        assert_eq!(formatted, format!("sha256:{}", sha256_hex(&raw)));
        formatted
    }
}

impl Drop for TestRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn write_blob(layout: &Path, bytes: &[u8]) -> (String, usize) {
    let hex = sha256_hex(bytes);
    std::fs::write(layout.join("blobs/sha256").join(&hex), bytes).unwrap();
    (format!("sha256:{hex}"), bytes.len())
}

/// Writes one image's blobs (a one-file layer holding `content`, its config for `os`/`arch`
/// with `created`, the manifest) into `layout`; returns the manifest's digest and size.
pub fn write_image(
    layout: &Path,
    content: &[u8],
    created: Option<&str>,
    os: &str,
    arch: &str,
) -> (String, usize) {
    // The layer: an uncompressed tar of one file, made by (GNU) tar with fixed metadata so the
    // same content makes the same layer, hence the same image digest.
    let files = layout.join(format!("rootfs-{os}-{arch}"));
    std::fs::create_dir_all(&files).unwrap();
    std::fs::write(files.join("hello.txt"), content).unwrap();
    let tar_path = layout.join(format!("layer-{os}-{arch}.tar"));
    let st = Command::new("tar")
        .args([
            "--mtime=@0",
            "--owner=0",
            "--group=0",
            "--numeric-owner",
            "--sort=name",
        ])
        .arg("-cf")
        .arg(&tar_path)
        .arg("-C")
        .arg(&files)
        .arg("hello.txt")
        .status()
        .unwrap();
    assert!(st.success());
    let layer = std::fs::read(&tar_path).unwrap();
    let (layer_digest, layer_size) = write_blob(layout, &layer);

    let mut config = serde_json::json!({
        "architecture": arch,
        "os": os,
        "config": {"Cmd": ["/hello"]},
        "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
    });
    if let Some(c) = created {
        config["created"] = serde_json::Value::String(c.to_string());
    }
    let (config_digest, config_size) = write_blob(layout, config.to_string().as_bytes());
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": config_digest,
            "size": config_size,
        },
        "layers": [{
            "mediaType": "application/vnd.oci.image.layer.v1.tar",
            "digest": layer_digest,
            "size": layer_size,
        }],
    });
    write_blob(layout, manifest.to_string().as_bytes())
}

/// An OCI image layout (image-spec `image-layout.md`) with one image tagged `tag`.
pub fn build_oci_layout(layout: &Path, tag: &str, content: &[u8]) -> PathBuf {
    build_oci_layout_created(layout, tag, content, None)
}

/// [`build_oci_layout`] with the config's `created` set.
pub fn build_oci_layout_created(
    layout: &Path,
    tag: &str,
    content: &[u8],
    created: Option<&str>,
) -> PathBuf {
    std::fs::create_dir_all(layout.join("blobs/sha256")).unwrap();
    std::fs::write(
        layout.join("oci-layout"),
        r#"{"imageLayoutVersion":"1.0.0"}"#,
    )
    .unwrap();

    let (manifest_digest, manifest_size) = write_image(layout, content, created, "linux", "amd64");
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": manifest_digest,
            "size": manifest_size,
            "annotations": {"org.opencontainers.image.ref.name": tag},
        }],
    });
    std::fs::write(layout.join("index.json"), index.to_string()).unwrap();
    layout.to_path_buf()
}
