//! Agent Cards: an agent's A2A self-description, built from its description and tools.

use super::types::{
    A2aAgentCapabilities, A2aAgentCard, A2aAgentInterface, A2aAgentProvider, A2aAgentSkill,
    A2aApiKeySecurityScheme, A2aHttpAuthSecurityScheme, A2aSecurityRequirement, A2aSecurityScheme,
    A2aStringList, BINDING_HTTP_JSON, BINDING_JSONRPC, PROTOCOL_VERSION,
};
use axum::http::HeaderMap;
use baton_core::agent::AgentRecord;
use baton_core::agent::{AgentTool, ToolEntry};
use std::collections::BTreeMap;

/// The URL clients reached this server by: `X-Forwarded-Proto`/`X-Forwarded-Host` from a
/// proxy, else `Host` over http.
pub(crate) fn base_url(headers: &HeaderMap) -> String {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    let scheme = header("x-forwarded-proto").unwrap_or("http");
    let host = header("x-forwarded-host")
        .or_else(|| header("host"))
        .unwrap_or("localhost");
    format!("{scheme}://{host}")
}

/// The path of an agent's A2A endpoint (both bindings); its card is under
/// `/.well-known/agent-card.json` below it.
pub(crate) fn endpoint_path(agent_key: &str) -> String {
    format!("/a2a/{agent_key}")
}

/// The card of `agent`, reached at `base`.
pub(crate) fn card(agent: &AgentRecord, base: &str, push_notifications: bool) -> A2aAgentCard {
    let spec = &agent.spec;
    let url = format!("{base}{}", endpoint_path(&spec.key));
    let interface = |binding: &str| A2aAgentInterface {
        url: url.clone(),
        protocol_binding: binding.to_owned(),
        protocol_version: PROTOCOL_VERSION.to_owned(),
    };
    let description = if spec.description.is_empty() {
        spec.role.clone()
    } else {
        spec.description.clone()
    };
    let mut skills = vec![A2aAgentSkill {
        id: spec.key.clone(),
        name: spec
            .display_name
            .clone()
            .unwrap_or_else(|| spec.role.clone()),
        description: description.clone(),
        tags: vec!["agent".into()],
    }];
    skills.extend(spec.settings.tools.iter().map(tool_skill));
    let scheme_names = ["bearer", "x_api_key"];
    A2aAgentCard {
        name: spec
            .display_name
            .clone()
            .unwrap_or_else(|| spec.key.clone()),
        description,
        supported_interfaces: vec![interface(BINDING_JSONRPC), interface(BINDING_HTTP_JSON)],
        provider: A2aAgentProvider {
            url: base.to_owned(),
            organization: "Baton".into(),
        },
        version: agent.version.to_string(),
        capabilities: A2aAgentCapabilities {
            streaming: true,
            push_notifications,
            extended_agent_card: false,
        },
        security_schemes: BTreeMap::from([
            (
                "bearer".to_owned(),
                A2aSecurityScheme {
                    http_auth_security_scheme: Some(A2aHttpAuthSecurityScheme {
                        description: "A Baton API key (or, when configured, a signed JWT): \
                            `Authorization: Bearer <key>`"
                            .into(),
                        scheme: "Bearer".into(),
                    }),
                    api_key_security_scheme: None,
                },
            ),
            (
                "x_api_key".to_owned(),
                A2aSecurityScheme {
                    http_auth_security_scheme: None,
                    api_key_security_scheme: Some(A2aApiKeySecurityScheme {
                        description: "A Baton API key in the `x-api-key` header".into(),
                        location: "header".into(),
                        name: "x-api-key".into(),
                    }),
                },
            ),
        ]),
        // Either scheme alone authenticates a request.
        security_requirements: scheme_names
            .iter()
            .map(|name| A2aSecurityRequirement {
                schemes: BTreeMap::from([((*name).to_owned(), A2aStringList { list: Vec::new() })]),
            })
            .collect(),
        default_input_modes: modes(),
        default_output_modes: modes(),
        skills,
    }
}

fn modes() -> Vec<String> {
    vec!["text/plain".into(), "application/json".into()]
}

/// A skill for one of the agent's tools.
fn tool_skill(tool: &AgentTool) -> A2aAgentSkill {
    let (id, kind) = match &tool.tool {
        ToolEntry::Builtin { tool, .. } => (tool.name().to_owned(), "builtin"),
        ToolEntry::Stored(stored) => (
            stored
                .key
                .clone()
                .or_else(|| stored.tool_id.clone())
                .unwrap_or_else(|| stored.kind.name().to_owned()),
            stored.kind.name(),
        ),
        ToolEntry::Function(f) => (f.function.name.clone(), "function"),
        ToolEntry::Code(c) => (c.key.clone(), "code"),
    };
    let description = tool
        .description
        .clone()
        .or_else(|| match &tool.tool {
            ToolEntry::Function(f) => f.function.description.clone(),
            _ => None,
        })
        .unwrap_or_else(|| format!("The `{id}` tool"));
    A2aAgentSkill {
        name: tool.display_name.clone().unwrap_or_else(|| id.clone()),
        id: format!("tool:{id}"),
        description,
        tags: vec!["tool".into(), kind.to_owned()],
    }
}
