//! Model providers for Baton: clients for OpenAI Chat Completions (which also serves every
//! OpenAI-compatible endpoint: vLLM, Ollama, llama.cpp, OpenRouter, Groq, Together, LM Studio),
//! Anthropic Messages and Google Gemini, each implementing `baton_core::model::ModelProvider`
//! with its wire structs private to its module; a [`Registry`] of them by provider name; a
//! [`PriceTable`]; and the [`Gateway`] the engine calls, which adds retries with backoff and
//! fallback models.
//!
//! | flavor | endpoint | auth header |
//! |---|---|---|
//! | `OpenAi` | `{base}/chat/completions` | `Authorization: Bearer` |
//! | `Anthropic` | `{base}/v1/messages` | `x-api-key`, `anthropic-version` |
//! | `Gemini` | `{base}/v1beta/models/{model}:generateContent` | `x-goog-api-key` |

mod anthropic;
mod gateway;
mod gemini;
mod http;
mod openai;
mod prices;
mod sse;

pub use gateway::Gateway;
pub use prices::PriceTable;

use baton_core::model::ModelProvider;
use std::collections::HashMap;
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

/// Providers by name, and what is missing for those known but not set up.
#[derive(Clone, Default)]
pub struct Registry {
    providers: HashMap<String, Arc<dyn ModelProvider>>,
    not_set_up: HashMap<String, String>,
}

impl Registry {
    /// One client per setting, sharing one pooled HTTP client; calls time out after 120 s.
    pub fn from_settings(settings: Vec<ProviderSettings>, http: reqwest::Client) -> Self {
        Self::with_timeout(settings, http, Duration::from_secs(120))
    }

    /// Like [`Registry::from_settings`] with a per-call timeout.
    pub fn with_timeout(
        settings: Vec<ProviderSettings>,
        http: reqwest::Client,
        timeout: Duration,
    ) -> Self {
        let mut providers: HashMap<String, Arc<dyn ModelProvider>> = HashMap::new();
        for s in settings {
            let client = http::Client {
                name: s.name.clone(),
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
            providers.insert(s.name, provider);
        }
        Self {
            providers,
            not_set_up: HashMap::new(),
        }
    }

    /// Adds (or replaces) a provider, e.g. a custom one written against the trait.
    pub fn insert(&mut self, provider: Arc<dyn ModelProvider>) {
        self.providers.insert(provider.name().to_owned(), provider);
    }

    /// Records a provider that is known but lacks credentials: models naming it fail at once
    /// with `what_to_set` (e.g. "set OPENAI_API_KEY") instead of calling out.
    pub fn not_set_up(&mut self, name: impl Into<String>, what_to_set: impl Into<String>) {
        let name = name.into();
        self.providers.remove(&name);
        self.not_set_up.insert(name, what_to_set.into());
    }

    /// The provider with this name.
    pub fn get(&self, name: &str) -> Option<Arc<dyn ModelProvider>> {
        self.providers.get(name).cloned()
    }

    /// Why there is no provider `name`, for error messages.
    pub fn why_missing(&self, name: &str) -> String {
        match self.not_set_up.get(name) {
            Some(what_to_set) => format!("provider `{name}` is not set up: {what_to_set}"),
            None => format!("no provider `{name}` is configured"),
        }
    }
}
