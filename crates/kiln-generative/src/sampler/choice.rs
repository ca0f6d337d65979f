//! A sampler picked by name, as `kiln sample --sampler` and an experiment's `[sampling]` name
//! them, built for the process the model was trained under.

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use super::{Churn, Ddim, Ddpm, DdpmVariance, Edm, OdeSolver, RectifiedFlow, Sampler, ScoreSde, SdeProcess, SdeSolver};
use crate::error::GenerativeError;
use crate::objective::Process;
use crate::schedule::BetaSchedule;

/// The samplers by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SamplerKind {
    /// DDPM ancestral, fixed-small variance.
    Ddpm,
    /// DDPM ancestral, fixed-large variance (σ² = β).
    DdpmLarge,
    Ddim,
    /// The reverse SDE by Euler–Maruyama.
    Em,
    /// Predictor–corrector (Euler–Maruyama and Langevin).
    Pc,
    /// The probability-flow ODE by Euler.
    OdeEuler,
    /// The probability-flow ODE by Heun.
    OdeHeun,
    /// EDM's Heun (Karras et al. Algorithm 2).
    Edm,
    /// EDM's σ schedule with Euler steps.
    EdmEuler,
    /// Rectified flow, Euler.
    Rf,
    /// Rectified flow, Heun.
    RfHeun,
}

impl SamplerKind {
    /// Every sampler, in the order of [`SamplerKind::NAMES`].
    pub const ALL: [SamplerKind; 11] = [
        Self::Ddpm,
        Self::DdpmLarge,
        Self::Ddim,
        Self::Em,
        Self::Pc,
        Self::OdeEuler,
        Self::OdeHeun,
        Self::Edm,
        Self::EdmEuler,
        Self::Rf,
        Self::RfHeun,
    ];

    pub const NAMES: [&'static str; 11] =
        ["ddpm", "ddpm-large", "ddim", "em", "pc", "ode-euler", "ode-heun", "edm", "edm-euler", "rf", "rf-heun"];

    pub fn parse(name: &str) -> Result<Self, GenerativeError> {
        let i = Self::NAMES.iter().position(|n| *n == name).ok_or_else(|| {
            GenerativeError::Setting(format!("unknown sampler '{name}' (known: {})", Self::NAMES.join(", ")))
        })?;
        Ok(Self::ALL[i])
    }

    pub fn name(self) -> &'static str {
        Self::NAMES[Self::ALL.iter().position(|k| *k == self).expect("every kind is named")]
    }
}

/// A sampler and its settings.
#[derive(Debug, Clone, PartialEq)]
pub struct SamplerChoice {
    pub kind: SamplerKind,
    pub steps: usize,
    /// DDIM's η.
    pub eta: f64,
    /// EDM's S_churn (0: deterministic).
    pub churn: f64,
    /// The predictor–corrector's Langevin signal-to-noise ratio.
    pub snr: f64,
}

impl SamplerChoice {
    pub fn new(kind: SamplerKind, steps: usize) -> Self {
        Self { kind, steps, eta: 0.0, churn: 0.0, snr: 0.16 }
    }

    /// The sampler on `process`'s levels: DDPM and DDIM on a discrete schedule (the model's own,
    /// else Ho et al.'s linear one), the SDE samplers on the VP SDE for a VP model and on the VE
    /// SDE over the trained σ range otherwise, EDM over that range, rectified flow on its path.
    pub fn build<B: Backend, const D: usize>(
        &self,
        process: &Process,
    ) -> Result<Box<dyn Sampler<B, D>>, GenerativeError> {
        if self.steps == 0 {
            return Err(GenerativeError::Setting("a sampler needs at least one step".into()));
        }
        let schedule = match process {
            Process::Discrete(s) => s.clone(),
            _ => BetaSchedule::linear().discretize(1000),
        };
        if matches!(self.kind, SamplerKind::Ddpm | SamplerKind::DdpmLarge | SamplerKind::Ddim)
            && self.steps > schedule.len()
        {
            return Err(GenerativeError::Setting(format!(
                "{} takes at most the schedule's {} steps, not {}",
                self.kind.name(),
                schedule.len(),
                self.steps
            )));
        }
        let (sigma_min, sigma_max) = process.sigma_range();
        let sde = match process {
            Process::Discrete(_) => SdeProcess::vp(),
            _ => SdeProcess::Ve { sigma_min, sigma_max },
        };
        let edm = |solver| Edm::<B, D>::with_range(sigma_min, sigma_max, solver);
        let mut sampler: Box<dyn Sampler<B, D>> = match self.kind {
            SamplerKind::Ddpm => Box::new(Ddpm::new(schedule, DdpmVariance::FixedSmall)),
            SamplerKind::DdpmLarge => Box::new(Ddpm::new(schedule, DdpmVariance::FixedLarge)),
            SamplerKind::Ddim => Box::new(Ddim::try_new(schedule, self.eta)?),
            SamplerKind::Em => Box::new(ScoreSde::<B, D>::new(sde, SdeSolver::EulerMaruyama)),
            SamplerKind::Pc => Box::new(ScoreSde::<B, D>::new(sde, SdeSolver::PredictorCorrector { snr: self.snr })),
            SamplerKind::OdeEuler => Box::new(ScoreSde::<B, D>::new(sde, SdeSolver::Ode(OdeSolver::Euler))),
            SamplerKind::OdeHeun => Box::new(ScoreSde::<B, D>::new(sde, SdeSolver::Ode(OdeSolver::Heun))),
            SamplerKind::Edm | SamplerKind::EdmEuler => {
                let solver = if self.kind == SamplerKind::Edm { OdeSolver::Heun } else { OdeSolver::Euler };
                let churn = Churn { churn: self.churn, ..Churn::none() };
                Box::new(edm(solver).with_churn(churn))
            }
            SamplerKind::Rf => Box::new(RectifiedFlow::<B, D>::new(OdeSolver::Euler)),
            SamplerKind::RfHeun => Box::new(RectifiedFlow::<B, D>::new(OdeSolver::Heun)),
        };
        sampler.set_timesteps(self.steps);
        Ok(sampler)
    }
}
