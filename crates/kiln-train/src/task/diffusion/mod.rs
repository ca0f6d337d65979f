//! Diffusion and flow models: a denoiser trained under one noising process (DDPM, EDM, the VE
//! SDE, rectified flow) and evaluated by sampling — any sampler of kiln-generative, scored
//! against held-out data; `kiln sample` draws from a trained run.

pub mod data;
mod grid;
mod guide;
mod images;
pub mod judge;
pub mod models;
pub mod noisy_classification;
pub mod objective;
mod points;
mod reflow;
mod scatter;
mod trained_run;

use std::marker::PhantomData;

use burn::module::{AutodiffModule, Module};
use burn::prelude::*;
use burn::tensor::backend::AutodiffBackend;
use kiln_generative::sampler::{Sampler, SamplerChoice, SamplerKind};
use kiln_generative::{Clipped, Preconditioned};

pub use data::{DiffusionData, ImageData, PointData};
pub use images::ImageDiffusion;
pub use noisy_classification::NoisyClassification;
use objective::Objective;
pub use points::PointDiffusion;

use super::{SectionProblem, TaskEntry, TaskJob};
use crate::checkpoint::{CheckpointReader, CheckpointWriter};
use crate::config::{ExperimentConfig, ParamProblem, SamplerSettings, SamplingSection};
use crate::error::{KilnError, Result};
use crate::optimizer::AnyOptimizer;

pub const ENTRY: TaskEntry = TaskEntry {
    name: "diffusion",
    summary: "diffusion and flow models (DDPM, EDM, VE SDE, rectified flow) on points or digits, evaluated by sampling; kiln sample",
    check,
};

/// MNIST's classes, which a class-conditional UNet embeds.
const DIGIT_CLASSES: usize = 10;

fn check(cfg: &ExperimentConfig) -> std::result::Result<(), SectionProblem> {
    let at = |section, key: &str, message: String| {
        SectionProblem::new(section, ParamProblem { key: Some(key.into()), message })
    };
    let d = &cfg.data;
    if !data::DATASETS.contains(&d.dataset.as_str()) {
        return Err(at("data", "dataset", format!("unknown dataset '{}' in [data] for diffusion (known: points: a folder of train.csv, and test.csv to score samples against; mnist: digits in IDX files)", d.dataset)));
    }
    let images = d.dataset == "mnist";
    super::refuse_text_keys(cfg)?;
    if d.augment_shift != 0 || !d.eval_sizes.is_empty() {
        return Err(at(
            "data",
            "augment_shift",
            "augment_shift and eval_sizes are classification settings; diffusion takes neither".into(),
        ));
    }
    let classes = if images {
        let config = models::unet_config(&cfg.model.name, &cfg.model.params, [1, 28, 28], DIGIT_CLASSES)
            .map_err(|p| SectionProblem::new("model", p))?;
        config.classes
    } else {
        models::mlp_config(&cfg.model.name, &cfg.model.params, 2, 0).map_err(|p| SectionProblem::new("model", p))?;
        0
    };
    let objective = Objective::from_section(&cfg.loss).map_err(|p| SectionProblem::new("loss", p))?;
    if objective.reflow.is_some() && classes > 0 {
        return Err(at(
            "model",
            "num_classes",
            "a reflow's couplings are unconditional (noise to the teacher's sample); set num_classes = 0".into(),
        ));
    }
    if objective.cond_dropout > 0.0 && classes == 0 {
        return Err(at(
            "loss",
            "cond_dropout",
            if images {
                "cond_dropout trains a class-conditional model; set [model] num_classes = 10".into()
            } else {
                "cond_dropout trains a class-conditional model; points carry no classes".into()
            },
        ));
    }
    if !cfg.metrics.names.is_empty() {
        return Err(at("metrics", "names", "diffusion reports loss and nfe, with mmd and swd on points (straightness for rectified flow) and fd, accuracy and diversity on digits with a judge; it takes no [metrics] names".into()));
    }
    let sampling = sampling_section(cfg, &objective);
    for (name, settings) in std::iter::once(("".to_string(), sampling.settings())).chain(sampling.compare.clone()) {
        let key = if name.is_empty() { "sampler".to_string() } else { format!("compare.{name}") };
        choice(&settings).map_err(|m| at("sampling", &key, m))?;
        if settings.guidance != 0.0 {
            if !images {
                return Err(at(
                    "sampling",
                    &key,
                    "guidance needs a class-conditional model; points carry no classes".into(),
                ));
            }
            if objective.cond_dropout == 0.0 {
                return Err(at("sampling", &key, "classifier-free guidance needs a model trained with [loss] cond_dropout > 0 (it never sees \"no class\" otherwise)".into()));
            }
        }
        if settings.classifier_scale != 0.0 {
            if !(settings.classifier_scale > 0.0 && settings.classifier_scale.is_finite()) {
                return Err(at(
                    "sampling",
                    &key,
                    format!("classifier_scale must be a positive number, not {}", settings.classifier_scale),
                ));
            }
            if !images || sampling.classifier.is_none() {
                return Err(at("sampling", &key, "classifier_scale guides digits with the noise-aware classifier of [sampling] classifier = \"<run>\" (train one with task noisy_classification)".into()));
            }
            // Without classifier-free guidance the classifier alone supplies the class, so the
            // model is read without its class: a conditional model must have learnt "no class".
            if classes > 0 && settings.guidance == 0.0 && objective.cond_dropout == 0.0 {
                return Err(at("sampling", &key, "classifier guidance reads a class-conditional model without its class, which needs [loss] cond_dropout > 0 (or guidance > 0 to guide both ways)".into()));
            }
        }
    }
    if sampling.classifier.is_some() && !images {
        return Err(at("sampling", "classifier", "a guidance classifier reads digits; points carry no classes".into()));
    }
    if sampling.clip_sample.is_some() && !images {
        return Err(at(
            "sampling",
            "clip_sample",
            "clip_sample clamps estimates to the pixels' range [−1, 1]; points have no fixed range".into(),
        ));
    }
    if sampling.judge.is_some() && !images {
        return Err(at("sampling", "judge", "a judge scores digits; points are scored by the MMD and SW₂".into()));
    }
    if sampling.samples < 2 {
        return Err(at(
            "sampling",
            "samples",
            "samples must be at least 2 (the MMD and the Fréchet distance compare pairs)".into(),
        ));
    }
    if !(0.0..1.0).contains(&sampling.ema_decay) {
        return Err(at("sampling", "ema_decay", format!("ema_decay must lie in [0, 1), not {}", sampling.ema_decay)));
    }
    Ok(())
}

/// `[sampling]`, or the process's own sampler when it is left out.
fn sampling_section(cfg: &ExperimentConfig, objective: &Objective) -> SamplingSection {
    cfg.sampling.clone().unwrap_or_else(|| {
        let (sampler, steps) = objective.default_sampler();
        SamplingSection {
            sampler: sampler.into(),
            steps,
            eta: 0.0,
            churn: 0.0,
            guidance: 0.0,
            classifier_scale: 0.0,
            samples: 2000,
            ema_decay: 0.999,
            clip_sample: None,
            judge: None,
            classifier: None,
            compare: Default::default(),
        }
    })
}

/// The weights samples are drawn from: the EMA, unless `ema_decay = 0` keeps none.
fn sampled_network<B: AutodiffBackend, N: AutodiffModule<B>>(
    model: &(N, N),
    sampling: &SamplingSection,
) -> N::InnerModule {
    if sampling.ema_decay > 0.0 {
        model.1.valid()
    } else {
        model.0.valid()
    }
}

/// A (network, EMA) model's checkpoint: modules `net` and `ema`, the optimizer as `net`.
fn save_pair<B: AutodiffBackend, N: AutodiffModule<B>>(
    model: &(N, N),
    optimizers: &AnyOptimizer<N, B>,
    out: &mut CheckpointWriter,
) -> Result<()> {
    out.module("net", &model.0)?;
    out.module("ema", &model.1)?;
    out.optimizer("net", optimizers)
}

/// Reads back what [`save_pair`] wrote.
fn load_pair<B: AutodiffBackend, N: AutodiffModule<B>>(
    model: (N, N),
    optimizers: AnyOptimizer<N, B>,
    from: &CheckpointReader,
    device: &B::Device,
) -> Result<((N, N), AnyOptimizer<N, B>)> {
    let net = from.module("net", model.0)?;
    let ema = from.module("ema", model.1)?;
    let optimizers = from.optimizer("net", optimizers, device)?;
    Ok(((net, ema), optimizers))
}

/// The EMA after optimizer step `step`, warmed up as diffusers' EMAModel does,
/// min(decay, (1 + t)/(10 + t)): early on the average follows the weights instead of holding on
/// to their initialisation. Decay 0 keeps no average.
fn ema_step<B: AutodiffBackend, N: Module<B>>(net: N, ema: N, decay: f64, step: usize) -> (N, N) {
    if decay == 0.0 {
        return (net, ema);
    }
    let decay = decay.min((1.0 + step as f64) / (10.0 + step as f64));
    let ema = crate::ema::ema_update(ema, &net, decay);
    (net, ema)
}

/// The sampler `settings` name (checked, not yet built).
pub fn choice(settings: &SamplerSettings) -> std::result::Result<SamplerChoice, String> {
    let kind = SamplerKind::parse(&settings.sampler).map_err(|e| e.to_string())?;
    if settings.steps == 0 {
        return Err("steps must be at least 1".into());
    }
    if !(0.0..=1.0).contains(&settings.eta) {
        return Err(format!("eta must lie in [0, 1], not {}", settings.eta));
    }
    if settings.eta != 0.0 && kind != SamplerKind::Ddim {
        return Err(format!("eta is DDIM's; {} takes none", settings.sampler));
    }
    if settings.churn != 0.0 && !matches!(kind, SamplerKind::Edm | SamplerKind::EdmEuler) {
        return Err(format!("churn is EDM's; {} takes none", settings.sampler));
    }
    if !(settings.churn >= 0.0 && settings.churn.is_finite()) {
        return Err(format!("churn must be a non-negative number, not {}", settings.churn));
    }
    let mut c = SamplerChoice::new(kind, settings.steps);
    c.eta = settings.eta;
    c.churn = settings.churn;
    Ok(c)
}

/// The sampler `settings` name, built for the objective's process.
pub(crate) fn build_sampler<B: Backend, const D: usize>(
    settings: &SamplerSettings,
    objective: &Objective,
) -> Result<Box<dyn Sampler<B, D>>> {
    let c = choice(settings).map_err(KilnError::Unsupported)?;
    c.build::<B, D>(&objective.process).map_err(|e| KilnError::Unsupported(e.to_string()))
}

/// Builds the denoiser of `[model]` and hands it, with its EMA copy, to `job`.
pub(crate) fn assemble<B: AutodiffBackend, J: TaskJob<B>>(
    cfg: &ExperimentConfig,
    data: DiffusionData,
    device: &B::Device,
    job: J,
) -> Result<J::Output> {
    let message = |p: ParamProblem| KilnError::ModelParams { model: cfg.model.name.clone(), message: p.message };
    let objective =
        Objective::from_section(&cfg.loss).map_err(|p| KilnError::Unsupported(format!("[loss]: {}", p.message)))?;
    let sampling = sampling_section(cfg, &objective);
    let (optim, seed) = (cfg.optim.clone(), cfg.experiment.seed);
    match data {
        DiffusionData::Points(data) => {
            let config = models::mlp_config(&cfg.model.name, &cfg.model.params, data.dim(), 0).map_err(message)?;
            let mut data = data;
            let (coupled_noise, teacher) = match (&objective.reflow, data.teacher.take()) {
                (Some(reflow), Some(teacher)) => {
                    let network = teacher.mlp::<B::InnerBackend>(device)?;
                    let denoiser = Preconditioned::new(&network, teacher.objective.preconditioning);
                    let dim = data.dim();
                    let batch = ([reflow.pairs, dim], reflow.pairs);
                    let (noise, samples) = teacher.couplings(&denoiser, reflow, batch, seed ^ 0xF10E, device);
                    data.train = kiln_data::Points { dim, values: samples };
                    (Some(noise), Some(teacher))
                }
                _ => (None, None),
            };
            let net = match &teacher {
                Some(teacher) => teacher.initialize(config.init::<B>(device))?,
                None => config.init::<B>(device),
            };
            let task = PointDiffusion {
                data,
                objective,
                sampling,
                optim,
                seed,
                coupled_noise,
                teacher,
                _network: PhantomData,
            };
            job.run(task, (net.clone(), net))
        }
        DiffusionData::Images(data) if cfg.task.name == noisy_classification::ENTRY.name => {
            let config =
                models::noisy_classifier_config(&cfg.model.name, &cfg.model.params, data.shape(), DIGIT_CLASSES)
                    .map_err(message)?;
            let task = NoisyClassification { data, objective, optim, seed };
            job.run(task, config.init::<B>(device))
        }
        DiffusionData::Images(data) => {
            let config = models::unet_config(&cfg.model.name, &cfg.model.params, data.shape(), DIGIT_CLASSES)
                .map_err(message)?;
            let mut data = data;
            let judge = data.judge.take();
            if let Some(judge) = &judge {
                // Read once before training, so a judge that cannot read digits costs no training.
                judge.read_dataset::<B>(&data.test, &[0, 1], device)?;
            }
            let teacher = data.teacher.take();
            let (coupled, net) = match (&objective.reflow, &teacher) {
                (Some(reflow), Some(teacher)) => {
                    let network = teacher.unet::<B::InnerBackend>(device)?;
                    let read = Preconditioned::new(&network, teacher.objective.preconditioning);
                    // The teacher read as its samples are drawn: x̂₀ clipped unless switched off.
                    let clip = sampling.clip_sample.unwrap_or(true);
                    let [c, h, w] = data.shape();
                    let batch = ([reflow.pairs, c, h, w], 500);
                    let seed = seed ^ 0xF10E;
                    let (noise, images) = if clip {
                        teacher.couplings(&Clipped { inner: read, bound: 1.0 }, reflow, batch, seed, device)
                    } else {
                        teacher.couplings(&read, reflow, batch, seed, device)
                    };
                    (Some(images::Couplings { noise, images }), teacher.initialize(config.init::<B>(device))?)
                }
                _ => (None, config.init::<B>(device)),
            };
            let classes = config.classes;
            let task = ImageDiffusion {
                data,
                objective,
                sampling,
                optim,
                seed,
                classes,
                judge,
                coupled,
                teacher,
                _network: PhantomData,
            };
            job.run(task, (net.clone(), net))
        }
    }
}
