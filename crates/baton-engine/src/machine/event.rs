//! The typed events a run emits. The engine stores and publishes them as they are; each wire
//! dialect maps them to its own shape.

use crate::state::Finish;
use baton_core::model::ToolCall;
use baton_core::usage::Usage;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One event of a run, as the machine emits it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RunEvent {
    /// A turn started.
    Started {
        /// The turn's response id.
        response_id: String,
        /// The task's id.
        task_id: String,
        /// The model the turn starts with.
        model: String,
        /// The turn's trace id.
        trace_id: String,
        /// The turn's root span id.
        span_id: String,
    },
    /// A piece of streamed text or reasoning (published live, never stored).
    Delta {
        /// The part the piece belongs to.
        part_id: String,
        /// Whether the piece is reasoning rather than answer text.
        reasoning: bool,
        /// The piece.
        text: String,
    },
    /// A whole text part of the model's answer.
    TextDone {
        /// The part's id (the one its deltas carried).
        part_id: String,
        /// The whole text.
        text: String,
    },
    /// A server-side tool call started.
    ToolStarted {
        /// The tool's id.
        tool_id: String,
        /// The call.
        call: ToolCall,
        /// Which attempt this is: more than 1 when a stopped server cut an earlier one.
        #[serde(default = "first_attempt", skip_serializing_if = "is_first_attempt")]
        attempt: u32,
    },
    /// A tool call returned.
    ToolDone {
        /// The tool's id.
        tool_id: String,
        /// The call's id.
        call_id: String,
        /// What it returned.
        result: Value,
    },
    /// A tool call failed or was refused; the model sees the error.
    ToolFailed {
        /// The tool's id.
        tool_id: String,
        /// The call's id.
        call_id: String,
        /// Why.
        error: String,
    },
    /// A server-side call waits for a reviewer.
    ReviewRequested {
        /// The tool's id.
        tool_id: String,
        /// The call.
        call: ToolCall,
    },
    /// A reviewer decided on a call.
    ReviewDone {
        /// The tool's id.
        tool_id: String,
        /// The call's id.
        call_id: String,
        /// Whether the call may run.
        approved: bool,
    },
    /// The turn ended: answered, paused for the client or stopped by a limit.
    Done {
        /// Why it ended.
        finish: Finish,
        /// Tokens and cost of the turn.
        usage: Usage,
        /// The turn's trace id.
        trace_id: String,
        /// The turn's root span id.
        span_id: String,
        /// Client-side calls the client must answer.
        pending: Vec<ToolCall>,
        /// Server-side calls waiting for a review.
        reviews: Vec<ToolCall>,
        /// Which turn ended and where its messages are.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        turn: Option<TurnMark>,
    },
    /// The task failed.
    Failed {
        /// Why, readable.
        error: String,
        /// Which turn ended and where its messages are.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        turn: Option<TurnMark>,
    },
    /// The turn was canceled.
    Canceled {
        /// Whether a newer message interrupted it (`multitask_strategy: interrupt`).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        interrupted: bool,
        /// Which turn ended and where its messages are.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        turn: Option<TurnMark>,
    },
}

/// The turn a last event ends and where its messages lie in the task's history: a reader that
/// waited on that turn tells its answer apart from the turns of messages queued behind it, which
/// start at once.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TurnMark {
    /// The turn's response id.
    pub response_id: String,
    /// The turn's root span id.
    pub span_id: String,
    /// Index of the turn's input in the history (its output follows it).
    pub start: usize,
    /// Length of the history when the turn ended (its output ends there).
    pub end: usize,
    /// Tokens and cost of the turn.
    pub usage: Usage,
}

impl TurnMark {
    /// The mark of the task's current turn, as it ends now.
    pub fn of(data: &crate::state::TaskData) -> Self {
        Self {
            response_id: data.response_id.clone(),
            span_id: data.span_id.clone(),
            start: data.turn_start,
            end: data.history.len(),
            usage: data.turn_usage,
        }
    }
}

fn first_attempt() -> u32 {
    1
}

fn is_first_attempt(attempt: &u32) -> bool {
    *attempt == 1
}

impl RunEvent {
    /// Whether this event ends a turn's stream.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            Self::Done { .. } | Self::Failed { .. } | Self::Canceled { .. }
        )
    }

    /// The turn a last event ends (`None` for other events, and for events stored before
    /// turns were marked).
    pub fn turn_mark(&self) -> Option<&TurnMark> {
        match self {
            Self::Done { turn, .. } | Self::Failed { turn, .. } | Self::Canceled { turn, .. } => {
                turn.as_ref()
            }
            _ => None,
        }
    }
}
