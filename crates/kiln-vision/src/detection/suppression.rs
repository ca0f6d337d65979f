//! Suppression by name, as a detector's evaluation applies it: within each class (boxes of
//! different classes never suppress each other, mmdetection's `multiclass_nms`), then the best
//! `keep` of all classes.

use super::ScoredBox;
use crate::boxes::{diou_nms, nms, soft_nms, SoftNmsConfig, SoftNmsDecay};

/// What `[detection] suppression` / `kiln eval --suppression` can name.
pub const SUPPRESSIONS: [&str; 5] = ["none", "nms", "soft_nms_linear", "soft_nms_gaussian", "diou_nms"];

/// A suppression and its thresholds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Suppression {
    /// Keep every detection (CenterNet's peaks are already one per object).
    None,
    /// Greedy NMS dropping boxes with IoU above `iou` with a kept one.
    Nms { iou: f32 },
    /// Soft-NMS (Bodla et al. 2017): scores decayed, boxes below `min_score` dropped.
    SoftNms { decay: SoftNmsDecay, iou: f32, sigma: f32, min_score: f32 },
    /// DIoU-NMS (Zheng et al. 2020, Eq. 12): IoU − (ρ²/c²)^β against `iou`.
    DiouNms { iou: f32, beta: f32 },
}

impl Suppression {
    /// `name` with the usual thresholds: NMS and DIoU-NMS at IoU 0.5 (mmdetection's for FCOS),
    /// DIoU-NMS with β = 1 (the plain DIoU penalty), Soft-NMS linear at N_t = 0.3 and Gaussian at
    /// σ = 0.5 (Bodla et al.'s), both dropping scores below 0.001.
    ///
    /// ```
    /// use kiln_vision::detection::Suppression;
    /// assert_eq!(Suppression::from_name("nms"), Ok(Suppression::Nms { iou: 0.5 }));
    /// assert!(Suppression::from_name("soft_nms").unwrap_err().contains("soft_nms_linear"));
    /// ```
    pub fn from_name(name: &str) -> Result<Self, String> {
        let soft = |decay| Suppression::SoftNms { decay, iou: 0.3, sigma: 0.5, min_score: 0.001 };
        Ok(match name {
            "none" => Suppression::None,
            "nms" => Suppression::Nms { iou: 0.5 },
            "soft_nms_linear" => soft(SoftNmsDecay::Linear),
            "soft_nms_gaussian" => soft(SoftNmsDecay::Gaussian),
            "diou_nms" => Suppression::DiouNms { iou: 0.5, beta: 1.0 },
            _ => return Err(format!("unknown suppression '{name}' (known: {})", SUPPRESSIONS.join(", "))),
        })
    }

    /// The name [`Suppression::from_name`] reads.
    pub fn name(&self) -> &'static str {
        match self {
            Suppression::None => "none",
            Suppression::Nms { .. } => "nms",
            Suppression::SoftNms { decay: SoftNmsDecay::Linear, .. } => "soft_nms_linear",
            Suppression::SoftNms { decay: SoftNmsDecay::Gaussian, .. } => "soft_nms_gaussian",
            Suppression::DiouNms { .. } => "diou_nms",
        }
    }

    /// The detections that survive, best score first, at most `keep` of them.
    pub fn apply(&self, detections: &[ScoredBox], keep: usize) -> Vec<ScoredBox> {
        let mut out = Vec::with_capacity(detections.len());
        let mut classes: Vec<usize> = detections.iter().map(|d| d.class).collect();
        classes.sort_unstable();
        classes.dedup();
        for class in classes {
            let own: Vec<ScoredBox> = detections.iter().copied().filter(|d| d.class == class).collect();
            let boxes: Vec<[f32; 4]> = own.iter().map(|d| d.bbox).collect();
            let scores: Vec<f32> = own.iter().map(|d| d.score).collect();
            match *self {
                Suppression::None => out.extend(own),
                Suppression::Nms { iou } => out.extend(nms(&boxes, &scores, iou).into_iter().map(|i| own[i])),
                Suppression::DiouNms { iou, beta } => {
                    out.extend(diou_nms(&boxes, &scores, iou, beta).into_iter().map(|i| own[i]))
                }
                Suppression::SoftNms { decay, iou, sigma, min_score } => {
                    let config = SoftNmsConfig { decay, sigma, iou_threshold: iou, score_threshold: min_score };
                    out.extend(
                        soft_nms(&boxes, &scores, config).into_iter().map(|(i, s)| ScoredBox { score: s, ..own[i] }),
                    )
                }
            }
        }
        out.sort_by(|a, b| b.score.total_cmp(&a.score));
        out.truncate(keep);
        out
    }
}
