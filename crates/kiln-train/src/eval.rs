//! `kiln eval <run-dir>`: the newest checkpoint of a run, evaluated again.

use std::collections::BTreeMap;
use std::path::Path;

use burn::module::AutodiffModule;
use burn::tensor::backend::{AutodiffBackend, Backend};
use kiln_vision::ImageClassifier;

use crate::backend::{dispatch, BackendTask};
use crate::checkpoint::{self, load_model_bytes};
use crate::config::{load_experiment, ExperimentConfig};
use crate::error::{KilnError, Result};
use crate::progress::{Phase, TrainingObserver};
use crate::registry::{with_classifier, ClassifierTask};
use crate::task::classification::{evaluate, ClassificationData};
use crate::trainer::RunPaths;

/// Test (and validation) metrics of the newest checkpoint in `run_dir`, on `backend` or the
/// run's own.
pub fn evaluate_run(
    run_dir: &Path,
    backend: Option<&str>,
    observer: &mut dyn TrainingObserver,
) -> Result<BTreeMap<String, f64>> {
    let paths = RunPaths::new(run_dir);
    let mut cfg = load_experiment(&paths.config(), &[])?;
    if let Some(b) = backend {
        cfg.train.backend = b.to_string();
    }
    let ck = checkpoint::latest(&paths.checkpoints())?.ok_or_else(|| KilnError::Resume {
        path: run_dir.to_path_buf(),
        reason: "it has no checkpoint to evaluate".into(),
    })?;
    let data = ClassificationData::load(&cfg)?;
    let job = EvalJob { cfg: &cfg, data: &data, weights: ck.model, observer };
    dispatch(&cfg.train.backend, job)?
}

struct EvalJob<'a> {
    cfg: &'a ExperimentConfig,
    data: &'a ClassificationData,
    weights: Vec<u8>,
    observer: &'a mut dyn TrainingObserver,
}

impl BackendTask for EvalJob<'_> {
    type Output = Result<BTreeMap<String, f64>>;
    fn run<B: AutodiffBackend>(self, device: B::Device, _backend: &'static str) -> Self::Output {
        let cfg = self.cfg;
        with_classifier::<B, _>(
            &cfg.model.name,
            &cfg.model.params,
            &cfg.loss,
            &device.clone(),
            EvalModel { job: self, device },
        )?
    }
}

struct EvalModel<'a, B: Backend> {
    job: EvalJob<'a>,
    device: B::Device,
}

impl<B: AutodiffBackend> ClassifierTask<B> for EvalModel<'_, B> {
    type Output = Result<BTreeMap<String, f64>>;
    fn run<M>(self, model: M) -> Self::Output
    where
        M: AutodiffModule<B> + ImageClassifier<B> + 'static,
        M::InnerModule: ImageClassifier<B::InnerBackend>,
    {
        let EvalJob { cfg, data, weights, observer } = self.job;
        let model = load_model_bytes(model, weights, &self.device)
            .map_err(|reason| KilnError::Checkpoint { path: "model.bin".into(), reason })?
            .valid();
        let mut metrics = BTreeMap::new();
        let epochs = cfg.train.epochs;
        if !data.valid_indices.is_empty() {
            let v = evaluate(
                &model,
                &data.train,
                &data.valid_indices,
                data,
                cfg,
                &self.device,
                Phase::Valid,
                (epochs, epochs),
                observer,
            )?;
            metrics.insert("valid/loss".to_string(), v.loss);
            metrics.insert("valid/accuracy".to_string(), v.accuracy);
            metrics.extend(v.extra.into_iter().map(|(name, x)| (format!("valid/{name}"), x)));
        }
        let test_indices: Vec<usize> = (0..data.test.len()).collect();
        let t =
            evaluate(&model, &data.test, &test_indices, data, cfg, &self.device, Phase::Test, (0, epochs), observer)?;
        metrics.insert("test/loss".to_string(), t.loss);
        metrics.insert("test/accuracy".to_string(), t.accuracy);
        metrics.extend(t.extra.into_iter().map(|(name, x)| (format!("test/{name}"), x)));
        Ok(metrics)
    }
}
