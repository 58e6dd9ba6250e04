//! `CollectionStore` on SQLite and PostgreSQL.

use crate::entity::{collection, entry};
use crate::sql::{corrupt, paged, to_json, unavailable, write_error, SqlStore};
use async_trait::async_trait;
use baton_core::collection::{
    CollectionKind, CollectionRecord, CollectionStore, EntryFilter, EntryKind, EntryRecord,
};
use baton_core::store::{Page, PageRequest, StoreError};
use baton_core::ProjectId;
use sea_orm::sea_query::{Expr, Func, LikeExpr};
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, FromQueryResult, IntoActiveModel, QueryFilter,
    QuerySelect, TransactionTrait,
};
use std::collections::HashMap;

fn collection_record(m: collection::Model) -> Result<CollectionRecord, StoreError> {
    let kind = match m.kind.as_str() {
        "memory_store" => CollectionKind::MemoryStore,
        "knowledge" => CollectionKind::Knowledge,
        other => return Err(StoreError::Corrupt(format!("collection kind `{other}`"))),
    };
    Ok(CollectionRecord {
        spec: serde_json::from_str(&m.spec).map_err(|e| corrupt("collection spec", e))?,
        id: m.id,
        project_id: ProjectId(m.project_id),
        kind,
        key: m.key,
        created: m.created,
        updated: m.updated,
    })
}

fn collection_model(c: &CollectionRecord) -> Result<collection::Model, StoreError> {
    Ok(collection::Model {
        id: c.id.clone(),
        project_id: c.project_id.0.clone(),
        kind: c.kind.as_str().to_owned(),
        key: c.key.clone(),
        spec: to_json(&c.spec)?,
        created: c.created.clone(),
        updated: c.updated.clone(),
    })
}

fn entry_record(m: entry::Model) -> Result<EntryRecord, StoreError> {
    Ok(EntryRecord {
        kind: EntryKind::parse(&m.kind)
            .ok_or_else(|| StoreError::Corrupt(format!("entry kind `{}`", m.kind)))?,
        metadata: serde_json::from_str(&m.metadata).map_err(|e| corrupt("entry metadata", e))?,
        embedding: m
            .embedding
            .as_deref()
            .map(serde_json::from_str)
            .transpose()
            .map_err(|e| corrupt("entry embedding", e))?,
        extra: serde_json::from_str(&m.extra).map_err(|e| corrupt("entry fields", e))?,
        id: m.id,
        project_id: ProjectId(m.project_id),
        collection_id: m.collection_id,
        parent_id: m.parent_id,
        entity_id: m.entity_id,
        text: m.text,
        enabled: m.enabled,
        created: m.created,
        updated: m.updated,
    })
}

fn entry_model(e: &EntryRecord) -> Result<entry::Model, StoreError> {
    Ok(entry::Model {
        id: e.id.clone(),
        project_id: e.project_id.0.clone(),
        collection_id: e.collection_id.clone(),
        kind: e.kind.as_str().to_owned(),
        parent_id: e.parent_id.clone(),
        entity_id: e.entity_id.clone(),
        text: e.text.clone(),
        metadata: to_json(&e.metadata)?,
        embedding: e.embedding.as_ref().map(to_json).transpose()?,
        enabled: e.enabled,
        extra: to_json(&e.extra)?,
        created: e.created.clone(),
        updated: e.updated.clone(),
    })
}

fn entry_condition(project: &ProjectId, collection_id: &str, f: &EntryFilter) -> Condition {
    let mut c = Condition::all()
        .add(entry::Column::ProjectId.eq(project.as_str()))
        .add(entry::Column::CollectionId.eq(collection_id));
    if let Some(kind) = f.kind {
        c = c.add(entry::Column::Kind.eq(kind.as_str()));
    }
    if let Some(parent) = &f.parent_id {
        c = c.add(entry::Column::ParentId.eq(parent.as_str()));
    }
    if let Some(entity) = &f.entity_id {
        c = c.add(entry::Column::EntityId.eq(entity.as_str()));
    }
    if let Some(needle) = &f.entity_contains {
        // `\` escapes the pattern's own wildcards, so the needle matches literally.
        let literal = needle
            .to_ascii_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        let pattern = LikeExpr::new(format!("%{literal}%")).escape('\\');
        c = c.add(Expr::expr(Func::lower(Expr::col(entry::Column::EntityId))).like(pattern));
    }
    if let Some(after) = &f.updated_after {
        c = c.add(entry::Column::Updated.gt(after.as_str()));
    }
    if let Some(before) = &f.updated_before {
        c = c.add(entry::Column::Updated.lt(before.as_str()));
    }
    c
}

#[derive(FromQueryResult)]
struct ChildCount {
    parent_id: Option<String>,
    n: i64,
}

#[async_trait]
impl CollectionStore for SqlStore {
    async fn create_collection(&self, c: &CollectionRecord) -> Result<(), StoreError> {
        collection::Entity::insert(collection_model(c)?.into_active_model())
            .exec_without_returning(self.connection())
            .await
            .map_err(|e| write_error(e, &format!("`{}` already exists", c.key)))?;
        Ok(())
    }

    async fn collection(
        &self,
        project: &ProjectId,
        kind: CollectionKind,
        id_or_key: &str,
    ) -> Result<Option<CollectionRecord>, StoreError> {
        collection::Entity::find()
            .filter(collection::Column::ProjectId.eq(project.as_str()))
            .filter(collection::Column::Kind.eq(kind.as_str()))
            .filter(
                collection::Column::Id
                    .eq(id_or_key)
                    .or(collection::Column::Key.eq(id_or_key)),
            )
            .one(self.connection())
            .await
            .map_err(unavailable)?
            .map(collection_record)
            .transpose()
    }

    async fn list_collections(
        &self,
        project: &ProjectId,
        kind: CollectionKind,
        page: &PageRequest,
    ) -> Result<Page<CollectionRecord>, StoreError> {
        let select = collection::Entity::find()
            .filter(collection::Column::ProjectId.eq(project.as_str()))
            .filter(collection::Column::Kind.eq(kind.as_str()));
        let rows = paged(self.connection(), select, collection::Column::Id, page).await?;
        Ok(Page {
            items: rows
                .items
                .into_iter()
                .map(collection_record)
                .collect::<Result<_, _>>()?,
            has_more: rows.has_more,
        })
    }

    async fn update_collection(&self, c: &CollectionRecord) -> Result<(), StoreError> {
        let row = collection_model(c)?;
        let result = collection::Entity::update_many()
            .col_expr(collection::Column::Spec, Expr::value(row.spec))
            .col_expr(collection::Column::Updated, Expr::value(row.updated))
            .filter(collection::Column::Id.eq(c.id.as_str()))
            .filter(collection::Column::ProjectId.eq(c.project_id.as_str()))
            .exec(self.connection())
            .await
            .map_err(unavailable)?;
        if result.rows_affected == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn delete_collection(&self, project: &ProjectId, id: &str) -> Result<(), StoreError> {
        let txn = self.connection().begin().await.map_err(unavailable)?;
        let deleted = collection::Entity::delete_many()
            .filter(collection::Column::Id.eq(id))
            .filter(collection::Column::ProjectId.eq(project.as_str()))
            .exec(&txn)
            .await
            .map_err(unavailable)?;
        if deleted.rows_affected == 0 {
            return Err(StoreError::NotFound);
        }
        entry::Entity::delete_many()
            .filter(entry::Column::CollectionId.eq(id))
            .filter(entry::Column::ProjectId.eq(project.as_str()))
            .exec(&txn)
            .await
            .map_err(unavailable)?;
        txn.commit().await.map_err(unavailable)
    }

    async fn put_entries(&self, entries: &[EntryRecord]) -> Result<(), StoreError> {
        if entries.is_empty() {
            return Ok(());
        }
        let txn = self.connection().begin().await.map_err(unavailable)?;
        // Batches keep each statement under the engines' bind-parameter limits.
        for batch in entries.chunks(200) {
            let models = batch
                .iter()
                .map(|e| entry_model(e).map(IntoActiveModel::into_active_model))
                .collect::<Result<Vec<_>, _>>()?;
            entry::Entity::insert_many(models)
                .exec_without_returning(&txn)
                .await
                .map_err(|e| write_error(e, "an entry with this id already exists"))?;
        }
        txn.commit().await.map_err(unavailable)
    }

    async fn update_entry(&self, e: &EntryRecord) -> Result<(), StoreError> {
        let row = entry_model(e)?;
        let result = entry::Entity::update_many()
            .col_expr(entry::Column::Text, Expr::value(row.text))
            .col_expr(entry::Column::Metadata, Expr::value(row.metadata))
            .col_expr(entry::Column::Embedding, Expr::value(row.embedding))
            .col_expr(entry::Column::Enabled, Expr::value(row.enabled))
            .col_expr(entry::Column::Extra, Expr::value(row.extra))
            .col_expr(entry::Column::Updated, Expr::value(row.updated))
            .filter(entry::Column::Id.eq(e.id.as_str()))
            .filter(entry::Column::ProjectId.eq(e.project_id.as_str()))
            .filter(entry::Column::CollectionId.eq(e.collection_id.as_str()))
            .exec(self.connection())
            .await
            .map_err(unavailable)?;
        if result.rows_affected == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn entry(
        &self,
        project: &ProjectId,
        collection_id: &str,
        id: &str,
    ) -> Result<Option<EntryRecord>, StoreError> {
        entry::Entity::find()
            .filter(entry_condition(
                project,
                collection_id,
                &EntryFilter::default(),
            ))
            .filter(entry::Column::Id.eq(id))
            .one(self.connection())
            .await
            .map_err(unavailable)?
            .map(entry_record)
            .transpose()
    }

    async fn list_entries(
        &self,
        project: &ProjectId,
        collection_id: &str,
        filter: &EntryFilter,
        page: &PageRequest,
    ) -> Result<Page<EntryRecord>, StoreError> {
        let select = entry::Entity::find().filter(entry_condition(project, collection_id, filter));
        let rows = paged(self.connection(), select, entry::Column::Id, page).await?;
        Ok(Page {
            items: rows
                .items
                .into_iter()
                .map(entry_record)
                .collect::<Result<_, _>>()?,
            has_more: rows.has_more,
        })
    }

    async fn count_children(
        &self,
        project: &ProjectId,
        collection_id: &str,
        kind: EntryKind,
        parents: &[String],
    ) -> Result<HashMap<String, u64>, StoreError> {
        if parents.is_empty() {
            return Ok(HashMap::new());
        }
        let rows = entry::Entity::find()
            .select_only()
            .column(entry::Column::ParentId)
            .column_as(entry::Column::Id.count(), "n")
            .filter(entry_condition(
                project,
                collection_id,
                &EntryFilter::of(kind),
            ))
            .filter(entry::Column::ParentId.is_in(parents.iter().map(String::as_str)))
            .group_by(entry::Column::ParentId)
            .into_model::<ChildCount>()
            .all(self.connection())
            .await
            .map_err(unavailable)?;
        Ok(rows
            .into_iter()
            .filter_map(|r| Some((r.parent_id?, u64::try_from(r.n).unwrap_or(0))))
            .collect())
    }

    async fn delete_entries(
        &self,
        project: &ProjectId,
        collection_id: &str,
        ids: &[String],
    ) -> Result<u64, StoreError> {
        if ids.is_empty() {
            return Ok(0);
        }
        let txn = self.connection().begin().await.map_err(unavailable)?;
        let base = entry_condition(project, collection_id, &EntryFilter::default());
        let deleted = entry::Entity::delete_many()
            .filter(base.clone())
            .filter(entry::Column::Id.is_in(ids.iter().map(String::as_str)))
            .exec(&txn)
            .await
            .map_err(unavailable)?;
        // Documents of a deleted memory, chunks of a deleted datasource.
        entry::Entity::delete_many()
            .filter(base)
            .filter(entry::Column::ParentId.is_in(ids.iter().map(String::as_str)))
            .exec(&txn)
            .await
            .map_err(unavailable)?;
        txn.commit().await.map_err(unavailable)?;
        Ok(deleted.rows_affected)
    }
}
