//! ArcFace (Deng et al. 2019, Eq. 3): s·cos(θ_y + m) for the target, s·cos θ_j otherwise, on
//! normalised features and weights. Where θ + m > π, cos(θ + m) would stop decreasing, so the
//! target logit becomes s·(cos θ − m·sin m) (the reference implementation's fallback).

use burn::module::Param;
use burn::prelude::*;

use super::{class_weights, cosines, target_mask};

#[derive(Config, Debug)]
pub struct ArcFaceConfig {
    pub features: usize,
    pub classes: usize,
    #[config(default = 64.0)]
    pub scale: f64,
    /// Additive angular margin in radians.
    #[config(default = 0.5)]
    pub margin: f64,
}

#[derive(Module, Debug)]
pub struct ArcFace<B: Backend> {
    pub weight: Param<Tensor<B, 2>>,
    #[module(skip)]
    scale: f64,
    #[module(skip)]
    margin: f64,
}

impl ArcFaceConfig {
    pub fn init<B: Backend>(&self, device: &B::Device) -> ArcFace<B> {
        ArcFace { weight: class_weights(self.features, self.classes, device), scale: self.scale, margin: self.margin }
    }
}

impl<B: Backend> ArcFace<B> {
    pub fn forward(&self, features: Tensor<B, 2>, targets: Tensor<B, 1, Int>) -> Tensor<B, 2> {
        let cos = self.cosines(features);
        let m = self.margin;
        let sin = (cos.clone().powf_scalar(2.0).neg() + 1.0).clamp_min(1e-12).sqrt();
        let shifted = cos.clone() * m.cos() - sin * m.sin();
        // θ + m ≤ π  ⇔  cos θ ≥ cos(π − m)
        let in_range = cos.clone().greater_equal_elem((std::f64::consts::PI - m).cos());
        let fallback = cos.clone() - m * m.sin();
        let target = fallback.mask_where(in_range, shifted);
        let mask = target_mask(targets, cos.dims()[1]);
        (cos.clone() + (target - cos) * mask) * self.scale
    }

    /// The scale s applied to every logit.
    pub fn scale(&self) -> f64 {
        self.scale
    }

    pub fn cosines(&self, features: Tensor<B, 2>) -> Tensor<B, 2> {
        cosines(features, self.weight.val()).0
    }
}
