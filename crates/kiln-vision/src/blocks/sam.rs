//! ThunderNet's Spatial Attention Module (Qin et al. 2019, "ThunderNet: Towards Real-time Generic
//! Object Detection on Mobile Devices", Sec. 3.4, Eq. 2): F_SAM = F_CEM · sigmoid(θ(F_RPN)), with
//! θ a 1×1 conv followed by batch norm. The RPN's features, trained to tell objects from
//! background, re-weight the context-enhanced map before RoI warping so that foreground features
//! are kept and background ones damped.

use burn::prelude::*;

use crate::blocks::{ConvNormAct, ConvNormActConfig};
use crate::Activation;

/// ```
/// use burn::backend::NdArray;
/// use burn::prelude::*;
/// use kiln_vision::blocks::SpatialAttentionConfig;
/// let device = Default::default();
/// let sam = SpatialAttentionConfig::new().init::<NdArray>(&device);
/// let cem = Tensor::ones([1, 245, 20, 20], &device);
/// let y = sam.forward(cem, Tensor::zeros([1, 256, 20, 20], &device));
/// assert_eq!(y.dims(), [1, 245, 20, 20]);
/// ```
#[derive(Config, Debug)]
pub struct SpatialAttentionConfig {
    /// Channels of the RPN's shared feature (its 5×5 depthwise + 1×1 conv gives 256).
    #[config(default = 256)]
    pub rpn_channels: usize,
    /// Channels of the CEM output it re-weights.
    #[config(default = 245)]
    pub out_channels: usize,
}

#[derive(Module, Debug)]
pub struct SpatialAttention<B: Backend> {
    /// θ and the sigmoid: 1×1 conv → batch norm → sigmoid.
    pub attention: ConvNormAct<B>,
}

impl SpatialAttentionConfig {
    pub fn init<B: Backend>(&self, device: &B::Device) -> SpatialAttention<B> {
        SpatialAttention {
            attention: ConvNormActConfig::new(self.rpn_channels, self.out_channels, 1)
                .with_activation(Activation::Sigmoid)
                .init(device),
        }
    }
}

impl<B: Backend> SpatialAttention<B> {
    /// CEM features `[N, out_channels, H, W]` re-weighted by RPN features `[N, rpn_channels, H, W]`.
    pub fn forward(&self, cem: Tensor<B, 4>, rpn: Tensor<B, 4>) -> Tensor<B, 4> {
        cem * self.attention.forward(rpn)
    }
}
