data "oci_identity_regions" "all" {}

data "oci_objectstorage_namespace" "this" {
  compartment_id = var.tenancy_ocid
}

data "oci_identity_availability_domains" "this" {
  compartment_id = var.tenancy_ocid
}

locals {
  namespace = data.oci_objectstorage_namespace.this.namespace
  # OCIR host names use the lower-cased three-letter region key (eu-frankfurt-1 → fra.ocir.io).
  region_key = lower(one([for r in data.oci_identity_regions.all.regions : r.key if r.name == var.region]))
  ocir_host  = "${local.region_key}.ocir.io"
  image_repo = "${local.ocir_host}/${local.namespace}/${var.repository_name}"
  image      = "${local.image_repo}:${var.image_tag}"
  # The tag's digest, so the server's image cannot change under it (see registry.tf).
  image_digest = one(data.oci_artifacts_container_images.server.container_image_collection[0].items[*].digest)
  image_pinned = "${local.image_repo}@${local.image_digest}"

  availability_domain = data.oci_identity_availability_domains.this.availability_domains[var.availability_domain_index].name

  media_bucket  = "${var.name_prefix}-media"
  output_bucket = "${var.name_prefix}-output"

  public_subnet_cidr  = cidrsubnet(var.vcn_cidr, 24 - tonumber(split("/", var.vcn_cidr)[1]), 0)
  private_subnet_cidr = cidrsubnet(var.vcn_cidr, 24 - tonumber(split("/", var.vcn_cidr)[1]), 1)

  # A load balancer (and with it event delivery, which needs a CA-signed HTTPS endpoint) only
  # when there is a host name and a certificate for it.
  https_enabled = var.public_hostname != "" && var.tls_certificate_pem != "" && var.tls_private_key_pem != ""

  tags = { "app" = "mediaserver" }
}
