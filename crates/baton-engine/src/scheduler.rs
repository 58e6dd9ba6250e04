//! The scheduler: fires due schedules as background tasks, exactly once across every server on
//! the database.
//!
//! Each firing is a conditional update of the schedule's firing state (still at the generation
//! and due time this server read) in the same transaction that stores the firing and its task.
//! Two servers reading the same due schedule race on that update; the loser's update matches no
//! row and it creates nothing. A firing more than the grace period late (every server was down)
//! is dropped unless the schedule's `catch_up` is `latest`.

use crate::{now_ms, Engine, EngineError, RunRequest};
use baton_core::message::{Part, Role};
use baton_core::schedule::{Cadence, CatchUp, FiringRecord, ScheduleRecord, ScheduleType};
use baton_core::store::TaskRecord;
use futures_util::StreamExt;
use serde_json::{json, Map, Value};
use std::time::Duration;
use tokio::sync::watch;

/// Tuning of the scheduler.
#[derive(Debug, Clone)]
pub struct SchedulerConfig {
    /// Shortest interval a cron or interval schedule may fire at (one hour; tests lower it).
    pub min_interval: Duration,
    /// Longest sleep between looks at the database.
    pub poll: Duration,
    /// How late a firing may be and still run; later ones count as missed.
    pub grace: Duration,
    /// Schedules fired per database round.
    pub batch: u64,
    /// Firings in flight at once.
    pub concurrency: usize,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        Self {
            min_interval: Duration::from_secs(3600),
            poll: Duration::from_secs(1),
            grace: Duration::from_secs(60),
            batch: 256,
            concurrency: 16,
        }
    }
}

/// A running scheduler; stops when dropped or stopped.
pub struct Scheduler {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Scheduler {
    /// Stops the loop (a firing in progress finishes its transaction or is rolled back).
    pub fn abort(self) {
        let _ = self.stop.send(true);
        self.task.abort();
    }
}

/// What one firing did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fired {
    /// A task was created.
    Task(String),
    /// The firing was missed and dropped; the cadence moved on.
    Skipped,
    /// Another server fired it (or the schedule changed meanwhile).
    Lost,
    /// The schedule cannot fire any more (agent gone, bad expression) and was deactivated.
    Deactivated(String),
}

fn render_input(text: &str, variables: &Map<String, Value>) -> String {
    // Plain variables only: a secret must not end up in the task's stored history.
    baton_core::template::render_with(text, |name| {
        variables
            .get(name)
            .filter(|v| v.get("secret") != Some(&Value::Bool(true)))
            .map(baton_core::template::as_text)
    })
}

impl Engine {
    /// Starts this process's scheduler (with the engine's scheduler settings).
    pub fn start_scheduler(&self) -> Scheduler {
        let (stop, stopped) = watch::channel(false);
        let engine = self.clone();
        let config = self.inner.config.scheduler.clone();
        let task = tokio::spawn(async move { engine.schedule_loop(config, stopped).await });
        Scheduler { stop, task }
    }

    /// Tells the scheduler that schedules changed (so it looks again before its next poll).
    pub fn schedules_changed(&self) {
        self.inner.schedules_changed.notify_one();
    }

    async fn schedule_loop(&self, config: SchedulerConfig, mut stop: watch::Receiver<bool>) {
        loop {
            if *stop.borrow() {
                return;
            }
            let now = now_ms();
            match self.inner.store.due_schedules(now, config.batch).await {
                Ok(due) => {
                    let full = due.len() as u64 >= config.batch;
                    futures_util::stream::iter(due)
                        .for_each_concurrent(config.concurrency, |s| {
                            let config = &config;
                            async move {
                                let id = s.id.clone();
                                if let Err(e) = self.fire(s, config).await {
                                    tracing::warn!(schedule = %id, error = %e, "firing failed; retried at the next look");
                                }
                            }
                        })
                        .await;
                    if full {
                        continue;
                    }
                }
                Err(e) => tracing::warn!(error = %e, "reading due schedules failed"),
            }
            let wait = match self.inner.store.next_due().await {
                Ok(Some(at)) => Duration::from_millis(
                    (at - now_ms()).clamp(0, config.poll.as_millis() as i64) as u64,
                ),
                _ => config.poll,
            };
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = self.inner.schedules_changed.notified() => {}
                _ = stop.changed() => return,
            }
        }
    }

    /// The run a schedule's payload makes: its agent (pinned by `agent_tag` or live), the input
    /// rendered with its plain variables, and metadata naming the schedule.
    async fn schedule_request(&self, s: &ScheduleRecord) -> Result<RunRequest, String> {
        let agent = self
            .inner
            .store
            .agent_by_key(&s.project_id, &s.agent_key)
            .await
            .map_err(|e| e.to_string())?
            .filter(|a| a.id == s.agent_id)
            .ok_or_else(|| format!("agent `{}` no longer exists", s.agent_key))?;
        let version = match &s.spec.agent_tag {
            None => None,
            Some(tag) => {
                let n: u32 = tag
                    .trim_start_matches('v')
                    .parse()
                    .map_err(|_| format!("agent_tag `{tag}` is not a version"))?;
                Some(n)
            }
        };
        let payload = &s.spec.payload;
        let text = render_input(&payload.input_text(), &payload.variables);
        let mut metadata = payload.metadata.clone();
        metadata.insert("schedule_id".into(), json!(s.id));
        metadata.insert("schedule_generation".into(), json!(s.generation));
        Ok(RunRequest {
            project: s.project_id.clone(),
            agent,
            version,
            role: Role::User,
            parts: vec![Part::Text {
                text: if text.trim().is_empty() {
                    format!("Scheduled run of {}", s.agent_key)
                } else {
                    text
                },
            }],
            message_id: None,
            task_id: None,
            multitask: Default::default(),
            background: true,
            stream: false,
            variables: payload.variables.clone(),
            identity: None,
            // Orchestra's `task.metadata.thread_id`: every firing continues that thread.
            thread_id: payload
                .metadata
                .get("thread_id")
                .and_then(Value::as_str)
                .map(str::to_owned),
            memory_entity_id: payload.memory_entity_id.clone(),
            metadata,
            reviews: Vec::new(),
            lineage: None,
            turn_tools: Default::default(),
        })
    }

    async fn deactivate(
        &self,
        s: &ScheduleRecord,
        due: i64,
        why: String,
    ) -> Result<Fired, EngineError> {
        tracing::warn!(schedule = %s.id, reason = %why, "schedule deactivated");
        let mut off = s.clone();
        off.is_active = false;
        off.next_fire_at = None;
        self.inner
            .store
            .fire_schedule(&off, s.generation, due, None)
            .await?;
        Ok(Fired::Deactivated(why))
    }

    /// Fires one due schedule (or drops a missed firing), exactly once across servers.
    pub async fn fire(
        &self,
        s: ScheduleRecord,
        config: &SchedulerConfig,
    ) -> Result<Fired, EngineError> {
        let Some(due) = s.next_fire_at.filter(|_| s.is_active) else {
            return Ok(Fired::Lost);
        };
        let now = now_ms();
        let cadence = match Cadence::parse(s.spec.kind, &s.spec.expression) {
            Ok(c) => c,
            Err(e) => return self.deactivate(&s, due, e.0).await,
        };
        let mut advanced = advanced(&s, &cadence, due, now);
        let missed = now - due > config.grace.as_millis() as i64;
        if missed && s.spec.catch_up == CatchUp::None {
            return self.drop_missed(&s, &advanced, due).await;
        }
        let task = match self.firing_task(&s).await? {
            Ok(t) => t,
            Err(why) => return self.deactivate(&s, due, why).await,
        };
        advanced.trigger_count = s.trigger_count + 1;
        advanced.last_triggered_at = Some(baton_core::id::now_rfc3339());
        self.record_firing(&s, &advanced, due, task).await
    }

    /// Moves a schedule past a firing it missed without starting a task.
    async fn drop_missed(
        &self,
        s: &ScheduleRecord,
        advanced: &ScheduleRecord,
        due: i64,
    ) -> Result<Fired, EngineError> {
        let moved = self
            .inner
            .store
            .fire_schedule(advanced, s.generation, due, None)
            .await?;
        if moved {
            tracing::info!(schedule = %s.id, due, "missed firing dropped (no catch-up)");
        }
        Ok(if moved { Fired::Skipped } else { Fired::Lost })
    }

    /// The task a firing starts, or why the schedule can no longer fire.
    async fn firing_task(
        &self,
        s: &ScheduleRecord,
    ) -> Result<Result<TaskRecord, String>, EngineError> {
        let request = match self.schedule_request(s).await {
            Ok(r) => r,
            Err(why) => return Ok(Err(why)),
        };
        match self.build_task(&request).await {
            Ok(t) => Ok(Ok(t)),
            Err(EngineError::AgentNotFound(v)) => {
                Ok(Err(format!("agent version {v} does not exist")))
            }
            Err(e) => Err(e),
        }
    }

    /// Stores the firing with its task and the advanced schedule, unless another server did.
    async fn record_firing(
        &self,
        s: &ScheduleRecord,
        advanced: &ScheduleRecord,
        due: i64,
        task: TaskRecord,
    ) -> Result<Fired, EngineError> {
        let firing = FiringRecord {
            schedule_id: s.id.clone(),
            generation: s.generation,
            due_ms: due,
            fired_ms: now_ms(),
            task_id: task.id.clone(),
            manual: false,
        };
        let fired = self
            .inner
            .store
            .fire_schedule(advanced, s.generation, due, Some((&firing, &task)))
            .await?;
        if !fired {
            return Ok(Fired::Lost);
        }
        self.inner.metrics.schedule_fired();
        self.wake_workers();
        tracing::info!(schedule = %s.id, task = %task.id, lateness_ms = firing.fired_ms - due, "schedule fired");
        Ok(Fired::Task(task.id))
    }

    /// Runs a schedule's payload now, outside its cadence (`POST …/execution`).
    pub async fn execute_schedule(&self, s: &ScheduleRecord) -> Result<TaskRecord, EngineError> {
        let request = self
            .schedule_request(s)
            .await
            .map_err(|why| EngineError::Invalid {
                field: "schedule".into(),
                message: why,
            })?;
        let task = self.build_task(&request).await?;
        let now = now_ms();
        let firing = FiringRecord {
            schedule_id: s.id.clone(),
            generation: s.generation,
            due_ms: now,
            fired_ms: now,
            task_id: task.id.clone(),
            manual: true,
        };
        self.inner.store.record_execution(&firing, &task).await?;
        self.wake_workers();
        Ok(task)
    }
}

/// The schedule after a firing due at `due`: its next firing from now (none for a one-off),
/// inactive when there is none.
fn advanced(s: &ScheduleRecord, cadence: &Cadence, due: i64, now: i64) -> ScheduleRecord {
    let mut advanced = s.clone();
    advanced.next_fire_at = if s.spec.kind == ScheduleType::Once {
        None
    } else {
        cadence.next_after(s.anchor_ms, now.max(due))
    };
    advanced.is_active = advanced.next_fire_at.is_some();
    advanced
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_renders_plain_variables_only() {
        let vars: Map<String, Value> = json!({"region": "EMEA", "n": 3,
            "token": {"secret": true, "sealed": "enc:v1:x"}})
        .as_object()
        .cloned()
        .unwrap();
        assert_eq!(
            render_input("Summarize {{region}} ({{ n }}) with {{token}}", &vars),
            "Summarize EMEA (3) with {{token}}"
        );
    }
}
