# Originals land in the media bucket (uploads through the API, or any tool writing straight to
# the bucket, which then raises an Object Storage event); renditions go to the output bucket.

resource "oci_objectstorage_bucket" "media" {
  compartment_id        = var.compartment_ocid
  namespace             = local.namespace
  name                  = local.media_bucket
  access_type           = "NoPublicAccess"
  storage_tier          = "Standard"
  object_events_enabled = true # every new object raises com.oraclecloud.objectstorage.createobject
  versioning            = "Enabled"
  kms_key_id            = oci_kms_key.this.id
  freeform_tags         = local.tags
  depends_on            = [oci_identity_policy.object_storage_kms]
}

resource "oci_objectstorage_bucket" "output" {
  #checkov:skip=CKV_OCI_7:Renditions are written by mediaserver itself; an event per segment would only be noise (the events rule listens to the media bucket alone).
  compartment_id        = var.compartment_ocid
  namespace             = local.namespace
  name                  = local.output_bucket
  access_type           = "NoPublicAccess"
  storage_tier          = "Standard"
  object_events_enabled = false
  versioning            = "Enabled"
  kms_key_id            = oci_kms_key.this.id
  freeform_tags         = local.tags
  depends_on            = [oci_identity_policy.object_storage_kms]
}
