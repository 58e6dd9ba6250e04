//! `TraceStore` on SQLite and PostgreSQL.

use crate::entity::span;
use crate::sql::{corrupt, to_json, unavailable, write_error, SqlStore};
use async_trait::async_trait;
use baton_core::store::StoreError;
use baton_core::trace::{SpanKind, SpanRecord, TraceStore, UsageGroup, UsageTotals};
use baton_core::ProjectId;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, FromQueryResult, IntoActiveModel,
    QueryFilter, QueryOrder, Statement,
};

fn record(m: span::Model) -> Result<SpanRecord, StoreError> {
    Ok(SpanRecord {
        kind: SpanKind::parse(&m.kind)
            .ok_or_else(|| StoreError::Corrupt(format!("span kind `{}`", m.kind)))?,
        attributes: serde_json::from_str(&m.attributes)
            .map_err(|e| corrupt("span attributes", e))?,
        trace_id: m.trace_id,
        span_id: m.span_id,
        parent_span_id: m.parent_span_id,
        project_id: ProjectId(m.project_id),
        task_id: m.task_id,
        agent_key: m.agent_key,
        name: m.name,
        status: m.status,
        started_ms: m.started_ms,
        ended_ms: m.ended_ms,
        prompt_tokens: m.prompt_tokens.max(0) as u64,
        completion_tokens: m.completion_tokens.max(0) as u64,
        cost: m.cost,
    })
}

pub(crate) fn model(s: &SpanRecord) -> Result<span::Model, StoreError> {
    Ok(span::Model {
        trace_id: s.trace_id.clone(),
        span_id: s.span_id.clone(),
        parent_span_id: s.parent_span_id.clone(),
        project_id: s.project_id.0.clone(),
        task_id: s.task_id.clone(),
        agent_key: s.agent_key.clone(),
        kind: s.kind.as_str().to_owned(),
        name: s.name.clone(),
        status: s.status.clone(),
        started_ms: s.started_ms,
        ended_ms: s.ended_ms,
        prompt_tokens: s.prompt_tokens as i64,
        completion_tokens: s.completion_tokens as i64,
        cost: s.cost,
        attributes: to_json(&s.attributes)?,
    })
}

/// Stores spans on a connection or inside a transaction.
pub(crate) async fn put_spans_on<C: sea_orm::ConnectionTrait>(
    conn: &C,
    spans: &[SpanRecord],
) -> Result<(), StoreError> {
    for batch in spans.chunks(100) {
        let rows = batch
            .iter()
            .map(|s| model(s).map(IntoActiveModel::into_active_model))
            .collect::<Result<Vec<_>, _>>()?;
        // A resumed run may write a span again: the first copy stands.
        span::Entity::insert_many(rows)
            .on_conflict(
                sea_orm::sea_query::OnConflict::columns([
                    span::Column::TraceId,
                    span::Column::SpanId,
                ])
                .do_nothing()
                .to_owned(),
            )
            .do_nothing()
            .exec_without_returning(conn)
            .await
            .map_err(|e| write_error(e, "span"))?;
    }
    Ok(())
}

#[derive(FromQueryResult)]
struct UsageRow {
    key: Option<String>,
    prompt: Option<f64>,
    completion: Option<f64>,
    cost: Option<f64>,
    n: i64,
}

/// The grouping key, the spans counted and the sums, in the backend's SQL dialect.
fn usage_sql(backend: DbBackend, group: UsageGroup) -> String {
    let sqlite = backend == DbBackend::Sqlite;
    let attr = |name: &str| {
        if sqlite {
            format!("json_extract(attributes, '$.{name}')")
        } else {
            format!("(attributes::json ->> '{name}')")
        }
    };
    let real = if sqlite { "REAL" } else { "DOUBLE PRECISION" };
    let key = match group {
        UsageGroup::Agent => "agent_key".to_owned(),
        UsageGroup::Model => format!(
            "COALESCE({}, '') || '/' || COALESCE({}, '')",
            attr("provider"),
            attr("model")
        ),
        UsageGroup::Day if sqlite => "strftime('%Y-%m-%d', started_ms / 1000, 'unixepoch')".into(),
        UsageGroup::Day => {
            "to_char(to_timestamp(started_ms / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD')".into()
        }
        UsageGroup::Identity => format!("COALESCE({}, '(none)')", attr("identity_id")),
    };
    // Turn roots carry their run's totals (children included); nested roots are skipped so
    // nothing is counted twice.
    let (spans, sums) = match group {
        UsageGroup::Identity => {
            let total = |name: &str| format!("SUM(COALESCE(CAST({} AS {real}), 0))", attr(name));
            (
                "kind = 'agent' AND parent_span_id IS NULL",
                [
                    total("total_prompt_tokens"),
                    total("total_completion_tokens"),
                    total("total_cost"),
                ],
            )
        }
        _ => {
            let sum = |col: &str| format!("CAST(SUM({col}) AS {real})");
            (
                "kind = 'llm'",
                [sum("prompt_tokens"), sum("completion_tokens"), sum("cost")],
            )
        }
    };
    let [prompt, completion, cost] = sums;
    let (p1, p2, p3) = if sqlite {
        ("?", "?", "?")
    } else {
        ("$1", "$2", "$3")
    };
    format!(
        "SELECT {key} AS key, {prompt} AS prompt, {completion} AS completion, {cost} AS cost, \
         COUNT(*) AS n FROM spans \
         WHERE project_id = {p1} AND started_ms >= {p2} AND started_ms < {p3} AND {spans} \
         GROUP BY {key}"
    )
}

#[async_trait]
impl TraceStore for SqlStore {
    async fn spans_of_traces(
        &self,
        project: &ProjectId,
        trace_ids: &[String],
    ) -> Result<Vec<SpanRecord>, StoreError> {
        if trace_ids.is_empty() {
            return Ok(Vec::new());
        }
        span::Entity::find()
            .filter(span::Column::TraceId.is_in(trace_ids.iter().map(String::as_str)))
            .filter(span::Column::ProjectId.eq(project.as_str()))
            .order_by_asc(span::Column::TraceId)
            .order_by_asc(span::Column::StartedMs)
            .all(self.connection())
            .await
            .map_err(unavailable)?
            .into_iter()
            .map(record)
            .collect()
    }

    async fn usage(
        &self,
        project: &ProjectId,
        group: UsageGroup,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<UsageTotals>, StoreError> {
        let db = self.connection();
        let backend = db.get_database_backend();
        let statement = Statement::from_sql_and_values(
            backend,
            usage_sql(backend, group),
            [project.as_str().into(), from_ms.into(), to_ms.into()],
        );
        let rows = UsageRow::find_by_statement(statement)
            .all(db)
            .await
            .map_err(unavailable)?;
        let mut out: Vec<UsageTotals> = rows
            .into_iter()
            .map(|r| UsageTotals {
                key: r.key.unwrap_or_default(),
                prompt_tokens: r.prompt.unwrap_or(0.0) as u64,
                completion_tokens: r.completion.unwrap_or(0.0) as u64,
                cost: r.cost.unwrap_or(0.0),
                count: u64::try_from(r.n).unwrap_or(0),
            })
            .collect();
        // By key in byte order, whatever the database's collation.
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }

    async fn put_spans(&self, spans: &[SpanRecord]) -> Result<(), StoreError> {
        put_spans_on(self.connection(), spans).await
    }

    async fn trace_spans(
        &self,
        project: &ProjectId,
        trace_id: &str,
    ) -> Result<Vec<SpanRecord>, StoreError> {
        span::Entity::find()
            .filter(span::Column::TraceId.eq(trace_id))
            .filter(span::Column::ProjectId.eq(project.as_str()))
            .order_by_asc(span::Column::StartedMs)
            .all(self.connection())
            .await
            .map_err(unavailable)?
            .into_iter()
            .map(record)
            .collect()
    }

    async fn spans_between(
        &self,
        project: &ProjectId,
        kind: Option<SpanKind>,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<SpanRecord>, StoreError> {
        let mut q = span::Entity::find()
            .filter(span::Column::ProjectId.eq(project.as_str()))
            .filter(span::Column::StartedMs.gte(from_ms))
            .filter(span::Column::StartedMs.lt(to_ms));
        if let Some(kind) = kind {
            q = q.filter(span::Column::Kind.eq(kind.as_str()));
        }
        q.order_by_desc(span::Column::StartedMs)
            .all(self.connection())
            .await
            .map_err(unavailable)?
            .into_iter()
            .map(record)
            .collect()
    }
}
