//! Secret header values: plain as a client sends them, sealed (encrypted) as they are stored,
//! and bound to the origin (scheme, host, port) they were entered for.
//!
//! Sealing takes a [`SecretValue::Plain`] and gives a [`SecretValue::Sealed`]; a sealed value
//! is never sealed again because nothing seals one. The origin travels with the ciphertext, so
//! a tool whose URL moves to another host cannot take a stored secret along.

use crate::store::{SecretCipher, SecretError};
use serde::{Deserialize, Serialize};

/// What a secret value reads as in every answer; sent back unchanged, it keeps the stored one.
pub const MASK: &str = "********";

/// A secret as stored: the ciphertext and the origin it may be sent to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sealed {
    /// The ciphertext (`enc:v2:…`, bound to `origin`; `enc:v1:…` from before binding), opened
    /// only when a tool runs.
    pub sealed: String,
    /// `scheme://host:port` (or `stdio:<command>` for a stdio MCP server).
    pub origin: String,
}

/// A secret header value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretValue {
    /// As a client sent it (or [`MASK`], to keep the stored one): not sealed yet.
    Plain(String),
    /// Encrypted at rest, for one origin.
    Sealed(Sealed),
}

impl SecretValue {
    /// Seals a plain value for `origin`; a sealed value is returned as it is.
    pub fn sealed_for(self, cipher: &dyn SecretCipher, origin: &str) -> Sealed {
        match self {
            Self::Plain(plain) => Sealed {
                // The origin is authenticated with the ciphertext: editing the stored origin
                // does not move the secret either.
                sealed: cipher.seal_bound(&plain, origin),
                origin: origin.to_owned(),
            },
            Self::Sealed(sealed) => sealed,
        }
    }

    /// The clear value for a request to `origin`: a sealed value opens only for its own origin.
    pub fn reveal(&self, cipher: &dyn SecretCipher, origin: &str) -> Result<String, RevealError> {
        match self {
            Self::Plain(plain) => Ok(plain.clone()),
            Self::Sealed(sealed) if sealed.origin != origin => Err(RevealError::OtherOrigin {
                entered_for: sealed.origin.clone(),
                origin: origin.to_owned(),
            }),
            Self::Sealed(sealed) => Ok(cipher.open_bound(&sealed.sealed, origin)?),
        }
    }
}

/// Why a secret value is not revealed.
#[derive(Debug, thiserror::Error)]
pub enum RevealError {
    /// The request goes to another origin than the secret was entered for.
    #[error("its secret was entered for {entered_for}, not for {origin}")]
    OtherOrigin {
        /// The origin the secret belongs to.
        entered_for: String,
        /// The origin of the request.
        origin: String,
    },
    /// The sealed value could not be opened.
    #[error(transparent)]
    Open(#[from] SecretError),
}

/// The origin of a URL as secrets are bound to it: `scheme://host:port`.
pub fn url_origin(url: &url::Url) -> Option<String> {
    let host = url.host_str()?;
    let port = url.port_or_known_default()?;
    Some(format!("{}://{host}:{port}", url.scheme()))
}

/// The origin of a URL template, when its scheme, host and port are fixed (no placeholder).
pub fn template_origin(template: &str) -> Option<String> {
    let url = url::Url::parse(template).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let host = url.host_str()?;
    if host.contains('{') || host.contains('}') || host.contains("%7B") || host.contains("%7D") {
        return None;
    }
    url_origin(&url)
}

/// The origin of a stdio MCP server: its whole command line.
pub fn stdio_origin(command: &[String]) -> String {
    format!("stdio:{}", command.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_fixed_scheme_host_and_port() {
        assert_eq!(
            template_origin("https://API.example.com/x/{{id}}?q={{q}}").as_deref(),
            Some("https://api.example.com:443")
        );
        assert_eq!(
            template_origin("http://127.0.0.1:8080/{{p}}").as_deref(),
            Some("http://127.0.0.1:8080")
        );
        assert_eq!(
            template_origin("http://[::1]/").as_deref(),
            Some("http://[::1]:80")
        );
        for moving in [
            "https://{{host}}/x",
            "https://api.{{env}}.example.com/",
            "https://example.com:{{port}}/",
            "ftp://example.com/",
        ] {
            assert_eq!(template_origin(moving), None, "{moving}");
        }
    }
}
