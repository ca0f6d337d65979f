//! Vision building blocks and backbones, generic over any Burn `Backend`.
//!
//! Every model is a `FooConfig` (`#[derive(Config)]`, defaults from the paper) with
//! `init(&device) -> Foo<B>` and a `Foo<B>` (`#[derive(Module)]`) with `forward`.

pub mod activation;
pub mod backbones;
pub mod blocks;
pub mod boxes;
pub mod classifier;
pub mod complexity;
pub mod detection;
pub mod embedding_classifier;
pub mod error;
pub mod family;
pub mod receptive_field;
pub mod scaling;
pub mod segmentation;

pub use activation::Activation;
pub use backbones::{
    DilatedCnn, DilatedCnnConfig, LeNet5, LeNet5Config, MnistCnn, MnistCnnConfig, SppNet, SppNetConfig, Subsampling,
};
pub use classifier::ImageClassifier;
pub use complexity::{Complexity, ShapeTrace};
pub use embedding_classifier::EmbeddingClassifier;
pub use error::VisionError;
pub use receptive_field::{receptive_field, RfLayer, RfStats};
