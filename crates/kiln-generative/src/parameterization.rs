//! What a network's raw output means, and how its input is scaled: one formula for every
//! parameterisation (Karras et al. 2022, Table 1 and §5).
//!
//! Each parameterisation is an affine read-out of the clean-data estimate, `x₀ = a·x + b·F`,
//! where `F` is the network's output at the point `x = α·x₀ + σ·ε`. Training regresses `F` on
//! `(x₀ − a·x)/b`, which is the familiar target of each: ε for ε-prediction (Ho et al. 2020), v
//! for v-prediction (Salimans & Ho 2022), `ε − x₀` for a flow's velocity (Liu et al. 2022), EDM's
//! preconditioned target (its loss weight λ(σ) = 1/c_out² makes the loss a plain mean square).

use serde::{Deserialize, Serialize};

use crate::level::NoiseLevel;

/// What the network predicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Parameterization {
    /// The noise ε (Ho et al. 2020).
    Epsilon,
    /// The clean data x₀.
    Sample,
    /// `v = α̃·ε − σ̃·x₀` with (α̃, σ̃) the level scaled to α̃² + σ̃² = 1 (Salimans & Ho 2022).
    V,
    /// The velocity `ε − x₀` of the straight path `x_t = (1 − t)·x₀ + t·ε` (rectified flow).
    Velocity,
    /// EDM's `D = c_skip·x/α + c_out·F` with c_skip = σ_d²/(σ² + σ_d²), c_out = σ·σ_d/√(σ² + σ_d²)
    /// at σ = σ/α (Karras et al. 2022, eq. 7 and Table 1).
    Edm,
}

/// How a network sees a level: its parameterisation and the data's standard deviation σ_d, which
/// sets the input scale `c_in` and EDM's skip weights.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Preconditioning {
    pub parameterization: Parameterization,
    pub sigma_data: f64,
}

/// The noise-to-signal ratios past which the network's noise input is held: beyond them a level
/// looks like pure noise or clean data, and ln σ must stay finite at α = 0 (rectified flow's t = 1).
const LN_SIGMA_RANGE: f64 = 12.0;

impl Preconditioning {
    pub fn new(parameterization: Parameterization, sigma_data: f64) -> Self {
        Self { parameterization, sigma_data }
    }

    /// `(a, b)` of `x₀ = a·x + b·F` at `level`.
    pub fn readout(&self, level: NoiseLevel) -> (f64, f64) {
        let NoiseLevel { alpha, sigma } = level;
        match self.parameterization {
            Parameterization::Epsilon => (1.0 / alpha, -sigma / alpha),
            Parameterization::Sample => (0.0, 1.0),
            Parameterization::V => {
                let r2 = alpha * alpha + sigma * sigma;
                (alpha / r2, -sigma / r2.sqrt())
            }
            Parameterization::Velocity => {
                let r = alpha + sigma;
                (1.0 / r, -sigma / r)
            }
            Parameterization::Edm => {
                let (s, d) = (level.sigma_ve(), self.sigma_data);
                let c_skip = d * d / (s * s + d * d);
                let c_out = s * d / (s * s + d * d).sqrt();
                (c_skip / alpha, c_out)
            }
        }
    }

    /// The factor the network's input `x` is multiplied by: `c_in = 1/√(σ² + σ_d²)` of the
    /// equivalent VE point `x/α`, written as `1/√(σ² + α²σ_d²)` so it holds at α = 0. With σ_d = 1
    /// a VP point goes in unchanged.
    pub fn c_in(&self, level: NoiseLevel) -> f64 {
        let NoiseLevel { alpha, sigma } = level;
        1.0 / (sigma * sigma + alpha * alpha * self.sigma_data * self.sigma_data).sqrt()
    }

    /// The network's noise input: `c_noise = ¼·ln(σ/α)` (EDM's), so that a network trained under
    /// one process can be asked at the levels of another.
    pub fn c_noise(&self, level: NoiseLevel) -> f64 {
        let ln = (level.sigma.ln() - level.alpha.ln()).clamp(-LN_SIGMA_RANGE, LN_SIGMA_RANGE);
        0.25 * ln
    }

    /// The regression target of `F` for a clean `x0` noised to `x` at `level`: `(x₀ − a·x)/b`,
    /// element by element.
    pub fn target(&self, x0: f64, x: f64, level: NoiseLevel) -> f64 {
        let (a, b) = self.readout(level);
        (x0 - a * x) / b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // x = α·x₀ + σ·ε with x₀ = 0.7, ε = −1.3 at a few levels of each process.
    const X0: f64 = 0.7;
    const EPS: f64 = -1.3;

    fn point(level: NoiseLevel) -> f64 {
        level.alpha * X0 + level.sigma * EPS
    }

    #[test]
    fn targets_are_each_parameterisations_textbook_target() {
        let vp = NoiseLevel::from_alpha_bar(0.36);
        let (a, s) = (vp.alpha, vp.sigma);
        let x = point(vp);
        let p = |kind| Preconditioning::new(kind, 1.0);
        assert!((p(Parameterization::Epsilon).target(X0, x, vp) - EPS).abs() < 1e-12);
        assert!((p(Parameterization::Sample).target(X0, x, vp) - X0).abs() < 1e-12);
        // v = α ε − σ x₀ on a VP level (Salimans & Ho 2022, §4).
        assert!((p(Parameterization::V).target(X0, x, vp) - (a * EPS - s * X0)).abs() < 1e-12);
        // Rectified flow at t = 0.3: the velocity is ε − x₀.
        let rf = NoiseLevel::new(0.7, 0.3);
        assert!((p(Parameterization::Velocity).target(X0, point(rf), rf) - (EPS - X0)).abs() < 1e-12);
    }

    #[test]
    fn readout_inverts_the_target() {
        let levels = [NoiseLevel::from_alpha_bar(0.9), NoiseLevel::exploding(3.0), NoiseLevel::new(0.25, 0.75)];
        for kind in [
            Parameterization::Epsilon,
            Parameterization::Sample,
            Parameterization::V,
            Parameterization::Velocity,
            Parameterization::Edm,
        ] {
            for level in levels {
                let p = Preconditioning::new(kind, 0.5);
                let x = point(level);
                let (a, b) = p.readout(level);
                let f = p.target(X0, x, level);
                assert!((a * x + b * f - X0).abs() < 1e-12, "{kind:?} at {level:?}");
            }
        }
    }

    #[test]
    fn edm_coefficients_match_karras_table_1() {
        // σ = 1, σ_d = 0.5: c_skip = 0.25/1.25 = 0.2, c_out = 0.5/√1.25, c_in = 1/√1.25, c_noise = 0.
        let p = Preconditioning::new(Parameterization::Edm, 0.5);
        let level = NoiseLevel::exploding(1.0);
        let (c_skip, c_out) = p.readout(level);
        assert!((c_skip - 0.2).abs() < 1e-12);
        assert!((c_out - 0.5 / 1.25f64.sqrt()).abs() < 1e-12);
        assert!((p.c_in(level) - 1.0 / 1.25f64.sqrt()).abs() < 1e-12);
        assert_eq!(p.c_noise(level), 0.0);
        // A VP point is the VE point x/α at σ/α: the same network input either way.
        let vp = NoiseLevel::from_alpha_bar(0.2);
        let ve = NoiseLevel::exploding(vp.sigma_ve());
        let x_vp = point(vp);
        assert!((p.c_in(vp) * x_vp - p.c_in(ve) * x_vp / vp.alpha).abs() < 1e-12);
        assert!((p.c_noise(vp) - p.c_noise(ve)).abs() < 1e-12);
    }
}
