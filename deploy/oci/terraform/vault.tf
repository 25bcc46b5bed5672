# A vault with one AES key: it encrypts both buckets and the secrets mediaserver reads at
# start (JWT_SECRET_OCID, DATABASE_URL_SECRET_OCID, EVENTS_SECRET_OCID). The secret values are generated here, so
# they sit in the Terraform state: keep the state in an encrypted, access-controlled backend
# (docs/deploy-oci.md shows an Object Storage backend).

resource "oci_kms_vault" "this" {
  compartment_id = var.compartment_ocid
  display_name   = "${var.name_prefix}-vault"
  vault_type     = "DEFAULT"
  freeform_tags  = local.tags
}

resource "oci_kms_key" "this" {
  compartment_id      = var.compartment_ocid
  display_name        = "${var.name_prefix}-key"
  management_endpoint = oci_kms_vault.this.management_endpoint
  protection_mode     = "HSM"
  key_shape {
    algorithm = "AES"
    length    = 32
  }
  freeform_tags = local.tags
}

resource "random_password" "jwt" {
  length  = 48
  special = false
}

# Alphanumeric: it travels as the Basic-auth password in the Notifications subscription URL.
resource "random_password" "events" {
  length  = 40
  special = false
}

resource "random_password" "database" {
  count            = var.create_database ? 1 : 0
  length           = 32
  special          = true
  override_special = "_-"
  min_upper        = 1
  min_lower        = 1
  min_numeric      = 1
  min_special      = 1
}

locals {
  database_url = var.create_database ? format(
    "postgres://mediaserver:%s@%s:5432/postgres?sslmode=require",
    random_password.database[0].result,
    data.oci_psql_db_system_connection_detail.this[0].primary_db_endpoint[0].ip_address,
  ) : var.database_url
}

resource "oci_vault_secret" "jwt" {
  compartment_id = var.compartment_ocid
  vault_id       = oci_kms_vault.this.id
  key_id         = oci_kms_key.this.id
  secret_name    = "${var.name_prefix}-jwt-secret"
  description    = "mediaserver HS256 token signing secret (JWT_SECRET_OCID)"
  secret_content {
    content_type = "BASE64"
    content      = base64encode(random_password.jwt.result)
  }
  freeform_tags = local.tags
}

resource "oci_vault_secret" "events" {
  compartment_id = var.compartment_ocid
  vault_id       = oci_kms_vault.this.id
  key_id         = oci_kms_key.this.id
  secret_name    = "${var.name_prefix}-events-secret"
  description    = "mediaserver events endpoint secret (EVENTS_SECRET_OCID)"
  secret_content {
    content_type = "BASE64"
    content      = base64encode(random_password.events.result)
  }
  freeform_tags = local.tags
}

resource "oci_vault_secret" "database_url" {
  compartment_id = var.compartment_ocid
  vault_id       = oci_kms_vault.this.id
  key_id         = oci_kms_key.this.id
  secret_name    = "${var.name_prefix}-database-url"
  description    = "mediaserver PostgreSQL connection URL (DATABASE_URL_SECRET_OCID)"
  secret_content {
    content_type = "BASE64"
    content      = base64encode(local.database_url)
  }
  freeform_tags = local.tags

  lifecycle {
    precondition {
      condition     = local.database_url != ""
      error_message = "Set create_database = true, or give database_url."
    }
  }
}
