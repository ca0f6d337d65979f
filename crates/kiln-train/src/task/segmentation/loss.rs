//! `[loss]` for segmentation: `name = "cross_entropy"` (per-pixel, with `ignore_index`, default
//! 255, and optionally `dice_weight` × soft Dice added) or `name = "soft_dice"`.

use burn::prelude::*;
use kiln_losses::{pixel_cross_entropy, pixel_soft_dice};

use crate::config::ParamProblem;
use crate::config::{closest, LossSection};

const LOSSES: [&str; 2] = ["cross_entropy", "soft_dice"];
const KEYS: [&str; 2] = ["ignore_index", "dice_weight"];

/// The configured segmentation loss.
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentationLoss {
    pub dice_only: bool,
    /// Weight of soft Dice added to cross-entropy (0: cross-entropy alone).
    pub dice_weight: f64,
    /// Label of pixels that count for nothing (PASCAL VOC's 255 border); `ignore_index = -1` for none.
    pub ignore_index: Option<usize>,
}

impl SegmentationLoss {
    pub fn from_section(section: &LossSection) -> Result<Self, ParamProblem> {
        let problem = |key: &str, message: String| ParamProblem { key: Some(key.into()), message };
        if !LOSSES.contains(&section.name.as_str()) {
            let hint = closest(&section.name, LOSSES).map(|s| format!("; did you mean '{s}'?")).unwrap_or_default();
            return Err(problem(
                "name",
                format!(
                    "loss '{}' is not one the segmentation task trains with ({}){hint}",
                    section.name,
                    LOSSES.join(", ")
                ),
            ));
        }
        if section.label_smoothing != 0.0 || section.class_weights.is_some() {
            let key = if section.label_smoothing != 0.0 { "label_smoothing" } else { "class_weights" };
            return Err(problem(
                key,
                format!("{key} is a classification setting; the segmentation task does not take it"),
            ));
        }
        if let Some(key) = section.params.keys().find(|k| !KEYS.contains(&k.as_str())) {
            let hint = closest(key, KEYS).map(|s| format!("; did you mean '{s}'?")).unwrap_or_default();
            return Err(problem(
                key,
                format!("unknown key '{key}' in [loss] (segmentation takes {}){hint}", KEYS.join(", ")),
            ));
        }
        let ignore_index = match section.params.get("ignore_index") {
            None => Some(usize::from(kiln_data::segmentation::IGNORE_LABEL)),
            Some(toml::Value::Integer(-1)) => None,
            Some(toml::Value::Integer(i)) if (0..=255).contains(i) => Some(*i as usize),
            Some(other) => {
                return Err(problem(
                    "ignore_index",
                    format!("ignore_index must be a label 0–255, or -1 for none; got {other}"),
                ))
            }
        };
        let dice_weight = match section.params.get("dice_weight") {
            None => 0.0,
            Some(v) => match v.as_float().or_else(|| v.as_integer().map(|i| i as f64)) {
                Some(w) if w >= 0.0 && w.is_finite() => w,
                _ => return Err(problem("dice_weight", format!("dice_weight must be a non-negative number, got {v}"))),
            },
        };
        let dice_only = section.name == "soft_dice";
        if dice_only && section.params.contains_key("dice_weight") {
            return Err(problem(
                "dice_weight",
                "dice_weight adds Dice to cross_entropy; soft_dice is Dice alone".into(),
            ));
        }
        Ok(Self { dice_only, dice_weight, ignore_index })
    }

    /// The loss of per-pixel scores `[N, K, H, W]` against labels `[N, H, W]`.
    pub fn forward<B: Backend>(&self, logits: Tensor<B, 4>, targets: Tensor<B, 3, Int>) -> Tensor<B, 1> {
        if self.dice_only {
            return pixel_soft_dice(logits, targets, self.ignore_index);
        }
        let ce = pixel_cross_entropy(logits.clone(), targets.clone(), self.ignore_index);
        if self.dice_weight > 0.0 {
            ce + pixel_soft_dice(logits, targets, self.ignore_index).mul_scalar(self.dice_weight)
        } else {
            ce
        }
    }

    /// The fraction of counted pixels whose highest score is their label, on the device.
    pub fn pixel_accuracy<B: Backend>(&self, logits: Tensor<B, 4>, targets: Tensor<B, 3, Int>) -> Tensor<B, 1> {
        let [n, _, h, w] = logits.dims();
        let predicted = logits.argmax(1).reshape([n, h, w]);
        let right = predicted.equal(targets.clone()).float();
        match self.ignore_index {
            Some(i) => {
                let counted = targets.not_equal_elem(i as i64).float();
                (right * counted.clone()).sum() / counted.sum().clamp_min(1.0)
            }
            None => right.mean(),
        }
    }
}
