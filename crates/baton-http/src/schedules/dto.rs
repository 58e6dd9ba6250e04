//! The bodies of `/v3/agents/{key}/schedules` and Orchestra's `POST /api/schedules`. Response
//! fields are declared in the order earlier releases sent them (alphabetical).

use crate::run_wire::TaskState;
use crate::wire::rfc3339_ms;
use baton_core::schedule::{CatchUp, ScheduleRecord, ScheduleType};
use baton_engine::prompt;
use baton_engine::schedules::{Execution, NewSchedule, PayloadInput};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// How a schedule's expression is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ScheduleKind {
    /// A cron expression (5 or 6 fields, UTC) or a descriptor (`@daily`, …).
    Cron,
    /// `@every <duration>` (`6h`, `1h30m`).
    Interval,
    /// `@at <RFC 3339 UTC>`: fires once.
    Once,
}

impl From<ScheduleKind> for ScheduleType {
    fn from(kind: ScheduleKind) -> Self {
        match kind {
            ScheduleKind::Cron => Self::Cron,
            ScheduleKind::Interval => Self::Interval,
            ScheduleKind::Once => Self::Once,
        }
    }
}

impl From<ScheduleType> for ScheduleKind {
    fn from(kind: ScheduleType) -> Self {
        match kind {
            ScheduleType::Cron => Self::Cron,
            ScheduleType::Interval => Self::Interval,
            ScheduleType::Once => Self::Once,
        }
    }
}

/// What to do about firings missed while no server ran.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CatchUpPolicy {
    /// Missed firings are dropped.
    #[default]
    None,
    /// One firing runs for everything missed, then the cadence resumes.
    Latest,
}

impl From<CatchUpPolicy> for CatchUp {
    fn from(policy: CatchUpPolicy) -> Self {
        match policy {
            CatchUpPolicy::None => Self::None,
            CatchUpPolicy::Latest => Self::Latest,
        }
    }
}

impl From<CatchUp> for CatchUpPolicy {
    fn from(policy: CatchUp) -> Self {
        match policy {
            CatchUp::None => Self::None,
            CatchUp::Latest => Self::Latest,
        }
    }
}

/// What each firing sends to the agent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SchedulePayloadInput {
    /// The user message: a string, or message items (`[{role, content}]`, `{messages: […]}`).
    #[serde(default)]
    pub input: Option<Value>,
    /// Template variables (`{"secret": true, "value": …}` is sealed at rest).
    #[serde(default)]
    pub variables: Map<String, Value>,
    /// Memory entity to bind.
    #[serde(default)]
    pub memory_entity_id: Option<String>,
    /// Metadata carried into each task.
    #[serde(default)]
    pub metadata: Map<String, Value>,
}

impl From<SchedulePayloadInput> for PayloadInput {
    fn from(p: SchedulePayloadInput) -> Self {
        Self {
            input: p.input,
            variables: p.variables,
            memory_entity_id: p.memory_entity_id,
            metadata: p.metadata,
        }
    }
}

/// The body of `POST /v3/agents/{agent_key}/schedules`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"type": "cron", "expression": "0 0 9 * * mon-fri",
    "payload": {"input": "Summarize yesterday's tickets", "variables": {"team": "support"}},
    "display_name": "Weekday digest", "catch_up": "latest"}))]
pub struct CreateScheduleRequest {
    /// How `expression` is read.
    #[serde(rename = "type")]
    pub kind: ScheduleKind,
    /// The cadence, all in UTC: cron (`0 0 9 * * mon-fri`, `0 9 * * 1`), a descriptor
    /// (`@daily`), `@every 6h` or `@at 2026-05-01T09:00:00Z`.
    pub expression: String,
    /// What each firing sends.
    #[serde(deserialize_with = "crate::extract::object")]
    pub payload: SchedulePayloadInput,
    /// A name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// Pin an agent version (`3`, `v3`); the live version otherwise.
    #[serde(default)]
    pub agent_tag: Option<String>,
    /// Missed-firing policy.
    #[serde(default)]
    pub catch_up: CatchUpPolicy,
}

impl From<CreateScheduleRequest> for NewSchedule {
    fn from(b: CreateScheduleRequest) -> Self {
        Self {
            kind: b.kind.into(),
            expression: b.expression,
            payload: b.payload.into(),
            display_name: b.display_name,
            agent_tag: b.agent_tag,
            catch_up: b.catch_up.into(),
        }
    }
}

/// The body of `PATCH /v3/agents/{agent_key}/schedules/{schedule_id}`: the fields to change.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct UpdateScheduleRequest {
    /// How `expression` is read.
    #[serde(default, rename = "type")]
    pub kind: Option<ScheduleKind>,
    /// The cadence.
    #[serde(default)]
    pub expression: Option<String>,
    /// What each firing sends (replaces the payload).
    #[serde(default)]
    #[schema(value_type = Option<SchedulePayloadInput>)]
    pub payload: Option<Value>,
    /// Whether it fires.
    #[serde(default)]
    pub is_active: Option<bool>,
    /// Pin an agent version.
    #[serde(default)]
    pub agent_tag: Option<String>,
    /// A name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// Missed-firing policy.
    #[serde(default)]
    pub catch_up: Option<CatchUpPolicy>,
}

/// A schedule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"_id": "01JSCHED000000000000000000", "agent_key": "digest-agent",
    "type": "cron", "expression": "0 0 9 * * mon-fri", "display_name": "Weekday digest",
    "is_active": true, "generation": 1, "trigger_count": 0, "last_triggered_at": null,
    "next_run_at": "2026-05-04T09:00:00.000Z", "catch_up": "latest",
    "payload": {"input": "Summarize yesterday's tickets", "variables": {"team": "support"}},
    "created_by_id": "01JKEY0000000000000000000", "created": "2026-05-01T08:00:00.000Z",
    "updated": "2026-05-01T08:00:00.000Z"}))]
#[non_exhaustive]
pub struct Schedule {
    /// The schedule's id.
    #[serde(rename = "_id")]
    pub id: String,
    /// The agent it runs.
    pub agent_key: String,
    /// The pinned agent version (absent: the live version).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub agent_tag: Option<String>,
    /// Missed-firing policy.
    pub catch_up: CatchUpPolicy,
    /// Creation time (RFC 3339).
    pub created: String,
    /// The API key that created it.
    pub created_by_id: String,
    /// Its name (absent when unnamed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub display_name: Option<String>,
    /// The cadence.
    pub expression: String,
    /// Bumped when the cadence changes.
    pub generation: u32,
    /// Whether it fires.
    pub is_active: bool,
    /// The last firing (RFC 3339), null before the first.
    #[schema(required = true)]
    pub last_triggered_at: Option<String>,
    /// The next firing (RFC 3339), null when inactive or done.
    #[schema(required = true)]
    pub next_run_at: Option<String>,
    /// What each firing sends (secret variables redacted).
    pub payload: SchedulePayload,
    /// Firings in this generation.
    pub trigger_count: u64,
    /// How `expression` is read.
    #[serde(rename = "type")]
    pub kind: ScheduleKind,
    /// Last change (RFC 3339).
    pub updated: String,
    /// The API key that changed it last (absent until a change).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub updated_by_id: Option<String>,
}

/// What each firing of a [`Schedule`] sends.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SchedulePayload {
    /// The user message (absent when none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub input: Option<Value>,
    /// The memory entity bound (absent when none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub memory_entity_id: Option<String>,
    /// Metadata carried into each task (absent when empty).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub metadata: Map<String, Value>,
    /// Template variables, secret ones redacted.
    pub variables: Map<String, Value>,
}

impl From<&ScheduleRecord> for Schedule {
    fn from(s: &ScheduleRecord) -> Self {
        let payload = &s.spec.payload;
        Self {
            id: s.id.clone(),
            agent_key: s.agent_key.clone(),
            agent_tag: s.spec.agent_tag.clone(),
            catch_up: s.spec.catch_up.into(),
            created: s.created.clone(),
            created_by_id: s.created_by_id.clone(),
            display_name: s.spec.display_name.clone(),
            expression: s.spec.expression.clone(),
            generation: s.generation,
            is_active: s.is_active,
            last_triggered_at: s.last_triggered_at.clone(),
            next_run_at: s.next_fire_at.filter(|_| s.is_active).and_then(rfc3339_ms),
            payload: SchedulePayload {
                input: payload.input.clone(),
                memory_entity_id: payload.memory_entity_id.clone(),
                metadata: payload.metadata.clone(),
                variables: prompt::redacted(&payload.variables),
            },
            trigger_count: s.trigger_count,
            kind: s.spec.kind.into(),
            updated: s.updated.clone(),
            updated_by_id: s.updated_by_id.clone(),
        }
    }
}

/// An agent's schedules, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ScheduleList {
    /// The schedules.
    pub schedules: Vec<Schedule>,
}

/// The answer to a manual execution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ScheduleTriggered {
    /// The schedule's id.
    pub schedule_id: String,
    /// Always `triggered`.
    pub status: TriggeredStatus,
    /// The task the execution created: poll it under `/v2/agents/{key}/responses`.
    pub task_id: String,
}

/// The `status` of [`ScheduleTriggered`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TriggeredStatus {
    /// A task was created.
    Triggered,
}

/// A schedule's executions, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ScheduleExecutions {
    /// The executions.
    pub executions: Vec<ScheduleExecution>,
}

/// A firing of a schedule and the state of the task it created.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ScheduleExecution {
    /// When it was due (RFC 3339).
    #[schema(required = true)]
    pub due_at: Option<String>,
    /// When it fired (RFC 3339).
    #[schema(required = true)]
    pub fired_at: Option<String>,
    /// The schedule's generation it belonged to.
    pub generation: u32,
    /// How late it fired, in milliseconds.
    pub lateness_ms: i64,
    /// Whether a client executed it by hand.
    pub manual: bool,
    /// The task's state (null when the task is gone).
    #[schema(required = true)]
    pub state: Option<TaskState>,
    /// The task it created.
    pub task_id: String,
}

impl From<&Execution> for ScheduleExecution {
    fn from(e: &Execution) -> Self {
        let f = &e.firing;
        Self {
            due_at: rfc3339_ms(f.due_ms),
            fired_at: rfc3339_ms(f.fired_ms),
            generation: f.generation,
            lateness_ms: f.fired_ms - f.due_ms,
            manual: f.manual,
            state: e.state.map(TaskState::from),
            task_id: f.task_id.clone(),
        }
    }
}

/// Orchestra's schedule: `{title, trigger: {type, expression}, task: {input, metadata:
/// {assistant_id, …}}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"title": "Morning digest", "trigger": {"type": "cron", "expression": "0 9 * * 1-5"},
    "task": {"input": "Summarize yesterday", "metadata": {"assistant_id": "digest-agent", "thread_id": "t-1"}}}))]
pub struct OrchestraScheduleRequest {
    /// The schedule's name.
    #[serde(default)]
    pub title: Option<String>,
    /// When it fires.
    pub trigger: OrchestraTrigger,
    /// What it runs.
    pub task: OrchestraTask,
}

/// When an Orchestra schedule fires.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OrchestraTrigger {
    /// `cron`, `interval`, or `once` (also `date`).
    #[serde(rename = "type")]
    #[schema(value_type = OrchestraTriggerType)]
    pub kind: String,
    /// The cadence, as for `/v3` schedules.
    pub expression: String,
}

/// The trigger types Orchestra's form takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrchestraTriggerType {
    /// A cron expression.
    Cron,
    /// `@every <duration>`.
    Interval,
    /// Fires once.
    Once,
    /// The same as `once`.
    Date,
}

/// What an Orchestra schedule runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OrchestraTask {
    /// The user message.
    #[serde(default)]
    pub input: Option<Value>,
    /// `assistant_id` names the agent; the other keys are carried into each task.
    #[serde(default)]
    #[schema(value_type = OrchestraTaskMetadata, required = true)]
    pub metadata: Map<String, Value>,
}

/// The `metadata` of an [`OrchestraTask`] (read as a map: the handler takes `assistant_id`
/// out of it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OrchestraTaskMetadata {
    /// The agent to run: its key or id.
    pub assistant_id: String,
    /// Other keys (`thread_id`, …), carried into each task.
    #[serde(flatten)]
    pub rest: Map<String, Value>,
}

/// The body of `POST /v3/schedules/preview`: a cadence as a schedule's create body gives it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"type": "cron", "expression": "0 9 * * 1-5"}))]
pub struct SchedulePreviewRequest {
    /// How `expression` is read.
    #[serde(rename = "type")]
    pub kind: ScheduleKind,
    /// The cadence, in UTC, as for `POST /v3/agents/{agent_key}/schedules`.
    pub expression: String,
}

/// When a schedule with the previewed cadence, created now, would fire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"next_run_at": ["2026-05-04T09:00:00.000Z", "2026-05-05T09:00:00.000Z"]}))]
pub struct SchedulePreview {
    /// Its next firings (RFC 3339, UTC), at most five; one for a `once` schedule.
    pub next_run_at: Vec<String>,
}
