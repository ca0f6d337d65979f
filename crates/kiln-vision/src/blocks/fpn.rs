//! Feature Pyramid Network (Lin, Dollár, Girshick, He, Hariharan, Belongie 2017, "Feature Pyramid
//! Networks for Object Detection", Sec. 3 and 4.1): a top-down pathway upsamples the coarse,
//! semantically strong C5 and adds 1×1 lateral projections of C4, C3, C2, so every level of the
//! pyramid P2–P5 has strong semantics at its own resolution; a 3×3 conv on each merged map reduces
//! upsampling aliasing. P6, for the RPN's largest anchors, subsamples P5 by stride 2.
//!
//! As in the paper, the extra layers are linear (no batch norm, no non-linearity) and all levels
//! have the same width, 256 by default, because one head is shared across levels.

use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::PaddingConfig2d;
use burn::prelude::*;
use burn::tensor::module::{interpolate, max_pool2d};
use burn::tensor::ops::{InterpolateMode, InterpolateOptions};

use super::upsample_nearest;

/// ```
/// use burn::backend::NdArray;
/// use burn::prelude::*;
/// use kiln_vision::blocks::FpnConfig;
/// let device = Default::default();
/// let fpn = FpnConfig::new(vec![8, 16, 32, 64]).with_out_channels(16).init::<NdArray>(&device);
/// let c = [(8, 32), (16, 16), (32, 8), (64, 4)].map(|(ch, s)| Tensor::zeros([1, ch, s, s], &device));
/// let p = fpn.forward(c.to_vec());
/// let sizes: Vec<_> = p.iter().map(|p| p.dims()).collect();
/// assert_eq!(sizes, vec![[1, 16, 32, 32], [1, 16, 16, 16], [1, 16, 8, 8], [1, 16, 4, 4], [1, 16, 2, 2]]);
/// ```
#[derive(Config, Debug)]
pub struct FpnConfig {
    /// Channels of the backbone outputs C2, C3, C4, C5 (finest first), e.g. ResNet-50's
    /// 256, 512, 1024, 2048.
    pub in_channels: Vec<usize>,
    #[config(default = 256)]
    pub out_channels: usize,
}

#[derive(Module, Debug)]
pub struct Fpn<B: Backend> {
    /// 1×1 projections of C2..C5 to `out_channels`.
    pub lateral: Vec<Conv2d<B>>,
    /// 3×3 convs producing P2..P5 from the merged maps.
    pub output: Vec<Conv2d<B>>,
}

impl FpnConfig {
    pub fn init<B: Backend>(&self, device: &B::Device) -> Fpn<B> {
        assert!(!self.in_channels.is_empty(), "an FPN needs at least one input level");
        let c = self.out_channels;
        Fpn {
            lateral: self.in_channels.iter().map(|&c_in| Conv2dConfig::new([c_in, c], [1, 1]).init(device)).collect(),
            output: self
                .in_channels
                .iter()
                .map(|_| {
                    Conv2dConfig::new([c, c], [3, 3]).with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1)).init(device)
                })
                .collect(),
        }
    }
}

impl<B: Backend> Fpn<B> {
    /// `[C2, C3, C4, C5]`, each level half the size of the previous → `[P2, P3, P4, P5, P6]`.
    pub fn forward(&self, features: Vec<Tensor<B, 4>>) -> Vec<Tensor<B, 4>> {
        assert_eq!(features.len(), self.lateral.len(), "one input per configured level");
        let laterals: Vec<_> = features.into_iter().zip(&self.lateral).map(|(c, conv)| conv.forward(c)).collect();
        // Top-down: upsample the coarser merged map to the lateral's exact size, so odd sizes
        // (7 → 4 after a stride-2 stage) still line up; an exact 2× when sizes halve evenly.
        let nearest = InterpolateOptions::new(InterpolateMode::Nearest);
        let mut merged: Vec<Tensor<B, 4>> = Vec::with_capacity(laterals.len());
        for lateral in laterals.into_iter().rev() {
            let map = match merged.last() {
                Some(coarser) => {
                    let [_, _, h, w] = lateral.dims();
                    let [_, _, ch, cw] = coarser.dims();
                    let up = if h == 2 * ch && w == 2 * cw {
                        // Trains on every backend (Burn's interpolate has no ndarray backward).
                        upsample_nearest(Tensor::clone(coarser), 2)
                    } else {
                        interpolate(Tensor::clone(coarser), [h, w], nearest.clone())
                    };
                    lateral + up
                }
                None => lateral,
            };
            merged.push(map);
        }
        merged.reverse();
        let mut pyramid: Vec<_> = merged.into_iter().zip(&self.output).map(|(m, conv)| conv.forward(m)).collect();
        // P6: max pooling with kernel 1 and stride 2, i.e. taking every other pixel of P5.
        let coarsest = pyramid.last().unwrap().clone();
        pyramid.push(max_pool2d(coarsest, [1, 1], [2, 2], [0, 0], [1, 1], false));
        pyramid
    }
}
