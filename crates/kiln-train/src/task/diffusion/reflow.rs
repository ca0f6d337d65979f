//! Reflow (Liu, Gong & Liu 2022, §2.2 and Algorithm 1): a rectified flow trained again, this
//! time on the couplings `(z, ODE(z))` its teacher draws — each noise paired with the sample the
//! teacher's ODE carries it to — instead of independent noise and data. The new flow's paths
//! are straighter, so few Euler steps (one) land close to where many would.

use std::path::Path;

use burn::module::Module;
use burn::prelude::*;
use kiln_generative::network::{MlpDenoiser, MlpDenoiserConfig, UNet, UNetConfig};
use kiln_generative::objective::Process;
use kiln_generative::sampler::{OdeSolver, RectifiedFlow, Sampler};
use kiln_generative::{sample, Denoiser, GaussianNoise};

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

/// What the student trains on, which the teacher must have trained on too.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum StudentData {
    /// Points of this many coordinates.
    Points(usize),
    /// Images of `[C, H, W]`.
    Images([usize; 3]),
}

/// The teacher's network, as its `[model]` describes it.
enum TeacherNet {
    Mlp(MlpDenoiserConfig),
    UNet(UNetConfig),
}

/// The trained rectified flow a reflow learns from.
pub struct Teacher {
    run: TrainedRun,
    pub objective: Objective,
    net: TeacherNet,
    /// Whether the teacher is sampled from its EMA, as its own evaluations were.
    ema: bool,
}

impl Teacher {
    /// The run at `path` (or the newest in it), a rectified flow on the student's kind of data.
    pub fn open(path: &Path, data: StudentData) -> Result<Self> {
        let key = "[loss] reflow";
        let purpose = "reflow trains again on the noise–sample pairs of a trained rectified flow on the same \
                       data; train that first (e.g. `kiln run experiments/moons-rf.toml` or `experiments/mnist-rf.toml`)";
        let run = TrainedRun::open(path, key, purpose)?;
        let (dataset, needed) = match data {
            StudentData::Points(_) => ("points", "a rectified flow on points ([loss] name = \"flow_matching\")"),
            StudentData::Images(_) => {
                ("mnist", "an unconditional rectified flow on digits ([loss] name = \"flow_matching\")")
            }
        };
        if run.cfg.task.name != "diffusion" || run.cfg.data.dataset != dataset {
            return Err(run.wrong_kind(key, needed));
        }
        let objective = Objective::from_section(&run.cfg.loss).map_err(|_| run.wrong_kind(key, needed))?;
        if objective.process != Process::Straight {
            return Err(run.wrong_kind(key, needed));
        }
        let model = &run.cfg.model;
        let net = match data {
            StudentData::Points(dim) => models::mlp_config(&model.name, &model.params, dim, 0).map(TeacherNet::Mlp),
            StudentData::Images(shape) => {
                models::unet_config(&model.name, &model.params, shape, super::DIGIT_CLASSES).map(TeacherNet::UNet)
            }
        }
        .map_err(|_| run.wrong_kind(key, needed))?;
        if matches!(&net, TeacherNet::UNet(c) if c.classes > 0) {
            return Err(run.wrong_kind(key, needed));
        }
        let ema = sampling_section(&run.cfg, &objective).ema_decay > 0.0;
        Ok(Self { run, objective, net, ema })
    }

    fn weights(&self) -> &'static str {
        if self.ema {
            "ema"
        } else {
            "net"
        }
    }

    /// The teacher's MLP (a points teacher) with its trained (or EMA) weights.
    pub fn mlp<B: Backend>(&self, device: &B::Device) -> Result<MlpDenoiser<B>> {
        match &self.net {
            TeacherNet::Mlp(config) => self.run.checkpoint.module(self.weights(), config.init::<B>(device)),
            TeacherNet::UNet(_) => Err(self.run.wrong_kind("[loss] reflow", "a rectified flow on points")),
        }
    }

    /// The teacher's UNet (a digits teacher) with its trained (or EMA) weights.
    pub fn unet<B: Backend>(&self, device: &B::Device) -> Result<UNet<B>> {
        match &self.net {
            TeacherNet::UNet(config) => self.run.checkpoint.module(self.weights(), config.init::<B>(device)),
            TeacherNet::Mlp(_) => Err(self.run.wrong_kind("[loss] reflow", "a rectified flow on digits")),
        }
    }

    /// `student` (built from the reflow's `[model]`) with the teacher's weights: Liu et al. start
    /// each k-rectified flow from the one before.
    pub fn initialize<B: Backend, M: Module<B>>(&self, student: M) -> Result<M> {
        self.run.checkpoint.module(self.weights(), student).map_err(|e| {
            KilnError::Unsupported(format!(
                "[loss] reflow: the student starts from the teacher's weights, so its [model] must be the teacher's ({}): {e}",
                self.run.dir.display()
            ))
        })
    }

    /// `settings.pairs` couplings: noise from `seed` carried by `settings.steps` Heun steps of
    /// the teacher's ODE through `denoiser` (the teacher read as it samples), `chunk` rows at a
    /// time, each row shaped as `batch` after its first entry. Returns (noise, samples), row for
    /// row; the first chunk draws from `seed` itself.
    pub fn couplings<B: Backend, const D: usize, M: Denoiser<B, D>>(
        &self,
        denoiser: &M,
        settings: &ReflowSettings,
        (batch, chunk): ([usize; D], usize),
        seed: u64,
        device: &B::Device,
    ) -> (Vec<f32>, Vec<f32>) {
        let mut flow = RectifiedFlow::<B, D>::new(OdeSolver::Heun);
        flow.set_timesteps(settings.steps);
        let values = |x: Tensor<B, D>| x.into_data().convert::<f32>().to_vec::<f32>().expect("float samples");
        let (mut noise, mut samples) = (Vec::new(), Vec::new());
        for (k, start) in (0..settings.pairs).step_by(chunk.max(1)).enumerate() {
            let mut shape = batch;
            shape[0] = chunk.max(1).min(settings.pairs - start);
            let seed = seed ^ (k as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            // The sampler starts from the first draw of the seed's noise (σ = 1 at t = 1) and
            // draws no more: the ODE is deterministic.
            noise.extend(values(GaussianNoise::new(seed).tensor::<B, D>(shape, device)));
            let drawn = sample(denoiser, &mut flow, shape, &mut GaussianNoise::new(seed), device, |_, _| {});
            samples.extend(values(drawn.x));
        }
        (noise, samples)
    }
}
