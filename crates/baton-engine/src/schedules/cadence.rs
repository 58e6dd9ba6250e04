//! How a PATCH moves a schedule's cadence.

use super::SchedulePatch;
use crate::EngineError;
use baton_core::schedule::{check_expression, ScheduleRecord};

/// The cadence part of a PATCH, pure: a new type or expression, or a reactivation, starts a
/// new generation anchored at `now_ms` (a new cadence also resets `trigger_count`); a
/// deactivation clears the next firing; anything else leaves the cadence as it is.
pub fn move_cadence(
    current: &ScheduleRecord,
    patch: &SchedulePatch,
    now_ms: i64,
    min_interval: std::time::Duration,
) -> Result<ScheduleRecord, EngineError> {
    let mut next = current.clone();
    let kind = patch.kind.unwrap_or(current.spec.kind);
    let expression = patch
        .expression
        .as_deref()
        .map_or(current.spec.expression.as_str(), str::trim);
    let cadence_changed = kind != current.spec.kind || expression != current.spec.expression;
    let activating = patch.is_active == Some(true) && !current.is_active;
    if cadence_changed || activating {
        let cadence = check_expression(kind, expression, now_ms, min_interval)
            .map_err(|e| EngineError::Expression(e.0))?;
        next.spec.kind = kind;
        next.spec.expression = expression.to_owned();
        next.generation = current.generation + 1;
        next.anchor_ms = now_ms;
        if cadence_changed {
            next.trigger_count = 0;
        }
        next.is_active = patch.is_active.unwrap_or(current.is_active);
        next.next_fire_at = next
            .is_active
            .then(|| cadence.next_after(now_ms, now_ms))
            .flatten();
    } else if patch.is_active == Some(false) && current.is_active {
        next.is_active = false;
        next.next_fire_at = None;
    }
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use baton_core::schedule::{CatchUp, SchedulePayload, ScheduleSpec, ScheduleType};
    use baton_core::ProjectId;
    use std::time::Duration;

    const HOUR: i64 = 3_600_000;
    const NOW: i64 = 1_800_000_000_000;

    fn hourly() -> ScheduleRecord {
        ScheduleRecord {
            id: "s".into(),
            project_id: ProjectId("p".into()),
            agent_id: "a".into(),
            agent_key: "k".into(),
            spec: ScheduleSpec {
                kind: ScheduleType::Interval,
                expression: "@every 1h".into(),
                display_name: None,
                agent_tag: None,
                payload: SchedulePayload::default(),
                catch_up: CatchUp::None,
            },
            is_active: true,
            generation: 3,
            trigger_count: 7,
            last_triggered_at: None,
            next_fire_at: Some(NOW - HOUR / 2 + HOUR),
            anchor_ms: NOW - 10 * HOUR,
            created_by_id: "key".into(),
            updated_by_id: None,
            created: "c".into(),
            updated: "u".into(),
        }
    }

    fn moved(current: &ScheduleRecord, patch: SchedulePatch) -> ScheduleRecord {
        move_cadence(current, &patch, NOW, Duration::from_secs(3600)).unwrap()
    }

    #[test]
    fn changes_beside_the_cadence_keep_it() {
        let current = hourly();
        let same = SchedulePatch {
            expression: Some("  @every 1h ".into()),
            is_active: Some(true),
            display_name: Some("renamed".into()),
            ..Default::default()
        };
        assert_eq!(moved(&current, same), current);
    }

    #[test]
    fn a_new_cadence_starts_a_generation_from_now() {
        let next = moved(
            &hourly(),
            SchedulePatch {
                expression: Some("@every 2h".into()),
                ..Default::default()
            },
        );
        assert_eq!((next.generation, next.trigger_count), (4, 0));
        assert_eq!(next.anchor_ms, NOW);
        assert_eq!(next.next_fire_at, Some(NOW + 2 * HOUR));
        assert_eq!(next.spec.expression, "@every 2h");
    }

    #[test]
    fn deactivating_clears_the_next_firing_and_reactivating_starts_a_generation() {
        let off = moved(
            &hourly(),
            SchedulePatch {
                is_active: Some(false),
                ..Default::default()
            },
        );
        assert!(!off.is_active);
        assert_eq!((off.next_fire_at, off.generation), (None, 3));
        let on = moved(
            &off,
            SchedulePatch {
                is_active: Some(true),
                ..Default::default()
            },
        );
        assert!(on.is_active);
        assert_eq!((on.generation, on.trigger_count), (4, 7), "the count stays");
        assert_eq!(on.next_fire_at, Some(NOW + HOUR));
    }

    #[test]
    fn a_new_cadence_while_deactivating_stays_off() {
        let next = moved(
            &hourly(),
            SchedulePatch {
                expression: Some("@every 3h".into()),
                is_active: Some(false),
                ..Default::default()
            },
        );
        assert!(!next.is_active);
        assert_eq!((next.generation, next.next_fire_at), (4, None));
    }

    #[test]
    fn a_bad_or_too_frequent_expression_is_an_expression_error() {
        for expression in ["@every soon", "@every 1m"] {
            let patch = SchedulePatch {
                expression: Some(expression.into()),
                ..Default::default()
            };
            let err = move_cadence(&hourly(), &patch, NOW, Duration::from_secs(3600));
            assert!(
                matches!(err, Err(EngineError::Expression(_))),
                "{expression}"
            );
        }
    }
}
