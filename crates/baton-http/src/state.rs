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
}

impl AppState {
    /// State over a store, a cipher and the engine.
    pub fn new(store: Arc<dyn Store>, cipher: Arc<dyn SecretCipher>, engine: Engine) -> Self {
        Self {
            store,
            cipher,
            engine,
        }
    }
}
