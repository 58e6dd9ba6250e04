//! A knowledge base's datasources and their chunks: text split into chunks, embedded when the
//! base has a model, listed with counts from the store, changed and deleted.

use super::bases::Knowledge;
use super::scaffold::new_entry;
use crate::knowledge::chunk_text;
use crate::EngineError;
use baton_core::collection::{CollectionRecord, EntryFilter, EntryKind, EntryRecord};
use baton_core::store::{Page, PageRequest};
use baton_core::validate;
use serde_json::{Map, Value};

/// A datasource with how many chunks it holds.
#[derive(Debug, Clone, PartialEq)]
pub struct CountedDatasource {
    /// The datasource (its display name is the entry's text).
    pub datasource: EntryRecord,
    /// Its chunks.
    pub chunks: u64,
}

/// A new datasource; with `text`, the text is chunked and embedded at once.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewDatasource {
    /// Shown name; `Untitled` when absent.
    pub display_name: Option<String>,
    /// What it is.
    pub description: Option<String>,
    /// A document to split into chunks.
    pub text: Option<String>,
    /// Metadata of the datasource and its chunks.
    pub metadata: Map<String, Value>,
    /// An uploaded file to read the document from; refused, as files are not stored.
    pub file_id: Option<String>,
}

/// A chunk to add.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewChunk {
    /// Its text.
    pub text: String,
    /// Metadata: strings, numbers or booleans.
    pub metadata: Map<String, Value>,
    /// An embedding the client computed; embedded with the base's model when absent.
    pub embedding: Option<Vec<f32>>,
}

/// A change to a chunk: the fields given replace the stored ones.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChunkPatch {
    /// New text, embedded again unless `embedding` comes with it.
    pub text: Option<String>,
    /// A new embedding.
    pub embedding: Option<Vec<f32>>,
    /// New metadata.
    pub metadata: Option<Map<String, Value>>,
    /// Whether search sees it.
    pub enabled: Option<bool>,
}

impl Knowledge<'_> {
    /// Chunk entries under `datasource`, embedding those that come without an embedding.
    async fn make_chunks(
        &self,
        kb: &CollectionRecord,
        datasource: &str,
        items: Vec<NewChunk>,
    ) -> Result<Vec<EntryRecord>, EngineError> {
        let missing: Vec<String> = items
            .iter()
            .filter(|c| c.embedding.is_none())
            .map(|c| c.text.clone())
            .collect();
        let mut embedded = self
            .engine
            .embed_for(kb, &missing)
            .await?
            .map(Vec::into_iter);
        Ok(items
            .into_iter()
            .map(|c| {
                let mut chunk = new_entry(
                    kb,
                    EntryKind::Chunk,
                    Some(datasource.to_owned()),
                    None,
                    c.text,
                );
                chunk.metadata = c.metadata;
                chunk.embedding = c
                    .embedding
                    .or_else(|| embedded.as_mut().and_then(Iterator::next));
                chunk
            })
            .collect())
    }

    /// Adds a datasource, with its text's chunks when it has text (all stored or none).
    pub async fn add_datasource(
        &self,
        kb: &CollectionRecord,
        new: NewDatasource,
    ) -> Result<CountedDatasource, EngineError> {
        if new.file_id.is_some() {
            return Err(crate::invalid(
                "file_id",
                "file uploads are not supported; send the document as `text`, or add chunks",
            ));
        }
        let name = new.display_name.unwrap_or_else(|| "Untitled".into());
        let mut ds = new_entry(kb, EntryKind::Datasource, None, None, name);
        ds.metadata = new.metadata.clone();
        if let Some(d) = new.description {
            ds.extra.insert("description".into(), d.into());
        }
        let items = new
            .text
            .map(|text| chunk_text(&text))
            .unwrap_or_default()
            .into_iter()
            .map(|text| NewChunk {
                text,
                metadata: new.metadata.clone(),
                embedding: None,
            })
            .collect();
        let mut all = self.make_chunks(kb, &ds.id, items).await?;
        let chunks = all.len() as u64;
        all.insert(0, ds.clone());
        self.engine.inner.store.put_entries(&all).await?;
        Ok(CountedDatasource {
            datasource: ds,
            chunks,
        })
    }

    /// A page of datasources with their chunk counts (one grouped count for the page).
    pub async fn datasources(
        &self,
        kb: &CollectionRecord,
        page: &PageRequest,
    ) -> Result<Page<CountedDatasource>, EngineError> {
        let filter = EntryFilter::of(EntryKind::Datasource);
        let found = self
            .engine
            .inner
            .store
            .list_entries(&kb.project_id, &kb.id, &filter, page)
            .await?;
        let counts = self
            .bases()
            .child_counts(kb, EntryKind::Chunk, &found.items)
            .await?;
        let items = found
            .items
            .into_iter()
            .map(|datasource| CountedDatasource {
                chunks: counts.get(&datasource.id).copied().unwrap_or(0),
                datasource,
            })
            .collect();
        Ok(Page {
            items,
            has_more: found.has_more,
        })
    }

    async fn find_datasource(
        &self,
        kb: &CollectionRecord,
        id: &str,
    ) -> Result<EntryRecord, EngineError> {
        self.engine
            .inner
            .store
            .entry(&kb.project_id, &kb.id, id)
            .await?
            .filter(|d| d.kind == EntryKind::Datasource)
            .ok_or_else(|| EngineError::NotFound(format!("datasource `{id}` not found")))
    }

    async fn counted(
        &self,
        kb: &CollectionRecord,
        datasource: EntryRecord,
    ) -> Result<CountedDatasource, EngineError> {
        let counts = self
            .bases()
            .child_counts(kb, EntryKind::Chunk, std::slice::from_ref(&datasource))
            .await?;
        let chunks = counts.get(&datasource.id).copied().unwrap_or(0);
        Ok(CountedDatasource { datasource, chunks })
    }

    /// A datasource with its chunk count.
    pub async fn datasource(
        &self,
        kb: &CollectionRecord,
        id: &str,
    ) -> Result<CountedDatasource, EngineError> {
        let ds = self.find_datasource(kb, id).await?;
        self.counted(kb, ds).await
    }

    /// Renames or describes a datasource.
    pub async fn update_datasource(
        &self,
        kb: &CollectionRecord,
        id: &str,
        display_name: Option<String>,
        description: Option<String>,
    ) -> Result<CountedDatasource, EngineError> {
        let mut ds = self.find_datasource(kb, id).await?;
        if let Some(name) = display_name {
            validate::non_empty("display_name", &name)?;
            ds.text = name;
        }
        if let Some(desc) = description {
            ds.extra.insert("description".into(), desc.into());
        }
        let ds = self.bases().update_entry(ds).await?;
        self.counted(kb, ds).await
    }

    /// Deletes a datasource and its chunks.
    pub async fn delete_datasource(
        &self,
        kb: &CollectionRecord,
        id: &str,
    ) -> Result<(), EngineError> {
        let ds = self.find_datasource(kb, id).await?;
        self.bases().delete_entry(&ds).await
    }

    /// Adds 1 to 1000 chunks to a datasource, checking each one's text and metadata.
    pub async fn add_chunks(
        &self,
        kb: &CollectionRecord,
        datasource: &str,
        items: Vec<NewChunk>,
    ) -> Result<Vec<EntryRecord>, EngineError> {
        if items.is_empty() || items.len() > 1000 {
            return Err(EngineError::Invalid {
                field: String::new(),
                message: "send 1 to 1000 chunks".into(),
            });
        }
        for (i, c) in items.iter().enumerate() {
            validate::non_empty(&format!("[{i}].text"), &c.text)?;
            let scalar = |v: &Value| v.is_string() || v.is_number() || v.is_boolean();
            if let Some((k, _)) = c.metadata.iter().find(|(_, v)| !scalar(v)) {
                return Err(EngineError::Invalid {
                    field: format!("[{i}].metadata.{k}"),
                    message: "must be a string, number or boolean".into(),
                });
            }
        }
        let ds = self.find_datasource(kb, datasource).await?;
        let chunks = self.make_chunks(kb, &ds.id, items).await?;
        self.engine.inner.store.put_entries(&chunks).await?;
        Ok(chunks)
    }

    /// A page of a datasource's chunks, newest first.
    pub async fn chunks(
        &self,
        kb: &CollectionRecord,
        datasource: &str,
        page: &PageRequest,
    ) -> Result<Page<EntryRecord>, EngineError> {
        let ds = self.find_datasource(kb, datasource).await?;
        let filter = EntryFilter::of(EntryKind::Chunk).under(&ds.id);
        Ok(self
            .engine
            .inner
            .store
            .list_entries(&kb.project_id, &kb.id, &filter, page)
            .await?)
    }

    /// A chunk of a datasource.
    pub async fn chunk(
        &self,
        kb: &CollectionRecord,
        datasource: &str,
        id: &str,
    ) -> Result<EntryRecord, EngineError> {
        self.engine
            .inner
            .store
            .entry(&kb.project_id, &kb.id, id)
            .await?
            .filter(|c| c.kind == EntryKind::Chunk && c.parent_id.as_deref() == Some(datasource))
            .ok_or_else(|| EngineError::NotFound(format!("chunk `{id}` not found")))
    }

    /// Changes a chunk; a new text without an embedding is embedded again.
    pub async fn update_chunk(
        &self,
        kb: &CollectionRecord,
        datasource: &str,
        id: &str,
        patch: ChunkPatch,
    ) -> Result<EntryRecord, EngineError> {
        let mut c = self.chunk(kb, datasource, id).await?;
        if let Some(text) = patch.text {
            validate::non_empty("text", &text)?;
            c.embedding = match patch.embedding {
                Some(e) => Some(e),
                None => self.engine.embed_one(kb, &text).await?,
            };
            c.text = text;
        } else if let Some(e) = patch.embedding {
            c.embedding = Some(e);
        }
        if let Some(m) = patch.metadata {
            c.metadata = m;
        }
        if let Some(enabled) = patch.enabled {
            c.enabled = enabled;
        }
        self.bases().update_entry(c).await
    }

    /// Deletes a chunk.
    pub async fn delete_chunk(
        &self,
        kb: &CollectionRecord,
        datasource: &str,
        id: &str,
    ) -> Result<(), EngineError> {
        let c = self.chunk(kb, datasource, id).await?;
        self.bases().delete_entry(&c).await
    }

    /// Deletes those of `ids` that are chunks of the datasource; returns how many.
    pub async fn delete_chunks(
        &self,
        kb: &CollectionRecord,
        datasource: &str,
        ids: &[String],
    ) -> Result<u64, EngineError> {
        let ds = self.find_datasource(kb, datasource).await?;
        let mut mine = Vec::new();
        for id in ids {
            if let Ok(c) = self.chunk(kb, &ds.id, id).await {
                mine.push(c.id);
            }
        }
        Ok(self
            .engine
            .inner
            .store
            .delete_entries(&kb.project_id, &kb.id, &mine)
            .await?)
    }
}
