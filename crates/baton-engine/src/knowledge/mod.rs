//! Search over memory stores and knowledge bases: keyword (BM25), vector (cosine over the
//! entries' embeddings) and hybrid (both, averaged), with metadata filters; and the default
//! chunking of text datasources.
//!
//! Search runs over a collection's entries in process. That keeps SQLite and PostgreSQL alike and
//! needs no extension; it suits collections up to tens of thousands of chunks.

use baton_core::collection::EntryRecord;
use serde_json::{json, Value};
use std::collections::HashMap;

mod chunk;
mod filter;

pub use chunk::{chunk_text, CHUNK_CHARS, CHUNK_OVERLAP};
pub use filter::{check_filter, filter_accepts};

/// How a search ranks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchMode {
    /// BM25 over the text.
    Keyword,
    /// Cosine similarity of embeddings.
    Vector,
    /// The mean of both scores.
    Hybrid,
}

impl SearchMode {
    /// Parses orq's `retrieval_type` / `search_type` names.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "keyword_search" | "keyword" => Some(Self::Keyword),
            "vector_search" | "vector" => Some(Self::Vector),
            "hybrid_search" | "hybrid" => Some(Self::Hybrid),
            _ => None,
        }
    }
}

/// One hit.
#[derive(Debug, Clone, PartialEq)]
pub struct Match {
    /// The entry.
    pub entry: EntryRecord,
    /// Its score, 0..1 (higher is better).
    pub score: f64,
}

/// Which parts of a match its JSON shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MatchFields {
    /// The entry's metadata.
    pub metadata: bool,
    /// The entry's embedding (`vector`).
    pub vectors: bool,
    /// The score (`scores.search_score`).
    pub scores: bool,
}

impl Default for MatchFields {
    fn default() -> Self {
        Self {
            metadata: true,
            vectors: false,
            scores: true,
        }
    }
}

impl Match {
    /// orq's search match shape, with the parts `fields` asks for.
    pub fn to_json(&self, fields: MatchFields) -> Value {
        let mut v = json!({"id": self.entry.id, "text": self.entry.text});
        if fields.scores {
            v["scores"] = json!({"search_score": self.score});
        }
        if fields.metadata {
            v["metadata"] = Value::Object(self.entry.metadata.clone());
        }
        if fields.vectors {
            if let Some(e) = &self.entry.embedding {
                v["vector"] = json!(e);
            }
        }
        v
    }
}

fn tokens(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let w = w.to_lowercase();
            // A light stemmer: plural and verb endings, so "refunds" finds "refund".
            for suffix in ["ing", "ed", "es", "s"] {
                if w.len() > suffix.len() + 2 {
                    if let Some(stem) = w.strip_suffix(suffix) {
                        return stem.to_owned();
                    }
                }
            }
            w
        })
        .filter(|w| !STOP_WORDS.contains(&w.as_str()))
}

const STOP_WORDS: [&str; 32] = [
    "a", "an", "and", "are", "as", "at", "be", "by", "do", "for", "from", "how", "i", "in", "is",
    "it", "my", "of", "on", "or", "our", "that", "the", "this", "to", "was", "what", "when",
    "where", "which", "with", "you",
];

/// BM25 scores of `docs` for `query` (k1 = 1.2, b = 0.75), mapped to 0..1 by `s / (s + 1)`.
pub fn bm25(query: &str, docs: &[&str]) -> Vec<f64> {
    let query: Vec<String> = {
        let mut q: Vec<String> = tokens(query).collect();
        q.sort();
        q.dedup();
        q
    };
    let doc_tokens: Vec<Vec<String>> = docs.iter().map(|d| tokens(d).collect()).collect();
    let n = docs.len() as f64;
    let avg_len = doc_tokens.iter().map(Vec::len).sum::<usize>() as f64 / n.max(1.0);
    let mut df: HashMap<&str, usize> = HashMap::new();
    for toks in &doc_tokens {
        let mut seen: Vec<&str> = toks.iter().map(String::as_str).collect();
        seen.sort_unstable();
        seen.dedup();
        for t in seen {
            *df.entry(t).or_default() += 1;
        }
    }
    let (k1, b) = (1.2, 0.75);
    doc_tokens
        .iter()
        .map(|toks| {
            let len = toks.len() as f64;
            let mut score = 0.0;
            for term in &query {
                let tf = toks.iter().filter(|t| *t == term).count() as f64;
                if tf == 0.0 {
                    continue;
                }
                let df = *df.get(term.as_str()).unwrap_or(&0) as f64;
                let idf = ((n - df + 0.5) / (df + 0.5) + 1.0).ln();
                score += idf * tf * (k1 + 1.0) / (tf + k1 * (1.0 - b + b * len / avg_len.max(1.0)));
            }
            score / (score + 1.0)
        })
        .collect()
}

/// Cosine similarity, 0 for mismatched or empty vectors.
pub fn cosine(a: &[f32], b: &[f32]) -> f64 {
    if a.len() != b.len() || a.is_empty() {
        return 0.0;
    }
    let (mut dot, mut na, mut nb) = (0f64, 0f64, 0f64);
    for (x, y) in a.iter().zip(b) {
        let (x, y) = (f64::from(*x), f64::from(*y));
        dot += x * y;
        na += x * x;
        nb += y * y;
    }
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        dot / (na.sqrt() * nb.sqrt())
    }
}

/// Ranks `entries` for `query`: scores, drops those under `threshold` (and keyword misses),
/// sorts best first and keeps `top_k`.
pub fn rank(
    entries: Vec<EntryRecord>,
    query: &str,
    query_vector: Option<&[f32]>,
    mode: SearchMode,
    top_k: usize,
    threshold: f64,
) -> Vec<Match> {
    let texts: Vec<&str> = entries.iter().map(|e| e.text.as_str()).collect();
    let keyword = bm25(query, &texts);
    let mut matches: Vec<Match> = entries
        .into_iter()
        .zip(keyword)
        .filter_map(|(entry, kw)| {
            let vector = match (query_vector, &entry.embedding) {
                (Some(q), Some(e)) => Some(cosine(q, e).max(0.0)),
                _ => None,
            };
            let score = match (mode, vector) {
                (SearchMode::Keyword, _) | (_, None) => {
                    if kw == 0.0 {
                        return None;
                    }
                    kw
                }
                (SearchMode::Vector, Some(v)) => v,
                (SearchMode::Hybrid, Some(v)) => (kw + v) / 2.0,
            };
            (score > 0.0 && score >= threshold).then_some(Match { entry, score })
        })
        .collect();
    matches.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.entry.id.cmp(&b.entry.id))
    });
    matches.truncate(top_k);
    matches
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bm25_prefers_rare_matching_terms() {
        let docs = [
            "Refunds are issued within 14 days of a return.",
            "Shipping takes 3 to 5 business days.",
            "Our office is open on business days.",
        ];
        let scores = bm25("how long do refunds take", &docs);
        assert!(scores[0] > scores[1] && scores[0] > scores[2], "{scores:?}");
        assert_eq!(bm25("zebra", &docs), vec![0.0, 0.0, 0.0]);
    }
}
