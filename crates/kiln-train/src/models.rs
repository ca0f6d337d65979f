//! `kiln models`: every registered model with its size and cost for an input shape.

use burn::module::{AutodiffModule, ModuleDisplay};
use burn::tensor::backend::AutodiffBackend;
use kiln_vision::detection::{ObjectDetector, OnDetector};
use kiln_vision::segmentation::{OnSegmenter, SemanticSegmenter};
use kiln_vision::ImageClassifier;
use serde::Serialize;

use crate::backend::{built_backends, dispatch, BackendTask};
use crate::error::{KilnError, Result};
use crate::registry::{entry, models, with_detector_model, with_segmenter_model, ModelEntry, ModelKind};
use crate::task::classification::{with_classifier, ClassifierJob};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModelDescription {
    pub name: String,
    pub summary: String,
    /// The `[task] name` that trains it.
    pub task: &'static str,
    pub input: [usize; 3],
    /// `None` when the model cannot take the input (a ViT whose patch size does not divide it).
    pub parameters: Option<usize>,
    /// Counted for classifiers; `None` for segmentation networks, whose layers kiln does not trace.
    pub multiply_adds: Option<u64>,
    /// Why the model cannot take the input.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unavailable: Option<String>,
}

/// Describes the registered models `names` (all when empty), with default parameters, for
/// `input` (or each model's own default input).
pub fn describe_models(names: &[String], input: Option<[usize; 3]>) -> Result<Vec<ModelDescription>> {
    let entries = if names.is_empty() {
        models().iter().collect()
    } else {
        names.iter().map(|name| entry(name)).collect::<Result<Vec<_>>>()?
    };
    let backend = built_backends()[0];
    dispatch(backend, None, Describe { entries, input, strict: !names.is_empty() })?
}

struct Describe {
    entries: Vec<&'static ModelEntry>,
    input: Option<[usize; 3]>,
    /// Models asked for by name must take the input; in the full list they are marked instead.
    strict: bool,
}

impl BackendTask for Describe {
    type Output = Result<Vec<ModelDescription>>;
    fn run<B: AutodiffBackend>(self, device: B::Device, _backend: &'static str) -> Self::Output {
        self.entries
            .into_iter()
            .map(|entry| {
                let input = self.input.unwrap_or(entry.default_input);
                let params = entry.input_params(input);
                let description = |size: Option<(usize, Option<u64>)>, unavailable| ModelDescription {
                    name: entry.name.into(),
                    summary: entry.summary.into(),
                    task: entry.kind.task(),
                    input,
                    parameters: size.map(|s| s.0),
                    multiply_adds: size.and_then(|s| s.1),
                    unavailable,
                };
                let measured = match entry.kind {
                    ModelKind::Classifier => {
                        with_classifier::<B, _>(entry.name, &params, &Default::default(), &device, Measure { input })
                    }
                    ModelKind::Segmenter => {
                        with_segmenter_model::<B, _>(entry.name, &params, &device, Measure { input })
                    }
                    ModelKind::Detector => with_detector_model::<B, _>(entry.name, &params, &device, Measure { input }),
                };
                match measured {
                    Ok(Ok(size)) => Ok(description(Some(size), None)),
                    Ok(Err(message)) | Err(KilnError::ModelParams { message, .. }) if !self.strict => {
                        Ok(description(None, Some(message)))
                    }
                    Ok(Err(message)) => Err(KilnError::ModelParams { model: entry.name.into(), message }),
                    Err(e) => Err(e),
                }
            })
            .collect()
    }
}

struct Measure {
    input: [usize; 3],
}

impl<B: AutodiffBackend> ClassifierJob<B> for Measure {
    /// Parameters and multiply-adds, or why the model cannot take the input (a LeNet-5 whose
    /// fully connected layers fix the size); the trainer refuses such a config the same way.
    type Output = std::result::Result<(usize, Option<u64>), String>;
    fn run<M>(self, model: M) -> Self::Output
    where
        M: AutodiffModule<B> + ImageClassifier<B> + 'static,
        M::InnerModule: ImageClassifier<B::InnerBackend>,
    {
        model.check_input(self.input).map_err(|e| e.to_string())?;
        let multiply_adds = model.complexity(self.input).multiply_adds;
        Ok((kiln_vision::complexity::trainable_parameters(&model), Some(multiply_adds)))
    }
}

impl<B: AutodiffBackend> OnSegmenter<B> for Measure {
    /// Parameters, or why the network cannot take the input (a side not divisible by 8).
    type Output = std::result::Result<(usize, Option<u64>), String>;
    fn run<M>(self, model: M) -> Self::Output
    where
        M: AutodiffModule<B> + SemanticSegmenter<B> + ModuleDisplay + 'static,
        M::InnerModule: SemanticSegmenter<B::InnerBackend> + ModuleDisplay,
    {
        model.check_input(self.input).map_err(|e| e.to_string())?;
        Ok((kiln_vision::complexity::trainable_parameters(&model), None))
    }
}

impl<B: AutodiffBackend> OnDetector<B> for Measure {
    /// Parameters, or why the network cannot take the input (a side not divisible by 16).
    type Output = std::result::Result<(usize, Option<u64>), String>;
    fn run<M>(self, model: M) -> Self::Output
    where
        M: AutodiffModule<B> + ObjectDetector<B> + ModuleDisplay + 'static,
        M::InnerModule: ObjectDetector<B::InnerBackend> + ModuleDisplay,
    {
        model.check_input(self.input).map_err(|e| e.to_string())?;
        Ok((kiln_vision::complexity::trainable_parameters(&model), None))
    }
}
