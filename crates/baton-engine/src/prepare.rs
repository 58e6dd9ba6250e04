//! Turning a run request into a stored task ready to run.

use crate::state::TaskData;
use crate::{machine, now_ms, prompt, BusyTask, Engine, EngineError, Prepared, RunRequest};
use baton_core::agent::AgentSpec;
use baton_core::message::Message;
use baton_core::store::{StoreError, TaskRecord};
use baton_core::ProjectId;

impl Engine {
    /// Validates the request and stores the task (new, or continued) ready to run; a task
    /// still running is `Busy` whatever the request's strategy ([`Engine::admit`] applies it).
    pub async fn prepare(&self, req: RunRequest) -> Result<Prepared, EngineError> {
        self.prepare_read(req, None).await
    }

    /// [`Engine::prepare`] with the task to continue already read (`None`: read it here). A
    /// task read earlier is as good as one read now: storing the turn checks its revision.
    pub(crate) async fn prepare_read(
        &self,
        req: RunRequest,
        read: Option<TaskRecord>,
    ) -> Result<Prepared, EngineError> {
        let (mut task, spec) = self.assemble(&req, read).await?;
        let store = &self.inner.store;
        if req.task_id.is_some() {
            // A cancel request was for a turn before this one.
            store.clear_cancel(&task.id).await?;
            let expected = task.revision;
            task.revision += 1;
            match store.save_task(&task, expected).await {
                Ok(()) => task.history_stored = task.history.len() as u64,
                // Another request continued it first, or a message was queued on it.
                Err(StoreError::Conflict(_)) => {
                    return Err(self.busy(&req.project, &task.id).await)
                }
                Err(e) => return Err(e.into()),
            }
        } else {
            store.create_task(&task).await?;
            task.history_stored = task.history.len() as u64;
        }
        if req.background {
            self.inner.wake.notify_one();
        }
        Ok(Prepared { task, spec })
    }

    /// Builds a new background task for `req` without storing it, for callers that store it
    /// together with something else (a schedule's firing).
    pub async fn build_task(&self, req: &RunRequest) -> Result<TaskRecord, EngineError> {
        if req.task_id.is_some() || !req.background {
            return Err(EngineError::Internal {
                message: "build_task makes new background tasks only".into(),
                source: None,
            });
        }
        Ok(self.assemble(req, None).await?.0)
    }

    /// The task and agent configuration a request makes, not yet stored.
    async fn assemble(
        &self,
        req: &RunRequest,
        read: Option<TaskRecord>,
    ) -> Result<(TaskRecord, AgentSpec), EngineError> {
        let message = Message {
            message_id: req
                .message_id
                .clone()
                .unwrap_or_else(baton_core::id::new_id),
            role: req.role,
            parts: req.parts.clone(),
        };
        machine::admit::check_request(&message, &req.reviews, req.task_id.is_some())?;
        req.turn_tools
            .check()
            .map_err(|(field, why)| crate::invalid(&format!("turn_tools.{field}"), why))?;
        let now = now_ms();
        let now_text = baton_core::id::now_rfc3339();
        let (mut task, mut data, spec) = match &req.task_id {
            Some(task_id) => self.continued(req, task_id, &message, read).await?,
            None => self.started(req, &message, &now_text).await?,
        };
        // A turn's own tools are its request's: an earlier turn's are not offered again.
        data.turn_tools = req.turn_tools.clone();
        // Held by this process unless it runs in the background; if the process dies, the
        // lease expires and a worker resumes the run.
        let holder = (!req.background).then(|| {
            (
                self.inner.config.worker_id.clone(),
                now + self.inner.config.lease.as_millis() as i64,
            )
        });
        machine::admit::begin_turn(
            &mut task,
            &mut data,
            machine::admit::TurnStart {
                now_ms: now,
                now_text,
                streaming: req.stream,
                holder,
            },
        );
        data.put_into(&mut task)?;
        Ok((task, spec))
    }

    /// A stored task continued by a request: its reviews, its message, new variables.
    async fn continued(
        &self,
        req: &RunRequest,
        task_id: &str,
        message: &Message,
        read: Option<TaskRecord>,
    ) -> Result<(TaskRecord, TaskData, AgentSpec), EngineError> {
        let read = match read {
            Some(task) => Some(task),
            None => self.inner.store.task(&req.project, task_id).await?,
        };
        let mut task = read
            .filter(|t| t.id == task_id && t.agent_id == req.agent.id)
            .ok_or_else(|| EngineError::TaskNotFound(task_id.to_owned()))?;
        let mut data = TaskData::take_from(&mut task)?;
        if !task.state.is_inactive() {
            return Err(EngineError::Busy(Box::new(BusyTask::of(&task, &data))));
        }
        machine::admit::continue_task(&mut data, message, &req.reviews)?;
        let spec = self
            .spec_of(&req.project, &task.agent_id, task.agent_version)
            .await?;
        if !req.variables.is_empty() {
            data.variables = prompt::merge_variables(
                &data.variables,
                &req.variables,
                self.inner.cipher.as_ref(),
            );
        }
        Ok((task, data, spec))
    }

    /// A new task for a request, with the messages of earlier tasks of its thread.
    async fn started(
        &self,
        req: &RunRequest,
        message: &Message,
        now_text: &str,
    ) -> Result<(TaskRecord, TaskData, AgentSpec), EngineError> {
        machine::admit::check_first_message(message)?;
        let version = req.version.unwrap_or(req.agent.version);
        let spec = self.spec_of(&req.project, &req.agent.id, version).await?;
        let mut thread_context = Vec::new();
        if let Some(thread_id) = &req.thread_id {
            for earlier in self
                .inner
                .store
                .thread_tasks(&req.project, thread_id)
                .await?
            {
                thread_context.extend(Self::data(&earlier)?.history);
            }
        }
        let variables =
            prompt::merge_variables(&spec.variables, &req.variables, self.inner.cipher.as_ref());
        let new = machine::admit::NewTask {
            version,
            thread_context,
            variables,
            now_text: now_text.to_owned(),
        };
        let (task, data) = machine::admit::new_task(req, &spec, message, new);
        Ok((task, data, spec))
    }

    async fn spec_of(
        &self,
        project: &ProjectId,
        agent_id: &str,
        version: u32,
    ) -> Result<AgentSpec, EngineError> {
        // Versions never change: one read per version and process (see `lookups`).
        let cache = &self.inner.lookups.versions;
        let entry = (project.clone(), agent_id.to_owned(), version);
        if let Some(spec) = cache.get(&entry) {
            return Ok(spec);
        }
        let read = cache.read_starts();
        let spec = self
            .inner
            .store
            .agent_version(project, agent_id, version)
            .await?
            .map(|v| v.spec)
            .ok_or_else(|| EngineError::AgentNotFound(format!("{agent_id}@{version}")))?;
        cache.put(entry, spec.clone(), read);
        Ok(spec)
    }
}
