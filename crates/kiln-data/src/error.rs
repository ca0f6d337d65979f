use std::path::PathBuf;

/// Everything that can go wrong while reading a dataset from disk.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("cannot read '{path}': {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("'{path}' is not a valid IDX file: {reason}")]
    MalformedIdx { path: PathBuf, reason: String },
    #[error("dataset '{path}' is inconsistent: {reason}")]
    Inconsistent { path: PathBuf, reason: String },
    #[error("no {what} found in '{root}' (looked for {candidates}); run `just data` or point data.root at a folder holding them")]
    Missing { what: String, root: PathBuf, candidates: String },
}
