//! Cross-origin access for browser front ends (which authenticate with JWTs): only the origins
//! the operator lists, with preflight requests answered before authentication.

use axum::http::{header, HeaderName, HeaderValue, Method};
use std::time::Duration;
use tower_http::cors::{AllowOrigin, CorsLayer};

/// An origin that is not `scheme://host[:port]`.
#[derive(Debug, thiserror::Error)]
#[error("`{0}` is not an origin such as https://app.example.com")]
pub struct BadOrigin(pub String);

/// The CORS layer for `origins` (`https://app.example.com`), or `None` when there are none:
/// then responses carry no CORS headers and browsers keep other sites out.
pub fn cors_layer(origins: &[String]) -> Result<Option<CorsLayer>, BadOrigin> {
    if origins.is_empty() {
        return Ok(None);
    }
    let values = origins
        .iter()
        .map(|origin| {
            if !is_origin(origin) {
                return Err(BadOrigin(origin.clone()));
            }
            HeaderValue::from_str(origin).map_err(|_| BadOrigin(origin.clone()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(values))
            .allow_methods([
                Method::GET,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
            ])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                header::ACCEPT,
                HeaderName::from_static("last-event-id"),
            ])
            .max_age(Duration::from_secs(600)),
    ))
}

/// `http(s)://host[:port]` with nothing after it: what browsers send in `Origin`.
fn is_origin(text: &str) -> bool {
    let Some(rest) = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"))
    else {
        return false;
    };
    !rest.is_empty()
        && rest
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_origins_are_accepted() {
        assert!(cors_layer(&[]).unwrap().is_none());
        assert!(cors_layer(&[
            "https://app.example.com".into(),
            "http://127.0.0.1:3000".into()
        ])
        .unwrap()
        .is_some());
        for bad in [
            "*",
            "app.example.com",
            "https://app.example.com/",
            "https://",
            "ftp://x",
        ] {
            assert!(cors_layer(&[bad.to_owned()]).is_err(), "{bad}");
        }
    }
}
