//! `{{name}}` templating, the one implementation behind agent instructions (`text` and
//! `mustache` engines), schedule inputs and HTTP tool blueprints. A placeholder's name is
//! trimmed (`{{ name }}` is `{{name}}`); a name with no value stays as written.

use serde_json::{Map, Value};

/// The names of the `{{name}}` placeholders in a text.
pub fn placeholders(text: &str) -> impl Iterator<Item = &str> {
    text.split("{{")
        .skip(1)
        .filter_map(|rest| rest.split_once("}}").map(|(name, _)| name.trim()))
}

/// A value as template text: strings as they are, anything else as JSON.
pub fn as_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Replaces each `{{name}}` with `value(name)`; where it gives `None` the placeholder stays.
/// One pass: a value that contains a placeholder is not filled again.
pub fn render_with(template: &str, mut value: impl FnMut(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            return out;
        };
        match value(after[..end].trim()) {
            Some(text) => out.push_str(&text),
            None => out.push_str(&rest[start..start + 2 + end + 2]),
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

/// Replaces each `{{name}}` with the variable's text ([`as_text`]).
pub fn render(template: &str, vars: &Map<String, Value>) -> String {
    render_with(template, |name| vars.get(name).map(as_text))
}

/// The name of the placeholder a text is exactly (surrounding whitespace aside), if it is one.
pub fn sole_placeholder(text: &str) -> Option<&str> {
    text.trim()
        .strip_prefix("{{")
        .and_then(|r| r.strip_suffix("}}"))
        .map(str::trim)
        .filter(|n| !n.contains("{{") && !n.contains("}}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn placeholders_are_filled_once_and_unknown_ones_kept() {
        let vars = json!({"name": "Bob", "n": 3, "loop": "{{name}}"});
        let vars = vars.as_object().unwrap();
        assert_eq!(
            render("Hi {{name}}, {{ n }} {{missing}} {{loop}} {{open", vars),
            "Hi Bob, 3 {{missing}} {{name}} {{open"
        );
        assert_eq!(render("no placeholders", vars), "no placeholders");
    }

    #[test]
    fn placeholder_names_and_sole_placeholders() {
        let names: Vec<_> = placeholders("a {{x}} b {{ y }} c {{z").collect();
        assert_eq!(names, ["x", "y"]);
        assert_eq!(sole_placeholder(" {{ city }} "), Some("city"));
        assert_eq!(sole_placeholder("{{a}} {{b}}"), None);
        assert_eq!(sole_placeholder("city: {{city}}"), None);
    }
}
