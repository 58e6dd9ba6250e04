//! System prompts and template variables: agent defaults overridden by the request, rendered
//! with the agent's engine (`text`, `mustache`, `jinja`). Secret variables are sealed at rest
//! and opened only to render.

use crate::EngineError;
use baton_core::agent::{AgentSpec, TemplateEngine};
use baton_core::store::SecretCipher;
use baton_core::template;
use serde_json::{Map, Value};

/// Merges agent defaults and request variables (request wins), sealing secret values.
pub fn merge_variables(
    defaults: &Map<String, Value>,
    request: &Map<String, Value>,
    cipher: &dyn SecretCipher,
) -> Map<String, Value> {
    let mut out = Map::new();
    for (name, value) in defaults.iter().chain(request.iter()) {
        out.insert(name.clone(), seal(value, cipher));
    }
    out
}

fn seal(value: &Value, cipher: &dyn SecretCipher) -> Value {
    match value {
        // Already sealed (a continued task's variables, a schedule's payload): keep it.
        Value::Object(o)
            if o.get("secret") == Some(&Value::Bool(true))
                && o.contains_key("sealed")
                && !o.contains_key("value") =>
        {
            value.clone()
        }
        Value::Object(o) if o.get("secret") == Some(&Value::Bool(true)) => {
            let plain = match o.get("value") {
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
                None => String::new(),
            };
            serde_json::json!({"secret": true, "sealed": cipher.seal(&plain)})
        }
        other => other.clone(),
    }
}

/// The variables as plain values for rendering, secrets opened.
fn open_all(
    vars: &Map<String, Value>,
    cipher: &dyn SecretCipher,
) -> Result<Map<String, Value>, EngineError> {
    let mut out = Map::new();
    for (name, value) in vars {
        let plain = match value {
            Value::Object(o) if o.get("secret") == Some(&Value::Bool(true)) => {
                let sealed = o.get("sealed").and_then(Value::as_str).unwrap_or_default();
                Value::String(
                    cipher
                        .open(sealed)
                        .map_err(|e| EngineError::internal(format!("variable `{name}`"), e))?,
                )
            }
            other => other.clone(),
        };
        out.insert(name.clone(), plain);
    }
    Ok(out)
}

/// The variables with secret values hidden, for answers and traces.
pub fn redacted(vars: &Map<String, Value>) -> Map<String, Value> {
    vars.iter()
        .map(|(k, v)| match v {
            Value::Object(o) if o.get("secret") == Some(&Value::Bool(true)) => {
                (k.clone(), serde_json::json!({"secret": true}))
            }
            other => (k.clone(), other.clone()),
        })
        .collect()
}

/// Renders one template with the agent's engine.
pub fn render(
    template: &str,
    engine: TemplateEngine,
    vars: &Map<String, Value>,
    cipher: &dyn SecretCipher,
) -> Result<String, EngineError> {
    if !template.contains("{{") && !template.contains("{%") {
        return Ok(template.to_owned());
    }
    let vars = open_all(vars, cipher)?;
    match engine {
        TemplateEngine::Text | TemplateEngine::Mustache => Ok(template::render(template, &vars)),
        TemplateEngine::Jinja => {
            let env = minijinja::Environment::new();
            env.render_str(template, Value::Object(vars))
                .map_err(|e| EngineError::Invalid {
                    field: "instructions".into(),
                    message: format!("jinja template: {e}"),
                })
        }
    }
}

/// The system prompt of a run: `system_prompt` if set, then the instructions.
pub fn system_prompt(
    spec: &AgentSpec,
    vars: &Map<String, Value>,
    cipher: &dyn SecretCipher,
) -> Result<String, EngineError> {
    let instructions = render(&spec.instructions, spec.engine, vars, cipher)?;
    match &spec.system_prompt {
        Some(system) => {
            let system = render(system, spec.engine, vars, cipher)?;
            Ok(if instructions.is_empty() {
                system
            } else {
                format!("{system}\n\n{instructions}")
            })
        }
        None => Ok(instructions),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use baton_core::store::SecretError;
    use serde_json::json;

    struct Rot;
    impl SecretCipher for Rot {
        fn seal(&self, plain: &str) -> String {
            format!("enc:v1:{}", plain.chars().rev().collect::<String>())
        }
        fn open(&self, sealed: &str) -> Result<String, SecretError> {
            Ok(sealed.trim_start_matches("enc:v1:").chars().rev().collect())
        }
        fn seal_bound(&self, plain: &str, _: &str) -> String {
            self.seal(plain)
        }
        fn open_bound(&self, sealed: &str, _: &str) -> Result<String, SecretError> {
            self.open(sealed)
        }
    }

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn sealed_values_survive_a_second_merge() {
        let cipher = Rot;
        let first = merge_variables(
            &Map::new(),
            &map(json!({"token": {"secret": true, "value": "s3cret"}})),
            &cipher,
        );
        let again = merge_variables(&first, &map(json!({"extra": 1})), &cipher);
        assert_eq!(again["token"], first["token"]);
        let opened = open_all(&again, &cipher).unwrap();
        assert_eq!(opened["token"], "s3cret");
    }

    #[test]
    fn request_variables_override_defaults_and_secrets_are_sealed() {
        let vars = merge_variables(
            &map(json!({"name": "Ann", "tone": "dry"})),
            &map(json!({"name": "Bob", "token": {"secret": true, "value": "s3cret"}})),
            &Rot,
        );
        assert_eq!(vars["name"], "Bob");
        assert!(!Value::Object(vars.clone()).to_string().contains("s3cret"));
        let out = render(
            "Hi {{name}}, {{ tone }}; {{token}} {{missing}}",
            TemplateEngine::Text,
            &vars,
            &Rot,
        )
        .unwrap();
        assert_eq!(out, "Hi Bob, dry; s3cret {{missing}}");
        assert_eq!(redacted(&vars)["token"], json!({"secret": true}));
    }

    #[test]
    fn jinja_renders_logic() {
        let vars = map(json!({"items": ["a", "b"]}));
        let out = render(
            "{% for i in items %}{{ i }}{% endfor %}",
            TemplateEngine::Jinja,
            &vars,
            &Rot,
        )
        .unwrap();
        assert_eq!(out, "ab");
    }
}
