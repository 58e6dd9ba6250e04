//! The CLI's API client: every subcommand but `serve` talks to a server's REST API over HTTP
//! and never opens the database. One module per noun; this one holds what they share.

pub(crate) mod agents;
pub(crate) mod keys;
pub(crate) mod run;
pub(crate) mod schedules;
pub(crate) mod tasks;
pub(crate) mod traces;

use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::future::Future;
use std::io::IsTerminal;
use std::time::Duration;

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Output {
    /// Tables and plain lines for people.
    Table,
    /// The API's JSON, for scripts.
    Json,
}

/// Where the server is and how to reach it, shared by every client subcommand.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct Connection {
    /// The server's base URL.
    #[arg(
        long,
        env = "BATON_URL",
        default_value = "http://127.0.0.1:8080",
        global = true
    )]
    url: String,
    /// The API key to send.
    #[arg(long, env = "BATON_API_KEY", hide_env_values = true, global = true)]
    api_key: Option<String>,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = Output::Table, global = true)]
    output: Output,
}

/// Why a client subcommand failed: the message is printed as is.
#[derive(Debug)]
pub(crate) struct CliError(pub(crate) String);

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Builds a [`CliError`] from anything printable.
pub(crate) fn fail(message: impl Into<String>) -> CliError {
    CliError(message.into())
}

/// A client of one server with one key.
pub(crate) struct Client {
    http: reqwest::Client,
    base: String,
    key: String,
    /// How results are printed.
    pub(crate) output: Output,
}

impl Client {
    /// A client for the connection, or why there can be none (no key, bad URL).
    pub(crate) fn new(connection: &Connection) -> Result<Self, CliError> {
        let key = connection
            .api_key
            .clone()
            .filter(|k| !k.trim().is_empty())
            .ok_or_else(|| fail("no API key: set BATON_API_KEY or pass --api-key"))?;
        let base = connection.url.trim_end_matches('/').to_owned();
        url::Url::parse(&base).map_err(|e| fail(format!("--url `{base}`: {e}")))?;
        let http = reqwest::Client::builder()
            // HTTP/1.1 only, as before the workspace's reqwest could speak HTTP/2.
            .http1_only()
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| fail(format!("cannot build an HTTP client: {e}")))?;
        Ok(Self {
            http,
            base,
            key,
            output: connection.output,
        })
    }

    /// Sends a request and returns the response if it succeeded, else the server's error.
    pub(crate) async fn request(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<reqwest::Response, CliError> {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.key);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(|e| self.unreachable(e))?;
        if response.status().is_success() {
            return Ok(response);
        }
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        Err(server_error(status, &text))
    }

    /// Sends a request and reads its JSON answer (`Null` for an empty one).
    pub(crate) async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, CliError> {
        let response = self.request(method, path, body).await?;
        let text = response
            .text()
            .await
            .map_err(|e| fail(format!("reading the server's answer: {e}")))?;
        if text.trim().is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_str(&text)
            .map_err(|e| fail(format!("the server's answer is not JSON: {e}")))
    }

    /// `GET path`.
    pub(crate) async fn get(&self, path: &str) -> Result<Value, CliError> {
        self.call(Method::GET, path, None).await
    }

    fn unreachable(&self, e: reqwest::Error) -> CliError {
        if e.is_connect() || e.is_timeout() {
            fail(format!(
                "cannot reach the server at {} ({}); start one with `baton serve` or set --url / BATON_URL",
                self.base,
                root_cause(&e)
            ))
        } else {
            fail(format!(
                "request to {} failed: {}",
                self.base,
                root_cause(&e)
            ))
        }
    }

    /// Prints `value` as JSON when JSON was asked for; `true` if it did.
    pub(crate) fn printed_json(&self, value: &Value) -> bool {
        if self.output == Output::Json {
            println!(
                "{}",
                serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
            );
            true
        } else {
            false
        }
    }

    /// Runs `work` with a spinner on stderr saying `message`, when stderr is a terminal and
    /// a person reads the output.
    pub(crate) async fn waiting<T>(&self, message: &str, work: impl Future<Output = T>) -> T {
        if self.output == Output::Json || !std::io::stderr().is_terminal() {
            return work.await;
        }
        let spinner = indicatif::ProgressBar::new_spinner();
        spinner.set_message(message.to_owned());
        spinner.enable_steady_tick(Duration::from_millis(100));
        let out = work.await;
        spinner.finish_and_clear();
        out
    }
}

/// The innermost cause of a transport error (reqwest's own message is only "error sending…").
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// The server's error as one line: its status and the message of its JSON error body.
fn server_error(status: StatusCode, body: &str) -> CliError {
    let json: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let message = json["error"]["message"]
        .as_str()
        .or_else(|| json["message"].as_str())
        .map(str::to_owned)
        .unwrap_or_else(|| body.trim().chars().take(300).collect());
    let param = json["error"]["param"]
        .as_str()
        .filter(|p| !message.contains(&format!("{p}:")))
        .map(|p| format!(" (field `{p}`)"))
        .unwrap_or_default();
    fail(format!("server answered {status}: {message}{param}"))
}

/// Percent-encodes one path segment or query value.
pub(crate) fn encode(raw: &str) -> String {
    url::form_urlencoded::byte_serialize(raw.as_bytes()).collect()
}

/// A table with a header row, printed to stdout.
pub(crate) fn print_table(header: &[&str], rows: Vec<Vec<String>>) {
    let mut table = comfy_table::Table::new();
    table.load_preset(comfy_table::presets::NOTHING);
    table.set_header(header.iter().map(|h| h.to_uppercase()));
    for row in rows {
        table.add_row(row);
    }
    println!("{table}");
}

/// `key: value` lines, printed to stdout.
pub(crate) fn print_fields(fields: &[(&str, String)]) {
    let width = fields.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    for (key, value) in fields {
        println!("{key:width$}  {value}");
    }
}

/// A JSON value as a table cell: strings bare, nothing as `-`.
pub(crate) fn cell(value: &Value) -> String {
    match value {
        Value::Null => "-".to_owned(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Parses `k=v` pairs into a JSON object of strings.
pub(crate) fn key_values(pairs: &[String]) -> Result<serde_json::Map<String, Value>, CliError> {
    pairs
        .iter()
        .map(|pair| {
            let (key, value) = pair
                .split_once('=')
                .filter(|(k, _)| !k.is_empty())
                .ok_or_else(|| fail(format!("--var `{pair}`: expected key=value")))?;
            Ok((key.to_owned(), Value::String(value.to_owned())))
        })
        .collect()
}
