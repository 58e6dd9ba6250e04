//! What a resumed run does with the calls a stopped server left without an outcome: a model
//! call is counted and repeated; a tool call runs again only when its tool is idempotent, goes
//! back to a reviewer when its tool needs approval, and is otherwise answered "outcome unknown".

use super::transition::{Context, Effect};
use super::turn;
use crate::state::{ModelAttempt, TaskData, ToolAttempt};
use crate::step::{next_step, Step};
use baton_core::model::ToolCall;

/// What the model sees for a call that was running when its server stopped.
pub const OUTCOME_UNKNOWN: &str = "outcome unknown: the server stopped while this call was running";

/// An attempt a stopped server left without an outcome, found when the run resumes.
#[derive(Debug, Clone, PartialEq)]
pub enum Interruption {
    /// A model call: it may have been billed; its tokens are unknown.
    Model(ModelAttempt),
    /// A tool call, and what happens to it now.
    Tool {
        /// The call.
        call: ToolCall,
        /// The attempt that was cut.
        attempt: ToolAttempt,
        /// What the resumed run does with it.
        next: AfterInterruption,
    },
}

/// What a resumed run does with a tool call a stopped server cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterInterruption {
    /// The tool is idempotent: the call runs again, with the same idempotency key.
    Rerun,
    /// The tool needs approval: a reviewer decides whether it runs again.
    Review,
    /// The model is told the outcome is unknown; the call does not run again.
    Unknown,
}

impl AfterInterruption {
    /// How traces name it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rerun => "rerun",
            Self::Review => "review",
            Self::Unknown => "unknown",
        }
    }
}

/// Resolves what the last checkpoint says was running: each cut attempt becomes an
/// `Interrupted` effect (and, for a call that does not run again, its result). Returns the
/// effects and the attempts the cut model call had made.
pub(super) fn resume(data: &mut TaskData, ctx: &Context<'_>) -> (Vec<Effect>, u32) {
    let mut effects = Vec::new();
    let mut model_attempts = 0;
    if let Some(cut) = data.model_call.take() {
        data.usage.interrupted_model_calls += 1;
        data.turn_usage.interrupted_model_calls += 1;
        model_attempts = cut.attempt;
        effects.push(Effect::Interrupted(Interruption::Model(cut)));
    }
    let unanswered = data.unanswered_calls();
    // A result a person supplied answers a call whose intent is still there.
    data.in_flight
        .retain(|id, _| unanswered.iter().any(|c| &c.id == id));
    for call in unanswered {
        let Some(attempt) = data.in_flight.get_mut(&call.id) else {
            continue;
        };
        if attempt.interrupted {
            continue; // found by an earlier resume: it waits for its rerun or its review
        }
        attempt.interrupted = true;
        let attempt = *attempt;
        let next = if ctx.kinds.is_idempotent(&call.name) {
            AfterInterruption::Rerun
        } else if ctx.kinds.needs_approval(&call.name) {
            // Its approval was for the attempt that was cut: running it again needs another.
            data.reviews.remove(&call.id);
            AfterInterruption::Review
        } else {
            AfterInterruption::Unknown
        };
        let result = (next == AfterInterruption::Unknown)
            .then(|| turn::record_result(data, ctx.kinds, &call, Err(OUTCOME_UNKNOWN.into())));
        effects.push(Effect::Interrupted(Interruption::Tool {
            call,
            attempt,
            next,
        }));
        effects.extend(result.map(Effect::Publish));
    }
    (effects, model_attempts)
}

/// Records, with the checkpoint about to be stored, the model call that follows it (if the
/// next step is one): a server that stops during that call leaves it on record. `earlier` is
/// how many attempts of the same call were cut before.
pub(super) fn stage_model_call(data: &mut TaskData, ctx: &Context<'_>, earlier: u32) {
    // `next_step` at the turn's start time: a time limit that ends the turn first clears it.
    let calls_model = next_step(data, ctx.spec, ctx.kinds, data.turn_started_ms) == Step::CallModel;
    data.model_call = calls_model.then_some(ModelAttempt {
        attempt: earlier + 1,
        started_ms: ctx.now_ms,
    });
}
