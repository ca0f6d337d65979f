//! What the text tasks share about their tokenizer: the `[data] tokenizer` / `vocab_size`
//! checks, and the `tokenizer.json` every checkpoint carries so that a run's token ids keep
//! meaning the same text.

use kiln_sequence::tokenize::{AnyTokenizer, Tokenizer};

use crate::checkpoint::{CheckpointReader, CheckpointWriter};
use crate::config::{closest, DataSection};
use crate::error::{KilnError, Result};

/// Tokenizers `[data] tokenizer` can name.
pub const TOKENIZERS: [&str; 2] = ["char", "bpe"];

/// The checkpoint file holding the tokenizer the model was trained with.
pub const TOKENIZER_FILE: &str = "tokenizer.json";

/// The `[data]` key and why, when `tokenizer` / `vocab_size` cannot be used.
pub fn check_tokenizer_keys(d: &DataSection) -> std::result::Result<(), (&'static str, String)> {
    let kind = d.tokenizer.as_deref().unwrap_or("char");
    if !TOKENIZERS.contains(&kind) {
        let hint = closest(kind, TOKENIZERS).map(|s| format!("; did you mean '{s}'?")).unwrap_or_default();
        return Err((
            "tokenizer",
            format!("unknown tokenizer '{kind}' in [data] (known: {}){hint}", TOKENIZERS.join(", ")),
        ));
    }
    match d.vocab_size {
        Some(_) if kind != "bpe" => Err((
            "vocab_size",
            "vocab_size is for tokenizer = \"bpe\"; a character vocabulary is the training text's characters".into(),
        )),
        Some(n) if n < 256 => Err((
            "vocab_size",
            format!("a byte-level BPE vocabulary holds the 256 bytes and its merges: vocab_size {n} is below 256"),
        )),
        _ => Ok(()),
    }
}

/// The tokenizer `[data]` asks for, fitted on `text`.
pub fn fit_tokenizer(d: &DataSection, text: &str) -> Result<AnyTokenizer> {
    check_tokenizer_keys(d).map_err(|(key, message)| KilnError::Unsupported(format!("[data] {key}: {message}")))?;
    AnyTokenizer::fit(d.tokenizer.as_deref().unwrap_or("char"), text, d.vocab_size)
        .map_err(|e| KilnError::Unsupported(format!("[data] tokenizer: {e}")))
}

pub fn save_tokenizer(tokenizer: &AnyTokenizer, out: &mut CheckpointWriter) -> Result<()> {
    let json = tokenizer.to_json().map_err(|e| KilnError::Unsupported(e.to_string()))?;
    out.file(TOKENIZER_FILE, json.into_bytes())
}

/// Refuses a checkpoint whose tokenizer is not `tokenizer` (the training data changed since).
pub fn check_saved_tokenizer(tokenizer: &AnyTokenizer, from: &CheckpointReader) -> Result<()> {
    let bad = |reason: String| KilnError::Checkpoint { path: from.dir.join(TOKENIZER_FILE), reason };
    let saved = String::from_utf8(from.file(TOKENIZER_FILE)?).map_err(|e| bad(e.to_string()))?;
    let saved = AnyTokenizer::from_json(&saved).map_err(|e| bad(e.to_string()))?;
    let same = matches!((saved.to_json(), tokenizer.to_json()), (Ok(a), Ok(b)) if a == b);
    if !same {
        return Err(bad(format!(
            "the run was trained with a vocabulary of {} tokens that the training data under [data] root no longer gives (it gives {}); the data has changed since, so the run's token ids would mean other text",
            saved.vocab_size(),
            tokenizer.vocab_size()
        )));
    }
    Ok(())
}
