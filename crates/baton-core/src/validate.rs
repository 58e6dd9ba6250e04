//! Shared field checks, matching orq's documented patterns.

use crate::error::ValidationError;
use regex::Regex;
use std::sync::LazyLock;

/// The pattern of an agent key (orq's), as the API documents it.
pub const AGENT_KEY_PATTERN: &str = r"^[A-Za-z][A-Za-z0-9]*([._-][A-Za-z0-9]+)*$";

/// The pattern of a tool, knowledge-base or memory-store key (orq's), as the API documents it.
pub const TOOL_KEY_PATTERN: &str = r"^[A-Za-z]([A-Za-z0-9]*([_-][A-Za-z0-9]+)*)?$";

/// The pattern [`folder_path`] accepts (less its length limit), as the API documents it:
/// `/`-separated names, none empty, `.` or `..`, without surrounding blanks, control
/// characters, `\` or `/`.
pub const FOLDER_PATH_PATTERN: &str = concat!(
    r"^(?:[^.\s\x00-\x1f\x7f-\x9f\\/]|[^.\s\x00-\x1f\x7f-\x9f\\/][^\s\x00-\x1f\x7f-\x9f\\/]",
    r"|\.[^.\s\x00-\x1f\x7f-\x9f\\/]|[^\s\x00-\x1f\x7f-\x9f\\/][^\x00-\x1f\x7f-\x9f\\/]+",
    r"[^\s\x00-\x1f\x7f-\x9f\\/])(?:/(?:[^.\s\x00-\x1f\x7f-\x9f\\/]",
    r"|[^.\s\x00-\x1f\x7f-\x9f\\/][^\s\x00-\x1f\x7f-\x9f\\/]|\.[^.\s\x00-\x1f\x7f-\x9f\\/]",
    r"|[^\s\x00-\x1f\x7f-\x9f\\/][^\x00-\x1f\x7f-\x9f\\/]+[^\s\x00-\x1f\x7f-\x9f\\/]))*$",
);

/// The pattern of a model name (`provider/model` or `provider:model`), as the API documents it.
pub const MODEL_NAME_PATTERN: &str = r"^[^/:]+[/:][\s\S]+$";

#[allow(clippy::expect_used)] // a literal pattern; covered by the tests below
static AGENT_KEY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(AGENT_KEY_PATTERN).expect("agent key pattern"));

#[allow(clippy::expect_used)] // a literal pattern; covered by the tests below
static TOOL_KEY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(TOOL_KEY_PATTERN).expect("tool key pattern"));

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

    /// The documented pattern (plus the length limit) accepts exactly what `folder_path` does.
    #[test]
    fn the_folder_path_pattern_matches_the_check() {
        let pattern = Regex::new(FOLDER_PATH_PATTERN).unwrap();
        let alphabet: Vec<char> = "ab. /\\\t\u{0}\u{7f}\u{85}\u{a0}\u{2003}é-_"
            .chars()
            .collect();
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut cases: Vec<String> = ["Default", "a/b", ".a", "a.", "..a", "...", "a b/c"]
            .into_iter()
            .map(str::to_owned)
            .collect();
        for _ in 0..20_000 {
            let len = (next() % 7) as usize;
            cases.push(
                (0..len)
                    .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                    .collect(),
            );
        }
        for case in cases {
            let documented = pattern.is_match(&case) && case.chars().count() <= MAX_FOLDER_PATH;
            assert_eq!(documented, folder_path("path", &case).is_ok(), "{case:?}");
        }
    }

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
