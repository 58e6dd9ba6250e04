//! The tool runtime for Baton: built-in tools, HTTP tools, Python code tools and MCP servers,
//! with argument validation against each tool's JSON schema.
//!
//! Tool specifications (what is stored under `/v2/tools`) live in `baton_core::tool`; the
//! runtime that executes them arrives with agent runs.
