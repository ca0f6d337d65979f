//! The classifier of classifier guidance (`[sampling] classifier`): a trained
//! `noisy_classification` run, opened with the data and read on the autodiff backend, whose
//! input gradient steers a diffusion run's samples.

use std::path::Path;

use burn::prelude::*;
use kiln_generative::network::{NoisyClassifier, NoisyClassifierConfig};
use kiln_generative::Preconditioning;

use super::objective::Objective;
use super::trained_run::TrainedRun;
use super::{models, DIGIT_CLASSES};
use crate::error::{KilnError, Result};

pub struct GuidanceClassifier {
    run: TrainedRun,
    config: NoisyClassifierConfig,
    /// How the classifier reads a level (its own process's c_in and c_noise).
    pub preconditioning: Preconditioning,
}

impl GuidanceClassifier {
    /// The run at `path` (or the newest finished run in that folder).
    pub fn open(path: &Path) -> Result<Self> {
        let purpose = "classifier guidance steers samples with a noise-aware classifier; train one first with \
                       `kiln run experiments/mnist-guidance-classifier.toml`";
        let run = TrainedRun::open(path, "[sampling] classifier", purpose)?;
        if run.cfg.task.name != "noisy_classification" || run.cfg.data.dataset != "mnist" {
            return Err(run.wrong_kind("[sampling] classifier", "a noisy_classification run on digits"));
        }
        let model = &run.cfg.model;
        let broken = |message: String| {
            KilnError::Unsupported(format!("[sampling] classifier: {}: {message}", run.dir.display()))
        };
        let config = models::noisy_classifier_config(&model.name, &model.params, [1, 28, 28], DIGIT_CLASSES)
            .map_err(|p| broken(p.message))?;
        let objective = Objective::from_section(&run.cfg.loss).map_err(|p| broken(p.message))?;
        Ok(Self { preconditioning: objective.preconditioning, config, run })
    }

    /// The trained classifier on `device`, holding no parameter gradients (guidance needs only
    /// the gradient with respect to the input).
    pub fn load<B: Backend>(&self, device: &B::Device) -> Result<NoisyClassifier<B>> {
        let model = self.run.checkpoint.module("model", self.config.init::<B>(device))?;
        Ok(burn::module::Module::no_grad(model))
    }
}
