//! The classifier `[model]` describes: a registered network, which with `embedding_dim` ends in
//! an embedding that the head `[loss]` names classifies.

use burn::module::{AutodiffModule, ModuleDisplay};
use burn::tensor::backend::AutodiffBackend;
use kiln_vision::family::OnClassifier;
use kiln_vision::{EmbeddingClassifier, ImageClassifier};

use super::loss;
use crate::config::{LossSection, ParamProblem};
use crate::error::{KilnError, Result};
use crate::registry::{self, ModelKind};

/// The `[model]` key that ends a network in an embedding of that many dimensions; it is the
/// classification task's, not any one network's.
pub const EMBEDDING_DIM: &str = "embedding_dim";

/// What the classification task needs to know of a configured model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelShape {
    /// Classes of the task (`num_classes`).
    pub classes: usize,
    /// Set when the network ends in an embedding and a head classifies it.
    pub embedding_dim: Option<usize>,
}

/// Checks `[model]` (a registered classifier, its keys, `embedding_dim`) without building it.
pub fn check_model(name: &str, params: &toml::Table) -> std::result::Result<ModelShape, ParamProblem> {
    let (embedding_dim, own) = split_embedding_dim(params)?;
    Ok(ModelShape { classes: configured_classes(name, &own)?, embedding_dim })
}

/// `num_classes` of network `name` configured with its own keys `own`.
fn configured_classes(name: &str, own: &toml::Table) -> std::result::Result<usize, ParamProblem> {
    let fields = registry::check_params(name, ModelKind::Classifier, own)?;
    let classes = fields.get("num_classes").and_then(serde_json::Value::as_u64).map(|c| c as usize);
    classes.ok_or_else(|| ParamProblem { key: None, message: "the model's config has no num_classes".into() })
}

/// Takes `embedding_dim` out of the network's own keys.
fn split_embedding_dim(params: &toml::Table) -> std::result::Result<(Option<usize>, toml::Table), ParamProblem> {
    let mut own = params.clone();
    let dim = match own.remove(EMBEDDING_DIM) {
        None => None,
        Some(toml::Value::Integer(d)) if d > 0 => Some(d as usize),
        Some(other) => {
            return Err(ParamProblem {
                key: Some(EMBEDDING_DIM.into()),
                message: format!("{EMBEDDING_DIM} in [model] must be a positive integer, got {other}"),
            })
        }
    };
    Ok((dim, own))
}

/// Work to do with a classifier of whatever concrete type `[model]` selects.
pub trait ClassifierJob<B: AutodiffBackend> {
    type Output;
    fn run<M>(self, model: M) -> Self::Output
    where
        M: AutodiffModule<B> + ImageClassifier<B> + 'static,
        M::InnerModule: ImageClassifier<B::InnerBackend>;
}

/// Builds registered model `name` with `params`, puts the head of `loss` on it when
/// `[model] embedding_dim` is set, and runs `job` on it. `[loss]` is the one the task checked.
pub fn with_classifier<B: AutodiffBackend, J: ClassifierJob<B>>(
    name: &str,
    params: &toml::Table,
    loss: &LossSection,
    device: &B::Device,
    job: J,
) -> Result<J::Output> {
    let error = |p: ParamProblem| KilnError::ModelParams { model: name.into(), message: p.message };
    let (embedding_dim, mut network) = split_embedding_dim(params).map_err(error)?;
    let head = match embedding_dim {
        None => None,
        Some(dim) => {
            // The network ends in the embedding; the task's classes go to the head.
            let classes = configured_classes(name, &network).map_err(error)?;
            network.insert("num_classes".into(), toml::Value::Integer(dim as i64));
            Some(HeadShape { features: dim, classes })
        }
    };
    registry::with_classifier_model::<B, _>(name, &network, device, WithHead { head, loss, device, job })?
        .map_err(error)
}

/// The margin head's input and output sizes.
struct HeadShape {
    features: usize,
    classes: usize,
}

/// Puts the margin head on a freshly built network.
struct WithHead<'a, B: AutodiffBackend, J> {
    head: Option<HeadShape>,
    loss: &'a LossSection,
    device: &'a B::Device,
    job: J,
}

impl<B: AutodiffBackend, J: ClassifierJob<B>> OnClassifier<B> for WithHead<'_, B, J> {
    type Output = std::result::Result<J::Output, ParamProblem>;
    fn run<M>(self, backbone: M) -> Self::Output
    where
        M: AutodiffModule<B> + ImageClassifier<B> + ModuleDisplay + 'static,
        M::InnerModule: ImageClassifier<B::InnerBackend> + ModuleDisplay,
    {
        let head = match self.head {
            Some(HeadShape { features, classes }) => {
                Some(loss::margin_head::<B>(self.loss, features, classes, self.device)?)
            }
            None => None,
        };
        Ok(self.job.run(EmbeddingClassifier::new(backbone, head)))
    }
}
