//! Threads as records: a conversation a client opened before its first run (Orchestra's
//! `POST /api/threads`), with a title and the assistant it is for. Its messages stay in the
//! tasks that name its id; the record only says that it exists and what it is.

use crate::store::{Page, PageRequest, StoreError};
use crate::ProjectId;
use serde_json::{Map, Value};

/// A stored thread.
#[derive(Debug, Clone, PartialEq)]
pub struct ThreadRecord {
    /// The id runs name as their thread (a lowercase ULID).
    pub id: String,
    /// Owning project.
    pub project_id: ProjectId,
    /// A title.
    pub title: Option<String>,
    /// The key of the agent (assistant) that runs on it.
    pub assistant_id: Option<String>,
    /// The end user who opened it, when an end user did: only they see it.
    pub owner: Option<String>,
    /// Further metadata, as the client sent it.
    pub metadata: Map<String, Value>,
    /// Creation time (RFC 3339).
    pub created: String,
    /// Last update (RFC 3339).
    pub updated: String,
}

/// Threads.
#[async_trait::async_trait]
pub trait ThreadStore: Send + Sync {
    /// Stores a new thread; `Conflict` if the id is taken.
    async fn create_thread(&self, thread: &ThreadRecord) -> Result<(), StoreError>;

    /// The thread with this id in the project.
    async fn thread(
        &self,
        project: &ProjectId,
        id: &str,
    ) -> Result<Option<ThreadRecord>, StoreError>;

    /// A page of the project's threads, newest first; with `owner`, only that end user's.
    async fn list_threads(
        &self,
        project: &ProjectId,
        owner: Option<&str>,
        page: &PageRequest,
    ) -> Result<Page<ThreadRecord>, StoreError>;

    /// Deletes a thread: its record and the tasks naming it with their events, together.
    /// `Conflict` naming the task if one of them is `submitted` or `working`; `NotFound` if
    /// there is neither a record nor a task. Returns how many tasks it removed.
    async fn delete_thread(&self, project: &ProjectId, id: &str) -> Result<u64, StoreError>;
}
