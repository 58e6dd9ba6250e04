//! What every handler shares.

use baton_core::store::{SecretCipher, Store};
use baton_engine::Engine;
use std::sync::Arc;

/// The shared state of the HTTP API: ports to persistence and secrets.
#[derive(Clone)]
pub struct AppState {
    /// Persistence.
    pub store: Arc<dyn Store>,
    /// Seals secrets before they are stored.
    pub cipher: Arc<dyn SecretCipher>,
    /// Runs agents.
    pub engine: Engine,
    /// How JWTs are checked, when front ends may use them.
    pub jwt: Option<Arc<crate::auth::JwtSettings>>,
    /// The agent whose A2A card `/.well-known/agent-card.json` shows.
    pub a2a_default_agent: Option<String>,
    /// Sends A2A push notifications; none turns them off.
    pub push: Option<crate::a2a::push::PushSender>,
    /// The browser origins the server's CORS setting lists (`https://app.example.com`).
    pub allowed_origins: Arc<[String]>,
}

impl AppState {
    /// State over a store, a cipher and the engine.
    pub fn new(store: Arc<dyn Store>, cipher: Arc<dyn SecretCipher>, engine: Engine) -> Self {
        Self {
            store,
            cipher,
            engine,
            jwt: None,
            a2a_default_agent: None,
            push: None,
            allowed_origins: Arc::from(Vec::new()),
        }
    }

    /// The same state, accepting JWTs checked with `settings`.
    pub fn with_jwt(mut self, settings: crate::auth::JwtSettings) -> Self {
        self.jwt = Some(Arc::new(settings));
        self
    }

    /// The same state, showing `agent_key`'s A2A card at `/.well-known/agent-card.json`.
    pub fn with_a2a_default_agent(mut self, agent_key: Option<String>) -> Self {
        self.a2a_default_agent = agent_key;
        self
    }

    /// The same state, sending A2A push notifications with `sender`.
    pub fn with_push(mut self, sender: crate::a2a::push::PushSender) -> Self {
        self.push = Some(sender);
        self
    }

    /// The same state, knowing the browser origins CORS lets in (`/mcp` refuses others).
    pub fn with_allowed_origins(mut self, origins: Vec<String>) -> Self {
        self.allowed_origins = Arc::from(origins);
        self
    }
}
