//! Deleting an image from OCIR, which does not take the distribution API's manifest DELETE:
//! the Artifacts API's ListContainerImages finds the image's OCID by digest (or by tag,
//! "version") in the repository's compartment, then DeleteContainerImage removes it — both
//! requests signed as the OCI principal like every other OCI call.

use crate::client::OciClient;
use crate::error::OciError;
use crate::signer::BodySigning;

use super::reference::ImageReference;
use super::RegistryError;

/// The Artifacts API base path.
pub const ARTIFACTS_API: &str = "/20160918/container/images";

/// The Artifacts endpoint of `client`'s region, unless `override_url` is given.
pub fn artifacts_endpoint(client: &OciClient, override_url: Option<&str>) -> String {
    match override_url.map(str::trim).filter(|u| !u.is_empty()) {
        Some(u) => u.trim_end_matches('/').to_string(),
        None => client.region().oci_endpoint("artifacts"),
    }
}

/// Deletes the OCIR image `image` names (by digest, else by tag) through the Artifacts API at
/// `endpoint`, looking in `compartment_id` (the repository's compartment, or the tenancy and
/// every compartment under it);
/// returns the digest deleted.
pub async fn ocir_delete(
    client: &OciClient,
    endpoint: &str,
    compartment_id: &str,
    image: &ImageReference,
) -> Result<String, RegistryError> {
    // The Artifacts API names repositories without the tenancy namespace.
    let (_namespace, repository_name) = image.repository().split_once('/').ok_or_else(|| {
        RegistryError::config(format!(
            "{image}: an OCIR repository is <namespace>/<repository>"
        ))
    })?;
    let base = format!("{}{ARTIFACTS_API}", endpoint.trim_end_matches('/'));
    let failed = |what: &str, source: OciError| RegistryError::OciApi {
        what: format!("{what} for {image}"),
        source: Box::new(source),
    };
    let mut url = url::Url::parse(&base).map_err(|e| {
        RegistryError::config_from(format!("Artifacts endpoint '{endpoint}': {e}"), e)
    })?;
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("compartmentId", compartment_id);
        // OCI takes the subtree flag only with the tenancy (root compartment).
        if compartment_id.starts_with("ocid1.tenancy.") {
            q.append_pair("compartmentIdInSubtree", "true");
        }
        q.append_pair("repositoryName", repository_name);
        match (image.digest(), image.tag()) {
            (Some(d), _) => q.append_pair("imageDigest", d),
            (None, t) => q.append_pair("version", t.unwrap_or("latest")),
        };
    }
    let req = client
        .http()
        .get(url)
        .header(http::header::ACCEPT, "application/json")
        .build()
        .map_err(|e| RegistryError::config_from(format!("ListContainerImages: {e}"), e))?;
    let resp = client
        .execute_checked(req, BodySigning::Auto)
        .await
        .map_err(|e| failed("ListContainerImages", e))?;
    #[derive(serde::Deserialize)]
    struct Item {
        id: String,
        digest: String,
    }
    #[derive(serde::Deserialize)]
    struct Collection {
        items: Vec<Item>,
    }
    let list: Collection = resp.json().await.map_err(|e| {
        failed(
            "ListContainerImages",
            OciError::config_from(format!("not a ContainerImageCollection: {e}"), e),
        )
    })?;
    // By digest, only an item with that digest: a listing the service did not filter by it
    // (an API version without `imageDigest`) holds the repository's other images too.
    let wanted = |i: &Item| image.digest().is_none_or(|d| i.digest == d);
    let Some(found) = list.items.into_iter().find(wanted) else {
        return Err(RegistryError::NotFound {
            registry: image.registry().to_string(),
            what: format!("image {image}"),
            detail: format!("no container image in compartment {compartment_id}"),
        });
    };
    let req = client
        .http()
        .delete(format!("{base}/{}", found.id))
        .build()
        .map_err(|e| RegistryError::config_from(format!("DeleteContainerImage: {e}"), e))?;
    client
        .execute_checked(req, BodySigning::Auto)
        .await
        .map_err(|e| failed("DeleteContainerImage", e))?;
    Ok(found.digest)
}
