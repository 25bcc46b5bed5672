# The private OCIR repository .github/workflows/release.yml pushes to. Create it first
# (`terraform apply -target=oci_artifacts_container_repository.mediaserver`), push the image,
# then apply the rest: the server container instance pulls from it.
resource "oci_artifacts_container_repository" "mediaserver" {
  compartment_id = var.compartment_ocid
  display_name   = var.repository_name
  is_public      = false
  is_immutable   = false
  freeform_tags  = local.tags
}
