//! What a task sees of the loop: gradients through the strategy, figures on the device, the
//! learning rate and step, and (for evaluation) batches with progress reporting.

use std::time::Instant;

use burn::module::AutodiffModule;
use burn::optim::GradientsParams;
use burn::prelude::*;
use burn::tensor::backend::AutodiffBackend;

use crate::error::Result;
use crate::figures::{FigureMeter, Figures};
use crate::pipeline::for_each_batch;
use crate::progress::{Phase, StepProgress, TrainingObserver};
use crate::strategy::{Reducer, SingleDevice};

/// One training step's view of the run.
pub struct StepContext<'a, B: AutodiffBackend> {
    /// The learning rate of this step, from `[schedule]`.
    pub lr: f64,
    /// 1-based.
    pub epoch: usize,
    /// Optimizer steps taken before this one.
    pub step: usize,
    pub device: &'a B::Device,
    reducer: &'a dyn Reducer<B::InnerBackend>,
    figures: &'a mut FigureMeter<B::InnerBackend>,
}

impl<'a, B: AutodiffBackend> StepContext<'a, B> {
    pub fn new(
        lr: f64,
        (epoch, step): (usize, usize),
        device: &'a B::Device,
        reducer: &'a dyn Reducer<B::InnerBackend>,
        figures: &'a mut FigureMeter<B::InnerBackend>,
    ) -> Self {
        Self { lr, epoch, step, device, reducer, figures }
    }

    /// The gradients of `loss` for `module`'s parameters, averaged over the DDP replicas. The
    /// only way a task gets gradients, so that every strategy sits beneath every task; a GAN
    /// calls it once per optimizer.
    pub fn grads<M: AutodiffModule<B>>(&mut self, loss: Tensor<B, 1>, module: &M) -> Result<GradientsParams> {
        let grads = GradientsParams::from_grads(loss.backward(), module);
        crate::ddp::mean_grads::<B, M>(grads, module, self.reducer)
    }

    /// Adds a one-element figure (a batch mean) weighted by `examples`, on the device; no host
    /// read happens here.
    pub fn record(&mut self, name: &str, value: Tensor<B, 1>, examples: usize) {
        self.figures.add(name, value.inner(), examples);
    }

    pub fn rank(&self) -> usize {
        self.reducer.rank()
    }

    pub fn world(&self) -> usize {
        self.reducer.world()
    }
}

/// Evaluation's view of the run: the device, batching settings and the progress display.
pub struct EvalContext<'a, B: Backend> {
    pub device: &'a B::Device,
    pub batch_size: usize,
    pub num_workers: usize,
    /// (epoch, epochs) for the display; epoch 0 for the final test.
    pub epoch: (usize, usize),
    observer: &'a mut dyn TrainingObserver,
}

impl<'a, B: Backend> EvalContext<'a, B> {
    pub fn new(
        device: &'a B::Device,
        batch_size: usize,
        num_workers: usize,
        epoch: (usize, usize),
        observer: &'a mut dyn TrainingObserver,
    ) -> Self {
        Self { device, batch_size, num_workers, epoch, observer }
    }

    /// Starts a pass of `examples` examples shown as `phase`.
    pub fn begin(&mut self, phase: Phase, examples: usize) -> EvalPass<'_, 'a, B> {
        self.begin_steps(phase, examples.div_ceil(self.batch_size))
    }

    /// Starts a pass of `steps` steps that are not batches of examples (a sampler's network
    /// evaluations), advanced with [`EvalPass::tick`].
    pub fn begin_steps(&mut self, phase: Phase, steps: usize) -> EvalPass<'_, 'a, B> {
        let (epoch, epochs) = self.epoch;
        self.observer.on_phase_start(phase, epoch, epochs, steps);
        let progress = StepProgress::new(phase, (epoch, epochs), steps);
        EvalPass { ctx: self, meter: FigureMeter::default(), progress, start: Instant::now(), seen: 0 }
    }
}

/// One pass over a split: batches with progress, figures on the device read once at the end.
pub struct EvalPass<'c, 'a, B: Backend> {
    ctx: &'c mut EvalContext<'a, B>,
    meter: FigureMeter<B>,
    progress: StepProgress,
    start: Instant,
    seen: usize,
}

impl<B: Backend> EvalPass<'_, '_, B> {
    /// Calls `consume` on the host batch of each chunk of `indices`, built by `make` on the
    /// data workers; `consume` adds figures to the pass's meter.
    pub fn run<T, G, F>(&mut self, indices: &[usize], make: G, mut consume: F) -> Result<()>
    where
        T: Send,
        G: Fn(&[usize]) -> T + Sync,
        F: FnMut(T, &mut FigureMeter<B>) -> Result<()>,
    {
        let batch_size = self.ctx.batch_size;
        let mut sizes = indices.chunks(batch_size).map(<[usize]>::len);
        let (meter, progress, observer) = (&mut self.meter, &mut self.progress, &mut *self.ctx.observer);
        let (start, seen) = (self.start, &mut self.seen);
        for_each_batch(
            indices,
            batch_size,
            self.ctx.num_workers,
            |chunk, _| make(chunk),
            |batch| {
                consume(batch, meter)?;
                *seen += sizes.next().unwrap_or(0);
                progress.step += 1;
                progress.samples_per_second = *seen as f64 / start.elapsed().as_secs_f64().max(1e-9);
                observer.on_step(progress);
                Ok(())
            },
        )
    }

    /// One step of a pass begun with [`EvalContext::begin_steps`], `examples` of work done.
    pub fn tick(&mut self, examples: usize) {
        self.seen += examples;
        self.progress.step += 1;
        self.progress.samples_per_second = self.seen as f64 / self.start.elapsed().as_secs_f64().max(1e-9);
        self.ctx.observer.on_step(&self.progress);
    }

    /// Reads the pass's figures (one transfer), adds `host` figures computed on the host, shows
    /// them and returns them all.
    pub fn end(self, host: Figures) -> Result<Figures> {
        let mut figures = self.meter.read(&SingleDevice, 0)?;
        figures.extend(host);
        let mut progress = self.progress;
        progress.figures = figures.clone();
        self.ctx.observer.on_phase_end(&progress);
        Ok(figures)
    }
}
