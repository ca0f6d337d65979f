//! A noise-aware classifier for classifier guidance (Dhariwal & Nichol 2021, §4: "the
//! downsampling trunk of the UNet model", pooled, then a linear head): it reads a noised image
//! at its noise level and predicts the class, so that its ∇ₓ log p(y | x_t) can steer sampling.

use burn::nn::conv::Conv2d;
use burn::nn::{GroupNorm, Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::silu;

use super::blocks::{conv3, group_norm, AttentionBlock, Level, ResidualBlock};
use super::mlp::NOISE_EMBEDDING_SCALE;
use super::time_embedding::sinusoidal_embedding;
use crate::guidance::ClassifierNetwork;

#[derive(Config, Debug)]
pub struct NoisyClassifierConfig {
    /// The classes it tells apart.
    pub classes: usize,
    /// Channels of the images (1 for digits).
    #[config(default = 1)]
    pub image_channels: usize,
    /// Channels at full resolution; level `i` has `channels · channel_mults[i]`.
    #[config(default = 16)]
    pub channels: usize,
    /// One entry per resolution, halving it between entries.
    #[config(default = "vec![1, 2, 2]")]
    pub channel_mults: Vec<usize>,
    /// Heads of the self-attention at the lowest resolution (0: none).
    #[config(default = 4)]
    pub attention_heads: usize,
}

#[derive(Module, Debug)]
pub struct NoisyClassifier<B: Backend> {
    time1: Linear<B>,
    time2: Linear<B>,
    input: Conv2d<B>,
    down: Vec<Level<B>>,
    downsample: Vec<Conv2d<B>>,
    out_norm: GroupNorm<B>,
    head: Linear<B>,
    channels: usize,
}

impl NoisyClassifierConfig {
    /// The factor the image sides must be divisible by.
    pub fn side_multiple(&self) -> usize {
        1 << self.channel_mults.len().saturating_sub(1)
    }

    /// ```
    /// use burn::backend::NdArray;
    /// use burn::prelude::*;
    /// use kiln_generative::guidance::ClassifierNetwork;
    /// use kiln_generative::network::NoisyClassifierConfig;
    ///
    /// let device = Default::default();
    /// let classifier = NoisyClassifierConfig::new(10).with_channels(8).init::<NdArray>(&device);
    /// let x = Tensor::<NdArray, 4>::zeros([2, 1, 28, 28], &device);
    /// let c_noise = Tensor::<NdArray, 1>::from_floats([0.1, -0.3], &device);
    /// assert_eq!(classifier.logits(x, c_noise).dims(), [2, 10]);
    /// ```
    pub fn init<B: Backend>(&self, device: &B::Device) -> NoisyClassifier<B> {
        assert!(!self.channel_mults.is_empty(), "a classifier trunk needs at least one resolution");
        let c = self.channels;
        let embed_dim = 4 * c;
        let widths: Vec<usize> = self.channel_mults.iter().map(|m| m * c).collect();
        let lowest = widths.len() - 1;
        let mut down = Vec::new();
        let mut previous = c;
        for (i, &width) in widths.iter().enumerate() {
            down.push(Level {
                block: ResidualBlock::new(previous, width, embed_dim, device),
                attention: (i == lowest && self.attention_heads > 0)
                    .then(|| AttentionBlock::new(width, self.attention_heads, device)),
            });
            previous = width;
        }
        NoisyClassifier {
            time1: LinearConfig::new(c, embed_dim).init(device),
            time2: LinearConfig::new(embed_dim, embed_dim).init(device),
            input: conv3(self.image_channels, c, 1, device),
            down,
            downsample: widths[..lowest].iter().map(|&w| conv3(w, w, 2, device)).collect(),
            out_norm: group_norm(widths[lowest], device),
            head: LinearConfig::new(widths[lowest], self.classes).init(device),
            channels: c,
        }
    }
}

impl<B: Backend> NoisyClassifier<B> {
    /// `x` `[N, C, H, W]`, `c_noise` `[N]` → class logits `[N, classes]`.
    pub fn forward(&self, x: Tensor<B, 4>, c_noise: Tensor<B, 1>) -> Tensor<B, 2> {
        let time = sinusoidal_embedding(c_noise, self.channels, NOISE_EMBEDDING_SCALE);
        let embedding = silu(self.time2.forward(silu(self.time1.forward(time))));
        let mut h = self.input.forward(x);
        for (i, level) in self.down.iter().enumerate() {
            h = level.forward(h, embedding.clone());
            if let Some(conv) = self.downsample.get(i) {
                h = conv.forward(h);
            }
        }
        // Global average pooling of the lowest resolution, then the linear head.
        let pooled = silu(self.out_norm.forward(h)).mean_dim(3).mean_dim(2).flatten::<2>(1, 3);
        self.head.forward(pooled)
    }
}

impl<B: Backend> ClassifierNetwork<B, 4> for NoisyClassifier<B> {
    fn logits(&self, x: Tensor<B, 4>, c_noise: Tensor<B, 1>) -> Tensor<B, 2> {
        NoisyClassifier::forward(self, x, c_noise)
    }
}
