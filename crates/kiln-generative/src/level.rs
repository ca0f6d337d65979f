//! Where on a noising process a point sits.

/// `x = α·x₀ + σ·ε`, ε ~ N(0, I): the scale of the data and of the noise at one step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NoiseLevel {
    pub alpha: f64,
    pub sigma: f64,
}

impl NoiseLevel {
    pub fn new(alpha: f64, sigma: f64) -> Self {
        Self { alpha, sigma }
    }

    /// A variance-preserving level from ᾱ: α = √ᾱ, σ = √(1 − ᾱ).
    pub fn from_alpha_bar(alpha_bar: f64) -> Self {
        Self { alpha: alpha_bar.sqrt(), sigma: (1.0 - alpha_bar).sqrt() }
    }

    /// A variance-exploding level (α = 1), as the VE SDE and EDM sample.
    pub fn exploding(sigma: f64) -> Self {
        Self { alpha: 1.0, sigma }
    }

    /// The noise-to-signal ratio σ/α: the σ of the equivalent variance-exploding point `x/α`,
    /// which is all a network needs to know about the level (Karras et al. 2022, §2).
    pub fn sigma_ve(&self) -> f64 {
        self.sigma / self.alpha
    }
}
