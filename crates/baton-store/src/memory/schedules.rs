//! Schedules and their firings in memory.

use super::{newest_first, MemoryStore};
use async_trait::async_trait;
use baton_core::schedule::{FiringRecord, ScheduleRecord, ScheduleStore};
use baton_core::store::{StoreError, TaskRecord};
use baton_core::ProjectId;

fn firing_key(f: &FiringRecord) -> (String, u32, i64, bool) {
    (f.schedule_id.clone(), f.generation, f.due_ms, f.manual)
}

fn due_at(s: &ScheduleRecord) -> Option<i64> {
    s.next_fire_at.filter(|_| s.is_active)
}

#[async_trait]
impl ScheduleStore for MemoryStore {
    async fn create_schedule(&self, s: &ScheduleRecord) -> Result<(), StoreError> {
        let mut inner = self.write();
        if inner.schedules.contains_key(&s.id) {
            return Err(StoreError::Conflict(
                "a schedule with this id already exists".into(),
            ));
        }
        inner.schedules.insert(s.id.clone(), s.clone());
        Ok(())
    }

    async fn schedule(
        &self,
        project: &ProjectId,
        agent_id: &str,
        id: &str,
    ) -> Result<Option<ScheduleRecord>, StoreError> {
        Ok(self
            .read()
            .schedules
            .get(id)
            .filter(|s| &s.project_id == project && s.agent_id == agent_id)
            .cloned())
    }

    async fn list_schedules(
        &self,
        project: &ProjectId,
        agent_id: &str,
    ) -> Result<Vec<ScheduleRecord>, StoreError> {
        Ok(newest_first(
            self.read()
                .schedules
                .values()
                .filter(|s| &s.project_id == project && s.agent_id == agent_id)
                .cloned()
                .collect::<Vec<_>>()
                .into_iter(),
        ))
    }

    async fn update_schedule(
        &self,
        s: &ScheduleRecord,
        expected: &ScheduleRecord,
    ) -> Result<bool, StoreError> {
        let mut inner = self.write();
        let Some(current) = inner.schedules.get_mut(&s.id) else {
            return Ok(false);
        };
        if current.project_id != s.project_id
            || current.generation != expected.generation
            || due_at(current) != due_at(expected)
            || current.trigger_count != expected.trigger_count
        {
            return Ok(false);
        }
        let last = current.last_triggered_at.clone();
        *current = s.clone();
        current.last_triggered_at = last;
        Ok(true)
    }

    async fn delete_schedule(&self, project: &ProjectId, id: &str) -> Result<(), StoreError> {
        let mut inner = self.write();
        match inner.schedules.get(id) {
            Some(s) if &s.project_id == project => {
                inner.schedules.remove(id);
                Ok(())
            }
            _ => Err(StoreError::NotFound),
        }
    }

    async fn due_schedules(
        &self,
        now_ms: i64,
        limit: u64,
    ) -> Result<Vec<ScheduleRecord>, StoreError> {
        let mut due: Vec<ScheduleRecord> = self
            .read()
            .schedules
            .values()
            .filter(|s| due_at(s).is_some_and(|t| t <= now_ms))
            .cloned()
            .collect();
        due.sort_by_key(|s| due_at(s).unwrap_or(i64::MAX));
        due.truncate(limit as usize);
        Ok(due)
    }

    async fn next_due(&self) -> Result<Option<i64>, StoreError> {
        Ok(self.read().schedules.values().filter_map(due_at).min())
    }

    async fn fire_schedule(
        &self,
        advanced: &ScheduleRecord,
        expected_generation: u32,
        expected_next: i64,
        firing: Option<(&FiringRecord, &TaskRecord)>,
    ) -> Result<bool, StoreError> {
        let mut inner = self.write();
        let matches = inner.schedules.get(&advanced.id).is_some_and(|s| {
            s.generation == expected_generation && due_at(s) == Some(expected_next)
        });
        if !matches {
            return Ok(false);
        }
        if let Some((f, task)) = firing {
            if inner.firings.contains_key(&firing_key(f)) || inner.tasks.contains_key(&task.id) {
                return Ok(false);
            }
            inner.firings.insert(firing_key(f), f.clone());
            inner.insert_task(task);
        }
        if let Some(s) = inner.schedules.get_mut(&advanced.id) {
            s.next_fire_at = advanced.next_fire_at;
            s.is_active = advanced.is_active;
            s.trigger_count = advanced.trigger_count;
            s.last_triggered_at = advanced.last_triggered_at.clone();
        }
        Ok(true)
    }

    async fn record_execution(
        &self,
        firing: &FiringRecord,
        task: &TaskRecord,
    ) -> Result<(), StoreError> {
        let mut inner = self.write();
        if inner.firings.contains_key(&firing_key(firing)) {
            return Err(StoreError::Conflict(
                "this execution was already recorded".into(),
            ));
        }
        inner.firings.insert(firing_key(firing), firing.clone());
        inner.insert_task(task);
        Ok(())
    }

    async fn firings(
        &self,
        schedule_id: &str,
        limit: u64,
    ) -> Result<Vec<FiringRecord>, StoreError> {
        let mut out: Vec<FiringRecord> = self
            .read()
            .firings
            .values()
            .filter(|f| f.schedule_id == schedule_id)
            .cloned()
            .collect();
        out.sort_by_key(|f| std::cmp::Reverse(f.fired_ms));
        out.truncate(limit as usize);
        Ok(out)
    }
}
