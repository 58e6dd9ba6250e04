//! The agent loop as a sans-IO state machine: from a checkpoint and the agent's limits, decide
//! the next step. The async runner performs it and checkpoints before asking again.

use crate::state::{Finish, TaskData};
use baton_core::agent::AgentSpec;
use baton_core::message::{Part, Role};
use baton_core::model::ToolCall;

/// What the loop does next.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Call the model with the conversation so far.
    CallModel,
    /// Run these server-side tool calls (in parallel).
    CallTools(Vec<ToolCall>),
    /// Stop and wait for the client: `calls` are client-side calls that need results, `reviews`
    /// are server-side calls that need a human's approval before they run.
    Pause {
        /// Client-side calls awaiting results.
        calls: Vec<ToolCall>,
        /// Server-side calls awaiting approval.
        reviews: Vec<ToolCall>,
    },
    /// The turn is over.
    Done(Finish),
    /// The task fails with this message.
    Fail(String),
}

/// Tells which tool calls the server runs itself and which the client answers.
pub trait ToolKinds {
    /// Whether the named tool is client-side (a `function` tool): the task pauses for it.
    fn is_client_side(&self, name: &str) -> bool;

    /// Whether calls to the named server-side tool wait for a human's approval.
    fn needs_approval(&self, _name: &str) -> bool {
        false
    }

    /// Whether a call of the named tool cut by a stopped server may simply run again.
    fn is_idempotent(&self, _name: &str) -> bool {
        false
    }

    /// The id reported as `toolId` for the named tool (its name unless told otherwise).
    fn tool_id(&self, name: &str) -> String {
        name.to_owned()
    }

    /// Checks a call before it runs; the error is what the model sees.
    fn check(&self, _call: &ToolCall) -> Result<(), String> {
        Ok(())
    }
}

/// Decides the next step. `now_ms` is the wall clock; `cost_limit` is `settings.max_cost`.
pub fn next_step(data: &TaskData, spec: &AgentSpec, kinds: &dyn ToolKinds, now_ms: i64) -> Step {
    let settings = &spec.settings;
    let elapsed_ms = now_ms.saturating_sub(data.turn_started_ms);
    if elapsed_ms > i64::from(settings.max_execution_time) * 1000 {
        return Step::Done(Finish::MaxTime);
    }
    if settings.max_cost > 0.0 && data.usage.cost >= settings.max_cost {
        return Step::Fail(format!(
            "max_cost of ${} reached (spent ${:.6})",
            settings.max_cost, data.usage.cost
        ));
    }
    let Some(last) = data.history.last() else {
        return Step::Fail("the task has no message".into());
    };
    let pending = data.unanswered_calls();
    if !pending.is_empty() {
        let (client, server): (Vec<_>, Vec<_>) = pending
            .into_iter()
            .partition(|c| kinds.is_client_side(&c.name));
        // Calls that are decided (approved or rejected) or need no approval go ahead; the
        // rest wait, so siblings run now and are never run again after the review.
        let (ready, reviews): (Vec<_>, Vec<_>) = server
            .into_iter()
            .partition(|c| !kinds.needs_approval(&c.name) || data.reviews.contains_key(&c.id));
        if !ready.is_empty() {
            return Step::CallTools(ready);
        }
        return Step::Pause {
            calls: client,
            reviews,
        };
    }
    match last.role {
        Role::Agent => {
            if last
                .parts
                .iter()
                .any(|p| matches!(p, Part::ToolCall { .. }))
            {
                // Every call is answered, which the branch above handled; unreachable in practice.
                return Step::CallModel;
            }
            Step::Done(data.finish.unwrap_or(Finish::Stop))
        }
        Role::User | Role::Tool | Role::System => {
            if data.iterations >= settings.max_iterations {
                Step::Done(Finish::MaxIterations)
            } else {
                Step::CallModel
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use baton_core::message::Message;
    use serde_json::json;

    struct Functions(&'static [&'static str]);
    impl ToolKinds for Functions {
        fn is_client_side(&self, name: &str) -> bool {
            self.0.contains(&name)
        }
    }

    fn spec() -> AgentSpec {
        serde_json::from_value(json!({"key": "k", "role": "r", "description": "d",
            "instructions": "i", "path": "p", "model": "openai/gpt-4o",
            "settings": {"max_iterations": 2, "max_execution_time": 10, "max_cost": 1.0}}))
        .unwrap()
    }

    fn msg(role: Role, parts: Vec<Part>) -> Message {
        Message {
            message_id: "m".into(),
            role,
            parts,
        }
    }

    fn call(id: &str, name: &str) -> Part {
        Part::ToolCall {
            tool_name: name.into(),
            tool_call_id: id.into(),
            arguments: json!({}),
        }
    }

    fn result(id: &str) -> Part {
        Part::ToolResult {
            tool_call_id: id.into(),
            result: Some(json!("r")),
            metadata: None,
        }
    }

    fn data(history: Vec<Message>) -> TaskData {
        TaskData {
            history: history.into_iter().map(std::sync::Arc::new).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn a_user_message_calls_the_model() {
        let d = data(vec![msg(
            Role::User,
            vec![Part::Text { text: "hi".into() }],
        )]);
        assert_eq!(next_step(&d, &spec(), &Functions(&[]), 0), Step::CallModel);
    }

    #[test]
    fn server_tools_run_before_pausing_for_client_tools() {
        let d = data(vec![
            msg(Role::User, vec![Part::Text { text: "hi".into() }]),
            msg(
                Role::Agent,
                vec![call("a", "current_date"), call("b", "get_weather")],
            ),
        ]);
        let kinds = Functions(&["get_weather"]);
        match next_step(&d, &spec(), &kinds, 0) {
            Step::CallTools(calls) => assert_eq!(calls[0].id, "a"),
            other => panic!("{other:?}"),
        }
        let mut d = d;
        d.history.push(msg(Role::Tool, vec![result("a")]).into());
        match next_step(&d, &spec(), &kinds, 0) {
            Step::Pause { calls, reviews } => {
                assert_eq!(calls[0].id, "b");
                assert!(reviews.is_empty());
            }
            other => panic!("{other:?}"),
        }
        d.history.push(msg(Role::Tool, vec![result("b")]).into());
        assert_eq!(next_step(&d, &spec(), &kinds, 0), Step::CallModel);
    }

    struct Reviewed;
    impl ToolKinds for Reviewed {
        fn is_client_side(&self, _name: &str) -> bool {
            false
        }
        fn needs_approval(&self, name: &str) -> bool {
            name == "transfer"
        }
    }

    #[test]
    fn calls_needing_approval_wait_while_their_siblings_run_once() {
        let mut d = data(vec![
            msg(Role::User, vec![Part::Text { text: "hi".into() }]),
            msg(
                Role::Agent,
                vec![call("a", "current_date"), call("b", "transfer")],
            ),
        ]);
        match next_step(&d, &spec(), &Reviewed, 0) {
            Step::CallTools(calls) => {
                assert_eq!(calls.len(), 1);
                assert_eq!(calls[0].id, "a");
            }
            other => panic!("{other:?}"),
        }
        d.history.push(msg(Role::Tool, vec![result("a")]).into());
        match next_step(&d, &spec(), &Reviewed, 0) {
            Step::Pause { calls, reviews } => {
                assert!(calls.is_empty());
                assert_eq!(reviews[0].id, "b");
            }
            other => panic!("{other:?}"),
        }
        d.reviews.insert(
            "b".into(),
            crate::state::Review {
                approved: true,
                reason: None,
            },
        );
        match next_step(&d, &spec(), &Reviewed, 0) {
            Step::CallTools(calls) => assert_eq!(
                calls.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
                ["b"]
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn limits_end_the_turn() {
        let mut d = data(vec![msg(
            Role::User,
            vec![Part::Text { text: "hi".into() }],
        )]);
        d.iterations = 2;
        assert_eq!(
            next_step(&d, &spec(), &Functions(&[]), 0),
            Step::Done(Finish::MaxIterations)
        );
        d.iterations = 0;
        assert_eq!(
            next_step(&d, &spec(), &Functions(&[]), 10_001),
            Step::Done(Finish::MaxTime)
        );
        d.usage.cost = 1.5;
        assert!(matches!(
            next_step(&d, &spec(), &Functions(&[]), 0),
            Step::Fail(_)
        ));
    }

    #[test]
    fn an_answer_ends_the_turn() {
        let d = data(vec![
            msg(Role::User, vec![Part::Text { text: "hi".into() }]),
            msg(
                Role::Agent,
                vec![Part::Text {
                    text: "hello".into(),
                }],
            ),
        ]);
        assert_eq!(
            next_step(&d, &spec(), &Functions(&[]), 0),
            Step::Done(Finish::Stop)
        );
    }
}
