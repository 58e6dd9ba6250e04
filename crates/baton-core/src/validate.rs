//! Shared field checks, matching orq's documented patterns.

use crate::error::ValidationError;
use regex::Regex;
use std::sync::LazyLock;

#[allow(clippy::expect_used)] // a literal pattern; covered by the tests below
static AGENT_KEY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[A-Za-z][A-Za-z0-9]*([._-][A-Za-z0-9]+)*$").expect("agent key pattern")
});

#[allow(clippy::expect_used)] // a literal pattern; covered by the tests below
static TOOL_KEY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[A-Za-z]([A-Za-z0-9]*([_-][A-Za-z0-9]+)*)?$").expect("tool key pattern")
});

/// Checks an agent key: 1..255 characters of orq's pattern (no `@`, no `/`).
pub fn agent_key(field: &str, key: &str) -> Result<(), ValidationError> {
    if key.is_empty() || key.len() > 255 {
        return Err(ValidationError::new(field, "must be 1 to 255 characters"));
    }
    if !AGENT_KEY.is_match(key) {
        return Err(ValidationError::new(
            field,
            "must start with a letter and contain only letters, digits and single '.', '_' or '-' separators",
        ));
    }
    Ok(())
}

/// Checks a tool key: 1..64 characters of orq's pattern.
pub fn tool_key(field: &str, key: &str) -> Result<(), ValidationError> {
    if key.is_empty() || key.len() > 64 {
        return Err(ValidationError::new(field, "must be 1 to 64 characters"));
    }
    if !TOOL_KEY.is_match(key) {
        return Err(ValidationError::new(
            field,
            "must start with a letter and contain only letters, digits and single '_' or '-' separators",
        ));
    }
    Ok(())
}

/// Longest folder path, in characters.
pub const MAX_FOLDER_PATH: usize = 255;

/// Checks a folder path (`Project/folder/sub`): 1..255 characters, `/`-separated names that are
/// neither empty, `.` nor `..`, without surrounding blanks, control characters or `\`.
pub fn folder_path(field: &str, path: &str) -> Result<(), ValidationError> {
    if path.trim().is_empty() {
        return Err(ValidationError::new(field, "must not be empty"));
    }
    if path.chars().count() > MAX_FOLDER_PATH {
        return Err(ValidationError::new(
            field,
            format!("must be at most {MAX_FOLDER_PATH} characters"),
        ));
    }
    if path.chars().any(|c| c.is_control() || c == '\\') {
        return Err(ValidationError::new(
            field,
            "must not contain control characters or `\\`",
        ));
    }
    for name in path.split('/') {
        if name.is_empty() || name == "." || name == ".." || name.trim() != name {
            return Err(ValidationError::new(
                field,
                "must be `/`-separated folder names (`Project/folder`), none empty, `.`, `..` or with surrounding blanks",
            ));
        }
    }
    Ok(())
}

/// Checks that a required text field is not blank.
pub fn non_empty(field: &str, value: &str) -> Result<(), ValidationError> {
    if value.trim().is_empty() {
        return Err(ValidationError::new(field, "must not be empty"));
    }
    Ok(())
}

/// Checks that `value` lies in `min..=max`.
pub fn in_range<T: PartialOrd + std::fmt::Display>(
    field: &str,
    value: T,
    min: T,
    max: T,
) -> Result<(), ValidationError> {
    if value < min || value > max {
        return Err(ValidationError::new(
            field,
            format!("must be between {min} and {max}, got {value}"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_paths_are_plain_relative_names() {
        for ok in ["Default", "Default/agents", "Project 1/sub-folder/x.y"] {
            assert!(folder_path("path", ok).is_ok(), "{ok}");
        }
        let long = "a".repeat(5_000);
        for bad in [
            "",
            " ",
            "../etc",
            "/abs",
            "a//b",
            "a/",
            "Default/\u{0}",
            "a/./b",
            " a",
            "a\\b",
            &long,
        ] {
            assert!(folder_path("path", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn agent_keys_follow_orq_pattern() {
        for ok in ["a", "support-agent", "tone.v2", "A_b-c.d9"] {
            assert!(agent_key("key", ok).is_ok(), "{ok}");
        }
        for bad in ["", "1abc", "a@b", "a/b", "a--b", "a-", "-a", "a b"] {
            assert!(agent_key("key", bad).is_err(), "{bad}");
        }
        assert!(agent_key("key", &"a".repeat(256)).is_err());
    }

    #[test]
    fn tool_keys_follow_orq_pattern() {
        for ok in ["a", "get_weather", "get-weather2"] {
            assert!(tool_key("key", ok).is_ok(), "{ok}");
        }
        for bad in ["", "1a", "a.b", "a__b", "a_", &"a".repeat(65)] {
            assert!(tool_key("key", bad).is_err(), "{bad}");
        }
    }
}
