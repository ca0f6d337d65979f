//! A discrete VP schedule: the ᾱ_t a DDPM is trained and sampled on.

use crate::level::NoiseLevel;

/// β_t and ᾱ_t for t = 0 … T − 1 (ᾱ_t = Π_{s ≤ t}(1 − β_s)).
#[derive(Debug, Clone, PartialEq)]
pub struct DiscreteSchedule {
    pub betas: Vec<f64>,
    pub alphas_cumprod: Vec<f64>,
}

impl DiscreteSchedule {
    pub fn from_betas(betas: Vec<f64>) -> Self {
        let alphas_cumprod = betas
            .iter()
            .scan(1.0, |product, beta| {
                *product *= 1.0 - beta;
                Some(*product)
            })
            .collect();
        Self { betas, alphas_cumprod }
    }

    /// T, the training steps.
    pub fn len(&self) -> usize {
        self.betas.len()
    }

    pub fn is_empty(&self) -> bool {
        self.betas.is_empty()
    }

    /// ᾱ_t, and 1 before the first step (t = −1: clean data).
    pub fn alpha_bar(&self, t: isize) -> f64 {
        if t < 0 {
            1.0
        } else {
            self.alphas_cumprod[t as usize]
        }
    }

    pub fn level(&self, t: usize) -> NoiseLevel {
        NoiseLevel::from_alpha_bar(self.alphas_cumprod[t])
    }

    /// `n` sampling timesteps, last first, evenly spaced from 0 by ⌊T/n⌋ (diffusers' "leading"
    /// spacing, the DDIM paper's linear sub-sequence): 980, 960, …, 0 for T = 1000, n = 50.
    pub fn leading_timesteps(&self, n: usize) -> Vec<usize> {
        let ratio = (self.len() / n.max(1)).max(1);
        (0..n.min(self.len())).rev().map(|i| i * ratio).collect()
    }
}
