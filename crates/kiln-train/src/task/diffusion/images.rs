//! Diffusion on digits (`[data] dataset = "mnist"`): a UNet trained on pixels scaled to
//! [−1, 1], optionally class-conditional with condition dropout (classifier-free guidance).
//! Samples are scored by the judge of `[sampling] judge`: MNIST-FD, the accuracy of the
//! classes read in class-conditional samples, and their diversity; `kiln sample` writes grids.

use std::marker::PhantomData;
use std::path::Path;

use burn::module::AutodiffModule;
use burn::prelude::*;
use burn::tensor::backend::AutodiffBackend;
use kiln_generative::guidance::ClassifierFree;
use kiln_generative::objective::{denoising_loss, NoiseDraw};
use kiln_generative::sampler::Sampler;
use kiln_generative::{sample, Clipped, Denoiser, GaussianNoise, Network, Preconditioned};
use kiln_metrics::GaussianFit;

use super::data::ImageData;
use super::judge::{diversity, Judge, Reading};
use super::objective::Objective;
use super::{build_sampler, grid};
use crate::checkpoint::{CheckpointReader, CheckpointWriter};
use crate::config::{OptimSection, SamplerSettings, SamplingSection};
use crate::error::{KilnError, Result};
use crate::figures::Figures;
use crate::optimizer::AnyOptimizer;
use crate::task::{BatchKey, EvalContext, SampleRequest, Split, StepContext, Task};

/// A host batch: clean images in [−1, 1], their noise and (conditioned) classes.
pub struct ImageDiffusionBatch {
    x0: Vec<f32>,
    rows: usize,
    draw: NoiseDraw,
}

pub struct ImageDiffusion<N> {
    pub(super) data: ImageData,
    pub(super) objective: Objective,
    pub(super) sampling: SamplingSection,
    pub(super) optim: OptimSection,
    pub(super) seed: u64,
    /// 0 for an unconditional model.
    pub(super) classes: usize,
    pub(super) judge: Option<Judge>,
    pub(super) _network: PhantomData<fn() -> N>,
}

/// Pixels of a byte image in the model's range.
fn scaled(image: &[u8]) -> impl Iterator<Item = f32> + '_ {
    image.iter().map(|&p| f32::from(p) / 127.5 - 1.0)
}

impl<N> ImageDiffusion<N> {
    /// Whether sampling clamps x̂₀ to [−1, 1] (`[sampling] clip_sample`, on by default).
    fn clip(&self) -> bool {
        self.sampling.clip_sample.unwrap_or(true)
    }

    fn pixels(&self) -> usize {
        self.data.train.height * self.data.train.width
    }

    fn shape(&self, n: usize) -> [usize; 4] {
        [n, 1, self.data.train.height, self.data.train.width]
    }

    /// The digits of `split`: (dataset, indices).
    fn split(&self, split: Split) -> Option<(&kiln_data::MnistDataset, Vec<usize>)> {
        match split {
            Split::Train => Some((&self.data.train, self.data.train_indices.clone())),
            Split::Valid if self.data.valid_indices.is_empty() => None,
            Split::Valid => Some((&self.data.train, self.data.valid_indices.clone())),
            Split::Test => Some((&self.data.test, (0..self.data.test.len()).collect())),
        }
    }

    fn batch(
        &self,
        dataset: &kiln_data::MnistDataset,
        indices: &[usize],
        dropout: f64,
        seed: u64,
    ) -> ImageDiffusionBatch {
        let x0 = indices.iter().flat_map(|&i| scaled(dataset.image(i))).collect();
        let labels: Vec<i64> = indices.iter().map(|&i| i64::from(dataset.labels[i])).collect();
        let classes = (self.classes > 0).then_some((labels.as_slice(), self.classes, dropout));
        let draw = NoiseDraw::new(&self.objective.process, indices.len(), self.pixels(), classes, seed);
        ImageDiffusionBatch { x0, rows: indices.len(), draw }
    }

    /// The class each of `n` samples is drawn for: `class` for all, else 0, 1, …, 9, 0, …
    /// (none for an unconditional model).
    fn sample_classes(&self, n: usize, class: Option<usize>) -> Option<Vec<usize>> {
        (self.classes > 0).then(|| (0..n).map(|i| class.unwrap_or(i % self.classes)).collect())
    }
}

/// Draws `n` images with `sampler` for `classes` (guided with weight `settings.guidance`),
/// ticking `progress` per evaluation: the pixels and the NFE.
#[allow(clippy::too_many_arguments)]
fn draw_images<B: Backend, M: Network<B, 4>>(
    network: &M,
    objective: &Objective,
    settings: &SamplerSettings,
    sampler: &mut dyn Sampler<B, 4>,
    (shape, classes, null): ([usize; 4], Option<&[usize]>, usize),
    (seed, clip): (u64, bool),
    device: &B::Device,
    progress: impl FnMut(usize, usize),
) -> (Vec<f32>, usize) {
    let preconditioning = objective.preconditioning;
    let class = classes.map(|c| {
        let labels: Vec<i64> = c.iter().map(|&k| k as i64).collect();
        Tensor::<B, 1, Int>::from_data(TensorData::new(labels, [c.len()]), device)
    });
    let denoiser: Box<dyn Denoiser<B, 4> + '_> = match class {
        Some(class) if settings.guidance != 0.0 => {
            Box::new(ClassifierFree { network, preconditioning, class, null: null as i64, weight: settings.guidance })
        }
        Some(class) => Box::new(Preconditioned::new(network, preconditioning).with_class(class)),
        None => Box::new(Preconditioned::new(network, preconditioning)),
    };
    let denoiser: Box<dyn Denoiser<B, 4> + '_> =
        if clip { Box::new(Clipped { inner: denoiser, bound: 1.0 }) } else { denoiser };
    let drawn = sample(denoiser.as_ref(), sampler, shape, &mut GaussianNoise::new(seed), device, progress);
    let pixels = drawn.x.into_data().convert::<f32>().to_vec().expect("float samples");
    (pixels, drawn.nfe)
}

/// The judge's figures of one set of samples against the reference's fit.
fn judged(reference: &GaussianFit, samples: &Reading, classes: Option<&[usize]>, prefix: &str) -> Figures {
    let mut figures = Figures::new();
    let fit = GaussianFit::new(&samples.features, samples.dim);
    figures.insert(format!("{prefix}fd"), reference.frechet_distance(&fit));
    figures.insert(format!("{prefix}diversity"), diversity(&samples.features, samples.dim, classes));
    if let Some(classes) = classes {
        let right = samples.predicted.iter().zip(classes).filter(|(p, c)| p == c).count();
        figures.insert(format!("{prefix}accuracy"), right as f64 / classes.len() as f64);
    }
    figures
}

impl<B, N> Task<B> for ImageDiffusion<N>
where
    B: AutodiffBackend,
    N: AutodiffModule<B> + Network<B, 4> + 'static,
    N::InnerModule: Network<B::InnerBackend, 4>,
{
    /// (the trained network, its EMA).
    type Model = (N, N);
    type Optimizers = AnyOptimizer<N, B>;
    type Batch = ImageDiffusionBatch;
    type Carry = ();

    fn optimizers(&self) -> Self::Optimizers {
        AnyOptimizer::new(&self.optim)
    }

    fn train_examples(&self) -> Vec<usize> {
        self.data.train_indices.clone()
    }

    fn train_batch(&self, indices: &[usize], key: BatchKey) -> ImageDiffusionBatch {
        self.batch(&self.data.train, indices, self.objective.cond_dropout, key.seed())
    }

    fn train_step(
        &self,
        (net, ema): (N, N),
        optimizers: &mut Self::Optimizers,
        batch: ImageDiffusionBatch,
        _carry: &mut (),
        ctx: &mut StepContext<'_, B>,
    ) -> Result<(N, N)> {
        let x0 = Tensor::<B, 4>::from_data(TensorData::new(batch.x0, self.shape(batch.rows)), ctx.device);
        let loss = denoising_loss(&net, &self.objective.preconditioning, x0, &batch.draw);
        ctx.record("loss", loss.clone().detach(), batch.rows);
        let grads = ctx.grads(loss, &net)?;
        Ok((optimizers.step(ctx.lr, net, grads), ema))
    }

    fn after_step(&self, (net, ema): (N, N), step: usize) -> (N, N) {
        super::ema_step(net, ema, self.sampling.ema_decay, step)
    }

    fn has_split(&self, split: Split) -> bool {
        self.split(split).is_some()
    }

    fn evaluate(&self, model: &(N, N), split: Split, ctx: &mut EvalContext<'_, B::InnerBackend>) -> Result<Figures> {
        let Some((dataset, indices)) = self.split(split) else { return Ok(Figures::new()) };
        let network = super::sampled_network(model, &self.sampling);
        let device = ctx.device;
        let mut figures = Figures::new();
        // The denoising loss on (up to 256 of) the split's digits, with the same noise every time.
        let scored = &indices[..indices.len().min(256)];
        let batch = self.batch(dataset, scored, 0.0, self.seed ^ 0xE7A1);
        let x0 = Tensor::<B::InnerBackend, 4>::from_data(TensorData::new(batch.x0, self.shape(batch.rows)), device);
        let loss = denoising_loss(&network, &self.objective.preconditioning, x0, &batch.draw);
        figures.insert("loss".into(), loss.into_scalar().elem::<f64>());
        let mut runs = vec![(String::new(), self.sampling.settings())];
        if split == Split::Test {
            runs.extend(self.sampling.compare.iter().map(|(name, s)| (format!("{name}_"), s.clone())));
        }
        let n = self.sampling.samples;
        let reference = match &self.judge {
            Some(judge) => {
                let reading = judge.read_dataset::<B>(dataset, &indices, device)?;
                let reference = GaussianFit::new(&reading.features, reading.dim);
                // The floor of MNIST-FD at this many samples: as many real training digits.
                let real = &self.data.train_indices[..n.min(self.data.train_indices.len())];
                let real = judge.read_dataset::<B>(&self.data.train, real, device)?;
                figures
                    .insert("real_fd".into(), reference.frechet_distance(&GaussianFit::new(&real.features, real.dim)));
                Some(reference)
            }
            None => None,
        };
        let classes = self.sample_classes(n, None);
        for (prefix, settings) in runs {
            let mut sampler = build_sampler::<B::InnerBackend, 4>(&settings, &self.objective)?;
            let mut pass = ctx.begin_steps(split.phase(), sampler.evaluations());
            let (pixels, nfe) = draw_images(
                &network,
                &self.objective,
                &settings,
                sampler.as_mut(),
                (self.shape(n), classes.as_deref(), self.classes),
                (self.seed ^ 0x5A3F, self.clip()),
                device,
                |_, _| pass.tick(n),
            );
            let mut scored = Figures::new();
            scored.insert(format!("{prefix}nfe"), nfe as f64);
            if let (Some(judge), Some(reference)) = (&self.judge, &reference) {
                let reading = judge.read::<B>(&pixels, self.shape(n), device)?;
                scored.extend(judged(reference, &reading, classes.as_deref(), &prefix));
            }
            figures.extend(pass.end(scored)?);
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

    fn synthetic_batch(&self, batch_size: usize, seed: u64) -> ImageDiffusionBatch {
        let train = &self.data.train_indices;
        let indices: Vec<usize> = (0..batch_size).map(|i| train[i % train.len()]).collect();
        self.batch(&self.data.train, &indices, self.objective.cond_dropout, seed)
    }

    fn sample(
        &self,
        model: &(N, N),
        request: &SampleRequest,
        output: &Path,
        device: &B::Device,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<String> {
        if self.classes == 0 && (request.class.is_some() || request.settings.guidance != 0.0) {
            return Err(KilnError::Unsupported(
                "--class and --guidance need a class-conditional model; this run's UNet has num_classes = 0".into(),
            ));
        }
        if let Some(c) = request.class.filter(|&c| c >= self.classes) {
            return Err(KilnError::Unsupported(format!(
                "--class {c}: the model knows classes 0 to {}",
                self.classes - 1
            )));
        }
        if request.settings.guidance != 0.0 && self.objective.cond_dropout == 0.0 {
            return Err(KilnError::Unsupported(
                "--guidance needs a model trained with [loss] cond_dropout > 0 (it never saw \"no class\")".into(),
            ));
        }
        if !output.extension().is_some_and(|e| e.eq_ignore_ascii_case("png")) {
            return Err(KilnError::Unsupported(format!(
                "images are written as a PNG grid: give --out a .png path, not '{}'",
                output.display()
            )));
        }
        let network = super::sampled_network(model, &self.sampling);
        let mut sampler = build_sampler::<B::InnerBackend, 4>(&request.settings, &self.objective)?;
        let n = request.n;
        let classes = self.sample_classes(n, request.class);
        let (pixels, nfe) = draw_images(
            &network,
            &self.objective,
            &request.settings,
            sampler.as_mut(),
            (self.shape(n), classes.as_deref(), self.classes),
            (request.seed, self.clip()),
            device,
            progress,
        );
        // Ten to a row, so that without --class each column is one digit.
        grid::write(output, &pixels, [n, self.data.train.height, self.data.train.width], 10)?;
        let mut line = format!(
            "{n} digits with {} ({} steps, NFE {nfe}{})",
            request.settings.sampler,
            request.settings.steps,
            if request.settings.guidance != 0.0 {
                format!(", guidance {}", request.settings.guidance)
            } else {
                String::new()
            }
        );
        if let (Some(judge), Some(classes)) = (&self.judge, &classes) {
            let reading = judge.read::<B>(&pixels, self.shape(n), device)?;
            let right = reading.predicted.iter().zip(classes).filter(|(p, c)| p == c).count();
            line += &format!(": the judge reads the class drawn for in {right} of {n}");
        }
        Ok(line)
    }
}
