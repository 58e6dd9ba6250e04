//! The default chunking of text datasources.

/// Characters per chunk the default chunker aims for (about 250 tokens of English).
pub const CHUNK_CHARS: usize = 1000;
/// Characters each chunk repeats from the end of the previous one, so a sentence cut at a
/// boundary is whole in one of them.
pub const CHUNK_OVERLAP: usize = 150;

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
