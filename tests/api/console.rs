//! The web console: `/` and its assets are served from the binary without a key, with content
//! types, cache and security headers; other paths keep the API's JSON 404.

use baton_e2e::{Backend, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::Value;

async fn fetch(s: &TestServer, path: &str) -> (StatusCode, reqwest::header::HeaderMap, String) {
    let resp = s.request(Method::GET, path).send().await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    (status, headers, resp.text().await.unwrap())
}

fn header<'a>(headers: &'a reqwest::header::HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

#[tokio::test]
async fn the_console_page_and_assets_are_served_without_a_key() {
    let s = TestServer::start(Backend::Sqlite).await;

    let (st, headers, page) = fetch(&s, "/").await;
    assert_eq!(st, StatusCode::OK, "{page}");
    assert_eq!(header(&headers, "content-type"), "text/html; charset=utf-8");
    assert_eq!(header(&headers, "cache-control"), "no-cache");
    assert!(header(&headers, "content-security-policy").contains("script-src 'self'"));
    assert_eq!(header(&headers, "x-content-type-options"), "nosniff");
    assert!(page.contains("<div id=\"app\">"), "{page}");

    // The page names each asset with its content hash; each is served with its type and kept.
    for (asset, content_type) in [
        ("app.js", "text/javascript; charset=utf-8"),
        ("app.css", "text/css; charset=utf-8"),
    ] {
        let start = page
            .find(&format!("/console/{asset}?v="))
            .unwrap_or_else(|| panic!("{asset} not linked: {page}"));
        let link = &page[start..];
        let link = &link[..link.find('"').unwrap()];
        let (st, headers, body) = fetch(&s, link).await;
        assert_eq!(st, StatusCode::OK, "{link}");
        assert_eq!(header(&headers, "content-type"), content_type, "{link}");
        assert!(
            header(&headers, "cache-control").contains("immutable"),
            "{link}"
        );
        assert!(body.len() > 1000, "{link} is {} bytes", body.len());
    }
    let (st, headers, _) = fetch(&s, "/console/favicon.svg").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(header(&headers, "content-type"), "image/svg+xml");

    // Unknown console files and unknown API paths answer the API's JSON 404, not the page.
    for path in ["/console/secrets.txt", "/v2/nowhere", "/index.html"] {
        let (st, headers, body) = fetch(&s, path).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{path}");
        assert!(
            header(&headers, "content-type").starts_with("application/json"),
            "{path}"
        );
        let body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["error"]["code"], "not_found", "{path}: {body}");
    }
    // The API behind the console still needs the key.
    let (st, _, _) = fetch(&s, "/v2/agents").await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
}
