//! The β schedules of DDPM (Ho et al. 2020) and of improved DDPM (Nichol & Dhariwal 2021).

use serde::{Deserialize, Serialize};

use super::DiscreteSchedule;

/// How β_t grows over the training steps.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "snake_case")]
pub enum BetaSchedule {
    /// β evenly spaced from `start` to `end` (Ho et al. 2020: 1e-4 to 0.02 over 1,000 steps).
    Linear { start: f64, end: f64 },
    /// ᾱ(t) = f(t)/f(0), f(t) = cos²((t/T + s)/(1 + s)·π/2), each β_t = 1 − ᾱ_t/ᾱ_{t−1} clipped
    /// at `max_beta` (Nichol & Dhariwal 2021, eq. 17: s = 0.008, 0.999).
    Cosine { s: f64, max_beta: f64 },
}

impl BetaSchedule {
    /// Ho et al.'s: 1e-4 to 0.02.
    pub fn linear() -> Self {
        BetaSchedule::Linear { start: 1e-4, end: 0.02 }
    }

    /// Nichol & Dhariwal's: s = 0.008, β clipped at 0.999.
    pub fn cosine() -> Self {
        BetaSchedule::Cosine { s: 0.008, max_beta: 0.999 }
    }

    /// β_0 … β_{T−1} for `steps` = T training steps (index t here is diffusers' timestep t).
    pub fn betas(&self, steps: usize) -> Vec<f64> {
        match *self {
            BetaSchedule::Linear { start, end } => (0..steps)
                .map(|t| if steps == 1 { start } else { start + (end - start) * t as f64 / (steps - 1) as f64 })
                .collect(),
            BetaSchedule::Cosine { s, max_beta } => {
                let f = |t: f64| ((t + s) / (1.0 + s) * std::f64::consts::FRAC_PI_2).cos().powi(2);
                (0..steps)
                    .map(|t| {
                        let (t1, t2) = (t as f64 / steps as f64, (t + 1) as f64 / steps as f64);
                        (1.0 - f(t2) / f(t1)).min(max_beta)
                    })
                    .collect()
            }
        }
    }

    pub fn discretize(&self, steps: usize) -> DiscreteSchedule {
        DiscreteSchedule::from_betas(self.betas(steps))
    }
}
