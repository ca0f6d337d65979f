//! Backbones by family, each generated from its paper's rules and ending in class logits.

pub mod efficientnet;
pub mod googlenet;
pub mod mobilenet_v1;
pub mod mobilenet_v2;
pub mod resnet;
pub mod shufflenet_v2;
pub mod vit;

pub use efficientnet::{EfficientNet, EfficientNetConfig};
pub use googlenet::{GoogLeNet, GoogLeNetConfig};
pub use mobilenet_v1::{MobileNetV1, MobileNetV1Config};
pub use mobilenet_v2::{MobileNetV2, MobileNetV2Config};
pub use resnet::{ResNet, ResNetConfig};
pub use shufflenet_v2::{ShuffleNetV2, ShuffleNetV2Config};
pub use vit::{Vit, VitConfig};

/// The 3×3, stride-2, padding-1 max-pool that ends the ResNet and ShuffleNet stems.
fn stem_max_pool() -> burn::nn::pool::MaxPool2d {
    burn::nn::pool::MaxPool2dConfig::new([3, 3])
        .with_strides([2, 2])
        .with_padding(burn::nn::PaddingConfig2d::Explicit(1, 1, 1, 1))
        .init()
}
