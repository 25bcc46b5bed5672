variable "tenancy_ocid" {
  description = "OCID of the tenancy (Profile → Tenancy in the console, or `tenancy` in ~/.oci/config). The dynamic group and the region/namespace look-ups live at tenancy level."
  type        = string
  validation {
    condition     = can(regex("^ocid1\\.tenancy\\.", var.tenancy_ocid))
    error_message = "tenancy_ocid must be a tenancy OCID (ocid1.tenancy.…)."
  }
}

variable "compartment_ocid" {
  description = "OCID of the compartment that receives every resource (buckets, vault, network, container instances). The IAM policies are scoped to it."
  type        = string
  validation {
    condition     = can(regex("^ocid1\\.(compartment|tenancy)\\.", var.compartment_ocid))
    error_message = "compartment_ocid must be a compartment OCID (ocid1.compartment.…)."
  }
}

variable "region" {
  description = "Region identifier, e.g. eu-frankfurt-1 or us-ashburn-1 (not the three-letter key)."
  type        = string
  validation {
    condition     = can(regex("^[a-z]+-[a-z]+-[0-9]+$", var.region))
    error_message = "region must be a region identifier such as eu-frankfurt-1."
  }
}

variable "name_prefix" {
  description = "Prefix of every resource's name (buckets: <prefix>-media, <prefix>-output)."
  type        = string
  default     = "mediaserver"
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}$", var.name_prefix))
    error_message = "name_prefix must be 2-31 characters: lower-case letters, digits and '-', starting with a letter."
  }
}

variable "repository_name" {
  description = "OCIR repository the image is pushed to (<region key>.ocir.io/<namespace>/<repository_name>)."
  type        = string
  default     = "mediaserver"
  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9._/-]{0,254}$", var.repository_name))
    error_message = "repository_name must be lower-case letters, digits, '.', '_', '-' or '/'."
  }
}

variable "image_tag" {
  description = "Image tag the server runs and the job runner launches (pushed by .github/workflows/release.yml: a release version, a git sha, or latest). The server resolves it to a digest before launching workers."
  type        = string
  default     = "latest"
  validation {
    condition     = can(regex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", var.image_tag))
    error_message = "image_tag must be a valid OCI image tag."
  }
}

variable "availability_domain_index" {
  description = "Which availability domain (0-based, in the order the tenancy lists them) runs the server and the worker container instances."
  type        = number
  default     = 0
  validation {
    condition     = var.availability_domain_index >= 0 && var.availability_domain_index <= 2
    error_message = "availability_domain_index must be 0, 1 or 2."
  }
}

variable "vcn_cidr" {
  description = "Address range of the VCN; the public subnet takes its first /24 and the private subnet the second."
  type        = string
  default     = "10.42.0.0/16"
  validation {
    condition     = can(cidrhost(var.vcn_cidr, 0)) && tonumber(split("/", var.vcn_cidr)[1]) <= 22
    error_message = "vcn_cidr must be an IPv4 CIDR block of /22 or larger."
  }
}

variable "server_ingress_cidr" {
  description = "Who may reach the server's port 3000 directly. Ignored when a load balancer is created (then only the VCN, i.e. the load balancer, may). Narrow it to your own address where you can."
  type        = string
  default     = "0.0.0.0/0"
  validation {
    condition     = can(cidrhost(var.server_ingress_cidr, 0))
    error_message = "server_ingress_cidr must be an IPv4 CIDR block."
  }
}

variable "server_shape" {
  description = "Container Instance shape of the server. The default is Arm (Ampere A1); the image is multi-arch."
  type        = string
  default     = "CI.Standard.A1.Flex"
  validation {
    condition     = can(regex("^CI\\.Standard\\.[A-Za-z0-9]+\\.Flex$", var.server_shape))
    error_message = "server_shape must be a flexible Container Instance shape such as CI.Standard.A1.Flex or CI.Standard.E4.Flex."
  }
}

variable "server_ocpus" {
  description = "OCPUs of the server container instance."
  type        = number
  default     = 1
  validation {
    condition     = var.server_ocpus >= 1 && var.server_ocpus <= 16
    error_message = "server_ocpus must be between 1 and 16."
  }
}

variable "server_memory_gb" {
  description = "Memory (GB) of the server container instance."
  type        = number
  default     = 4
  validation {
    condition     = var.server_memory_gb >= 1 && var.server_memory_gb <= 128
    error_message = "server_memory_gb must be between 1 and 128."
  }
}

variable "worker_shape" {
  description = "Shape of the one-per-job worker container instances the server launches (OCI_CI_SHAPE)."
  type        = string
  default     = "CI.Standard.E4.Flex"
  validation {
    condition     = can(regex("^CI\\.Standard\\.[A-Za-z0-9]+\\.Flex$", var.worker_shape))
    error_message = "worker_shape must be a flexible Container Instance shape such as CI.Standard.E4.Flex."
  }
}

variable "worker_ocpus" {
  description = "OCPUs of each worker container instance (OCI_CI_OCPUS). ffmpeg uses all of them."
  type        = number
  default     = 4
  validation {
    condition     = var.worker_ocpus >= 1 && var.worker_ocpus <= 64
    error_message = "worker_ocpus must be between 1 and 64."
  }
}

variable "worker_memory_gb" {
  description = "Memory (GB) of each worker container instance (OCI_CI_MEMORY_GB)."
  type        = number
  default     = 16
  validation {
    condition     = var.worker_memory_gb >= 2 && var.worker_memory_gb <= 1024
    error_message = "worker_memory_gb must be between 2 and 1024."
  }
}

variable "create_database" {
  description = "Create an OCI Database with PostgreSQL system for mediaserver. When false, give database_url instead."
  type        = bool
  default     = true
}

variable "database_url" {
  description = "postgres://user:password@host:5432/db of an existing database; used only when create_database is false. Stored in the vault, never in the container's environment."
  type        = string
  default     = ""
  sensitive   = true
  validation {
    condition     = var.database_url == "" || can(regex("^postgres(ql)?://", var.database_url))
    error_message = "database_url must be empty or a postgres:// URL."
  }
}

variable "database_shape" {
  description = "Shape of the PostgreSQL database system (create_database = true): a flexible shape such as VM.Standard.E5.Flex, sized by database_ocpus and database_memory_gb."
  type        = string
  default     = "VM.Standard.E5.Flex"
  validation {
    condition     = can(regex("^(PostgreSQL\\.)?VM\\.[A-Za-z0-9.]+$", var.database_shape))
    error_message = "database_shape must be an OCI Database with PostgreSQL shape such as VM.Standard.E5.Flex."
  }
}

variable "database_ocpus" {
  description = "OCPUs of the PostgreSQL database system."
  type        = number
  default     = 2
  validation {
    condition     = var.database_ocpus >= 1 && var.database_ocpus <= 64
    error_message = "database_ocpus must be between 1 and 64."
  }
}

variable "database_memory_gb" {
  description = "Memory (GB) of the PostgreSQL database system."
  type        = number
  default     = 32
  validation {
    condition     = var.database_memory_gb >= 8 && var.database_memory_gb <= 1024
    error_message = "database_memory_gb must be between 8 and 1024."
  }
}

variable "database_version" {
  description = "PostgreSQL major version of the database system."
  type        = string
  default     = "16"
  validation {
    condition     = contains(["14", "15", "16"], var.database_version)
    error_message = "database_version must be 14, 15 or 16."
  }
}

variable "public_hostname" {
  description = "DNS name (e.g. media.example.com) that will point at the load balancer. With a certificate for it, a public HTTPS load balancer is created and Object Storage events are delivered to https://<public_hostname>/v1/events/object-storage. Leave empty to skip both (reach the server on its public IP, port 3000)."
  type        = string
  default     = ""
  validation {
    condition     = var.public_hostname == "" || can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,}$", var.public_hostname))
    error_message = "public_hostname must be empty or a lower-case DNS name."
  }
}

variable "tls_certificate_pem" {
  description = "PEM certificate (with intermediates appended) for public_hostname, issued by a public CA: OCI Notifications delivers only to endpoints with CA-signed certificates."
  type        = string
  default     = ""
  validation {
    condition     = var.tls_certificate_pem == "" || can(regex("BEGIN CERTIFICATE", var.tls_certificate_pem))
    error_message = "tls_certificate_pem must be empty or a PEM certificate."
  }
}

variable "tls_private_key_pem" {
  description = "PEM private key of tls_certificate_pem."
  type        = string
  default     = ""
  sensitive   = true
  validation {
    condition     = var.tls_private_key_pem == "" || can(regex("PRIVATE KEY", var.tls_private_key_pem))
    error_message = "tls_private_key_pem must be empty or a PEM private key."
  }
}

variable "events_owner_email" {
  description = "Account that owns media created from bucket events (EVENTS_OWNER_EMAIL); empty means the first admin."
  type        = string
  default     = ""
  validation {
    condition     = var.events_owner_email == "" || can(regex("^[^@\\s]+@[^@\\s]+$", var.events_owner_email))
    error_message = "events_owner_email must be empty or an email address."
  }
}

variable "allow_registration" {
  description = "ALLOW_REGISTRATION: null (the default) lets only the first account register, and it becomes admin, so register yours right after apply; true keeps sign-up open to anyone; false closes it (create users with `mediaserver user create`)."
  type        = bool
  default     = null
  nullable    = true
}

variable "ocir_immutable" {
  description = "Make the OCIR repository immutable: a pushed tag can never point at other bytes (release.yml then cannot re-push `latest`; deploy a sha, version or date tag)."
  type        = bool
  default     = false
}

variable "ocir_scanning" {
  description = "Scan every image pushed to the OCIR repository for vulnerabilities (OCI Vulnerability Scanning Service; results in the console under Scanning)."
  type        = bool
  default     = true
}

variable "ci_push_group_name" {
  description = "IAM group of the user CI pushes images as (OCIR_USERNAME in release.yml); it gets push access to this repository only. Empty: no policy (grant it yourself)."
  type        = string
  default     = ""
}

variable "worker_scratch_gb" {
  description = "Scratch space of each transcode's Container Instance beyond its fixed 15 GB disk (OCI_CI_SCRATCH_GB): an in-memory directory of this many GB, billed as memory on top of worker_memory_gb. 0: the 15 GB disk (sources up to a few GB)."
  type        = number
  default     = 0
  validation {
    # (The server refuses worker_memory_gb + worker_scratch_gb above 1024 at start.)
    condition     = var.worker_scratch_gb >= 0 && var.worker_scratch_gb <= 1024
    error_message = "worker_scratch_gb must be from 0 to 1024."
  }
}

variable "events_delivery" {
  description = "How Object Storage events reach the server: \"auto\" (a stream when no public HTTPS name with a certificate is configured, else the Notifications HTTPS subscription), \"streaming\" or \"https\"."
  type        = string
  default     = "auto"
  validation {
    condition     = contains(["auto", "streaming", "https"], var.events_delivery)
    error_message = "events_delivery must be auto, streaming or https."
  }
}
