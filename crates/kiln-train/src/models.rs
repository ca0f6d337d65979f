//! `kiln models`: every registered model with its size and cost for an input shape.

use burn::module::AutodiffModule;
use burn::tensor::backend::AutodiffBackend;
use kiln_vision::ImageClassifier;
use serde::Serialize;

use crate::backend::{built_backends, dispatch, BackendTask};
use crate::error::Result;
use crate::registry::{with_classifier, ClassifierTask, MODELS};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModelDescription {
    pub name: String,
    pub summary: String,
    pub input: [usize; 3],
    pub parameters: usize,
    pub multiply_adds: u64,
}

/// Describes every registered model, with default parameters, for `input` (or each model's own
/// default input).
pub fn describe_models(input: Option<[usize; 3]>) -> Result<Vec<ModelDescription>> {
    let backend = built_backends()[0];
    dispatch(backend, Describe { input })?
}

struct Describe {
    input: Option<[usize; 3]>,
}

impl BackendTask for Describe {
    type Output = Result<Vec<ModelDescription>>;
    fn run<B: AutodiffBackend>(self, device: B::Device, _backend: &'static str) -> Self::Output {
        MODELS
            .iter()
            .map(|entry| {
                let input = self.input.unwrap_or(entry.default_input);
                let mut params = toml::Table::new();
                params.insert("in_channels".into(), toml::Value::Integer(input[0] as i64));
                let (parameters, multiply_adds) =
                    with_classifier::<B, _>(entry.name, &params, &device, Measure { input })?;
                Ok(ModelDescription {
                    name: entry.name.into(),
                    summary: entry.summary.into(),
                    input,
                    parameters,
                    multiply_adds,
                })
            })
            .collect()
    }
}

struct Measure {
    input: [usize; 3],
}

impl<B: AutodiffBackend> ClassifierTask<B> for Measure {
    type Output = (usize, u64);
    fn run<M>(self, model: M) -> Self::Output
    where
        M: AutodiffModule<B> + ImageClassifier<B> + 'static,
        M::InnerModule: ImageClassifier<B::InnerBackend>,
    {
        (kiln_vision::complexity::trainable_parameters(&model), model.complexity(self.input).multiply_adds)
    }
}
