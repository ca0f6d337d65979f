//! What kiln-vision refuses: a config a network cannot be built with, an input it cannot take.

/// kiln-vision's error type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VisionError {
    /// A config value the network cannot be built with (a ResNet depth, a patch size that does
    /// not tile the image).
    #[error("{0}")]
    Config(String),
    /// An input shape the network cannot take (LeNet-5's fully connected layers fix 28×28).
    #[error("{0}")]
    Input(String),
}
