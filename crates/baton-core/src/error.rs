//! Errors of the domain layer.

use std::fmt;

/// A request field that failed validation: which field, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationError {
    /// Dotted path of the offending field, e.g. `settings.max_iterations`.
    pub field: String,
    /// Human-readable reason.
    pub message: String,
}

impl ValidationError {
    /// A validation error for `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }

    /// This error, its field relative to the value being deserialized, as the text of a serde
    /// error: serde errors carry only text, and a reader that tracks the value's path reads the
    /// field back with [`ValidationError::from_serde_message`] to name the whole field.
    pub fn to_serde_message(&self) -> String {
        if self.field.is_empty() {
            self.message.clone()
        } else {
            format!("{NESTED_FIELD}{}`: {}", self.field, self.message)
        }
    }

    /// The relative field and message of a serde error text made by
    /// [`ValidationError::to_serde_message`].
    pub fn from_serde_message(text: &str) -> Option<Self> {
        let (field, message) = text.strip_prefix(NESTED_FIELD)?.split_once("`: ")?;
        Some(Self::new(field, message))
    }
}

/// How a serde error text naming a nested field begins (serde's own say `missing field`, …).
const NESTED_FIELD: &str = "field `";

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for ValidationError {}
