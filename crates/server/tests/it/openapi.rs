//! The served OpenAPI document: valid (checked by `openapi-spec-validator`, the tool generic
//! clients are built with), naming every route the server has with templates any tool accepts,
//! and requests refused or accepted as it says (what `scripts/fuzz-api.sh` fuzzes in bulk).

use crate::common::{expect_error, fixtures, read, TestServer};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::path::Path;

async fn document(s: &TestServer) -> Value {
    let r = s.client.get(s.url("/openapi.json")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

#[tokio::test]
async fn the_served_document_passes_openapi_spec_validator() {
    let s = TestServer::start().await;
    let doc = document(&s).await;
    let file = s.dir.path().join("openapi.json");
    std::fs::write(&file, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    let out = std::process::Command::new("openapi-spec-validator")
        .arg(&file)
        .output()
        .expect("openapi-spec-validator runs (scripts/install-deps.sh installs it)");
    assert!(
        out.status.success(),
        "openapi-spec-validator refused /openapi.json:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Routes served outside the document, each for a stated reason. Everything else a router
/// registers must be in it.
const NOT_DOCUMENTED: &[(&str, &str)] = &[
    ("/", "the web UI's page"),
    ("/assets/{*path}", "the web UI's static files"),
    (
        "/v1/uploads",
        "tus endpoint without the trailing slash: the same handlers as /v1/uploads/",
    ),
    ("/docs", "Swagger UI (utoipa-swagger-ui)"),
    ("/openapi.json", "the document itself"),
];

/// Every path string passed to `.route(` in the HTTP crate (routes registered with utoipa's
/// `routes!` take their path from `#[utoipa::path]`, so they are documented by construction).
fn plain_routes() -> BTreeSet<String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../api/src");
    let mut found = BTreeSet::new();
    let mut stack = vec![src];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                // Unit tests build throwaway routers of their own.
                let text = text.split("#[cfg(test)]").next().unwrap_or_default();
                for (i, _) in text.match_indices(".route(") {
                    let rest = text[i + ".route(".len()..].trim_start();
                    let path_lit = rest
                        .strip_prefix('"')
                        .and_then(|r| r.split_once('"'))
                        .map(|(p, _)| p.to_string())
                        .unwrap_or_else(|| panic!("a .route( without a literal path in {path:?}"));
                    found.insert(path_lit);
                }
            }
        }
    }
    found
}

#[tokio::test]
async fn every_route_is_in_the_document_with_plain_templates() {
    let s = TestServer::start().await;
    let doc = document(&s).await;
    let paths = doc["paths"].as_object().unwrap();

    // No axum catch-all (`{*file}`) templates: generic tools cannot fill them in.
    for p in paths.keys() {
        assert!(!p.contains("{*"), "catch-all template in the document: {p}");
    }
    // tus, the one-time PUT target, playback files and ops are all there.
    for p in [
        "/v1/uploads/",
        "/v1/uploads/{id}",
        "/v1/uploads/direct/{id}",
        "/v1/media/{id}/hls/{file}",
        "/v1/media/{id}/dash/{file}",
        "/v1/media/{id}/variants/{file}",
        "/v1/media/{id}/thumbnail.jpg",
        "/v1/play/{token}/hls/{file}",
        "/v1/play/{token}/storyboard.vtt",
        "/healthz",
        "/readyz",
        "/metrics",
    ] {
        assert!(paths.contains_key(p), "{p} is not in the document");
    }

    // Every route registered outside utoipa is documented or listed as exempt.
    let exempt: BTreeSet<&str> = NOT_DOCUMENTED.iter().map(|(p, _)| *p).collect();
    for route in plain_routes() {
        assert!(
            paths.contains_key(&route) || exempt.contains(route.as_str()),
            "route {route} is served but not in /openapi.json: register it with utoipa's \
             routes! and a #[utoipa::path], or list it in NOT_DOCUMENTED with the reason"
        );
    }

    // And every documented operation is served: a request with placeholder parameters reaches
    // a handler (its own answer), never the fallback's "no such endpoint" nor a 405.
    for (path, item) in paths {
        let url_path = path
            .replace("{id}", "00000000-0000-7000-8000-000000000000")
            .replace("{token}", "not-a-token")
            .replace("{file}", "x.m4s");
        for method in item.as_object().unwrap().keys() {
            let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let r = s.client.request(m, s.url(&url_path)).send().await.unwrap();
            let status = r.status();
            let body = r.text().await.unwrap_or_default();
            assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
            assert!(
                !body.contains("no such endpoint"),
                "{method} {path} is documented but not served"
            );
        }
    }
    // The exempt routes are served too (the list names nothing stale).
    for (p, _) in NOT_DOCUMENTED {
        let url_path = p.replace("{*path}", "app.css");
        let r = s.client.get(s.url(&url_path)).send().await.unwrap();
        assert_ne!(
            r.status(),
            StatusCode::NOT_FOUND,
            "{p} in NOT_DOCUMENTED is not served"
        );
    }
}

#[tokio::test]
async fn list_filters_are_query_parameters_and_the_upload_has_its_form() {
    let s = TestServer::start().await;
    let doc = document(&s).await;
    let list = &doc["paths"]["/v1/media"]["get"]["parameters"];
    for name in ["limit", "cursor", "kind", "status"] {
        let p = list
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("no {name} parameter"));
        assert_eq!(p["in"], "query", "{name}");
    }
    let form = &doc["paths"]["/v1/media"]["post"]["requestBody"]["content"]["multipart/form-data"]
        ["schema"]["$ref"];
    assert_eq!(form, "#/components/schemas/UploadForm");
    let schema = &doc["components"]["schemas"]["UploadForm"];
    assert_eq!(schema["properties"]["file"]["format"], "binary");
    assert_eq!(schema["required"], json!(["file"]));
}

#[tokio::test]
async fn a_json_body_that_is_not_an_object_is_refused() {
    let s = TestServer::start().await;
    let token = s.user_token("arrays@example.com").await;
    // serde builds a struct from an array of its fields; the schema says object.
    for (path, body) in [
        ("/v1/api-keys", "[null]"),
        ("/v1/media/direct-upload", r#"["a.mp4", 5]"#),
        ("/v1/auth/login", r#"["arrays@example.com", "password"]"#),
        ("/v1/api-keys", "5"),
    ] {
        let r = s
            .client
            .post(s.url(path))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        let msg = expect_error(r, StatusCode::BAD_REQUEST).await;
        assert!(
            msg.contains("expected a JSON object"),
            "{path} {body}: {msg}"
        );
    }
    // The optional bodies: none, or `null`, mean the defaults.
    for body in ["", "null"] {
        let r = s
            .client
            .post(s.url("/v1/api-keys"))
            .bearer_auth(&token)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED, "body {body:?}");
    }
}

#[tokio::test]
async fn integers_written_as_whole_floats_are_integers() {
    let s = TestServer::start().await;
    let token = s.user_token("floats@example.com").await;
    // JSON Schema's `integer` includes 5.0; a fraction is still refused.
    let r = s
        .client
        .post(s.url("/v1/media/direct-upload"))
        .bearer_auth(&token)
        .json(&json!({"filename": "a.mp4", "size": 5.0}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = s
        .client
        .post(s.url("/v1/media/direct-upload"))
        .bearer_auth(&token)
        .json(&json!({"filename": "a.mp4", "size": 5.5}))
        .send()
        .await
        .unwrap();
    expect_error(r, StatusCode::BAD_REQUEST).await;
}

#[tokio::test]
async fn empty_query_values_are_refused_like_other_bad_ones() {
    let s = TestServer::start().await;
    let token = s.user_token("empty@example.com").await;
    for q in ["cursor=", "limit=", "kind=", "status="] {
        let r = s
            .get(&format!("/v1/media?{q}"), &token)
            .send()
            .await
            .unwrap();
        expect_error(r, StatusCode::BAD_REQUEST).await;
    }
    let r = s
        .client
        .get(s.url("/v1/media/public?cursor="))
        .send()
        .await
        .unwrap();
    expect_error(r, StatusCode::BAD_REQUEST).await;
    // Absent is still the default.
    let r = s.get("/v1/media?limit=5", &token).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_multipart_upload_with_an_unknown_field_is_refused_and_nothing_kept() {
    let s = TestServer::start().await;
    let token = s.user_token("fields@example.com").await;
    let png = read(&fixtures().png);
    let form = reqwest::multipart::Form::new()
        .part(
            "file",
            reqwest::multipart::Part::bytes(png).file_name("a.png"),
        )
        .text("titel", "misspelt");
    let r = s
        .client
        .post(s.url("/v1/media"))
        .bearer_auth(&token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let msg = expect_error(r, StatusCode::BAD_REQUEST).await;
    assert!(msg.contains("titel"), "{msg}");
    let page: Value = s
        .get("/v1/media", &token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page["items"], json!([]), "a refused upload left an item");
}

#[tokio::test]
async fn completing_an_item_that_needs_no_completion_returns_it() {
    let s = TestServer::start().await;
    let token = s.user_token("complete@example.com").await;
    let item = s.upload_ok(&token, "a.png", read(&fixtures().png)).await;
    let id = item["id"].as_str().unwrap();
    let r = s
        .client
        .post(s.url(&format!("/v1/media/{id}/complete")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let got: Value = r.json().await.unwrap();
    assert_eq!(got["id"], item["id"]);
    // Someone else's item is still unknown to them.
    let other = s.user_token("other@example.com").await;
    let r = s
        .client
        .post(s.url(&format!("/v1/media/{id}/complete")))
        .bearer_auth(&other)
        .send()
        .await
        .unwrap();
    expect_error(r, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn a_tus_patch_to_a_direct_upload_is_a_conflict_not_a_500() {
    let s = TestServer::start().await;
    let token = s.user_token("direct-patch@example.com").await;
    let r = s
        .client
        .post(s.url("/v1/media/direct-upload"))
        .bearer_auth(&token)
        .json(&json!({"filename": "a.png", "size": 3}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = s
        .client
        .patch(s.url(&format!("/v1/uploads/{id}")))
        .bearer_auth(&token)
        .header("tus-resumable", "1.0.0")
        .header("upload-offset", "0")
        .header("content-type", "application/offset+octet-stream")
        .body(vec![0u8])
        .send()
        .await
        .unwrap();
    let msg = expect_error(r, StatusCode::CONFLICT).await;
    assert!(msg.contains("direct upload"), "{msg}");
}

#[tokio::test]
async fn the_filename_parameter_is_checked_with_a_multipart_body_too() {
    let s = TestServer::start().await;
    let token = s.user_token("query-name@example.com").await;
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(read(&fixtures().png)).file_name("a.png"),
    );
    let r = s
        .client
        .post(s.url("/v1/media?filename=a%07b"))
        .bearer_auth(&token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let msg = expect_error(r, StatusCode::BAD_REQUEST).await;
    assert!(msg.contains("filename"), "{msg}");
}

#[tokio::test]
async fn an_optional_body_that_is_not_json_is_refused() {
    let s = TestServer::start().await;
    let token = s.user_token("blank-body@example.com").await;
    let item = s.upload_ok(&token, "a.png", read(&fixtures().png)).await;
    let id = item["id"].as_str().unwrap();
    // No body is "no options"; whitespace is not a JSON document.
    let url = s.url(&format!("/v1/media/{id}/playback-token"));
    let r = s
        .client
        .post(&url)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = s
        .client
        .post(&url)
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(" ")
        .send()
        .await
        .unwrap();
    expect_error(r, StatusCode::BAD_REQUEST).await;
}
