//! Schedules: agents that run themselves (types only; the scheduler lives in the engine).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// How a schedule's expression is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScheduleType {
    /// A cron expression or descriptor.
    Cron,
    /// `@every <duration>`.
    Interval,
    /// `@at <RFC 3339>`: fires once.
    Once,
}

/// What a schedule sends to its agent at each firing.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SchedulePayload {
    /// The user message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    /// Template variables.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub variables: Map<String, Value>,
    /// Memory entity to bind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_entity_id: Option<String>,
    /// Metadata carried into the task and its trace.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub metadata: Map<String, Value>,
}

/// A schedule of an agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Schedule {
    /// ULID.
    pub id: String,
    /// The agent's key.
    pub agent_key: String,
    /// Pinned agent version, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_tag: Option<String>,
    /// Name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Type.
    #[serde(rename = "type")]
    pub kind: ScheduleType,
    /// The expression.
    pub expression: String,
    /// Whether it fires.
    pub is_active: bool,
    /// Bumped when type or expression change.
    pub generation: u32,
    /// Firings in this generation.
    pub trigger_count: u64,
    /// Last firing (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_triggered_at: Option<String>,
    /// What each firing sends.
    pub payload: SchedulePayload,
}
