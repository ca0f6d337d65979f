//! Losses, generic over any Burn `Backend`, selectable by name from experiment configs.

pub mod cross_entropy;

pub use cross_entropy::{CrossEntropy, CrossEntropyConfig};
