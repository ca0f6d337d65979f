//! Reflow (Liu, Gong & Liu 2022, §2.2 and Algorithm 1): a rectified flow trained again, this
//! time on the couplings `(z, ODE(z))` its teacher draws — each noise paired with the sample the
//! teacher's ODE carries it to — instead of independent noise and data. The new flow's paths
//! are straighter, so few Euler steps (one) land close to where many would.

use std::path::Path;

use burn::prelude::*;
use kiln_data::Points;
use kiln_generative::network::{MlpDenoiser, MlpDenoiserConfig};
use kiln_generative::objective::Process;
use kiln_generative::sampler::{OdeSolver, RectifiedFlow, Sampler};
use kiln_generative::{sample, GaussianNoise, Preconditioned};

use super::objective::Objective;
use super::trained_run::TrainedRun;
use super::{models, sampling_section};
use crate::error::{KilnError, Result};

/// `[loss] reflow = "<run>"` and how its couplings are drawn.
#[derive(Debug, Clone, PartialEq)]
pub struct ReflowSettings {
    pub teacher: String,
    /// Heun steps of the teacher's ODE per coupling.
    pub steps: usize,
    pub pairs: usize,
}

/// The trained rectified flow a reflow learns from.
pub struct Teacher {
    run: TrainedRun,
    pub objective: Objective,
    config: MlpDenoiserConfig,
    /// Whether the teacher is sampled from its EMA, as its own evaluations were.
    ema: bool,
}

/// Noise rows and the teacher's samples from them, row for row.
pub struct Couplings {
    pub noise: Vec<f32>,
    pub samples: Points,
}

impl Teacher {
    /// The run at `path` (or the newest in it) for points of `dim` coordinates.
    pub fn open(path: &Path, dim: usize) -> Result<Self> {
        let key = "[loss] reflow";
        let purpose = "reflow trains again on the noise–sample pairs of a trained rectified flow on the same \
                       points; train that first (e.g. `kiln run experiments/moons-rf.toml`)";
        let run = TrainedRun::open(path, key, purpose)?;
        let needed = "a rectified flow on points ([loss] name = \"flow_matching\")";
        if run.cfg.task.name != "diffusion" || run.cfg.data.dataset != "points" {
            return Err(run.wrong_kind(key, needed));
        }
        let objective = Objective::from_section(&run.cfg.loss).map_err(|_| run.wrong_kind(key, needed))?;
        if objective.process != Process::Straight {
            return Err(run.wrong_kind(key, needed));
        }
        let config = models::mlp_config(&run.cfg.model.name, &run.cfg.model.params, dim, 0)
            .map_err(|_| run.wrong_kind(key, needed))?;
        let ema = sampling_section(&run.cfg, &objective).ema_decay > 0.0;
        Ok(Self { run, objective, config, ema })
    }

    /// The teacher's network with its trained (or EMA) weights.
    pub fn network<B: Backend>(&self, device: &B::Device) -> Result<MlpDenoiser<B>> {
        self.run.checkpoint.module(if self.ema { "ema" } else { "net" }, self.config.init::<B>(device))
    }

    /// `student` (built from the reflow's `[model]`) with the teacher's weights: Liu et al. start
    /// each k-rectified flow from the one before.
    pub fn initialize<B: Backend>(&self, student: MlpDenoiser<B>) -> Result<MlpDenoiser<B>> {
        self.run.checkpoint.module(if self.ema { "ema" } else { "net" }, student).map_err(|e| {
            KilnError::Unsupported(format!(
                "[loss] reflow: the student starts from the teacher's weights, so its [model] must be the teacher's ({}): {e}",
                self.run.dir.display()
            ))
        })
    }

    /// `pairs` couplings: noise from `seed` carried by `steps` Heun steps of the teacher's ODE.
    pub fn couplings<B: Backend>(&self, settings: &ReflowSettings, seed: u64, device: &B::Device) -> Result<Couplings> {
        let network = self.network::<B>(device)?;
        let dim = self.config.features;
        let shape = [settings.pairs, dim];
        let mut flow = RectifiedFlow::<B, 2>::new(OdeSolver::Heun);
        flow.set_timesteps(settings.steps);
        // The sampler starts from the first draw of the seed's noise (σ = 1 at t = 1) and draws
        // no more: the ODE is deterministic.
        let noise = GaussianNoise::new(seed).tensor::<B, 2>(shape, device);
        let denoiser = Preconditioned::new(&network, self.objective.preconditioning);
        let drawn = sample(&denoiser, &mut flow, shape, &mut GaussianNoise::new(seed), device, |_, _| {});
        let values = |x: Tensor<B, 2>| x.into_data().convert::<f32>().to_vec::<f32>().expect("float points");
        Ok(Couplings { noise: values(noise), samples: Points { dim, values: values(drawn.x) } })
    }
}
