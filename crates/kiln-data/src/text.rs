//! Plain UTF-8 text corpora: a folder with `train.txt`, and optionally `valid.txt` and
//! `test.txt` (as `datasets/text/moby-dick/`), or any such folder of a user's own text.

use std::path::{Path, PathBuf};

use crate::DataError;

/// The splits of a text corpus.
#[derive(Debug, Clone)]
pub struct TextCorpus {
    pub root: PathBuf,
    pub train: String,
    pub valid: Option<String>,
    pub test: Option<String>,
}

impl TextCorpus {
    /// Reads `root/train.txt` (required) and `valid.txt` / `test.txt` where present, each cut to
    /// its first `limit` characters when given (smoke runs).
    pub fn load(root: &Path, limit: Option<usize>) -> Result<Self, DataError> {
        let train_path = root.join("train.txt");
        if !train_path.is_file() {
            return Err(DataError::Missing {
                what: "training text".into(),
                root: root.to_path_buf(),
                candidates: "train.txt, with valid.txt and test.txt beside it".into(),
            });
        }
        let read = |name: &str| -> Result<Option<String>, DataError> {
            let path = root.join(name);
            if !path.is_file() {
                return Ok(None);
            }
            Ok(Some(cut(read_text(&path)?, limit)))
        };
        let train = read("train.txt")?.expect("checked above");
        if train.is_empty() {
            return Err(DataError::Inconsistent { path: train_path, reason: "the training text is empty".into() });
        }
        Ok(Self { root: root.to_path_buf(), train, valid: read("valid.txt")?, test: read("test.txt")? })
    }
}

/// The whole of a UTF-8 text file; any other encoding is refused with the byte offset where it
/// stops being UTF-8.
pub fn read_text(path: &Path) -> Result<String, DataError> {
    let bytes = std::fs::read(path).map_err(|source| DataError::Io { path: path.to_path_buf(), source })?;
    String::from_utf8(bytes).map_err(|e| DataError::Inconsistent {
        path: path.to_path_buf(),
        reason: format!("it is not UTF-8 text (invalid byte at offset {})", e.utf8_error().valid_up_to()),
    })
}

fn cut(text: String, limit: Option<usize>) -> String {
    match limit {
        Some(n) => text.chars().take(n).collect(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_splits_refuses_non_utf8_and_names_what_is_missing() {
        let dir = tempfile::tempdir().unwrap();
        let missing = TextCorpus::load(dir.path(), None).unwrap_err().to_string();
        assert!(missing.contains("train.txt"), "{missing}");
        std::fs::write(dir.path().join("train.txt"), "naïve text\n").unwrap();
        std::fs::write(dir.path().join("test.txt"), "more").unwrap();
        let corpus = TextCorpus::load(dir.path(), Some(3)).unwrap();
        assert_eq!((corpus.train.as_str(), corpus.valid, corpus.test.as_deref()), ("naï", None, Some("mor")));
        std::fs::write(dir.path().join("valid.txt"), [b'o', b'k', 0xff, b'!']).unwrap();
        let bad = TextCorpus::load(dir.path(), None).unwrap_err().to_string();
        assert!(bad.contains("valid.txt") && bad.contains("offset 2"), "{bad}");
    }
}
