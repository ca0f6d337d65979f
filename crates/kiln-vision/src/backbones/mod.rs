//! Backbones by family, each generated from its paper's rules and ending in class logits: the
//! ImageNet families and the small digit networks (LeNet-5, the VGG-style CNN, the dilated stack
//! and SPP-net).

pub mod dilated_cnn;
pub mod efficientnet;
pub mod googlenet;
pub mod lenet5;
pub mod mnist_cnn;
pub mod mobilenet_v1;
pub mod mobilenet_v2;
pub mod resnet;
pub mod shufflenet_v2;
pub mod spp_net;
pub mod vit;

pub use dilated_cnn::{DilatedCnn, DilatedCnnConfig};
pub use efficientnet::{EfficientNet, EfficientNetConfig};
pub use googlenet::{GoogLeNet, GoogLeNetConfig};
pub use lenet5::{LeNet5, LeNet5Config, Subsampling};
pub use mnist_cnn::{MnistCnn, MnistCnnConfig};
pub use mobilenet_v1::{MobileNetV1, MobileNetV1Config};
pub use mobilenet_v2::{MobileNetV2, MobileNetV2Config};
pub use resnet::{ResNet, ResNetConfig};
pub use shufflenet_v2::{ShuffleNetV2, ShuffleNetV2Config};
pub use spp_net::{SppNet, SppNetConfig};
pub use vit::{Vit, VitConfig};

/// The 3×3, stride-2, padding-1 max-pool that ends the ResNet and ShuffleNet stems.
fn stem_max_pool() -> burn::nn::pool::MaxPool2d {
    burn::nn::pool::MaxPool2dConfig::new([3, 3])
        .with_strides([2, 2])
        .with_padding(burn::nn::PaddingConfig2d::Explicit(1, 1, 1, 1))
        .init()
}
