# Public HTTPS in front of the server (only with public_hostname and a certificate): browsers
# and players get TLS, and OCI Notifications — which delivers only to CA-signed HTTPS
# endpoints — can reach /v1/events/object-storage. Point public_hostname's DNS record at the
# `load_balancer_ip` output.

resource "oci_load_balancer_load_balancer" "this" {
  count          = local.https_enabled ? 1 : 0
  compartment_id = var.compartment_ocid
  display_name   = "${var.name_prefix}-lb"
  shape          = "flexible"
  subnet_ids     = [oci_core_subnet.public.id]
  is_private     = false
  shape_details {
    minimum_bandwidth_in_mbps = 10
    maximum_bandwidth_in_mbps = 100
  }
  freeform_tags = local.tags
}

resource "oci_load_balancer_backend_set" "server" {
  count            = local.https_enabled ? 1 : 0
  load_balancer_id = oci_load_balancer_load_balancer.this[0].id
  name             = "server"
  policy           = "ROUND_ROBIN"
  health_checker {
    protocol    = "HTTP"
    port        = 3000
    url_path    = "/readyz"
    return_code = 200
  }
}

resource "oci_load_balancer_backend" "server" {
  count            = local.https_enabled ? 1 : 0
  load_balancer_id = oci_load_balancer_load_balancer.this[0].id
  backendset_name  = oci_load_balancer_backend_set.server[0].name
  ip_address       = data.oci_core_vnic.server.private_ip_address
  port             = 3000
}

resource "oci_load_balancer_certificate" "this" {
  count              = local.https_enabled ? 1 : 0
  load_balancer_id   = oci_load_balancer_load_balancer.this[0].id
  certificate_name   = "${var.name_prefix}-${substr(sha256(var.tls_certificate_pem), 0, 12)}"
  public_certificate = var.tls_certificate_pem
  private_key        = var.tls_private_key_pem
  lifecycle {
    create_before_destroy = true
  }
}

resource "oci_load_balancer_listener" "https" {
  count                    = local.https_enabled ? 1 : 0
  load_balancer_id         = oci_load_balancer_load_balancer.this[0].id
  name                     = "https"
  default_backend_set_name = oci_load_balancer_backend_set.server[0].name
  port                     = 443
  protocol                 = "HTTP"
  ssl_configuration {
    certificate_name        = oci_load_balancer_certificate.this[0].certificate_name
    protocols               = ["TLSv1.2", "TLSv1.3"]
    verify_peer_certificate = false
  }
  # Long uploads and playback of whole originals.
  connection_configuration {
    idle_timeout_in_seconds = 3600
  }
}
