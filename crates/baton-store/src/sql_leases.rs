//! Task leases on SQLite and PostgreSQL: claiming a runnable task (and learning who held it
//! before), renewing a lease while a run goes on, and releasing one so another server takes the
//! task over at once.

use crate::entity::task;
use crate::sql::unavailable;
use crate::sql_tasks::record;
use baton_core::store::{ClaimedTask, StoreError};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, FromQueryResult,
    QueryFilter, Statement,
};

/// The tasks a worker may claim at `$now`: queued or running in the background, with no lease
/// or an expired one.
const CLAIMABLE: &str = "background AND state IN ('submitted', 'working') \
    AND (lease_expires_at IS NULL OR lease_expires_at < {now})";

/// How often a SQLite claim looks again when another claimer took its candidate first.
const SQLITE_CLAIM_ATTEMPTS: usize = 16;

fn claimable(now: &str) -> String {
    CLAIMABLE.replace("{now}", now)
}

/// Claims one claimable task for `worker` until `now_ms + lease_ms`.
pub(crate) async fn claim(
    db: &DatabaseConnection,
    worker: &str,
    now_ms: i64,
    lease_ms: i64,
) -> Result<Option<ClaimedTask>, StoreError> {
    match db.get_database_backend() {
        DbBackend::Postgres => claim_postgres(db, worker, now_ms, lease_ms).await,
        _ => claim_sqlite(db, worker, now_ms, lease_ms).await,
    }
}

/// One statement: the CTE picks a claimable task and reads its owner before the update takes
/// the lease; rows other claimers hold locked are skipped.
async fn claim_postgres(
    db: &DatabaseConnection,
    worker: &str,
    now_ms: i64,
    lease_ms: i64,
) -> Result<Option<ClaimedTask>, StoreError> {
    let sql = format!(
        "WITH picked AS (SELECT id, lease_owner FROM tasks WHERE {} ORDER BY id LIMIT 1 \
         FOR UPDATE SKIP LOCKED) \
         UPDATE tasks SET lease_owner = $1, lease_expires_at = $2, revision = tasks.revision + 1 \
         FROM picked WHERE tasks.id = picked.id \
         RETURNING tasks.*, picked.lease_owner AS previous_owner",
        claimable("$3")
    );
    let statement = Statement::from_sql_and_values(
        DbBackend::Postgres,
        sql,
        [worker.into(), (now_ms + lease_ms).into(), now_ms.into()],
    );
    let Some(row) = db.query_one(statement).await.map_err(unavailable)? else {
        return Ok(None);
    };
    let previous_owner: Option<String> = row.try_get("", "previous_owner").map_err(unavailable)?;
    let model = task::Model::from_query_result(&row, "").map_err(unavailable)?;
    Ok(Some(ClaimedTask {
        task: record(model)?,
        previous_owner,
    }))
}

/// A compare-and-swap: read a claimable task and its owner, then take the lease only if both
/// are unchanged (SQLite's `RETURNING` sees only the new row). Another claimer that wins the
/// race makes this one look again.
async fn claim_sqlite(
    db: &DatabaseConnection,
    worker: &str,
    now_ms: i64,
    lease_ms: i64,
) -> Result<Option<ClaimedTask>, StoreError> {
    let backend = db.get_database_backend();
    let pick = format!(
        "SELECT id, lease_owner FROM tasks WHERE {} ORDER BY id LIMIT 1",
        claimable("?")
    );
    let take = format!(
        "UPDATE tasks SET lease_owner = ?, lease_expires_at = ?, revision = revision + 1 \
         WHERE id = ? AND lease_owner IS ? AND {} RETURNING *",
        claimable("?")
    );
    for _ in 0..SQLITE_CLAIM_ATTEMPTS {
        let candidate = db
            .query_one(Statement::from_sql_and_values(
                backend,
                &pick,
                [now_ms.into()],
            ))
            .await
            .map_err(unavailable)?;
        let Some(candidate) = candidate else {
            return Ok(None);
        };
        let id: String = candidate.try_get("", "id").map_err(unavailable)?;
        let previous_owner: Option<String> =
            candidate.try_get("", "lease_owner").map_err(unavailable)?;
        let taken = task::Entity::find()
            .from_raw_sql(Statement::from_sql_and_values(
                backend,
                &take,
                [
                    worker.into(),
                    (now_ms + lease_ms).into(),
                    id.into(),
                    previous_owner.clone().into(),
                    now_ms.into(),
                ],
            ))
            .one(db)
            .await
            .map_err(unavailable)?;
        if let Some(model) = taken {
            return Ok(Some(ClaimedTask {
                task: record(model)?,
                previous_owner,
            }));
        }
    }
    Ok(None)
}

/// Extends `worker`'s lease on a task to `until_ms`; whether it still held it.
pub(crate) async fn renew(
    db: &DatabaseConnection,
    task_id: &str,
    worker: &str,
    until_ms: i64,
) -> Result<bool, StoreError> {
    let result = task::Entity::update_many()
        .col_expr(task::Column::LeaseExpiresAt, Expr::value(until_ms))
        .filter(task::Column::Id.eq(task_id))
        .filter(task::Column::LeaseOwner.eq(worker))
        .exec(db)
        .await
        .map_err(unavailable)?;
    Ok(result.rows_affected == 1)
}

/// Ends `worker`'s lease on a task now, keeping it as the last owner; whether it held it.
pub(crate) async fn release(
    db: &DatabaseConnection,
    task_id: &str,
    worker: &str,
) -> Result<bool, StoreError> {
    let result = task::Entity::update_many()
        .col_expr(
            task::Column::LeaseExpiresAt,
            Expr::value(Option::<i64>::None),
        )
        .col_expr(
            task::Column::Revision,
            Expr::col(task::Column::Revision).add(1),
        )
        .filter(task::Column::Id.eq(task_id))
        .filter(task::Column::LeaseOwner.eq(worker))
        .exec(db)
        .await
        .map_err(unavailable)?;
    Ok(result.rows_affected == 1)
}
