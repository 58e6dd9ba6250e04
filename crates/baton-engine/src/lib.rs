//! The Baton agent engine: the agent loop as a resumable state machine, the task state machine,
//! background workers with leases, the scheduler, event streams and spans.
//!
//! It receives model providers, tools and stores as `baton-core` trait objects and names no
//! concrete implementation. The loop arrives with agent runs.
