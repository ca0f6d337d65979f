//! Diffusion on points (`[data] dataset = "points"`): samples scored by the MMD and sliced
//! Wasserstein distance against the held-out points; `kiln sample` draws a scatter plot or CSV.

use std::marker::PhantomData;
use std::path::Path;

use burn::module::AutodiffModule;
use burn::prelude::*;
use burn::tensor::backend::AutodiffBackend;
use kiln_generative::objective::{denoising_loss, NoiseDraw};
use kiln_generative::sampler::Sampler;
use kiln_generative::{sample, GaussianNoise, Network, Preconditioned};
use kiln_metrics::sample_distance::{median_distance, mmd_rbf, sliced_wasserstein};

use super::data::PointData;
use super::objective::Objective;
use super::reflow::Teacher;
use super::{build_sampler, scatter};
use crate::checkpoint::{CheckpointReader, CheckpointWriter};
use crate::config::{OptimSection, SamplerSettings, SamplingSection};
use crate::error::{KilnError, Result};
use crate::figures::Figures;
use crate::optimizer::AnyOptimizer;
use crate::progress::Phase;
use crate::task::{BatchKey, EvalContext, SampleRequest, Split, StepContext, Task};

/// Random projections of the sliced Wasserstein distance.
const PROJECTIONS: usize = 64;

/// A host batch: clean points and their noise.
pub struct DiffusionBatch {
    x0: Vec<f32>,
    rows: usize,
    draw: NoiseDraw,
}

pub struct PointDiffusion<N> {
    pub(super) data: PointData,
    pub(super) objective: Objective,
    pub(super) sampling: SamplingSection,
    pub(super) optim: OptimSection,
    pub(super) seed: u64,
    /// A reflow's couplings: the noise paired with each training point (the teacher's sample).
    pub(super) coupled_noise: Option<Vec<f32>>,
    /// A reflow's teacher, sampled beside the student on the test split (`teacher_` figures).
    pub(super) teacher: Option<Teacher>,
    pub(super) _network: PhantomData<fn() -> N>,
}

impl<N> PointDiffusion<N> {
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
        let mut draw = NoiseDraw::new(&self.objective.process, indices.len(), dim, None, seed);
        if let Some(noise) = &self.coupled_noise {
            // The levels stay random; the noise is the one the teacher carried to this point.
            draw.noise = indices.iter().flat_map(|&i| noise[i * dim..(i + 1) * dim].iter().copied()).collect();
        }
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

fn host<B: Backend>(x: Tensor<B, 2>) -> Vec<f64> {
    x.into_data().convert::<f64>().to_vec().expect("float samples")
}

/// Held-out points prepared once for scoring samples: as f64, with the MMD's bandwidth.
struct Reference {
    points: Vec<f64>,
    dim: usize,
    bandwidth: f64,
    /// Of the sliced Wasserstein distance's projections, the same for every sampler.
    seed: u64,
}

impl Reference {
    fn new(points: &kiln_data::Points, seed: u64) -> Self {
        let values: Vec<f64> = points.values.iter().map(|&v| f64::from(v)).collect();
        let bandwidth = median_distance(&values, points.dim);
        Self { points: values, dim: points.dim, bandwidth, seed }
    }

    /// MMD² (bandwidth: the reference's median distance) and SW₂ of `samples`.
    fn distances(&self, samples: &[f64]) -> (f64, f64) {
        let (r, d) = (&self.points, self.dim);
        (mmd_rbf(samples, r, d, self.bandwidth), sliced_wasserstein(samples, r, d, PROJECTIONS, self.seed))
    }
}

/// One sampler run of `network`, scored against `scoring`: `<prefix>mmd`, `swd`, `nfe` (and
/// `straightness` for a flow sampler).
#[allow(clippy::too_many_arguments)]
fn score<B: Backend, M: Network<B, 2>>(
    network: &M,
    objective: &Objective,
    settings: &SamplerSettings,
    prefix: &str,
    (n, dim, seed): (usize, usize, u64),
    scoring: &Reference,
    ctx: &mut EvalContext<'_, B>,
    phase: Phase,
) -> Result<Figures> {
    let mut sampler = build_sampler::<B, 2>(settings, objective)?;
    let device = ctx.device;
    let mut pass = ctx.begin_steps(phase, sampler.evaluations());
    let (samples, nfe, straightness) =
        draw_points(network, objective, sampler.as_mut(), (n, dim, seed), device, |_, _| pass.tick(n));
    let (mmd, swd) = scoring.distances(&samples);
    let mut scored = Figures::new();
    scored.insert(format!("{prefix}mmd"), mmd);
    scored.insert(format!("{prefix}swd"), swd);
    scored.insert(format!("{prefix}nfe"), nfe as f64);
    if let Some(s) = straightness {
        scored.insert(format!("{prefix}straightness"), s);
    }
    pass.end(scored)
}

impl<B, N> Task<B> for PointDiffusion<N>
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
        super::ema_step(net, ema, self.sampling.ema_decay, step)
    }

    fn has_split(&self, split: Split) -> bool {
        self.points(split).is_some()
    }

    fn evaluate(&self, model: &(N, N), split: Split, ctx: &mut EvalContext<'_, B::InnerBackend>) -> Result<Figures> {
        let Some(reference) = self.points(split) else { return Ok(Figures::new()) };
        let network = super::sampled_network(model, &self.sampling);
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
        let scoring = Reference::new(reference, self.seed);
        let shape = (self.sampling.samples, dim, self.seed ^ 0x5A3F);
        let phase = split.phase();
        for (prefix, settings) in &runs {
            figures.extend(score(&network, &self.objective, settings, prefix, shape, &scoring, ctx, phase)?);
        }
        if let (Some(teacher), Split::Test) = (&self.teacher, split) {
            let network = teacher.mlp::<B::InnerBackend>(device)?;
            for (prefix, settings) in &runs {
                let prefix = format!("teacher_{prefix}");
                figures.extend(score(&network, &teacher.objective, settings, &prefix, shape, &scoring, ctx, phase)?);
            }
        }
        Ok(figures)
    }

    fn save(&self, model: &(N, N), optimizers: &Self::Optimizers, out: &mut CheckpointWriter) -> Result<()> {
        super::save_pair(model, optimizers, out)
    }

    fn load(
        &self,
        model: (N, N),
        optimizers: Self::Optimizers,
        from: &CheckpointReader,
        device: &B::Device,
    ) -> Result<((N, N), Self::Optimizers)> {
        super::load_pair(model, optimizers, from, device)
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
        let network = super::sampled_network(model, &self.sampling);
        let dim = self.data.dim();
        let mut sampler = build_sampler::<B::InnerBackend, 2>(&request.settings, &self.objective)?;
        let shape = (request.n, dim, request.seed);
        let (samples, nfe, straightness) =
            draw_points(&network, &self.objective, sampler.as_mut(), shape, device, progress);
        let reference = self.data.test.as_ref().unwrap_or(&self.data.train);
        let (mmd, swd) = Reference::new(reference, self.seed).distances(&samples);
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
