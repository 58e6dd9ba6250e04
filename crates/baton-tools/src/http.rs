//! HTTP tools: a blueprint request with `{{argument}}` placeholders, filled from the model's
//! arguments, the run's variables and defaults, sent under the outbound policy.

use crate::policy::{OutboundPolicy, PolicyResolver};
use async_trait::async_trait;
use baton_core::handler::{ToolContext, ToolError, ToolHandler};
use baton_core::secret::url_origin;
use baton_core::template;
use baton_core::tool::{ArgumentType, HeaderValue, HttpDef, HttpMethod};
use futures_util::StreamExt;
use serde_json::{json, Map, Value};
use std::sync::Arc;
use std::time::Duration;

/// The header that carries a call's idempotency key.
const IDEMPOTENCY_KEY: &str = "Idempotency-Key";

/// Builds the HTTP client every HTTP tool shares: policy-checked DNS, checked redirects, no proxy.
pub fn client(policy: Arc<OutboundPolicy>) -> reqwest::Client {
    let redirect_policy = policy.clone();
    let builder = reqwest::Client::builder()
        // HTTP/1.1 only, as before the workspace's reqwest could speak HTTP/2.
        .http1_only()
        .no_proxy()
        .user_agent(concat!("baton/", env!("CARGO_PKG_VERSION")))
        .dns_resolver(Arc::new(PolicyResolver(policy)))
        .redirect(reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() >= 5 {
                return attempt.error("too many redirects (more than 5)");
            }
            // Names are checked by the resolver; literal addresses never reach it.
            let literal = attempt
                .url()
                .host_str()
                .map(|h| h.trim_start_matches('[').trim_end_matches(']').to_owned())
                .and_then(|h| h.parse::<std::net::IpAddr>().ok().map(|ip| (h, ip)));
            if let Some((host, ip)) = literal {
                if !redirect_policy.host_is_allowed(&host) {
                    if let Err(e) = redirect_policy.check_ip(ip) {
                        return attempt.error(format!("redirect refused: {e}"));
                    }
                }
            }
            attempt.follow()
        }));
    builder.build().unwrap_or_else(|e| {
        tracing::error!(error = %e, "HTTP tool client could not be built; using defaults");
        reqwest::Client::new()
    })
}

/// The JSON schema of the arguments the model fills.
pub fn parameters(def: &HttpDef) -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for (name, arg) in &def.arguments {
        if !arg.send_to_model {
            continue;
        }
        let kind = match arg.kind {
            ArgumentType::String => "string",
            ArgumentType::Number => "number",
            ArgumentType::Boolean => "boolean",
        };
        properties.insert(
            name.clone(),
            json!({"type": kind, "description": arg.description}),
        );
        if arg.default_value.is_none() {
            required.push(Value::String(name.clone()));
        }
    }
    json!({"type": "object", "properties": properties, "required": required})
}

/// An HTTP tool ready to run.
pub struct HttpTool {
    def: HttpDef,
    client: reqwest::Client,
    policy: Arc<OutboundPolicy>,
    timeout: Duration,
    max_response_bytes: usize,
}

impl HttpTool {
    /// Wraps a definition; `timeout` overrides the blueprint's.
    pub fn new(
        def: HttpDef,
        client: reqwest::Client,
        policy: Arc<OutboundPolicy>,
        timeout: Duration,
        max_response_bytes: usize,
    ) -> Self {
        Self {
            def,
            client,
            policy,
            timeout,
            max_response_bytes,
        }
    }

    /// The value of every argument: the model's (when it may fill it), the request's variables,
    /// then the default.
    fn values(
        &self,
        arguments: &Value,
        ctx: &ToolContext<'_>,
    ) -> Result<Map<String, Value>, ToolError> {
        let mut out = Map::new();
        for (name, arg) in &self.def.arguments {
            let from_model = if arg.send_to_model {
                arguments.get(name).filter(|v| !v.is_null()).cloned()
            } else {
                None
            };
            let value = match from_model {
                Some(v) => Some(v),
                None => match ctx.variable(name)? {
                    Some(v) => Some(v),
                    None => arg.default_value.clone(),
                },
            };
            let Some(value) = value else {
                return Err(if arg.send_to_model {
                    ToolError::InvalidArguments(format!("missing argument `{name}`"))
                } else {
                    ToolError::Unavailable(format!(
                        "argument `{name}` is hidden from the model and has no value: pass it in the request's variables or give it a default_value"
                    ))
                });
            };
            out.insert(name.clone(), value);
        }
        Ok(out)
    }

    /// Builds the request the blueprint describes.
    pub fn build(
        &self,
        arguments: &Value,
        ctx: &ToolContext<'_>,
    ) -> Result<reqwest::Request, ToolError> {
        let values = self.values(arguments, ctx)?;
        let blueprint = &self.def.blueprint;
        let url = fill(&blueprint.url, &values, true);
        let url = reqwest::Url::parse(&url)
            .map_err(|e| ToolError::InvalidArguments(format!("invalid URL `{url}`: {e}")))?;
        let method = match blueprint.method {
            HttpMethod::Get => reqwest::Method::GET,
            HttpMethod::Post => reqwest::Method::POST,
            HttpMethod::Put => reqwest::Method::PUT,
            HttpMethod::Delete => reqwest::Method::DELETE,
        };
        // A secret goes only to the origin it was entered for, whatever the placeholders made
        // of the URL.
        let origin = url_origin(&url).unwrap_or_default();
        let mut request = self.client.request(method, url).timeout(self.timeout);
        for (name, header) in &blueprint.headers {
            let value = match header {
                HeaderValue::Plain(v) | HeaderValue::Unencrypted(v) => fill(v, &values, false),
                HeaderValue::Secret(secret) => {
                    secret
                        .reveal(ctx.cipher, &origin)
                        .map_err(|e| ToolError::Secret {
                            what: format!("header `{name}` is not sent"),
                            source: Box::new(e),
                        })?
                }
            };
            request = request.header(name.as_str(), value);
        }
        // The same key on every attempt of one call lets the server drop a repeat; a key the
        // blueprint sets itself wins.
        let own_key = blueprint
            .headers
            .keys()
            .any(|name| name.eq_ignore_ascii_case(IDEMPOTENCY_KEY));
        if let Some(key) = ctx.idempotency_key.as_deref().filter(|_| !own_key) {
            request = request.header(IDEMPOTENCY_KEY, key);
        }
        if let Some(body) = &blueprint.body {
            request = request.json(&fill_json(&Value::Object(body.clone()), &values));
        }
        request.build().map_err(|e| ToolError::Upstream {
            message: format!("cannot build the request: {e}"),
            source: Some(Box::new(e)),
        })
    }

    async fn send(&self, request: reqwest::Request) -> Result<Value, ToolError> {
        check_literal_host(&self.policy, request.url())?;
        let url = request.url().clone();
        let response = self
            .client
            .execute(request)
            .await
            .map_err(|e| describe(e, &url))?;
        let status = response.status();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_ascii_lowercase();
        let mut body = Vec::new();
        let mut stream = response.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| describe(e, &url))?;
            if body.len() + chunk.len() > self.max_response_bytes {
                return Err(ToolError::upstream(format!(
                    "the response of {url} is larger than {} bytes",
                    self.max_response_bytes
                )));
            }
            body.extend_from_slice(&chunk);
        }
        let text = String::from_utf8(body).map_err(|_| {
            ToolError::upstream(format!(
                "the response of {url} is binary ({content_type}); only JSON or text is supported"
            ))
        })?;
        if !status.is_success() {
            let snippet: String = text.chars().take(500).collect();
            return Err(ToolError::HttpStatus {
                url: url.to_string(),
                status: status.as_u16(),
                body: snippet,
            });
        }
        if content_type.contains("json") {
            return serde_json::from_str(&text).map_err(|e| ToolError::Upstream {
                message: format!(
                    "the response of {url} says {content_type} but is not valid JSON: {e}"
                ),
                source: Some(Box::new(e)),
            });
        }
        Ok(serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }
}

/// Checks a URL whose host is an IP literal: literal addresses skip the policy's DNS resolver.
pub(crate) fn check_literal_host(
    policy: &OutboundPolicy,
    url: &reqwest::Url,
) -> Result<(), ToolError> {
    if let Some(host) = url.host_str() {
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = bare.parse::<std::net::IpAddr>() {
            if !policy.host_is_allowed(bare) {
                policy.check_ip(ip).map_err(ToolError::Denied)?;
            }
        }
    }
    Ok(())
}

/// A failed exchange, its causes spelled out (the model cannot follow a source chain).
pub(crate) fn describe(error: reqwest::Error, url: &reqwest::Url) -> ToolError {
    use std::error::Error as _;
    let mut message = if error.is_timeout() {
        format!("{url} did not answer in time")
    } else if error.is_connect() {
        format!("cannot connect to {url}")
    } else {
        format!("request to {url} failed")
    };
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    if error.is_timeout() {
        return ToolError::Timeout(message);
    }
    // The resolver's refusal, when the outbound policy stopped the connection.
    let mut source = error.source();
    while let Some(cause) = source {
        if let Some(ToolError::Denied(_)) = cause.downcast_ref::<ToolError>() {
            return ToolError::Denied(message);
        }
        source = cause.source();
    }
    ToolError::Upstream {
        message,
        source: Some(Box::new(error)),
    }
}

#[async_trait]
impl ToolHandler for HttpTool {
    async fn call(&self, arguments: Value, ctx: &ToolContext<'_>) -> Result<Value, ToolError> {
        let request = self.build(&arguments, ctx)?;
        self.send(request).await
    }
}

/// Percent-encodes a value for a URL (RFC 3986 unreserved characters pass through).
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Replaces `{{name}}` placeholders in a text; values are percent-encoded for URLs.
pub fn fill(template: &str, values: &Map<String, Value>, url: bool) -> String {
    template::render_with(template, |name| {
        let text = template::as_text(values.get(name)?);
        Some(if url { encode(&text) } else { text })
    })
}

/// Fills a JSON body: a string that is exactly one placeholder takes the argument's JSON value
/// (so numbers stay numbers); other strings are filled as text.
pub fn fill_json(template: &Value, values: &Map<String, Value>) -> Value {
    match template {
        Value::String(s) => {
            if let Some(name) = template::sole_placeholder(s) {
                if let Some(v) = values.get(name) {
                    return v.clone();
                }
            }
            Value::String(fill(s, values, false))
        }
        Value::Array(items) => Value::Array(items.iter().map(|v| fill_json(v, values)).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), fill_json(v, values)))
                .collect(),
        ),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values() -> Map<String, Value> {
        json!({"city": "São Paulo", "n": 3, "flag": true})
            .as_object()
            .cloned()
            .unwrap()
    }

    #[test]
    fn url_placeholders_are_encoded_and_unknown_ones_kept() {
        assert_eq!(
            fill("https://x/{{city}}?n={{ n }}&q={{other}}", &values(), true),
            "https://x/S%C3%A3o%20Paulo?n=3&q={{other}}"
        );
    }

    #[test]
    fn body_placeholders_keep_their_json_type() {
        let body = json!({"count": "{{n}}", "label": "city: {{city}}", "nested": ["{{flag}}"]});
        assert_eq!(
            fill_json(&body, &values()),
            json!({"count": 3, "label": "city: São Paulo", "nested": [true]})
        );
    }
}
