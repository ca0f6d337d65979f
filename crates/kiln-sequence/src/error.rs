//! The errors of kiln-sequence: bad input a caller can correct, never a panic.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum SequenceError {
    /// A tokenizer file that cannot be read back.
    #[error("tokenizer: {0}")]
    Tokenizer(String),
    /// A config that cannot be built (a key out of range).
    #[error("{0}")]
    Config(String),
    /// Generation that cannot start (an empty prompt).
    #[error("generation: {0}")]
    Generation(String),
}
