//! Classifier guidance against closed forms: on a two-class Gaussian mixture, the unconditional
//! denoiser guided at s = 1 by the exact ∇ log p(y | x) is the exact class-conditional denoiser
//! (Bayes' rule on the score); the autodiff gradient of a linear classifier is softmax
//! regression's `c_in·(w_y − Σ_k p_k w_k)`.

use super::*;
use burn::backend::Autodiff;
use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use kiln_generative::analytic::GaussianData;
use kiln_generative::guidance::{ClassGradient, ClassifierGuided, ClassifierNetwork, DifferentiatedClassifier};
use kiln_generative::{Denoiser, NoiseLevel, Parameterization, Preconditioning, Prediction};

/// Two equally likely classes of 1-D data: class k ~ N(MEANS[k], S²).
const MEANS: [f64; 2] = [-1.5, 2.0];
const S: f64 = 0.6;

/// (log p(x | class k) up to a shared constant, and its derivative in x), for x = α·x₀ + σ·ε.
fn class_likelihood(x: f64, k: usize, level: NoiseLevel) -> (f64, f64) {
    let variance = level.alpha * level.alpha * S * S + level.sigma * level.sigma;
    let d = x - level.alpha * MEANS[k];
    (-d * d / (2.0 * variance), -d / variance)
}

/// p(class | x) for both classes.
fn posterior(x: f64, level: NoiseLevel) -> [f64; 2] {
    let (l0, l1) = (class_likelihood(x, 0, level).0, class_likelihood(x, 1, level).0);
    let p1 = 1.0 / (1.0 + (l0 - l1).exp());
    [1.0 - p1, p1]
}

/// The exact denoiser of the mixture: the class posteriors' mix of each class's posterior mean.
struct Mixture;

impl Denoiser<B, 2> for Mixture {
    fn denoise(&self, x: Tensor<B, 2>, level: NoiseLevel) -> Prediction<B, 2> {
        let values: Vec<f64> = x.clone().into_data().convert::<f64>().to_vec().unwrap();
        let class_mean = |k: usize, x: f64| {
            let gain = level.alpha * S * S / (level.alpha * level.alpha * S * S + level.sigma * level.sigma);
            MEANS[k] + gain * (x - level.alpha * MEANS[k])
        };
        let x0: Vec<f32> = values
            .iter()
            .map(|&v| {
                let p = posterior(v, level);
                (p[0] * class_mean(0, v) + p[1] * class_mean(1, v)) as f32
            })
            .collect();
        Prediction::new(Tensor::from_data(TensorData::new(x0, x.dims()), &x.device()), level)
    }
}

/// The exact ∇ₓ log p(y | x) = ∂ log p(x | y) − Σ_k p(k | x) ∂ log p(x | k).
struct ExactClassifier;

impl ClassGradient<B, 2> for ExactClassifier {
    fn grad_log_prob(&self, x: Tensor<B, 2>, level: NoiseLevel, class: Tensor<B, 1, Int>) -> Tensor<B, 2> {
        let values: Vec<f64> = x.clone().into_data().convert::<f64>().to_vec().unwrap();
        let classes: Vec<i64> = class.into_data().convert::<i64>().to_vec().unwrap();
        let grad: Vec<f32> = values
            .iter()
            .zip(&classes)
            .map(|(&v, &y)| {
                let p = posterior(v, level);
                let d = |k| class_likelihood(v, k, level).1;
                (d(y as usize) - p[0] * d(0) - p[1] * d(1)) as f32
            })
            .collect();
        Tensor::from_data(TensorData::new(grad, x.dims()), &x.device())
    }
}

#[test]
fn guiding_the_unconditional_denoiser_at_scale_one_gives_the_class_conditional_one() {
    let device = Default::default();
    let x = Tensor::<B, 2>::from_floats([[-3.0], [-0.4], [0.3], [1.1], [4.0]], &device);
    for level in [NoiseLevel::from_alpha_bar(0.9), NoiseLevel::from_alpha_bar(0.2), NoiseLevel::exploding(2.5)] {
        for y in 0..2 {
            let class = Tensor::<B, 1, Int>::from_ints([y as i64; 5], &device);
            let guided = ClassifierGuided { inner: Mixture, classifier: &ExactClassifier, class, scale: 1.0 };
            let got = guided.denoise(x.clone(), level).x0;
            let want = GaussianData::new(MEANS[y], S).denoise(x.clone(), level).x0;
            let gap = (got - want).abs().max().into_scalar();
            assert!(gap < 1e-5, "class {y} at {level:?}: off by {gap}");
        }
    }
}

#[test]
fn a_larger_scale_moves_the_estimate_further_toward_the_class() {
    let device = Default::default();
    // Halfway between the classes, at a noisy level: x̂₀ + s·σ²/α·∇ grows linearly in s.
    let level = NoiseLevel::from_alpha_bar(0.3);
    let x = Tensor::<B, 2>::from_floats([[0.25]], &device);
    let estimate = |scale: f64| {
        let class = Tensor::<B, 1, Int>::from_ints([1], &device);
        let guided = ClassifierGuided { inner: Mixture, classifier: &ExactClassifier, class, scale };
        f64::from(guided.denoise(x.clone(), level).x0.into_scalar())
    };
    let (s0, s1, s4) = (estimate(0.0), estimate(1.0), estimate(4.0));
    assert!(s1 > s0 && s4 > s1, "toward class 1's mean 2.0: {s0} {s1} {s4}");
    assert!(((s4 - s0) - 4.0 * (s1 - s0)).abs() < 1e-5);
}

type A = Autodiff<B>;

/// Softmax regression on the point itself: logits = W·x + b, blind to the noise level.
#[derive(Module, Debug)]
struct LinearClassifier<B: Backend> {
    linear: Linear<B>,
}

impl<Q: Backend> ClassifierNetwork<Q, 2> for LinearClassifier<Q> {
    fn logits(&self, x: Tensor<Q, 2>, _c_noise: Tensor<Q, 1>) -> Tensor<Q, 2> {
        self.linear.forward(x)
    }
}

#[test]
fn the_autodiff_gradient_is_softmax_regressions() {
    let device = Default::default();
    let classifier = LinearClassifier::<A> { linear: LinearConfig::new(2, 3).init(&device) }.no_grad();
    let w: Vec<f64> = classifier.linear.weight.val().into_data().convert::<f64>().to_vec().unwrap(); // [2, 3]
    let b: Vec<f64> = classifier.linear.bias.as_ref().unwrap().val().into_data().convert::<f64>().to_vec().unwrap();
    // ε-prediction on a VP level with σ_d = 0.5: c_in = 1/√(σ² + α²·0.25).
    let preconditioning = Preconditioning::new(Parameterization::Epsilon, 0.5);
    let level = NoiseLevel::from_alpha_bar(0.64);
    let c_in = preconditioning.c_in(level);
    let points = [[0.3, -1.2], [2.0, 0.5]];
    let classes = [2i64, 0];
    let x = Tensor::<B, 2>::from_floats(points, &device);
    let class = Tensor::<B, 1, Int>::from_ints(classes, &device);
    let grad = DifferentiatedClassifier::new(&classifier, preconditioning).grad_log_prob(x, level, class);
    let grad: Vec<f64> = grad.into_data().convert::<f64>().to_vec().unwrap();
    for (i, (p, &y)) in points.iter().zip(&classes).enumerate() {
        let logit = |k: usize| b[k] + c_in * (p[0] * w[k] + p[1] * w[3 + k]);
        let z: f64 = (0..3).map(|k| logit(k).exp()).sum();
        for d in 0..2 {
            let mixed: f64 = (0..3).map(|k| logit(k).exp() / z * w[3 * d + k]).sum();
            let want = c_in * (w[3 * d + y as usize] - mixed);
            assert!(
                (grad[2 * i + d] - want).abs() < 1e-5,
                "example {i}, coordinate {d}: {} vs {want}",
                grad[2 * i + d]
            );
        }
    }
}
