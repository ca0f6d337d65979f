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
pub mod dilated_cnn;
pub mod embedding_classifier;
pub mod lenet5;
pub mod mnist_cnn;
pub mod scaling;
pub mod spp_net;

pub use activation::Activation;
pub use classifier::ImageClassifier;
pub use complexity::{Complexity, ShapeTrace};
pub use dilated_cnn::{DilatedCnn, DilatedCnnConfig};
pub use embedding_classifier::EmbeddingClassifier;
pub use lenet5::{LeNet5, LeNet5Config, Subsampling};
pub use mnist_cnn::{MnistCnn, MnistCnnConfig};
pub use spp_net::{SppNet, SppNetConfig};
