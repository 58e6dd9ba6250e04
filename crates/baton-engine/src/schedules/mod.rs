//! Schedules as a service: creating them, the PATCH state machine (a new cadence or a
//! reactivation starts a new generation from now), manual execution and the firing history.
//! Ids and timestamps of schedules are minted here.

use crate::{prompt, Engine, EngineError};
use baton_core::agent::AgentRecord;
use baton_core::id::{new_id, now_rfc3339};
use baton_core::schedule::{
    check_expression, CatchUp, FiringRecord, SchedulePayload, ScheduleRecord, ScheduleSpec,
    ScheduleType,
};
use baton_core::store::TaskRecord;
use baton_core::task::TaskState;
use serde_json::{Map, Value};

mod cadence;

pub use cadence::move_cadence;

/// The schedules of agents.
#[derive(Clone, Copy)]
pub struct Schedules<'a> {
    engine: &'a Engine,
}

/// What a schedule sends its agent, as a client gives it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PayloadInput {
    /// A string or a list of input items.
    pub input: Option<Value>,
    /// Prompt variables (secret ones are encrypted at rest).
    pub variables: Map<String, Value>,
    /// The memory entity the runs use.
    pub memory_entity_id: Option<String>,
    /// Metadata of the runs.
    pub metadata: Map<String, Value>,
}

/// A new schedule.
#[derive(Debug, Clone, PartialEq)]
pub struct NewSchedule {
    /// Cron, interval or once.
    pub kind: ScheduleType,
    /// The cadence.
    pub expression: String,
    /// What each firing sends.
    pub payload: PayloadInput,
    /// Shown name.
    pub display_name: Option<String>,
    /// The agent version to run (`3` or `v3`); the live one when absent.
    pub agent_tag: Option<String>,
    /// What to do with firings missed while no server ran.
    pub catch_up: CatchUp,
}

/// A PATCH: the fields given change, the rest stay.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SchedulePatch {
    /// A new type.
    pub kind: Option<ScheduleType>,
    /// A new cadence.
    pub expression: Option<String>,
    /// A new payload.
    pub payload: Option<PayloadInput>,
    /// Activate or deactivate.
    pub is_active: Option<bool>,
    /// A new version tag; empty clears it.
    pub agent_tag: Option<String>,
    /// A new name.
    pub display_name: Option<String>,
    /// A new catch-up policy.
    pub catch_up: Option<CatchUp>,
}

/// One firing of a schedule with its task's current state.
#[derive(Debug, Clone, PartialEq)]
pub struct Execution {
    /// The firing.
    pub firing: FiringRecord,
    /// The task's state, if the task still exists.
    pub state: Option<TaskState>,
}

impl Engine {
    /// The schedule service.
    pub fn schedules(&self) -> Schedules<'_> {
        Schedules { engine: self }
    }
}

fn checked_input(input: &Option<Value>) -> Result<(), EngineError> {
    match input {
        None | Some(Value::String(_) | Value::Array(_) | Value::Object(_)) => Ok(()),
        Some(_) => Err(EngineError::Invalid {
            field: "payload.input".into(),
            message: "must be a string or a list of input items".into(),
        }),
    }
}

impl<'a> Schedules<'a> {
    fn payload(&self, p: PayloadInput) -> Result<SchedulePayload, EngineError> {
        checked_input(&p.input)?;
        let cipher = self.engine.inner.cipher.as_ref();
        Ok(SchedulePayload {
            input: p.input,
            variables: prompt::merge_variables(&Map::new(), &p.variables, cipher),
            memory_entity_id: p.memory_entity_id.filter(|e| !e.is_empty()),
            metadata: p.metadata,
        })
    }

    /// Checks that `tag` names an existing version of the agent.
    async fn check_tag(&self, agent: &AgentRecord, tag: &str) -> Result<(), EngineError> {
        let version: u32 =
            tag.trim_start_matches('v')
                .parse()
                .map_err(|_| EngineError::Invalid {
                    field: "agent_tag".into(),
                    message: format!("`{tag}` is not a version (use `3` or `v3`)"),
                })?;
        let store = &self.engine.inner.store;
        match store
            .agent_version(&agent.project_id, &agent.id, version)
            .await?
        {
            Some(_) => Ok(()),
            None => Err(EngineError::NotFound(format!(
                "agent `{}` has no version {version}",
                agent.spec.key
            ))),
        }
    }

    fn cadence(
        &self,
        kind: ScheduleType,
        expression: &str,
        now: i64,
    ) -> Result<baton_core::schedule::Cadence, EngineError> {
        check_expression(kind, expression, now, self.engine.schedule_min_interval())
            .map_err(|e| EngineError::Expression(e.0))
    }

    /// The first `count` firings (Unix ms) of a schedule created now with this cadence,
    /// refused as `create` would refuse it.
    pub fn preview(
        &self,
        kind: ScheduleType,
        expression: &str,
        count: usize,
    ) -> Result<Vec<i64>, EngineError> {
        let now = chrono::Utc::now().timestamp_millis();
        let cadence = self.cadence(kind, expression, now)?;
        let mut firings = Vec::with_capacity(count);
        let mut after = now;
        while firings.len() < count {
            let Some(next) = cadence.next_after(now, after) else {
                break;
            };
            firings.push(next);
            after = next;
        }
        Ok(firings)
    }

    /// Creates an active schedule for `agent`, first due after now.
    pub async fn create(
        &self,
        agent: &AgentRecord,
        created_by: &str,
        new: NewSchedule,
    ) -> Result<ScheduleRecord, EngineError> {
        let now = chrono::Utc::now().timestamp_millis();
        let cadence = self.cadence(new.kind, &new.expression, now)?;
        if let Some(tag) = &new.agent_tag {
            self.check_tag(agent, tag).await?;
        }
        let payload = self.payload(new.payload)?;
        let now_text = now_rfc3339();
        let record = ScheduleRecord {
            id: new_id(),
            project_id: agent.project_id.clone(),
            agent_id: agent.id.clone(),
            agent_key: agent.spec.key.clone(),
            spec: ScheduleSpec {
                kind: new.kind,
                expression: new.expression.trim().to_owned(),
                display_name: new.display_name,
                agent_tag: new.agent_tag,
                payload,
                catch_up: new.catch_up,
            },
            is_active: true,
            generation: 1,
            trigger_count: 0,
            last_triggered_at: None,
            next_fire_at: cadence.next_after(now, now),
            anchor_ms: now,
            created_by_id: created_by.to_owned(),
            updated_by_id: None,
            created: now_text.clone(),
            updated: now_text,
        };
        self.engine.inner.store.create_schedule(&record).await?;
        self.engine.schedules_changed();
        Ok(record)
    }

    /// An agent's schedules, newest first.
    pub async fn list(&self, agent: &AgentRecord) -> Result<Vec<ScheduleRecord>, EngineError> {
        let store = &self.engine.inner.store;
        Ok(store.list_schedules(&agent.project_id, &agent.id).await?)
    }

    /// One of an agent's schedules.
    pub async fn get(&self, agent: &AgentRecord, id: &str) -> Result<ScheduleRecord, EngineError> {
        let store = &self.engine.inner.store;
        store
            .schedule(&agent.project_id, &agent.id, id)
            .await?
            .ok_or_else(|| {
                EngineError::NotFound(format!("agent `{}` has no schedule `{id}`", agent.spec.key))
            })
    }

    /// Applies a PATCH to the current schedule: a new type or expression (or reactivation)
    /// starts a new generation from now; payload, name and tag changes keep the cadence.
    async fn apply(
        &self,
        agent: &AgentRecord,
        current: &ScheduleRecord,
        patch: &SchedulePatch,
        updated_by: &str,
    ) -> Result<ScheduleRecord, EngineError> {
        let now = chrono::Utc::now().timestamp_millis();
        let mut next = move_cadence(current, patch, now, self.engine.schedule_min_interval())?;
        if let Some(p) = &patch.payload {
            next.spec.payload = self.payload(p.clone())?;
        }
        match patch.agent_tag.as_deref() {
            Some("") => next.spec.agent_tag = None,
            Some(tag) => {
                self.check_tag(agent, tag).await?;
                next.spec.agent_tag = Some(tag.to_owned());
            }
            None => {}
        }
        if let Some(name) = &patch.display_name {
            next.spec.display_name = Some(name.clone());
        }
        if let Some(c) = patch.catch_up {
            next.spec.catch_up = c;
        }
        next.updated = now_rfc3339();
        next.updated_by_id = Some(updated_by.to_owned());
        Ok(next)
    }

    /// Updates a schedule; a firing that moves it meanwhile makes the update start over.
    pub async fn update(
        &self,
        agent: &AgentRecord,
        id: &str,
        updated_by: &str,
        patch: &SchedulePatch,
    ) -> Result<ScheduleRecord, EngineError> {
        for _ in 0..5 {
            let current = self.get(agent, id).await?;
            let next = self.apply(agent, &current, patch, updated_by).await?;
            if self
                .engine
                .inner
                .store
                .update_schedule(&next, &current)
                .await?
            {
                self.engine.schedules_changed();
                return self.get(agent, id).await;
            }
        }
        Err(EngineError::Conflict(
            "the schedule kept changing while it was updated; try again".into(),
        ))
    }

    /// Deletes a schedule; its firings stay as history.
    pub async fn delete(&self, agent: &AgentRecord, id: &str) -> Result<(), EngineError> {
        let schedule = self.get(agent, id).await?;
        let store = &self.engine.inner.store;
        store
            .delete_schedule(&agent.project_id, &schedule.id)
            .await?;
        self.engine.schedules_changed();
        Ok(())
    }

    /// Runs an active schedule's payload now, without touching its cadence.
    pub async fn execute(
        &self,
        agent: &AgentRecord,
        id: &str,
    ) -> Result<(ScheduleRecord, TaskRecord), EngineError> {
        let schedule = self.get(agent, id).await?;
        if !schedule.is_active {
            return Err(EngineError::Inactive(
                "the schedule is inactive; activate it first".into(),
            ));
        }
        let task = self.engine.execute_schedule(&schedule).await?;
        Ok((schedule, task))
    }

    /// The last 100 firings, newest first, with their tasks' states.
    pub async fn executions(
        &self,
        agent: &AgentRecord,
        id: &str,
    ) -> Result<Vec<Execution>, EngineError> {
        let schedule = self.get(agent, id).await?;
        let store = &self.engine.inner.store;
        let firings = store.firings(&schedule.id, 100).await?;
        let ids: Vec<String> = firings.iter().map(|f| f.task_id.clone()).collect();
        let states = store.task_states(&agent.project_id, &ids).await?;
        Ok(firings
            .into_iter()
            .map(|firing| Execution {
                state: states.get(&firing.task_id).copied(),
                firing,
            })
            .collect())
    }
}
