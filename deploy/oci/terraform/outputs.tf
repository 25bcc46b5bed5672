output "ocir_image" {
  description = "Image repository to push to: <region key>.ocir.io/<namespace>/<repository>."
  value       = local.image_repo
}

output "ocir_registry" {
  description = "Registry host for `docker login` (user: <namespace>/<username>, password: an auth token)."
  value       = local.ocir_host
}

output "tenancy_namespace" {
  description = "Object Storage namespace of the tenancy (OCI_NAMESPACE; also the first part of OCIR logins)."
  value       = local.namespace
}

output "media_bucket" {
  description = "Bucket for originals (MEDIA_BUCKET); object events enabled."
  value       = oci_objectstorage_bucket.media.name
}

output "output_bucket" {
  description = "Bucket for renditions (OUTPUT_BUCKET)."
  value       = oci_objectstorage_bucket.output.name
}

output "server_public_ip" {
  description = "Public IP of the server container instance (port 3000, allowed from server_ingress_cidr when there is no load balancer)."
  value       = data.oci_core_vnic.server.public_ip_address
}

output "load_balancer_ip" {
  description = "Point public_hostname's DNS A record here (empty without a load balancer)."
  value       = local.https_enabled ? oci_load_balancer_load_balancer.this[0].ip_address_details[0].ip_address : ""
}

output "url" {
  description = "Where mediaserver answers."
  value       = local.https_enabled ? "https://${var.public_hostname}" : "http://${data.oci_core_vnic.server.public_ip_address}:3000"
}

output "events_secret" {
  description = "EVENTS_SECRET, for sending events by hand (`terraform output -raw events_secret`)."
  value       = random_password.events.result
  sensitive   = true
}

output "jwt_secret_ocid" {
  description = "Vault secret holding the JWT signing secret (JWT_SECRET_OCID)."
  value       = oci_vault_secret.jwt.id
}

output "database_url_secret_ocid" {
  description = "Vault secret holding the database URL (DATABASE_URL_SECRET_OCID)."
  value       = oci_vault_secret.database_url.id
}

output "worker_subnet_id" {
  description = "Private subnet of the per-job worker container instances (OCI_SUBNET_ID)."
  value       = oci_core_subnet.private.id
}
