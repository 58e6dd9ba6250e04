//! The run as sans-IO code: every decision and change of a task's checkpoint — admission, the
//! next step, a model's reply, tool results, reviews, schema retries, limits, pause and finish —
//! is a function of the state and an input that returns the new state and what to do. The async
//! runner performs the effects (call a model, call tools, checkpoint, publish) and nothing else.

pub(crate) mod admit;
pub mod event;
pub mod queue;
pub mod reply;
pub mod resume;
pub mod transition;
pub mod turn;

#[cfg(test)]
mod tests;

pub use event::{RunEvent, TurnMark};
pub use reply::{absorb_reply, Absorbed, Reply, SCHEMA_RETRIES};
pub use resume::{AfterInterruption, Interruption, OUTCOME_UNKNOWN};
pub use transition::{transition, Context, Effect, Input};
