//! A run handed over by a server that shuts down: it stops at a step boundary, leaving nothing
//! that looks cut, and the next server carries on as if it had run the steps itself.

use super::*;
use crate::machine::{transition, Context, Effect, Input, Reply, RunEvent};
use baton_core::model::FinishReason;
use baton_core::task::TaskState;

fn ctx(spec: &baton_core::agent::AgentSpec) -> Context<'_> {
    Context {
        spec,
        kinds: &Kinds,
        task_id: "task-1",
        now_ms: 500,
    }
}

fn next(hand_over: bool) -> Input {
    Input::Next {
        now_ms: 1_000,
        cancel_requested: false,
        hand_over,
    }
}

fn replied(content: &str, calls: Vec<ToolCall>) -> Input {
    Input::ModelReplied {
        reply: Reply {
            model: "openai/gpt-4o".into(),
            content: content.into(),
            tool_calls: calls,
            finish_reason: FinishReason::Stop,
            usage: Default::default(),
        },
        part_id: "p".into(),
    }
}

fn started() -> TaskData {
    let mut data = task(vec![text(Role::User, "hi")]);
    data.response_id = "resp".into();
    data
}

/// What another server does first with the handed-over checkpoint: nothing was cut.
fn resume_elsewhere(data: &TaskData, c: &Context<'_>) -> TaskData {
    let mut resumed = data.clone();
    let effects = transition(&mut resumed, c, Input::Start);
    assert_eq!(
        effects,
        [Effect::Enter(TaskState::Working), Effect::Checkpoint],
        "announced already, nothing in flight: {effects:?}"
    );
    assert_eq!(resumed.usage.interrupted_model_calls, 0);
    resumed
}

#[test]
fn a_run_handing_over_leaves_its_next_model_call_unmade() {
    let spec = spec(json!({}));
    let c = ctx(&spec);
    let mut data = started();
    transition(&mut data, &c, Input::Start);
    assert!(
        data.model_call.is_some(),
        "the start records the call that follows"
    );
    let effects = transition(&mut data, &c, next(true));
    assert_eq!(effects, [Effect::Checkpoint, Effect::HandOver]);
    assert_eq!(data.model_call, None, "stored as not made");
    let mut resumed = resume_elsewhere(&data, &c);
    assert_eq!(
        transition(&mut resumed, &c, next(false)),
        [Effect::CallModel]
    );
}

#[test]
fn a_run_handing_over_after_a_reply_leaves_its_tool_calls_unstarted() {
    let spec = spec(json!({}));
    let c = ctx(&spec);
    let mut data = started();
    transition(&mut data, &c, Input::Start);
    transition(&mut data, &c, replied("", vec![call("a", "lookup")]));
    let effects = transition(&mut data, &c, next(true));
    assert_eq!(effects, [Effect::Checkpoint, Effect::HandOver]);
    assert!(data.in_flight.is_empty(), "no intent: the call never ran");
    let mut resumed = resume_elsewhere(&data, &c);
    let effects = transition(&mut resumed, &c, next(false));
    assert!(matches!(
        &effects[0],
        Effect::Publish(RunEvent::ToolStarted { attempt: 1, .. })
    ));
    assert!(matches!(effects.last(), Some(Effect::CallTools { run, .. }) if run.len() == 1));
}

#[test]
fn a_step_that_only_ends_the_turn_is_taken_before_handing_over() {
    let spec = spec(json!({}));
    let c = ctx(&spec);
    let mut data = started();
    transition(&mut data, &c, Input::Start);
    transition(&mut data, &c, replied("done", vec![]));
    let effects = transition(&mut data, &c, next(true));
    assert_eq!(effects.first(), Some(&Effect::Enter(TaskState::Completed)));
    assert_eq!(effects.last(), Some(&Effect::Stop));
    assert!(!effects.contains(&Effect::HandOver));
}

#[test]
fn a_cancel_wins_over_a_hand_over() {
    let spec = spec(json!({}));
    let c = ctx(&spec);
    let mut data = started();
    transition(&mut data, &c, Input::Start);
    let cancel = Input::Next {
        now_ms: 1_000,
        cancel_requested: true,
        hand_over: true,
    };
    let effects = transition(&mut data, &c, cancel);
    assert!(effects
        .iter()
        .any(|e| matches!(e, Effect::Publish(RunEvent::Canceled { .. }))));
    assert_eq!(effects.last(), Some(&Effect::Stop));
}
