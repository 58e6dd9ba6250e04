//! What every handler shares.

use baton_core::store::{SecretCipher, Store};
use std::sync::Arc;

/// The shared state of the HTTP API: ports to persistence and secrets.
#[derive(Clone)]
pub struct AppState {
    /// Persistence.
    pub store: Arc<dyn Store>,
    /// Seals secrets before they are stored.
    pub cipher: Arc<dyn SecretCipher>,
}

impl AppState {
    /// State over a store and a cipher.
    pub fn new(store: Arc<dyn Store>, cipher: Arc<dyn SecretCipher>) -> Self {
        Self { store, cipher }
    }
}
