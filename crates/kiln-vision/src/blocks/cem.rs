//! ThunderNet's Context Enhancement Module (Qin, Li, Zhang, Yu, Zhang, Sun, Yin 2019,
//! "ThunderNet: Towards Real-time Generic Object Detection on Mobile Devices", Sec. 3.3, Fig. 3):
//! a cheap substitute for an FPN that merges three scales of context into one stride-16 map.
//! C4 goes through a 1×1 conv; C5 through a 1×1 conv and 2× upsampling; the global average of C5
//! through a 1×1 conv and is broadcast; the three are summed. The 1×1 convs are linear.
//!
//! The output has α·p·p = 5·7·7 = 245 channels so that PSRoI align with a p×p = 7×7 grid yields
//! α = 5 channels per bin (ThunderNet's "thin feature map", Sec. 3.2).

use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::prelude::*;
use burn::tensor::module::interpolate;
use burn::tensor::ops::{InterpolateMode, InterpolateOptions};

/// ```
/// use burn::backend::NdArray;
/// use burn::prelude::*;
/// use kiln_vision::blocks::ContextEnhancementConfig;
/// let device = Default::default();
/// let cem = ContextEnhancementConfig::new(64, 128).init::<NdArray>(&device);
/// let y = cem.forward(Tensor::zeros([1, 64, 20, 20], &device), Tensor::zeros([1, 128, 10, 10], &device));
/// assert_eq!(y.dims(), [1, 245, 20, 20]);
/// ```
#[derive(Config, Debug)]
pub struct ContextEnhancementConfig {
    /// Channels of C4 (stride 16).
    pub c4_channels: usize,
    /// Channels of C5 (stride 32).
    pub c5_channels: usize,
    /// α·p·p with α = 5, p = 7.
    #[config(default = 245)]
    pub out_channels: usize,
}

#[derive(Module, Debug)]
pub struct ContextEnhancement<B: Backend> {
    pub c4: Conv2d<B>,
    pub c5: Conv2d<B>,
    /// Applied to the global average of C5.
    pub global: Conv2d<B>,
}

impl ContextEnhancementConfig {
    pub fn init<B: Backend>(&self, device: &B::Device) -> ContextEnhancement<B> {
        let pointwise = |c_in: usize| Conv2dConfig::new([c_in, self.out_channels], [1, 1]).init(device);
        ContextEnhancement {
            c4: pointwise(self.c4_channels),
            c5: pointwise(self.c5_channels),
            global: pointwise(self.c5_channels),
        }
    }
}

impl<B: Backend> ContextEnhancement<B> {
    /// C4 `[N, C4, H, W]` and C5 `[N, C5, H/2, W/2]` → `[N, out_channels, H, W]`.
    pub fn forward(&self, c4: Tensor<B, 4>, c5: Tensor<B, 4>) -> Tensor<B, 4> {
        let local = self.c4.forward(c4);
        let [n, c, h, w] = local.dims();
        let global = self.global.forward(c5.clone().mean_dims(&[2, 3])).expand([n, c, h, w]);
        // Upsampling to C4's exact size is the paper's 2× when H is even and still aligns when it is odd.
        let options = InterpolateOptions::new(InterpolateMode::Nearest);
        let coarse = interpolate(self.c5.forward(c5), [h, w], options);
        local + coarse + global
    }
}
