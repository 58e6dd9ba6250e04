//! Model providers for Baton: clients for OpenAI Chat Completions (which also serves every
//! OpenAI-compatible endpoint: vLLM, Ollama, llama.cpp, OpenRouter, Groq, Together, LM Studio),
//! Anthropic Messages and Google Gemini, each implementing `baton_core::model::ModelProvider`
//! with its wire structs private to its module, and [`clients`], which builds them from
//! settings. The gateway with retries, fallbacks and prices that calls them is the engine's
//! (`baton_engine::gateway`), so an embedder's own provider needs no crate but the engine.
//!
//! | flavor | endpoint | auth header |
//! |---|---|---|
//! | `OpenAi` | `{base}/chat/completions` | `Authorization: Bearer` |
//! | `Anthropic` | `{base}/v1/messages` | `x-api-key`, `anthropic-version` |
//! | `Gemini` | `{base}/v1beta/models/{model}:generateContent` | `x-goog-api-key` |

mod anthropic;
mod gemini;
mod http;
mod openai;
mod sse;

use baton_core::model::ModelProvider;
use std::sync::Arc;
use std::time::Duration;

/// The API flavour of a provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// OpenAI Chat Completions and compatible servers.
    OpenAi,
    /// Anthropic Messages.
    Anthropic,
    /// Google Gemini.
    Gemini,
}

impl Flavor {
    /// The vendor's public endpoint.
    pub fn default_base_url(self) -> &'static str {
        match self {
            Self::OpenAi => "https://api.openai.com/v1",
            Self::Anthropic => "https://api.anthropic.com",
            Self::Gemini => "https://generativelanguage.googleapis.com",
        }
    }
}

/// How to reach one provider.
#[derive(Clone)]
pub struct ProviderSettings {
    /// The prefix models use (`openai/…`).
    pub name: String,
    /// API flavour.
    pub flavor: Flavor,
    /// Base URL (see [`Flavor::default_base_url`]).
    pub base_url: String,
    /// API key, if the endpoint needs one.
    pub api_key: Option<String>,
}

impl std::fmt::Debug for ProviderSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderSettings")
            .field("name", &self.name)
            .field("flavor", &self.flavor)
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "<set>"))
            .finish()
    }
}

/// One client per setting, sharing one pooled HTTP client; calls time out after 120 s. The
/// engine's provider registry takes them by name.
pub fn clients(
    settings: Vec<ProviderSettings>,
    http: reqwest::Client,
) -> Vec<Arc<dyn ModelProvider>> {
    clients_with_timeout(settings, http, Duration::from_secs(120))
}

/// Like [`clients`] with a per-call timeout.
pub fn clients_with_timeout(
    settings: Vec<ProviderSettings>,
    http: reqwest::Client,
    timeout: Duration,
) -> Vec<Arc<dyn ModelProvider>> {
    settings
        .into_iter()
        .map(|s| {
            let client = http::Client {
                name: s.name,
                base_url: s.base_url.trim_end_matches('/').to_owned(),
                api_key: s.api_key,
                http: http.clone(),
                timeout,
            };
            let provider: Arc<dyn ModelProvider> = match s.flavor {
                Flavor::OpenAi => Arc::new(openai::OpenAi(client)),
                Flavor::Anthropic => Arc::new(anthropic::Anthropic(client)),
                Flavor::Gemini => Arc::new(gemini::Gemini(client)),
            };
            provider
        })
        .collect()
}
