//! Model providers for Baton: clients for OpenAI Chat Completions (and every OpenAI-compatible
//! endpoint), Anthropic Messages and Google Gemini, behind `baton-core`'s provider port, with
//! retries, fallbacks and a price table.
//!
//! The clients arrive with agent runs; until then this crate only reserves its place in the
//! dependency graph (`core` ← `providers`).
