# Who may do what. The server container instance and the worker container instances it
# launches authenticate as themselves (resource principal, OCI_AUTH=resource_principal): no API
# keys exist anywhere. Every grant is limited to this compartment, and to the two buckets and
# the two secrets where the policy language allows it.

resource "oci_identity_dynamic_group" "containers" {
  compartment_id = var.tenancy_ocid
  name           = "${var.name_prefix}-container-instances"
  description    = "mediaserver server and worker container instances"
  matching_rule  = "ALL {resource.type = 'computecontainerinstance', resource.compartment.id = '${var.compartment_ocid}'}"
  freeform_tags  = local.tags
}

resource "oci_identity_policy" "containers" {
  compartment_id = var.compartment_ocid
  name           = "${var.name_prefix}-container-instances"
  description    = "mediaserver: buckets, secrets, image pulls and job container instances"
  statements = [
    # Originals, renditions, multipart uploads, pre-authenticated requests — in these buckets only.
    "Allow dynamic-group ${oci_identity_dynamic_group.containers.name} to manage object-family in compartment id ${var.compartment_ocid} where any {target.bucket.name = '${local.media_bucket}', target.bucket.name = '${local.output_bucket}'}",
    # Pull the image (container instances pull OCIR images with their resource principal) and
    # resolve the worker tag to a digest.
    "Allow dynamic-group ${oci_identity_dynamic_group.containers.name} to read repos in compartment id ${var.compartment_ocid}",
    # JWT_SECRET_OCID, DATABASE_URL_SECRET_OCID and EVENTS_SECRET_OCID, nothing else in the vault.
    "Allow dynamic-group ${oci_identity_dynamic_group.containers.name} to read secret-family in compartment id ${var.compartment_ocid} where any {target.secret.id = '${oci_vault_secret.jwt.id}', target.secret.id = '${oci_vault_secret.database_url.id}', target.secret.id = '${oci_vault_secret.events.id}'}",
    # The job runner (JOB_RUNNER=oci-container-instances) creates, watches and deletes one
    # container instance per transcode job, attached to the private subnet.
    "Allow dynamic-group ${oci_identity_dynamic_group.containers.name} to manage compute-container-family in compartment id ${var.compartment_ocid}",
    "Allow dynamic-group ${oci_identity_dynamic_group.containers.name} to use subnets in compartment id ${var.compartment_ocid}",
    "Allow dynamic-group ${oci_identity_dynamic_group.containers.name} to use vnics in compartment id ${var.compartment_ocid}",
    "Allow dynamic-group ${oci_identity_dynamic_group.containers.name} to use network-security-groups in compartment id ${var.compartment_ocid}",
  ]
  freeform_tags = local.tags
}

# The identity CI pushes images with (.github/workflows/release.yml logs in to OCIR as a user
# with an auth token): a group holding that user may push to this repository and nothing else.
# Put the CI user in the group (`ci_push_group_name`); with an empty name no policy is made.
resource "oci_identity_policy" "ci_push" {
  count          = var.ci_push_group_name == "" ? 0 : 1
  compartment_id = var.compartment_ocid
  name           = "${var.name_prefix}-ci-push"
  description    = "CI may push mediaserver images to its OCIR repository"
  statements = [
    # `use repos`: push to (and pull from) an existing repository; it cannot create or delete one.
    "Allow group ${var.ci_push_group_name} to use repos in compartment id ${var.compartment_ocid} where target.repo.name = '${var.repository_name}'",
  ]
  freeform_tags = local.tags
}

# Object Storage encrypts the buckets with the vault key on the service's own behalf.
resource "oci_identity_policy" "object_storage_kms" {
  compartment_id = var.compartment_ocid
  name           = "${var.name_prefix}-objectstorage-kms"
  description    = "Object Storage may use the mediaserver vault key for bucket encryption"
  statements = [
    "Allow service objectstorage-${var.region} to use keys in compartment id ${var.compartment_ocid} where target.key.id = '${oci_kms_key.this.id}'",
  ]
  freeform_tags = local.tags
}
