//! A run resumed after its server stopped: what was in flight is rerun, reported or reviewed,
//! and every cut attempt is on record.

use super::*;
use crate::machine::{transition, AfterInterruption, Context, Effect, Input, Interruption};
use crate::machine::{RunEvent, OUTCOME_UNKNOWN};
use crate::state::{ModelAttempt, Review, ToolAttempt};
use baton_core::task::TaskState;

fn ctx(spec: &baton_core::agent::AgentSpec) -> Context<'_> {
    Context {
        spec,
        kinds: &Kinds,
        task_id: "task-1",
        now_ms: 9_000,
    }
}

fn next() -> Input {
    Input::Next {
        now_ms: 1_000,
        cancel_requested: false,
        hand_over: false,
    }
}

/// A task whose server stopped while `calls` ran (their intents stored, no results).
fn cut_during(calls: &[ToolCall]) -> TaskData {
    let mut data = task(vec![text(Role::User, "hi"), asked(calls)]);
    for c in calls {
        data.in_flight.insert(
            c.id.clone(),
            ToolAttempt {
                attempt: 1,
                started_ms: 100,
                interrupted: false,
            },
        );
    }
    data
}

fn interruptions(effects: &[Effect]) -> Vec<&Interruption> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Interrupted(i) => Some(i),
            _ => None,
        })
        .collect()
}

#[test]
fn an_idempotent_call_cut_by_a_crash_runs_again_as_its_second_attempt() {
    let spec = spec(json!({}));
    let c = ctx(&spec);
    let mut data = cut_during(&[call("a", "read")]);
    let effects = transition(&mut data, &c, Input::Start);
    assert_eq!(
        interruptions(&effects),
        [&Interruption::Tool {
            call: call("a", "read"),
            attempt: ToolAttempt {
                attempt: 1,
                started_ms: 100,
                interrupted: true
            },
            next: AfterInterruption::Rerun,
        }]
    );
    assert_eq!(effects.last(), Some(&Effect::Checkpoint));
    // Stopped again before the rerun started: the cut attempt is not reported twice.
    let again = transition(&mut data, &c, Input::Start);
    assert!(interruptions(&again).is_empty(), "{again:?}");
    let effects = transition(&mut data, &c, next());
    assert_eq!(
        effects,
        [
            Effect::Publish(RunEvent::ToolStarted {
                tool_id: "id-read".into(),
                call: call("a", "read"),
                attempt: 2,
            }),
            Effect::Checkpoint,
            Effect::CallTools {
                run: vec![call("a", "read")],
                rejected: vec![]
            },
        ]
    );
    assert_eq!(
        data.in_flight["a"],
        ToolAttempt {
            attempt: 2,
            started_ms: 9_000,
            interrupted: false
        }
    );
    transition(
        &mut data,
        &c,
        Input::ToolReturned {
            call: call("a", "read"),
            result: Ok(json!("r")),
            spent: Default::default(),
            children: vec![],
            sub_agent_calls: 0,
        },
    );
    assert!(
        matches!(&data.history.last().unwrap().parts[0],
            Part::ToolResult { metadata: Some(note), .. } if note["attempts"] == 2),
        "the history notes both attempts: {:?}",
        data.history.last()
    );
}

#[test]
fn a_call_with_side_effects_cut_by_a_crash_is_reported_outcome_unknown_not_run_again() {
    let spec = spec(json!({}));
    let c = ctx(&spec);
    let mut data = cut_during(&[call("a", "lookup"), call("b", "read")]);
    let effects = transition(&mut data, &c, Input::Start);
    let cut = interruptions(&effects);
    assert!(
        matches!(cut[0], Interruption::Tool { call, next: AfterInterruption::Unknown, .. } if call.id == "a")
    );
    assert!(matches!(
        cut[1],
        Interruption::Tool {
            next: AfterInterruption::Rerun,
            ..
        }
    ));
    assert!(effects.contains(&Effect::Publish(RunEvent::ToolFailed {
        tool_id: "id-lookup".into(),
        call_id: "a".into(),
        error: OUTCOME_UNKNOWN.into(),
    })));
    let answer = data.history.last().unwrap();
    assert_eq!(answer.role, Role::Tool);
    assert_eq!(
        answer.parts,
        [Part::ToolResult {
            tool_call_id: "a".into(),
            result: Some(json!({"error": OUTCOME_UNKNOWN})),
            metadata: json!({"attempts": 1, "outcome": "unknown"})
                .as_object()
                .cloned(),
        }],
        "the model (and the task's history) sees that the outcome is unknown"
    );
    assert!(!data.in_flight.contains_key("a"));
    match transition(&mut data, &c, next()).as_slice() {
        [Effect::Publish(RunEvent::ToolStarted {
            call, attempt: 2, ..
        }), Effect::Checkpoint, Effect::CallTools { run, .. }] => {
            assert_eq!(call.id, "b");
            assert_eq!(run.len(), 1, "only the idempotent call runs again");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_call_that_needs_approval_cut_by_a_crash_goes_back_to_its_reviewer() {
    let spec = spec(json!({}));
    let c = ctx(&spec);
    let mut data = cut_during(&[call("a", "transfer")]);
    data.reviews.insert(
        "a".into(),
        Review {
            approved: true,
            reason: None,
        },
    );
    let effects = transition(&mut data, &c, Input::Start);
    assert!(matches!(
        interruptions(&effects)[..],
        [Interruption::Tool {
            next: AfterInterruption::Review,
            ..
        }]
    ));
    assert!(
        data.reviews.is_empty(),
        "the old approval was for the cut attempt"
    );
    let effects = transition(&mut data, &c, next());
    assert_eq!(effects[0], Effect::Enter(TaskState::InputRequired));
    assert!(
        effects.contains(&Effect::Publish(RunEvent::ReviewRequested {
            tool_id: "id-transfer".into(),
            call: call("a", "transfer"),
        }))
    );
    assert_eq!(data.awaiting_review, [call("a", "transfer")]);
    assert!(
        data.history.last().unwrap().role == Role::Agent,
        "no result was invented"
    );

    // The reviewer approves: the call runs again as its second attempt.
    data.awaiting_review.clear();
    data.reviews.insert(
        "a".into(),
        Review {
            approved: true,
            reason: None,
        },
    );
    let restarted = transition(&mut data, &c, Input::Start);
    assert!(interruptions(&restarted).is_empty());
    let effects = transition(&mut data, &c, next());
    assert!(effects.contains(&Effect::Publish(RunEvent::ToolStarted {
        tool_id: "id-transfer".into(),
        call: call("a", "transfer"),
        attempt: 2,
    })));
}

#[test]
fn a_reviewer_who_rejects_a_cut_call_is_not_told_it_never_ran() {
    let spec = spec(json!({}));
    let c = ctx(&spec);
    let mut data = cut_during(&[call("a", "transfer")]);
    transition(&mut data, &c, Input::Start);
    data.reviews.insert(
        "a".into(),
        Review {
            approved: false,
            reason: None,
        },
    );
    match transition(&mut data, &c, next()).last() {
        Some(Effect::CallTools { run, rejected }) => {
            assert!(run.is_empty());
            assert!(rejected[0]
                .1
                .contains("outcome of its interrupted attempt is unknown"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_result_supplied_for_a_cut_call_clears_its_intent() {
    let spec = spec(json!({}));
    let mut data = cut_during(&[call("a", "transfer")]);
    data.history.push(std::sync::Arc::new(Message {
        message_id: "r".into(),
        role: Role::Tool,
        parts: vec![Part::ToolResult {
            tool_call_id: "a".into(),
            result: Some(json!("done by hand")),
            metadata: None,
        }],
    }));
    let effects = transition(&mut data, &ctx(&spec), Input::Start);
    assert!(interruptions(&effects).is_empty());
    assert!(data.in_flight.is_empty());
}

#[test]
fn a_model_call_cut_by_a_crash_is_counted_and_made_again_as_its_next_attempt() {
    let spec = spec(json!({}));
    let c = ctx(&spec);
    let mut data = task(vec![text(Role::User, "hi")]);
    let start = transition(&mut data, &c, Input::Start);
    assert!(interruptions(&start).is_empty());
    let staged = ModelAttempt {
        attempt: 1,
        started_ms: 9_000,
    };
    assert_eq!(
        data.model_call,
        Some(staged),
        "the first checkpoint records the call"
    );

    // The server stops during the call; another resumes the task.
    let effects = transition(&mut data, &c, Input::Start);
    assert_eq!(interruptions(&effects), [&Interruption::Model(staged)]);
    assert_eq!(data.usage.interrupted_model_calls, 1);
    assert_eq!(data.turn_usage.interrupted_model_calls, 1);
    assert_eq!(data.usage.total_tokens, 0, "no tokens are invented");
    assert_eq!(data.model_call.map(|m| m.attempt), Some(2));
    assert_eq!(transition(&mut data, &c, next()), [Effect::CallModel]);

    // The turn ends: nothing is left staged.
    let effects = transition(&mut data, &c, Input::Failed("all models failed".into()));
    assert_eq!(effects.last(), Some(&Effect::Stop));
    assert_eq!(data.model_call, None);
}

#[test]
fn a_person_can_answer_a_cut_call_with_a_result_instead_of_a_review() {
    let spec = spec(json!({}));
    let c = ctx(&spec);
    let mut data = cut_during(&[call("a", "transfer")]);
    data.reviews.insert(
        "a".into(),
        Review {
            approved: true,
            reason: None,
        },
    );
    transition(&mut data, &c, Input::Start);
    transition(&mut data, &c, next());
    assert_eq!(data.awaiting_review.len(), 1);
    let supplied = Message {
        message_id: "r".into(),
        role: Role::Tool,
        parts: vec![Part::ToolResult {
            tool_call_id: "a".into(),
            result: Some(json!({"paid": true})),
            metadata: None,
        }],
    };
    crate::machine::admit::continue_task(&mut data, &supplied, &[])
        .expect("a cut call may be answered");
    assert!(data.awaiting_review.is_empty());
    let effects = transition(&mut data, &c, Input::Start);
    assert!(interruptions(&effects).is_empty());
    assert!(
        data.in_flight.is_empty(),
        "the answer ends the call's intent"
    );
    assert_eq!(transition(&mut data, &c, next()), [Effect::CallModel]);

    // A call that waits for its first review still cannot be answered by the client.
    let mut waiting = task(vec![
        text(Role::User, "hi"),
        asked(&[call("b", "transfer")]),
    ]);
    transition(&mut waiting, &c, next());
    let answer = Message {
        parts: vec![Part::ToolResult {
            tool_call_id: "b".into(),
            result: Some(json!("x")),
            metadata: None,
        }],
        ..supplied
    };
    assert!(crate::machine::admit::continue_task(&mut waiting, &answer, &[]).is_err());
}
