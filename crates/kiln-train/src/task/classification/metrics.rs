//! Metrics by name from `[metrics] names = [...]`, computed on every validation and test pass.
//!
//! Loss and accuracy are always reported. The classification task adds top-k accuracy,
//! precision/recall/F1 from a confusion matrix, and — for models with an embedding head — the
//! angular statistics of the margin-loss papers. Names of kiln-metrics' metrics for other
//! tasks are recognised and refused with the task they belong to.

use burn::prelude::*;
use kiln_metrics::{AngularStats, ConfusionMatrix, TopKAccuracy};

use super::model::{ModelShape, EMBEDDING_DIM};
use crate::config::ParamProblem;
use crate::config::{closest, MetricsSection};

/// Fixed names the classification task computes; `top<k>_accuracy` (e.g. `top5_accuracy`) too.
pub const CLASSIFICATION_METRICS: [&str; 8] = [
    "accuracy",
    "macro_precision",
    "macro_recall",
    "macro_f1",
    "micro_f1",
    "top5_accuracy",
    "intra_class_angle",
    "inter_class_angle",
];

/// kiln-metrics' metrics of other tasks, and the task.
const OTHER_METRICS: [(&str, &str); 11] = [
    ("pixel_accuracy", "segmentation"),
    ("mean_pixel_accuracy", "segmentation"),
    ("mean_iou", "segmentation"),
    ("frequency_weighted_iou", "segmentation"),
    ("coco_ap", "detection"),
    ("coco_ar", "detection"),
    ("frame_map", "online action detection"),
    ("frame_mcap", "online action detection"),
    ("perplexity", "language modelling"),
    ("bits_per_token", "language modelling"),
    ("bits_per_character", "language modelling"),
];

/// One classification metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricName {
    Accuracy,
    TopK(usize),
    MacroPrecision,
    MacroRecall,
    MacroF1,
    MicroF1,
    /// Mean angle (degrees) between a test embedding and its class centre.
    IntraClassAngle,
    /// Smallest angle (degrees) between two class centres.
    InterClassAngle,
}

impl MetricName {
    /// Reads a name of `[metrics]`.
    ///
    /// ```
    /// use kiln_train::task::classification::metrics::MetricName;
    /// assert_eq!(MetricName::parse("top3_accuracy"), Ok(MetricName::TopK(3)));
    /// assert!(MetricName::parse("mean_iou").unwrap_err().contains("segmentation"));
    /// ```
    pub fn parse(name: &str) -> Result<Self, String> {
        Ok(match name {
            "accuracy" => Self::Accuracy,
            "macro_precision" => Self::MacroPrecision,
            "macro_recall" => Self::MacroRecall,
            "macro_f1" => Self::MacroF1,
            "micro_f1" => Self::MicroF1,
            "intra_class_angle" => Self::IntraClassAngle,
            "inter_class_angle" => Self::InterClassAngle,
            other => {
                if let Some(k) = other.strip_prefix("top").and_then(|r| r.strip_suffix("_accuracy")) {
                    return match k.parse::<usize>() {
                        Ok(k) if k >= 1 => Ok(Self::TopK(k)),
                        _ => Err(format!("'{other}': k of top<k>_accuracy must be a positive integer")),
                    };
                }
                return Err(match OTHER_METRICS.iter().find(|(n, _)| *n == other) {
                    Some((n, task)) => format!(
                        "metric '{n}' measures {task}; the classification task computes: {}",
                        CLASSIFICATION_METRICS.join(", ")
                    ),
                    None => {
                        let known = CLASSIFICATION_METRICS.iter().copied().chain(OTHER_METRICS.map(|(n, _)| n));
                        let hint = closest(other, known).map(|s| format!("; did you mean '{s}'?")).unwrap_or_default();
                        format!(
                            "unknown metric '{other}' in [metrics] (classification: {}){hint}",
                            CLASSIFICATION_METRICS.join(", ")
                        )
                    }
                });
            }
        })
    }

    /// The name as written in configs, metrics.csv and summary.json.
    pub fn key(self) -> String {
        match self {
            Self::Accuracy => "accuracy".into(),
            Self::TopK(k) => format!("top{k}_accuracy"),
            Self::MacroPrecision => "macro_precision".into(),
            Self::MacroRecall => "macro_recall".into(),
            Self::MacroF1 => "macro_f1".into(),
            Self::MicroF1 => "micro_f1".into(),
            Self::IntraClassAngle => "intra_class_angle".into(),
            Self::InterClassAngle => "inter_class_angle".into(),
        }
    }

    fn is_angular(self) -> bool {
        matches!(self, Self::IntraClassAngle | Self::InterClassAngle)
    }
}

/// Checks `[metrics]` against the model: known names, and an embedding for angular ones.
pub fn check_metrics(section: &MetricsSection, model: &ModelShape) -> Result<(), ParamProblem> {
    let problem = |message: String| ParamProblem { key: Some("names".into()), message };
    for name in &section.names {
        let metric = MetricName::parse(name).map_err(problem)?;
        if metric.is_angular() && model.embedding_dim.is_none() {
            return Err(problem(format!(
                "metric '{name}' measures embeddings: set [model] {EMBEDDING_DIM} so the model ends in one"
            )));
        }
    }
    Ok(())
}

/// The extra metrics of one pass, fed batch by batch.
#[derive(Debug, Clone)]
pub struct ClassificationMetrics {
    names: Vec<MetricName>,
    confusion: Option<ConfusionMatrix>,
    top_k: Vec<TopKAccuracy>,
    angles: AngularStats,
}

impl ClassificationMetrics {
    /// `section` must have passed [`check_metrics`]; accuracy is skipped (always reported).
    pub fn new(section: &MetricsSection) -> Self {
        let names: Vec<MetricName> = section
            .names
            .iter()
            .filter_map(|n| MetricName::parse(n).ok())
            .filter(|m| *m != MetricName::Accuracy)
            .collect();
        let top_k =
            names.iter().filter_map(|m| if let MetricName::TopK(k) = m { Some(TopKAccuracy::new(*k)) } else { None });
        Self { top_k: top_k.collect(), names, confusion: None, angles: AngularStats::default() }
    }

    /// Whether [`update`](Self::update) needs the embeddings.
    pub fn wants_embeddings(&self) -> bool {
        self.names.iter().any(|m| m.is_angular())
    }

    fn wants_confusion(&self) -> bool {
        self.names.iter().any(|m| {
            matches!(
                m,
                MetricName::MacroPrecision | MetricName::MacroRecall | MetricName::MacroF1 | MetricName::MicroF1
            )
        })
    }

    pub fn update<B: Backend>(
        &mut self,
        logits: Tensor<B, 2>,
        targets: Tensor<B, 1, Int>,
        embeddings: Option<Tensor<B, 2>>,
    ) {
        if self.wants_confusion() {
            let classes = logits.dims()[1];
            self.confusion
                .get_or_insert_with(|| ConfusionMatrix::new(classes, None))
                .update(logits.clone(), targets.clone());
        }
        for top_k in &mut self.top_k {
            top_k.update(logits.clone(), targets.clone());
        }
        if let Some(embeddings) = embeddings {
            self.angles.update(embeddings, targets);
        }
    }

    /// `(name, value)` in the order of the config; metrics without a value yet are left out.
    pub fn values(&self) -> Vec<(String, f64)> {
        let mut top_k = self.top_k.iter();
        let confusion = self.confusion.as_ref();
        self.names
            .iter()
            .filter_map(|&m| {
                let value = match m {
                    MetricName::Accuracy => None,
                    MetricName::TopK(_) => top_k.next().and_then(TopKAccuracy::value),
                    MetricName::MacroPrecision => confusion.and_then(ConfusionMatrix::macro_precision),
                    MetricName::MacroRecall => confusion.and_then(ConfusionMatrix::macro_recall),
                    MetricName::MacroF1 => confusion.and_then(ConfusionMatrix::macro_f1),
                    MetricName::MicroF1 => confusion.and_then(ConfusionMatrix::micro_f1),
                    MetricName::IntraClassAngle => self.angles.mean_intra_class_angle(),
                    MetricName::InterClassAngle => self.angles.min_inter_class_angle(),
                };
                value.map(|v| (m.key(), v))
            })
            .collect()
    }
}
