# The server: one container instance running `mediaserver serve` from the OCIR image. It reads
# its secrets from the vault, stores media in the buckets through the native Object Storage API,
# and runs every transcode as its own short-lived container instance
# (JOB_RUNNER=oci-container-instances) from the same image, in the private subnet.

resource "oci_container_instances_container_instance" "server" {
  compartment_id                       = var.compartment_ocid
  availability_domain                  = local.availability_domain
  display_name                         = "${var.name_prefix}-server"
  shape                                = var.server_shape
  container_restart_policy             = "ALWAYS"
  graceful_shutdown_timeout_in_seconds = 30

  shape_config {
    ocpus         = var.server_ocpus
    memory_in_gbs = var.server_memory_gb
  }

  vnics {
    subnet_id             = oci_core_subnet.public.id
    display_name          = "${var.name_prefix}-server"
    is_public_ip_assigned = true
  }

  containers {
    display_name = "server"
    image_url    = local.image_pinned
    arguments    = ["serve"]
    # Needed for OCI_AUTH=resource_principal.
    is_resource_principal_disabled = false

    environment_variables = {
      PORT                     = "3000"
      LOG_FORMAT               = "json"
      STORAGE_PROVIDER         = "OCIBucket"
      MEDIA_BUCKET             = local.media_bucket
      OUTPUT_BUCKET            = local.output_bucket
      OCI_REGION               = var.region
      OCI_NAMESPACE            = local.namespace
      OCI_AUTH                 = "resource_principal"
      JWT_SECRET_OCID          = oci_vault_secret.jwt.id
      DATABASE_URL_SECRET_OCID = oci_vault_secret.database_url.id
      # Also the Basic-auth password in the Notifications subscription (events.tf).
      EVENTS_SECRET_OCID = oci_vault_secret.events.id
      EVENTS_OWNER_EMAIL = var.events_owner_email
      # Blank is unset: only the first account may register.
      ALLOW_REGISTRATION      = var.allow_registration == null ? "" : tostring(var.allow_registration)
      JOB_RUNNER              = "oci-container-instances"
      WORKER_IMAGE            = local.image
      OCI_COMPARTMENT_ID      = var.compartment_ocid
      OCI_AVAILABILITY_DOMAIN = local.availability_domain
      OCI_SUBNET_ID           = oci_core_subnet.private.id
      OCI_CI_SHAPE            = var.worker_shape
      OCI_CI_OCPUS            = tostring(var.worker_ocpus)
      OCI_CI_MEMORY_GB        = tostring(var.worker_memory_gb)
      # Blank is unset: the instance's own 15 GB disk.
      OCI_CI_SCRATCH_GB = var.worker_scratch_gb == 0 ? "" : tostring(var.worker_scratch_gb)
      # Behind the load balancer (the only other host of the public subnet) the client address
      # the login throttle counts by is the one it forwards; without one, nobody's is believed.
      TRUSTED_PROXIES = local.https_enabled ? local.public_subnet_cidr : ""
      # Without a public HTTPS name, bucket events come from a stream (streaming.tf).
      EVENTS_SOURCE = local.events_source
    }

    health_checks {
      name                     = "healthz"
      health_check_type        = "HTTP"
      path                     = "/healthz"
      port                     = 3000
      initial_delay_in_seconds = 20
      interval_in_seconds      = 30
      timeout_in_seconds       = 5
      failure_threshold        = 3
      failure_action           = "KILL"
    }
  }

  freeform_tags = local.tags

  # Secrets and image access must be granted before the server first starts.
  depends_on = [oci_identity_policy.containers]

  lifecycle {
    precondition {
      condition     = local.image_digest != null
      error_message = "No image tagged image_tag in the OCIR repository: push it first (docs/deploy-oci.md, step 4)."
    }
  }
}

data "oci_core_vnic" "server" {
  vnic_id = oci_container_instances_container_instance.server.vnics[0].vnic_id
}
