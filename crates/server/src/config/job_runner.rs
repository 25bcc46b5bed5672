//! Where transcode jobs run (`JOB_RUNNER`): in this process's workers (the default), or one OCI
//! Container Instance per job (`oci-container-instances`), configured by `OCI_COMPARTMENT_ID`,
//! `OCI_AVAILABILITY_DOMAIN`, `OCI_SUBNET_ID`, `OCI_CI_SHAPE`, `OCI_CI_OCPUS`,
//! `OCI_CI_MEMORY_GB`, `OCI_CI_SCRATCH_GB`, `OCI_CI_POLL_SECONDS` and `WORKER_IMAGE` (pulled by digest; a tag is
//! resolved through the registry at startup, logging in with `OCIR_USERNAME` +
//! `OCIR_AUTH_TOKEN` or, for OCIR, a token exchanged as the `OCI_AUTH` principal).

use super::storage::StorageProvider;
use super::vars::{err, ConfigError, Vars};
use mediaserver_core::Secret;
use mediaserver_oci::registry::ImageReference;

/// The default worker shape, a flexible AMD one.
pub const DEFAULT_SHAPE: &str = "CI.Standard.E4.Flex";

/// `JOB_RUNNER`: which `mediaserver_pipeline::JobRunner` the workers get.
#[derive(Debug, Clone, Default)]
pub enum RunnerChoice {
    /// ffmpeg in this process's workers (`WORKERS`).
    #[default]
    InProcess,
    /// One Container Instance per job running `mediaserver transcode SRC DEST`.
    OciContainerInstances(Box<ContainerInstancesConfig>),
}

#[derive(Debug, Clone)]
pub struct ContainerInstancesConfig {
    pub compartment_id: String,
    pub availability_domain: String,
    pub subnet_id: String,
    pub shape: String,
    pub ocpus: f32,
    pub memory_gb: f32,
    /// `OCI_CI_SCRATCH_GB`: an in-memory scratch directory of this size, added to the
    /// instance's memory; unset: the instance's 15 GB ephemeral disk.
    pub scratch_gb: Option<f32>,
    /// `WORKER_IMAGE`, validated; resolved to a digest at startup.
    pub worker_image: ImageReference,
    /// How often a running job's instance is looked at.
    pub poll_secs: u64,
    /// `OCIR_USERNAME` / `OCIR_AUTH_TOKEN` for resolving `WORKER_IMAGE`.
    pub registry_username: Option<String>,
    pub registry_password: Option<Secret>,
}

fn required(vars: &Vars, name: &'static str, what: &str) -> Result<String, ConfigError> {
    vars.get(name).ok_or_else(|| {
        err(
            name,
            format!("required with JOB_RUNNER=oci-container-instances ({what})"),
        )
    })
}

fn positive(vars: &Vars, name: &'static str, default: f32, max: f32) -> Result<f32, ConfigError> {
    match vars.get(name) {
        None => Ok(default),
        Some(v) => match v.trim().parse::<f32>() {
            Ok(n) if n > 0.0 && n <= max => Ok(n),
            _ => Err(err(
                name,
                format!("'{v}' must be a number above 0 and at most {max}"),
            )),
        },
    }
}

fn ocid(value: &str, name: &'static str, kinds: &[&str]) -> Result<(), ConfigError> {
    let ok = kinds
        .iter()
        .any(|k| value.starts_with(&format!("ocid1.{k}.")))
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    if ok {
        Ok(())
    } else {
        Err(err(
            name,
            format!(
                "'{value}' is not a {} OCID (ocid1.{}.…)",
                kinds[0], kinds[0]
            ),
        ))
    }
}

/// Reads `JOB_RUNNER` and, for Container Instances, the variables it needs.
pub(super) fn from_vars(
    vars: &Vars,
    storage: StorageProvider,
) -> Result<RunnerChoice, ConfigError> {
    let kind = vars.get("JOB_RUNNER").map(|v| v.to_ascii_lowercase());
    match kind.as_deref() {
        None | Some("in-process") | Some("inprocess") | Some("workers") => {
            return Ok(RunnerChoice::InProcess)
        }
        Some("oci-container-instances") => {}
        Some(other) => {
            return Err(err(
                "JOB_RUNNER",
                format!("unknown runner '{other}'; expected in-process or oci-container-instances"),
            ))
        }
    }
    if storage != StorageProvider::OciBucket {
        return Err(err(
            "JOB_RUNNER",
            "oci-container-instances needs STORAGE_PROVIDER=OCIBucket: the job containers read \
             originals and write outputs as their resource principal",
        ));
    }
    let compartment_id = required(
        vars,
        "OCI_COMPARTMENT_ID",
        "the compartment the job instances run in",
    )?;
    ocid(
        &compartment_id,
        "OCI_COMPARTMENT_ID",
        &["compartment", "tenancy"],
    )?;
    let availability_domain = required(
        vars,
        "OCI_AVAILABILITY_DOMAIN",
        "e.g. Uocm:US-ASHBURN-AD-1, from `oci iam availability-domain list`",
    )?;
    let subnet_id = required(
        vars,
        "OCI_SUBNET_ID",
        "the subnet of the job instances' VNICs",
    )?;
    ocid(&subnet_id, "OCI_SUBNET_ID", &["subnet"])?;
    let shape = vars
        .get("OCI_CI_SHAPE")
        .unwrap_or_else(|| DEFAULT_SHAPE.to_string());
    if !shape.starts_with("CI.") {
        return Err(err(
            "OCI_CI_SHAPE",
            format!("'{shape}' is not a container instance shape (e.g. {DEFAULT_SHAPE})"),
        ));
    }
    let ocpus = positive(vars, "OCI_CI_OCPUS", 4.0, 64.0)?;
    let memory_gb = positive(vars, "OCI_CI_MEMORY_GB", 16.0, 1024.0)?;
    let scratch_gb = match vars.get("OCI_CI_SCRATCH_GB") {
        None => None,
        Some(_) => {
            let gb = positive(vars, "OCI_CI_SCRATCH_GB", 0.0, 1024.0)?;
            // The shapes' largest memory; the scratch directory is part of it.
            if memory_gb + gb > 1024.0 {
                return Err(err(
                    "OCI_CI_SCRATCH_GB",
                    "OCI_CI_MEMORY_GB + OCI_CI_SCRATCH_GB must be at most 1024 (the instance's memory holds both)",
                ));
            }
            Some(gb)
        }
    };
    let image = required(
        vars,
        "WORKER_IMAGE",
        "the image the job instances run, e.g. iad.ocir.io/<namespace>/mediaserver:latest",
    )?;
    let worker_image =
        ImageReference::parse(&image).map_err(|e| err("WORKER_IMAGE", e.to_string()))?;
    let poll_secs = match vars.get("OCI_CI_POLL_SECONDS") {
        None => 10,
        Some(v) => match v.trim().parse::<u64>() {
            Ok(n) if (1..=600).contains(&n) => n,
            _ => {
                return Err(err(
                    "OCI_CI_POLL_SECONDS",
                    format!("'{v}' must be 1 to 600"),
                ))
            }
        },
    };
    let registry_username = vars.get("OCIR_USERNAME");
    let registry_password = vars.get("OCIR_AUTH_TOKEN").map(Secret::new);
    if registry_username.is_some() && registry_password.is_none() {
        return Err(err(
            "OCIR_AUTH_TOKEN",
            "required when OCIR_USERNAME is set (the auth token that resolves WORKER_IMAGE)",
        ));
    }
    Ok(RunnerChoice::OciContainerInstances(Box::new(
        ContainerInstancesConfig {
            compartment_id,
            availability_domain,
            subnet_id,
            shape,
            ocpus,
            memory_gb,
            scratch_gb,
            worker_image,
            poll_secs,
            registry_username,
            registry_password,
        },
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn from_lookup(
        pairs: &[(&str, &str)],
        storage: StorageProvider,
    ) -> Result<RunnerChoice, ConfigError> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let lookup = move |k: &str| m.get(k).cloned();
        from_vars(&Vars::new(&lookup), storage)
    }

    const FULL: &[(&str, &str)] = &[
        ("JOB_RUNNER", "oci-container-instances"),
        ("OCI_COMPARTMENT_ID", "ocid1.compartment.oc1..aaaa"),
        ("OCI_AVAILABILITY_DOMAIN", "Uocm:US-ASHBURN-AD-1"),
        ("OCI_SUBNET_ID", "ocid1.subnet.oc1.iad.aaaa"),
        ("WORKER_IMAGE", "iad.ocir.io/ns/mediaserver:latest"),
    ];

    #[test]
    fn defaults_and_full_configuration() {
        assert!(matches!(
            from_lookup(&[], StorageProvider::Local).unwrap(),
            RunnerChoice::InProcess
        ));
        let RunnerChoice::OciContainerInstances(c) =
            from_lookup(FULL, StorageProvider::OciBucket).unwrap()
        else {
            panic!("not the CI runner");
        };
        assert_eq!(c.shape, DEFAULT_SHAPE);
        assert_eq!((c.ocpus, c.memory_gb, c.poll_secs), (4.0, 16.0, 10));
        assert_eq!(c.worker_image.tag(), Some("latest"));
        assert_eq!(c.scratch_gb, None, "the instance's own disk by default");
    }

    #[test]
    fn scratch_gb_is_bounded_by_the_shapes_memory() {
        let with = |extra: &[(&str, &str)]| {
            let mut pairs = FULL.to_vec();
            pairs.extend_from_slice(extra);
            from_lookup(&pairs, StorageProvider::OciBucket)
        };
        let Ok(RunnerChoice::OciContainerInstances(c)) = with(&[("OCI_CI_SCRATCH_GB", "100")])
        else {
            panic!("not the CI runner");
        };
        assert_eq!(c.scratch_gb, Some(100.0));
        for bad in ["0", "-1", "x", "2000"] {
            let e = with(&[("OCI_CI_SCRATCH_GB", bad)]).unwrap_err();
            assert_eq!(e.var, "OCI_CI_SCRATCH_GB", "{bad}");
        }
        let e = with(&[("OCI_CI_MEMORY_GB", "1000"), ("OCI_CI_SCRATCH_GB", "100")]).unwrap_err();
        assert_eq!(e.var, "OCI_CI_SCRATCH_GB");
    }

    #[test]
    fn missing_and_bad_values_name_the_variable() {
        let run = |drop: &str, extra: &[(&str, &str)], storage| {
            let mut pairs: Vec<(&str, &str)> =
                FULL.iter().copied().filter(|(k, _)| *k != drop).collect();
            pairs.extend_from_slice(extra);
            from_lookup(&pairs, storage).unwrap_err()
        };
        for var in [
            "OCI_COMPARTMENT_ID",
            "OCI_AVAILABILITY_DOMAIN",
            "OCI_SUBNET_ID",
            "WORKER_IMAGE",
        ] {
            let e = run(var, &[], StorageProvider::OciBucket);
            assert_eq!(e.var, var);
            assert!(e.message.contains("required with JOB_RUNNER"), "{e}");
        }
        let e = run("", &[], StorageProvider::Local);
        assert!(e.message.contains("STORAGE_PROVIDER=OCIBucket"), "{e}");
        let e = run(
            "JOB_RUNNER",
            &[("JOB_RUNNER", "lambda")],
            StorageProvider::OciBucket,
        );
        assert!(
            e.message.contains("in-process or oci-container-instances"),
            "{e}"
        );
        let e = run(
            "WORKER_IMAGE",
            &[("WORKER_IMAGE", "iad.ocir.io/ns/m:Bad Tag")],
            StorageProvider::OciBucket,
        );
        assert_eq!(e.var, "WORKER_IMAGE");
        assert!(e.message.contains("tag 'Bad Tag'"), "{e}");
        let e = run(
            "OCI_SUBNET_ID",
            &[("OCI_SUBNET_ID", "ocid1.vcn.oc1..x")],
            StorageProvider::OciBucket,
        );
        assert!(e.message.contains("not a subnet OCID"), "{e}");
        let e = run("", &[("OCI_CI_OCPUS", "0")], StorageProvider::OciBucket);
        assert_eq!(e.var, "OCI_CI_OCPUS");
        let e = run(
            "",
            &[("OCI_CI_SHAPE", "VM.Standard.E4.Flex")],
            StorageProvider::OciBucket,
        );
        assert_eq!(e.var, "OCI_CI_SHAPE");
        let e = run(
            "",
            &[("OCIR_USERNAME", "ns/jane")],
            StorageProvider::OciBucket,
        );
        assert_eq!(e.var, "OCIR_AUTH_TOKEN");
    }
}
