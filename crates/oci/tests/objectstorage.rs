//! The Object Storage client against the stand-in, which verifies every signed request the
//! way OCI does; and the stand-in's own behaviour where a client relies on it (status codes,
//! headers, error bodies, pagination, multipart rules, pre-authenticated requests).

// A panic is how a test reports failure; the workspace's unwrap/expect lints are for code that ships.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use mediaserver_oci::auth::ApiKeyProvider;
use mediaserver_oci::objectstorage::{
    encode_segment, is_not_found, is_transient, status_of, BucketClient, ObjectStorageClient,
    ParAccess,
};
use mediaserver_oci::{BodySigning, Endpoints, OciClient, OciError, PrivateKey, Region};
use mediaserver_oci_standin::objectstorage::NAMESPACE;
use mediaserver_oci_standin::Standin;

const TENANCY: &str = "ocid1.tenancy.oc1..aaaaobjectstorage";
const USER: &str = "ocid1.user.oc1..aaaaos";
const MIB: usize = 1024 * 1024;

fn client(standin: &Standin, key: PrivateKey) -> OciClient {
    let region = Region::lookup("us-ashburn-1").unwrap();
    let endpoints = Endpoints::resolve(&region, &standin.overrides()).unwrap();
    let auth = ApiKeyProvider::new(TENANCY, USER, key, Some(region));
    OciClient::new(reqwest::Client::new(), Arc::new(auth), region, endpoints)
}

/// A stand-in with bucket `b` and a registered key; the bucket client.
async fn setup() -> (Standin, BucketClient) {
    let standin = Standin::start(TENANCY, "us-ashburn-1").await.unwrap();
    standin.object_storage().create_bucket("b");
    let key = PrivateKey::generate().unwrap();
    standin.keys().insert_api_key(TENANCY, USER, &key);
    let os = ObjectStorageClient::new(client(&standin, key));
    let ns = os.namespace().await.unwrap();
    assert_eq!(ns, NAMESPACE);
    (standin, os.bucket(&ns, "b"))
}

/// A signed request to `{endpoint}/n/{ns}/b/{bucket}/{rest}`, for the stand-in operations the
/// client has no use for (GetBucket, DeletePreauthenticatedRequest).
async fn bucket_call(
    bucket: &BucketClient,
    method: reqwest::Method,
    rest: &str,
) -> Result<(), OciError> {
    let url = format!(
        "{}/n/{}/b/{}/{rest}",
        bucket.oci().endpoints().object_storage,
        encode_segment(bucket.namespace()),
        encode_segment(bucket.bucket())
    );
    let req = bucket.oci().http().request(method, url).build().unwrap();
    bucket
        .oci()
        .execute_checked(req, BodySigning::Auto)
        .await
        .map(drop)
}

/// GetBucket: the bucket exists and the principal may read it.
async fn get_bucket(bucket: &BucketClient) -> Result<(), OciError> {
    bucket_call(bucket, reqwest::Method::GET, "").await
}

/// DeletePreauthenticatedRequest.
async fn delete_par(bucket: &BucketClient, par_id: &str) -> Result<(), OciError> {
    let rest = format!("p/{}", encode_segment(par_id));
    bucket_call(bucket, reqwest::Method::DELETE, &rest).await
}

fn service(e: &OciError) -> (u16, String, String) {
    match e {
        OciError::Service {
            status,
            code,
            message,
            opc_request_id,
            ..
        } => {
            assert!(opc_request_id.is_some(), "no opc-request-id: {e}");
            (*status, code.clone(), message.clone())
        }
        other => panic!("expected a service error, got {other}"),
    }
}

#[tokio::test]
async fn unsigned_unknown_and_tampered_requests_are_refused() {
    let (standin, bucket) = setup().await;
    let base = format!("{}/n/{NAMESPACE}/b/b/o", standin.url());
    let http = reqwest::Client::new();

    // No signature at all.
    let r = http.get(&base).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["code"], "NotAuthenticated");

    // A key the service does not know: the error names the principal.
    let stranger = PrivateKey::generate().unwrap();
    let other = ObjectStorageClient::new(client(&standin, stranger.clone())).bucket(NAMESPACE, "b");
    let err = other.list_objects(None, None, None).await.unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains(&format!(
            "API key {TENANCY}/{USER}/{}",
            stranger.fingerprint()
        )),
        "{msg}"
    );
    assert_eq!(status_of(&err), Some(401));

    // A signed POST whose body changed after signing.
    let mut req = http
        .post(format!("{}/n/{NAMESPACE}/b/b/u", standin.url()))
        .body(r#"{"object":"a"}"#)
        .build()
        .unwrap();
    let creds = bucket.oci().auth().credentials().await.unwrap();
    creds
        .sign_reqwest(&mut req, mediaserver_oci::BodySigning::Auto)
        .unwrap();
    *req.body_mut() = Some(r#"{"object":"b"}"#.into());
    let r = http.execute(req).await.unwrap();
    assert_eq!(r.status(), 400);

    // A POST signed without the body headers (only uploads may leave them out).
    let mut req = http
        .post(format!("{}/n/{NAMESPACE}/b/b/u", standin.url()))
        .body(r#"{"object":"a"}"#)
        .build()
        .unwrap();
    creds
        .sign_reqwest(&mut req, mediaserver_oci::BodySigning::Exclude)
        .unwrap();
    let r = http.execute(req).await.unwrap();
    assert_eq!(r.status(), 401);
    let body: serde_json::Value = r.json().await.unwrap();
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("x-content-sha256")
            || body["message"].as_str().unwrap().contains("content-length"),
        "{body}"
    );
    assert_eq!(standin.object_storage().rejections().len(), 4);
    assert_eq!(standin.object_storage().open_uploads("b"), 0);
}

#[tokio::test]
async fn objects_ranges_and_error_shapes() {
    let (standin, bucket) = setup().await;
    let names = [
        "plain.txt",
        "dir/sub/file.bin",
        "with space/é ü 日本.mov",
        "odd/100% #1 ?x=y&z+w.txt",
        "already%2Fencoded",
    ];
    for (i, name) in names.iter().enumerate() {
        let put = bucket
            .put_object(
                name,
                Bytes::from(format!("content {i}")),
                Some("text/plain"),
            )
            .await
            .unwrap();
        assert!(put.etag.is_some() && put.md5.is_some(), "{put:?}");
        let got = standin.object_storage().object("b", name).unwrap();
        assert_eq!(
            got,
            format!("content {i}").as_bytes(),
            "stored under {name:?}"
        );
    }
    let listed: Vec<String> = bucket
        .list_all(None)
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.name)
        .collect();
    let mut sorted: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    sorted.sort();
    assert_eq!(listed, sorted);

    let head = bucket.head_object("plain.txt").await.unwrap();
    assert_eq!(head.size, 9);
    assert_eq!(head.content_type.as_deref(), Some("text/plain"));
    let body = bucket
        .get_object("plain.txt", Some((2, Some(4))))
        .await
        .unwrap();
    assert_eq!(body.range, Some((2, 4)));
    assert_eq!(body.head.size, 9, "size of the whole object");
    assert_eq!(body.response.text().await.unwrap(), "nte");
    let tail = bucket
        .get_object("plain.txt", Some((5, None)))
        .await
        .unwrap();
    assert_eq!(tail.response.text().await.unwrap(), "nt 0");

    let err = bucket
        .get_object("plain.txt", Some((9, None)))
        .await
        .unwrap_err();
    assert_eq!(service(&err).0, 416);
    assert_eq!(service(&err).1, "InvalidRange");

    let err = bucket.get_object("missing", None).await.unwrap_err();
    let (status, code, message) = service(&err);
    assert_eq!((status, code.as_str()), (404, "ObjectNotFound"));
    assert!(message.contains("'missing'"), "{message}");
    let err = bucket.head_object("missing").await.unwrap_err();
    assert!(is_not_found(&err));
    let err = bucket.delete_object("missing").await.unwrap_err();
    assert!(is_not_found(&err));
    bucket.delete_object("plain.txt").await.unwrap();
    assert!(standin.object_storage().object("b", "plain.txt").is_none());

    let os = ObjectStorageClient::new(bucket.oci().clone());
    let err = os
        .bucket(NAMESPACE, "nope")
        .list_objects(None, None, None)
        .await
        .unwrap_err();
    let (status, code, message) = service(&err);
    assert_eq!((status, code.as_str()), (404, "BucketNotFound"));
    assert!(message.contains("'nope'"), "{message}");
    let err = get_bucket(&os.bucket("otherns", "b")).await.unwrap_err();
    assert_eq!(service(&err).1, "NamespaceNotFound");
    get_bucket(&bucket).await.unwrap();
    assert!(standin.object_storage().rejections().is_empty());
}

#[tokio::test]
async fn listings_paginate_with_next_start_with() {
    let (standin, bucket) = setup().await;
    standin.object_storage().set_list_page_size(3);
    for i in 0..10 {
        bucket
            .put_object(&format!("p/{i:02}"), Bytes::from_static(b"x"), None)
            .await
            .unwrap();
    }
    bucket
        .put_object("q/other", Bytes::from_static(b"yy"), None)
        .await
        .unwrap();
    let first = bucket.list_objects(Some("p/"), None, None).await.unwrap();
    assert_eq!(first.objects.len(), 3);
    assert_eq!(first.next_start_with.as_deref(), Some("p/03"));
    assert_eq!(first.objects[0].size, Some(1));
    assert!(first.objects[0].etag.is_some() && first.objects[0].time_modified.is_some());
    let second = bucket
        .list_objects(Some("p/"), first.next_start_with.as_deref(), None)
        .await
        .unwrap();
    assert_eq!(second.objects[0].name, "p/03");
    let all = bucket.list_all(Some("p/")).await.unwrap();
    let names: Vec<_> = all.iter().map(|o| o.name.clone()).collect();
    assert_eq!(
        names,
        (0..10).map(|i| format!("p/{i:02}")).collect::<Vec<_>>()
    );
    assert_eq!(bucket.list_all(None).await.unwrap().len(), 11);
}

#[tokio::test]
async fn multipart_commit_rules() {
    let (standin, bucket) = setup().await;
    let big = Bytes::from(vec![7u8; 10 * MIB]);
    let small = Bytes::from_static(b"tail");

    // A non-last part under 10 MiB is refused at commit.
    let id = bucket.create_multipart_upload("mp/refused").await.unwrap();
    let e1 = bucket
        .upload_part("mp/refused", &id, 1, small.clone())
        .await
        .unwrap();
    let e2 = bucket
        .upload_part("mp/refused", &id, 2, small.clone())
        .await
        .unwrap();
    let err = bucket
        .commit_multipart_upload("mp/refused", &id, &[(1, e1.clone()), (2, e2)])
        .await
        .unwrap_err();
    let (status, code, message) = service(&err);
    assert_eq!((status, code.as_str()), (400, "InvalidParameter"));
    assert!(message.contains("part 1"), "{message}");
    // A wrong etag is refused too.
    let err = bucket
        .commit_multipart_upload("mp/refused", &id, &[(1, "bogus".into())])
        .await
        .unwrap_err();
    assert!(service(&err).2.contains("etag"), "{err}");
    bucket
        .abort_multipart_upload("mp/refused", &id)
        .await
        .unwrap();
    let err = bucket
        .abort_multipart_upload("mp/refused", &id)
        .await
        .unwrap_err();
    assert_eq!(service(&err).1, "NoSuchUpload");
    let err = bucket
        .upload_part("mp/refused", &id, 3, small.clone())
        .await
        .unwrap_err();
    assert!(is_not_found(&err));
    assert!(standin.object_storage().object("b", "mp/refused").is_none());

    // 10 MiB + a small last part, committed out of order.
    let id = bucket.create_multipart_upload("mp/ok é").await.unwrap();
    let e2 = bucket
        .upload_part("mp/ok é", &id, 2, small.clone())
        .await
        .unwrap();
    let e1 = bucket
        .upload_part("mp/ok é", &id, 1, big.clone())
        .await
        .unwrap();
    let done = bucket
        .commit_multipart_upload("mp/ok é", &id, &[(2, e2), (1, e1)])
        .await
        .unwrap();
    assert!(done.md5.as_deref().unwrap().ends_with("-2"), "{done:?}");
    let head = bucket.head_object("mp/ok é").await.unwrap();
    assert_eq!(head.size as usize, big.len() + small.len());
    assert_eq!(head.etag, done.etag);
    assert_eq!(
        standin.object_storage().object_part_count("b", "mp/ok é"),
        Some(2)
    );
    assert_eq!(standin.object_storage().open_uploads("b"), 0);
    // Refused before any request (the stand-in would refuse it too, for other reasons).
    let err = bucket.upload_part("x", &id, 0, small).await.unwrap_err();
    assert!(matches!(err, OciError::Config { .. }), "part 0: {err}");
}

#[tokio::test]
async fn pars_grant_one_object_until_they_expire() {
    let (standin, bucket) = setup().await;
    let http = reqwest::Client::new();
    let in_5_min = chrono::Utc::now() + chrono::Duration::minutes(5);
    let write = bucket
        .create_par("w", "up/file name.bin", ParAccess::ObjectWrite, in_5_min)
        .await
        .unwrap();
    assert!(
        !format!("{write:?}").contains(write.url.path()),
        "token in Debug"
    );
    let r = http
        .put(write.url.clone())
        .body("via par")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        standin
            .object_storage()
            .object("b", "up/file name.bin")
            .unwrap(),
        "via par"
    );
    // Write-only: no reads; and the URL names exactly one object.
    assert_eq!(
        http.get(write.url.clone()).send().await.unwrap().status(),
        404
    );
    let other = write.url.as_str().replace("file%20name.bin", "other.bin");
    assert_eq!(
        http.put(other).body("x").send().await.unwrap().status(),
        404
    );

    let read = bucket
        .create_par("r", "up/file name.bin", ParAccess::ObjectRead, in_5_min)
        .await
        .unwrap();
    let r = http
        .get(read.url.clone())
        .header("range", "bytes=4-6")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 206);
    assert_eq!(r.headers()["content-range"], "bytes 4-6/7");
    assert_eq!(r.text().await.unwrap(), "par");
    assert_eq!(
        http.put(read.url.clone())
            .body("x")
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(standin.object_storage().par_count("b"), 2);
    delete_par(&bucket, &read.id).await.unwrap();
    assert_eq!(
        http.get(read.url.clone()).send().await.unwrap().status(),
        404
    );

    let past = chrono::Utc::now() - chrono::Duration::seconds(1);
    let err = bucket
        .create_par("late", "x", ParAccess::ObjectRead, past)
        .await
        .unwrap_err();
    assert_eq!(service(&err).0, 400);

    let soon = chrono::Utc::now() + chrono::Duration::milliseconds(1500);
    let brief = bucket
        .create_par("brief", "up/file name.bin", ParAccess::ObjectRead, soon)
        .await
        .unwrap();
    assert_eq!(
        http.get(brief.url.clone()).send().await.unwrap().status(),
        200
    );
    tokio::time::sleep(Duration::from_millis(1800)).await;
    let r = http.get(brief.url.clone()).send().await.unwrap();
    assert_eq!(r.status(), 404);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["code"], "NotAuthorizedOrNotFound");
}

#[tokio::test]
async fn transient_failures_are_retried_but_posts_are_not() {
    let (standin, bucket) = setup().await;
    standin.object_storage().fail_next(&[503, 429]);
    bucket
        .put_object("r", Bytes::from_static(b"retried"), None)
        .await
        .unwrap();
    assert_eq!(
        standin.object_storage().object("b", "r").unwrap(),
        "retried"
    );

    standin.object_storage().fail_next(&[500, 500, 500, 500]);
    let err = bucket.head_object("r").await.unwrap_err();
    assert!(is_transient(&err), "{err}");

    standin.object_storage().fail_next(&[503]);
    let err = bucket.create_multipart_upload("m").await.unwrap_err();
    assert_eq!(status_of(&err), Some(503));
    assert_eq!(standin.object_storage().open_uploads("b"), 0);
}
