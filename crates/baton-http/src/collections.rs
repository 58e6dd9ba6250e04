//! The CRUD scaffolding memory stores and knowledge bases share on the wire: finding a
//! collection by key or id, listing a page of them, retrieving and deleting one, and the list
//! envelope of their child entries. Each kind says only how it is shaped.

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::page_request_or;
use crate::state::AppState;
use crate::wire::ListPage;
use axum::http::StatusCode;
use axum::Json;
use baton_core::collection::{CollectionKind, CollectionRecord};
use baton_core::store::Page;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::collections::HashMap;

/// One kind of collection as the wire shows it.
pub(crate) trait CollectionWire {
    /// The kind the engine stores.
    const KIND: CollectionKind;
    /// Page size of a listing that names none.
    const PAGE_SIZE: u64;
    /// The collection's wire type.
    type Dto: serde::Serialize;
    /// The collection as the wire shows it.
    fn to_dto(c: &CollectionRecord) -> Result<Self::Dto, ApiError>;
}

/// A collection of the caller's project by key or id; 404 naming it.
pub(crate) async fn find<W: CollectionWire>(
    state: &AppState,
    caller: &Caller,
    key: &str,
) -> Result<CollectionRecord, ApiError> {
    let collections = state.engine.collections(W::KIND);
    Ok(collections.get(&caller.project, key).await?)
}

/// A page of collections, newest first, in the list envelope.
pub(crate) async fn list<W: CollectionWire>(
    state: &AppState,
    caller: &Caller,
    query: &HashMap<String, String>,
) -> Result<Json<ListPage<W::Dto>>, ApiError> {
    let request = page_request_or(query, W::PAGE_SIZE)?;
    let collections = state.engine.collections(W::KIND);
    let page = collections.list(&caller.project, &request).await?;
    page_of(&page, W::to_dto)
}

/// One collection by key or id.
pub(crate) async fn retrieve<W: CollectionWire>(
    state: &AppState,
    caller: &Caller,
    key: &str,
) -> Result<Json<W::Dto>, ApiError> {
    Ok(Json(W::to_dto(&find::<W>(state, caller, key).await?)?))
}

/// Deletes a collection with everything in it.
pub(crate) async fn delete<W: CollectionWire>(
    state: &AppState,
    caller: &Caller,
    key: &str,
) -> Result<StatusCode, ApiError> {
    let collections = state.engine.collections(W::KIND);
    collections.delete(&caller.project, key).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A page of anything (collections or their entries) in the list envelope.
pub(crate) fn page_of<T, D>(
    page: &Page<T>,
    to_dto: impl Fn(&T) -> Result<D, ApiError>,
) -> Result<Json<ListPage<D>>, ApiError> {
    let data = page.items.iter().map(to_dto).collect::<Result<_, _>>()?;
    Ok(Json(ListPage::new(data, page.has_more)))
}

/// A collection's stored settings read as the type `S` that describes them.
pub(crate) fn stored_settings<S: DeserializeOwned>(c: &CollectionRecord) -> Result<S, ApiError> {
    serde_json::from_value(Value::Object(c.spec.clone())).map_err(|e| ApiError::internal(&e))
}
