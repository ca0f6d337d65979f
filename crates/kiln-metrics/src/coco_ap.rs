//! COCO box detection AP and AR, as pycocotools' `COCOeval` (iouType "bbox") computes them.
//!
//! Detection papers report the twelve numbers of `COCOeval.summarize()`, and textbook AP differs
//! from them by points (interpolation, crowd and area handling, per-image detection limits), so
//! this follows pycocotools rule for rule and says where. Images are streamed in; matching and
//! accumulation run in `summarize`, in ascending image id order as pycocotools does (the order
//! decides ties between equal scores of different images).

use std::collections::{BTreeMap, BTreeSet};

use crate::order::descending;

const IOU_THRESHOLDS: usize = 10;
const RECALL_THRESHOLDS: usize = 101;
/// pycocotools' `maxDets`: detections kept per image *and category*, highest scores first.
const MAX_DETS: [usize; 3] = [1, 10, 100];
/// pycocotools' `areaRng` for all, small, medium, large: `[lo, hi]`, both ends inclusive, so an
/// area of exactly 32² is small and medium, and 96² medium and large.
const AREA_RANGES: [(f64, f64); 4] = [(0.0, 1e10), (0.0, 1024.0), (1024.0, 9216.0), (9216.0, 1e10)];
const ALL: usize = 0;

/// A ground-truth box: `bbox` is `[x, y, width, height]`.
///
/// A crowd box (`iscrowd`) is ignored as pycocotools ignores it: detections it covers are
/// neither true nor false positives, it may absorb any number of them, and it never counts
/// towards recall. Its overlap with a detection is intersection / detection area.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GroundTruth {
    pub category: u64,
    pub bbox: [f64; 4],
    pub iscrowd: bool,
}

impl GroundTruth {
    pub fn new(category: u64, bbox: [f64; 4]) -> Self {
        Self { category, bbox, iscrowd: false }
    }

    pub fn crowd(category: u64, bbox: [f64; 4]) -> Self {
        Self { category, bbox, iscrowd: true }
    }
}

/// A scored detection: `bbox` is `[x, y, width, height]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Detection {
    pub category: u64,
    pub bbox: [f64; 4],
    pub score: f64,
}

impl Detection {
    pub fn new(category: u64, bbox: [f64; 4], score: f64) -> Self {
        Self { category, bbox, score }
    }
}

/// The twelve numbers of `COCOeval.summarize()`, as fractions. `None` where pycocotools prints
/// −1: no category has a non-crowd ground truth in that area range.
///
/// AP is the 101-point interpolated precision averaged over recall points, the ten IoU
/// thresholds 0.50:0.05:0.95 (AP50 and AP75 use one) and the categories with ground truth;
/// AR is the final recall averaged the same way. Both at 100 detections per image and
/// category unless the name says 1 or 10. Areas are box areas `w·h`: COCO's annotation
/// files give segmentation areas instead, so small/medium/large can differ from the official
/// numbers on the same boxes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CocoSummary {
    pub ap: Option<f64>,
    pub ap50: Option<f64>,
    pub ap75: Option<f64>,
    pub ap_small: Option<f64>,
    pub ap_medium: Option<f64>,
    pub ap_large: Option<f64>,
    pub ar1: Option<f64>,
    pub ar10: Option<f64>,
    pub ar100: Option<f64>,
    pub ar_small: Option<f64>,
    pub ar_medium: Option<f64>,
    pub ar_large: Option<f64>,
    /// AP (0.50:0.95, all areas, 100 detections) of each category that has a non-crowd ground truth.
    pub category_ap: BTreeMap<u64, f64>,
}

impl CocoSummary {
    /// pycocotools' `COCOeval.stats` order, with −1 for `None`.
    pub fn stats(&self) -> [f64; 12] {
        [
            self.ap,
            self.ap50,
            self.ap75,
            self.ap_small,
            self.ap_medium,
            self.ap_large,
            self.ar1,
            self.ar10,
            self.ar100,
            self.ar_small,
            self.ar_medium,
            self.ar_large,
        ]
        .map(|v| v.unwrap_or(-1.0))
    }
}

/// Collects ground truths and detections image by image; `summarize` evaluates them.
///
/// ```
/// use kiln_metrics::{CocoEvaluator, Detection, GroundTruth};
///
/// let mut coco = CocoEvaluator::new();
/// // One 50×50 object, found exactly, plus a false positive scored below it.
/// coco.add_image(
///     1,
///     &[GroundTruth::new(7, [10.0, 10.0, 50.0, 50.0])],
///     &[Detection::new(7, [10.0, 10.0, 50.0, 50.0], 0.9), Detection::new(7, [200.0, 0.0, 50.0, 50.0], 0.4)],
/// );
/// let s = coco.summarize();
/// // The false positive comes after full recall, so it costs no precision.
/// assert!((s.ap.unwrap() - 1.0).abs() < 1e-12 && (s.ar100.unwrap() - 1.0).abs() < 1e-12);
/// assert!((s.ap_medium.unwrap() - 1.0).abs() < 1e-12);
/// assert_eq!((s.ap_small, s.ap_large), (None, None), "no ground truth is small or large");
/// ```
#[derive(Debug, Clone, Default)]
pub struct CocoEvaluator {
    images: BTreeMap<u64, Image>,
}

#[derive(Debug, Clone, Default)]
struct Image {
    ground_truths: Vec<GroundTruth>,
    detections: Vec<Detection>,
}

impl CocoEvaluator {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one image's annotations and detections. Adding to an id already seen appends to
    /// that image, as annotations of one image spread over a COCO file are.
    pub fn add_image(&mut self, image_id: u64, ground_truths: &[GroundTruth], detections: &[Detection]) {
        let image = self.images.entry(image_id).or_default();
        image.ground_truths.extend_from_slice(ground_truths);
        image.detections.extend_from_slice(detections);
    }

    /// Distinct image ids added.
    pub fn images(&self) -> usize {
        self.images.len()
    }

    /// pycocotools' `evaluate()`, `accumulate()` and `summarize()`. Categories are those with
    /// a ground truth (crowd or not); detections of any other category are not evaluated.
    pub fn summarize(&self) -> CocoSummary {
        let categories: BTreeSet<u64> =
            self.images.values().flat_map(|image| image.ground_truths.iter().map(|g| g.category)).collect();
        let index: BTreeMap<u64, usize> = categories.iter().enumerate().map(|(k, &c)| (c, k)).collect();

        // evals[k][a]: per image (ascending id) holding category k, the matching in area range a.
        let mut evals: Vec<[Vec<ImageEval>; 4]> = (0..categories.len()).map(|_| Default::default()).collect();
        for image in self.images.values() {
            let mut by_category: BTreeMap<u64, (Vec<&GroundTruth>, Vec<&Detection>)> = BTreeMap::new();
            for g in &image.ground_truths {
                by_category.entry(g.category).or_default().0.push(g);
            }
            for d in image.detections.iter().filter(|d| index.contains_key(&d.category)) {
                by_category.entry(d.category).or_default().1.push(d);
            }
            for (category, (gts, dts)) in by_category {
                for (a, eval) in evaluate_image(&gts, &dts).into_iter().enumerate() {
                    evals[index[&category]][a].push(eval);
                }
            }
        }

        // curves[k][a][m]: per IoU threshold, (AP, recall) of category k; None for pycocotools' −1.
        let curves: Vec<[[Option<Curve>; 3]; 4]> =
            evals.iter().map(|by_area| by_area.each_ref().map(|e| MAX_DETS.map(|m| accumulate(e, m)))).collect();
        let mean = |a: usize, m: usize, value: &dyn Fn(&Curve) -> f64| {
            let values: Vec<f64> = curves.iter().filter_map(|c| c[a][m].as_ref()).map(value).collect();
            (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
        };
        let ap = |a, t: Option<usize>| mean(a, 2, &|c: &Curve| t.map_or_else(|| average(&c.ap), |t| c.ap[t]));
        let ar = |a, m| mean(a, m, &|c: &Curve| average(&c.recall));
        CocoSummary {
            ap: ap(ALL, None),
            ap50: ap(ALL, Some(0)),
            ap75: ap(ALL, Some(5)),
            ap_small: ap(1, None),
            ap_medium: ap(2, None),
            ap_large: ap(3, None),
            ar1: ar(ALL, 0),
            ar10: ar(ALL, 1),
            ar100: ar(ALL, 2),
            ar_small: ar(1, 2),
            ar_medium: ar(2, 2),
            ar_large: ar(3, 2),
            category_ap: categories
                .iter()
                .zip(&curves)
                .filter_map(|(&category, c)| c[ALL][2].as_ref().map(|c| (category, average(&c.ap))))
                .collect(),
        }
    }
}

fn average(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

/// `np.linspace(start, stop, N)`: `i·step + start` with the last point set to `stop`, so the
/// thresholds are bit-identical to pycocotools' (an IoU of exactly 0.5 passes 0.5).
fn linspace<const N: usize>(start: f64, stop: f64) -> [f64; N] {
    let step = (stop - start) / (N - 1) as f64;
    let mut points: [f64; N] = std::array::from_fn(|i| i as f64 * step + start);
    points[N - 1] = stop;
    points
}

fn area(bbox: [f64; 4]) -> f64 {
    bbox[2] * bbox[3]
}

/// pycocotools' `bbIou` for `[x, y, w, h]` boxes: 0 without overlap, and for a crowd ground
/// truth intersection over the detection's area instead of over the union.
fn box_iou(detection: [f64; 4], truth: [f64; 4], crowd: bool) -> f64 {
    let [dx, dy, dw, dh] = detection;
    let [gx, gy, gw, gh] = truth;
    let w = (dx + dw).min(gx + gw) - dx.max(gx);
    let h = (dy + dh).min(gy + gh) - dy.max(gy);
    if !(w > 0.0 && h > 0.0) {
        return 0.0;
    }
    let intersection = w * h;
    let union = if crowd { dw * dh } else { dw * dh + gw * gh - intersection };
    intersection / union
}

/// One image's detections of one category matched in one area range (pycocotools' `evaluateImg`).
#[derive(Debug, Default)]
struct ImageEval {
    /// Highest first, at most `MAX_DETS[2]`.
    scores: Vec<f64>,
    /// `[t · detections + d]`.
    matched: Vec<bool>,
    ignored: Vec<bool>,
    /// Ground truths neither crowd nor outside the area range.
    counted: usize,
}

impl ImageEval {
    fn outcome(&self, t: usize, d: usize) -> (bool, bool) {
        let i = t * self.scores.len() + d;
        (self.matched[i], self.ignored[i])
    }
}

fn evaluate_image(gts: &[&GroundTruth], dts: &[&Detection]) -> [ImageEval; 4] {
    let mut dts = dts.to_vec();
    dts.sort_by(|a, b| descending(a.score, b.score));
    dts.truncate(MAX_DETS[2]);
    let ious: Vec<Vec<f64>> =
        dts.iter().map(|d| gts.iter().map(|g| box_iou(d.bbox, g.bbox, g.iscrowd)).collect()).collect();
    let thresholds = linspace::<IOU_THRESHOLDS>(0.5, 0.95);

    AREA_RANGES.map(|(lo, hi)| {
        let outside = |bbox| area(bbox) < lo || area(bbox) > hi;
        let gt_ignored: Vec<bool> = gts.iter().map(|g| g.iscrowd || outside(g.bbox)).collect();
        // Ground truths with the ignored ones last (stable), as pycocotools visits them.
        let mut order: Vec<usize> = (0..gts.len()).collect();
        order.sort_by_key(|&g| gt_ignored[g]);
        let n = dts.len();
        let mut matched = vec![false; IOU_THRESHOLDS * n];
        let mut ignored = vec![false; IOU_THRESHOLDS * n];
        for (t, &threshold) in thresholds.iter().enumerate() {
            let mut taken = vec![false; gts.len()];
            for d in 0..n {
                // Best match so far: the highest IoU ≥ threshold; a later equal IoU wins.
                let mut best = threshold.min(1.0 - 1e-10);
                let mut found: Option<usize> = None;
                for &g in &order {
                    if taken[g] && !gts[g].iscrowd {
                        continue;
                    }
                    // Matched to a counted ground truth: the ignored ones after it cannot win.
                    if found.is_some_and(|m| !gt_ignored[m]) && gt_ignored[g] {
                        break;
                    }
                    if ious[d][g] < best {
                        continue;
                    }
                    best = ious[d][g];
                    found = Some(g);
                }
                if let Some(g) = found {
                    taken[g] = true;
                    matched[t * n + d] = true;
                    ignored[t * n + d] = gt_ignored[g];
                }
            }
        }
        // Unmatched detections outside the area range are ignored, not false positives.
        for (d, detection) in dts.iter().enumerate() {
            if outside(detection.bbox) {
                for t in 0..IOU_THRESHOLDS {
                    ignored[t * n + d] |= !matched[t * n + d];
                }
            }
        }
        ImageEval {
            scores: dts.iter().map(|d| d.score).collect(),
            matched,
            ignored,
            counted: gt_ignored.iter().filter(|&&i| !i).count(),
        }
    })
}

/// One category's interpolated AP and final recall per IoU threshold.
#[derive(Debug)]
struct Curve {
    ap: [f64; IOU_THRESHOLDS],
    recall: [f64; IOU_THRESHOLDS],
}

/// pycocotools' `accumulate` for one category, area range and detection limit; `None` where it
/// leaves −1 (no counted ground truth).
fn accumulate(evals: &[ImageEval], max_dets: usize) -> Option<Curve> {
    let counted: usize = evals.iter().map(|e| e.counted).sum();
    if counted == 0 {
        return None;
    }
    // Each image's best `max_dets`, pooled in image order, then stably sorted by score.
    let mut ranked: Vec<(f64, &ImageEval, usize)> = evals
        .iter()
        .flat_map(|e| e.scores.iter().take(max_dets).enumerate().map(move |(d, &score)| (score, e, d)))
        .collect();
    ranked.sort_by(|a, b| descending(a.0, b.0));
    let recall_thresholds = linspace::<RECALL_THRESHOLDS>(0.0, 1.0);

    let mut curve = Curve { ap: [0.0; IOU_THRESHOLDS], recall: [0.0; IOU_THRESHOLDS] };
    for t in 0..IOU_THRESHOLDS {
        let (mut tp, mut fp) = (0usize, 0usize);
        let mut recall = Vec::with_capacity(ranked.len());
        let mut precision = Vec::with_capacity(ranked.len());
        for &(_, e, d) in &ranked {
            match e.outcome(t, d) {
                (_, true) => {}
                (true, false) => tp += 1,
                (false, false) => fp += 1,
            }
            recall.push(tp as f64 / counted as f64);
            // np.spacing(1) keeps 0/0 (only ignored detections so far) at 0.
            precision.push(tp as f64 / ((fp + tp) as f64 + f64::EPSILON));
        }
        curve.recall[t] = recall.last().copied().unwrap_or(0.0);
        // Precision envelope: non-increasing from the right.
        for i in (1..precision.len()).rev() {
            if precision[i] > precision[i - 1] {
                precision[i - 1] = precision[i];
            }
        }
        // At each recall threshold, the precision where recall first reaches it
        // (np.searchsorted side="left"); 0 where it never does.
        let sum: f64 = recall_thresholds
            .iter()
            .map(|&r| precision.get(recall.partition_point(|&x| x < r)).copied().unwrap_or(0.0))
            .sum();
        curve.ap[t] = sum / RECALL_THRESHOLDS as f64;
    }
    Some(curve)
}
