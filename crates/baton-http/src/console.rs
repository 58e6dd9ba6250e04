//! The web console: a single-page app served at `/`, its assets under `/console/`. The files are
//! the committed build output in `console/dist/`, compiled into the binary, so the console works
//! offline and `cargo build` needs no Node.js. The pages call the authenticated API with the key
//! the user signs in with; serving them needs no key.

use crate::error::ApiError;
use crate::extract::Path;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS,
    X_FRAME_OPTIONS,
};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

/// One embedded file: its name under `/console/`, content type and bytes.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

const INDEX: &[u8] = include_bytes!("../console/dist/index.html");

const ASSETS: [Asset; 3] = [
    Asset {
        name: "app.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../console/dist/app.js"),
    },
    Asset {
        name: "app.css",
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("../console/dist/app.css"),
    },
    Asset {
        name: "favicon.svg",
        content_type: "image/svg+xml",
        bytes: include_bytes!("../console/dist/favicon.svg"),
    },
];

/// Only the console's own files and this origin's API: an injected script could neither load
/// from elsewhere nor send the key away.
const POLICY: &str =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// `/` and `/console/{file}`, outside authentication.
pub(crate) fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/", get(index))
        .route("/console/{file}", get(asset))
}

fn respond(content_type: &'static str, cache: &'static str, bytes: &'static [u8]) -> Response {
    (
        [
            (CONTENT_TYPE, content_type),
            (CACHE_CONTROL, cache),
            (X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (CONTENT_SECURITY_POLICY, POLICY),
            (REFERRER_POLICY, "no-referrer"),
            (X_FRAME_OPTIONS, "DENY"),
        ],
        bytes,
    )
        .into_response()
}

/// The page; revalidated each time so a new binary's assets (named by their hash) load at once.
async fn index() -> Response {
    respond("text/html; charset=utf-8", "no-cache", INDEX)
}

/// An asset. The page asks for them with their content hash in the query, so they may be kept.
async fn asset(Path(file): Path<String>) -> Result<Response, ApiError> {
    let found = ASSETS
        .iter()
        .find(|a| a.name == file)
        .ok_or_else(|| ApiError::not_found(format!("no route for /console/{file}")))?;
    Ok(respond(
        found.content_type,
        "public, max-age=31536000, immutable",
        found.bytes,
    ))
}
