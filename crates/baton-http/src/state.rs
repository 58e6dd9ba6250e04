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
}

impl AppState {
    /// State over a store, a cipher and the engine.
    pub fn new(store: Arc<dyn Store>, cipher: Arc<dyn SecretCipher>, engine: Engine) -> Self {
        Self {
            store,
            cipher,
            engine,
            jwt: None,
        }
    }

    /// The same state, accepting JWTs checked with `settings`.
    pub fn with_jwt(mut self, settings: crate::auth::JwtSettings) -> Self {
        self.jwt = Some(Arc::new(settings));
        self
    }
}
