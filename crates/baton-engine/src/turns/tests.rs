//! Reading one turn back from a task that has moved on to later turns.

use super::as_turn_left_it;
use crate::machine::{RunEvent, TurnMark};
use crate::state::{Finish, TaskData};
use baton_core::message::{Message, Part, Role};
use baton_core::store::TaskRecord;
use baton_core::task::TaskState;
use baton_core::usage::Usage;
use serde_json::Value;

fn said(role: Role, id: &str) -> Message {
    Message {
        message_id: id.into(),
        role,
        parts: vec![Part::Text { text: id.into() }],
    }
}

/// A task now in its third turn: "q1" → "a1", "q2" → "a2", "q3" running.
fn moved_on() -> (TaskRecord, TaskData) {
    let data = TaskData {
        history: ["q1", "a1", "q2", "a2", "q3"]
            .iter()
            .enumerate()
            .map(|(i, id)| said(if i % 2 == 0 { Role::User } else { Role::Agent }, id).into())
            .collect(),
        turn_start: 4,
        response_id: "resp-3".into(),
        span_id: "span-3".into(),
        ..Default::default()
    };
    let task = TaskRecord {
        id: "t".into(),
        project_id: baton_core::ProjectId("p".into()),
        agent_id: "a".into(),
        agent_key: "k".into(),
        agent_version: 1,
        state: TaskState::Working,
        thread_id: None,
        background: true,
        revision: 9,
        lease_owner: None,
        lease_expires_at: None,
        cancel_requested: false,
        created: "c".into(),
        updated: "u".into(),
        data: Value::Null,
        history: Vec::new(),
        history_stored: 0,
    };
    (task, data)
}

fn mark(response: &str, start: usize, end: usize) -> Option<TurnMark> {
    Some(TurnMark {
        response_id: response.into(),
        span_id: format!("span-{response}"),
        start,
        end,
        usage: Usage {
            total_tokens: 11,
            ..Default::default()
        },
    })
}

#[test]
fn a_turn_read_back_has_its_own_messages_state_and_usage() {
    let (task, data) = moved_on();
    let done = RunEvent::Done {
        finish: Finish::Stop,
        usage: Usage::default(),
        trace_id: "tr".into(),
        span_id: "span-resp-2".into(),
        pending: vec![],
        reviews: vec![],
        turn: mark("resp-2", 2, 4),
    };
    let turn = as_turn_left_it(task, data, &done).unwrap();
    assert_eq!(turn.state, TaskState::Completed);
    let data = TaskData::of(&turn).unwrap();
    let output: Vec<&str> = data
        .turn_output()
        .iter()
        .map(|m| m.message_id.as_str())
        .collect();
    assert_eq!(output, ["a2"], "not the later turn's input");
    assert_eq!(data.response_id, "resp-2");
    assert_eq!(data.span_id, "span-resp-2");
    assert_eq!(data.finish, Some(Finish::Stop));
    assert_eq!(data.turn_usage.total_tokens, 11);
}

#[test]
fn a_failed_or_interrupted_turn_reads_back_with_its_error() {
    let (task, data) = moved_on();
    let failed = RunEvent::Failed {
        error: "boom".into(),
        turn: mark("resp-2", 2, 3),
    };
    let turn = as_turn_left_it(task.clone(), data.clone(), &failed).unwrap();
    assert_eq!(turn.state, TaskState::Failed);
    let back: TaskData = serde_json::from_value(turn.data).unwrap();
    assert_eq!(back.error.as_deref(), Some("boom"));
    assert!(back.turn_output().is_empty());

    let interrupted = RunEvent::Canceled {
        interrupted: true,
        turn: mark("resp-2", 2, 4),
    };
    let turn = as_turn_left_it(task.clone(), data.clone(), &interrupted).unwrap();
    assert_eq!(turn.state, TaskState::Canceled);
    let back: TaskData = serde_json::from_value(turn.data).unwrap();
    assert_eq!(
        back.error.as_deref(),
        Some(crate::machine::turn::INTERRUPTED)
    );

    // An event stored before turns were marked: the task as it is.
    let legacy = RunEvent::Canceled {
        interrupted: false,
        turn: None,
    };
    let turn = as_turn_left_it(task, data, &legacy).unwrap();
    assert_eq!(turn.state, TaskState::Working);
}
