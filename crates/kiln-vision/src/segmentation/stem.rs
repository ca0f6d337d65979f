//! The stride-8 stem both segmentation networks start from: three stages of two 3×3
//! conv-BN-ReLU blocks, the first of each stage strided by 2, doubling the width each stage.

use burn::prelude::*;

use crate::blocks::{ConvNormAct, ConvNormActConfig};
use crate::VisionError;

/// ```
/// use burn::backend::NdArray;
/// use burn::prelude::*;
/// use kiln_vision::segmentation::Stride8StemConfig;
/// let stem = Stride8StemConfig::new(1, 8).init::<NdArray>(&Default::default());
/// let y = stem.forward(Tensor::zeros([2, 1, 64, 48], &Default::default()));
/// assert_eq!(y.dims(), [2, 32, 8, 6]);
/// ```
#[derive(Config, Debug)]
pub struct Stride8StemConfig {
    pub in_channels: usize,
    /// Channels of the first stage; the stages have `width`, `2·width`, `4·width`.
    pub width: usize,
}

#[derive(Module, Debug)]
pub struct Stride8Stem<B: Backend> {
    pub layers: Vec<ConvNormAct<B>>,
}

impl Stride8StemConfig {
    /// Channels of the stem's output.
    pub fn out_channels(&self) -> usize {
        4 * self.width
    }

    pub fn init<B: Backend>(&self, device: &B::Device) -> Stride8Stem<B> {
        let mut layers = Vec::new();
        let mut channels = self.in_channels;
        for stage in 0..3 {
            let width = self.width << stage;
            layers.push(ConvNormActConfig::new(channels, width, 3).with_stride(2).init(device));
            layers.push(ConvNormActConfig::new(width, width, 3).init(device));
            channels = width;
        }
        Stride8Stem { layers }
    }
}

impl<B: Backend> Stride8Stem<B> {
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        ConvNormAct::forward_sequence(&self.layers, x)
    }
}

/// Sizes the stem cannot take: below 8 pixels a stride-8 feature map has no cell.
pub(crate) fn check_stem_input(in_channels: usize, [c, h, w]: [usize; 3]) -> Result<(), VisionError> {
    if c != in_channels {
        return Err(VisionError::Input(format!("the network takes {in_channels}-channel images, got {c} channels")));
    }
    if h < 8 || w < 8 {
        return Err(VisionError::Input(format!("the stride-8 stem needs images of at least 8×8, got {h}×{w}")));
    }
    Ok(())
}
