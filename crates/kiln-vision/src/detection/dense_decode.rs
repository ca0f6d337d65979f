//! Decoding of a dense detector's per-location outputs (FCOS, VarifocalNet): every class score
//! above a threshold at a location is a candidate box, best first, before any suppression.

use super::ScoredBox;

/// The `top` best candidates of one image. `scores` is `[locations, classes]` in [0, 1],
/// `boxes` one `[x1, y1, x2, y2]` per location; boxes are clipped to the `width` × `height` input
/// and scores not above `threshold` dropped (mmdetection's `score_thr`, 0.05 for FCOS).
///
/// ```
/// use kiln_vision::detection::dense_candidates;
/// let scores = [0.9, 0.01, 0.2, 0.6];              // two locations, two classes
/// let boxes = [[-4.0, 2.0, 10.0, 12.0], [5.0, 5.0, 40.0, 9.0]];
/// let found = dense_candidates(&scores, &boxes, 2, 0.05, 10, 32, 32);
/// let summary: Vec<_> = found.iter().map(|d| (d.class, d.score, d.bbox)).collect();
/// assert_eq!(summary, [(0, 0.9, [0.0, 2.0, 10.0, 12.0]), (1, 0.6, [5.0, 5.0, 32.0, 9.0]),
///                      (0, 0.2, [5.0, 5.0, 32.0, 9.0])]);
/// ```
pub fn dense_candidates(
    scores: &[f32],
    boxes: &[[f32; 4]],
    classes: usize,
    threshold: f32,
    top: usize,
    height: usize,
    width: usize,
) -> Vec<ScoredBox> {
    let (w, h) = (width as f32, height as f32);
    let mut found: Vec<ScoredBox> = Vec::new();
    for (location, bbox) in boxes.iter().enumerate() {
        for class in 0..classes {
            let score = scores[location * classes + class];
            if score > threshold {
                let [x1, y1, x2, y2] = *bbox;
                let clipped = [x1.clamp(0.0, w), y1.clamp(0.0, h), x2.clamp(0.0, w), y2.clamp(0.0, h)];
                found.push(ScoredBox { bbox: clipped, class, score });
            }
        }
    }
    // Stable: equal scores keep location order.
    found.sort_by(|a, b| b.score.total_cmp(&a.score));
    found.truncate(top);
    found
}
