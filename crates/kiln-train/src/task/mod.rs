//! Tasks say how a batch becomes losses and metrics; the trainer drives them.

pub mod classification;
