//! The built-in tools that need the engine itself (teams, memory, knowledge), added to a run's
//! resolved toolset.

use crate::collections::{self, KnowledgeTools, MemoryOp, MemoryTools};
use crate::state::TaskData;
use crate::toolset::{Side, Toolset};
use crate::{builtins, Inner};
use baton_core::agent::AgentSpec;
use baton_core::store::TaskRecord;
use std::sync::Arc;

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
    use baton_core::tool::BuiltinTool;
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
            ),
            BuiltinTool::CallSubAgent => {
                if !builtins::has_team(spec) {
                    tracing::warn!(agent = %spec.key, "call_sub_agent without team_of_agents");
                    continue;
                }
                let mut chain = data
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
                        inner: inner.clone(),
                        project: task.project_id.clone(),
                        team: spec.team_of_agents.clone(),
                        parent_task_id: task.id.clone(),
                        chain,
                        calls_made: calls_made.clone(),
                        ledger: ledger.clone(),
                        variables: data.variables.clone(),
                        memory_entity_id: data.memory_entity_id.clone(),
                    })),
                    builtin.name().into(),
                    needs_approval,
                );
            }
            BuiltinTool::RetrieveMemoryStores
            | BuiltinTool::QueryMemoryStore
            | BuiltinTool::WriteMemoryStore
            | BuiltinTool::DeleteMemoryDocument => {
                let op = match builtin {
                    BuiltinTool::RetrieveMemoryStores => MemoryOp::Retrieve,
                    BuiltinTool::QueryMemoryStore => MemoryOp::Query,
                    BuiltinTool::WriteMemoryStore => MemoryOp::Write,
                    _ => MemoryOp::Delete,
                };
                add_memory_tool(tools, inner, task, data, spec, op, needs_approval);
            }
            BuiltinTool::RetrieveKnowledgeBases | BuiltinTool::QueryKnowledgeBase => {
                let query = builtin == BuiltinTool::QueryKnowledgeBase;
                add_knowledge_tool(tools, inner, task, spec, query, needs_approval);
            }
            other => tracing::debug!(
                tool = other.name(),
                "built-in tool not available in this build"
            ),
        }
    }
    // Agents with memory stores or knowledge bases get their tools even when they list none.
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
    );
}
