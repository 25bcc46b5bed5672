# Object Storage → Events → Notifications → mediaserver. Every object created in the media
# bucket (by any tool: the OCI CLI, rclone, the console) becomes a queued media item.
# Notifications only delivers to CA-signed HTTPS endpoints and authenticates with HTTP Basic
# credentials carried in the URL (it sends no custom headers), so the subscription exists only
# when the load balancer does; the Basic password is EVENTS_SECRET.

resource "oci_ons_notification_topic" "object_events" {
  compartment_id = var.compartment_ocid
  name           = "${var.name_prefix}-object-events"
  description    = "New objects in ${local.media_bucket}"
  freeform_tags  = local.tags
}

resource "oci_events_rule" "object_created" {
  compartment_id = var.compartment_ocid
  display_name   = "${var.name_prefix}-object-created"
  description    = "Objects created in the mediaserver media bucket"
  is_enabled     = true
  condition = jsonencode({
    eventType = ["com.oraclecloud.objectstorage.createobject"]
    data = {
      additionalDetails = {
        bucketName = [local.media_bucket]
      }
    }
  })
  actions {
    actions {
      action_type = "ONS"
      is_enabled  = true
      topic_id    = oci_ons_notification_topic.object_events.id
      description = "to mediaserver's /v1/events/object-storage"
    }
  }
  freeform_tags = local.tags
}

resource "oci_ons_subscription" "server" {
  count          = local.https_enabled ? 1 : 0
  compartment_id = var.compartment_ocid
  topic_id       = oci_ons_notification_topic.object_events.id
  protocol       = "CUSTOM_HTTPS"
  endpoint       = "https://events:${random_password.events.result}@${var.public_hostname}/v1/events/object-storage"
  freeform_tags  = local.tags
  depends_on     = [oci_load_balancer_listener.https]
}
