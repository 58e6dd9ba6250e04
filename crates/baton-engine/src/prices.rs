//! Model prices in USD per million tokens, with built-in defaults for common models.

use baton_core::model::TokenUsage;
use std::collections::HashMap;

/// Prices by `provider/model`.
#[derive(Debug, Clone)]
pub struct PriceTable {
    prices: HashMap<String, (f64, f64)>,
}

/// Built-in list prices (USD per million input/output tokens).
const DEFAULTS: &[(&str, f64, f64)] = &[
    ("openai/gpt-4o", 2.5, 10.0),
    ("openai/gpt-4o-mini", 0.15, 0.6),
    ("openai/gpt-4.1", 2.0, 8.0),
    ("openai/gpt-4.1-mini", 0.4, 1.6),
    ("openai/gpt-4.1-nano", 0.1, 0.4),
    ("openai/o3-mini", 1.1, 4.4),
    ("openai/o4-mini", 1.1, 4.4),
    ("anthropic/claude-opus-4", 15.0, 75.0),
    ("anthropic/claude-sonnet-4", 3.0, 15.0),
    ("anthropic/claude-3-7-sonnet", 3.0, 15.0),
    ("anthropic/claude-3-5-sonnet", 3.0, 15.0),
    ("anthropic/claude-3-5-haiku", 0.8, 4.0),
    ("google/gemini-2.5-pro", 1.25, 10.0),
    ("google/gemini-2.5-flash", 0.3, 2.5),
    ("google/gemini-2.0-flash", 0.1, 0.4),
    ("google/gemini-1.5-pro", 1.25, 5.0),
];

impl Default for PriceTable {
    fn default() -> Self {
        let mut prices = HashMap::new();
        for (model, input, output) in DEFAULTS {
            prices.insert((*model).to_owned(), (*input, *output));
        }
        Self { prices }
    }
}

/// `provider/model` with `:` normalised and `gemini/` as an alias of `google/`.
fn normalise(model: &str) -> String {
    let model = match model.find(['/', ':']) {
        Some(i) => format!("{}/{}", &model[..i], &model[i + 1..]),
        None => model.to_owned(),
    };
    match model.strip_prefix("gemini/") {
        Some(rest) => format!("google/{rest}"),
        None => model,
    }
}

/// Drops a trailing date or version suffix: `claude-sonnet-4-20250514` → `claude-sonnet-4`.
fn without_suffix(model: &str) -> Option<&str> {
    let (head, tail) = model.rsplit_once('-')?;
    (tail.len() >= 6 && tail.chars().all(|c| c.is_ascii_digit())).then_some(head)
}

impl PriceTable {
    /// An empty table (everything free).
    pub fn empty() -> Self {
        Self {
            prices: HashMap::new(),
        }
    }

    /// Sets the price of `provider/model`.
    pub fn set(&mut self, model: &str, input_per_million: f64, output_per_million: f64) {
        self.prices
            .insert(normalise(model), (input_per_million, output_per_million));
    }

    /// The price of a model, if known.
    pub fn price(&self, model: &str) -> Option<(f64, f64)> {
        let model = normalise(model);
        self.prices
            .get(&model)
            .or_else(|| without_suffix(&model).and_then(|m| self.prices.get(m)))
            .copied()
    }

    /// What `usage` cost on `model` (0 when the price is unknown).
    pub fn cost(&self, model: &str, usage: &TokenUsage) -> f64 {
        self.price(model).map_or(0.0, |(input, output)| {
            (usage.prompt_tokens as f64 * input + usage.completion_tokens as f64 * output) / 1e6
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_resolve_aliases_and_suffixes() {
        let t = PriceTable::default();
        assert_eq!(t.price("openai:gpt-4o"), Some((2.5, 10.0)));
        assert_eq!(
            t.price("anthropic/claude-sonnet-4-20250514"),
            Some((3.0, 15.0))
        );
        assert_eq!(t.price("gemini/gemini-2.0-flash"), Some((0.1, 0.4)));
        assert_eq!(t.price("ollama/llama3"), None);
        let usage = TokenUsage {
            prompt_tokens: 1_000_000,
            completion_tokens: 500_000,
            ..Default::default()
        };
        assert!((t.cost("openai/gpt-4o", &usage) - 7.5).abs() < 1e-9);
        let mut t = t;
        t.set("ollama/llama3", 1.0, 2.0);
        assert!((t.cost("ollama:llama3", &usage) - 2.0).abs() < 1e-9);
    }
}
