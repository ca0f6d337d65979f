//! L-Softmax (Liu et al. 2016, Eq. 5) and A-Softmax / SphereFace (Liu et al. 2017, Eq. 7): the
//! target logit ‖W_y‖‖x‖ cos θ_y becomes ‖W_y‖‖x‖ ψ(θ_y) with an integer margin m, blended as
//! (λ·‖W_y‖‖x‖ cos θ_y + ‖W_y‖‖x‖ ψ(θ_y)) / (1 + λ) to ease early training. SphereFace is the
//! same head with normalised weights (‖W_j‖ = 1).
//!
//! Both papers start from a large λ (almost plain softmax) and anneal it as training goes on
//! (L-Softmax Sec. 5: "we start with a very large λ and gradually reduce it"); SphereFace's released
//! solver sets λ = max(λ_min, base·(1 + γ·iteration)^(−power)) with base 1000, γ 0.12, power 1 and
//! λ_min 5. With `lambda_base` set, [`LSoftmax::set_step`] applies that schedule and `lambda` is
//! its floor λ_min; without it λ stays `lambda`.

use burn::module::Param;
use burn::prelude::*;

use super::{class_weights, cosines, psi, target_mask};

#[derive(Config, Debug)]
pub struct LSoftmaxConfig {
    pub features: usize,
    pub classes: usize,
    /// The integer angular margin m (the papers use 2–4).
    #[config(default = 4)]
    pub margin: u32,
    /// λ of the blend; 0 is the pure margin. With `lambda_base`, the floor λ_min of the annealing.
    #[config(default = 0.0)]
    pub lambda: f64,
    /// λ at iteration 0 of the annealing (SphereFace: 1000); `None` keeps λ fixed at `lambda`.
    #[config(default = "None")]
    pub lambda_base: Option<f64>,
    /// γ of the annealing (SphereFace: 0.12).
    #[config(default = 0.12)]
    pub lambda_gamma: f64,
    /// The power of the annealing (SphereFace: 1).
    #[config(default = 1.0)]
    pub lambda_power: f64,
    /// SphereFace's normalised weights.
    #[config(default = false)]
    pub normalize_weights: bool,
}

impl LSoftmaxConfig {
    /// A-Softmax as in SphereFace: normalised weights, m = 4.
    pub fn sphereface(features: usize, classes: usize) -> Self {
        Self::new(features, classes).with_normalize_weights(true)
    }

    pub fn init<B: Backend>(&self, device: &B::Device) -> LSoftmax<B> {
        LSoftmax {
            weight: class_weights(self.features, self.classes, device),
            margin: self.margin,
            lambda: self.lambda_base.map_or(self.lambda, |base| base.max(self.lambda)),
            floor: self.lambda,
            base: self.lambda_base,
            gamma: self.lambda_gamma,
            power: self.lambda_power,
            normalize_weights: self.normalize_weights,
        }
    }
}

#[derive(Module, Debug)]
pub struct LSoftmax<B: Backend> {
    pub weight: Param<Tensor<B, 2>>,
    #[module(skip)]
    margin: u32,
    #[module(skip)]
    lambda: f64,
    #[module(skip)]
    floor: f64,
    #[module(skip)]
    base: Option<f64>,
    #[module(skip)]
    gamma: f64,
    #[module(skip)]
    power: f64,
    #[module(skip)]
    normalize_weights: bool,
}

impl<B: Backend> LSoftmax<B> {
    /// λ for optimizer step `iteration` (0-based): max(λ_min, base·(1 + γ·iteration)^(−power)), or
    /// the fixed λ.
    ///
    /// ```
    /// use burn::backend::NdArray;
    /// use kiln_losses::margin::LSoftmaxConfig;
    /// let mut head = LSoftmaxConfig::sphereface(3, 10).with_lambda(5.0).with_lambda_base(Some(1000.0))
    ///     .init::<NdArray>(&Default::default());
    /// // SphereFace's solver: 1000 at the start, 1000 / (1 + 0.12·100) ≈ 76.9 after 100 steps, then the floor.
    /// assert_eq!(head.lambda_at(0), 1000.0);
    /// assert!((head.lambda_at(100) - 1000.0 / 13.0).abs() < 1e-9);
    /// assert_eq!(head.lambda_at(100_000), 5.0);
    /// head.set_step(100);
    /// assert!((head.lambda() - 1000.0 / 13.0).abs() < 1e-9);
    /// ```
    pub fn lambda_at(&self, iteration: usize) -> f64 {
        match self.base {
            Some(base) => (base * (1.0 + self.gamma * iteration as f64).powf(-self.power)).max(self.floor),
            None => self.lambda,
        }
    }

    /// Sets λ for the optimizer step about to be taken.
    pub fn set_step(&mut self, iteration: usize) {
        self.lambda = self.lambda_at(iteration);
    }

    /// The λ the next forward pass blends with.
    pub fn lambda(&self) -> f64 {
        self.lambda
    }

    pub fn forward(&self, features: Tensor<B, 2>, targets: Tensor<B, 1, Int>) -> Tensor<B, 2> {
        let (cos, feature_norm, weight_norm) = cosines(features, self.weight.val());
        let norms = if self.normalize_weights { feature_norm } else { feature_norm * weight_norm };
        let target = (cos.clone() * self.lambda + psi(cos.clone(), self.margin)) / (1.0 + self.lambda);
        let mask = target_mask(targets, cos.dims()[1]);
        (cos.clone() + (target - cos) * mask) * norms
    }

    /// Margin-free logits ‖W_j‖‖x‖ cos θ_j (‖x‖ cos θ_j for SphereFace).
    pub fn logits(&self, features: Tensor<B, 2>) -> Tensor<B, 2> {
        let (cos, feature_norm, weight_norm) = cosines(features, self.weight.val());
        if self.normalize_weights {
            cos * feature_norm
        } else {
            cos * feature_norm * weight_norm
        }
    }
}
