//! A run's toolset: the tools its agent lists, resolved, and the built-in tools that need the
//! engine itself (teams, memory, knowledge).

use crate::collections::{self, KnowledgeTools, MemoryOp, MemoryTools};
use crate::state::TaskData;
use crate::toolset::{Side, Toolset};
use crate::{builtins, EngineError, Inner};
use baton_core::agent::AgentSpec;
use baton_core::handler::ToolContext;
use baton_core::store::TaskRecord;
use baton_core::tool::BuiltinTool;
use std::sync::Arc;

/// The agent's tools for this run: those it lists, resolved, and the built-ins that need the
/// engine.
pub(super) async fn toolset(
    inner: &Arc<Inner>,
    task: &TaskRecord,
    data: &TaskData,
    spec: &AgentSpec,
    ledger: &builtins::SharedLedger,
    calls_made: &Arc<std::sync::Mutex<u32>>,
) -> Result<Toolset, EngineError> {
    let ctx = ToolContext {
        variables: &data.variables,
        cipher: inner.cipher.as_ref(),
        trace: None,
        idempotency_key: None,
    };
    let mut tools = Toolset::resolve(
        spec,
        &task.project_id,
        inner.store.as_ref(),
        inner.tools.as_ref(),
        &ctx,
    )
    .await?;
    attach_builtins(&mut tools, inner, task, data, spec, ledger, calls_made);
    // After the agent's own: a caller's function cannot stand in for one of them.
    for function in &data.turn_tools.functions {
        tools.add(
            function.clone(),
            Side::Client,
            function.name.clone(),
            false,
            false,
        );
    }
    Ok(tools)
}

/// Adds the built-in tools that need the engine (teams) to a resolved toolset.
pub(super) fn attach_builtins(
    tools: &mut Toolset,
    inner: &Arc<Inner>,
    task: &TaskRecord,
    data: &TaskData,
    spec: &AgentSpec,
    ledger: &builtins::SharedLedger,
    calls_made: &Arc<std::sync::Mutex<u32>>,
) {
    let setting = spec.settings.tool_approval_required;
    for entry in &spec.settings.tools {
        let Some(builtin) = entry.builtin() else {
            continue;
        };
        let needs_approval = crate::toolset::approval(setting, entry, None);
        match builtin {
            BuiltinTool::CurrentDate => {}
            BuiltinTool::RetrieveAgents => tools.add(
                builtins::retrieve_agents_definition(),
                Side::Server(Arc::new(builtins::RetrieveAgents {
                    inner: inner.clone(),
                    project: task.project_id.clone(),
                    team: spec.team_of_agents.clone(),
                })),
                builtin.name().into(),
                needs_approval,
                builtin.is_idempotent(),
            ),
            BuiltinTool::CallSubAgent => {
                let team = Team {
                    inner,
                    task,
                    data,
                    spec,
                    ledger,
                    calls_made,
                };
                add_sub_agent_tool(tools, &team, needs_approval);
            }
            other => add_collection_tool(tools, inner, task, data, spec, other, needs_approval),
        }
    }
    add_default_collection_tools(tools, inner, task, data, spec);
}

/// What the `call_sub_agent` tool needs of the run.
struct Team<'a> {
    inner: &'a Arc<Inner>,
    task: &'a TaskRecord,
    data: &'a TaskData,
    spec: &'a AgentSpec,
    ledger: &'a builtins::SharedLedger,
    calls_made: &'a Arc<std::sync::Mutex<u32>>,
}

fn add_sub_agent_tool(tools: &mut Toolset, team: &Team<'_>, needs_approval: bool) {
    let spec = team.spec;
    if !builtins::has_team(spec) {
        tracing::warn!(agent = %spec.key, "call_sub_agent without team_of_agents");
        return;
    }
    let mut chain = team
        .data
        .lineage
        .as_ref()
        .map(|l| l.chain.clone())
        .unwrap_or_default();
    if chain.last() != Some(&spec.key) {
        chain.push(spec.key.clone());
    }
    tools.add(
        builtins::call_sub_agent_definition(&spec.team_of_agents),
        Side::Server(Arc::new(builtins::CallSubAgent {
            inner: team.inner.clone(),
            project: team.task.project_id.clone(),
            team: spec.team_of_agents.clone(),
            parent_task_id: team.task.id.clone(),
            chain,
            calls_made: team.calls_made.clone(),
            ledger: team.ledger.clone(),
            variables: team.data.variables.clone(),
            memory_entity_id: team.data.memory_entity_id.clone(),
        })),
        BuiltinTool::CallSubAgent.name().into(),
        needs_approval,
        BuiltinTool::CallSubAgent.is_idempotent(),
    );
}

/// Adds a listed memory or knowledge tool (other built-ins are not available in this build).
fn add_collection_tool(
    tools: &mut Toolset,
    inner: &Arc<Inner>,
    task: &TaskRecord,
    data: &TaskData,
    spec: &AgentSpec,
    builtin: BuiltinTool,
    needs_approval: bool,
) {
    let op = match builtin {
        BuiltinTool::RetrieveMemoryStores => MemoryOp::Retrieve,
        BuiltinTool::QueryMemoryStore => MemoryOp::Query,
        BuiltinTool::WriteMemoryStore => MemoryOp::Write,
        BuiltinTool::DeleteMemoryDocument => MemoryOp::Delete,
        BuiltinTool::RetrieveKnowledgeBases | BuiltinTool::QueryKnowledgeBase => {
            let query = builtin == BuiltinTool::QueryKnowledgeBase;
            return add_knowledge_tool(tools, inner, task, spec, query, needs_approval);
        }
        other => {
            return tracing::debug!(
                tool = other.name(),
                "built-in tool not available in this build"
            )
        }
    };
    add_memory_tool(tools, inner, task, data, spec, op, needs_approval);
}

/// Agents with memory stores or knowledge bases get their tools even when they list none.
fn add_default_collection_tools(
    tools: &mut Toolset,
    inner: &Arc<Inner>,
    task: &TaskRecord,
    data: &TaskData,
    spec: &AgentSpec,
) {
    let listed = |names: &[BuiltinTool]| {
        spec.settings
            .tools
            .iter()
            .any(|e| e.builtin().is_some_and(|b| names.contains(&b)))
    };
    use BuiltinTool as B;
    if !spec.memory_stores.is_empty()
        && !listed(&[
            B::RetrieveMemoryStores,
            B::QueryMemoryStore,
            B::WriteMemoryStore,
            B::DeleteMemoryDocument,
        ])
    {
        for op in [
            MemoryOp::Retrieve,
            MemoryOp::Query,
            MemoryOp::Write,
            MemoryOp::Delete,
        ] {
            add_memory_tool(tools, inner, task, data, spec, op, false);
        }
    }
    if !spec.knowledge_bases.is_empty()
        && !listed(&[B::RetrieveKnowledgeBases, B::QueryKnowledgeBase])
    {
        add_knowledge_tool(tools, inner, task, spec, false, false);
        add_knowledge_tool(tools, inner, task, spec, true, false);
    }
}

fn add_memory_tool(
    tools: &mut Toolset,
    inner: &Arc<Inner>,
    task: &TaskRecord,
    data: &TaskData,
    spec: &AgentSpec,
    op: MemoryOp,
    needs_approval: bool,
) {
    let definition = op.definition();
    let name = definition.name.clone();
    let idempotent = BuiltinTool::from_name(&name).is_some_and(BuiltinTool::is_idempotent);
    tools.add(
        definition,
        Side::Server(Arc::new(MemoryTools {
            inner: inner.clone(),
            project: task.project_id.clone(),
            stores: spec.memory_stores.clone(),
            entity_id: data.memory_entity_id.clone(),
            op,
        })),
        name,
        needs_approval,
        idempotent,
    );
}

fn add_knowledge_tool(
    tools: &mut Toolset,
    inner: &Arc<Inner>,
    task: &TaskRecord,
    spec: &AgentSpec,
    query: bool,
    needs_approval: bool,
) {
    let definition = collections::knowledge_definition(query);
    let name = definition.name.clone();
    let idempotent = BuiltinTool::from_name(&name).is_some_and(BuiltinTool::is_idempotent);
    tools.add(
        definition,
        Side::Server(Arc::new(KnowledgeTools {
            inner: inner.clone(),
            project: task.project_id.clone(),
            bases: spec
                .knowledge_bases
                .iter()
                .map(|k| k.knowledge_id.clone())
                .collect(),
            query,
        })),
        name,
        needs_approval,
        idempotent,
    );
}
