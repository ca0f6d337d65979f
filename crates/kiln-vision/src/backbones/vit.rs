//! Vision Transformer (Dosovitskiy et al. 2021, eqs. 1–4 and Table 1): patch embedding with a
//! class token and position embeddings, a stack of pre-norm Transformer encoder layers
//! (multi-head self-attention and a GELU MLP, each with a residual), a final layer norm, and a
//! linear head on the class token. Ti and S are the DeiT sizes (Touvron et al. 2021).

use burn::nn::transformer::{TransformerEncoder, TransformerEncoderConfig, TransformerEncoderInput};
use burn::nn::{LayerNorm, LayerNormConfig, Linear, LinearConfig};
use burn::prelude::*;

use crate::blocks::{PatchEmbedding, PatchEmbeddingConfig};
use crate::complexity::ShapeTrace;
use crate::family::{ClassifierFamily, ModelFamily, OnClassifier, Variant, IMAGENET_INPUT};
use crate::VisionError;
use crate::{Complexity, ImageClassifier};
use burn::tensor::backend::AutodiffBackend;

/// ```
/// use burn::backend::NdArray;
/// use burn::prelude::*;
/// use kiln_vision::backbones::VitConfig;
/// // ViT-Ti on 28×28 digits with 4×4 patches: 49 patch tokens + the class token.
/// let net = VitConfig::tiny().with_image_size(28).with_patch_size(4).with_in_channels(1)
///     .with_num_classes(10).with_depth(2).init::<NdArray>(&Default::default());
/// assert_eq!(net.forward(Tensor::zeros([2, 1, 28, 28], &Default::default())).dims(), [2, 10]);
/// ```
#[derive(Config, Debug)]
pub struct VitConfig {
    /// Hidden size D.
    #[config(default = 768)]
    pub dim: usize,
    #[config(default = 12)]
    pub depth: usize,
    #[config(default = 12)]
    pub heads: usize,
    /// MLP size (4·D in every published variant).
    #[config(default = 3072)]
    pub mlp_dim: usize,
    #[config(default = 224)]
    pub image_size: usize,
    #[config(default = 16)]
    pub patch_size: usize,
    #[config(default = 1000)]
    pub num_classes: usize,
    #[config(default = 3)]
    pub in_channels: usize,
    #[config(default = 0.0)]
    pub dropout: f64,
}

impl VitConfig {
    /// ViT-Ti/16 (DeiT-Ti): D = 192, 12 layers, 3 heads.
    pub fn tiny() -> Self {
        Self::new().with_dim(192).with_heads(3).with_mlp_dim(768)
    }
    /// ViT-S/16 (DeiT-S): D = 384, 12 layers, 6 heads.
    pub fn small() -> Self {
        Self::new().with_dim(384).with_heads(6).with_mlp_dim(1536)
    }
    /// ViT-B/16 (Table 1): D = 768, 12 layers, 12 heads, MLP 3072.
    pub fn base() -> Self {
        Self::new()
    }

    pub fn validate(&self) -> Result<(), VisionError> {
        if self.image_size % self.patch_size != 0 {
            return Err(VisionError::Config(format!(
                "image_size {} is not a multiple of patch_size {}",
                self.image_size, self.patch_size
            )));
        }
        if self.dim % self.heads != 0 {
            return Err(VisionError::Config(format!("dim {} is not divisible by heads {}", self.dim, self.heads)));
        }
        Ok(())
    }
}

#[derive(Module, Debug)]
pub struct Vit<B: Backend> {
    pub embedding: PatchEmbedding<B>,
    pub encoder: TransformerEncoder<B>,
    pub norm: LayerNorm<B>,
    pub head: Linear<B>,
}

impl VitConfig {
    pub fn init<B: Backend>(&self, device: &B::Device) -> Vit<B> {
        Vit {
            embedding: PatchEmbeddingConfig::new(self.in_channels, self.image_size, self.patch_size, self.dim)
                .init(device),
            encoder: TransformerEncoderConfig::new(self.dim, self.mlp_dim, self.heads, self.depth)
                .with_dropout(self.dropout)
                .with_norm_first(true)
                .with_layer_norm_eps(1e-6)
                .init(device),
            norm: LayerNormConfig::new(self.dim).with_epsilon(1e-6).init(device),
            head: LinearConfig::new(self.dim, self.num_classes).init(device),
        }
    }
}

impl<B: Backend> Vit<B> {
    /// Images `[N, C, S, S]` with S the configured image size.
    pub fn forward(&self, images: Tensor<B, 4>) -> Tensor<B, 2> {
        let tokens = self.encoder.forward(TransformerEncoderInput::new(self.embedding.forward(images)));
        let [n, _, d] = tokens.dims();
        let class_token = self.norm.forward(tokens.slice([0..n, 0..1, 0..d])).reshape([n, d]);
        self.head.forward(class_token)
    }
}

impl<B: Backend> ImageClassifier<B> for Vit<B> {
    fn logits(&self, images: Tensor<B, 4>) -> Tensor<B, 2> {
        self.forward(images)
    }

    fn check_input(&self, input: [usize; 3]) -> Result<(), VisionError> {
        let [_, channels, patch, _] = self.embedding.projection.weight.dims();
        let side = patch * (((self.embedding.tokens() - 1) as f64).sqrt() as usize);
        if input != [channels, side, side] {
            return Err(VisionError::Input(format!(
                "this ViT is built for {channels}×{side}×{side} images (position embeddings for {} patches) but the \
                 data is {}×{}×{}: set image_size = {} and in_channels = {} in [model]",
                self.embedding.tokens() - 1,
                input[0],
                input[1],
                input[2],
                input[1],
                input[0]
            )));
        }
        Ok(())
    }

    /// Patch projection, then per layer: Q, K, V and output projections (4·N·D²), attention
    /// scores and their weighted sum (2·N²·D), the MLP (2·N·D·D_mlp); then the head.
    fn complexity(&self, input: [usize; 3]) -> Complexity {
        let trace = ShapeTrace::new(input).then(&self.embedding);
        let [d, n, _] = trace.shape;
        let mlp = self.encoder.layers.first().map_or(0, |layer| layer.pwff.linear_inner.weight.dims()[1]);
        let per_layer = (4 * n * d * d + 2 * n * n * d + 2 * n * d * mlp) as u64;
        let classes = self.head.weight.dims()[1];
        trace
            .add_multiply_adds(per_layer * self.encoder.layers.len() as u64)
            .reshape([d, 1, 1])
            .linear(classes)
            .finish()
    }
}

impl ModelFamily for VitConfig {
    const VARIANTS: &'static [Variant<Self>] = &[
        Variant::new("vit_ti16", "ViT-Ti/16 (DeiT-Ti), Touvron et al. 2021", IMAGENET_INPUT, VitConfig::tiny),
        Variant::new("vit_s16", "ViT-S/16 (DeiT-S), Touvron et al. 2021", IMAGENET_INPUT, VitConfig::small),
        Variant::new(
            "vit_b16",
            "ViT-B/16, Dosovitskiy et al. 2021 (86,567,656 parameters)",
            IMAGENET_INPUT,
            VitConfig::base,
        ),
    ];
    const FIXED_SIZE: bool = true;

    fn check(&self) -> Result<(), VisionError> {
        self.validate()
    }
}

impl ClassifierFamily for VitConfig {
    fn init_with<B: AutodiffBackend, J: OnClassifier<B>>(&self, device: &B::Device, job: J) -> J::Output {
        job.run(self.init::<B>(device))
    }
}
