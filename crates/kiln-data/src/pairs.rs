//! Sequence pairs as tab-separated text, one `source<TAB>target` per line: a folder with
//! `train.tsv`, optionally `valid.tsv`, `test.tsv` and `longer.tsv` (held-out pairs longer than
//! any in training), as `datasets/algorithmic/reverse/`, or a user's own parallel text.

use std::path::{Path, PathBuf};

use crate::text::read_text;
use crate::DataError;

/// One example: the text to read and the text to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextPair {
    pub source: String,
    pub target: String,
}

/// The splits of a pair corpus.
#[derive(Debug, Clone)]
pub struct PairCorpus {
    pub root: PathBuf,
    pub train: Vec<TextPair>,
    pub valid: Option<Vec<TextPair>>,
    pub test: Option<Vec<TextPair>>,
    /// Pairs longer than the training ones, scored beside the test split.
    pub longer: Option<Vec<TextPair>>,
}

impl PairCorpus {
    /// Reads `root/train.tsv` (required) and the other splits where present, each cut to its
    /// first `limit` pairs when given (smoke runs).
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// std::fs::write(dir.path().join("train.tsv"), "123\t321\n45\t54\n").unwrap();
    /// let corpus = kiln_data::PairCorpus::load(dir.path(), None).unwrap();
    /// assert_eq!(corpus.train[1].target, "54");
    /// assert!(corpus.valid.is_none());
    /// ```
    pub fn load(root: &Path, limit: Option<usize>) -> Result<Self, DataError> {
        if !root.join("train.tsv").is_file() {
            return Err(DataError::Missing {
                what: "training pairs".into(),
                root: root.to_path_buf(),
                candidates: "train.tsv (source<TAB>target per line), with valid.tsv, test.tsv and longer.tsv beside it"
                    .into(),
            });
        }
        let read = |name: &str| -> Result<Option<Vec<TextPair>>, DataError> {
            let path = root.join(name);
            if !path.is_file() {
                return Ok(None);
            }
            let mut pairs = read_pairs(&path)?;
            if let Some(n) = limit {
                pairs.truncate(n);
            }
            Ok(Some(pairs))
        };
        let train = read("train.tsv")?.expect("checked above");
        if train.is_empty() {
            return Err(DataError::Inconsistent { path: root.join("train.tsv"), reason: "it holds no pairs".into() });
        }
        Ok(Self {
            root: root.to_path_buf(),
            train,
            valid: read("valid.tsv")?,
            test: read("test.tsv")?,
            longer: read("longer.tsv")?,
        })
    }
}

/// The pairs of one `source<TAB>target` file; a line without exactly one tab is refused with
/// its number. An empty target is allowed (the model learns to stop at once); empty lines are
/// skipped.
pub fn read_pairs(path: &Path) -> Result<Vec<TextPair>, DataError> {
    let text = read_text(path)?;
    let mut pairs = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        let mut fields = line.split('\t');
        match (fields.next(), fields.next(), fields.next()) {
            (Some(source), Some(target), None) => {
                pairs.push(TextPair { source: source.to_string(), target: target.to_string() })
            }
            _ => {
                return Err(DataError::Inconsistent {
                    path: path.to_path_buf(),
                    reason: format!(
                        "line {} is not source<TAB>target (it has {} tabs)",
                        n + 1,
                        line.matches('\t').count()
                    ),
                })
            }
        }
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_splits_and_names_a_malformed_line() {
        let dir = tempfile::tempdir().unwrap();
        let missing = PairCorpus::load(dir.path(), None).unwrap_err().to_string();
        assert!(missing.contains("train.tsv"), "{missing}");
        std::fs::write(dir.path().join("train.tsv"), "ab\tba\r\n\nxyz\t\nü+1\t2\n").unwrap();
        std::fs::write(dir.path().join("longer.tsv"), "abc\tcba\n").unwrap();
        let corpus = PairCorpus::load(dir.path(), Some(2)).unwrap();
        let want = vec![
            TextPair { source: "ab".into(), target: "ba".into() },
            TextPair { source: "xyz".into(), target: "".into() },
        ];
        assert_eq!(corpus.train, want);
        assert_eq!(corpus.longer.unwrap()[0].target, "cba");
        assert!(corpus.valid.is_none() && corpus.test.is_none());
        std::fs::write(dir.path().join("test.tsv"), "ok\tko\nno tab here\n").unwrap();
        let bad = PairCorpus::load(dir.path(), None).unwrap_err().to_string();
        assert!(bad.contains("test.tsv") && bad.contains("line 2") && bad.contains("0 tabs"), "{bad}");
    }
}
