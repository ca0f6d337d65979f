//! The errors of kiln-generative: settings a caller can correct, never a panic.

use thiserror::Error;

#[derive(Debug, Error, Clone, PartialEq)]
pub enum GenerativeError {
    /// A sampler or schedule setting out of its range (`eta` outside [0, 1], zero steps).
    #[error("{0}")]
    Setting(String),
}
