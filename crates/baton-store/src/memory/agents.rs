//! Agents, their versions, tools and API keys in memory.

use super::{newest_first, MemoryStore};
use crate::page::page_sorted;
use async_trait::async_trait;
use baton_core::agent::{AgentRecord, AgentVersion};
use baton_core::store::{
    AgentStore, ApiKeyRecord, ApiKeyStore, Page, PageRequest, StoreError, ToolStore,
};
use baton_core::tool::ToolRecord;
use baton_core::ProjectId;

#[async_trait]
impl AgentStore for MemoryStore {
    async fn create_agent(
        &self,
        agent: &AgentRecord,
        first: &AgentVersion,
    ) -> Result<(), StoreError> {
        let mut inner = self.write();
        if inner
            .agents
            .values()
            .any(|a| a.project_id == agent.project_id && a.spec.key == agent.spec.key)
        {
            return Err(StoreError::Conflict(format!(
                "an agent with key `{}` already exists",
                agent.spec.key
            )));
        }
        inner.agents.insert(agent.id.clone(), agent.clone());
        inner
            .versions
            .insert((agent.id.clone(), first.version), first.clone());
        Ok(())
    }

    async fn agent_by_key(
        &self,
        project: &ProjectId,
        key: &str,
    ) -> Result<Option<AgentRecord>, StoreError> {
        Ok(self
            .read()
            .agents
            .values()
            .find(|a| &a.project_id == project && a.spec.key == key)
            .cloned())
    }

    async fn agent_version(
        &self,
        project: &ProjectId,
        agent_id: &str,
        version: u32,
    ) -> Result<Option<AgentVersion>, StoreError> {
        let inner = self.read();
        let owned = inner
            .agents
            .get(agent_id)
            .is_some_and(|a| &a.project_id == project);
        Ok(owned
            .then(|| inner.versions.get(&(agent_id.to_owned(), version)).cloned())
            .flatten())
    }

    async fn agent_versions(
        &self,
        project: &ProjectId,
        agent_id: &str,
    ) -> Result<Vec<AgentVersion>, StoreError> {
        let inner = self.read();
        if !inner
            .agents
            .get(agent_id)
            .is_some_and(|a| &a.project_id == project)
        {
            return Ok(Vec::new());
        }
        Ok(newest_first(
            inner
                .versions
                .range((agent_id.to_owned(), 0)..=(agent_id.to_owned(), u32::MAX))
                .map(|(_, v)| v.clone()),
        ))
    }

    async fn list_agents(
        &self,
        project: &ProjectId,
        page: &PageRequest,
    ) -> Result<Page<AgentRecord>, StoreError> {
        let items = newest_first(
            self.read()
                .agents
                .values()
                .filter(|a| &a.project_id == project)
                .cloned()
                .collect::<Vec<_>>()
                .into_iter(),
        );
        Ok(page_sorted(items, |a| &a.id, page))
    }

    async fn update_agent(
        &self,
        agent: &AgentRecord,
        expected_version: u32,
        new_version: Option<&AgentVersion>,
    ) -> Result<(), StoreError> {
        let mut inner = self.write();
        let current = inner
            .agents
            .get(&agent.id)
            .filter(|a| a.project_id == agent.project_id)
            .ok_or(StoreError::NotFound)?;
        if current.version != expected_version {
            return Err(StoreError::Conflict(
                "the agent was changed concurrently; retry".into(),
            ));
        }
        if inner.agents.values().any(|a| {
            a.id != agent.id && a.project_id == agent.project_id && a.spec.key == agent.spec.key
        }) {
            return Err(StoreError::Conflict(format!(
                "an agent with key `{}` already exists",
                agent.spec.key
            )));
        }
        // The published mark is `publish_agent_version`'s alone: an update keeps it.
        let published_version = current.published_version;
        let mut stored = agent.clone();
        stored.published_version = published_version;
        inner.agents.insert(agent.id.clone(), stored);
        if let Some(v) = new_version {
            inner
                .versions
                .insert((agent.id.clone(), v.version), v.clone());
        }
        Ok(())
    }

    async fn publish_agent_version(
        &self,
        project: &ProjectId,
        agent_id: &str,
        version: u32,
    ) -> Result<(), StoreError> {
        let mut inner = self.write();
        if !inner.versions.contains_key(&(agent_id.to_owned(), version)) {
            return Err(StoreError::NotFound);
        }
        match inner.agents.get_mut(agent_id) {
            Some(a) if &a.project_id == project => {
                a.published_version = Some(version);
                Ok(())
            }
            _ => Err(StoreError::NotFound),
        }
    }

    async fn delete_agent(&self, project: &ProjectId, agent_id: &str) -> Result<(), StoreError> {
        let mut inner = self.write();
        if !inner
            .agents
            .get(agent_id)
            .is_some_and(|a| &a.project_id == project)
        {
            return Err(StoreError::NotFound);
        }
        inner.agents.remove(agent_id);
        inner.versions.retain(|(id, _), _| id != agent_id);
        Ok(())
    }
}

#[async_trait]
impl ToolStore for MemoryStore {
    async fn create_tool(&self, tool: &ToolRecord) -> Result<(), StoreError> {
        let mut inner = self.write();
        if inner
            .tools
            .values()
            .any(|t| t.project_id == tool.project_id && t.spec.key == tool.spec.key)
        {
            return Err(StoreError::Conflict(format!(
                "a tool with key `{}` already exists",
                tool.spec.key
            )));
        }
        inner.tools.insert(tool.id.clone(), tool.clone());
        Ok(())
    }

    async fn tool(
        &self,
        project: &ProjectId,
        id_or_key: &str,
    ) -> Result<Option<ToolRecord>, StoreError> {
        Ok(self
            .read()
            .tools
            .values()
            .find(|t| &t.project_id == project && (t.id == id_or_key || t.spec.key == id_or_key))
            .cloned())
    }

    async fn list_tools(
        &self,
        project: &ProjectId,
        page: &PageRequest,
    ) -> Result<Page<ToolRecord>, StoreError> {
        let items = newest_first(
            self.read()
                .tools
                .values()
                .filter(|t| &t.project_id == project)
                .cloned()
                .collect::<Vec<_>>()
                .into_iter(),
        );
        Ok(page_sorted(items, |t| &t.id, page))
    }

    async fn update_tool(&self, tool: &ToolRecord) -> Result<(), StoreError> {
        let mut inner = self.write();
        if !inner
            .tools
            .get(&tool.id)
            .is_some_and(|t| t.project_id == tool.project_id)
        {
            return Err(StoreError::NotFound);
        }
        if inner.tools.values().any(|t| {
            t.id != tool.id && t.project_id == tool.project_id && t.spec.key == tool.spec.key
        }) {
            return Err(StoreError::Conflict(format!(
                "a tool with key `{}` already exists",
                tool.spec.key
            )));
        }
        inner.tools.insert(tool.id.clone(), tool.clone());
        Ok(())
    }

    async fn delete_tool(&self, project: &ProjectId, id: &str) -> Result<(), StoreError> {
        let mut inner = self.write();
        if !inner
            .tools
            .get(id)
            .is_some_and(|t| &t.project_id == project)
        {
            return Err(StoreError::NotFound);
        }
        inner.tools.remove(id);
        Ok(())
    }
}

#[async_trait]
impl ApiKeyStore for MemoryStore {
    async fn create_api_key(&self, key: &ApiKeyRecord) -> Result<(), StoreError> {
        let mut inner = self.write();
        if inner.keys.values().any(|k| k.hash == key.hash) {
            return Err(StoreError::Conflict("duplicate api key".into()));
        }
        inner.keys.insert(key.id.clone(), key.clone());
        Ok(())
    }

    async fn api_key_by_hash(&self, hash: &str) -> Result<Option<ApiKeyRecord>, StoreError> {
        Ok(self.read().keys.values().find(|k| k.hash == hash).cloned())
    }

    async fn list_api_keys(
        &self,
        project: Option<&ProjectId>,
    ) -> Result<Vec<ApiKeyRecord>, StoreError> {
        let mut out: Vec<ApiKeyRecord> = self
            .read()
            .keys
            .values()
            .filter(|k| project.is_none_or(|p| &k.project_id == p))
            .cloned()
            .collect();
        out.sort_by(|a, b| b.id.cmp(&a.id));
        Ok(out)
    }

    async fn delete_api_key(&self, id: &str) -> Result<(), StoreError> {
        let mut inner = self.write();
        let before = inner.keys.len();
        inner.keys.retain(|_, k| k.id != id);
        if inner.keys.len() == before {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn count_api_keys(&self) -> Result<u64, StoreError> {
        Ok(self.read().keys.len() as u64)
    }
}
