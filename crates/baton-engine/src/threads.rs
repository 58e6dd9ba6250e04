//! Threads as a service: records a client opens before the first run (a title, the agent it
//! is for), their list, and deleting one with its runs' history. A thread's messages stay in
//! the tasks naming its id, so a thread a run named without a record reads and deletes too.

use crate::{Engine, EngineError};
use baton_core::id::{new_id, now_rfc3339};
use baton_core::store::{Page, PageRequest, StoreError};
use baton_core::thread::ThreadRecord;
use baton_core::ProjectId;
use serde_json::{Map, Value};

/// The threads of projects.
#[derive(Clone, Copy)]
pub struct Threads<'a> {
    engine: &'a Engine,
}

/// A thread to open.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewThread {
    /// A title.
    pub title: Option<String>,
    /// The key of the agent that runs on it; it must exist.
    pub assistant_id: Option<String>,
    /// The end user opening it (only they will see it).
    pub owner: Option<String>,
    /// Further metadata to keep.
    pub metadata: Map<String, Value>,
}

impl Engine {
    /// The thread service.
    pub fn threads(&self) -> Threads<'_> {
        Threads { engine: self }
    }
}

impl Threads<'_> {
    /// Opens a thread: a new lowercase id for runs to name; `NotFound` for an unknown agent.
    pub async fn create(
        &self,
        project: &ProjectId,
        new: NewThread,
    ) -> Result<ThreadRecord, EngineError> {
        if let Some(key) = &new.assistant_id {
            self.engine.agents().get(project, key).await?;
        }
        let now = now_rfc3339();
        let thread = ThreadRecord {
            id: new_id().to_lowercase(),
            project_id: project.clone(),
            title: new.title,
            assistant_id: new.assistant_id,
            owner: new.owner,
            metadata: new.metadata,
            created: now.clone(),
            updated: now,
        };
        self.engine.inner.store.create_thread(&thread).await?;
        Ok(thread)
    }

    /// The record of a thread, if one was opened with this id.
    pub async fn get(
        &self,
        project: &ProjectId,
        id: &str,
    ) -> Result<Option<ThreadRecord>, EngineError> {
        Ok(self.engine.inner.store.thread(project, id).await?)
    }

    /// A page of the project's thread records, newest first; with `owner`, that end user's.
    pub async fn list(
        &self,
        project: &ProjectId,
        owner: Option<&str>,
        page: &PageRequest,
    ) -> Result<Page<ThreadRecord>, EngineError> {
        Ok(self
            .engine
            .inner
            .store
            .list_threads(project, owner, page)
            .await?)
    }

    /// Deletes a thread's record and its tasks with their history; `Conflict` naming the
    /// task while a run on it is queued or working, `NotFound` when nothing has the id.
    /// Returns how many tasks went with it.
    pub async fn delete(&self, project: &ProjectId, id: &str) -> Result<u64, EngineError> {
        match self.engine.inner.store.delete_thread(project, id).await {
            Err(StoreError::NotFound) => {
                Err(EngineError::NotFound(format!("thread `{id}` not found")))
            }
            Err(StoreError::Conflict(why)) => Err(EngineError::Conflict(why)),
            other => Ok(other?),
        }
    }
}
