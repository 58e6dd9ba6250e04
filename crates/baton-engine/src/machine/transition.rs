//! The loop as one transition function: the checkpoint and an input (what the last effect
//! produced) in, the changed checkpoint and the effects to perform out.

use super::event::RunEvent;
use super::queue;
use super::reply::{absorb_reply, Reply};
use super::resume::{resume, stage_model_call, Interruption};
use super::turn;
use crate::state::{Finish, TaskData};
use crate::step::{next_step, Step, ToolKinds};
use baton_core::agent::AgentSpec;
use baton_core::model::ToolCall;
use baton_core::task::TaskState;
use baton_core::usage::Usage;
use serde_json::Value;

/// What the driver tells the machine.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// The run starts (or resumes) on this worker.
    Start,
    /// The last step is stored: decide the next. `cancel_requested` is the stored cancel flag.
    Next {
        /// The wall clock (Unix ms), for `max_execution_time`.
        now_ms: i64,
        /// Whether a cancel was requested.
        cancel_requested: bool,
        /// Whether this process is shutting down and the run should leave a next model or
        /// tool call to another server.
        hand_over: bool,
    },
    /// The model answered; `part_id` is the id its streamed deltas carried.
    ModelReplied {
        /// The reply.
        reply: Reply,
        /// The answer's part id.
        part_id: String,
    },
    /// The model call ran past `max_execution_time`.
    TimedOut,
    /// The run was canceled while it waited on a model or tools.
    Canceled,
    /// The run fails: every model of the chain failed, or the run crashed.
    Failed(String),
    /// A tool call landed, with what sub-agents spent and started meanwhile.
    ToolReturned {
        /// The call.
        call: ToolCall,
        /// Its result; an error is shown to the model.
        result: Result<Value, String>,
        /// Sub-agents' usage since the last result.
        spent: Usage,
        /// Child tasks started since the last result.
        children: Vec<String>,
        /// Sub-agent calls made so far in this task.
        sub_agent_calls: u32,
    },
    /// The turn ended, entering `ended`, and messages are queued (some may have come while its
    /// end was being stored): the next one's turn starts, or the run stops.
    TurnEnded {
        /// The state the ended turn entered.
        ended: TaskState,
    },
}

/// What the driver must do, in order. Published events are stored before anyone sees them:
/// with the next checkpoint, or with one the driver makes before it calls tools.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Publish this event (the turn's last one only once the next checkpoint is stored).
    Publish(RunEvent),
    /// The task enters this state.
    Enter(TaskState),
    /// Store the checkpoint (compare-and-swap on the task's revision) with the queued events.
    Checkpoint,
    /// Record an attempt a stopped server cut (a span; it has no outcome to report).
    Interrupted(Interruption),
    /// Call the model with the conversation; answer with `ModelReplied`, `TimedOut`,
    /// `Canceled` or `Failed`.
    CallModel,
    /// Run these calls in parallel, answering each with `ToolReturned`; `rejected` calls are
    /// answered at once with their rejection.
    CallTools {
        /// Calls to run.
        run: Vec<ToolCall>,
        /// Calls a reviewer rejected, with the message the model sees.
        rejected: Vec<(ToolCall, String)>,
    },
    /// The turn is over: record its root span (`ok` or `error`).
    EndTurn {
        /// Whether the turn ended without an error.
        ok: bool,
    },
    /// The turn is over and messages are queued: answer with `TurnEnded` (the ended turn's
    /// effects, its root span included, are performed first).
    NextTurn,
    /// A queued message starts the next turn: cancel requests and the tools of the turn before
    /// are over.
    NewTurn,
    /// The run is done on this worker.
    Stop,
    /// The run stops on this worker with its turn unfinished: the checkpoint before it is
    /// stored, and another server continues from there.
    HandOver,
}

/// What the machine knows of the run besides its checkpoint.
pub struct Context<'a> {
    /// The agent.
    pub spec: &'a AgentSpec,
    /// Its tools.
    pub kinds: &'a dyn ToolKinds,
    /// The task's id (reported in `response.started`).
    pub task_id: &'a str,
    /// The wall clock (Unix ms), for when calls start.
    pub now_ms: i64,
}

/// One transition: changes `data` and says what to do next. Every checkpoint records the
/// model call that follows it, if one does, so a resumed run knows it was made.
pub fn transition(data: &mut TaskData, ctx: &Context<'_>, input: Input) -> Vec<Effect> {
    let mut model_attempts = 0;
    let effects = match input {
        Input::Start => {
            let (effects, attempts) = start(data, ctx);
            model_attempts = attempts;
            effects
        }
        Input::Next {
            cancel_requested: true,
            ..
        }
        | Input::Canceled => ended(data, turn::cancel, false),
        // A message that interrupts this turn arrived: the turn stops at this checkpoint.
        Input::Next { .. } if queue::interrupts_current(data) => ended(data, turn::cancel, false),
        Input::Next {
            now_ms, hand_over, ..
        } => decide(data, ctx, now_ms, hand_over),
        Input::TurnEnded { ended } => match queue::runs_next(data, ended) {
            true => queue::begin_queued(data, ctx),
            false => vec![Effect::Checkpoint, Effect::Stop],
        },
        Input::ModelReplied { reply, part_id } => {
            let absorbed = absorb_reply(
                data,
                ctx.spec.output_schema.as_ref(),
                ctx.kinds,
                reply,
                &part_id,
            );
            let mut effects: Vec<Effect> =
                absorbed.events.into_iter().map(Effect::Publish).collect();
            match absorbed.failure {
                Some(message) => effects.extend(ended(data, |d| turn::fail(d, message), false)),
                None => effects.push(Effect::Checkpoint),
            }
            effects
        }
        Input::TimedOut => ended(data, |d| turn::end(d, Finish::MaxTime, Vec::new()), true),
        Input::Failed(message) => ended(data, |d| turn::fail(d, message), false),
        Input::ToolReturned {
            call,
            result,
            spent,
            children,
            sub_agent_calls,
        } => {
            data.usage += spent;
            data.turn_usage += spent;
            data.children.extend(children);
            data.sub_agent_calls = sub_agent_calls;
            let event = turn::record_result(data, ctx.kinds, &call, result);
            vec![Effect::Publish(event), Effect::Checkpoint]
        }
    };
    if effects
        .iter()
        .any(|e| matches!(e, Effect::Stop | Effect::HandOver))
    {
        data.model_call = None;
    } else if effects.iter().any(|e| matches!(e, Effect::Checkpoint)) {
        stage_model_call(data, ctx, model_attempts);
    }
    effects
}

/// The run starts or resumes: the turn is announced once, and what the last checkpoint says
/// was running is resolved first.
/// Also returns the attempts of a model call a stopped server cut.
fn start(data: &mut TaskData, ctx: &Context<'_>) -> (Vec<Effect>, u32) {
    // The turn is announced once, whichever worker runs it.
    let mut effects = Vec::with_capacity(4);
    if data.announced_turn != data.response_id {
        data.announced_turn = data.response_id.clone();
        effects.push(Effect::Publish(RunEvent::Started {
            response_id: data.response_id.clone(),
            task_id: ctx.task_id.to_owned(),
            model: data.model.clone(),
            trace_id: data.trace_id.clone(),
            span_id: data.span_id.clone(),
        }));
    }
    effects.push(Effect::Enter(TaskState::Working));
    let (interrupted, model_attempts) = resume(data, ctx);
    effects.extend(interrupted);
    effects.push(Effect::Checkpoint);
    (effects, model_attempts)
}

/// The next step from the checkpoint, as effects. Handing over, a step that calls the model or
/// tools is left to the next server: nothing of it is recorded, so it does not look cut; a
/// step that only ends the turn is taken here.
fn decide(data: &mut TaskData, ctx: &Context<'_>, now_ms: i64, hand_over: bool) -> Vec<Effect> {
    match next_step(data, ctx.spec, ctx.kinds, now_ms) {
        Step::CallModel | Step::CallTools(_) if hand_over => {
            vec![Effect::Checkpoint, Effect::HandOver]
        }
        Step::CallModel => vec![Effect::CallModel],
        Step::CallTools(calls) => {
            let mut effects = Vec::new();
            let (mut run, mut rejected) = (Vec::new(), Vec::new());
            for call in calls {
                let (events, verdict) = turn::start_call(data, ctx.kinds, &call, ctx.now_ms);
                effects.extend(events.into_iter().map(Effect::Publish));
                match verdict {
                    Ok(()) => run.push(call),
                    Err(message) => rejected.push((call, message)),
                }
            }
            // The calls' intents are stored before any runs: after a crash, a call that may
            // have happened is known.
            if !run.is_empty() {
                effects.push(Effect::Checkpoint);
            }
            effects.push(Effect::CallTools { run, rejected });
            effects
        }
        Step::Pause { calls, reviews } => {
            let (state, events) = turn::pause(data, ctx.kinds, calls, reviews);
            end_effects(data, state, events, true)
        }
        Step::Done(finish) => ended(data, |d| turn::end(d, finish, Vec::new()), true),
        Step::Fail(message) => ended(data, |d| turn::fail(d, message), false),
    }
}

/// Ends the turn the way `end` says.
fn ended(
    data: &mut TaskData,
    end: impl FnOnce(&mut TaskData) -> (TaskState, RunEvent),
    ok: bool,
) -> Vec<Effect> {
    let (state, event) = end(data);
    end_effects(data, state, vec![event], ok)
}

/// The end of a turn: the state, its events, its root span, then either the next queued
/// message's turn (which the driver asks for once these are performed) or the checkpoint that
/// stores the end (and then publishes its last event) and stop.
fn end_effects(data: &TaskData, state: TaskState, events: Vec<RunEvent>, ok: bool) -> Vec<Effect> {
    let mut effects = vec![Effect::Enter(state)];
    effects.extend(events.into_iter().map(Effect::Publish));
    effects.push(Effect::EndTurn { ok });
    if queue::runs_next(data, state) {
        effects.push(Effect::NextTurn);
    } else {
        effects.extend([Effect::Checkpoint, Effect::Stop]);
    }
    effects
}
