//! sea-orm entities. Configuration documents are kept as JSON text so both engines store them alike.

pub mod agent;
pub mod agent_version;
pub mod api_key;
pub mod collection;
pub mod entry;
pub mod push_config;
pub mod schedule;
pub mod schedule_firing;
pub mod span;
pub mod task;
pub mod task_event;
pub mod task_message;
pub mod thread;
pub mod tool;
