//! Scopes: what a caller may do. API keys carry a role (`admin`, `project`, `run`); a JWT's end
//! user may only run agents and read its own tasks unless its `scope` claim grants more.
//!
//! Every route names the scope it needs in one table ([`required`]); a route missing from it
//! needs `admin`, so a new route is closed until it is placed.

use crate::auth::Caller;
use crate::error::ApiError;
use axum::extract::{MatchedPath, Request};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use baton_core::store::KeyScope;

/// One permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Run agents: create and continue tasks, stream and cancel them, read them and threads.
    AgentsRun,
    /// Read the project: agents, tools, memory stores, knowledge, schedules, every task and
    /// thread, traces and usage.
    Read,
    /// Create, change and delete agents.
    AgentsWrite,
    /// Create, change, delete and invoke tools.
    ToolsWrite,
    /// Change memory stores and their memories.
    MemoryWrite,
    /// Change knowledge bases and their contents.
    KnowledgeWrite,
    /// Create, change, delete and fire schedules.
    SchedulesWrite,
    /// Manage API keys and act in any project (API keys only).
    Admin,
}

impl Scope {
    /// Every scope a token may be granted, in the order documented.
    const GRANTABLE: [Scope; 7] = [
        Self::AgentsRun,
        Self::Read,
        Self::AgentsWrite,
        Self::ToolsWrite,
        Self::MemoryWrite,
        Self::KnowledgeWrite,
        Self::SchedulesWrite,
    ];

    /// The name in a token's `scope` claim.
    pub fn name(self) -> &'static str {
        match self {
            Self::AgentsRun => "agents:run",
            Self::Read => "read",
            Self::AgentsWrite => "agents:write",
            Self::ToolsWrite => "tools:write",
            Self::MemoryWrite => "memory:write",
            Self::KnowledgeWrite => "knowledge:write",
            Self::SchedulesWrite => "schedules:write",
            Self::Admin => "admin",
        }
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

/// A set of scopes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Scopes(u16);

impl Scopes {
    /// What an API key of this role may do.
    pub fn of_key(role: KeyScope) -> Self {
        let run = Self::default().with(Scope::AgentsRun).with(Scope::Read);
        match role {
            KeyScope::Run => run,
            KeyScope::Project => Scope::GRANTABLE
                .into_iter()
                .fold(Self::default(), Self::with),
            KeyScope::Admin => Self::of_key(KeyScope::Project).with(Scope::Admin),
        }
    }

    /// What a JWT may do: run agents, plus what its `scope` claim (space-separated) grants.
    /// Unknown names are ignored; `admin` is never granted by a token.
    pub fn of_token(claim: Option<&str>) -> Self {
        let mut scopes = Self::default().with(Scope::AgentsRun);
        for name in claim.unwrap_or_default().split_ascii_whitespace() {
            if let Some(scope) = Scope::GRANTABLE.into_iter().find(|s| s.name() == name) {
                scopes = scopes.with(scope);
            }
        }
        scopes
    }

    /// This set plus `scope`.
    pub fn with(self, scope: Scope) -> Self {
        Self(self.0 | scope.bit())
    }

    /// Whether the set holds `scope`.
    pub fn has(self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }
}

/// The scope a route needs.
fn required(method: &Method, path: &str) -> Scope {
    let read = matches!(*method, Method::GET | Method::HEAD);
    // Checked on every request: no allocation.
    let section = |prefix: &str| {
        path.strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    };
    if path.starts_with("/v2/agents/{agent_key}/responses")
        || section("/v2/threads")
        || section("/v2/tasks")
        || path == "/api/agents/{agent_id}/invoke"
        || section("/api/llm")
        || section("/api/threads")
        || path == "/mcp"
        || matches!(
            path,
            "/v1/chat/completions" | "/v1/responses" | "/v1/responses/{response_id}"
        )
    {
        Scope::AgentsRun
    } else if read
        || (*method == Method::POST
            && matches!(
                path,
                "/v2/knowledge/{kb}/search" | "/v3/traces/search" | "/v3/schedules/preview"
            ))
    {
        if section("/v2/api-keys") {
            Scope::Admin
        } else {
            Scope::Read
        }
    } else if section("/v3/agents/{agent_key}/schedules") || path == "/api/schedules" {
        Scope::SchedulesWrite
    } else if section("/v2/agents") || section("/api/assistants") {
        Scope::AgentsWrite
    } else if section("/v2/tools") || section("/api/tools") {
        Scope::ToolsWrite
    } else if section("/v2/memory-stores") {
        Scope::MemoryWrite
    } else if section("/v2/knowledge") {
        Scope::KnowledgeWrite
    } else {
        Scope::Admin
    }
}

/// Whether `caller` may call the route `method path` (a route template such as
/// `/v2/agents/{agent_key}`); the 403 naming the missing scope otherwise. Other surfaces that
/// show what a route shows (the MCP server's tool list) ask this too.
pub(crate) fn permits(
    caller: Option<&Caller>,
    method: &Method,
    path: &str,
) -> Result<(), ApiError> {
    let needed = required(method, path);
    if caller.is_some_and(|c| c.scopes.has(needed)) {
        return Ok(());
    }
    Err(ApiError::forbidden(format!(
        "this credential lacks the `{}` scope needed for {method} {path}",
        needed.name(),
    )))
}

/// Refuses a request whose caller lacks the scope its route needs (403 naming the scope).
pub async fn require_scope(req: Request, next: Next) -> Result<Response, ApiError> {
    let path = req.extensions().get::<MatchedPath>().cloned(); // a shared string: no copy
    let path = path.as_ref().map_or("", MatchedPath::as_str);
    permits(req.extensions().get::<Caller>(), req.method(), path)?;
    Ok(next.run(req).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_of_a_section_needs_its_scope() {
        let cases = [
            (
                Method::POST,
                "/v2/agents/{agent_key}/responses",
                Scope::AgentsRun,
            ),
            (
                Method::GET,
                "/v2/agents/{agent_key}/responses/{task_id}/stream",
                Scope::AgentsRun,
            ),
            (Method::GET, "/v2/threads/{thread_id}", Scope::AgentsRun),
            (Method::POST, "/mcp", Scope::AgentsRun),
            (Method::GET, "/mcp", Scope::AgentsRun),
            (Method::POST, "/v1/chat/completions", Scope::AgentsRun),
            (Method::POST, "/v1/responses", Scope::AgentsRun),
            (Method::GET, "/v1/responses/{response_id}", Scope::AgentsRun),
            (Method::GET, "/v1/models", Scope::Read),
            (Method::GET, "/v2/agents", Scope::Read),
            (Method::POST, "/v2/agents", Scope::AgentsWrite),
            (Method::PATCH, "/v2/agents/{agent_key}", Scope::AgentsWrite),
            (
                Method::POST,
                "/v2/tools/{tool_id}/invoke",
                Scope::ToolsWrite,
            ),
            (Method::POST, "/api/tools", Scope::ToolsWrite),
            (Method::POST, "/api/llm/invoke", Scope::AgentsRun),
            (Method::POST, "/api/llm/stream", Scope::AgentsRun),
            (Method::GET, "/api/threads/{thread_id}", Scope::AgentsRun),
            (Method::POST, "/api/assistants", Scope::AgentsWrite),
            (
                Method::DELETE,
                "/api/assistants/{assistant_id}",
                Scope::AgentsWrite,
            ),
            (Method::GET, "/api/assistants", Scope::Read),
            (
                Method::POST,
                "/api/agents/{agent_id}/invoke",
                Scope::AgentsRun,
            ),
            (Method::GET, "/api/agents/{agent_id}/schema", Scope::Read),
            (Method::POST, "/v2/knowledge/{kb}/search", Scope::Read),
            (Method::DELETE, "/v2/knowledge/{kb}", Scope::KnowledgeWrite),
            (Method::POST, "/v2/memory-stores", Scope::MemoryWrite),
            (Method::GET, "/v3/agents/{agent_key}/schedules", Scope::Read),
            (
                Method::POST,
                "/v3/agents/{agent_key}/schedules/{schedule_id}/execution",
                Scope::SchedulesWrite,
            ),
            (Method::POST, "/v3/traces/search", Scope::Read),
            (Method::POST, "/v3/schedules/preview", Scope::Read),
            (Method::GET, "/v2/api-keys", Scope::Admin),
            (Method::DELETE, "/v2/api-keys/{key_id}", Scope::Admin),
            (Method::POST, "/v9/unplaced", Scope::Admin),
        ];
        for (method, path, scope) in cases {
            assert_eq!(required(&method, path), scope, "{method} {path}");
        }
    }

    #[test]
    fn roles_and_token_claims() {
        let run = Scopes::of_key(KeyScope::Run);
        assert!(run.has(Scope::AgentsRun) && run.has(Scope::Read));
        assert!(!run.has(Scope::ToolsWrite) && !run.has(Scope::Admin));
        let project = Scopes::of_key(KeyScope::Project);
        assert!(project.has(Scope::SchedulesWrite) && !project.has(Scope::Admin));
        assert!(Scopes::of_key(KeyScope::Admin).has(Scope::Admin));
        let token = Scopes::of_token(None);
        assert_eq!(token, Scopes::default().with(Scope::AgentsRun));
        let token = Scopes::of_token(Some("tools:write  admin bogus read"));
        assert!(token.has(Scope::ToolsWrite) && token.has(Scope::Read));
        assert!(!token.has(Scope::Admin) && !token.has(Scope::AgentsWrite));
    }
}
