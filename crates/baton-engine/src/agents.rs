//! Agents as a service: creating them, updates that make a new immutable version when the
//! configuration changes, their versions, and resolving their tool entries against the stored
//! tools. Ids and timestamps of agents are minted here.

use crate::{json, Engine, EngineError};
use baton_core::agent::{AgentRecord, AgentRef, AgentSpec, AgentStatus, AgentVersion, ToolEntry};
use baton_core::collection::CollectionKind;
use baton_core::id::{new_id, now_rfc3339};
use baton_core::store::{Page, PageRequest};
use baton_core::ProjectId;
use serde_json::{Map, Value};

/// The agents of projects.
#[derive(Clone, Copy)]
pub struct Agents<'a> {
    engine: &'a Engine,
}

/// A change to an agent: its configuration, its status, or both.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AgentPatch {
    /// Fields of the configuration in orq's agent JSON: each replaces the stored one,
    /// `settings` is merged one level deep, and `null` removes a field.
    pub fields: Map<String, Value>,
    /// A new status.
    pub status: Option<AgentStatus>,
    /// A note for the version a configuration change makes.
    pub version_description: Option<String>,
}

impl Engine {
    /// The agent service.
    pub fn agents(&self) -> Agents<'_> {
        Agents { engine: self }
    }
}

fn invalid(field: String, message: String) -> EngineError {
    EngineError::Invalid { field, message }
}

/// The stored configuration with a patch's fields applied, as orq's agent JSON.
fn merged_json(spec: &AgentSpec, fields: &Map<String, Value>) -> Result<Value, EngineError> {
    let mut merged = match serde_json::to_value(spec) {
        Ok(Value::Object(map)) => map,
        Ok(_) => Map::new(),
        Err(e) => return Err(EngineError::internal("encode agent", e)),
    };
    for (field, value) in fields {
        match (field.as_str(), value, merged.get_mut(field)) {
            (_, Value::Null, _) => {
                merged.remove(field);
            }
            ("settings", Value::Object(new), Some(Value::Object(old))) => {
                for (k, v) in new {
                    old.insert(k.clone(), v.clone());
                }
            }
            _ => {
                merged.insert(field.clone(), value.clone());
            }
        }
    }
    Ok(Value::Object(merged))
}

impl Agents<'_> {
    /// Creates an agent, version 1, after checking its configuration and what it references.
    pub async fn create(
        &self,
        project: &ProjectId,
        mut spec: AgentSpec,
    ) -> Result<AgentRecord, EngineError> {
        spec.validate()?;
        spec.seal_secrets(self.engine.inner.cipher.as_ref(), None)?;
        self.resolve_references(project, &mut spec, None).await?;
        let now = now_rfc3339();
        let agent = AgentRecord {
            id: new_id(),
            project_id: project.clone(),
            status: AgentStatus::Live,
            version: 1,
            published_version: None,
            created: now.clone(),
            updated: now.clone(),
            spec: spec.clone(),
        };
        let first = AgentVersion {
            agent_id: agent.id.clone(),
            version: 1,
            created: now,
            description: None,
            spec,
        };
        self.engine.inner.store.create_agent(&agent, &first).await?;
        Ok(agent)
    }

    /// The live agent with this key.
    pub async fn get(&self, project: &ProjectId, key: &str) -> Result<AgentRecord, EngineError> {
        self.engine
            .inner
            .store
            .agent_by_key(project, key)
            .await?
            .ok_or_else(|| EngineError::NotFound(format!("agent `{key}` not found")))
    }

    /// The live agent with this key for a run: as read from the store at most
    /// [`EngineConfig::lookup_ttl`](crate::EngineConfig) ago (changes through this engine
    /// show at once). Reads that change the agent use [`get`](Self::get).
    pub async fn for_run(
        &self,
        project: &ProjectId,
        key: &str,
    ) -> Result<AgentRecord, EngineError> {
        let cache = &self.engine.inner.lookups.agents;
        let entry = (project.clone(), key.to_owned());
        if let Some(agent) = cache.get(&entry) {
            return Ok(agent);
        }
        let read = cache.read_starts();
        let agent = self.get(project, key).await?;
        cache.put(entry, agent.clone(), read);
        Ok(agent)
    }

    /// Version `number` of an agent.
    pub async fn version(
        &self,
        agent: &AgentRecord,
        number: u32,
    ) -> Result<AgentVersion, EngineError> {
        self.engine
            .inner
            .store
            .agent_version(&agent.project_id, &agent.id, number)
            .await?
            .ok_or_else(|| {
                EngineError::NotFound(format!(
                    "agent `{}` has no version {number}",
                    agent.spec.key
                ))
            })
    }

    /// A page of the project's agents, newest first.
    pub async fn list(
        &self,
        project: &ProjectId,
        page: &PageRequest,
    ) -> Result<Page<AgentRecord>, EngineError> {
        Ok(self.engine.inner.store.list_agents(project, page).await?)
    }

    /// An agent's versions, newest first, with the agent.
    pub async fn versions(
        &self,
        project: &ProjectId,
        key: &str,
    ) -> Result<(AgentRecord, Vec<AgentVersion>), EngineError> {
        let agent = self.get(project, key).await?;
        let versions = self
            .engine
            .inner
            .store
            .agent_versions(project, &agent.id)
            .await?;
        Ok((agent, versions))
    }

    /// Deletes an agent and its versions.
    pub async fn delete(&self, project: &ProjectId, key: &str) -> Result<(), EngineError> {
        let agent = self.get(project, key).await?;
        let deleted = self
            .engine
            .inner
            .store
            .delete_agent(project, &agent.id)
            .await;
        self.engine.inner.lookups.agent_changed(project, &agent.id);
        Ok(deleted?)
    }

    /// Updates an agent: a configuration that differs from the live one becomes a new
    /// version; a status change alone makes none. A concurrent update makes this one a
    /// conflict instead of overwriting it.
    pub async fn update(
        &self,
        project: &ProjectId,
        key: &str,
        patch: AgentPatch,
    ) -> Result<AgentRecord, EngineError> {
        if AgentRef::parse(key)?.version.is_some() {
            return Err(invalid(
                "agent_key".into(),
                "versions are immutable; PATCH the agent's key without `@version`".into(),
            ));
        }
        let mut agent = self.get(project, key).await?;
        let mut spec: AgentSpec = json::parse(merged_json(&agent.spec, &patch.fields)?)?;
        spec.validate()?;
        spec.seal_secrets(self.engine.inner.cipher.as_ref(), Some(&agent.spec))?;
        self.resolve_references(project, &mut spec, Some(&agent.spec))
            .await?;
        let status = patch.status.unwrap_or(agent.status);
        let expected = agent.version;
        let now = now_rfc3339();
        let new_version = (spec != agent.spec).then(|| AgentVersion {
            agent_id: agent.id.clone(),
            version: expected + 1,
            created: now.clone(),
            description: patch.version_description,
            spec: spec.clone(),
        });
        let publish = patch.status == Some(AgentStatus::Published);
        if new_version.is_none() && status == agent.status {
            if publish && agent.published_version != Some(agent.version) {
                return self.publish(project, key, agent.version).await;
            }
            return Ok(agent);
        }
        agent.version = new_version.as_ref().map_or(expected, |v| v.version);
        agent.spec = spec;
        agent.status = status;
        agent.updated = now;
        let updated = self
            .engine
            .inner
            .store
            .update_agent(&agent, expected, new_version.as_ref())
            .await;
        self.engine.inner.lookups.agent_changed(project, &agent.id);
        updated?;
        // Setting the status `published` publishes the version live after this update, as
        // `published` meant before versions carried a mark of their own.
        if publish {
            let published = self
                .engine
                .inner
                .store
                .publish_agent_version(project, &agent.id, agent.version)
                .await;
            self.engine.inner.lookups.agent_changed(project, &agent.id);
            published?;
            agent.published_version = Some(agent.version);
        }
        Ok(agent)
    }

    /// Marks version `number` of an agent as its published one (Ensemble's
    /// `version: published`), replacing any earlier mark; the live version stays as it is.
    pub async fn publish(
        &self,
        project: &ProjectId,
        key: &str,
        number: u32,
    ) -> Result<AgentRecord, EngineError> {
        let mut agent = self.get(project, key).await?;
        self.version(&agent, number).await?;
        let published = self
            .engine
            .inner
            .store
            .publish_agent_version(project, &agent.id, number)
            .await;
        self.engine.inner.lookups.agent_changed(project, &agent.id);
        match published {
            Err(baton_core::store::StoreError::NotFound) => {
                return Err(EngineError::NotFound(format!("agent `{key}` not found")))
            }
            other => other?,
        }
        agent.published_version = Some(number);
        Ok(agent)
    }

    /// The version marked published, if the agent has one.
    pub async fn published(
        &self,
        agent: &AgentRecord,
    ) -> Result<Option<AgentVersion>, EngineError> {
        match agent.published_version {
            Some(number) => self.version(agent, number).await.map(Some),
            None => Ok(None),
        }
    }

    /// Checks that the memory stores and knowledge bases a configuration names exist, and
    /// resolves its tool entries ([`Agents::resolve_tools`]).
    pub async fn resolve_references(
        &self,
        project: &ProjectId,
        spec: &mut AgentSpec,
        previous: Option<&AgentSpec>,
    ) -> Result<(), EngineError> {
        // A typo would otherwise surface only as a tool error in some later run.
        let store = &self.engine.inner.store;
        for (i, name) in spec.memory_stores.iter().enumerate() {
            let kind = CollectionKind::MemoryStore;
            if store.collection(project, kind, name).await?.is_none() {
                return Err(invalid(
                    format!("memory_stores[{i}]"),
                    format!(
                        "no memory store `{name}` exists; create it under /v2/memory-stores first"
                    ),
                ));
            }
        }
        for (i, kb) in spec.knowledge_bases.iter().enumerate() {
            let kind = CollectionKind::Knowledge;
            if store
                .collection(project, kind, &kb.knowledge_id)
                .await?
                .is_none()
            {
                return Err(invalid(
                    format!("knowledge_bases[{i}].knowledge_id"),
                    format!(
                        "no knowledge base `{}` exists; create it under /v2/knowledge first",
                        kb.knowledge_id
                    ),
                ));
            }
        }
        self.resolve_tools(project, spec, previous).await
    }

    /// Gives every tool entry a stable id: a referenced tool's own id (and key), else the id
    /// the same entry had in `previous`, else a new one. References must name an existing
    /// tool of their type.
    pub async fn resolve_tools(
        &self,
        project: &ProjectId,
        spec: &mut AgentSpec,
        previous: Option<&AgentSpec>,
    ) -> Result<(), EngineError> {
        let old = previous.map(|p| p.settings.tools.as_slice()).unwrap_or(&[]);
        for (i, entry) in spec.settings.tools.iter_mut().enumerate() {
            let wanted = entry.stored_reference().map(str::to_owned);
            match (&mut entry.tool, wanted) {
                (ToolEntry::Stored(stored), Some(wanted)) => {
                    let tool = self
                        .engine
                        .inner
                        .store
                        .tool(project, &wanted)
                        .await?
                        .ok_or_else(|| {
                            invalid(
                                format!("settings.tools[{i}]"),
                                format!(
                                    "no tool `{wanted}` exists; create it under /v2/tools first"
                                ),
                            )
                        })?;
                    let stored_type = tool.spec.kind.type_name();
                    if stored_type != stored.kind.name() {
                        return Err(invalid(
                            format!("settings.tools[{i}].type"),
                            format!(
                                "tool `{wanted}` is a `{stored_type}` tool, not `{}`",
                                stored.kind.name()
                            ),
                        ));
                    }
                    // orq's docs attach an MCP server as `{"type": "mcp", "tool_id": <server
                    // id>}`: then `tool_id` named the server, not one of its tools.
                    if entry.id.is_none() && stored.key.is_none() {
                        stored.tool_id = None;
                    }
                    stored.key = Some(tool.spec.key);
                    entry.id = Some(tool.id);
                }
                (tool, _) => {
                    if entry.id.is_some() {
                        continue;
                    }
                    if let ToolEntry::Function(inline) = tool {
                        if inline.key.is_none() {
                            inline.key = Some(inline.function.name.clone());
                        }
                    }
                    let kept = old
                        .iter()
                        .find(|o| o.type_name() == entry.type_name() && o.key() == entry.key())
                        .and_then(|o| o.id.clone());
                    entry.id = Some(kept.unwrap_or_else(new_id));
                }
            }
        }
        Ok(())
    }
}
