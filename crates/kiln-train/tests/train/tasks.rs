//! Three tiny tasks written against the public `Task` trait, each proving one step shape of the
//! loop under both strategies: an EMA copy updated after every step and used for evaluation, a
//! 2-D GAN alternating two optimizers and evaluated by sampling, and a recurrence whose hidden
//! state is carried across batches (truncated BPTT) and reset every epoch.

use std::path::Path;

use burn::module::{AutodiffModule, Module, Param};
use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::{relu, softplus};
use kiln_train::checkpoint::{CheckpointReader, CheckpointWriter};
use kiln_train::config::{OptimSection, OptimizerName};
use kiln_train::figures::Figures;
use kiln_train::optimizer::AnyOptimizer;
use kiln_train::progress::Silent;
use kiln_train::task::{BatchKey, EvalContext, Split, StepContext, Task};
use kiln_train::trainer::{fit, FitOutcome, FitSettings, RunPaths};
use kiln_train::Result;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

type A = burn::backend::Autodiff<burn::backend::NdArray>;

fn optim(name: OptimizerName, lr: f64) -> OptimSection {
    OptimSection {
        name,
        lr,
        weight_decay: 0.0,
        betas: [0.9, 0.999],
        eps: 1e-8,
        momentum: 0.0,
        nesterov: false,
        grad_clip: None,
    }
}

fn train<T: Task<A>>(task: &T, model: T::Model, settings: &FitSettings, dir: &Path) -> FitOutcome<T::Model> {
    let _guard = super::ddp::collective();
    fit(task, model, settings, &Default::default(), &RunPaths::new(dir), &mut Silent, None).unwrap()
}

fn test_figures<T: Task<A>>(task: &T, model: &T::Model) -> Figures {
    let device = Default::default();
    task.evaluate(model, Split::Test, &mut EvalContext::new(&device, 64, 0, (0, 0), &mut Silent)).unwrap()
}

fn scalar<B: Backend>(t: Tensor<B, 1>) -> f64 {
    t.into_data().convert::<f64>().to_vec::<f64>().unwrap()[0]
}

/// One learnable number.
#[derive(Module, Debug)]
struct Scalar<B: Backend> {
    w: Param<Tensor<B, 1>>,
}

fn scalar_module<B: Backend>(value: f32, device: &B::Device) -> Scalar<B> {
    Scalar { w: Param::from_tensor(Tensor::from_floats([value], device)) }
}

mod ema {
    use super::*;

    /// A weight `net` regressed onto `TARGET`, and its EMA copy.
    #[derive(Module, Debug)]
    pub struct WithEma<B: Backend> {
        net: Scalar<B>,
        ema: Scalar<B>,
    }

    const TARGET: f64 = 3.0;
    const START: f32 = -1.0;
    const DECAY: f64 = 0.8;

    struct EmaRegression;

    impl Task<A> for EmaRegression {
        type Model = WithEma<A>;
        type Optimizers = AnyOptimizer<Scalar<A>, A>;
        type Batch = usize;
        type Carry = ();

        fn optimizers(&self) -> Self::Optimizers {
            AnyOptimizer::new(&optim(OptimizerName::Sgd, 0.1))
        }
        fn train_examples(&self) -> Vec<usize> {
            (0..64).collect()
        }
        fn train_batch(&self, indices: &[usize], _: BatchKey) -> usize {
            indices.len()
        }
        fn train_step(
            &self,
            mut model: WithEma<A>,
            optimizers: &mut Self::Optimizers,
            n: usize,
            _: &mut (),
            ctx: &mut StepContext<'_, A>,
        ) -> Result<WithEma<A>> {
            // Every example has the same target: the batch mean of (w − t)² is (w − t)².
            let loss = (model.net.w.val() - TARGET).powi_scalar(2);
            ctx.record("loss", loss.clone(), n);
            let grads = ctx.grads(loss, &model.net)?;
            model.net = optimizers.step(ctx.lr, model.net, grads);
            Ok(model)
        }
        fn after_step(&self, mut model: WithEma<A>, _step: usize) -> WithEma<A> {
            model.ema = kiln_train::ema::ema_update(model.ema, &model.net, DECAY);
            model
        }
        fn has_split(&self, split: Split) -> bool {
            split == Split::Test
        }
        fn evaluate(
            &self,
            model: &WithEma<A>,
            _: Split,
            _: &mut EvalContext<'_, burn::backend::NdArray>,
        ) -> Result<Figures> {
            let model = model.valid();
            let (w, e) = (scalar(model.net.w.val()), scalar(model.ema.w.val()));
            Ok(Figures::from([("weight".into(), w), ("ema_weight".into(), e), ("loss".into(), (e - TARGET).powi(2))]))
        }
        fn save(&self, model: &WithEma<A>, optimizers: &Self::Optimizers, out: &mut CheckpointWriter) -> Result<()> {
            out.module("net", &model.net)?;
            out.module("ema", &model.ema)?;
            out.optimizer("net", optimizers)
        }
        fn load(
            &self,
            mut model: WithEma<A>,
            optimizers: Self::Optimizers,
            from: &CheckpointReader,
            device: &burn::tensor::Device<A>,
        ) -> Result<(WithEma<A>, Self::Optimizers)> {
            model.net = from.module("net", model.net)?;
            model.ema = from.module("ema", model.ema)?;
            Ok((model, from.optimizer("net", optimizers, device)?))
        }
        fn synthetic_batch(&self, batch_size: usize, _: u64) -> usize {
            batch_size
        }
    }

    fn fresh() -> WithEma<A> {
        let device = Default::default();
        WithEma { net: scalar_module(START, &device), ema: scalar_module(START, &device) }
    }

    /// SGD on (w − t)² moves w by −2η(w − t): w_k = t + (w₀ − t)(1 − 2η)^k; the EMA follows
    /// e_k = β e_{k−1} + (1 − β) w_k from e₀ = w₀.
    fn closed_form(steps: usize) -> (f64, f64) {
        let (mut w, mut e) = (f64::from(START), f64::from(START));
        for _ in 0..steps {
            w = TARGET + (w - TARGET) * (1.0 - 2.0 * 0.1);
            e = DECAY * e + (1.0 - DECAY) * w;
        }
        (w, e)
    }

    #[test]
    fn the_ema_copy_follows_its_formula_and_is_what_evaluation_scores_under_both_strategies() {
        let (w, e) = closed_form(8); // 2 epochs × 64 examples / 16
        for settings in [FitSettings::single(1, 2, 16, 0.1), FitSettings::single(1, 2, 8, 0.1).ddp(2)] {
            let out = tempfile::tempdir().unwrap();
            let outcome = train(&EmaRegression, fresh(), &settings, out.path());
            assert_eq!(outcome.state.global_step, 8, "{settings:?}");
            let figures = test_figures(&EmaRegression, &outcome.model);
            assert!((figures["weight"] - w).abs() < 1e-5, "{settings:?}: w {} vs {w}", figures["weight"]);
            assert!((figures["ema_weight"] - e).abs() < 1e-5, "{settings:?}: ema {} vs {e}", figures["ema_weight"]);
            assert!((figures["loss"] - (e - TARGET).powi(2)).abs() < 1e-4);
            // The EMA lags behind the net: scoring the net instead would give a different number.
            assert!((e - w).abs() > 0.1);
            // Named modules in safetensors: an 8-byte header length, then JSON naming the tensor.
            let ck = out.path().join("checkpoints/epoch-0002");
            for name in ["net", "ema"] {
                let bytes = std::fs::read(ck.join(format!("{name}.safetensors"))).unwrap();
                let header = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
                let json: serde_json::Value = serde_json::from_slice(&bytes[8..8 + header]).unwrap();
                assert_eq!(json["w"]["dtype"], "F32", "{json}");
                assert_eq!(json["w"]["shape"], serde_json::json!([1]), "{json}");
            }
            assert!(ck.join("optim/net.bin").is_file());
        }
    }
}

mod gan {
    use super::*;

    /// Where the data's Gaussian sits, and its spread.
    const MEAN: [f32; 2] = [2.0, -1.0];
    const SPREAD: f32 = 0.1;

    #[derive(Module, Debug)]
    pub struct Critic<B: Backend> {
        hidden: Linear<B>,
        out: Linear<B>,
    }

    impl<B: Backend> Critic<B> {
        fn forward(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
            self.out.forward(relu(self.hidden.forward(x)))
        }
    }

    /// A linear generator (it can match a Gaussian exactly) and an MLP discriminator.
    #[derive(Module, Debug)]
    pub struct Gan<B: Backend> {
        generator: Linear<B>,
        discriminator: Critic<B>,
    }

    pub struct GanOptimizers {
        generator: AnyOptimizer<Linear<A>, A>,
        discriminator: AnyOptimizer<Critic<A>, A>,
    }

    /// Real points and noise, both drawn per example and epoch: the same batch on one device and
    /// split over DDP peers.
    #[derive(Clone)]
    pub struct GanBatch {
        real: Vec<f32>,
        noise: Vec<f32>,
        n: usize,
    }

    fn normal(rng: &mut StdRng) -> f32 {
        let (u, v): (f32, f32) = (rng.random_range(f32::EPSILON..1.0), rng.random_range(0.0..1.0));
        (-2.0 * u.ln()).sqrt() * (std::f32::consts::TAU * v).cos()
    }

    struct TinyGan;

    impl Task<A> for TinyGan {
        type Model = Gan<A>;
        type Optimizers = GanOptimizers;
        type Batch = GanBatch;
        type Carry = ();

        fn optimizers(&self) -> GanOptimizers {
            let adam = optim(OptimizerName::Adam, 0.01);
            GanOptimizers { generator: AnyOptimizer::new(&adam), discriminator: AnyOptimizer::new(&adam) }
        }
        fn train_examples(&self) -> Vec<usize> {
            (0..256).collect()
        }
        fn train_batch(&self, indices: &[usize], key: BatchKey) -> GanBatch {
            let (mut real, mut noise) = (Vec::new(), Vec::new());
            for &i in indices {
                let mut rng = StdRng::seed_from_u64((key.epoch as u64) << 32 | i as u64);
                real.extend(MEAN.map(|m| m + SPREAD * normal(&mut rng)));
                noise.extend([normal(&mut rng), normal(&mut rng)]);
            }
            GanBatch { real, noise, n: indices.len() }
        }
        fn train_step(
            &self,
            mut model: Gan<A>,
            optimizers: &mut GanOptimizers,
            batch: GanBatch,
            _: &mut (),
            ctx: &mut StepContext<'_, A>,
        ) -> Result<Gan<A>> {
            let n = batch.n;
            let real = Tensor::<A, 2>::from_data(TensorData::new(batch.real, [n, 2]), ctx.device);
            let noise = Tensor::<A, 2>::from_data(TensorData::new(batch.noise, [n, 2]), ctx.device);
            // Discriminator: real → 1, generated → 0 (the non-saturating GAN of Goodfellow et al. 2014).
            let fake = model.generator.forward(noise.clone()).detach();
            let d = &model.discriminator;
            let d_loss = softplus(d.forward(real).neg(), 1.0).mean() + softplus(d.forward(fake), 1.0).mean();
            ctx.record("d_loss", d_loss.clone(), n);
            let grads = ctx.grads(d_loss, &model.discriminator)?;
            model.discriminator = optimizers.discriminator.step(ctx.lr, model.discriminator, grads);
            // Generator: make the discriminator say 1.
            let g_loss = softplus(model.discriminator.forward(model.generator.forward(noise)).neg(), 1.0).mean();
            ctx.record("g_loss", g_loss.clone(), n);
            let grads = ctx.grads(g_loss, &model.generator)?;
            model.generator = optimizers.generator.step(ctx.lr, model.generator, grads);
            Ok(model)
        }
        fn has_split(&self, split: Split) -> bool {
            split == Split::Test
        }
        /// Evaluation samples: 2,000 generated points, scored by the distance of their mean
        /// from the data's.
        fn evaluate(
            &self,
            model: &Gan<A>,
            _: Split,
            ctx: &mut EvalContext<'_, burn::backend::NdArray>,
        ) -> Result<Figures> {
            let mut rng = StdRng::seed_from_u64(7);
            let noise: Vec<f32> = (0..4000).map(|_| normal(&mut rng)).collect();
            let noise = Tensor::<burn::backend::NdArray, 2>::from_data(TensorData::new(noise, [2000, 2]), ctx.device);
            let mean: Vec<f32> = model.valid().generator.forward(noise).mean_dim(0).into_data().to_vec().unwrap();
            let error = ((mean[0] - MEAN[0]).powi(2) + (mean[1] - MEAN[1]).powi(2)).sqrt();
            Ok(Figures::from([("mean_error".into(), f64::from(error))]))
        }
        fn save(&self, model: &Gan<A>, optimizers: &GanOptimizers, out: &mut CheckpointWriter) -> Result<()> {
            out.module("generator", &model.generator)?;
            out.module("discriminator", &model.discriminator)?;
            out.optimizer("generator", &optimizers.generator)?;
            out.optimizer("discriminator", &optimizers.discriminator)
        }
        fn load(
            &self,
            mut model: Gan<A>,
            optimizers: GanOptimizers,
            from: &CheckpointReader,
            device: &burn::tensor::Device<A>,
        ) -> Result<(Gan<A>, GanOptimizers)> {
            model.generator = from.module("generator", model.generator)?;
            model.discriminator = from.module("discriminator", model.discriminator)?;
            let generator = from.optimizer("generator", optimizers.generator, device)?;
            let discriminator = from.optimizer("discriminator", optimizers.discriminator, device)?;
            Ok((model, GanOptimizers { generator, discriminator }))
        }
        fn synthetic_batch(&self, batch_size: usize, seed: u64) -> GanBatch {
            self.train_batch(&(0..batch_size).collect::<Vec<_>>(), BatchKey { seed, epoch: 1, index: 0 })
        }
    }

    /// The same initial weights every time, whatever other tests draw meanwhile: drawn on the
    /// host (Burn's default for a linear layer, uniform in ±1/√fan_in), not from the backend's
    /// generator, which tests running beside this one also draw from.
    fn fresh() -> Gan<A> {
        let device = Default::default();
        let mut rng = StdRng::seed_from_u64(3);
        let mut linear = |d_in: usize, d_out: usize| {
            let bound = 1.0 / (d_in as f32).sqrt();
            let mut draw = |n: usize| (0..n).map(|_| rng.random_range(-bound..bound)).collect::<Vec<f32>>();
            let mut layer: Linear<A> = LinearConfig::new(d_in, d_out).init(&device);
            layer.weight =
                Param::from_tensor(Tensor::from_data(TensorData::new(draw(d_in * d_out), [d_in, d_out]), &device));
            layer.bias = Some(Param::from_tensor(Tensor::from_data(TensorData::new(draw(d_out), [d_out]), &device)));
            layer
        };
        let gan = Gan { generator: linear(2, 2), discriminator: Critic { hidden: linear(2, 16), out: linear(16, 1) } };
        kiln_train::ddp::number_parameters(gan)
    }

    fn weights(model: &Gan<A>) -> Vec<f32> {
        super::super::flat_weights(model)
    }

    #[test]
    fn a_gan_alternates_two_optimizers_and_its_samples_move_to_the_data_under_both_strategies() {
        let task = TinyGan;
        let untrained = test_figures(&task, &fresh())["mean_error"];
        let out = tempfile::tempdir().unwrap();
        let mut settings = FitSettings::single(5, 40, 64, 0.01);
        settings.checkpoint_every = 40;
        let outcome = train(&task, fresh(), &settings, out.path());
        let last = outcome.state.history.last().unwrap();
        assert!(last.train.contains_key("d_loss") && last.train.contains_key("g_loss"), "{:?}", last.train);
        let trained = test_figures(&task, &outcome.model)["mean_error"];
        // An adversarial game circles its equilibrium rather than settling: the samples' mean comes
        // within a fraction of the way (with Burn's own initialisation it went 2.56 → 0.51 in 160 steps).
        assert!(trained < 0.75 && trained < untrained / 4.0, "mean error {untrained} → {trained}");
        assert!(out.path().join("checkpoints/epoch-0040/optim/discriminator.bin").is_file());

        // One device with 64 per step and two peers with 32 each take the same steps.
        let (single, ddp) = (FitSettings::single(5, 2, 64, 0.01), FitSettings::single(5, 2, 32, 0.01).ddp(2));
        let a = train(&task, fresh(), &single, tempfile::tempdir().unwrap().path());
        let b = train(&task, fresh(), &ddp, tempfile::tempdir().unwrap().path());
        let err = super::super::relative_error(&weights(&a.model), &weights(&b.model));
        assert!(err < 1e-5, "GAN weights after 8 steps, 1 × 64 vs 2 × 32: relative error {err:e}");
        let (fa, fb) = (&a.state.history[1].train, &b.state.history[1].train);
        assert!(
            (fa["d_loss"] - fb["d_loss"]).abs() < 1e-5 && (fa["g_loss"] - fb["g_loss"]).abs() < 1e-5,
            "{fa:?} {fb:?}"
        );
    }
}

mod carried_state {
    use super::*;

    const STREAMS: usize = 8;
    const WINDOW: usize = 8;
    const WINDOWS: usize = 8;
    const TRUE_A: f64 = 0.5;

    /// Window `w` of the streams of a batch: inputs and targets `[streams, WINDOW]`.
    #[derive(Clone)]
    pub struct Window {
        x: Vec<f32>,
        y: Vec<f32>,
        streams: usize,
    }

    /// y_t = 0.5 y_{t−1} + x_t from y_{−1} = 0 on each stream; the model h_t = a h_{t−1} + x_t
    /// learns `a` by truncated BPTT over windows of 8 steps.
    struct Recurrence {
        /// Carry the hidden state from one window to the next (else start every window at 0).
        carry: bool,
        x: Vec<Vec<f32>>,
        y: Vec<Vec<f32>>,
    }

    impl Recurrence {
        fn new(carry: bool) -> Self {
            let mut rng = StdRng::seed_from_u64(11);
            let x: Vec<Vec<f32>> =
                (0..STREAMS).map(|_| (0..WINDOW * WINDOWS).map(|_| rng.random_range(-1.0f32..1.0)).collect()).collect();
            let y = x
                .iter()
                .map(|xs| {
                    let mut y = 0.0f64;
                    xs.iter()
                        .map(|&x| {
                            y = TRUE_A * y + f64::from(x);
                            y as f32
                        })
                        .collect()
                })
                .collect();
            Self { carry, x, y }
        }
    }

    impl Task<A> for Recurrence {
        type Model = Scalar<A>;
        type Optimizers = AnyOptimizer<Scalar<A>, A>;
        type Batch = Window;
        /// Each stream's last hidden state, detached: gradients stop at the window's start.
        type Carry = Option<Tensor<A, 1>>;

        fn optimizers(&self) -> Self::Optimizers {
            AnyOptimizer::new(&optim(OptimizerName::Adam, 0.05))
        }
        /// Example `w · STREAMS + s` is window `w` of stream `s`: in order, a batch of
        /// `STREAMS` examples is one window of every stream, and a DDP peer keeps its streams.
        fn train_examples(&self) -> Vec<usize> {
            (0..STREAMS * WINDOWS).collect()
        }
        fn shuffle(&self) -> bool {
            false
        }
        fn train_batch(&self, indices: &[usize], _: BatchKey) -> Window {
            let (mut x, mut y) = (Vec::new(), Vec::new());
            for &i in indices {
                let (w, s) = (i / STREAMS, i % STREAMS);
                x.extend(&self.x[s][w * WINDOW..(w + 1) * WINDOW]);
                y.extend(&self.y[s][w * WINDOW..(w + 1) * WINDOW]);
            }
            Window { x, y, streams: indices.len() }
        }
        fn train_step(
            &self,
            model: Scalar<A>,
            optimizers: &mut Self::Optimizers,
            batch: Window,
            carry: &mut Option<Tensor<A, 1>>,
            ctx: &mut StepContext<'_, A>,
        ) -> Result<Scalar<A>> {
            let s = batch.streams;
            let x = Tensor::<A, 2>::from_data(TensorData::new(batch.x, [s, WINDOW]), ctx.device);
            let y = Tensor::<A, 2>::from_data(TensorData::new(batch.y, [s, WINDOW]), ctx.device);
            let a = model.w.val();
            let mut h = match carry.take() {
                Some(h) if self.carry => h,
                _ => Tensor::zeros([s], ctx.device),
            };
            let mut loss = Tensor::<A, 1>::zeros([1], ctx.device);
            for t in 0..WINDOW {
                let x_t = x.clone().slice([0..s, t..t + 1]).reshape([s]);
                let y_t = y.clone().slice([0..s, t..t + 1]).reshape([s]);
                h = h * a.clone().expand([s]) + x_t;
                loss = loss + (h.clone() - y_t).powi_scalar(2).mean();
            }
            *carry = Some(h.detach());
            let loss = loss / WINDOW as f64;
            ctx.record("loss", loss.clone(), s);
            let grads = ctx.grads(loss, &model)?;
            Ok(optimizers.step(ctx.lr, model, grads))
        }
        fn has_split(&self, split: Split) -> bool {
            split == Split::Test
        }
        fn evaluate(
            &self,
            model: &Scalar<A>,
            _: Split,
            _: &mut EvalContext<'_, burn::backend::NdArray>,
        ) -> Result<Figures> {
            Ok(Figures::from([("a".into(), scalar(model.valid().w.val()))]))
        }
        fn save(&self, model: &Scalar<A>, optimizers: &Self::Optimizers, out: &mut CheckpointWriter) -> Result<()> {
            out.module("model", model)?;
            out.optimizer("model", optimizers)
        }
        fn load(
            &self,
            model: Scalar<A>,
            optimizers: Self::Optimizers,
            from: &CheckpointReader,
            device: &burn::tensor::Device<A>,
        ) -> Result<(Scalar<A>, Self::Optimizers)> {
            Ok((from.module("model", model)?, from.optimizer("model", optimizers, device)?))
        }
        fn synthetic_batch(&self, batch_size: usize, _: u64) -> Window {
            self.train_batch(&(0..batch_size).collect::<Vec<_>>(), BatchKey { seed: 0, epoch: 1, index: 0 })
        }
    }

    fn fit_a(task: &Recurrence, settings: &FitSettings) -> (f64, f64) {
        let out = tempfile::tempdir().unwrap();
        let mut settings = settings.clone();
        settings.checkpoint_every = settings.epochs;
        let outcome = train(task, scalar_module(0.0, &Default::default()), &settings, out.path());
        (test_figures(task, &outcome.model)["a"], outcome.state.history.last().unwrap().train["loss"])
    }

    #[test]
    fn carried_state_lets_truncated_bptt_fit_the_recurrence_exactly_under_both_strategies() {
        let carried = Recurrence::new(true);
        let (a, loss) = fit_a(&carried, &FitSettings::single(0, 40, STREAMS, 0.05));
        assert!((a - TRUE_A).abs() < 0.01 && loss < 1e-4, "carried: a {a}, loss {loss}");
        // Two peers with 4 streams each make the same steps.
        let (a_ddp, loss_ddp) = fit_a(&carried, &FitSettings::single(0, 40, STREAMS / 2, 0.05).ddp(2));
        assert!(
            (a - a_ddp).abs() < 1e-5 && (loss - loss_ddp).abs() < 1e-6,
            "single {a} {loss}, ddp {a_ddp} {loss_ddp}"
        );
        // Restarting every window from zero cannot fit the windows' first steps.
        let (_, reset_loss) = fit_a(&Recurrence::new(false), &FitSettings::single(0, 40, STREAMS, 0.05));
        assert!(reset_loss > 10.0 * loss.max(1e-6), "reset every window: loss {reset_loss} vs carried {loss}");
    }
}
