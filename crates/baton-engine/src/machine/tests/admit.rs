//! Admission: which messages and reviews may start or continue a turn.

use super::*;
use crate::machine::admit::{
    apply_reviews, begin_turn, check_message, check_request, continue_task, continue_with,
    new_turn, TurnStart,
};
use crate::state::Finish;
use crate::step::{next_step, Step};
use crate::{EngineError, ToolReview};
use baton_core::store::TaskRecord;
use baton_core::task::TaskState;

/// The field an admission error names.
fn field(result: Result<(), EngineError>) -> String {
    match result {
        Err(EngineError::Invalid { field, .. }) => field,
        other => panic!("expected an invalid request, got {other:?}"),
    }
}

fn tool_message(ids: &[&str]) -> Message {
    Message {
        message_id: "t".into(),
        role: Role::Tool,
        parts: ids
            .iter()
            .map(|id| Part::ToolResult {
                tool_call_id: (*id).into(),
                result: Some(json!("r")),
                metadata: None,
            })
            .collect(),
    }
}

#[test]
fn a_message_must_have_parts_of_its_role() {
    let mut empty = text(Role::User, "x");
    empty.parts.clear();
    assert_eq!(field(check_message(&empty)), "message.parts");
    let mut tool_text = text(Role::Tool, "x");
    tool_text.role = Role::Tool;
    assert_eq!(field(check_message(&tool_text)), "message.parts[0]");
    let mut user_result = tool_message(&["a"]);
    user_result.role = Role::User;
    assert_eq!(field(check_message(&user_result)), "message.parts[0]");
    assert_eq!(
        field(check_message(&text(Role::Agent, "x"))),
        "message.role"
    );
    assert!(check_message(&text(Role::User, "hi")).is_ok());
    assert!(check_message(&tool_message(&["a"])).is_ok());
}

#[test]
fn a_review_must_name_a_call_that_waits_for_one() {
    let mut data = task(vec![]);
    let review = |id: &str| ToolReview {
        tool_call_id: id.into(),
        approved: true,
        reason: None,
    };
    assert_eq!(
        field(apply_reviews(&mut data, &[review("x")])),
        "tool_reviews[0].tool_call_id"
    );
    data.awaiting_review = vec![call("r", "transfer")];
    assert_eq!(
        field(apply_reviews(&mut data, &[review("r"), review("x")])),
        "tool_reviews[1].tool_call_id"
    );
    let mut data = task(vec![]);
    data.awaiting_review = vec![call("r", "transfer")];
    apply_reviews(&mut data, &[review("r")]).expect("r waits");
    assert!(data.awaiting_review.is_empty());
    assert!(data.reviews["r"].approved);
}

#[test]
fn tool_results_must_answer_each_pending_client_call_once() {
    let calls = [call("c", "get_weather"), call("r", "transfer")];
    let paused = {
        let mut data = task(vec![text(Role::User, "hi"), asked(&calls)]);
        data.awaiting_review = vec![calls[1].clone()];
        data
    };
    let mut data = paused.clone();
    assert_eq!(
        field(continue_with(&mut data, &tool_message(&["x"]))),
        "message.parts[0].tool_call_id"
    );
    assert_eq!(
        field(continue_with(&mut data, &tool_message(&["r"]))),
        "message.parts[0].tool_call_id",
        "a call that waits for a review is not the client's to answer"
    );
    assert_eq!(
        field(continue_with(&mut data, &tool_message(&["c", "c"]))),
        "message.parts[1].tool_call_id"
    );
    assert_eq!(
        field(continue_with(&mut data, &text(Role::User, "and?"))),
        "message.role"
    );
    assert_eq!(data, paused, "a refused message changes nothing");
}

#[test]
fn a_tool_message_without_pending_calls_is_refused() {
    let mut data = task(vec![text(Role::User, "hi"), text(Role::Agent, "hello")]);
    assert_eq!(
        field(continue_with(&mut data, &tool_message(&["a"]))),
        "message"
    );
}

#[test]
fn an_accepted_message_starts_a_new_turn() {
    let calls = [call("c", "get_weather")];
    let mut data = task(vec![text(Role::User, "hi"), asked(&calls)]);
    data.iterations = 3;
    data.schema_retries = 1;
    data.finish = Some(Finish::ToolCalls);
    data.error = Some("old".into());
    data.turn_usage.total_tokens = 9;
    data.usage.total_tokens = 9;
    continue_with(&mut data, &tool_message(&["c"])).expect("c is pending");
    assert_eq!(data.turn_start, 2);
    assert_eq!(data.iterations, 0);
    assert_eq!(data.schema_retries, 0);
    assert_eq!(data.finish, None);
    assert_eq!(data.error, None);
    assert_eq!(data.turn_usage.total_tokens, 0);
    assert_eq!(data.usage.total_tokens, 9, "the task's usage is kept");
    assert_eq!(
        next_step(&data, &spec(json!({})), &Kinds, 0),
        Step::CallModel
    );
    let mut done = task(vec![text(Role::User, "hi"), text(Role::Agent, "hello")]);
    continue_with(&mut done, &text(Role::User, "more")).expect("a finished task continues");
    assert_eq!(done.turn_output().len(), 0);
    new_turn(&mut done);
    assert_eq!(
        next_step(&done, &spec(json!({})), &Kinds, 0),
        Step::CallModel
    );
}

fn approve(id: &str) -> ToolReview {
    ToolReview {
        tool_call_id: id.into(),
        approved: true,
        reason: None,
    }
}

fn empty_message() -> Message {
    Message {
        message_id: "m".into(),
        role: Role::User,
        parts: Vec::new(),
    }
}

#[test]
fn reviews_alone_need_a_task_and_no_message() {
    let reviews = [approve("r")];
    assert!(check_request(&empty_message(), &reviews, true).is_ok());
    assert_eq!(
        field(check_request(&empty_message(), &reviews, false)),
        "tool_reviews"
    );
    assert_eq!(
        field(check_request(&empty_message(), &[], true)),
        "message.parts"
    );
}

#[test]
fn a_review_alone_starts_a_turn_that_runs_the_reviewed_call() {
    let calls = [call("r", "transfer")];
    let mut data = task(vec![text(Role::User, "pay"), asked(&calls)]);
    data.awaiting_review = calls.to_vec();
    data.iterations = 4;
    continue_task(&mut data, &empty_message(), &[approve("r")]).expect("r waits");
    assert_eq!(
        data.turn_start, 1,
        "the output starts after the paused agent message"
    );
    assert_eq!(data.iterations, 0);
    match next_step(&data, &spec(json!({})), &Kinds, 0) {
        Step::CallTools(calls) => assert_eq!(calls[0].id, "r"),
        other => panic!("{other:?}"),
    }
}

fn record() -> TaskRecord {
    TaskRecord {
        id: "t".into(),
        project_id: baton_core::ProjectId("p".into()),
        agent_id: "a".into(),
        agent_key: "k".into(),
        agent_version: 1,
        state: TaskState::Completed,
        thread_id: None,
        background: false,
        revision: 3,
        lease_owner: None,
        lease_expires_at: None,
        cancel_requested: false,
        created: "c".into(),
        updated: "u".into(),
        data: Value::Null,
        history: Vec::new(),
        history_stored: 0,
    }
}

#[test]
fn a_turn_starts_held_by_this_worker_or_submitted_for_the_pool() {
    let mut data = task(vec![text(Role::User, "hi")]);
    let (response, span) = (data.response_id.clone(), data.span_id.clone());
    let mut inline = record();
    let start = |holder| TurnStart {
        now_ms: 5_000,
        now_text: "now".into(),
        streaming: true,
        holder,
    };
    begin_turn(&mut inline, &mut data, start(Some(("w1".into(), 35_000))));
    assert_eq!(inline.state, TaskState::Working);
    assert_eq!(inline.lease_owner.as_deref(), Some("w1"));
    assert_eq!(inline.lease_expires_at, Some(35_000));
    assert_eq!(inline.updated, "now");
    assert_eq!(
        inline.revision, 3,
        "the revision moves only when the task is stored"
    );
    assert_ne!(data.response_id, response);
    assert_ne!(data.span_id, span, "each turn has its own root span");
    assert_eq!(data.turn_started_ms, 5_000);
    assert!(data.streaming);
    let mut queued = record();
    queued.lease_owner = Some("old".into());
    queued.lease_expires_at = Some(1);
    begin_turn(&mut queued, &mut data, start(None));
    assert_eq!(queued.state, TaskState::Submitted);
    assert_eq!((queued.lease_owner, queued.lease_expires_at), (None, None));
}
