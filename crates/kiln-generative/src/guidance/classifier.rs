//! Classifier guidance (Dhariwal & Nichol 2021, §4): a classifier trained on noised points
//! steers sampling toward class y by adding s·∇ₓ log p(y | x) to the score. On the clean-data
//! estimate that is `x̂₀ + s·σ²/α·∇ₓ log p(y | x)`, since Tweedie's formula gives
//! `x̂₀ = (x + σ²·∇ₓ log p(x))/α` at `x = α·x₀ + σ·ε`. For DDIM this is exactly their
//! Algorithm 2 (ε̂ − s·√(1 − ᾱ)·∇); the DDPM sampler moves its mean by the posterior-mean
//! coefficient of x̂₀ times that shift, β_t/√(1 − β_t)·s·∇, where their Algorithm 1 moves it by
//! the posterior variance β̃_t·s·∇ — the two agree where ᾱ_{t−1} is small and differ by the factor
//! (1 − ᾱ_{t−1})·√(1 − β_t) near the data. At s = 1 a guided unconditional denoiser is the exact
//! class-conditional one (Bayes' rule on the score).

use burn::module::AutodiffModule;
use burn::prelude::*;
use burn::tensor::activation::log_softmax;
use burn::tensor::backend::AutodiffBackend;

use crate::denoiser::Denoiser;
use crate::level::NoiseLevel;
use crate::objective::{noised, NoiseDraw};
use crate::parameterization::Preconditioning;
use crate::prediction::Prediction;

/// A classifier of noised points: class logits `[N, K]` of `x` (already scaled by `c_in`) at
/// the noise inputs `c_noise` `[N]`, read through the same [`Preconditioning`] as a denoiser so
/// that it answers at the levels of any sampler.
pub trait ClassifierNetwork<B: Backend, const D: usize> {
    fn logits(&self, x: Tensor<B, D>, c_noise: Tensor<B, 1>) -> Tensor<B, 2>;
}

/// `∇ₓ log p(class | x)` at `level`, one class per example.
pub trait ClassGradient<B: Backend, const D: usize> {
    fn grad_log_prob(&self, x: Tensor<B, D>, level: NoiseLevel, class: Tensor<B, 1, Int>) -> Tensor<B, D>;
}

/// The classifier's logits `[N, K]` for points `x` at `levels` (one per example).
fn logits_at<B: Backend, const D: usize, C: ClassifierNetwork<B, D>>(
    classifier: &C,
    preconditioning: &Preconditioning,
    x: Tensor<B, D>,
    levels: &[NoiseLevel],
) -> Tensor<B, 2> {
    let device = x.device();
    let n = levels.len();
    let mut shape = [1; D];
    shape[0] = n;
    let c_in: Vec<f32> = levels.iter().map(|l| preconditioning.c_in(*l) as f32).collect();
    let c_in = Tensor::<B, 1>::from_data(TensorData::new(c_in, [n]), &device).reshape(shape);
    let c_noise: Vec<f32> = levels.iter().map(|l| preconditioning.c_noise(*l) as f32).collect();
    let c_noise = Tensor::<B, 1>::from_data(TensorData::new(c_noise, [n]), &device);
    classifier.logits(x * c_in, c_noise)
}

/// `log p(class | logits)` per example `[N]`.
fn pick_log_prob<B: Backend>(logits: Tensor<B, 2>, class: Tensor<B, 1, Int>) -> Tensor<B, 1> {
    log_softmax(logits, 1).gather(1, class.unsqueeze_dim::<2>(1)).flatten::<1>(0, 1)
}

/// The classifier's logits `[N, K]` on clean data `x0` noised as `draw` says (its levels and
/// noise; its classes are not read).
pub fn noisy_logits<B: Backend, const D: usize, C: ClassifierNetwork<B, D>>(
    classifier: &C,
    preconditioning: &Preconditioning,
    x0: Tensor<B, D>,
    draw: &NoiseDraw,
) -> Tensor<B, 2> {
    let x = noised(x0, draw);
    logits_at(classifier, preconditioning, x, &draw.levels)
}

/// The classifier's `log p(y | x)` per example `[N]` on clean data `x0` noised as `draw` says,
/// `y` being the draw's classes (which must be given): training maximises it, i.e. minimises
/// the cross-entropy on noised points.
pub fn noisy_log_prob<B: Backend, const D: usize, C: ClassifierNetwork<B, D>>(
    classifier: &C,
    preconditioning: &Preconditioning,
    x0: Tensor<B, D>,
    draw: &NoiseDraw,
) -> Tensor<B, 1> {
    let device = x0.device();
    let classes = draw.classes.clone().expect("a classifier trains on labelled examples");
    let class = Tensor::<B, 1, Int>::from_data(TensorData::new(classes, [draw.levels.len()]), &device);
    pick_log_prob(noisy_logits(classifier, preconditioning, x0, draw), class)
}

/// A [`ClassifierNetwork`] on an autodiff backend `A`, differentiated with respect to its input
/// for samplers running on `A`'s inner backend (the parameters take no gradient).
pub struct DifferentiatedClassifier<'a, A: AutodiffBackend, C> {
    pub classifier: &'a C,
    pub preconditioning: Preconditioning,
    _backend: std::marker::PhantomData<A>,
}

impl<'a, A: AutodiffBackend, C: AutodiffModule<A>> DifferentiatedClassifier<'a, A, C> {
    /// `classifier` should hold no parameter gradients (`Module::no_grad`), which sampling
    /// never needs.
    pub fn new(classifier: &'a C, preconditioning: Preconditioning) -> Self {
        Self { classifier, preconditioning, _backend: std::marker::PhantomData }
    }
}

impl<A, C, const D: usize> ClassGradient<A::InnerBackend, D> for DifferentiatedClassifier<'_, A, C>
where
    A: AutodiffBackend,
    C: ClassifierNetwork<A, D>,
{
    fn grad_log_prob(
        &self,
        x: Tensor<A::InnerBackend, D>,
        level: NoiseLevel,
        class: Tensor<A::InnerBackend, 1, Int>,
    ) -> Tensor<A::InnerBackend, D> {
        let n = x.dims()[0];
        let x = Tensor::<A, D>::from_inner(x).require_grad();
        let class = Tensor::<A, 1, Int>::from_inner(class);
        let logits = logits_at(self.classifier, &self.preconditioning, x.clone(), &vec![level; n]);
        let log_p = pick_log_prob(logits, class);
        // Each example's log-probability depends on its own input only, so the gradient of the
        // sum is every example's own gradient.
        let grads = log_p.sum().backward();
        x.grad(&grads).expect("the input requires a gradient")
    }
}

/// `inner` guided toward `class` by a classifier's gradient with scale `scale` (0: unguided).
///
/// ```
/// use burn::backend::{Autodiff, NdArray};
/// use burn::module::Module;
/// use burn::prelude::*;
/// use kiln_generative::analytic::GaussianData;
/// use kiln_generative::guidance::{ClassifierGuided, DifferentiatedClassifier};
/// use kiln_generative::network::NoisyClassifierConfig;
/// use kiln_generative::{Denoiser, NoiseLevel, Parameterization, Preconditioning};
///
/// let device = Default::default();
/// // A noise-aware classifier on the autodiff backend, differentiated for samplers on NdArray.
/// let classifier = NoisyClassifierConfig::new(10).with_channels(8).init::<Autodiff<NdArray>>(&device).no_grad();
/// let preconditioning = Preconditioning::new(Parameterization::Epsilon, 1.0);
/// let gradient = DifferentiatedClassifier::<Autodiff<NdArray>, _>::new(&classifier, preconditioning);
/// let class = Tensor::<NdArray, 1, Int>::from_ints([3, 7], &device);
/// let guided = ClassifierGuided { inner: GaussianData::new(0.0, 0.5), classifier: &gradient, class, scale: 4.0 };
/// let x = Tensor::<NdArray, 4>::zeros([2, 1, 28, 28], &device);
/// let unguided = GaussianData::new(0.0, 0.5).denoise(x.clone(), NoiseLevel::from_alpha_bar(0.5)).x0;
/// let steered = guided.denoise(x, NoiseLevel::from_alpha_bar(0.5)).x0;
/// assert_eq!(steered.dims(), [2, 1, 28, 28]);
/// assert!((steered - unguided).abs().max().into_scalar() > 0.0);
/// ```
pub struct ClassifierGuided<'a, M, G: ?Sized, B: Backend> {
    pub inner: M,
    pub classifier: &'a G,
    pub class: Tensor<B, 1, Int>,
    pub scale: f64,
}

impl<B: Backend, const D: usize, M: Denoiser<B, D>, G: ClassGradient<B, D> + ?Sized> Denoiser<B, D>
    for ClassifierGuided<'_, M, G, B>
{
    fn denoise(&self, x: Tensor<B, D>, level: NoiseLevel) -> Prediction<B, D> {
        let prediction = self.inner.denoise(x.clone(), level);
        // At α = 0 (a flow's pure-noise end) x carries no data to steer.
        if self.scale == 0.0 || level.alpha == 0.0 {
            return prediction;
        }
        let gradient = self.classifier.grad_log_prob(x, level, self.class.clone());
        let shift = self.scale * level.sigma * level.sigma / level.alpha;
        Prediction::new(prediction.x0 + gradient.mul_scalar(shift), level)
    }
}
