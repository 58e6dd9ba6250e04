//! Search over memory stores and knowledge bases: keyword (BM25), vector (cosine over the
//! entries' embeddings) and hybrid (both, averaged), with metadata filters; and the default
//! chunking of text datasources.
//!
//! Search runs over a collection's entries in process. That keeps SQLite and PostgreSQL alike and
//! needs no extension; it suits collections up to tens of thousands of chunks.

use baton_core::collection::EntryRecord;
use serde_json::{json, Map, Value};
use std::collections::HashMap;

/// Characters per chunk the default chunker aims for (about 250 tokens of English).
pub const CHUNK_CHARS: usize = 1000;
/// Characters each chunk repeats from the end of the previous one, so a sentence cut at a
/// boundary is whole in one of them.
pub const CHUNK_OVERLAP: usize = 150;

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

impl Match {
    /// orq's search match shape.
    pub fn to_json(&self, include_metadata: bool, include_vectors: bool) -> Value {
        let mut v = json!({"id": self.entry.id, "text": self.entry.text,
                           "scores": {"search_score": self.score}});
        if include_metadata {
            v["metadata"] = Value::Object(self.entry.metadata.clone());
        }
        if include_vectors {
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

/// Checks a `filter_by` expression, naming what is wrong.
pub fn check_filter(filter: &Value) -> Result<(), String> {
    let Some(obj) = filter.as_object() else {
        return Err("must be an object".into());
    };
    for (key, cond) in obj {
        match key.as_str() {
            "and" | "or" => {
                let Some(items) = cond.as_array() else {
                    return Err(format!("`{key}` must be an array of filters"));
                };
                for item in items {
                    check_filter(item)?;
                }
            }
            field => {
                let Some(ops) = cond.as_object() else {
                    return Err(format!("`{field}` must be an object like {{\"eq\": …}}"));
                };
                for op in ops.keys() {
                    if !["eq", "ne", "gt", "gte", "lt", "lte", "in", "nin", "exists"]
                        .contains(&op.as_str())
                    {
                        return Err(format!("`{field}`: unknown operator `{op}`"));
                    }
                }
            }
        }
    }
    Ok(())
}

fn compare(a: &Value, b: &Value) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64()?.partial_cmp(&y.as_f64()?),
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

/// Whether metadata passes a `filter_by` expression (checked with [`check_filter`]).
pub fn filter_accepts(filter: &Value, metadata: &Map<String, Value>) -> bool {
    let Some(obj) = filter.as_object() else {
        return true;
    };
    obj.iter().all(|(key, cond)| match key.as_str() {
        "and" => cond
            .as_array()
            .is_none_or(|items| items.iter().all(|f| filter_accepts(f, metadata))),
        "or" => cond
            .as_array()
            .is_none_or(|items| items.iter().any(|f| filter_accepts(f, metadata))),
        field => {
            let value = metadata.get(field);
            cond.as_object().is_none_or(|ops| {
                ops.iter().all(|(op, want)| match (op.as_str(), value) {
                    ("exists", v) => v.is_some() == want.as_bool().unwrap_or(true),
                    ("eq", Some(v)) => v == want,
                    ("ne", v) => v != Some(want),
                    ("in", Some(v)) => want.as_array().is_some_and(|xs| xs.contains(v)),
                    ("nin", v) => {
                        !v.is_some_and(|v| want.as_array().is_some_and(|xs| xs.contains(v)))
                    }
                    ("gt", Some(v)) => compare(v, want) == Some(std::cmp::Ordering::Greater),
                    ("gte", Some(v)) => compare(v, want).is_some_and(|o| o.is_ge()),
                    ("lt", Some(v)) => compare(v, want) == Some(std::cmp::Ordering::Less),
                    ("lte", Some(v)) => compare(v, want).is_some_and(|o| o.is_le()),
                    _ => false,
                })
            })
        }
    })
}

/// Splits text into chunks of about [`CHUNK_CHARS`] characters at paragraph, then sentence,
/// then word boundaries, each repeating the last [`CHUNK_OVERLAP`] characters of the one before.
pub fn chunk_text(text: &str) -> Vec<String> {
    chunk_with(text, CHUNK_CHARS, CHUNK_OVERLAP)
}

fn pieces(text: &str, max: usize) -> Vec<String> {
    // Paragraphs, then sentences, then words: the largest units that fit.
    let mut out = Vec::new();
    for para in text.split("\n\n").map(str::trim).filter(|p| !p.is_empty()) {
        if para.chars().count() <= max {
            out.push(para.to_owned());
            continue;
        }
        let mut sentence = String::new();
        for ch in para.chars() {
            sentence.push(ch);
            if matches!(ch, '.' | '!' | '?') {
                out.push(sentence.trim().to_owned());
                sentence.clear();
            }
        }
        if !sentence.trim().is_empty() {
            out.push(sentence.trim().to_owned());
        }
    }
    let mut fitted = Vec::new();
    for piece in out {
        if piece.chars().count() <= max {
            fitted.push(piece);
            continue;
        }
        let mut current = String::new();
        for word in piece.split_whitespace() {
            if !current.is_empty() && current.chars().count() + 1 + word.chars().count() > max {
                fitted.push(std::mem::take(&mut current));
            }
            if !current.is_empty() {
                current.push(' ');
            }
            current.push_str(word);
        }
        if !current.is_empty() {
            fitted.push(current);
        }
    }
    fitted
}

fn tail(text: &str, chars: usize) -> &str {
    let count = text.chars().count();
    if count <= chars {
        return text;
    }
    let start = text.char_indices().nth(count - chars).map_or(0, |(i, _)| i);
    // Start the overlap at a word boundary.
    match text[start..].find(' ') {
        Some(space) => &text[start + space + 1..],
        None => &text[start..],
    }
}

fn chunk_with(text: &str, max: usize, overlap: usize) -> Vec<String> {
    let mut chunks: Vec<String> = Vec::new();
    let mut current = String::new();
    for piece in pieces(text, max) {
        let sep = if current.is_empty() { 0 } else { 2 };
        if current.chars().count() + sep + piece.chars().count() > max && !current.is_empty() {
            let carry = tail(&current, overlap).to_owned();
            chunks.push(std::mem::take(&mut current));
            if carry.chars().count() + 1 + piece.chars().count() <= max {
                current = carry;
            }
        }
        if !current.is_empty() {
            current.push_str("\n\n");
        }
        current.push_str(&piece);
    }
    if !current.trim().is_empty() {
        chunks.push(current);
    }
    chunks
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

    #[test]
    fn filters_combine() {
        let meta: Map<String, Value> = json!({"lang": "en", "year": 2024, "tags": "faq"})
            .as_object()
            .cloned()
            .unwrap();
        let ok = json!({"and": [{"lang": {"eq": "en"}}, {"year": {"gte": 2020, "lt": 2025}}]});
        assert!(check_filter(&ok).is_ok());
        assert!(filter_accepts(&ok, &meta));
        let no = json!({"or": [{"lang": {"eq": "de"}}, {"year": {"gt": 2024}}]});
        assert!(!filter_accepts(&no, &meta));
        assert!(filter_accepts(
            &json!({"missing": {"exists": false}}),
            &meta
        ));
        assert!(filter_accepts(
            &json!({"lang": {"in": ["en", "fr"]}}),
            &meta
        ));
        assert!(check_filter(&json!({"lang": {"like": "e%"}})).is_err());
    }

    #[test]
    fn chunks_fit_and_overlap() {
        let sentence = "The quick brown fox jumps over the lazy dog. ";
        let text = sentence.repeat(100);
        let chunks = chunk_with(&text, 200, 50);
        assert!(chunks.len() > 10);
        for c in &chunks {
            assert!(c.chars().count() <= 200, "{}", c.len());
        }
        // Consecutive chunks share text.
        let end_of_first: String = chunks[0]
            .chars()
            .rev()
            .take(20)
            .collect::<String>()
            .chars()
            .rev()
            .collect();
        assert!(chunks[1].contains(end_of_first.trim()), "{chunks:?}");
        assert_eq!(chunk_text("short"), vec!["short".to_owned()]);
        assert!(chunk_text("  \n\n ").is_empty());
    }
}
