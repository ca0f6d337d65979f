//! Steering a denoiser toward a class at sampling time: classifier-free guidance (one network
//! trained with and without its class) and classifier guidance (a separate classifier of noised
//! points). Both are denoisers, so every sampler runs guided.

mod classifier;
mod classifier_free;

pub use classifier::{
    noisy_log_prob, noisy_logits, ClassGradient, ClassifierGuided, ClassifierNetwork, DifferentiatedClassifier,
};
pub use classifier_free::ClassifierFree;
