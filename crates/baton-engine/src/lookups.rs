//! Records every run looks up (the caller's API key, the agent, the agent version it runs)
//! kept in memory for a short while, so a run costs no database reads for them.
//!
//! An entry lives at most [`EngineConfig::lookup_ttl`](crate::EngineConfig) and is dropped at
//! once when this process changes what it holds (a key revoked, an agent updated, published or
//! deleted). Other servers on the same database see such a change when their entry expires: the
//! TTL bounds how long a key revoked elsewhere keeps working there. Agent versions never change,
//! so they stay until the cache is full. Misses are never kept: a key or agent created anywhere
//! works at once.

use baton_core::agent::{AgentRecord, AgentSpec};
use baton_core::store::ApiKeyRecord;
use baton_core::ProjectId;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// At most this many entries per cache; a full cache drops its expired entries, then all.
const CAPACITY: usize = 4096;

/// The records runs look up, as recently read.
pub(crate) struct Lookups {
    /// API keys by the hash they are looked up by.
    pub keys: Recent<String, ApiKeyRecord>,
    /// Agents by project and key.
    pub agents: Recent<(ProjectId, String), AgentRecord>,
    /// The configuration of each agent version, by project, agent id and number.
    pub versions: Recent<(ProjectId, String, u32), AgentSpec>,
}

impl Lookups {
    /// Empty caches whose keys and agents are fresh for `ttl`.
    pub(crate) fn new(ttl: Duration) -> Self {
        Self {
            keys: Recent::new(Some(ttl)),
            agents: Recent::new(Some(ttl)),
            versions: Recent::new(None),
        }
    }

    /// Forgets what this process holds of an agent, after it changed or was deleted.
    pub(crate) fn agent_changed(&self, project: &ProjectId, agent_id: &str) {
        self.agents
            .forget(|(p, _), agent| p == project && agent.id == agent_id);
        self.versions
            .forget(|(p, id, _), _| p == project && id == agent_id);
    }
}

/// Values by key, each fresh for `ttl` after it was read from the store.
pub(crate) struct Recent<K, V> {
    ttl: Duration,
    entries: Mutex<Entries<K, V>>,
}

struct Entries<K, V> {
    map: HashMap<K, (Instant, V)>,
    /// Bumped by every `forget`: a read that began before one is not kept.
    generation: u64,
}

/// When a store read began, to `put` what it found.
#[derive(Clone, Copy)]
pub(crate) struct ReadStart {
    at: Instant,
    generation: u64,
}

impl<K: Eq + Hash, V: Clone> Recent<K, V> {
    /// An empty cache whose entries are fresh for `ttl` (`None`: until evicted).
    pub(crate) fn new(ttl: Option<Duration>) -> Self {
        Self {
            // A century stands for "never expires" without overflowing `Instant`.
            ttl: ttl.unwrap_or(Duration::from_secs(100 * 365 * 24 * 3600)),
            entries: Mutex::new(Entries {
                map: HashMap::new(),
                generation: 0,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries<K, V>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Marks the start of a store read whose result may be `put`.
    pub(crate) fn read_starts(&self) -> ReadStart {
        ReadStart {
            at: Instant::now(),
            generation: self.lock().generation,
        }
    }

    /// The value under `key` if it is still fresh.
    pub(crate) fn get(&self, key: &K) -> Option<V> {
        if self.ttl.is_zero() {
            return None;
        }
        let entries = self.lock();
        let (read, value) = entries.map.get(key)?;
        (read.elapsed() < self.ttl).then(|| value.clone())
    }

    /// Keeps `value` under `key`, found by a store read that began at `read`: its age counts
    /// from then, and it is not kept if this process changed the records since (`forget`).
    pub(crate) fn put(&self, key: K, value: V, read: ReadStart) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.lock();
        if entries.generation != read.generation {
            return;
        }
        if entries.map.len() >= CAPACITY && !entries.map.contains_key(&key) {
            let ttl = self.ttl;
            entries.map.retain(|_, (at, _)| at.elapsed() < ttl);
            if entries.map.len() >= CAPACITY {
                entries.map.clear();
            }
        }
        entries.map.insert(key, (read.at, value));
    }

    /// Drops the entries `gone` picks, and keeps no read that began before.
    pub(crate) fn forget(&self, mut gone: impl FnMut(&K, &V) -> bool) {
        let mut entries = self.lock();
        entries.generation += 1;
        entries.map.retain(|k, (_, v)| !gone(k, v));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_and_can_be_forgotten() {
        let cache = Recent::new(Some(Duration::from_millis(50)));
        cache.put("a", 1, cache.read_starts());
        cache.put("b", 2, cache.read_starts());
        assert_eq!(cache.get(&"a"), Some(1));
        cache.forget(|k, _| *k == "a");
        assert_eq!(cache.get(&"a"), None);
        assert_eq!(cache.get(&"b"), Some(2));
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(cache.get(&"b"), None);
    }

    #[test]
    fn a_zero_ttl_keeps_nothing() {
        let cache = Recent::new(Some(Duration::ZERO));
        cache.put("a", 1, cache.read_starts());
        assert_eq!(cache.get(&"a"), None);
    }

    #[test]
    fn a_full_cache_makes_room() {
        let cache = Recent::new(None);
        for i in 0..CAPACITY + 1 {
            cache.put(i, i, cache.read_starts());
        }
        assert_eq!(cache.get(&CAPACITY), Some(CAPACITY));
        assert!(cache.lock().map.len() <= CAPACITY);
    }

    #[test]
    fn a_read_that_began_before_a_change_is_not_kept() {
        let cache = Recent::new(None);
        let read = cache.read_starts();
        cache.forget(|_, _| true);
        cache.put("a", 1, read);
        assert_eq!(cache.get(&"a"), None);
    }
}
