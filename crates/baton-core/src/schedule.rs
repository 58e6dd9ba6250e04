//! Schedules: agents that run themselves. Types, expression parsing and the firing cadence
//! (pure: the scheduler that claims firings lives in the engine).
//!
//! Expressions, all in UTC:
//! - cron, 6 fields with seconds (`0 0 9 * * mon-fri`) or 5 fields (`0 9 * * 1`), names,
//!   ranges, lists and steps;
//! - descriptors `@hourly @daily @weekly @monthly @yearly` (and `@annually`, `@midnight`);
//! - `@every <duration>` with Go durations (`6h`, `1h30m`, `90m`), counted from the creation
//!   (or the last cadence change) of the schedule;
//! - `@at <RFC 3339 UTC>`: once.

use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::time::Duration;

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

/// What to do about firings missed while no server was running.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CatchUp {
    /// Missed firings are dropped (orq's documented behaviour).
    #[default]
    None,
    /// One firing runs for everything missed, then the cadence resumes.
    Latest,
}

/// What each firing sends to the agent.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SchedulePayload {
    /// The user message: a string, or message items (`[{role, content}]`, `{messages: […]}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<Value>,
    /// Template variables (secret ones sealed at rest).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub variables: Map<String, Value>,
    /// Memory entity to bind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_entity_id: Option<String>,
    /// Metadata carried into each task.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub metadata: Map<String, Value>,
}

impl SchedulePayload {
    /// The user message text of the input: a string as is; message items' user contents joined.
    pub fn input_text(&self) -> String {
        fn from_items(items: &[Value]) -> String {
            items
                .iter()
                .filter(|m| {
                    m.get("role")
                        .and_then(Value::as_str)
                        .is_none_or(|r| r == "user")
                })
                .filter_map(|m| match m.get("content") {
                    Some(Value::String(s)) => Some(s.clone()),
                    Some(Value::Array(parts)) => Some(
                        parts
                            .iter()
                            .filter_map(|p| p.get("text").and_then(Value::as_str))
                            .collect::<Vec<_>>()
                            .join("\n"),
                    ),
                    _ => None,
                })
                .collect::<Vec<_>>()
                .join("\n")
        }
        match &self.input {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(Value::Array(items)) => from_items(items),
            Some(Value::Object(o)) => match o.get("messages") {
                Some(Value::Array(items)) => from_items(items),
                _ => Value::Object(o.clone()).to_string(),
            },
            Some(other) => other.to_string(),
        }
    }
}

/// What a client sets on a schedule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScheduleSpec {
    /// Type.
    #[serde(rename = "type")]
    pub kind: ScheduleType,
    /// The expression.
    pub expression: String,
    /// Name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Pinned agent version (`3`, `v3`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_tag: Option<String>,
    /// What each firing sends.
    pub payload: SchedulePayload,
    /// Missed-firing policy.
    #[serde(default)]
    pub catch_up: CatchUp,
}

/// A stored schedule with its firing state.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleRecord {
    /// ULID.
    pub id: String,
    /// Owning project.
    pub project_id: crate::ProjectId,
    /// The agent's id.
    pub agent_id: String,
    /// The agent's key.
    pub agent_key: String,
    /// What the client set.
    pub spec: ScheduleSpec,
    /// Whether it fires.
    pub is_active: bool,
    /// Bumped when the cadence changes.
    pub generation: u32,
    /// Firings in this generation.
    pub trigger_count: u64,
    /// Last firing (RFC 3339).
    pub last_triggered_at: Option<String>,
    /// When it fires next (Unix ms); `None` when inactive.
    pub next_fire_at: Option<i64>,
    /// When the cadence started (Unix ms): `@every` counts from here.
    pub anchor_ms: i64,
    /// API key that created it.
    pub created_by_id: String,
    /// API key that changed it last.
    pub updated_by_id: Option<String>,
    /// Creation time (RFC 3339).
    pub created: String,
    /// Last update (RFC 3339).
    pub updated: String,
}

/// One firing of a schedule (or a manual execution) and the task it created.
#[derive(Debug, Clone, PartialEq)]
pub struct FiringRecord {
    /// The schedule.
    pub schedule_id: String,
    /// Its generation at the firing.
    pub generation: u32,
    /// When it was due (Unix ms); for a manual execution, when it was asked for.
    pub due_ms: i64,
    /// When it actually fired (Unix ms).
    pub fired_ms: i64,
    /// The task it created.
    pub task_id: String,
    /// Whether a client asked for it (`POST …/execution`).
    pub manual: bool,
}

/// A parsed expression: when it fires.
#[derive(Debug, Clone)]
pub enum Cadence {
    /// Cron.
    Cron(Box<croner::Cron>),
    /// Every so often from the anchor.
    Every(Duration),
    /// Once.
    At(i64),
}

/// Why an expression is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpressionError(pub String);

fn ms_to_utc(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

/// Parses a Go duration (`6h`, `1h30m`, `90m`, `1.5h`, `45s`, `500ms`).
pub fn parse_go_duration(text: &str) -> Result<Duration, ExpressionError> {
    let bad = || ExpressionError(format!("`{text}` is not a duration like 6h, 1h30m or 90m"));
    let mut rest = text.trim();
    if rest.is_empty() {
        return Err(bad());
    }
    let mut total = 0f64;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        if number_len == 0 {
            return Err(bad());
        }
        let number: f64 = rest[..number_len].parse().map_err(|_| bad())?;
        rest = &rest[number_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let seconds = match &rest[..unit_len] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 0.001,
            "us" | "µs" => 0.000_001,
            "ns" => 0.000_000_001,
            _ => return Err(bad()),
        };
        total += number * seconds;
        rest = &rest[unit_len..];
    }
    if total <= 0.0 || !total.is_finite() {
        return Err(bad());
    }
    Duration::try_from_secs_f64(total).map_err(|_| bad())
}

impl Cadence {
    /// Parses an expression of a type.
    pub fn parse(kind: ScheduleType, expression: &str) -> Result<Self, ExpressionError> {
        let text = expression.trim();
        match kind {
            ScheduleType::Interval => {
                let rest = text.strip_prefix("@every").ok_or_else(|| {
                    ExpressionError("an interval schedule's expression is `@every <duration>`, e.g. `@every 6h`".into())
                })?;
                Ok(Self::Every(parse_go_duration(rest)?))
            }
            ScheduleType::Once => {
                let rest = text.strip_prefix("@at").ok_or_else(|| {
                    ExpressionError("a once schedule's expression is `@at <RFC 3339 UTC>`, e.g. `@at 2026-06-01T09:00:00Z`".into())
                })?;
                let rest = rest.trim();
                let at = DateTime::parse_from_rfc3339(rest).map_err(|e| {
                    ExpressionError(format!("`{rest}` is not an RFC 3339 time: {e}"))
                })?;
                if at.offset().local_minus_utc() != 0 {
                    return Err(ExpressionError(format!(
                        "`{rest}` is not in UTC: only UTC times are accepted (end with Z)"
                    )));
                }
                Ok(Self::At(at.timestamp_millis()))
            }
            ScheduleType::Cron => {
                if text.starts_with("@every") || text.starts_with("@at") {
                    return Err(ExpressionError(format!(
                        "`{text}` is not a cron expression: use type `{}`",
                        if text.starts_with("@every") {
                            "interval"
                        } else {
                            "once"
                        }
                    )));
                }
                if text.contains("TZ=") || text.contains("CRON_TZ") {
                    return Err(ExpressionError(
                        "time zones are not accepted: cron expressions are read in UTC".into(),
                    ));
                }
                let lowered = text.to_ascii_lowercase();
                let pattern = match lowered.as_str() {
                    "@midnight" => "@daily".to_owned(),
                    _ if lowered.starts_with('@') => lowered.clone(),
                    _ => {
                        let fields = text.split_whitespace().count();
                        if !(fields == 5 || fields == 6) {
                            return Err(ExpressionError(format!(
                                "`{text}` has {fields} fields; cron takes 6 (sec min hour dom month dow) or 5 (min hour dom month dow)"
                            )));
                        }
                        text.to_owned()
                    }
                };
                let cron = croner::Cron::new(&pattern)
                    .with_seconds_optional()
                    .parse()
                    .map_err(|e| {
                        ExpressionError(format!("`{text}` is not a valid cron expression: {e}"))
                    })?;
                Ok(Self::Cron(Box::new(cron)))
            }
        }
    }

    /// The first firing strictly after `after_ms` (Unix ms), for a cadence anchored at
    /// `anchor_ms`; `None` when it never fires again.
    pub fn next_after(&self, anchor_ms: i64, after_ms: i64) -> Option<i64> {
        match self {
            Self::At(at) => (*at > after_ms).then_some(*at),
            Self::Every(every) => {
                // Checked: a long interval's later firings may lie past i64 milliseconds.
                let step = i64::try_from(every.as_millis()).unwrap_or(i64::MAX).max(1);
                if after_ms < anchor_ms {
                    return anchor_ms.checked_add(step);
                }
                let k = (after_ms - anchor_ms) / step + 1;
                k.checked_mul(step).and_then(|ms| anchor_ms.checked_add(ms))
            }
            Self::Cron(cron) => cron
                .find_next_occurrence(&ms_to_utc(after_ms), false)
                .ok()
                .map(|t| t.timestamp_millis()),
        }
    }

    /// The shortest gap between consecutive firings over the next year (at most 2000 firings),
    /// from real firing times; `None` for a schedule that fires at most once.
    pub fn shortest_gap(&self, from_ms: i64) -> Option<Duration> {
        match self {
            Self::At(_) => None,
            Self::Every(every) => Some(*every),
            Self::Cron(_) => {
                let horizon = from_ms + 366 * 24 * 3600 * 1000;
                let mut previous = self.next_after(from_ms, from_ms)?;
                let mut shortest: Option<i64> = None;
                for _ in 0..2000 {
                    let Some(next) = self.next_after(from_ms, previous) else {
                        break;
                    };
                    let gap = next - previous;
                    shortest = Some(shortest.map_or(gap, |s| s.min(gap)));
                    if next > horizon {
                        break;
                    }
                    previous = next;
                }
                shortest.map(|ms| Duration::from_millis(ms.max(0) as u64))
            }
        }
    }
}

/// Parses and checks an expression: valid for its type, fires at least once from `now_ms`,
/// and (but for `once`) never more often than `min_interval`.
pub fn check_expression(
    kind: ScheduleType,
    expression: &str,
    now_ms: i64,
    min_interval: Duration,
) -> Result<Cadence, ExpressionError> {
    let cadence = Cadence::parse(kind, expression)?;
    if cadence.next_after(now_ms, now_ms).is_none() {
        return Err(ExpressionError(match kind {
            ScheduleType::Once => format!("`{expression}` is in the past"),
            _ => format!("`{expression}` never fires"),
        }));
    }
    if let Some(gap) = cadence.shortest_gap(now_ms) {
        if gap < min_interval {
            return Err(ExpressionError(format!(
                "`{expression}` fires every {} s at its most frequent; the minimum interval is {} s",
                gap.as_secs_f64(),
                min_interval.as_secs()
            )));
        }
    }
    Ok(cadence)
}

/// Schedules and their firings.
#[async_trait::async_trait]
pub trait ScheduleStore: Send + Sync {
    /// Stores a new schedule.
    async fn create_schedule(&self, s: &ScheduleRecord) -> Result<(), crate::store::StoreError>;

    /// A schedule of an agent.
    async fn schedule(
        &self,
        project: &crate::ProjectId,
        agent_id: &str,
        id: &str,
    ) -> Result<Option<ScheduleRecord>, crate::store::StoreError>;

    /// An agent's schedules, newest first.
    async fn list_schedules(
        &self,
        project: &crate::ProjectId,
        agent_id: &str,
    ) -> Result<Vec<ScheduleRecord>, crate::store::StoreError>;

    /// Replaces a schedule if its firing state is still `expected`'s (generation, next firing
    /// and trigger count); `false` when a firing or another update came first.
    async fn update_schedule(
        &self,
        s: &ScheduleRecord,
        expected: &ScheduleRecord,
    ) -> Result<bool, crate::store::StoreError>;

    /// Deletes a schedule (its firings stay as history); `NotFound` if absent.
    async fn delete_schedule(
        &self,
        project: &crate::ProjectId,
        id: &str,
    ) -> Result<(), crate::store::StoreError>;

    /// Active schedules due at `now_ms`, the most overdue first, from every project.
    async fn due_schedules(
        &self,
        now_ms: i64,
        limit: u64,
    ) -> Result<Vec<ScheduleRecord>, crate::store::StoreError>;

    /// When the next active schedule is due (Unix ms), if any.
    async fn next_due(&self) -> Result<Option<i64>, crate::store::StoreError>;

    /// Moves a due schedule on, atomically: if it is still at `expected_generation` and
    /// `expected_next`, sets its firing state from `advanced` and, for a firing (not a skipped,
    /// missed one), stores `firing` and its task. `false` when another server got there first.
    async fn fire_schedule(
        &self,
        advanced: &ScheduleRecord,
        expected_generation: u32,
        expected_next: i64,
        firing: Option<(&FiringRecord, &crate::store::TaskRecord)>,
    ) -> Result<bool, crate::store::StoreError>;

    /// Stores a manual execution and its task together.
    async fn record_execution(
        &self,
        firing: &FiringRecord,
        task: &crate::store::TaskRecord,
    ) -> Result<(), crate::store::StoreError>;

    /// A schedule's firings, newest first.
    async fn firings(
        &self,
        schedule_id: &str,
        limit: u64,
    ) -> Result<Vec<FiringRecord>, crate::store::StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: Duration = Duration::from_secs(3600);

    fn ms(text: &str) -> i64 {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .timestamp_millis()
    }

    fn next(kind: ScheduleType, expr: &str, anchor: &str, after: &str) -> String {
        let c = Cadence::parse(kind, expr).unwrap();
        let t = c.next_after(ms(anchor), ms(after)).unwrap();
        ms_to_utc(t).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    }

    #[test]
    fn every_expression_form_fires_when_it_should() {
        use ScheduleType::*;
        let a = "2026-06-01T10:17:00Z";
        // 2026-06-05 is a Friday, so the next weekday 9:00 after it is Monday the 8th.
        assert_eq!(
            next(Cron, "0 0 9 * * mon-fri", a, "2026-06-05T10:00:00Z"),
            "2026-06-08T09:00:00Z"
        );
        assert_eq!(next(Cron, "0 9 * * 1", a, a), "2026-06-08T09:00:00Z");
        assert_eq!(next(Cron, "@hourly", a, a), "2026-06-01T11:00:00Z");
        assert_eq!(next(Cron, "@daily", a, a), "2026-06-02T00:00:00Z");
        assert_eq!(next(Cron, "@weekly", a, a), "2026-06-07T00:00:00Z");
        assert_eq!(next(Cron, "@monthly", a, a), "2026-07-01T00:00:00Z");
        assert_eq!(next(Cron, "@yearly", a, a), "2027-01-01T00:00:00Z");
        assert_eq!(next(Interval, "@every 6h", a, a), "2026-06-01T16:17:00Z");
        assert_eq!(
            next(Interval, "@every 1h30m", a, "2026-06-01T13:00:00Z"),
            "2026-06-01T13:17:00Z"
        );
        assert_eq!(
            next(Once, "@at 2026-07-01T09:00:00Z", a, a),
            "2026-07-01T09:00:00Z"
        );
        assert!(Cadence::parse(Once, "@at 2026-07-01T09:00:00Z")
            .unwrap()
            .next_after(0, ms("2026-07-01T09:00:00Z"))
            .is_none());
    }

    #[test]
    fn sub_hour_cadences_are_refused_from_their_real_firing_times() {
        use ScheduleType::*;
        let now = ms("2026-06-01T10:00:00Z");
        for (kind, expr) in [
            (Interval, "@every 30m"),
            (Cron, "*/5 * * * * *"),
            (Cron, "0 */30 * * * *"),
            (Cron, "0 0,30 9 * * *"),
            (Cron, "*/10 * * * *"),
        ] {
            let e = check_expression(kind, expr, now, HOUR).unwrap_err();
            assert!(e.0.contains("minimum interval"), "{expr}: {e:?}");
        }
        for (kind, expr) in [
            (Interval, "@every 1h"),
            (Cron, "0 0 * * * *"),
            (Cron, "0 0 9 * * mon-fri"),
            (Once, "@at 2026-06-01T10:05:00Z"),
        ] {
            assert!(check_expression(kind, expr, now, HOUR).is_ok(), "{expr}");
        }
        // The test override: a second-granular cadence with a one-second minimum.
        assert!(check_expression(Cron, "* * * * * *", now, Duration::from_secs(1)).is_ok());
    }

    #[test]
    fn bad_expressions_say_what_is_wrong() {
        use ScheduleType::*;
        let now = ms("2026-06-01T10:00:00Z");
        for (kind, expr, says) in [
            (Cron, "0 0 9 * *  * *", "fields"),
            (Cron, "61 0 9 * * *", "not a valid cron"),
            (Cron, "@every 6h", "use type `interval`"),
            (Cron, "CRON_TZ=Europe/Paris 0 9 * * *", "time zones"),
            (Interval, "every 6h", "@every"),
            (Interval, "@every soon", "not a duration"),
            (Once, "@at 2026-06-01T09:00:00+02:00", "not in UTC"),
            (Once, "@at 2020-01-01T00:00:00Z", "in the past"),
            (Once, "@at tomorrow", "RFC 3339"),
        ] {
            let e = check_expression(kind, expr, now, HOUR).unwrap_err();
            assert!(e.0.contains(says), "{expr}: {e:?}");
        }
    }

    #[test]
    fn inputs_become_text() {
        let p = |v: Value| SchedulePayload {
            input: Some(v),
            ..Default::default()
        };
        assert_eq!(p(Value::String("hi".into())).input_text(), "hi");
        let items = serde_json::json!({"messages": [{"role": "user", "content": "Write a post."}]});
        assert_eq!(p(items).input_text(), "Write a post.");
        let items =
            serde_json::json!([{"role": "user", "content": [{"type": "input_text", "text": "a"}]}]);
        assert_eq!(p(items).input_text(), "a");
    }
}
