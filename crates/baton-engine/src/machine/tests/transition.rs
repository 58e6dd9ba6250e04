//! Whole runs through the transition function, input by input, as the driver feeds them.

use super::*;
use crate::machine::{transition, Context, Effect, Input, Reply, RunEvent};
use crate::state::{Finish, Review};
use baton_core::model::FinishReason;
use baton_core::task::TaskState;
use baton_core::usage::Usage;

fn ctx(spec: &baton_core::agent::AgentSpec) -> Context<'_> {
    Context {
        spec,
        kinds: &Kinds,
        task_id: "task-1",
        now_ms: 500,
    }
}

fn next() -> Input {
    Input::Next {
        now_ms: 1_000,
        cancel_requested: false,
        hand_over: false,
    }
}

fn replied(content: &str, calls: Vec<ToolCall>) -> Input {
    Input::ModelReplied {
        reply: Reply {
            model: "openai/gpt-4o".into(),
            content: content.into(),
            tool_calls: calls,
            finish_reason: FinishReason::Stop,
            usage: Usage {
                prompt_tokens: 3,
                completion_tokens: 2,
                total_tokens: 5,
                cost: 0.01,
                ..Default::default()
            },
        },
        part_id: "p".into(),
    }
}

/// The effects of the end of a turn, with the state and the kind of the last event.
fn assert_ended(effects: &[Effect], state: TaskState, ok: bool) -> RunEvent {
    assert_eq!(effects.first(), Some(&Effect::Enter(state)), "{effects:?}");
    let n = effects.len();
    assert_eq!(
        effects[n - 3..],
        [Effect::EndTurn { ok }, Effect::Checkpoint, Effect::Stop],
        "the turn's end is stored before the run stops: {effects:?}"
    );
    match &effects[n - 4] {
        Effect::Publish(event) if event.is_terminal() => event.clone(),
        other => panic!("expected the turn's last event, got {other:?}"),
    }
}

fn started() -> TaskData {
    let mut data = task(vec![text(Role::User, "hi")]);
    data.turn_started_ms = 0;
    data
}

#[test]
fn a_run_starts_working_and_stores_that_first() {
    let spec = spec(json!({}));
    let mut data = started();
    data.response_id = "resp".into();
    let effects = transition(&mut data, &ctx(&spec), Input::Start);
    assert!(
        matches!(&effects[0], Effect::Publish(RunEvent::Started { task_id, response_id, .. })
        if task_id == "task-1" && response_id == "resp")
    );
    assert_eq!(
        effects[1..],
        [Effect::Enter(TaskState::Working), Effect::Checkpoint]
    );
}

#[test]
fn a_resumed_run_announces_neither_its_turn_nor_its_started_calls_again() {
    let spec = spec(json!({}));
    let c = ctx(&spec);
    let mut data = started();
    data.response_id = "resp".into();
    transition(&mut data, &c, Input::Start);
    transition(&mut data, &c, replied("", vec![call("a", "lookup")]));
    let first = transition(&mut data, &c, next());
    assert!(matches!(
        &first[0],
        Effect::Publish(RunEvent::ToolStarted { .. })
    ));
    // The worker dies while the tool runs; another resumes from the stored checkpoint.
    let mut resumed = data.clone();
    let effects = transition(&mut resumed, &c, Input::Start);
    assert!(
        !effects.iter().any(|e| matches!(
            e,
            Effect::Publish(RunEvent::Started { .. } | RunEvent::ToolStarted { .. })
        )),
        "the turn and the call were announced already: {effects:?}"
    );
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::Publish(RunEvent::ToolFailed { .. }))),
        "the cut call is answered (outcome unknown), not announced again: {effects:?}"
    );
    assert!(resumed.in_flight.is_empty(), "the answer closes the call");
    // The next turn is announced again.
    resumed.response_id = "resp-2".into();
    let effects = transition(&mut resumed, &c, Input::Start);
    assert!(matches!(
        &effects[0],
        Effect::Publish(RunEvent::Started { .. })
    ));
}

#[test]
fn a_turn_with_a_server_tool_runs_model_tool_model_and_completes() {
    let spec = spec(json!({}));
    let c = ctx(&spec);
    let mut data = started();
    assert_eq!(transition(&mut data, &c, next()), [Effect::CallModel]);
    let effects = transition(&mut data, &c, replied("", vec![call("a", "lookup")]));
    assert_eq!(effects, [Effect::Checkpoint]);
    assert_eq!(data.model_call, None, "tools come next, not the model");
    let effects = transition(&mut data, &c, next());
    assert!(
        matches!(&effects[0], Effect::Publish(RunEvent::ToolStarted { call, .. }) if call.id == "a")
    );
    assert_eq!(effects[1], Effect::Checkpoint, "the intent is stored first");
    assert_eq!(data.in_flight["a"].attempt, 1);
    assert_eq!(
        effects[2],
        Effect::CallTools {
            run: vec![call("a", "lookup")],
            rejected: vec![]
        }
    );
    let spent = Usage {
        total_tokens: 100,
        cost: 1.0,
        ..Default::default()
    };
    let effects = transition(
        &mut data,
        &c,
        Input::ToolReturned {
            call: call("a", "lookup"),
            result: Ok(json!("42")),
            spent,
            children: vec!["child".into()],
            sub_agent_calls: 1,
        },
    );
    assert!(matches!(
        &effects[0],
        Effect::Publish(RunEvent::ToolDone { .. })
    ));
    assert_eq!(
        effects[1],
        Effect::Checkpoint,
        "each result is stored as it lands"
    );
    assert!(data.in_flight.is_empty(), "the result clears its intent");
    assert_eq!(
        data.model_call.map(|m| (m.attempt, m.started_ms)),
        Some((1, 500)),
        "the checkpoint before a model call records it"
    );
    assert_eq!(
        data.usage.total_tokens, 105,
        "a sub-agent's spend counts for the task"
    );
    assert_eq!(data.turn_usage.cost, 1.01);
    assert_eq!(data.children, ["child"]);
    assert_eq!(data.sub_agent_calls, 1);
    assert_eq!(transition(&mut data, &c, next()), [Effect::CallModel]);
    let effects = transition(&mut data, &c, replied("it is 42", vec![]));
    assert!(matches!(
        &effects[0],
        Effect::Publish(RunEvent::TextDone { .. })
    ));
    assert_eq!(effects[1], Effect::Checkpoint);
    let effects = transition(&mut data, &c, next());
    let done = assert_ended(&effects, TaskState::Completed, true);
    assert!(matches!(
        done,
        RunEvent::Done {
            finish: Finish::Stop,
            ..
        }
    ));
    assert_eq!(data.iterations, 2);
}

#[test]
fn a_rejected_call_is_answered_without_running_and_its_sibling_runs() {
    let spec = spec(json!({}));
    let mut data = started();
    data.history
        .push(asked(&[call("a", "lookup"), call("b", "transfer")]).into());
    data.reviews.insert(
        "b".into(),
        Review {
            approved: false,
            reason: Some("no".into()),
        },
    );
    let effects = transition(&mut data, &ctx(&spec), next());
    assert!(matches!(
        &effects[0],
        Effect::Publish(RunEvent::ToolStarted { .. })
    ));
    assert!(matches!(
        &effects[1],
        Effect::Publish(RunEvent::ReviewDone {
            approved: false,
            ..
        })
    ));
    assert_eq!(effects[2], Effect::Checkpoint);
    assert_eq!(
        effects[3],
        Effect::CallTools {
            run: vec![call("a", "lookup")],
            rejected: vec![(
                call("b", "transfer"),
                "a reviewer rejected this call; it was not run: no".into()
            )]
        }
    );
}

#[test]
fn client_calls_and_reviews_pause_the_task_for_input() {
    let spec = spec(json!({}));
    let mut data = started();
    data.history
        .push(asked(&[call("c", "get_weather"), call("r", "transfer")]).into());
    let effects = transition(&mut data, &ctx(&spec), next());
    assert!(matches!(
        &effects[1],
        Effect::Publish(RunEvent::ReviewRequested { .. })
    ));
    let done = assert_ended(&effects, TaskState::InputRequired, true);
    assert!(
        matches!(done, RunEvent::Done { finish: Finish::ToolCalls, ref pending, ref reviews, .. }
        if pending.len() == 1 && reviews.len() == 1)
    );
}

#[test]
fn a_cancel_ends_the_run_wherever_it_is() {
    let spec = spec(json!({}));
    for input in [
        Input::Next {
            now_ms: 0,
            cancel_requested: true,
            hand_over: false,
        },
        Input::Canceled,
    ] {
        let mut data = started();
        let effects = transition(&mut data, &ctx(&spec), input);
        assert!(matches!(
            assert_ended(&effects, TaskState::Canceled, false),
            RunEvent::Canceled {
                interrupted: false,
                turn: Some(_)
            }
        ));
    }
}

#[test]
fn limits_end_or_fail_the_turn() {
    let spec = spec(
        json!({"settings": {"max_iterations": 1, "max_execution_time": 1,
        "max_cost": 0.5}}),
    );
    let c = ctx(&spec);
    let mut data = started();
    data.iterations = 1;
    let done = assert_ended(
        &transition(&mut data, &c, next()),
        TaskState::Completed,
        true,
    );
    assert!(matches!(
        done,
        RunEvent::Done {
            finish: Finish::MaxIterations,
            ..
        }
    ));
    let mut data = started();
    let late = Input::Next {
        now_ms: 1_001,
        cancel_requested: false,
        hand_over: false,
    };
    let done = assert_ended(&transition(&mut data, &c, late), TaskState::Completed, true);
    assert!(matches!(
        done,
        RunEvent::Done {
            finish: Finish::MaxTime,
            ..
        }
    ));
    let mut data = started();
    let done = assert_ended(
        &transition(&mut data, &c, Input::TimedOut),
        TaskState::Completed,
        true,
    );
    assert!(matches!(
        done,
        RunEvent::Done {
            finish: Finish::MaxTime,
            ..
        }
    ));
    let mut data = started();
    data.usage.cost = 0.5;
    let failed = assert_ended(&transition(&mut data, &c, next()), TaskState::Failed, false);
    assert!(matches!(failed, RunEvent::Failed { ref error, .. } if error.contains("max_cost")));
}

#[test]
fn a_provider_failure_or_a_crash_fails_the_task() {
    let spec = spec(json!({}));
    let mut data = started();
    let effects = transition(
        &mut data,
        &ctx(&spec),
        Input::Failed("all models failed".into()),
    );
    let failed = assert_ended(&effects, TaskState::Failed, false);
    assert!(
        matches!(failed, RunEvent::Failed { ref error, turn: Some(ref t) }
            if error == "all models failed" && t.end == data.history.len())
    );
    assert_eq!(data.error.as_deref(), Some("all models failed"));
}

#[test]
fn an_answer_that_keeps_failing_the_schema_fails_the_task_after_its_text_is_shown() {
    let spec = spec(json!({"output_schema": {"type": "object", "required": ["x"]}}));
    let c = ctx(&spec);
    let mut data = started();
    data.schema_retries = crate::machine::SCHEMA_RETRIES;
    let effects = transition(&mut data, &c, replied("nope", vec![]));
    assert!(matches!(
        &effects[0],
        Effect::Publish(RunEvent::TextDone { .. })
    ));
    let failed = assert_ended(&effects[1..], TaskState::Failed, false);
    assert!(
        matches!(failed, RunEvent::Failed { ref error, .. } if error.contains("output schema"))
    );
}
