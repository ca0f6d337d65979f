//! FCOS's target assignment (Tian, Shen, Chen, He 2019, "FCOS: Fully Convolutional One-Stage
//! Object Detection", Sec. 3.1–3.3): every feature-map location of every pyramid level is a
//! training sample. A location is positive for a box when it falls inside the box (with centre
//! sampling: inside a square of `radius` strides around the box's centre, clipped to the box,
//! the FCOS-imprv rule of the authors' code) and the largest of its distances l, t, r, b to the
//! box's sides is within its level's range; a location inside several boxes takes the smallest.

/// One pyramid level: its stride in input pixels and the range (m_{i−1}, m_i] of
/// max(l, t, r, b) it regresses (Sec. 3.2).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FcosLevel {
    pub stride: usize,
    pub min_distance: f32,
    pub max_distance: f32,
}

/// The input-pixel centres `[x, y]` of every location of every level for an input of `height` ×
/// `width`, level by level, row-major within a level: location (i, j) of stride s is at
/// (⌊s/2⌋ + j·s, ⌊s/2⌋ + i·s) (Sec. 3.1).
pub fn fcos_locations(levels: &[FcosLevel], height: usize, width: usize) -> Vec<[f32; 2]> {
    let mut out = Vec::new();
    for level in levels {
        let s = level.stride;
        for i in 0..height.div_ceil(s) {
            for j in 0..width.div_ceil(s) {
                out.push([(s / 2 + j * s) as f32, (s / 2 + i * s) as f32]);
            }
        }
    }
    out
}

/// The distances `[l, t, r, b]` from `location` to the sides of `bbox` (`[x1, y1, x2, y2]`).
pub fn ltrb(location: [f32; 2], bbox: [f32; 4]) -> [f32; 4] {
    let [x, y] = location;
    [x - bbox[0], y - bbox[1], bbox[2] - x, bbox[3] - y]
}

/// Centre-ness (Eq. 3): √(min(l, r)/max(l, r) · min(t, b)/max(t, b)), 1 at the box's centre.
pub fn centreness([l, t, r, b]: [f32; 4]) -> f32 {
    ((l.min(r) / l.max(r).max(f32::MIN_POSITIVE)) * (t.min(b) / t.max(b).max(f32::MIN_POSITIVE))).max(0.0).sqrt()
}

/// The targets of one image: per location (in [`fcos_locations`]' order) the assigned object,
/// if any.
#[derive(Debug, Clone, PartialEq)]
pub struct FcosTargets {
    /// Index into the image's boxes of the object location k regresses, `None` for background.
    pub assigned: Vec<Option<usize>>,
    /// Centre-ness of each positive location's distances (0 for background).
    pub centreness: Vec<f32>,
}

impl FcosTargets {
    /// Assigns `boxes` (input pixels) to the locations of `levels` on an input of `height` ×
    /// `width`. `radius`: centre sampling in strides (FCOS-imprv's 1.5), `None` for the paper's
    /// plain inside-the-box rule.
    ///
    /// ```
    /// use kiln_vision::detection::{FcosLevel, FcosTargets};
    /// let levels = [FcosLevel { stride: 8, min_distance: 0.0, max_distance: f32::INFINITY }];
    /// // A 16 × 16 box at (8, 8)–(24, 24) on a 32 × 32 input: locations at 4, 12, 20, 28.
    /// let t = FcosTargets::new(&[[8.0, 8.0, 24.0, 24.0]], &levels, 32, 32, None);
    /// let positive: Vec<usize> = (0..16).filter(|&k| t.assigned[k].is_some()).collect();
    /// assert_eq!(positive, [5, 6, 9, 10]); // (12, 12), (20, 12), (12, 20), (20, 20)
    /// ```
    pub fn new(boxes: &[[f32; 4]], levels: &[FcosLevel], height: usize, width: usize, radius: Option<f32>) -> Self {
        let mut assigned = Vec::new();
        let mut centres = Vec::new();
        for level in levels {
            let level_locations = fcos_locations(std::slice::from_ref(level), height, width);
            for location in level_locations {
                let mut best: Option<(usize, f32)> = None;
                for (index, &bbox) in boxes.iter().enumerate() {
                    let distances = ltrb(location, bbox);
                    let inside = match radius {
                        None => distances.iter().all(|&d| d > 0.0),
                        Some(r) => {
                            let reach = r * level.stride as f32;
                            let (cx, cy) = ((bbox[0] + bbox[2]) / 2.0, (bbox[1] + bbox[3]) / 2.0);
                            let centre_box = [
                                (cx - reach).max(bbox[0]),
                                (cy - reach).max(bbox[1]),
                                (cx + reach).min(bbox[2]),
                                (cy + reach).min(bbox[3]),
                            ];
                            ltrb(location, centre_box).iter().all(|&d| d > 0.0)
                        }
                    };
                    let farthest = distances.iter().fold(f32::MIN, |m, &d| m.max(d));
                    let in_range = farthest > level.min_distance && farthest <= level.max_distance;
                    let area = (bbox[2] - bbox[0]) * (bbox[3] - bbox[1]);
                    if inside && in_range && best.is_none_or(|(_, a)| area < a) {
                        best = Some((index, area));
                    }
                }
                assigned.push(best.map(|(i, _)| i));
                centres.push(best.map_or(0.0, |(i, _)| centreness(ltrb(location, boxes[i]))));
            }
        }
        Self { assigned, centreness: centres }
    }
}
