//! CosFace / AM-Softmax (Wang et al. 2018, Eq. 4): s·(cos θ_j − m·[j = y]) on normalised features
//! and weights.

use burn::module::Param;
use burn::prelude::*;

use super::{class_weights, cosines, target_mask};

#[derive(Config, Debug)]
pub struct CosFaceConfig {
    pub features: usize,
    pub classes: usize,
    #[config(default = 64.0)]
    pub scale: f64,
    #[config(default = 0.35)]
    pub margin: f64,
}

#[derive(Module, Debug)]
pub struct CosFace<B: Backend> {
    pub weight: Param<Tensor<B, 2>>,
    #[module(skip)]
    scale: f64,
    #[module(skip)]
    margin: f64,
}

impl CosFaceConfig {
    pub fn init<B: Backend>(&self, device: &B::Device) -> CosFace<B> {
        CosFace { weight: class_weights(self.features, self.classes, device), scale: self.scale, margin: self.margin }
    }
}

impl<B: Backend> CosFace<B> {
    pub fn forward(&self, features: Tensor<B, 2>, targets: Tensor<B, 1, Int>) -> Tensor<B, 2> {
        let cos = self.cosines(features);
        let mask = target_mask(targets, cos.dims()[1]);
        (cos - mask * self.margin) * self.scale
    }

    /// The scale s applied to every logit.
    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// cos θ `[N, K]`: the evaluation scores.
    pub fn cosines(&self, features: Tensor<B, 2>) -> Tensor<B, 2> {
        cosines(features, self.weight.val()).0
    }
}
