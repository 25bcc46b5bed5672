# Object Storage → Events → Streaming → mediaserver, for a deployment without a public HTTPS
# name: Notifications only delivers to a CA-signed HTTPS endpoint, so without one (events.tf's
# subscription is not created) bucket drops would be ignored. Instead the same rule condition
# writes each createobject event to a stream, and the server reads it as a member of a consumer
# group (EVENTS_SOURCE=oci-streaming:<stream OCID>, signed as its resource principal), committing
# only after the item and its job are recorded. Nothing has to reach the server from outside.
# (Its switch, `events_delivery`, is in variables.tf with the others.)

locals {
  events_via_stream = var.events_delivery == "streaming" || (var.events_delivery == "auto" && !local.https_enabled)
  # The server's EVENTS_SOURCE (blank is unset).
  events_source = local.events_via_stream ? "oci-streaming:${oci_streaming_stream.object_events[0].id}" : ""
}

resource "oci_streaming_stream_pool" "events" {
  count          = local.events_via_stream ? 1 : 0
  compartment_id = var.compartment_ocid
  name           = "${var.name_prefix}-events"
  freeform_tags  = local.tags
}

resource "oci_streaming_stream" "object_events" {
  count              = local.events_via_stream ? 1 : 0
  name               = "${var.name_prefix}-object-events"
  stream_pool_id     = oci_streaming_stream_pool.events[0].id
  partitions         = 1
  retention_in_hours = 24 # a longer outage misses events: `mediaserver watch --list --once` queues what is left
  freeform_tags      = local.tags
}

resource "oci_events_rule" "object_created_to_stream" {
  count          = local.events_via_stream ? 1 : 0
  compartment_id = var.compartment_ocid
  display_name   = "${var.name_prefix}-object-created-stream"
  description    = "Objects created in the mediaserver media bucket, to the stream the server reads"
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
      action_type = "OSS"
      is_enabled  = true
      stream_id   = oci_streaming_stream.object_events[0].id
      description = "to mediaserver's event stream"
    }
  }
  freeform_tags = local.tags
}

resource "oci_identity_policy" "events_stream" {
  count          = local.events_via_stream ? 1 : 0
  compartment_id = var.compartment_ocid
  name           = "${var.name_prefix}-events-stream"
  description    = "OCI Events writes object events to the mediaserver stream; the server reads them"
  statements = [
    # The Events service puts messages on this stream only.
    "Allow service cloudEvents to use stream-push in compartment id ${var.compartment_ocid} where target.stream.id = '${oci_streaming_stream.object_events[0].id}'",
    # The server (GetStream, group cursors, GetMessages, commits) on this stream only.
    "Allow dynamic-group ${oci_identity_dynamic_group.containers.name} to use stream-pull in compartment id ${var.compartment_ocid} where target.stream.id = '${oci_streaming_stream.object_events[0].id}'",
  ]
  freeform_tags = local.tags
}

output "events_stream_id" {
  description = "The stream bucket events go to (EVENTS_SOURCE=oci-streaming:<this>); empty when they go to the HTTPS endpoint."
  value       = local.events_via_stream ? oci_streaming_stream.object_events[0].id : ""
}
