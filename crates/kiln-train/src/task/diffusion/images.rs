//! Diffusion on digits (`[data] dataset = "mnist"`): a UNet trained on pixels scaled to
//! [−1, 1], optionally class-conditional with condition dropout (classifier-free guidance).
//! Samples are scored by the judge of `[sampling] judge`: MNIST-FD, the accuracy of the
//! classes read in class-conditional samples, and their diversity; `kiln sample` writes grids.
//! With `[sampling] classifier`, a noise-aware classifier's gradient guides samples toward their
//! class (classifier guidance, `classifier_scale`).

use std::marker::PhantomData;
use std::path::Path;

use burn::module::AutodiffModule;
use burn::prelude::*;
use burn::tensor::backend::AutodiffBackend;
use kiln_generative::guidance::{ClassGradient, ClassifierFree, ClassifierGuided, DifferentiatedClassifier};
use kiln_generative::objective::{denoising_loss, NoiseDraw};
use kiln_generative::sampler::Sampler;
use kiln_generative::{sample, Clipped, Denoiser, GaussianNoise, Network, Preconditioned};
use kiln_metrics::GaussianFit;

use super::data::ImageData;
use super::judge::{diversity, Judge, Reading};
use super::objective::Objective;
use super::reflow::Teacher;
use super::{build_sampler, grid};
use crate::checkpoint::{CheckpointReader, CheckpointWriter};
use crate::config::{OptimSection, SamplerSettings, SamplingSection};
use crate::error::{KilnError, Result};
use crate::figure_plot::{FigurePlot, Panel, Series};
use crate::figures::Figures;
use crate::optimizer::AnyOptimizer;
use crate::task::{BatchKey, EvalContext, SampleRequest, Split, StepContext, Task};

/// A host batch: clean images in [−1, 1], their noise and (conditioned) classes.
pub struct ImageDiffusionBatch {
    x0: Vec<f32>,
    rows: usize,
    draw: NoiseDraw,
}

/// A reflow's training pairs: noise rows and the teacher's images drawn from them, row for row.
pub struct Couplings {
    pub noise: Vec<f32>,
    pub images: Vec<f32>,
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
    /// A reflow trains on these instead of the training digits.
    pub(super) coupled: Option<Couplings>,
    /// A reflow's teacher, sampled beside the student on the test split (`teacher_` figures).
    pub(super) teacher: Option<Teacher>,
    pub(super) _network: PhantomData<fn() -> N>,
}

impl<N> ImageDiffusion<N> {
    /// Whether sampling clamps x̂₀ to [−1, 1] (`[sampling] clip_sample`, on by default).
    fn clip(&self) -> bool {
        self.sampling.clip_sample.unwrap_or(true)
    }

    /// How the guidance classifier reads a level.
    fn guidance_preconditioning(&self) -> kiln_generative::Preconditioning {
        self.data.classifier.as_ref().map(|c| c.preconditioning).unwrap_or(self.objective.preconditioning)
    }

    fn pixels(&self) -> usize {
        self.data.train.height * self.data.train.width
    }

    fn shape(&self, n: usize) -> [usize; 4] {
        [n, 1, self.data.train.height, self.data.train.width]
    }

    /// The digits of `split`: (dataset, indices).
    fn split(&self, split: Split) -> Option<(&kiln_data::MnistDataset, Vec<usize>)> {
        self.data.split(split)
    }

    fn batch(
        &self,
        dataset: &kiln_data::MnistDataset,
        indices: &[usize],
        dropout: f64,
        seed: u64,
    ) -> ImageDiffusionBatch {
        let x0 = ImageData::pixels(dataset, indices);
        let labels: Vec<i64> = indices.iter().map(|&i| i64::from(dataset.labels[i])).collect();
        let classes = (self.classes > 0).then_some((labels.as_slice(), self.classes, dropout));
        let draw = NoiseDraw::new(&self.objective.process, indices.len(), self.pixels(), classes, seed);
        ImageDiffusionBatch { x0, rows: indices.len(), draw }
    }

    /// The class each of `n` samples is drawn for: `class` for all, else 0, 1, …, 9, 0, …
    /// (none for an unconditional model without a guidance classifier).
    fn sample_classes(&self, n: usize, class: Option<usize>) -> Option<Vec<usize>> {
        let classes = if self.classes > 0 { self.classes } else { super::DIGIT_CLASSES };
        (self.classes > 0 || self.data.classifier.is_some())
            .then(|| (0..n).map(|i| class.unwrap_or(i % classes)).collect())
    }

    /// A host batch of reflow couplings `indices`: the teacher's images and the noise it carried
    /// to them (the levels stay random).
    fn coupled_batch(&self, couplings: &Couplings, indices: &[usize], seed: u64) -> ImageDiffusionBatch {
        let p = self.pixels();
        let rows = |values: &[f32]| -> Vec<f32> {
            indices.iter().flat_map(|&i| values[i * p..(i + 1) * p].iter().copied()).collect()
        };
        let mut draw = NoiseDraw::new(&self.objective.process, indices.len(), p, None, seed);
        draw.noise = rows(&couplings.noise);
        ImageDiffusionBatch { x0: rows(&couplings.images), rows: indices.len(), draw }
    }

    /// Draws `[sampling] samples` digits from `network` with `settings` and scores them as
    /// `prefix` figures: NFE, straightness for a flow sampler, and the judge's figures against
    /// `reference` (drawn for `classes`).
    fn score_run<B: AutodiffBackend, M: Network<B::InnerBackend, 4>>(
        &self,
        network: &M,
        objective: &Objective,
        (prefix, settings): (&str, &SamplerSettings),
        guide: Option<&dyn ClassGradient<B::InnerBackend, 4>>,
        (reference, classes, split): (Option<&GaussianFit>, Option<&[usize]>, Split),
        ctx: &mut EvalContext<'_, B::InnerBackend>,
    ) -> Result<Figures> {
        let n = self.sampling.samples;
        let device = ctx.device;
        let mut sampler = build_sampler::<B::InnerBackend, 4>(settings, objective)?;
        let mut pass = ctx.begin_steps(split.phase(), sampler.evaluations());
        let (pixels, nfe, straightness) = draw_images(
            network,
            objective,
            settings,
            sampler.as_mut(),
            (self.shape(n), classes, self.classes),
            guide,
            (self.seed ^ 0x5A3F, self.clip()),
            device,
            |_, _| pass.tick(n),
        );
        let mut scored = Figures::new();
        scored.insert(format!("{prefix}nfe"), nfe as f64);
        if let Some(s) = straightness {
            scored.insert(format!("{prefix}straightness"), s);
        }
        if let (Some(judge), Some(reference)) = (&self.judge, reference) {
            let reading = judge.read::<B>(&pixels, self.shape(n), device)?;
            scored.extend(judged(reference, &reading, classes, prefix));
        }
        pass.end(scored)
    }

    /// The guidance classifier on the autodiff backend, when a sampler of `settings` uses it.
    fn guidance_classifier<B: Backend>(
        &self,
        settings: &[&SamplerSettings],
        device: &B::Device,
    ) -> Result<Option<kiln_generative::network::NoisyClassifier<B>>> {
        match &self.data.classifier {
            Some(classifier) if settings.iter().any(|s| s.classifier_scale != 0.0) => {
                classifier.load::<B>(device).map(Some)
            }
            _ => Ok(None),
        }
    }
}

/// Draws `n` images with `sampler` for `classes`, guided with weight `settings.guidance`
/// (classifier-free) and by `guide` with `settings.classifier_scale` (classifier guidance),
/// ticking `progress` per evaluation: the pixels and the NFE. `model_classes` is the network's
/// number of classes (0: unconditional), which is also its "no class" label.
#[allow(clippy::too_many_arguments)]
fn draw_images<B: Backend, M: Network<B, 4>>(
    network: &M,
    objective: &Objective,
    settings: &SamplerSettings,
    sampler: &mut dyn Sampler<B, 4>,
    (shape, classes, model_classes): ([usize; 4], Option<&[usize]>, usize),
    guide: Option<&dyn ClassGradient<B, 4>>,
    (seed, clip): (u64, bool),
    device: &B::Device,
    progress: impl FnMut(usize, usize),
) -> (Vec<f32>, usize, Option<f64>) {
    let preconditioning = objective.preconditioning;
    let class = classes.map(|c| {
        let labels: Vec<i64> = c.iter().map(|&k| k as i64).collect();
        Tensor::<B, 1, Int>::from_data(TensorData::new(labels, [c.len()]), device)
    });
    let guide = guide.filter(|_| settings.classifier_scale != 0.0);
    let null = model_classes as i64;
    let denoiser: Box<dyn Denoiser<B, 4> + '_> = match &class {
        Some(class) if model_classes > 0 && settings.guidance != 0.0 => {
            Box::new(ClassifierFree { network, preconditioning, class: class.clone(), null, weight: settings.guidance })
        }
        Some(class) if model_classes > 0 && guide.is_none() => {
            Box::new(Preconditioned::new(network, preconditioning).with_class(class.clone()))
        }
        // Classifier guidance alone: the class comes from the classifier, the model is read
        // without one.
        Some(class) if model_classes > 0 => {
            Box::new(Preconditioned::new(network, preconditioning).with_class(class.clone().full_like(null)))
        }
        _ => Box::new(Preconditioned::new(network, preconditioning)),
    };
    let denoiser: Box<dyn Denoiser<B, 4> + '_> = match (guide, class) {
        (Some(classifier), Some(class)) => {
            Box::new(ClassifierGuided { inner: denoiser, classifier, class, scale: settings.classifier_scale })
        }
        _ => denoiser,
    };
    let denoiser: Box<dyn Denoiser<B, 4> + '_> =
        if clip { Box::new(Clipped { inner: denoiser, bound: 1.0 }) } else { denoiser };
    let drawn = sample(denoiser.as_ref(), sampler, shape, &mut GaussianNoise::new(seed), device, progress);
    let straightness = sampler.straightness(drawn.x.clone());
    let pixels = drawn.x.into_data().convert::<f32>().to_vec().expect("float samples");
    (pixels, drawn.nfe, straightness)
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

/// `guidance.png`: the judge's accuracy and the samples' diversity against the classifier-free
/// weight w and against the classifier scale s, from the test runs that share the evaluation
/// sampler (its own run is w = 0); a curve needs two weights.
fn guidance_curves(sampling: &SamplingSection, test: &Figures) -> Option<FigurePlot> {
    let main = sampling.settings();
    let runs = std::iter::once((String::new(), main.clone()))
        .chain(sampling.compare.iter().map(|(name, s)| (format!("{name}_"), s.clone())));
    let (mut free, mut classifier) = (Vec::new(), Vec::new());
    for (prefix, s) in runs {
        if (s.sampler.as_str(), s.steps, s.eta) != (main.sampler.as_str(), main.steps, main.eta) {
            continue;
        }
        let figure = |name: &str| test.get(&format!("{prefix}{name}")).copied();
        let (Some(accuracy), Some(diversity)) = (figure("accuracy"), figure("diversity")) else { continue };
        if s.classifier_scale == 0.0 {
            free.push((s.guidance, accuracy, diversity));
        } else if s.guidance == 0.0 {
            classifier.push((s.classifier_scale, accuracy, diversity));
        }
    }
    let label = format!("{} {} steps", main.sampler, main.steps);
    let mut panels = Vec::new();
    for (points, x_label) in [(free, "classifier-free guidance weight w"), (classifier, "classifier guidance scale s")]
    {
        if points.len() < 2 {
            continue;
        }
        for (title, pick) in [("judge accuracy", 1), ("diversity (same-class feature distance)", 2)] {
            let points = points.iter().map(|p| (p.0, if pick == 1 { p.1 } else { p.2 })).collect();
            panels.push(Panel {
                title: title.into(),
                x_label: x_label.into(),
                series: vec![Series { label: label.clone(), points }],
            });
        }
    }
    (!panels.is_empty()).then(|| FigurePlot { file: "guidance.png".into(), panels })
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
        match &self.coupled {
            Some(couplings) => (0..couplings.images.len() / self.pixels()).collect(),
            None => self.data.train_indices.clone(),
        }
    }

    fn train_batch(&self, indices: &[usize], key: BatchKey) -> ImageDiffusionBatch {
        match &self.coupled {
            Some(couplings) => self.coupled_batch(couplings, indices, key.seed()),
            None => self.batch(&self.data.train, indices, self.objective.cond_dropout, key.seed()),
        }
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
        let classifier = self.guidance_classifier::<B>(&runs.iter().map(|(_, s)| s).collect::<Vec<_>>(), device)?;
        let guide =
            classifier.as_ref().map(|c| DifferentiatedClassifier::<B, _>::new(c, self.guidance_preconditioning()));
        let guide = guide.as_ref().map(|g| g as &dyn ClassGradient<B::InnerBackend, 4>);
        let scoring = (reference.as_ref(), classes.as_deref(), split);
        for (prefix, settings) in &runs {
            figures.extend(self.score_run::<B, _>(
                &network,
                &self.objective,
                (prefix, settings),
                guide,
                scoring,
                ctx,
            )?);
        }
        // A reflow's teacher, sampled the same ways beside its student.
        if let (Some(teacher), Split::Test) = (&self.teacher, split) {
            let network = teacher.unet::<B::InnerBackend>(device)?;
            for (prefix, settings) in &runs {
                let prefix = format!("teacher_{prefix}");
                let run = (prefix.as_str(), settings);
                figures.extend(self.score_run::<B, _>(&network, &teacher.objective, run, guide, scoring, ctx)?);
            }
        }
        Ok(figures)
    }

    fn test_plots(&self, test: &Figures) -> Vec<FigurePlot> {
        guidance_curves(&self.sampling, test).into_iter().collect()
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
        let scale = request.settings.classifier_scale;
        if !(scale >= 0.0 && scale.is_finite()) {
            return Err(KilnError::Unsupported(format!("--classifier-scale must be a positive number, not {scale}")));
        }
        if scale != 0.0 && self.data.classifier.is_none() {
            return Err(KilnError::Unsupported(
                "--classifier-scale guides with the noise-aware classifier of the run's [sampling] classifier, and this run names none".into(),
            ));
        }
        if self.classes == 0 && (request.settings.guidance != 0.0 || (request.class.is_some() && scale == 0.0)) {
            return Err(KilnError::Unsupported(
                "--guidance (and --class without --classifier-scale) needs a class-conditional model; this run's UNet has num_classes = 0".into(),
            ));
        }
        if scale != 0.0 && self.classes > 0 && request.settings.guidance == 0.0 && self.objective.cond_dropout == 0.0 {
            return Err(KilnError::Unsupported(
                "--classifier-scale alone reads the model without its class, which needs a model trained with [loss] cond_dropout > 0; add --guidance to guide both ways".into(),
            ));
        }
        let known = if self.classes > 0 { self.classes } else { super::DIGIT_CLASSES };
        if let Some(c) = request.class.filter(|&c| c >= known) {
            return Err(KilnError::Unsupported(format!("--class {c}: the classes are 0 to {}", known - 1)));
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
        let classifier = self.guidance_classifier::<B>(&[&request.settings], device)?;
        let guide =
            classifier.as_ref().map(|c| DifferentiatedClassifier::<B, _>::new(c, self.guidance_preconditioning()));
        let (pixels, nfe, _) = draw_images(
            &network,
            &self.objective,
            &request.settings,
            sampler.as_mut(),
            (self.shape(n), classes.as_deref(), self.classes),
            guide.as_ref().map(|g| g as &dyn ClassGradient<B::InnerBackend, 4>),
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
        if scale != 0.0 {
            line = line.replacen(')', &format!(", classifier scale {scale})"), 1);
        }
        if let (Some(judge), Some(classes)) = (&self.judge, &classes) {
            let reading = judge.read::<B>(&pixels, self.shape(n), device)?;
            let right = reading.predicted.iter().zip(classes).filter(|(p, c)| p == c).count();
            line += &format!(": the judge reads the class drawn for in {right} of {n}");
        }
        Ok(line)
    }
}
