//! Token usage and cost.

use serde::{Deserialize, Serialize};

/// Tokens used and what they cost.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Usage {
    /// Input tokens.
    pub prompt_tokens: u64,
    /// Output tokens.
    pub completion_tokens: u64,
    /// Sum of both.
    pub total_tokens: u64,
    /// Cost in USD.
    #[serde(default)]
    pub cost: f64,
    /// Model calls a stopped server left unanswered: they may have been billed, with tokens no
    /// one can know, so they are counted rather than guessed.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub interrupted_model_calls: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl std::ops::AddAssign for Usage {
    fn add_assign(&mut self, rhs: Self) {
        self.prompt_tokens += rhs.prompt_tokens;
        self.completion_tokens += rhs.completion_tokens;
        self.total_tokens += rhs.total_tokens;
        self.cost += rhs.cost;
        self.interrupted_model_calls += rhs.interrupted_model_calls;
    }
}
