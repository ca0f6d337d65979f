//! The classification losses by name from `[loss]`. The classification task trains with cross-entropy, either on
//! the model's logits or, when `[model] embedding_dim` is set, on the logits of a head over the
//! embedding: a linear softmax layer or a large-margin head (ArcFace, CosFace, SphereFace,
//! L-Softmax) whose class weights train with the model.

use burn::nn::LinearConfig;
use burn::prelude::*;
use kiln_losses::margin::{ArcFaceConfig, CosFaceConfig, LSoftmaxConfig, MarginHead};

use kiln_losses::CrossEntropyConfig;

use super::model::{ModelShape, EMBEDDING_DIM};
use crate::config::{closest, LossSection};
use crate::config::{overlay_config, ParamProblem};

/// Losses the classification task trains with.
pub const CLASSIFICATION_LOSSES: [&str; 5] = ["cross_entropy", "arcface", "cosface", "sphereface", "lsoftmax"];

/// Losses kiln-losses has for tasks other than classification, and what they are for.
const OTHER_LOSSES: [(&str, &str); 11] = [
    ("sigmoid_focal", "dense detection"),
    ("centernet_focal", "keypoint heatmaps"),
    ("varifocal", "dense detection"),
    ("iou", "box regression"),
    ("giou", "box regression"),
    ("diou", "box regression"),
    ("ciou", "box regression"),
    ("smooth_l1", "box regression"),
    ("soft_dice", "segmentation"),
    ("soft_iou", "segmentation"),
    ("gaussian_kl", "variational autoencoders"),
];

/// Keys of a head's config that come from the model, not from `[loss]`.
const FROM_MODEL: [&str; 2] = ["features", "classes"];

/// Checks `[loss]` against the model section: a known classification loss, its parameters
/// valid, and an embedding to put a margin head on.
pub fn check_loss(loss: &LossSection, model: &ModelShape) -> Result<(), ParamProblem> {
    let problem = |key: Option<&str>, message: String| ParamProblem { key: key.map(str::to_string), message };
    if !(0.0..1.0).contains(&loss.label_smoothing) {
        return Err(problem(
            Some("label_smoothing"),
            format!("loss.label_smoothing must be in [0, 1), got {}", loss.label_smoothing),
        ));
    }
    if let Some(weights) = &loss.class_weights {
        if weights.len() != model.classes {
            return Err(problem(
                Some("class_weights"),
                format!("loss.class_weights has {} values but the model has {} classes", weights.len(), model.classes),
            ));
        }
        if weights.iter().any(|w| !(w.is_finite() && *w >= 0.0)) {
            return Err(problem(Some("class_weights"), "loss.class_weights must be finite and non-negative".into()));
        }
    }
    if !CLASSIFICATION_LOSSES.contains(&loss.name.as_str()) {
        let message = match OTHER_LOSSES.iter().find(|(name, _)| *name == loss.name) {
            Some((name, purpose)) => format!(
                "loss '{name}' is for {purpose}; the classification task trains with: {}",
                CLASSIFICATION_LOSSES.join(", ")
            ),
            None => {
                let hint =
                    closest(&loss.name, CLASSIFICATION_LOSSES.iter().copied().chain(OTHER_LOSSES.map(|(n, _)| n)))
                        .map(|s| format!("; did you mean '{s}'?"))
                        .unwrap_or_default();
                format!(
                    "unknown loss '{}' in [loss] (classification: {}){hint}",
                    loss.name,
                    CLASSIFICATION_LOSSES.join(", ")
                )
            }
        };
        return Err(problem(Some("name"), message));
    }
    if loss.name != "cross_entropy" && model.embedding_dim.is_none() {
        return Err(problem(
            Some("name"),
            format!(
                "loss '{}' is a margin head over an embedding: set [model] {EMBEDDING_DIM} (e.g. 3) so the model ends in an embedding the head classifies",
                loss.name
            ),
        ));
    }
    // Any positive sizes do for checking the keys.
    head_config(loss, 1, 1).map(drop)
}

/// A head's config, from `[loss]` keys over the paper's defaults.
enum HeadConfig {
    Softmax(LinearConfig),
    ArcFace(ArcFaceConfig),
    CosFace(CosFaceConfig),
    LSoftmax(LSoftmaxConfig),
}

fn head_config(loss: &LossSection, features: usize, classes: usize) -> Result<HeadConfig, ParamProblem> {
    if let Some(key) = FROM_MODEL.iter().find(|k| loss.params.contains_key(**k)) {
        return Err(ParamProblem {
            key: Some(key.to_string()),
            message: format!(
                "'{key}' in [loss] is set from the model ([model] {EMBEDDING_DIM} and num_classes); remove it"
            ),
        });
    }
    Ok(match loss.name.as_str() {
        "arcface" => HeadConfig::ArcFace(overlay_config(ArcFaceConfig::new(features, classes), &loss.params, "loss")?),
        "cosface" => HeadConfig::CosFace(overlay_config(CosFaceConfig::new(features, classes), &loss.params, "loss")?),
        "sphereface" => {
            HeadConfig::LSoftmax(overlay_config(LSoftmaxConfig::sphereface(features, classes), &loss.params, "loss")?)
        }
        "lsoftmax" => {
            HeadConfig::LSoftmax(overlay_config(LSoftmaxConfig::new(features, classes), &loss.params, "loss")?)
        }
        _ => {
            if let Some(key) = loss.params.keys().next() {
                let message = format!(
                    "unknown key '{key}' in [loss]: cross_entropy takes only label_smoothing and class_weights"
                );
                return Err(ParamProblem { key: Some(key.clone()), message });
            }
            HeadConfig::Softmax(LinearConfig::new(features, classes))
        }
    })
}

/// The head `[loss]` names, over `features`-dimensional embeddings of a `classes`-way problem.
pub fn margin_head<B: Backend>(
    loss: &LossSection,
    features: usize,
    classes: usize,
    device: &B::Device,
) -> Result<MarginHead<B>, ParamProblem> {
    Ok(match head_config(loss, features, classes)? {
        HeadConfig::Softmax(c) => MarginHead::Softmax(c.init(device)),
        HeadConfig::ArcFace(c) => MarginHead::ArcFace(c.init(device)),
        HeadConfig::CosFace(c) => MarginHead::CosFace(c.init(device)),
        HeadConfig::LSoftmax(c) => MarginHead::LSoftmax(c.init(device)),
    })
}

/// The cross-entropy every classification loss ends in.
pub fn cross_entropy(loss: &LossSection) -> CrossEntropyConfig {
    let class_weights = loss.class_weights.as_ref().map(|weights| weights.iter().map(|&w| w as f32).collect());
    CrossEntropyConfig::new().with_label_smoothing(loss.label_smoothing as f32).with_class_weights(class_weights)
}
