# Optional managed PostgreSQL (create_database). mediaserver applies its own migrations at start.
resource "oci_psql_db_system" "this" {
  count                       = var.create_database ? 1 : 0
  compartment_id              = var.compartment_ocid
  display_name                = "${var.name_prefix}-postgres"
  db_version                  = var.database_version
  shape                       = var.database_shape
  instance_count              = 1
  instance_ocpu_count         = var.database_ocpus
  instance_memory_size_in_gbs = var.database_memory_gb

  network_details {
    subnet_id = oci_core_subnet.private.id
  }

  storage_details {
    is_regionally_durable = true
    system_type           = "OCI_OPTIMIZED_STORAGE"
  }

  credentials {
    username = "mediaserver"
    password_details {
      password_type = "PLAIN_TEXT"
      password      = random_password.database[0].result
    }
  }

  management_policy {
    backup_policy {
      kind           = "DAILY"
      backup_start   = "02:00"
      retention_days = 7
    }
  }

  freeform_tags = local.tags
}

data "oci_psql_db_system_connection_detail" "this" {
  count        = var.create_database ? 1 : 0
  db_system_id = oci_psql_db_system.this[0].id
}
