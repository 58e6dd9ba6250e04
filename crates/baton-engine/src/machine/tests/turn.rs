//! Tool calls, reviews, and the ends of a turn.

use super::*;
use crate::machine::{turn, RunEvent};
use crate::state::{Finish, Review, ToolAttempt};
use crate::step::{next_step, Step};
use baton_core::task::TaskState;

fn review(approved: bool, reason: Option<&str>) -> Review {
    Review {
        approved,
        reason: reason.map(Into::into),
    }
}

#[test]
fn an_unreviewed_call_starts_with_its_intent_recorded() {
    let mut data = task(vec![]);
    let (events, verdict) = turn::start_call(&mut data, &Kinds, &call("a", "lookup"), 7);
    assert_eq!(
        events,
        [RunEvent::ToolStarted {
            tool_id: "id-lookup".into(),
            call: call("a", "lookup"),
            attempt: 1,
        }]
    );
    assert_eq!(verdict, Ok(()));
    assert_eq!(
        data.in_flight["a"],
        ToolAttempt {
            attempt: 1,
            started_ms: 7,
            interrupted: false
        }
    );
}

#[test]
fn an_approved_call_reports_its_review_then_starts() {
    let mut data = task(vec![]);
    data.reviews.insert("a".into(), review(true, None));
    let (events, verdict) = turn::start_call(&mut data, &Kinds, &call("a", "transfer"), 0);
    assert_eq!(verdict, Ok(()));
    assert!(matches!(
        events[0],
        RunEvent::ReviewDone { approved: true, .. }
    ));
    assert!(matches!(events[1], RunEvent::ToolStarted { .. }));
}

#[test]
fn a_rejected_call_never_starts_and_the_model_reads_why() {
    let mut data = task(vec![]);
    data.reviews
        .insert("a".into(), review(false, Some("too much")));
    data.reviews.insert("b".into(), review(false, Some("")));
    let (events, verdict) = turn::start_call(&mut data, &Kinds, &call("a", "transfer"), 0);
    assert_eq!(events.len(), 1);
    assert!(matches!(
        events[0],
        RunEvent::ReviewDone {
            approved: false,
            ..
        }
    ));
    assert_eq!(
        verdict,
        Err("a reviewer rejected this call; it was not run: too much".into())
    );
    let (_, verdict) = turn::start_call(&mut data, &Kinds, &call("b", "transfer"), 0);
    assert_eq!(
        verdict,
        Err("a reviewer rejected this call; it was not run".into())
    );
}

#[test]
fn results_and_errors_answer_their_calls_and_the_model_is_called_again() {
    let calls = [call("a", "lookup"), call("b", "lookup")];
    let mut data = task(vec![text(Role::User, "hi"), asked(&calls)]);
    let done = turn::record_result(&mut data, &Kinds, &calls[0], Ok(json!({"v": 1})));
    assert_eq!(
        done,
        RunEvent::ToolDone {
            tool_id: "id-lookup".into(),
            call_id: "a".into(),
            result: json!({"v": 1})
        }
    );
    assert_eq!(data.unanswered_calls().len(), 1);
    let failed = turn::record_result(&mut data, &Kinds, &calls[1], Err("boom".into()));
    assert!(matches!(failed, RunEvent::ToolFailed { ref error, .. } if error == "boom"));
    assert_eq!(
        data.history.last().map(|m| m.parts.clone()),
        Some(vec![Part::ToolResult {
            tool_call_id: "b".into(),
            result: Some(json!({"error": "boom"})),
            metadata: None,
        }])
    );
    assert!(data.unanswered_calls().is_empty());
    assert_eq!(
        next_step(&data, &spec(json!({})), &Kinds, 0),
        Step::CallModel
    );
}

#[test]
fn a_pause_waits_for_the_client_and_announces_each_review_once() {
    let calls = [call("c", "get_weather"), call("r", "transfer")];
    let mut data = task(vec![text(Role::User, "hi"), asked(&calls)]);
    let Step::Pause {
        calls: client,
        reviews,
    } = next_step(&data, &spec(json!({})), &Kinds, 0)
    else {
        panic!("expected a pause");
    };
    let (state, events) = turn::pause(&mut data, &Kinds, client.clone(), reviews.clone());
    assert_eq!(state, TaskState::InputRequired);
    assert_eq!(data.finish, Some(Finish::ToolCalls));
    assert_eq!(data.awaiting_review, reviews);
    assert!(matches!(&events[0], RunEvent::ReviewRequested { call, .. } if call.id == "r"));
    match &events[1] {
        RunEvent::Done {
            finish,
            pending,
            reviews,
            ..
        } => {
            assert_eq!(*finish, Finish::ToolCalls);
            assert_eq!(pending[0].id, "c");
            assert_eq!(reviews[0].id, "r");
        }
        other => panic!("{other:?}"),
    }
    // Paused again on the same review (the client answered only its own call): no new request.
    let (_, events) = turn::pause(&mut data, &Kinds, Vec::new(), reviews);
    assert_eq!(events.len(), 1);
    assert!(events[0].is_terminal());
}

#[test]
fn an_answer_completes_the_task_and_drops_stale_reviews() {
    let mut data = task(vec![text(Role::User, "hi")]);
    data.awaiting_review = vec![call("r", "transfer")];
    data.turn_usage.total_tokens = 7;
    let (state, event) = turn::end(&mut data, Finish::Stop, Vec::new());
    assert_eq!(state, TaskState::Completed);
    assert!(data.awaiting_review.is_empty());
    match event {
        RunEvent::Done {
            finish,
            usage,
            reviews,
            ..
        } => {
            assert_eq!(finish, Finish::Stop);
            assert_eq!(usage.total_tokens, 7);
            assert!(reviews.is_empty());
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn limits_end_the_turn_completed_with_their_reason() {
    for finish in [Finish::MaxIterations, Finish::MaxTime] {
        let mut data = task(vec![text(Role::User, "hi")]);
        let (state, event) = turn::end(&mut data, finish, Vec::new());
        assert_eq!(state, TaskState::Completed);
        assert_eq!(data.finish, Some(finish));
        assert!(matches!(event, RunEvent::Done { finish: f, .. } if f == finish));
    }
}

#[test]
fn a_failure_and_a_cancel_end_the_task_with_their_error() {
    let mut data = task(vec![text(Role::User, "hi")]);
    let (state, event) = turn::fail(&mut data, "max_cost reached".into());
    assert_eq!(state, TaskState::Failed);
    assert_eq!(data.error.as_deref(), Some("max_cost reached"));
    assert!(
        matches!(event, RunEvent::Failed { ref error, turn: Some(ref t) }
            if error == "max_cost reached" && (t.start, t.end) == (0, 1))
    );
    let mut data = task(vec![text(Role::User, "hi")]);
    let (state, event) = turn::cancel(&mut data);
    assert_eq!(state, TaskState::Canceled);
    assert_eq!(data.error.as_deref(), Some("canceled"));
    assert!(event.is_terminal());
}
