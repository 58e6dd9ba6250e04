//! Knowledge bases as a service: their settings, validated, and search over their chunks.

use super::scaffold::Collections;
use super::SearchRequest;
use crate::knowledge::{check_filter, Match, SearchMode};
use crate::{Engine, EngineError};
use baton_core::collection::{CollectionKind, CollectionRecord, EntryFilter, EntryKind};
use baton_core::{validate, ProjectId};
use serde_json::{Map, Value};

/// Knowledge bases, their datasources and chunks.
#[derive(Clone, Copy)]
pub struct Knowledge<'a> {
    pub(crate) engine: &'a Engine,
}

/// A new knowledge base.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewKnowledgeBase {
    /// Unique key in the project.
    pub key: String,
    /// Only `internal` is supported; absent means internal.
    pub kind: Option<String>,
    /// `provider/model` (optionally `workspace@provider/model`); none means keyword search only.
    pub embedding_model: Option<String>,
    /// The folder it sits in.
    pub path: String,
    /// What it holds.
    pub description: Option<String>,
    /// `{retrieval_type, top_k, threshold}`.
    pub retrieval_settings: Option<Value>,
}

/// A search as a client asks for it; absent fields come from the knowledge base's settings.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KnowledgeQuery {
    /// The query text.
    pub query: String,
    /// 1..=100 matches.
    pub top_k: Option<f64>,
    /// 0..=1.
    pub threshold: Option<f64>,
    /// `vector_search`, `keyword_search` or `hybrid_search`.
    pub search_type: Option<String>,
    /// A metadata filter expression.
    pub filter_by: Option<Value>,
}

fn invalid(field: &str, message: &str) -> EngineError {
    EngineError::Invalid {
        field: field.to_owned(),
        message: message.to_owned(),
    }
}

fn check_retrieval(settings: &Value) -> Result<(), EngineError> {
    let Some(obj) = settings.as_object() else {
        return Err(invalid("retrieval_settings", "must be an object"));
    };
    let mode = obj.get("retrieval_type");
    if mode.is_some_and(|t| t.as_str().and_then(SearchMode::parse).is_none()) {
        return Err(invalid(
            "retrieval_settings.retrieval_type",
            "must be vector_search, keyword_search or hybrid_search",
        ));
    }
    let top_k = obj.get("top_k");
    if top_k.is_some_and(|k| !k.as_u64().is_some_and(|k| (1..=100).contains(&k))) {
        return Err(invalid(
            "retrieval_settings.top_k",
            "must be a whole number from 1 to 100",
        ));
    }
    let threshold = obj.get("threshold");
    if threshold.is_some_and(|t| !t.as_f64().is_some_and(|t| (0.0..=1.0).contains(&t))) {
        return Err(invalid(
            "retrieval_settings.threshold",
            "must be between 0 and 1",
        ));
    }
    Ok(())
}

fn check_model(field: &str, model: &str) -> Result<(), EngineError> {
    let bare = model.rsplit('@').next().unwrap_or(model);
    if baton_core::agent::ModelConfig::named(bare)
        .provider_and_model()
        .is_none()
    {
        return Err(invalid(field, "must be named `provider/model`"));
    }
    Ok(())
}

impl NewKnowledgeBase {
    /// Checks the fields and gives the stored settings.
    fn into_spec(self) -> Result<(String, Map<String, Value>), EngineError> {
        if self.kind.as_deref().is_some_and(|k| k != "internal") {
            return Err(invalid(
                "type",
                "only `internal` knowledge bases are supported",
            ));
        }
        validate::tool_key("key", &self.key)?;
        validate::folder_path("path", &self.path)?;
        let mut spec = Map::new();
        if let Some(model) = self.embedding_model.filter(|m| !m.is_empty()) {
            check_model("embedding_model", &model)?;
            spec.insert("embedding_model".into(), model.into());
        }
        if let Some(settings) = self.retrieval_settings {
            check_retrieval(&settings)?;
            spec.insert("retrieval_settings".into(), settings);
        }
        spec.insert("path".into(), self.path.into());
        if let Some(d) = self.description {
            spec.insert("description".into(), d.into());
        }
        Ok((self.key, spec))
    }
}

/// Applies a PATCH body to stored settings: description, path and retrieval settings change;
/// the embedding model cannot (the chunks are embedded with it).
fn apply_patch(
    spec: &mut Map<String, Value>,
    patch: Map<String, Value>,
) -> Result<(), EngineError> {
    for (field, value) in patch {
        match field.as_str() {
            "description" | "path" => {
                let Some(text) = value.as_str() else {
                    return Err(invalid(&field, "must be a string"));
                };
                if field == "path" {
                    validate::folder_path("path", text)?;
                }
            }
            "retrieval_settings" => check_retrieval(&value)?,
            "embedding_model" => {
                return Err(invalid(
                    &field,
                    "cannot change: the chunks are embedded with the current model",
                ))
            }
            _ => {
                return Err(invalid(
                    &field,
                    "unknown field (description, path, retrieval_settings)",
                ))
            }
        }
        spec.insert(field, value);
    }
    Ok(())
}

impl Engine {
    /// The knowledge-base service.
    pub fn knowledge(&self) -> Knowledge<'_> {
        Knowledge { engine: self }
    }
}

impl<'a> Knowledge<'a> {
    /// The operations shared with memory stores (get, list, delete).
    pub fn bases(&self) -> Collections<'a> {
        self.engine.collections(CollectionKind::Knowledge)
    }

    /// Creates a knowledge base; `Conflict` if the key is taken.
    pub async fn create_base(
        &self,
        project: &ProjectId,
        base: NewKnowledgeBase,
    ) -> Result<CollectionRecord, EngineError> {
        let (key, spec) = base.into_spec()?;
        self.bases().create(project, key, spec).await
    }

    /// Applies a PATCH body (`description`, `path`, `retrieval_settings`) to a knowledge base.
    pub async fn update_base(
        &self,
        project: &ProjectId,
        key: &str,
        patch: Map<String, Value>,
    ) -> Result<CollectionRecord, EngineError> {
        let mut record = self.bases().get(project, key).await?;
        apply_patch(&mut record.spec, patch)?;
        self.bases().update(record).await
    }

    /// Searches a knowledge base's enabled chunks, filling absent options from its settings.
    pub async fn search(
        &self,
        kb: &CollectionRecord,
        query: KnowledgeQuery,
    ) -> Result<Vec<Match>, EngineError> {
        validate::non_empty("query", &query.query)?;
        let settings = kb.spec.get("retrieval_settings");
        let top_k = match query.top_k {
            Some(k) if k.fract() != 0.0 || !(1.0..=100.0).contains(&k) => {
                return Err(invalid("top_k", "must be a whole number from 1 to 100"))
            }
            Some(k) => k as usize,
            None => settings.and_then(|s| s["top_k"].as_u64()).unwrap_or(5) as usize,
        };
        let threshold = match query.threshold {
            Some(t) if !(0.0..=1.0).contains(&t) => {
                return Err(invalid("threshold", "must be between 0 and 1"))
            }
            Some(t) => t,
            None => settings
                .and_then(|s| s["threshold"].as_f64())
                .unwrap_or(0.0),
        };
        let mode = match query.search_type.as_deref() {
            None => None,
            Some(name) => Some(SearchMode::parse(name).ok_or_else(|| {
                invalid(
                    "search_type",
                    "must be vector_search, keyword_search or hybrid_search",
                )
            })?),
        };
        if let Some(filter) = &query.filter_by {
            check_filter(filter).map_err(|m| invalid("filter_by", &m))?;
        }
        let request = SearchRequest {
            query: query.query,
            top_k,
            threshold,
            mode,
            filter: query.filter_by,
        };
        self.engine
            .search(kb, EntryFilter::of(EntryKind::Chunk), &request)
            .await
    }
}
