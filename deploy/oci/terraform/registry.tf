# The private OCIR repository .github/workflows/release.yml pushes to. Create it first
# (`terraform apply -target=oci_artifacts_container_repository.mediaserver`), push the image,
# then apply the rest: the server container instance pulls from it, pinned by digest.
resource "oci_artifacts_container_repository" "mediaserver" {
  compartment_id = var.compartment_ocid
  display_name   = var.repository_name
  is_public      = false
  # Immutable: a pushed tag can never be moved to other bytes (mutable tags such as `latest`
  # cannot be pushed again either; release.yml then pushes sha, version and date tags only).
  is_immutable  = var.ocir_immutable
  freeform_tags = local.tags
}

# Vulnerability scanning of every image pushed to the repository (OCI Vulnerability Scanning
# Service), when enabled.
resource "oci_vulnerability_scanning_container_scan_recipe" "mediaserver" {
  count          = var.ocir_scanning ? 1 : 0
  compartment_id = var.compartment_ocid
  display_name   = "${var.name_prefix}-images"
  scan_settings {
    scan_level = "STANDARD"
  }
  image_count   = 3
  freeform_tags = local.tags
}

resource "oci_vulnerability_scanning_container_scan_target" "mediaserver" {
  count                    = var.ocir_scanning ? 1 : 0
  compartment_id           = var.compartment_ocid
  display_name             = "${var.name_prefix}-images"
  container_scan_recipe_id = oci_vulnerability_scanning_container_scan_recipe.mediaserver[0].id
  target_registry {
    compartment_id = var.compartment_ocid
    type           = "OCIR"
    repositories   = [var.repository_name]
  }
  freeform_tags = local.tags
}

# The scanning service reads the repository's images on its own behalf.
resource "oci_identity_policy" "scanning" {
  count          = var.ocir_scanning ? 1 : 0
  compartment_id = var.compartment_ocid
  name           = "${var.name_prefix}-image-scanning"
  description    = "Vulnerability Scanning may read the mediaserver images"
  statements = [
    "Allow service vulnerability-scanning-service to read repos in compartment id ${var.compartment_ocid}",
    "Allow service vulnerability-scanning-service to read compartments in compartment id ${var.compartment_ocid}",
  ]
  freeform_tags = local.tags
}

# The server runs the image by digest, as the job runner does for WORKER_IMAGE: a tag moved
# after apply changes nothing until the next apply, and a restart never pulls other bytes.
data "oci_artifacts_container_images" "server" {
  compartment_id  = var.compartment_ocid
  repository_name = var.repository_name
  version         = var.image_tag
}
