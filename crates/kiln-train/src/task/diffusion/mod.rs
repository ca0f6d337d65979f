//! Diffusion and flow models: a denoiser trained under one noising process (DDPM, EDM, the VE
//! SDE, rectified flow) and evaluated by sampling — any sampler of kiln-generative, scored
//! against held-out data; `kiln sample` draws from a trained run.

pub mod data;
pub mod models;
pub mod objective;
mod scatter;

use std::marker::PhantomData;
use std::path::Path;

use burn::module::AutodiffModule;
use burn::prelude::*;
use burn::tensor::backend::AutodiffBackend;
use kiln_generative::objective::{denoising_loss, NoiseDraw};
use kiln_generative::sampler::{Sampler, SamplerChoice, SamplerKind};
use kiln_generative::{sample, GaussianNoise, Network, Preconditioned};
use kiln_metrics::sample_distance::{median_distance, mmd_rbf, sliced_wasserstein};

pub use data::DiffusionData;
use objective::Objective;

use super::{BatchKey, EvalContext, SampleRequest, SectionProblem, Split, StepContext, Task, TaskEntry, TaskJob};
use crate::checkpoint::{CheckpointReader, CheckpointWriter};
use crate::config::{ExperimentConfig, OptimSection, ParamProblem, SamplerSettings, SamplingSection};
use crate::error::{KilnError, Result};
use crate::figures::Figures;
use crate::optimizer::AnyOptimizer;

pub const ENTRY: TaskEntry = TaskEntry {
    name: "diffusion",
    summary: "diffusion and flow models (DDPM, EDM, VE SDE, rectified flow), evaluated by sampling; kiln sample",
    check,
};

/// Random projections of the sliced Wasserstein distance.
const PROJECTIONS: usize = 64;

fn check(cfg: &ExperimentConfig) -> std::result::Result<(), SectionProblem> {
    let at = |section, key: &str, message: String| {
        SectionProblem::new(section, ParamProblem { key: Some(key.into()), message })
    };
    let d = &cfg.data;
    if !data::DATASETS.contains(&d.dataset.as_str()) {
        return Err(at("data", "dataset", format!("unknown dataset '{}' in [data] for diffusion (known: points: a folder of train.csv, and test.csv to score samples against)", d.dataset)));
    }
    super::refuse_text_keys(cfg)?;
    if d.augment_shift != 0 || !d.eval_sizes.is_empty() {
        return Err(at(
            "data",
            "augment_shift",
            "augment_shift and eval_sizes are image settings; diffusion on points takes neither".into(),
        ));
    }
    models::mlp_config(&cfg.model.name, &cfg.model.params, 2, 0).map_err(|p| SectionProblem::new("model", p))?;
    let objective = Objective::from_section(&cfg.loss).map_err(|p| SectionProblem::new("loss", p))?;
    if objective.cond_dropout > 0.0 {
        return Err(at(
            "loss",
            "cond_dropout",
            "cond_dropout trains a class-conditional model; points carry no classes".into(),
        ));
    }
    if !cfg.metrics.names.is_empty() {
        return Err(at("metrics", "names", "diffusion reports loss, mmd, swd and nfe (and straightness for rectified flow); it takes no [metrics] names".into()));
    }
    let sampling = sampling_section(cfg, &objective);
    for (name, settings) in std::iter::once(("".to_string(), sampling.settings())).chain(sampling.compare.clone()) {
        let key = if name.is_empty() { "sampler".to_string() } else { format!("compare.{name}") };
        choice(&settings).map_err(|m| at("sampling", &key, m))?;
        if settings.guidance != 0.0 {
            return Err(at(
                "sampling",
                &key,
                "guidance needs a class-conditional model; points carry no classes".into(),
            ));
        }
    }
    if sampling.samples < 2 {
        return Err(at("sampling", "samples", "samples must be at least 2 (the MMD compares pairs)".into()));
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
            samples: 2000,
            ema_decay: 0.999,
            compare: Default::default(),
        }
    })
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

/// A host batch: clean points and their noise.
pub struct DiffusionBatch {
    x0: Vec<f32>,
    rows: usize,
    draw: NoiseDraw,
}

pub struct DiffusionTask<N> {
    data: DiffusionData,
    objective: Objective,
    sampling: SamplingSection,
    optim: OptimSection,
    seed: u64,
    _network: PhantomData<fn() -> N>,
}

impl<N> DiffusionTask<N> {
    fn points(&self, split: Split) -> Option<&kiln_data::Points> {
        match split {
            Split::Train => Some(&self.data.train),
            Split::Valid => self.data.valid.as_ref(),
            Split::Test => self.data.test.as_ref(),
        }
    }

    fn batch(&self, indices: &[usize], seed: u64) -> DiffusionBatch {
        let dim = self.data.dim();
        let x0 = indices.iter().flat_map(|&i| self.data.train.row(i).iter().copied()).collect();
        let draw = NoiseDraw::new(&self.objective.process, indices.len(), dim, None, seed);
        DiffusionBatch { x0, rows: indices.len(), draw }
    }
}

/// Draws `n` points with `sampler` from `network`, ticking `progress` per evaluation: the
/// points, the NFE, and the paths' straightness for a flow sampler.
fn draw_points<B: Backend, M: Network<B, 2>>(
    network: &M,
    objective: &Objective,
    sampler: &mut dyn Sampler<B, 2>,
    (n, dim, seed): (usize, usize, u64),
    device: &B::Device,
    progress: impl FnMut(usize, usize),
) -> (Vec<f64>, usize, Option<f64>) {
    let denoiser = Preconditioned::new(network, objective.preconditioning);
    let drawn = sample(&denoiser, sampler, [n, dim], &mut GaussianNoise::new(seed), device, progress);
    let straightness = sampler.straightness(drawn.x.clone());
    (host(drawn.x), drawn.nfe, straightness)
}

/// The sampler `settings` name, built for the objective's process.
fn build_sampler<B: Backend>(settings: &SamplerSettings, objective: &Objective) -> Result<Box<dyn Sampler<B, 2>>> {
    let c = choice(settings).map_err(KilnError::Unsupported)?;
    c.build::<B, 2>(&objective.process).map_err(|e| KilnError::Unsupported(e.to_string()))
}

fn host<B: Backend>(x: Tensor<B, 2>) -> Vec<f64> {
    x.into_data().convert::<f64>().to_vec().expect("float samples")
}

/// Held-out points prepared once for scoring samples: as f64, with the MMD's bandwidth.
struct Reference {
    points: Vec<f64>,
    dim: usize,
    bandwidth: f64,
}

impl Reference {
    fn new(points: &kiln_data::Points) -> Self {
        let values: Vec<f64> = points.values.iter().map(|&v| f64::from(v)).collect();
        let bandwidth = median_distance(&values, points.dim);
        Self { points: values, dim: points.dim, bandwidth }
    }

    /// MMD² (bandwidth: the reference's median distance) and SW₂ of `samples`.
    fn distances(&self, samples: &[f64], seed: u64) -> (f64, f64) {
        let (r, d) = (&self.points, self.dim);
        (mmd_rbf(samples, r, d, self.bandwidth), sliced_wasserstein(samples, r, d, PROJECTIONS, seed))
    }
}

impl<B, N> Task<B> for DiffusionTask<N>
where
    B: AutodiffBackend,
    N: AutodiffModule<B> + Network<B, 2> + 'static,
    N::InnerModule: Network<B::InnerBackend, 2>,
{
    /// (the trained network, its EMA).
    type Model = (N, N);
    type Optimizers = AnyOptimizer<N, B>;
    type Batch = DiffusionBatch;
    type Carry = ();

    fn optimizers(&self) -> Self::Optimizers {
        AnyOptimizer::new(&self.optim)
    }

    fn train_examples(&self) -> Vec<usize> {
        (0..self.data.train.len()).collect()
    }

    fn train_batch(&self, indices: &[usize], key: BatchKey) -> DiffusionBatch {
        self.batch(indices, key.seed())
    }

    fn train_step(
        &self,
        (net, ema): (N, N),
        optimizers: &mut Self::Optimizers,
        batch: DiffusionBatch,
        _carry: &mut (),
        ctx: &mut StepContext<'_, B>,
    ) -> Result<(N, N)> {
        let dim = self.data.dim();
        let x0 = Tensor::<B, 2>::from_data(TensorData::new(batch.x0, [batch.rows, dim]), ctx.device);
        let loss = denoising_loss(&net, &self.objective.preconditioning, x0, &batch.draw);
        ctx.record("loss", loss.clone().detach(), batch.rows);
        let grads = ctx.grads(loss, &net)?;
        Ok((optimizers.step(ctx.lr, net, grads), ema))
    }

    fn after_step(&self, (net, ema): (N, N), step: usize) -> (N, N) {
        if self.sampling.ema_decay == 0.0 {
            return (net, ema);
        }
        // Warmed up as diffusers' EMAModel does, min(decay, (1 + t)/(10 + t)): early on the
        // average follows the weights instead of holding on to their initialisation.
        let decay = self.sampling.ema_decay.min((1.0 + step as f64) / (10.0 + step as f64));
        let ema = crate::ema::ema_update(ema, &net, decay);
        (net, ema)
    }

    fn has_split(&self, split: Split) -> bool {
        self.points(split).is_some()
    }

    fn evaluate(&self, model: &(N, N), split: Split, ctx: &mut EvalContext<'_, B::InnerBackend>) -> Result<Figures> {
        let Some(reference) = self.points(split) else { return Ok(Figures::new()) };
        let network = if self.sampling.ema_decay > 0.0 { model.1.valid() } else { model.0.valid() };
        let device = ctx.device;
        let dim = self.data.dim();
        let mut figures = Figures::new();
        // The denoising loss on the split, with the same noise every time.
        let rows = reference.len().min(self.sampling.samples.max(256));
        let x0: Vec<f32> = reference.values[..rows * dim].to_vec();
        let draw = NoiseDraw::new(&self.objective.process, rows, dim, None, self.seed ^ 0xE7A1);
        let x0 = Tensor::<B::InnerBackend, 2>::from_data(TensorData::new(x0, [rows, dim]), device);
        let loss = denoising_loss(&network, &self.objective.preconditioning, x0, &draw);
        figures.insert("loss".into(), loss.into_scalar().elem::<f64>());
        let mut runs = vec![(String::new(), self.sampling.settings())];
        if split == Split::Test {
            runs.extend(self.sampling.compare.iter().map(|(name, s)| (format!("{name}_"), s.clone())));
        }
        let scoring = Reference::new(reference);
        for (prefix, settings) in runs {
            let mut sampler = build_sampler::<B::InnerBackend>(&settings, &self.objective)?;
            let mut pass = ctx.begin_steps(split.phase(), sampler.evaluations());
            let n = self.sampling.samples;
            let seed = self.seed ^ 0x5A3F;
            let (samples, nfe, straightness) =
                draw_points(&network, &self.objective, sampler.as_mut(), (n, dim, seed), device, |_, _| pass.tick(n));
            let (mmd, swd) = scoring.distances(&samples, self.seed);
            let mut scored = Figures::new();
            scored.insert(format!("{prefix}mmd"), mmd);
            scored.insert(format!("{prefix}swd"), swd);
            scored.insert(format!("{prefix}nfe"), nfe as f64);
            if let Some(s) = straightness {
                scored.insert(format!("{prefix}straightness"), s);
            }
            figures.extend(pass.end(scored)?);
        }
        Ok(figures)
    }

    fn save(&self, model: &(N, N), optimizers: &Self::Optimizers, out: &mut CheckpointWriter) -> Result<()> {
        out.module("net", &model.0)?;
        out.module("ema", &model.1)?;
        out.optimizer("net", optimizers)
    }

    fn load(
        &self,
        model: (N, N),
        optimizers: Self::Optimizers,
        from: &CheckpointReader,
        device: &B::Device,
    ) -> Result<((N, N), Self::Optimizers)> {
        let net = from.module("net", model.0)?;
        let ema = from.module("ema", model.1)?;
        let optimizers = from.optimizer("net", optimizers, device)?;
        Ok(((net, ema), optimizers))
    }

    fn synthetic_batch(&self, batch_size: usize, seed: u64) -> DiffusionBatch {
        let indices: Vec<usize> = (0..batch_size).map(|i| i % self.data.train.len()).collect();
        self.batch(&indices, seed)
    }

    fn sample(
        &self,
        model: &(N, N),
        request: &SampleRequest,
        output: &Path,
        device: &B::Device,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<String> {
        if request.class.is_some() || request.settings.guidance != 0.0 {
            return Err(KilnError::Unsupported(
                "--class and --guidance need a class-conditional model; this run's points carry no classes".into(),
            ));
        }
        let network = if self.sampling.ema_decay > 0.0 { model.1.valid() } else { model.0.valid() };
        let dim = self.data.dim();
        let mut sampler = build_sampler::<B::InnerBackend>(&request.settings, &self.objective)?;
        let shape = (request.n, dim, request.seed);
        let (samples, nfe, straightness) =
            draw_points(&network, &self.objective, sampler.as_mut(), shape, device, progress);
        let reference = self.data.test.as_ref().unwrap_or(&self.data.train);
        let (mmd, swd) = Reference::new(reference).distances(&samples, self.seed);
        let is_csv = output.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv"));
        if is_csv {
            scatter::write_csv(output, &samples, dim)?;
        } else if dim == 2 {
            scatter::plot(
                output,
                &samples,
                reference,
                &format!("{} · {} steps · NFE {nfe}", request.settings.sampler, request.settings.steps),
            )?;
        } else {
            return Err(KilnError::Unsupported(format!(
                "points of {dim} coordinates are written as CSV only: give --out a .csv path"
            )));
        }
        let straight = straightness.map(|s| format!(", straightness {s:.4}")).unwrap_or_default();
        Ok(format!(
            "{} samples with {} ({} steps, NFE {nfe}): MMD² {mmd:.5}, SW₂ {swd:.4} against the {} points{straight}",
            request.n,
            request.settings.sampler,
            request.settings.steps,
            if self.data.test.is_some() { "test" } else { "training" }
        ))
    }
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
    let config = models::mlp_config(&cfg.model.name, &cfg.model.params, data.dim(), 0).map_err(message)?;
    let net = config.init::<B>(device);
    let ema = net.clone();
    let sampling = sampling_section(cfg, &objective);
    let task = DiffusionTask {
        data,
        objective,
        sampling,
        optim: cfg.optim.clone(),
        seed: cfg.experiment.seed,
        _network: PhantomData,
    };
    job.run(task, (net, ema))
}
