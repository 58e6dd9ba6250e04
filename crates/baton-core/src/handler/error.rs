//! What went wrong in a tool call. Its text is what the model is shown as the tool's error.

use std::error::Error as StdError;

/// An underlying error a tool error carries as its source.
pub type BoxError = Box<dyn StdError + Send + Sync>;

/// A failed tool call. `Display` is the message the model sees; the variant says what kind of
/// failure it was, for code that handles them (retries, metrics, logs).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ToolError {
    /// The arguments do not fit the tool's parameters.
    #[error("{0}")]
    InvalidArguments(String),
    /// The call did not finish in the time it was given.
    #[error("{0}")]
    Timeout(String),
    /// An HTTP service answered with an error status.
    #[error("{url} answered HTTP {status}: {body}")]
    HttpStatus {
        /// The URL called.
        url: String,
        /// The HTTP status code.
        status: u16,
        /// The start of the answer's body.
        body: String,
    },
    /// The service the tool calls could not be reached, failed, or answered something unusable.
    #[error("{message}")]
    Upstream {
        /// What failed, with its causes, as the model sees it.
        message: String,
        /// The underlying error, when there is one.
        #[source]
        source: Option<BoxError>,
    },
    /// The tool ran and failed: the code raised, exited or passed one of its limits.
    #[error("{0}")]
    Execution(String),
    /// This kind of tool is not set up here (no sandbox, no server, a feature not built in).
    #[error("{0}")]
    Unavailable(String),
    /// A secret the call needs could not be opened.
    #[error("{what}: {source}")]
    Secret {
        /// What the secret was for (a header, a variable).
        what: String,
        /// Why it could not be opened.
        #[source]
        source: BoxError,
    },
    /// The outbound policy or the tool's rules refuse the call.
    #[error("{0}")]
    Denied(String),
    /// Any other failure.
    #[error("{0}")]
    Other(String),
}

impl ToolError {
    /// An upstream failure without an underlying error value.
    pub fn upstream(message: impl Into<String>) -> Self {
        Self::Upstream {
            message: message.into(),
            source: None,
        }
    }
}

impl From<String> for ToolError {
    fn from(message: String) -> Self {
        Self::Other(message)
    }
}

impl From<&str> for ToolError {
    fn from(message: &str) -> Self {
        Self::Other(message.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SecretError;

    #[test]
    fn the_text_is_what_the_model_saw_and_the_cause_stays_reachable() {
        let status = ToolError::HttpStatus {
            url: "https://api.example.com/x".into(),
            status: 503,
            body: "busy".into(),
        };
        assert_eq!(
            status.to_string(),
            "https://api.example.com/x answered HTTP 503: busy"
        );

        let secret = ToolError::Secret {
            what: "variable `token`".into(),
            source: Box::new(SecretError("bad tag".into())),
        };
        assert_eq!(
            secret.to_string(),
            "variable `token`: secret could not be decrypted: bad tag"
        );
        let cause = secret.source().map(ToString::to_string);
        assert_eq!(
            cause.as_deref(),
            Some("secret could not be decrypted: bad tag")
        );
        assert!(ToolError::upstream("down").source().is_none());
    }
}
