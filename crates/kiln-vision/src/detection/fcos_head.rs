//! The head FCOS shares across pyramid levels (Tian et al. 2019, Fig. 2) and the parts
//! VarifocalNet adds to it (Zhang et al. 2021, Sec. 4.2–4.3, Fig. 3).
//!
//! Two towers of 3×3 conv + GroupNorm + ReLU, one for classification and one for boxes. The box
//! tower gives the initial distances l, t, r, b (exp of a per-level scaled output, times the
//! stride) and FCOS's centre-ness. The classification tower ends in one more 3×3 conv: a plain
//! one, or with `star` a deformable one sampling at the nine points of the initial box
//! ([`super::star_offsets`]). With `refine`, the box tower also predicts, through its own plain
//! or star-shaped conv, factors Δl…Δb (exp of a scaled output) that multiply the detached
//! initial distances: the refined box.

use burn::module::Param;
use burn::nn::conv::{Conv2d, Conv2dConfig, DeformConv2d, DeformConv2dConfig};
use burn::nn::{GroupNorm, GroupNormConfig, PaddingConfig2d};
use burn::prelude::*;
use burn::tensor::activation::relu;

use super::star_offsets;
use crate::blocks::{gathered_deform_conv2d, DeformGeometry};

/// The classification bias at initialisation, −ln((1 − π)/π) with π = 0.01 (RetinaNet's prior,
/// which FCOS keeps, Sec. 3.1 "Network Outputs").
pub const DENSE_PRIOR_BIAS: f32 = -4.595;

/// How much of the loss gradient reaches the initial box through the star offsets (the
/// reference code's `gradient_mul`, 0.1): the offsets mostly follow the box, not the reverse.
const STAR_GRADIENT: f32 = 0.1;

/// Exponents are clamped so that an early large output cannot overflow exp.
const MAX_LOG_DISTANCE: f32 = 8.0;

fn conv3x3<B: Backend>(cin: usize, cout: usize, device: &B::Device) -> Conv2d<B> {
    Conv2dConfig::new([cin, cout], [3, 3]).with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1)).init(device)
}

/// 3×3 conv, GroupNorm, ReLU (FCOS adds GroupNorm to the towers, Sec. 4.1).
#[derive(Module, Debug)]
pub struct TowerLayer<B: Backend> {
    pub conv: Conv2d<B>,
    pub norm: GroupNorm<B>,
}

impl<B: Backend> TowerLayer<B> {
    fn new(channels: usize, groups: usize, device: &B::Device) -> Self {
        Self { conv: conv3x3(channels, channels, device), norm: GroupNormConfig::new(groups, channels).init(device) }
    }

    fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        relu(self.norm.forward(self.conv.forward(x)))
    }
}

/// A 3×3 conv that is plain or samples at the star-shaped points (Burn's `DeformConv2d` holds
/// the weights; [`gathered_deform_conv2d`] computes it, far faster than Burn's on the CPU).
#[derive(Module, Debug)]
pub struct FeatureConv<B: Backend> {
    pub plain: Option<Conv2d<B>>,
    pub star: Option<DeformConv2d<B>>,
}

impl<B: Backend> FeatureConv<B> {
    fn new(channels: usize, star: bool, device: &B::Device) -> Self {
        if star {
            let conv = DeformConv2dConfig::new([channels, channels], [3, 3])
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .init(device);
            Self { plain: None, star: Some(conv) }
        } else {
            Self { plain: Some(conv3x3(channels, channels, device)), star: None }
        }
    }

    fn forward(&self, x: Tensor<B, 4>, offsets: Option<&Tensor<B, 4>>) -> Tensor<B, 4> {
        match (&self.plain, &self.star, offsets) {
            (Some(conv), _, _) => relu(conv.forward(x)),
            (None, Some(conv), Some(offsets)) => {
                let bias = conv.bias.as_ref().map(|b| b.val());
                relu(gathered_deform_conv2d(x, offsets.clone(), conv.weight.val(), bias, DeformGeometry::default()))
            }
            _ => unreachable!("a star-shaped conv is only built, and called, with offsets"),
        }
    }
}

/// What the head settles at construction.
#[derive(Debug, Clone, Copy)]
pub struct FcosHeadShape {
    pub channels: usize,
    pub classes: usize,
    pub tower_convs: usize,
    pub groups: usize,
    pub levels: usize,
    pub star: bool,
    pub refine: bool,
}

#[derive(Module, Debug)]
pub struct FcosHead<B: Backend> {
    pub class_tower: Vec<TowerLayer<B>>,
    pub box_tower: Vec<TowerLayer<B>>,
    pub class_feature: FeatureConv<B>,
    pub class_out: Conv2d<B>,
    pub box_out: Conv2d<B>,
    pub centreness_out: Conv2d<B>,
    /// One learnable scale per level on the exponent of the distances (FCOS Sec. 3.3).
    pub box_scales: Param<Tensor<B, 1>>,
    pub refine_feature: Option<FeatureConv<B>>,
    pub refine_out: Option<Conv2d<B>>,
    pub refine_scales: Option<Param<Tensor<B, 1>>>,
    #[module(skip)]
    pub star: bool,
}

/// One level's outputs: classification logits `[N, K, h, w]`, initial distances `[N, 4, h, w]`
/// (input pixels), centre-ness logits `[N, 1, h, w]`, refined distances when refining.
pub struct LevelOutput<B: Backend> {
    pub class_logits: Tensor<B, 4>,
    pub distances: Tensor<B, 4>,
    pub centreness: Tensor<B, 4>,
    pub refined: Option<Tensor<B, 4>>,
}

impl<B: Backend> FcosHead<B> {
    pub fn new(shape: FcosHeadShape, device: &B::Device) -> Self {
        let c = shape.channels;
        let tower = || (0..shape.tower_convs).map(|_| TowerLayer::new(c, shape.groups, device)).collect();
        let mut class_out = conv3x3(c, shape.classes, device);
        class_out.bias = Some(Param::from_tensor(Tensor::full([shape.classes], DENSE_PRIOR_BIAS, device)));
        let ones = || Param::from_tensor(Tensor::ones([shape.levels], device));
        Self {
            class_tower: tower(),
            box_tower: tower(),
            class_feature: FeatureConv::new(c, shape.star, device),
            class_out,
            box_out: conv3x3(c, 4, device),
            centreness_out: conv3x3(c, 1, device),
            box_scales: ones(),
            refine_feature: shape.refine.then(|| FeatureConv::new(c, shape.star, device)),
            refine_out: shape.refine.then(|| conv3x3(c, 4, device)),
            refine_scales: shape.refine.then(ones),
            star: shape.star,
        }
    }

    /// The head on pyramid level `level` (`[N, C, h, w]`) of stride `stride`.
    pub fn forward(&self, features: Tensor<B, 4>, level: usize, stride: f32) -> LevelOutput<B> {
        let class_features = self.class_tower.iter().fold(features.clone(), |x, layer| layer.forward(x));
        let box_features = self.box_tower.iter().fold(features, |x, layer| layer.forward(x));
        let scale = |scales: &Param<Tensor<B, 1>>| scales.val().narrow(0, level, 1).reshape([1, 1, 1, 1]);
        let log_distances = self.box_out.forward(box_features.clone()) * scale(&self.box_scales);
        let distances = log_distances.clamp_max(MAX_LOG_DISTANCE).exp() * stride;
        let centreness = self.centreness_out.forward(box_features.clone());
        let offsets = self.star.then(|| {
            let guided = distances.clone() * STAR_GRADIENT + distances.clone().detach() * (1.0 - STAR_GRADIENT);
            star_offsets(guided, stride)
        });
        let class_logits = self.class_out.forward(self.class_feature.forward(class_features, offsets.as_ref()));
        let refined = match (&self.refine_feature, &self.refine_out, &self.refine_scales) {
            (Some(feature), Some(out), Some(scales)) => {
                let factors = out.forward(feature.forward(box_features, offsets.as_ref())) * scale(scales);
                Some(factors.clamp_max(MAX_LOG_DISTANCE).exp() * distances.clone().detach())
            }
            _ => None,
        };
        LevelOutput { class_logits, distances, centreness, refined }
    }
}
