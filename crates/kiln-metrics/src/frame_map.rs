//! Per-frame mAP and calibrated mAP for online action detection (THUMOS'14, TVSeries).
//!
//! An online detector (TRN, OadTR, LSTR, …) scores every class at every frame as the video
//! arrives; evaluation ranks all test frames per class, so the meter keeps each frame's scores
//! and labels and ranks them when asked.
//!
//! Per class, AP is scikit-learn's `average_precision_score`, which the LSTR evaluation code
//! (`perframe_average_precision`, shared by later THUMOS'14/TVSeries work) calls: non-interpolated, AP = Σₙ (Rₙ − Rₙ₋₁)·Pₙ over the distinct scores n,
//! highest first, with Pₙ and Rₙ the precision and recall of "score ≥ n". Without tied scores
//! that is the mean, over the positive frames, of the precision at each one's rank. Frames with
//! tied scores form one step, so the result never depends on frame order.
//!
//! Calibrated AP (De Geest et al., "Online Action Detection", ECCV 2016) corrects precision
//! for the share of positive frames, which differs from class to class: with P positive and N
//! negative frames of the class and w = N / P,
//! cPrec = w·TP / (w·TP + FP) = TP / (TP + FP / w), and cAP = Σₙ (TPₙ − TPₙ₋₁)·cPrecₙ / P,
//! the same sum as AP with cPrec for precision (cPrec = 1 while FP = 0, also when N = 0). It
//! equals AP when P = N. The LSTR code (`calibrated_average_precision_score`) computes the
//! same sum frame by frame after an unstable sort, so with tied scores its value depends on
//! the sort; here ties form one step as for AP.

use crate::order::descending;

/// Streams `[frames × classes]` scores with per-frame labels; reports per-class and mean AP and
/// calibrated AP.
///
/// ```
/// // Two actions and background (class 0, left out of the means as on THUMOS'14).
/// let mut meter = kiln_metrics::FrameApMeter::new(3, Some(0));
/// let scores = [
///     0.1, 0.8, 0.1, // frame 0: action 1
///     0.2, 0.3, 0.5, // frame 1: action 2
///     0.7, 0.2, 0.1, // frame 2: background
///     0.1, 0.6, 0.3, // frame 3: action 1
/// ];
/// meter.update(&scores, &[1, 2, 0, 1]);
/// // Action 1 ranks its two frames first; action 2 ranks its frame first.
/// assert_eq!(meter.average_precision(1), Some(1.0));
/// assert_eq!(meter.average_precision(2), Some(1.0));
/// assert_eq!(meter.mean_ap(), Some(1.0));
/// assert_eq!(meter.mean_calibrated_ap(), Some(1.0));
/// ```
#[derive(Debug, Clone)]
pub struct FrameApMeter {
    classes: usize,
    background: Option<usize>,
    ignored: Option<usize>,
    /// Row-major `[frames × classes]`.
    scores: Vec<f64>,
    positives: Vec<bool>,
}

impl FrameApMeter {
    /// `background`, when given, is scored per class but left out of the means.
    pub fn new(classes: usize, background: Option<usize>) -> Self {
        assert!(classes > 0, "a frame AP meter needs at least one class");
        Self { classes, background, ignored: None, scores: Vec::new(), positives: Vec::new() }
    }

    /// Drops frames of `class` and leaves the class out of the means, as the LSTR evaluation
    /// does with THUMOS'14's "Ambiguous" class (index 21 of its 22).
    pub fn ignoring(mut self, class: usize) -> Self {
        self.ignored = Some(class);
        self
    }

    pub fn classes(&self) -> usize {
        self.classes
    }

    /// Frames kept so far.
    pub fn frames(&self) -> usize {
        self.scores.len() / self.classes
    }

    /// Adds frames with one class each: `scores` is row-major `[labels.len() × classes]` (any
    /// float type). Frames whose label is out of range are skipped and counted in the returned
    /// number; frames of the ignored class are dropped without counting.
    ///
    /// Panics if `scores` does not hold `classes` scores per label.
    pub fn update<S: Copy + Into<f64>>(&mut self, scores: &[S], labels: &[usize]) -> usize {
        assert_eq!(scores.len(), labels.len() * self.classes, "scores must be [frames × classes] for the labels");
        let mut skipped = 0;
        for (row, &label) in scores.chunks_exact(self.classes).zip(labels) {
            if label >= self.classes {
                skipped += 1;
            } else if Some(label) != self.ignored {
                self.scores.extend(row.iter().map(|&s| s.into()));
                self.positives.extend((0..self.classes).map(|c| c == label));
            }
        }
        skipped
    }

    /// Adds frames with any number of classes each (multi-hot `targets`, row-major like
    /// `scores`). Frames that carry the ignored class are dropped.
    ///
    /// Panics if the lengths differ or are not a multiple of `classes`.
    pub fn update_multi_hot<S: Copy + Into<f64>>(&mut self, scores: &[S], targets: &[bool]) {
        assert_eq!(scores.len(), targets.len(), "scores and targets must have the same shape");
        assert_eq!(scores.len() % self.classes, 0, "scores must be [frames × classes]");
        for (row, target) in scores.chunks_exact(self.classes).zip(targets.chunks_exact(self.classes)) {
            if self.ignored.is_some_and(|c| target[c]) {
                continue;
            }
            self.scores.extend(row.iter().map(|&s| s.into()));
            self.positives.extend_from_slice(target);
        }
    }

    /// AP of `class`; `None` when it has no positive frame (or is out of range).
    pub fn average_precision(&self, class: usize) -> Option<f64> {
        self.sum_over_steps(class, |tp, fp, _| tp as f64 / (tp + fp) as f64)
    }

    /// Calibrated AP of `class`; `None` when it has no positive frame (or is out of range).
    pub fn calibrated_average_precision(&self, class: usize) -> Option<f64> {
        self.sum_over_steps(class, |tp, fp, (positives, negatives)| {
            // TP / (TP + FP·P/N), multiplied through by N.
            if fp == 0 {
                1.0
            } else {
                (tp * negatives) as f64 / (tp * negatives + fp * positives) as f64
            }
        })
    }

    /// Mean AP over the classes with a positive frame, background and ignored class excepted;
    /// `None` when there is none.
    pub fn mean_ap(&self) -> Option<f64> {
        self.mean_over_classes(|c| self.average_precision(c))
    }

    /// Mean calibrated AP (mcAP) over the same classes as `mean_ap`.
    pub fn mean_calibrated_ap(&self) -> Option<f64> {
        self.mean_over_classes(|c| self.calibrated_average_precision(c))
    }

    fn mean_over_classes(&self, f: impl Fn(usize) -> Option<f64>) -> Option<f64> {
        let values: Vec<f64> = (0..self.classes)
            .filter(|&c| Some(c) != self.background && Some(c) != self.ignored)
            .filter_map(f)
            .collect();
        (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
    }

    /// Σ over score steps (tied scores together, highest first) of the positives gained times
    /// `precision(tp, fp, (P, N))` at the step's end, divided by P.
    fn sum_over_steps(&self, class: usize, precision: impl Fn(u64, u64, (u64, u64)) -> f64) -> Option<f64> {
        if class >= self.classes {
            return None;
        }
        let mut ranked: Vec<(f64, bool)> = (0..self.frames())
            .map(|f| (self.scores[f * self.classes + class], self.positives[f * self.classes + class]))
            .collect();
        let positives = ranked.iter().filter(|r| r.1).count() as u64;
        if positives == 0 {
            return None;
        }
        let negatives = ranked.len() as u64 - positives;
        ranked.sort_by(|a, b| descending(a.0, b.0));
        let (mut tp, mut fp, mut sum) = (0u64, 0u64, 0.0);
        for step in ranked.chunk_by(|a, b| descending(a.0, b.0).is_eq()) {
            let gained = step.iter().filter(|r| r.1).count() as u64;
            tp += gained;
            fp += step.len() as u64 - gained;
            if gained > 0 {
                sum += gained as f64 * precision(tp, fp, (positives, negatives));
            }
        }
        Some(sum / positives as f64)
    }
}
