terraform {
  required_version = ">= 1.5"
  required_providers {
    oci = {
      source  = "oracle/oci"
      version = ">= 6.0, < 8.0"
    }
    random = {
      source  = "hashicorp/random"
      version = ">= 3.5, < 4.0"
    }
  }
}

# Credentials come from ~/.oci/config (profile DEFAULT, or OCI_CLI_PROFILE / TF_VAR_*), the same
# file the `oci` CLI uses; nothing secret is written here.
provider "oci" {
  region = var.region
}
