//! ViT's input stem (Dosovitskiy et al. 2021, Sec. 3.1, eq. 1): the image is cut into P×P patches,
//! each linearly projected to D dimensions (a P×P convolution with stride P), a learnable class
//! token is prepended, and learnable 1-D position embeddings are added.

use burn::module::Param;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::prelude::*;
use burn::tensor::Distribution;

use crate::complexity::{ShapeTrace, Traceable};

/// ```
/// use burn::backend::NdArray;
/// use burn::prelude::*;
/// use kiln_vision::blocks::PatchEmbeddingConfig;
/// let embed = PatchEmbeddingConfig::new(3, 224, 16, 768).init::<NdArray>(&Default::default());
/// let tokens = embed.forward(Tensor::zeros([1, 3, 224, 224], &Default::default()));
/// assert_eq!(tokens.dims(), [1, 197, 768]); // 14·14 patches + the class token
/// ```
#[derive(Config, Debug)]
pub struct PatchEmbeddingConfig {
    pub in_channels: usize,
    /// Side of the (square) image the position embeddings are made for.
    pub image_size: usize,
    pub patch_size: usize,
    pub dim: usize,
}

#[derive(Module, Debug)]
pub struct PatchEmbedding<B: Backend> {
    pub projection: Conv2d<B>,
    /// `[1, 1, D]`, initialised to zero as in the reference implementation.
    pub class_token: Param<Tensor<B, 3>>,
    /// `[1, 1 + patches, D]`, initialised from N(0, 0.02²).
    pub position: Param<Tensor<B, 3>>,
}

impl PatchEmbeddingConfig {
    /// Patches along one side of the image.
    pub fn grid(&self) -> usize {
        self.image_size / self.patch_size
    }

    pub fn init<B: Backend>(&self, device: &B::Device) -> PatchEmbedding<B> {
        let tokens = 1 + self.grid() * self.grid();
        PatchEmbedding {
            projection: Conv2dConfig::new([self.in_channels, self.dim], [self.patch_size; 2])
                .with_stride([self.patch_size; 2])
                .init(device),
            class_token: Param::from_tensor(Tensor::zeros([1, 1, self.dim], device)),
            position: Param::from_tensor(Tensor::random(
                [1, tokens, self.dim],
                Distribution::Normal(0.0, 0.02),
                device,
            )),
        }
    }
}

impl<B: Backend> PatchEmbedding<B> {
    /// Images `[N, C, H, W]` (H and W equal to the configured image size) to tokens `[N, 1 + HW/P², D]`.
    pub fn forward(&self, images: Tensor<B, 4>) -> Tensor<B, 3> {
        let patches = self.projection.forward(images);
        let [n, d, gh, gw] = patches.dims();
        let patches = patches.reshape([n, d, gh * gw]).swap_dims(1, 2);
        let class = self.class_token.val().expand([n, 1, d]);
        Tensor::cat(vec![class, patches], 1) + self.position.val()
    }

    pub fn tokens(&self) -> usize {
        self.position.dims()[1]
    }
}

impl<B: Backend> Traceable for PatchEmbedding<B> {
    /// Leaves the trace as `[D, tokens, 1]`.
    fn trace(&self, input: ShapeTrace) -> ShapeTrace {
        let trace = input.conv(&self.projection);
        trace.reshape([trace.shape[0], self.tokens(), 1])
    }
}
