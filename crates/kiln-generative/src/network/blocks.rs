//! The building blocks the UNet and the noise-aware classifier share: residual blocks that add
//! the noise level's embedding, self-attention over a feature map, one resolution of either.

use burn::nn::attention::{MhaInput, MultiHeadAttention, MultiHeadAttentionConfig};
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{GroupNorm, GroupNormConfig, Linear, LinearConfig, PaddingConfig2d};
use burn::prelude::*;
use burn::tensor::activation::silu;

/// Group norm with 8 groups where the channels allow (Wu & He 2018's default of 32 groups is
/// more than a 16-channel layer has).
pub(super) fn group_norm<B: Backend>(channels: usize, device: &B::Device) -> GroupNorm<B> {
    let groups = [8, 4, 2, 1].into_iter().find(|g| channels % g == 0).unwrap_or(1);
    GroupNormConfig::new(groups, channels).init(device)
}

pub(super) fn conv3<B: Backend>(input: usize, output: usize, stride: usize, device: &B::Device) -> Conv2d<B> {
    Conv2dConfig::new([input, output], [3, 3])
        .with_stride([stride, stride])
        .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
        .init(device)
}

/// GN → SiLU → conv, plus the embedding projected to the channels, GN → SiLU → conv, around a
/// skip (a 1×1 convolution where the channels change).
#[derive(Module, Debug)]
pub struct ResidualBlock<B: Backend> {
    norm1: GroupNorm<B>,
    conv1: Conv2d<B>,
    embedding: Linear<B>,
    norm2: GroupNorm<B>,
    conv2: Conv2d<B>,
    skip: Option<Conv2d<B>>,
}

impl<B: Backend> ResidualBlock<B> {
    pub(super) fn new(input: usize, output: usize, embed_dim: usize, device: &B::Device) -> Self {
        Self {
            norm1: group_norm(input, device),
            conv1: conv3(input, output, 1, device),
            embedding: LinearConfig::new(embed_dim, output).init(device),
            norm2: group_norm(output, device),
            conv2: conv3(output, output, 1, device),
            skip: (input != output).then(|| Conv2dConfig::new([input, output], [1, 1]).init(device)),
        }
    }

    pub(super) fn forward(&self, x: Tensor<B, 4>, embedding: Tensor<B, 2>) -> Tensor<B, 4> {
        let h = self.conv1.forward(silu(self.norm1.forward(x.clone())));
        let h = h + self.embedding.forward(embedding).unsqueeze_dim::<3>(2).unsqueeze_dim::<4>(3);
        let h = self.conv2.forward(silu(self.norm2.forward(h)));
        let skip = match &self.skip {
            Some(conv) => conv.forward(x),
            None => x,
        };
        skip + h
    }
}

/// Self-attention over the pixels of a feature map, around a skip.
#[derive(Module, Debug)]
pub struct AttentionBlock<B: Backend> {
    norm: GroupNorm<B>,
    attention: MultiHeadAttention<B>,
}

impl<B: Backend> AttentionBlock<B> {
    pub(super) fn new(channels: usize, heads: usize, device: &B::Device) -> Self {
        Self {
            norm: group_norm(channels, device),
            attention: MultiHeadAttentionConfig::new(channels, heads).with_dropout(0.0).init(device),
        }
    }

    pub(super) fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let [n, c, h, w] = x.dims();
        let tokens = self.norm.forward(x.clone()).reshape([n, c, h * w]).swap_dims(1, 2);
        let attended = self.attention.forward(MhaInput::self_attn(tokens)).context;
        x + attended.swap_dims(1, 2).reshape([n, c, h, w])
    }
}

/// One resolution: a residual block (and attention at the lowest resolution).
#[derive(Module, Debug)]
pub struct Level<B: Backend> {
    pub(super) block: ResidualBlock<B>,
    pub(super) attention: Option<AttentionBlock<B>>,
}

impl<B: Backend> Level<B> {
    pub(super) fn forward(&self, x: Tensor<B, 4>, embedding: Tensor<B, 2>) -> Tensor<B, 4> {
        let x = self.block.forward(x, embedding);
        match &self.attention {
            Some(attention) => attention.forward(x),
            None => x,
        }
    }
}
