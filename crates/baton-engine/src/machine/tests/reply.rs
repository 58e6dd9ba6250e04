//! A model's reply: usage, the agent message, refused calls, schema retries.

use super::*;
use crate::machine::{absorb_reply, Reply, RunEvent, SCHEMA_RETRIES};
use crate::state::Finish;
use crate::step::{next_step, Step};
use baton_core::model::FinishReason;
use baton_core::usage::Usage;

fn reply(content: &str, calls: Vec<ToolCall>, finish: FinishReason) -> Reply {
    Reply {
        model: "openai/gpt-4o".into(),
        content: content.into(),
        tool_calls: calls,
        finish_reason: finish,
        usage: Usage {
            prompt_tokens: 10,
            completion_tokens: 5,
            total_tokens: 15,
            cost: 0.25,
            ..Default::default()
        },
    }
}

fn schema() -> Value {
    json!({"type": "object", "required": ["price"],
           "properties": {"price": {"type": "number"}}})
}

#[test]
fn a_reply_adds_its_usage_to_the_task_and_the_turn_and_counts_an_iteration() {
    let mut data = task(vec![text(Role::User, "hi")]);
    data.usage.cost = 1.0;
    data.usage.total_tokens = 100;
    absorb_reply(
        &mut data,
        None,
        &Kinds,
        reply("a", vec![], FinishReason::Stop),
        "p",
    );
    absorb_reply(
        &mut data,
        None,
        &Kinds,
        reply("b", vec![], FinishReason::Stop),
        "p",
    );
    assert_eq!(data.usage.total_tokens, 130);
    assert_eq!(data.usage.cost, 1.5);
    assert_eq!(data.turn_usage.prompt_tokens, 20);
    assert_eq!(data.turn_usage.completion_tokens, 10);
    assert_eq!(data.iterations, 2);
    assert_eq!(data.model, "openai/gpt-4o");
}

#[test]
fn a_text_answer_becomes_an_agent_message_and_ends_the_turn() {
    let mut data = task(vec![text(Role::User, "hi")]);
    let out = absorb_reply(
        &mut data,
        None,
        &Kinds,
        reply("hello", vec![], FinishReason::Stop),
        "p1",
    );
    assert_eq!(
        out.events,
        [RunEvent::TextDone {
            part_id: "p1".into(),
            text: "hello".into()
        }]
    );
    assert_eq!(out.failure, None);
    let last = data.history.last().expect("a message");
    assert_eq!(last.role, Role::Agent);
    assert_eq!(
        last.parts,
        [Part::Text {
            text: "hello".into()
        }]
    );
    let spec = spec(json!({}));
    assert_eq!(next_step(&data, &spec, &Kinds, 0), Step::Done(Finish::Stop));
}

#[test]
fn an_empty_reply_is_an_empty_text_part_and_no_event() {
    let mut data = task(vec![text(Role::User, "hi")]);
    let out = absorb_reply(
        &mut data,
        None,
        &Kinds,
        reply("", vec![], FinishReason::Stop),
        "p",
    );
    assert!(out.events.is_empty());
    assert_eq!(
        data.history.last().map(|m| m.parts.clone()),
        Some(vec![Part::Text {
            text: String::new()
        }])
    );
}

#[test]
fn the_finish_reason_of_a_cut_or_filtered_answer_ends_the_turn_with_it() {
    let spec = spec(json!({}));
    for (reason, finish) in [
        (FinishReason::Length, Finish::Length),
        (FinishReason::ContentFilter, Finish::ContentFilter),
    ] {
        let mut data = task(vec![text(Role::User, "hi")]);
        absorb_reply(&mut data, None, &Kinds, reply("par", vec![], reason), "p");
        assert_eq!(data.finish, Some(finish));
        assert_eq!(next_step(&data, &spec, &Kinds, 0), Step::Done(finish));
    }
    let mut data = task(vec![text(Role::User, "hi")]);
    data.finish = Some(Finish::Length);
    absorb_reply(
        &mut data,
        None,
        &Kinds,
        reply("ok", vec![], FinishReason::Stop),
        "p",
    );
    assert_eq!(data.finish, None, "a normal answer clears an earlier cut");
}

#[test]
fn calls_are_recorded_and_invalid_ones_answered_at_once_with_the_error() {
    let mut data = task(vec![text(Role::User, "hi")]);
    let calls = vec![call("a", "lookup"), call("b", "nope")];
    let out = absorb_reply(
        &mut data,
        None,
        &Kinds,
        reply("", calls, FinishReason::ToolCalls),
        "p",
    );
    assert_eq!(
        out.events,
        [RunEvent::ToolFailed {
            tool_id: "id-nope".into(),
            call_id: "b".into(),
            error: "unknown tool `nope`".into()
        }]
    );
    let agent = &data.history[1];
    assert_eq!(agent.role, Role::Agent);
    assert_eq!(agent.parts.len(), 2);
    assert_eq!(
        data.history[2].parts,
        [Part::ToolResult {
            tool_call_id: "b".into(),
            result: Some(json!({"error": "unknown tool `nope`"})),
            metadata: None,
        }]
    );
    let ids: Vec<String> = data.unanswered_calls().into_iter().map(|c| c.id).collect();
    assert_eq!(ids, ["a"]);
    match next_step(&data, &spec(json!({})), &Kinds, 0) {
        Step::CallTools(calls) => assert_eq!(calls[0].id, "a"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_answer_that_fails_the_schema_is_sent_back_until_the_retries_run_out() {
    let schema = schema();
    let mut data = task(vec![text(Role::User, "price?")]);
    for retry in 1..=SCHEMA_RETRIES {
        let out = absorb_reply(
            &mut data,
            Some(&schema),
            &Kinds,
            reply("{\"price\": \"x\"}", vec![], FinishReason::Stop),
            "p",
        );
        assert_eq!(out.failure, None);
        assert_eq!(data.schema_retries, retry);
        let last = data.history.last().expect("a message");
        assert_eq!(last.role, Role::User);
        match &last.parts[0] {
            Part::Text { text } => assert!(text.contains("Problem:"), "{text}"),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            next_step(&data, &spec(json!({})), &Kinds, 0),
            Step::CallModel
        );
    }
    let out = absorb_reply(
        &mut data,
        Some(&schema),
        &Kinds,
        reply("not json", vec![], FinishReason::Stop),
        "p",
    );
    let failure = out.failure.expect("the retries ran out");
    assert!(failure.contains("after 2 retries"), "{failure}");
    assert!(failure.contains("not JSON"), "{failure}");
}

#[test]
fn a_fenced_answer_that_matches_the_schema_passes_and_calls_skip_the_check() {
    let schema = schema();
    let mut data = task(vec![text(Role::User, "price?")]);
    let out = absorb_reply(
        &mut data,
        Some(&schema),
        &Kinds,
        reply("```json\n{\"price\": 3}\n```", vec![], FinishReason::Stop),
        "p",
    );
    assert_eq!(out.failure, None);
    assert_eq!(data.schema_retries, 0);
    let out = absorb_reply(
        &mut data,
        Some(&schema),
        &Kinds,
        reply(
            "looking",
            vec![call("a", "lookup")],
            FinishReason::ToolCalls,
        ),
        "p",
    );
    assert_eq!(out.failure, None);
    assert_eq!(
        data.schema_retries, 0,
        "a reply with calls is not an answer yet"
    );
}
