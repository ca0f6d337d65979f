//! A small UNet denoiser for images (Ho et al. 2020, §4 and Appendix B, after PixelCNN++):
//! residual blocks with group norm and SiLU that each add the embedding of the noise level (and
//! of a class), downsampling by strided convolutions, nearest upsampling, skip connections
//! concatenated on the way up, and self-attention at the lowest resolution only — where it is
//! cheap (7×7 tokens for 28×28 digits).

use burn::nn::conv::Conv2d;
use burn::nn::{Embedding, EmbeddingConfig, GroupNorm, Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::silu;

use super::blocks::{conv3, group_norm, AttentionBlock, Level, ResidualBlock};
use super::mlp::NOISE_EMBEDDING_SCALE;
use super::time_embedding::sinusoidal_embedding;
use crate::denoiser::Network;

#[derive(Config, Debug)]
pub struct UNetConfig {
    /// Channels of the images (1 for digits).
    #[config(default = 1)]
    pub image_channels: usize,
    /// Channels at full resolution; level `i` has `channels · channel_mults[i]`.
    #[config(default = 32)]
    pub channels: usize,
    /// One entry per resolution, halving it between entries: `[1, 2, 2]` takes 28×28 to 7×7.
    #[config(default = "vec![1, 2, 2]")]
    pub channel_mults: Vec<usize>,
    /// Heads of the self-attention at the lowest resolution (0: no attention).
    #[config(default = 4)]
    pub attention_heads: usize,
    /// Classes for a class-conditional model (0: unconditional); one more embedding row is the
    /// "no class" of classifier-free guidance.
    #[config(default = 0)]
    pub classes: usize,
}

#[derive(Module, Debug)]
pub struct UNet<B: Backend> {
    time1: Linear<B>,
    time2: Linear<B>,
    class: Option<Embedding<B>>,
    input: Conv2d<B>,
    down: Vec<Level<B>>,
    /// Strided convolutions between the down levels.
    downsample: Vec<Conv2d<B>>,
    middle1: ResidualBlock<B>,
    middle_attention: Option<AttentionBlock<B>>,
    middle2: ResidualBlock<B>,
    /// From the lowest resolution up, each taking its down level's output concatenated.
    up: Vec<Level<B>>,
    /// Convolutions after each nearest ×2 upsampling.
    upsample: Vec<Conv2d<B>>,
    out_norm: GroupNorm<B>,
    output: Conv2d<B>,
    channels: usize,
}

impl UNetConfig {
    /// The factor the image sides must be divisible by.
    pub fn side_multiple(&self) -> usize {
        1 << self.channel_mults.len().saturating_sub(1)
    }

    /// ```
    /// use burn::backend::NdArray;
    /// use burn::prelude::*;
    /// use kiln_generative::network::UNetConfig;
    /// use kiln_generative::Network;
    ///
    /// let device = Default::default();
    /// let unet = UNetConfig::new().with_channels(8).with_classes(10).init::<NdArray>(&device);
    /// let x = Tensor::<NdArray, 4>::zeros([2, 1, 28, 28], &device);
    /// let c_noise = Tensor::<NdArray, 1>::from_floats([0.1, -0.3], &device);
    /// let class = Tensor::<NdArray, 1, Int>::from_ints([3, 10], &device); // 10: no class
    /// assert_eq!(Network::forward(&unet, x, c_noise, Some(class)).dims(), [2, 1, 28, 28]);
    /// ```
    pub fn init<B: Backend>(&self, device: &B::Device) -> UNet<B> {
        assert!(!self.channel_mults.is_empty(), "a UNet needs at least one resolution");
        let c = self.channels;
        let embed_dim = 4 * c;
        let widths: Vec<usize> = self.channel_mults.iter().map(|m| m * c).collect();
        let lowest = widths.len() - 1;
        let attention = |level: usize, width: usize| {
            (level == lowest && self.attention_heads > 0)
                .then(|| AttentionBlock::new(width, self.attention_heads, device))
        };
        let mut down = Vec::new();
        let mut previous = c;
        for (i, &width) in widths.iter().enumerate() {
            down.push(Level {
                block: ResidualBlock::new(previous, width, embed_dim, device),
                attention: attention(i, width),
            });
            previous = width;
        }
        let downsample = widths[..lowest].iter().map(|&w| conv3(w, w, 2, device)).collect();
        let bottom = widths[lowest];
        let mut up = Vec::new();
        let mut upsample = Vec::new();
        for i in (0..widths.len()).rev() {
            let output = if i == 0 { c } else { widths[i - 1] };
            up.push(Level {
                block: ResidualBlock::new(previous + widths[i], output, embed_dim, device),
                attention: attention(i, output),
            });
            if i > 0 {
                upsample.push(conv3(output, output, 1, device));
            }
            previous = output;
        }
        UNet {
            time1: LinearConfig::new(c, embed_dim).init(device),
            time2: LinearConfig::new(embed_dim, embed_dim).init(device),
            class: (self.classes > 0).then(|| EmbeddingConfig::new(self.classes + 1, embed_dim).init(device)),
            input: conv3(self.image_channels, c, 1, device),
            down,
            downsample,
            middle1: ResidualBlock::new(bottom, bottom, embed_dim, device),
            middle_attention: (self.attention_heads > 0)
                .then(|| AttentionBlock::new(bottom, self.attention_heads, device)),
            middle2: ResidualBlock::new(bottom, bottom, embed_dim, device),
            up,
            upsample,
            out_norm: group_norm(c, device),
            output: conv3(c, self.image_channels, 1, device),
            channels: c,
        }
    }
}

/// Nearest-neighbour ×2 upsampling: each pixel repeated in a 2×2 block.
fn upsample_nearest<B: Backend>(x: Tensor<B, 4>) -> Tensor<B, 4> {
    let [n, c, h, w] = x.dims();
    x.reshape([n, c, h, 1, w, 1]).expand([n, c, h, 2, w, 2]).reshape([n, c, 2 * h, 2 * w])
}

impl<B: Backend> UNet<B> {
    /// `x` `[N, C, H, W]`, `c_noise` `[N]`, `class` `[N]` → `[N, C, H, W]`.
    pub fn forward(&self, x: Tensor<B, 4>, c_noise: Tensor<B, 1>, class: Option<Tensor<B, 1, Int>>) -> Tensor<B, 4> {
        let time = sinusoidal_embedding(c_noise, self.channels, NOISE_EMBEDDING_SCALE);
        let mut embedding = self.time2.forward(silu(self.time1.forward(time)));
        if let (Some(table), Some(class)) = (&self.class, class) {
            embedding = embedding + table.forward(class.unsqueeze_dim::<2>(1)).squeeze_dim::<2>(1);
        }
        let embedding = silu(embedding);
        let mut h = self.input.forward(x);
        let mut skips = Vec::with_capacity(self.down.len());
        for (i, level) in self.down.iter().enumerate() {
            h = level.forward(h, embedding.clone());
            skips.push(h.clone());
            if let Some(conv) = self.downsample.get(i) {
                h = conv.forward(h);
            }
        }
        h = self.middle1.forward(h, embedding.clone());
        if let Some(attention) = &self.middle_attention {
            h = attention.forward(h);
        }
        h = self.middle2.forward(h, embedding.clone());
        for (i, level) in self.up.iter().enumerate() {
            let skip = skips.pop().expect("one skip per level");
            h = level.forward(Tensor::cat(vec![h, skip], 1), embedding.clone());
            if let Some(conv) = self.upsample.get(i) {
                h = conv.forward(upsample_nearest(h));
            }
        }
        self.output.forward(silu(self.out_norm.forward(h)))
    }
}

impl<B: Backend> Network<B, 4> for UNet<B> {
    fn forward(&self, x: Tensor<B, 4>, c_noise: Tensor<B, 1>, class: Option<Tensor<B, 1, Int>>) -> Tensor<B, 4> {
        UNet::forward(self, x, c_noise, class)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::NdArray;

    #[test]
    fn nearest_upsampling_repeats_each_pixel_in_a_two_by_two_block() {
        let device = Default::default();
        let x = Tensor::<NdArray, 4>::from_floats([[[[1.0, 2.0], [3.0, 4.0]]]], &device);
        let up: Vec<f32> = upsample_nearest(x).into_data().to_vec().unwrap();
        let expected = [1., 1., 2., 2., 1., 1., 2., 2., 3., 3., 4., 4., 3., 3., 4., 4.];
        assert_eq!(up, expected);
    }
}
