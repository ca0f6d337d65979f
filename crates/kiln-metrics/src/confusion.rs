//! A streaming confusion matrix, and the classification and segmentation metrics computed from it.

use burn::prelude::*;

/// Counts `n[i][j]`: examples (or pixels) of true class i predicted as j.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfusionMatrix {
    classes: usize,
    counts: Vec<u64>,
    /// Targets equal to this are skipped (e.g. 255 for "void" pixels in segmentation).
    ignore_index: Option<usize>,
}

impl ConfusionMatrix {
    pub fn new(classes: usize, ignore_index: Option<usize>) -> Self {
        Self { classes, counts: vec![0; classes * classes], ignore_index }
    }

    pub fn classes(&self) -> usize {
        self.classes
    }

    /// `n[true][predicted]`.
    pub fn count(&self, truth: usize, predicted: usize) -> u64 {
        self.counts[truth * self.classes + predicted]
    }

    /// Adds predicted and true class indices. Out-of-range predictions or targets (other than
    /// the ignore index) are skipped and counted in the returned number.
    pub fn update_indices(&mut self, predicted: &[usize], targets: &[usize]) -> usize {
        let mut skipped = 0;
        for (&p, &t) in predicted.iter().zip(targets) {
            if Some(t) == self.ignore_index {
                continue;
            }
            if p >= self.classes || t >= self.classes {
                skipped += 1;
                continue;
            }
            self.counts[t * self.classes + p] += 1;
        }
        skipped
    }

    /// Adds the argmax over axis 1 of `logits` `[N, K, …]` against `targets` `[N, …]`.
    pub fn update<B: Backend, const D: usize, const T: usize>(
        &mut self,
        logits: Tensor<B, D>,
        targets: Tensor<B, T, Int>,
    ) {
        let predicted = class_indices(logits.argmax(1));
        let targets = class_indices(targets);
        self.update_indices(&predicted, &targets);
    }

    fn row_sum(&self, i: usize) -> u64 {
        (0..self.classes).map(|j| self.count(i, j)).sum()
    }

    fn column_sum(&self, j: usize) -> u64 {
        (0..self.classes).map(|i| self.count(i, j)).sum()
    }

    fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    fn diagonal(&self) -> u64 {
        (0..self.classes).map(|i| self.count(i, i)).sum()
    }

    /// Classes that occur as a target or a prediction: the others have no defined ratios.
    fn present(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.classes).filter(|&c| self.row_sum(c) + self.column_sum(c) > 0)
    }

    fn mean_over_present(&self, f: impl Fn(usize) -> f64) -> Option<f64> {
        let values: Vec<f64> = self.present().map(f).collect();
        (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
    }

    /// Precision of class `c`: n_cc / Σ_i n_ic (0 when never predicted, as scikit-learn).
    pub fn precision(&self, c: usize) -> f64 {
        ratio(self.count(c, c), self.column_sum(c))
    }

    /// Recall of class `c`: n_cc / Σ_j n_cj.
    pub fn recall(&self, c: usize) -> f64 {
        ratio(self.count(c, c), self.row_sum(c))
    }

    pub fn f1(&self, c: usize) -> f64 {
        let (p, r) = (self.precision(c), self.recall(c));
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }

    /// Unweighted means over the classes present.
    pub fn macro_precision(&self) -> Option<f64> {
        self.mean_over_present(|c| self.precision(c))
    }

    pub fn macro_recall(&self) -> Option<f64> {
        self.mean_over_present(|c| self.recall(c))
    }

    pub fn macro_f1(&self) -> Option<f64> {
        self.mean_over_present(|c| self.f1(c))
    }

    /// Micro-averaged precision, recall and F1 of single-label classification all equal the
    /// accuracy: every error is one false positive and one false negative.
    pub fn micro_f1(&self) -> Option<f64> {
        self.pixel_accuracy()
    }

    /// PA = Σ n_ii / Σ t_i (Long, Shelhamer, Darrell 2015, §5).
    pub fn pixel_accuracy(&self) -> Option<f64> {
        (self.total() > 0).then(|| self.diagonal() as f64 / self.total() as f64)
    }

    /// MPA = (1/n_cl) Σ n_ii / t_i over classes present in the targets.
    pub fn mean_pixel_accuracy(&self) -> Option<f64> {
        let classes: Vec<usize> = (0..self.classes).filter(|&c| self.row_sum(c) > 0).collect();
        (!classes.is_empty()).then(|| classes.iter().map(|&c| self.recall(c)).sum::<f64>() / classes.len() as f64)
    }

    /// IoU of class `c`: n_cc / (t_c + Σ_j n_jc − n_cc).
    pub fn iou(&self, c: usize) -> f64 {
        let union = self.row_sum(c) + self.column_sum(c) - self.count(c, c);
        ratio(self.count(c, c), union)
    }

    /// MIoU = (1/n_cl) Σ IoU_i over classes present.
    pub fn mean_iou(&self) -> Option<f64> {
        self.mean_over_present(|c| self.iou(c))
    }

    /// FWIoU = (Σ t_k)⁻¹ Σ t_i IoU_i.
    pub fn frequency_weighted_iou(&self) -> Option<f64> {
        let total = self.total();
        (total > 0).then(|| (0..self.classes).map(|c| self.row_sum(c) as f64 * self.iou(c)).sum::<f64>() / total as f64)
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

/// Class indices of an integer tensor; negative values (never a class) map to 0.
fn class_indices<B: Backend, const D: usize>(x: Tensor<B, D, Int>) -> Vec<usize> {
    x.into_data().convert::<i64>().to_vec::<i64>().unwrap_or_default().into_iter().map(|v| v.max(0) as usize).collect()
}
