//! `ScheduleStore` on SQLite and PostgreSQL. A firing is claimed by a conditional update of the
//! schedule's firing state in the same transaction that stores the firing and its task, so
//! several servers on one database fire each due time exactly once.

use crate::entity::{schedule, schedule_firing};
use crate::sql::{corrupt, to_json, unavailable, write_error, SqlStore};
use async_trait::async_trait;
use baton_core::schedule::{FiringRecord, ScheduleRecord, ScheduleStore};
use baton_core::store::{StoreError, TaskRecord};
use baton_core::ProjectId;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
    TransactionTrait,
};

const INACTIVE: i64 = i64::MAX;

fn record(m: schedule::Model) -> Result<ScheduleRecord, StoreError> {
    Ok(ScheduleRecord {
        spec: serde_json::from_str(&m.spec).map_err(|e| corrupt("schedule spec", e))?,
        id: m.id,
        project_id: ProjectId(m.project_id),
        agent_id: m.agent_id,
        agent_key: m.agent_key,
        is_active: m.is_active,
        generation: m.generation.max(0) as u32,
        trigger_count: m.trigger_count.max(0) as u64,
        last_triggered_at: m.last_triggered_at,
        next_fire_at: (m.next_fire_at != INACTIVE).then_some(m.next_fire_at),
        anchor_ms: m.anchor_ms,
        created_by_id: m.created_by_id,
        updated_by_id: m.updated_by_id,
        created: m.created,
        updated: m.updated,
    })
}

fn model(s: &ScheduleRecord) -> Result<schedule::Model, StoreError> {
    Ok(schedule::Model {
        id: s.id.clone(),
        project_id: s.project_id.0.clone(),
        agent_id: s.agent_id.clone(),
        agent_key: s.agent_key.clone(),
        spec: to_json(&s.spec)?,
        is_active: s.is_active,
        generation: s.generation as i32,
        trigger_count: s.trigger_count as i64,
        last_triggered_at: s.last_triggered_at.clone(),
        next_fire_at: next_of(s),
        anchor_ms: s.anchor_ms,
        created_by_id: s.created_by_id.clone(),
        updated_by_id: s.updated_by_id.clone(),
        created: s.created.clone(),
        updated: s.updated.clone(),
    })
}

fn next_of(s: &ScheduleRecord) -> i64 {
    match (s.is_active, s.next_fire_at) {
        (true, Some(t)) => t,
        _ => INACTIVE,
    }
}

fn firing_model(f: &FiringRecord) -> schedule_firing::Model {
    schedule_firing::Model {
        schedule_id: f.schedule_id.clone(),
        generation: f.generation as i32,
        due_ms: f.due_ms,
        manual: f.manual,
        fired_ms: f.fired_ms,
        task_id: f.task_id.clone(),
    }
}

#[async_trait]
impl ScheduleStore for SqlStore {
    async fn create_schedule(&self, s: &ScheduleRecord) -> Result<(), StoreError> {
        schedule::Entity::insert(model(s)?.into_active_model())
            .exec_without_returning(self.connection())
            .await
            .map_err(|e| write_error(e, "a schedule with this id already exists"))?;
        Ok(())
    }

    async fn schedule(
        &self,
        project: &ProjectId,
        agent_id: &str,
        id: &str,
    ) -> Result<Option<ScheduleRecord>, StoreError> {
        schedule::Entity::find_by_id(id.to_owned())
            .filter(schedule::Column::ProjectId.eq(project.as_str()))
            .filter(schedule::Column::AgentId.eq(agent_id))
            .one(self.connection())
            .await
            .map_err(unavailable)?
            .map(record)
            .transpose()
    }

    async fn list_schedules(
        &self,
        project: &ProjectId,
        agent_id: &str,
    ) -> Result<Vec<ScheduleRecord>, StoreError> {
        schedule::Entity::find()
            .filter(schedule::Column::ProjectId.eq(project.as_str()))
            .filter(schedule::Column::AgentId.eq(agent_id))
            .order_by_desc(schedule::Column::Id)
            .all(self.connection())
            .await
            .map_err(unavailable)?
            .into_iter()
            .map(record)
            .collect()
    }

    async fn update_schedule(
        &self,
        s: &ScheduleRecord,
        expected: &ScheduleRecord,
    ) -> Result<bool, StoreError> {
        let row = model(s)?;
        let result = schedule::Entity::update_many()
            .col_expr(schedule::Column::Spec, Expr::value(row.spec))
            .col_expr(schedule::Column::IsActive, Expr::value(row.is_active))
            .col_expr(schedule::Column::Generation, Expr::value(row.generation))
            .col_expr(
                schedule::Column::TriggerCount,
                Expr::value(row.trigger_count),
            )
            .col_expr(schedule::Column::NextFireAt, Expr::value(row.next_fire_at))
            .col_expr(schedule::Column::AnchorMs, Expr::value(row.anchor_ms))
            .col_expr(
                schedule::Column::UpdatedById,
                Expr::value(row.updated_by_id),
            )
            .col_expr(schedule::Column::Updated, Expr::value(row.updated))
            .filter(schedule::Column::Id.eq(s.id.as_str()))
            .filter(schedule::Column::ProjectId.eq(s.project_id.as_str()))
            .filter(schedule::Column::Generation.eq(expected.generation as i32))
            .filter(schedule::Column::NextFireAt.eq(next_of(expected)))
            .filter(schedule::Column::TriggerCount.eq(expected.trigger_count as i64))
            .exec(self.connection())
            .await
            .map_err(unavailable)?;
        Ok(result.rows_affected == 1)
    }

    async fn delete_schedule(&self, project: &ProjectId, id: &str) -> Result<(), StoreError> {
        let deleted = schedule::Entity::delete_many()
            .filter(schedule::Column::Id.eq(id))
            .filter(schedule::Column::ProjectId.eq(project.as_str()))
            .exec(self.connection())
            .await
            .map_err(unavailable)?;
        if deleted.rows_affected == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn due_schedules(
        &self,
        now_ms: i64,
        limit: u64,
    ) -> Result<Vec<ScheduleRecord>, StoreError> {
        schedule::Entity::find()
            .filter(schedule::Column::NextFireAt.lte(now_ms))
            .order_by_asc(schedule::Column::NextFireAt)
            .limit(limit)
            .all(self.connection())
            .await
            .map_err(unavailable)?
            .into_iter()
            .map(record)
            .collect()
    }

    async fn next_due(&self) -> Result<Option<i64>, StoreError> {
        let row = schedule::Entity::find()
            .filter(schedule::Column::NextFireAt.lt(INACTIVE))
            .order_by_asc(schedule::Column::NextFireAt)
            .one(self.connection())
            .await
            .map_err(unavailable)?;
        Ok(row.map(|r| r.next_fire_at))
    }

    async fn fire_schedule(
        &self,
        advanced: &ScheduleRecord,
        expected_generation: u32,
        expected_next: i64,
        firing: Option<(&FiringRecord, &TaskRecord)>,
    ) -> Result<bool, StoreError> {
        let txn = self.connection().begin().await.map_err(unavailable)?;
        let moved = schedule::Entity::update_many()
            .col_expr(schedule::Column::NextFireAt, Expr::value(next_of(advanced)))
            .col_expr(schedule::Column::IsActive, Expr::value(advanced.is_active))
            .col_expr(
                schedule::Column::TriggerCount,
                Expr::value(advanced.trigger_count as i64),
            )
            .col_expr(
                schedule::Column::LastTriggeredAt,
                Expr::value(advanced.last_triggered_at.clone()),
            )
            .filter(schedule::Column::Id.eq(advanced.id.as_str()))
            .filter(schedule::Column::Generation.eq(expected_generation as i32))
            .filter(schedule::Column::NextFireAt.eq(expected_next))
            .exec(&txn)
            .await
            .map_err(unavailable)?;
        if moved.rows_affected != 1 {
            txn.rollback().await.map_err(unavailable)?;
            return Ok(false);
        }
        if let Some((firing, task_record)) = firing {
            let inserted =
                schedule_firing::Entity::insert(firing_model(firing).into_active_model())
                    .exec_without_returning(&txn)
                    .await;
            if let Err(e) = inserted {
                txn.rollback().await.map_err(unavailable)?;
                return match write_error(e, "firing") {
                    StoreError::Conflict(_) => Ok(false),
                    other => Err(other),
                };
            }
            crate::sql_tasks::insert_task_on(
                &txn,
                task_record,
                "a task with this id already exists",
            )
            .await?;
        }
        txn.commit().await.map_err(unavailable)?;
        Ok(true)
    }

    async fn record_execution(
        &self,
        firing: &FiringRecord,
        task_record: &TaskRecord,
    ) -> Result<(), StoreError> {
        let txn = self.connection().begin().await.map_err(unavailable)?;
        schedule_firing::Entity::insert(firing_model(firing).into_active_model())
            .exec_without_returning(&txn)
            .await
            .map_err(|e| write_error(e, "this execution was already recorded"))?;
        crate::sql_tasks::insert_task_on(&txn, task_record, "a task with this id already exists")
            .await?;
        txn.commit().await.map_err(unavailable)
    }

    async fn firings(
        &self,
        schedule_id: &str,
        limit: u64,
    ) -> Result<Vec<FiringRecord>, StoreError> {
        Ok(schedule_firing::Entity::find()
            .filter(schedule_firing::Column::ScheduleId.eq(schedule_id))
            .order_by_desc(schedule_firing::Column::FiredMs)
            .limit(limit)
            .all(self.connection())
            .await
            .map_err(unavailable)?
            .into_iter()
            .map(|m| FiringRecord {
                schedule_id: m.schedule_id,
                generation: m.generation.max(0) as u32,
                due_ms: m.due_ms,
                fired_ms: m.fired_ms,
                task_id: m.task_id,
                manual: m.manual,
            })
            .collect())
    }
}
