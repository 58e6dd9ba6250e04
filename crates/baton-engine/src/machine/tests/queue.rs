//! Messages queued on a running task (`multitask_strategy` `enqueue` and `interrupt`): when a
//! turn ends, the next queued message starts the next turn, in arrival order; a message that
//! interrupts a turn cancels it at its next checkpoint.

use super::*;
use crate::machine::queue::{NOT_RUN, STOPPED_WHILE_RUNNING};
use crate::machine::{transition, Context, Effect, Input, Reply, RunEvent};
use crate::state::{QueuedTurn, ToolAttempt};
use baton_core::model::FinishReason;
use baton_core::task::TaskState;
use baton_core::usage::Usage;

fn ctx(spec: &baton_core::agent::AgentSpec) -> Context<'_> {
    Context {
        spec,
        kinds: &Kinds,
        task_id: "task-1",
        now_ms: 7_000,
    }
}

fn next() -> Input {
    Input::Next {
        now_ms: 1_000,
        cancel_requested: false,
        hand_over: false,
    }
}

fn answered(content: &str) -> Input {
    Input::ModelReplied {
        reply: Reply {
            model: "openai/gpt-4o".into(),
            content: content.into(),
            tool_calls: vec![],
            finish_reason: FinishReason::Stop,
            usage: Usage {
                total_tokens: 5,
                ..Default::default()
            },
        },
        part_id: "p".into(),
    }
}

/// A message queued with the response id `response`; `interrupts` names the turn it stops.
fn queued(text_: &str, response: &str, interrupts: Option<&str>) -> QueuedTurn {
    QueuedTurn {
        message: Message {
            message_id: format!("msg-{response}"),
            role: Role::User,
            parts: vec![Part::Text { text: text_.into() }],
        },
        response_id: response.into(),
        interrupts: interrupts.map(str::to_owned),
        streaming: false,
        variables: Default::default(),
        turn_tools: Default::default(),
    }
}

/// A transition as the driver performs it: the ended turn's effects first, then, when they ask
/// for it, the next turn's.
fn drive(data: &mut TaskData, c: &Context<'_>, input: Input) -> Vec<Effect> {
    let mut effects = transition(data, c, input);
    if effects.last() == Some(&Effect::NextTurn) {
        let ended = effects
            .iter()
            .find_map(|e| match e {
                Effect::Enter(state) => Some(*state),
                _ => None,
            })
            .expect("the turn's end");
        effects.extend(transition(data, c, Input::TurnEnded { ended }));
    }
    effects
}

/// A task running the turn `resp-1`, started by "hi".
fn running() -> TaskData {
    let mut data = task(vec![text(Role::User, "hi")]);
    data.response_id = "resp-1".into();
    data.announced_turn = "resp-1".into();
    data
}

/// The effects that start the queued turn `response`, after the ended turn's.
fn assert_next_turn(effects: &[Effect], response: &str) {
    let at = effects
        .iter()
        .position(|e| *e == Effect::NewTurn)
        .unwrap_or_else(|| panic!("no new turn: {effects:?}"));
    assert!(
        matches!(&effects[at + 1], Effect::Publish(RunEvent::Started { response_id, .. }) if response_id == response),
        "{effects:?}"
    );
    assert_eq!(
        effects[at + 2..],
        [Effect::Enter(TaskState::Working), Effect::Checkpoint],
        "the new turn is stored, and the run goes on: {effects:?}"
    );
}

#[test]
fn a_turn_that_ends_with_a_message_queued_starts_that_message_turn_instead_of_stopping() {
    let spec = spec(json!({}));
    let c = ctx(&spec);
    let mut data = running();
    data.queued.push(queued("and then?", "resp-2", None));
    transition(&mut data, &c, answered("hello"));
    let ended = transition(&mut data, &c, next());
    assert_eq!(
        ended[ended.len() - 2..],
        [Effect::EndTurn { ok: true }, Effect::NextTurn],
        "the ended turn's root span is written before the next turn changes the checkpoint"
    );
    assert_eq!(data.response_id, "resp-1");
    let ended_as = Input::TurnEnded {
        ended: TaskState::Completed,
    };
    let effects: Vec<Effect> = ended
        .into_iter()
        .chain(transition(&mut data, &c, ended_as))
        .collect();
    assert_eq!(effects[0], Effect::Enter(TaskState::Completed));
    let done = effects.iter().find_map(|e| match e {
        Effect::Publish(event) if event.is_terminal() => Some(event.clone()),
        _ => None,
    });
    let mark = done.as_ref().and_then(|d| d.turn_mark()).cloned();
    let mark = mark.expect("the turn's last event marks it");
    assert_eq!(
        (mark.response_id.as_str(), mark.start, mark.end),
        ("resp-1", 0, 2),
        "the ended turn's messages: the input and the answer"
    );
    assert!(effects.contains(&Effect::EndTurn { ok: true }));
    assert!(!effects.contains(&Effect::Stop), "{effects:?}");
    assert_next_turn(&effects, "resp-2");
    assert!(data.queued.is_empty());
    assert_eq!(data.response_id, "resp-2");
    assert_eq!(data.announced_turn, "resp-2", "announced once");
    assert_eq!(data.turn_start, 2);
    assert_eq!(data.history[2].message_id, "msg-resp-2");
    assert_eq!((data.iterations, data.finish), (0, None));
    assert_eq!(data.turn_started_ms, 7_000);
    assert_eq!(
        data.model_call.map(|m| m.attempt),
        Some(1),
        "the new turn's model call is staged with its start"
    );
    assert_eq!(transition(&mut data, &c, next()), [Effect::CallModel]);
}

#[test]
fn queued_messages_run_one_turn_each_in_arrival_order_then_the_run_stops() {
    let spec = spec(json!({}));
    let c = ctx(&spec);
    let mut data = running();
    data.queued.push(queued("second", "resp-2", None));
    data.queued.push(queued("third", "resp-3", None));
    for (answer, next_turn) in [
        ("one", Some("resp-2")),
        ("two", Some("resp-3")),
        ("three", None),
    ] {
        transition(&mut data, &c, answered(answer));
        let effects = drive(&mut data, &c, next());
        match next_turn {
            Some(response) => assert_next_turn(&effects, response),
            None => assert_eq!(
                effects[effects.len() - 2..],
                [Effect::Checkpoint, Effect::Stop]
            ),
        }
    }
    let said: Vec<String> = data
        .history
        .iter()
        .map(|m| match &m.parts[0] {
            Part::Text { text } => text.clone(),
            _ => String::new(),
        })
        .collect();
    assert_eq!(said, ["hi", "one", "second", "two", "third", "three"]);
}

#[test]
fn a_message_that_interrupts_the_turn_cancels_it_at_the_next_checkpoint_then_runs() {
    let spec = spec(json!({}));
    let c = ctx(&spec);
    let mut data = running();
    transition(&mut data, &c, replied_with_call());
    data.queued
        .push(queued("stop, do this", "resp-2", Some("resp-1")));
    let effects = drive(&mut data, &c, next());
    assert_eq!(effects[0], Effect::Enter(TaskState::Canceled));
    assert!(
        effects.iter().any(|e| matches!(e,
            Effect::Publish(RunEvent::Canceled { interrupted: true, turn: Some(t) }) if t.response_id == "resp-1")),
        "{effects:?}"
    );
    assert!(effects.contains(&Effect::EndTurn { ok: false }));
    assert_next_turn(&effects, "resp-2");
    // The call the interrupted turn never ran is closed, so the conversation stays whole.
    assert!(data.unanswered_calls().is_empty());
    let closed = &data.history[2];
    assert!(
        matches!(&closed.parts[0], Part::ToolResult { result: Some(r), .. } if r["error"] == NOT_RUN)
    );
    assert_eq!(data.history[3].message_id, "msg-resp-2");
    assert_eq!(data.error, None, "the new turn starts clean");
}

fn replied_with_call() -> Input {
    Input::ModelReplied {
        reply: Reply {
            model: "openai/gpt-4o".into(),
            content: String::new(),
            tool_calls: vec![call("a", "lookup")],
            finish_reason: FinishReason::ToolCalls,
            usage: Usage::default(),
        },
        part_id: "p".into(),
    }
}

#[test]
fn an_interrupt_of_an_earlier_turn_does_not_stop_the_turn_running_now() {
    let spec = spec(json!({}));
    let c = ctx(&spec);
    let mut data = running();
    data.queued.push(queued("late", "resp-2", Some("resp-0")));
    assert_eq!(transition(&mut data, &c, next()), [Effect::CallModel]);
}

#[test]
fn a_call_running_when_its_turn_is_interrupted_is_answered_outcome_unknown_not_run_again() {
    let spec = spec(json!({}));
    let c = ctx(&spec);
    let mut data = running();
    data.history.push(asked(&[call("a", "lookup")]).into());
    data.in_flight.insert(
        "a".into(),
        ToolAttempt {
            attempt: 1,
            started_ms: 5,
            interrupted: false,
        },
    );
    data.queued
        .push(queued("instead", "resp-2", Some("resp-1")));
    // The run in this process was woken: its tools were stopped.
    let effects = drive(&mut data, &c, Input::Canceled);
    assert_next_turn(&effects, "resp-2");
    assert!(data.in_flight.is_empty());
    match &data.history[2].parts[0] {
        Part::ToolResult {
            result: Some(r),
            metadata: Some(m),
            ..
        } => {
            assert_eq!(r["error"], STOPPED_WHILE_RUNNING);
            assert_eq!(m["outcome"], "unknown");
        }
        other => panic!("{other:?}"),
    }
    let next_step = crate::step::next_step(&data, &spec, &Kinds, 7_000);
    assert_eq!(
        next_step,
        crate::step::Step::CallModel,
        "the call is not run again"
    );
}

#[test]
fn a_pause_keeps_enqueued_messages_waiting_but_an_interrupt_of_the_paused_turn_takes_over() {
    let spec = spec(json!({}));
    let c = ctx(&spec);
    let mut data = running();
    data.history.push(asked(&[call("c", "get_weather")]).into());
    data.queued.push(queued("meanwhile", "resp-2", None));
    let effects = transition(&mut data, &c, next());
    assert_eq!(effects[0], Effect::Enter(TaskState::InputRequired));
    assert_eq!(
        effects[effects.len() - 2..],
        [Effect::Checkpoint, Effect::Stop]
    );
    assert_eq!(data.queued.len(), 1, "it waits for the client's answer");

    let mut data = running();
    data.history.push(asked(&[call("c", "get_weather")]).into());
    data.queued
        .push(queued("forget it", "resp-2", Some("resp-1")));
    // The interrupt was queued after the run decided to pause, before the pause was stored.
    data.queued[0].interrupts = None;
    transition(&mut data, &c, next());
    data.queued[0].interrupts = Some("resp-1".into());
    let effects = transition(
        &mut data,
        &c,
        Input::TurnEnded {
            ended: TaskState::InputRequired,
        },
    );
    assert_next_turn(&effects, "resp-2");
    assert!(
        matches!(&data.history[2].parts[0], Part::ToolResult { tool_call_id, result: Some(r), .. }
            if tool_call_id == "c" && r["error"] == NOT_RUN)
    );
}

#[test]
fn messages_queued_while_the_end_was_stored_decide_again() {
    let spec = spec(json!({}));
    let c = ctx(&spec);
    let mut data = running();
    transition(&mut data, &c, answered("done"));
    let effects = transition(&mut data, &c, next());
    assert_eq!(
        effects[effects.len() - 2..],
        [Effect::Checkpoint, Effect::Stop]
    );
    // Storing the end found a message queued meanwhile (taken in by the driver).
    data.queued.push(queued("one more", "resp-2", None));
    let effects = transition(
        &mut data,
        &c,
        Input::TurnEnded {
            ended: TaskState::Completed,
        },
    );
    assert_eq!(effects[0], Effect::NewTurn);
    assert_next_turn(&effects, "resp-2");
    // Nothing to start: the end is stored after all.
    let mut data = running();
    let effects = transition(
        &mut data,
        &c,
        Input::TurnEnded {
            ended: TaskState::Completed,
        },
    );
    assert_eq!(effects, [Effect::Checkpoint, Effect::Stop]);
}

#[test]
fn a_cancel_request_stops_only_the_running_turn_and_the_queued_one_runs() {
    let spec = spec(json!({}));
    let c = ctx(&spec);
    let mut data = running();
    data.queued.push(queued("next", "resp-2", None));
    let cancel = Input::Next {
        now_ms: 1_000,
        cancel_requested: true,
        hand_over: false,
    };
    let effects = drive(&mut data, &c, cancel);
    assert!(effects.iter().any(|e| matches!(
        e,
        Effect::Publish(RunEvent::Canceled {
            interrupted: false,
            ..
        })
    )));
    assert_next_turn(&effects, "resp-2");
}

#[test]
fn a_queued_turn_brings_its_variables_and_its_streaming() {
    let spec = spec(json!({}));
    let c = ctx(&spec);
    let mut data = running();
    data.variables.insert("customer".into(), json!("Ann"));
    data.variables.insert("tier".into(), json!("gold"));
    let mut q = queued("hi again", "resp-2", None);
    q.variables.insert("customer".into(), json!("Bob"));
    q.streaming = true;
    data.queued.push(q);
    transition(&mut data, &c, answered("hello"));
    drive(&mut data, &c, next());
    assert_eq!(data.variables["customer"], "Bob");
    assert_eq!(data.variables["tier"], "gold");
    assert!(data.streaming);
}

#[test]
fn a_draining_process_still_ends_an_interrupted_turn_then_hands_the_next_one_over() {
    let spec = spec(json!({}));
    let c = ctx(&spec);
    let mut data = running();
    data.queued
        .push(queued("instead", "resp-2", Some("resp-1")));
    let draining = Input::Next {
        now_ms: 1_000,
        cancel_requested: false,
        hand_over: true,
    };
    let effects = drive(&mut data, &c, draining.clone());
    assert_next_turn(&effects, "resp-2");
    assert_eq!(
        transition(&mut data, &c, draining),
        [Effect::Checkpoint, Effect::HandOver],
        "the new turn, stored, goes on on another server"
    );
}
