//! API keys as a service: minting a key for a project (shown once, stored as its hash),
//! listing and revoking keys. Who may manage keys is the caller's concern.

use crate::{Engine, EngineError};
use baton_core::id::{new_id, now_rfc3339};
use baton_core::store::{ApiKeyRecord, KeyScope};
use baton_core::{validate, ProjectId};
use sha2::{Digest, Sha256};

/// The API keys of the server.
#[derive(Clone, Copy)]
pub struct ApiKeys<'a> {
    engine: &'a Engine,
}

/// A key to mint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApiKey {
    /// What the key is for.
    pub name: String,
    /// The project it acts in.
    pub project_id: String,
    /// What it may do.
    pub scope: KeyScope,
}

impl Engine {
    /// The API key service.
    pub fn api_keys(&self) -> ApiKeys<'_> {
        ApiKeys { engine: self }
    }
}

/// The hash a key is stored and looked up by.
pub fn hash_api_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// The part of a key listings may show to tell keys apart: at most 12 characters and at most a
/// quarter of the key, so a short key (a hand-picked bootstrap key) is never shown whole.
pub fn key_prefix(key: &str) -> String {
    let shown = (key.chars().count() / 4).min(12);
    key.chars().take(shown).collect()
}

impl ApiKeys<'_> {
    /// Mints a key; the key itself is in this answer only, the store keeps its hash.
    pub async fn create(&self, new: NewApiKey) -> Result<(ApiKeyRecord, String), EngineError> {
        validate::non_empty("name", &new.name)?;
        validate::agent_key("project_id", &new.project_id)?;
        let key = format!("baton_sk_{}", hex::encode(rand::random::<[u8; 24]>()));
        let record = ApiKeyRecord {
            id: new_id(),
            project_id: ProjectId(new.project_id),
            name: new.name,
            hash: hash_api_key(&key),
            prefix: key_prefix(&key),
            created: now_rfc3339(),
            scope: new.scope,
        };
        self.engine.inner.store.create_api_key(&record).await?;
        Ok((record, key))
    }

    /// The keys (never the keys themselves) of one project, or of all.
    pub async fn list(
        &self,
        project: Option<&ProjectId>,
    ) -> Result<Vec<ApiKeyRecord>, EngineError> {
        Ok(self.engine.inner.store.list_api_keys(project).await?)
    }

    /// Revokes a key at once; `by` is the id of the key asking, which cannot revoke itself.
    pub async fn revoke(&self, key_id: &str, by: &str) -> Result<(), EngineError> {
        if key_id == by {
            return Err(EngineError::Invalid {
                field: "key_id".into(),
                message: "a key cannot revoke itself; use another admin key".into(),
            });
        }
        let deleted = self.engine.inner.store.delete_api_key(key_id).await;
        self.engine
            .inner
            .lookups
            .keys
            .forget(|_, key| key.id == key_id);
        Ok(deleted?)
    }

    /// The stored key this key hashes to, if any: as read from the store at most
    /// [`EngineConfig::lookup_ttl`](crate::EngineConfig) ago, so a key revoked through another
    /// server works here for at most that long (one revoked through this engine stops at once).
    pub async fn authenticate(&self, key: &str) -> Result<Option<ApiKeyRecord>, EngineError> {
        let cache = &self.engine.inner.lookups.keys;
        let hash = hash_api_key(key);
        if let Some(record) = cache.get(&hash) {
            return Ok(Some(record));
        }
        let read = cache.read_starts();
        let record = self.engine.inner.store.api_key_by_hash(&hash).await?;
        if let Some(record) = &record {
            cache.put(hash, record.clone(), read);
        }
        Ok(record)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_never_show_a_short_key_whole() {
        let minted = format!("baton_sk_{}", "0".repeat(48));
        assert_eq!(key_prefix(&minted), "baton_sk_000");
        assert_eq!(key_prefix("short-key"), "sh");
        assert_eq!(key_prefix("abc"), "");
    }
}
