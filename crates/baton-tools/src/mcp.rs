//! MCP servers as tools, through `rmcp`: over stdio (a command the operator allowed) or
//! streamable HTTP (a URL under the outbound policy). Connections are pooled per stored tool
//! version, tools are discovered with `tools/list`, and a connection that breaks is dropped so the
//! next run reconnects.

use crate::policy::{OutboundPolicy, PolicyResolver};
use async_trait::async_trait;
use baton_core::handler::{ToolContext, ToolError, ToolHandler};
use baton_core::model::ToolDefinition;
use baton_core::secret::{stdio_origin, url_origin};
use baton_core::tool::{HeaderValue, McpConnection, McpDef};
use rmcp::model::{CallToolRequestParams, RequestMetaObject};
use rmcp::service::{RoleClient, RunningService, ServiceError};
use rmcp::transport::{StreamableHttpClientTransport, TokioChildProcess};
use rmcp::ServiceExt;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::OnceCell;

/// The `_meta` key of a tool call that carries its idempotency key.
pub const IDEMPOTENCY_META: &str = "idempotencyKey";

/// One tool an MCP server offers.
#[derive(Debug, Clone, PartialEq)]
pub struct McpToolInfo {
    /// Its name on the server.
    pub name: String,
    /// What it does.
    pub description: String,
    /// JSON schema of its arguments.
    pub input_schema: Value,
}

/// A live connection to an MCP server and the tools it listed.
pub struct McpConnectionHandle {
    service: RunningService<RoleClient, ()>,
    /// The server's tools.
    pub tools: Vec<McpToolInfo>,
}

pub use crate::McpSettings;

type Slot = Arc<OnceCell<Result<Arc<McpConnectionHandle>, Arc<ToolError>>>>;

/// A connection error shared by every caller that waited on the same attempt, as their own.
fn shared_error(error: Arc<ToolError>) -> ToolError {
    match &*error {
        ToolError::Denied(m) => ToolError::Denied(m.clone()),
        ToolError::Timeout(m) => ToolError::Timeout(m.clone()),
        ToolError::Unavailable(m) => ToolError::Unavailable(m.clone()),
        _ => ToolError::Upstream {
            message: error.to_string(),
            source: Some(Box::new(error)),
        },
    }
}

/// Pooled MCP connections, keyed by the stored tool's id and version.
pub struct McpPool {
    slots: Mutex<HashMap<String, Slot>>,
    policy: Arc<OutboundPolicy>,
    settings: McpSettings,
    /// Shared by every HTTP connection; without it (an error) MCP over HTTP fails closed.
    client: Result<reqwest_mcp::Client, String>,
}

/// The HTTP client of streamable-HTTP MCP connections: every DNS answer it connects to passes
/// the outbound policy (so a name cannot pass the check and then rebind to an internal
/// address), no proxy, and redirects only within the origin (custom headers, secrets among
/// them, would follow a redirect elsewhere).
pub fn mcp_client(policy: Arc<OutboundPolicy>) -> Result<reqwest_mcp::Client, String> {
    // This reqwest panics when it is built without a process-wide TLS provider; another part
    // of the process may have installed one already, either is fine.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest_mcp::Client::builder()
        .no_proxy()
        // As rmcp's own client: a reused idle connection stalls on delayed ACKs.
        .pool_max_idle_per_host(0)
        .dns_resolver(Arc::new(PolicyResolver(policy)))
        .redirect(reqwest_mcp::redirect::Policy::custom(|attempt| {
            let same_origin = attempt
                .previous()
                .first()
                .is_some_and(|first| first.origin() == attempt.url().origin());
            if !same_origin || attempt.previous().len() > 5 {
                attempt.stop()
            } else {
                attempt.follow()
            }
        }))
        .build()
        .map_err(|e| format!("the MCP HTTP client could not be built: {e}"))
}

impl McpPool {
    /// An empty pool.
    pub fn new(policy: Arc<OutboundPolicy>, settings: McpSettings) -> Self {
        Self {
            slots: Mutex::new(HashMap::new()),
            client: mcp_client(policy.clone()),
            policy,
            settings,
        }
    }

    fn slot(&self, key: &str) -> Slot {
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        slots.entry(key.to_owned()).or_default().clone()
    }

    /// Drops a connection (if it is still the pooled one) so the next use reconnects.
    pub fn evict(&self, key: &str, handle: Option<&Arc<McpConnectionHandle>>) {
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        let same = match (slots.get(key).and_then(|s| s.get()), handle) {
            (Some(Ok(current)), Some(handle)) => Arc::ptr_eq(current, handle),
            _ => true,
        };
        if same {
            slots.remove(key);
        }
    }

    /// The connection for `key`, connecting (once, shared by concurrent callers) if needed.
    pub async fn connect(
        &self,
        key: &str,
        def: &McpDef,
        ctx: &ToolContext<'_>,
    ) -> Result<Arc<McpConnectionHandle>, ToolError> {
        let slot = self.slot(key);
        let result = slot
            .get_or_init(|| async {
                match tokio::time::timeout(self.settings.connect_timeout, self.open(def, ctx)).await
                {
                    Ok(r) => r.map(Arc::new).map_err(Arc::new),
                    Err(_) => Err(Arc::new(ToolError::Timeout(format!(
                        "the MCP server did not answer within {} s",
                        self.settings.connect_timeout.as_secs()
                    )))),
                }
            })
            .await
            .clone();
        if result.is_err() {
            // Failures are not cached: the next run tries again.
            self.evict(key, None);
        }
        result.map_err(shared_error)
    }

    #[allow(clippy::disallowed_methods)] // the stdio transport is where child processes belong
    async fn open(
        &self,
        def: &McpDef,
        ctx: &ToolContext<'_>,
    ) -> Result<McpConnectionHandle, ToolError> {
        let service = match def.connection_type {
            McpConnection::Stdio => {
                let Some((program, args)) = def.command.split_first() else {
                    return Err(ToolError::Unavailable(
                        "the MCP server has no command".into(),
                    ));
                };
                let name = std::path::Path::new(program)
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let allowed = self
                    .settings
                    .stdio_commands
                    .iter()
                    .any(|c| c == "*" || c == program || *c == name);
                if !allowed {
                    return Err(ToolError::Denied(format!(
                        "stdio MCP server `{program}` is not allowed on this server; an operator can allow it in baton.toml under [tools] mcp_stdio_commands"
                    )));
                }
                let mut command = tokio::process::Command::new(program);
                command
                    .args(args)
                    .env_clear()
                    .envs(self.settings.stdio_env.iter().map(|(k, v)| (k, v)))
                    .kill_on_drop(true);
                let origin = stdio_origin(&def.command);
                for (name, value) in &def.headers {
                    // Stdio servers take their settings as environment variables.
                    command.env(name, header_value(value, &origin, ctx)?);
                }
                let (transport, _stderr) = TokioChildProcess::builder(command)
                    .stderr(Stdio::null())
                    .spawn()
                    .map_err(|e| ToolError::Upstream {
                        message: format!("cannot start MCP server `{program}`: {e}"),
                        source: Some(Box::new(e)),
                    })?;
                ().serve(transport).await.map_err(|e| ToolError::Upstream {
                    message: format!("MCP server `{program}` failed to initialize: {e}"),
                    source: Some(Box::new(e)),
                })?
            }
            McpConnection::Http | McpConnection::Sse => {
                let url = def.server_url.clone().unwrap_or_default();
                let parsed = reqwest::Url::parse(&url).map_err(|e| {
                    ToolError::Unavailable(format!("invalid MCP server_url `{url}`: {e}"))
                })?;
                let host = parsed.host_str().unwrap_or_default();
                let port = parsed.port_or_known_default().unwrap_or(80);
                self.policy.resolve(host, port).await?;
                let mut config =
                    rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig::with_uri(
                        url.clone(),
                    );
                let origin = url_origin(&parsed).unwrap_or_default();
                let mut custom = HashMap::new();
                for (name, value) in &def.headers {
                    let value = header_value(value, &origin, ctx)?;
                    if name.eq_ignore_ascii_case("authorization") {
                        let token = value
                            .strip_prefix("Bearer ")
                            .or_else(|| value.strip_prefix("bearer "))
                            .unwrap_or(&value);
                        config = config.auth_header(token.to_owned());
                        continue;
                    }
                    let header_name = reqwest::header::HeaderName::from_bytes(name.as_bytes())
                        .map_err(|_| {
                            ToolError::Unavailable(format!("invalid header name `{name}`"))
                        })?;
                    let header_value =
                        reqwest::header::HeaderValue::from_str(&value).map_err(|_| {
                            ToolError::Unavailable(format!("invalid value for header `{name}`"))
                        })?;
                    custom.insert(header_name, header_value);
                }
                let config = config.custom_headers(custom);
                let client = self.client.clone().map_err(ToolError::Unavailable)?;
                let transport = StreamableHttpClientTransport::with_client(client, config);
                ().serve(transport).await.map_err(|e| ToolError::Upstream {
                    message: format!("cannot connect to MCP server {url}: {e}"),
                    source: Some(Box::new(e)),
                })?
            }
        };
        let listed = service
            .peer()
            .list_all_tools()
            .await
            .map_err(|e| ToolError::Upstream {
                message: format!("the MCP server could not list its tools: {e}"),
                source: Some(Box::new(e)),
            })?;
        let tools = listed
            .into_iter()
            .map(|t| McpToolInfo {
                name: t.name.to_string(),
                description: t.description.map(|d| d.to_string()).unwrap_or_default(),
                input_schema: Value::Object((*t.input_schema).clone()),
            })
            .collect();
        Ok(McpConnectionHandle { service, tools })
    }
}

fn header_value(
    value: &HeaderValue,
    origin: &str,
    ctx: &ToolContext<'_>,
) -> Result<String, ToolError> {
    match value {
        HeaderValue::Plain(v) | HeaderValue::Unencrypted(v) => Ok(v.clone()),
        HeaderValue::Secret(secret) => {
            secret
                .reveal(ctx.cipher, origin)
                .map_err(|e| ToolError::Secret {
                    what: "a header is not sent".into(),
                    source: Box::new(e),
                })
        }
    }
}

/// The definition the model sees for one MCP tool.
pub fn definition(tool: &McpToolInfo) -> ToolDefinition {
    let mut parameters = tool.input_schema.clone();
    if !parameters.is_object() {
        parameters = json!({"type": "object", "properties": {}});
    }
    ToolDefinition {
        name: tool.name.clone(),
        description: tool.description.clone(),
        parameters,
    }
}

/// One tool of a connected MCP server.
pub struct McpTool {
    pool: Arc<McpPool>,
    key: String,
    connection: Arc<McpConnectionHandle>,
    name: String,
    timeout: Duration,
}

impl McpTool {
    /// The tool `name` of the connection pooled under `key`.
    pub fn new(
        pool: Arc<McpPool>,
        key: String,
        connection: Arc<McpConnectionHandle>,
        name: String,
        timeout: Duration,
    ) -> Self {
        Self {
            pool,
            key,
            connection,
            name,
            timeout,
        }
    }
}

/// Calls one tool on a connection, turning the MCP result into JSON for the model.
pub async fn call_tool(
    connection: &McpConnectionHandle,
    name: &str,
    arguments: Value,
    timeout: Duration,
    idempotency_key: Option<&str>,
) -> Result<Value, (ToolError, bool)> {
    let arguments = match arguments {
        Value::Object(map) => map,
        Value::Null => Default::default(),
        other => {
            return Err((
                ToolError::InvalidArguments(format!("arguments must be an object, got {other}")),
                false,
            ))
        }
    };
    let mut params = CallToolRequestParams::new(name.to_owned()).with_arguments(arguments);
    if let Some(key) = idempotency_key {
        // Every attempt of one call carries the same key, so a server can tell a repeat.
        let mut meta = RequestMetaObject::new();
        meta.0
            .insert(IDEMPOTENCY_META.into(), Value::String(key.to_owned()));
        params.meta = Some(meta);
    }
    let call = connection.service.peer().call_tool(params);
    let result = match tokio::time::timeout(timeout, call).await {
        Ok(Ok(result)) => result,
        Ok(Err(e)) => {
            let broken = matches!(
                e,
                ServiceError::TransportClosed | ServiceError::TransportSend(_)
            );
            let error = ToolError::Upstream {
                message: format!("MCP call `{name}` failed: {e}"),
                source: Some(Box::new(e)),
            };
            return Err((error, broken));
        }
        Err(_) => {
            return Err((
                ToolError::Timeout(format!(
                    "MCP tool `{name}` did not answer within {} s",
                    timeout.as_secs()
                )),
                false,
            ))
        }
    };
    let value = serde_json::to_value(&result).unwrap_or(Value::Null);
    let texts: Vec<String> = value
        .get("content")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|c| c.get("text").and_then(Value::as_str).map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    if value.get("isError").and_then(Value::as_bool) == Some(true) {
        return Err((
            ToolError::Execution(format!(
                "MCP tool `{name}` reported an error: {}",
                texts.join("\n")
            )),
            false,
        ));
    }
    if let Some(structured) = value.get("structuredContent").filter(|v| !v.is_null()) {
        return Ok(structured.clone());
    }
    match texts.as_slice() {
        [one] => Ok(serde_json::from_str(one).unwrap_or_else(|_| Value::String(one.clone()))),
        _ => Ok(value.get("content").cloned().unwrap_or(Value::Null)),
    }
}

#[async_trait]
impl ToolHandler for McpTool {
    async fn call(&self, arguments: Value, ctx: &ToolContext<'_>) -> Result<Value, ToolError> {
        let key = ctx.idempotency_key.as_deref();
        match call_tool(&self.connection, &self.name, arguments, self.timeout, key).await {
            Ok(v) => Ok(v),
            Err((message, broken)) => {
                if broken {
                    self.pool.evict(&self.key, Some(&self.connection));
                }
                Err(message)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A loopback server answering every connection with `200 ok`.
    async fn answering_server() -> u16 {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let mut buf = [0u8; 4096];
                let _ = socket.read(&mut buf).await;
                let _ = socket
                    .write_all(
                        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
                    )
                    .await;
            }
        });
        port
    }

    #[tokio::test]
    async fn the_mcp_connection_itself_resolves_under_the_policy() {
        let port = answering_server().await;
        let url = format!("http://localhost:{port}/mcp");
        // The address is checked where rmcp's requests connect, not only in a check before.
        let refused = mcp_client(Arc::new(OutboundPolicy::default()))
            .unwrap()
            .get(&url)
            .send()
            .await
            .unwrap_err();
        let chain = format!("{:?}", refused);
        assert!(chain.contains("outbound policy refuses"), "{chain}");

        let allowed = OutboundPolicy {
            allow_loopback: true,
            ..Default::default()
        };
        let answer = mcp_client(Arc::new(allowed))
            .unwrap()
            .get(&url)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status().as_u16(), 200);
    }
}
