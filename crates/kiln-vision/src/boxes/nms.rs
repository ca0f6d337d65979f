//! Non-maximum suppression on host data: NMS is a sequential greedy pass over few boxes, so it
//! runs on `[x1, y1, x2, y2]` arrays read back from the device.

/// Plain overlap of two `xyxy` boxes, with the same conventions as [`super::pairwise_overlap`].
fn iou(a: &[f32; 4], b: &[f32; 4]) -> f32 {
    let w = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let h = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    let inter = w * h;
    let union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
    inter / (union + 1e-7)
}

/// DIoU's penalty ρ²/c² for two boxes.
fn centre_penalty(a: &[f32; 4], b: &[f32; 4]) -> f32 {
    let dx = (a[0] + a[2] - b[0] - b[2]) / 2.0;
    let dy = (a[1] + a[3] - b[1] - b[3]) / 2.0;
    let cw = a[2].max(b[2]) - a[0].min(b[0]);
    let ch = a[3].max(b[3]) - a[1].min(b[1]);
    (dx * dx + dy * dy) / (cw * cw + ch * ch + 1e-7)
}

/// Indices of `scores` from highest to lowest (ties keep input order).
fn by_score(scores: &[f32]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&i, &j| scores[j].total_cmp(&scores[i]));
    order
}

/// Greedy suppression with any overlap measure: keep the best box, drop those it overlaps.
fn greedy(boxes: &[[f32; 4]], scores: &[f32], suppress: impl Fn(&[f32; 4], &[f32; 4]) -> bool) -> Vec<usize> {
    let mut keep: Vec<usize> = Vec::new();
    for i in by_score(scores) {
        if keep.iter().all(|&k| !suppress(&boxes[k], &boxes[i])) {
            keep.push(i);
        }
    }
    keep
}

/// Kept indices, best first, after suppressing boxes whose IoU with a kept box exceeds the threshold.
///
/// ```
/// let boxes = [[0.0, 0.0, 2.0, 2.0], [0.0, 0.0, 2.0, 2.1], [5.0, 5.0, 6.0, 6.0]];
/// assert_eq!(kiln_vision::boxes::nms(&boxes, &[0.9, 0.8, 0.7], 0.5), vec![0, 2]);
/// ```
pub fn nms(boxes: &[[f32; 4]], scores: &[f32], iou_threshold: f32) -> Vec<usize> {
    greedy(boxes, scores, |kept, other| iou(kept, other) > iou_threshold)
}

/// NMS within each class only (boxes of different classes never suppress each other).
pub fn batched_nms(boxes: &[[f32; 4]], scores: &[f32], classes: &[usize], iou_threshold: f32) -> Vec<usize> {
    let mut keep: Vec<usize> = Vec::new();
    for i in by_score(scores) {
        let suppressed = keep.iter().any(|&k| classes[k] == classes[i] && iou(&boxes[k], &boxes[i]) > iou_threshold);
        if !suppressed {
            keep.push(i);
        }
    }
    keep
}

/// DIoU-NMS (Zheng et al. 2020, Eq. 12): suppress when IoU − (ρ²/c²)^β exceeds the threshold,
/// so boxes with distant centres (occluded neighbours) survive.
pub fn diou_nms(boxes: &[[f32; 4]], scores: &[f32], iou_threshold: f32, beta: f32) -> Vec<usize> {
    greedy(boxes, scores, |kept, other| iou(kept, other) - centre_penalty(kept, other).powf(beta) > iou_threshold)
}

/// How Soft-NMS lowers the score of a box overlapping a kept one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SoftNmsDecay {
    /// s ← s·(1 − IoU) when IoU ≥ `iou_threshold` (Bodla et al. 2017, Eq. 2).
    Linear,
    /// s ← s·exp(−IoU²/σ) (Bodla et al. 2017, Eq. 3).
    Gaussian,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SoftNmsConfig {
    pub decay: SoftNmsDecay,
    /// σ of the Gaussian decay; the paper uses 0.5.
    pub sigma: f32,
    /// N_t of the linear decay.
    pub iou_threshold: f32,
    /// Boxes whose decayed score falls below this are dropped.
    pub score_threshold: f32,
}

impl Default for SoftNmsConfig {
    fn default() -> Self {
        Self { decay: SoftNmsDecay::Gaussian, sigma: 0.5, iou_threshold: 0.3, score_threshold: 0.001 }
    }
}

/// Soft-NMS (Bodla et al. 2017, Alg. 1): returns (index, decayed score), in the order boxes were
/// selected, best first.
///
/// ```
/// use kiln_vision::boxes::{soft_nms, SoftNmsConfig, SoftNmsDecay};
/// let boxes = [[0.0, 0.0, 2.0, 2.0], [1.0, 0.0, 3.0, 2.0]]; // IoU 1/3
/// let config = SoftNmsConfig { decay: SoftNmsDecay::Linear, ..Default::default() };
/// let kept = soft_nms(&boxes, &[0.9, 0.6], config);
/// assert_eq!(kept[1].0, 1);
/// assert!((kept[1].1 - 0.6 * (1.0 - 1.0 / 3.0)).abs() < 1e-5);
/// ```
pub fn soft_nms(boxes: &[[f32; 4]], scores: &[f32], config: SoftNmsConfig) -> Vec<(usize, f32)> {
    let mut live: Vec<(usize, f32)> = scores.iter().copied().enumerate().collect();
    let mut kept = Vec::new();
    while let Some(best) =
        live.iter().enumerate().max_by(|a, b| a.1 .1.total_cmp(&b.1 .1).then(b.1 .0.cmp(&a.1 .0))).map(|(p, _)| p)
    {
        let (index, score) = live.swap_remove(best);
        kept.push((index, score));
        for (other, s) in live.iter_mut() {
            let overlap = iou(&boxes[index], &boxes[*other]);
            *s *= match config.decay {
                SoftNmsDecay::Linear if overlap >= config.iou_threshold => 1.0 - overlap,
                SoftNmsDecay::Linear => 1.0,
                SoftNmsDecay::Gaussian => (-(overlap * overlap) / config.sigma).exp(),
            };
        }
        live.retain(|(_, s)| *s >= config.score_threshold);
    }
    kept
}
