//! CenterNet's decoding (Zhou et al. 2019, Sec. 4): peaks of the class heatmaps — values no
//! smaller than their 3×3 neighbours, the paper's max-pool in place of NMS — become boxes from
//! the size and offset heads at the same pixel.

/// A detection: `[x1, y1, x2, y2]` in input pixels, its class and score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoredBox {
    pub bbox: [f32; 4],
    pub class: usize,
    pub score: f32,
}

/// The `top` highest peaks of `heatmap` (`[classes, height, width]`, scores in [0, 1]) as boxes:
/// `size` and `offset` are `[2, height, width]` (width then height; x then y) in output pixels,
/// `stride` maps output to input pixels. Ties in score keep the lower flat index first.
///
/// ```
/// use kiln_vision::detection::centernet_peaks;
/// // One class on a 3×3 map, a peak of 0.9 at (1, 1) with size 2×2 and offset (0.5, 0.5).
/// let mut heat = vec![0.1; 9];
/// heat[4] = 0.9;
/// let mut size = vec![0.0; 18];
/// let mut offset = vec![0.0; 18];
/// (size[4], size[13], offset[4], offset[13]) = (2.0, 2.0, 0.5, 0.5);
/// let found = centernet_peaks(&heat, &size, &offset, 1, 3, 3, 4.0, 10);
/// assert_eq!(found.len(), 1);
/// assert_eq!(found[0].bbox, [2.0, 2.0, 10.0, 10.0]);
/// ```
#[allow(clippy::too_many_arguments)]
pub fn centernet_peaks(
    heatmap: &[f32],
    size: &[f32],
    offset: &[f32],
    classes: usize,
    height: usize,
    width: usize,
    stride: f32,
    top: usize,
) -> Vec<ScoredBox> {
    let plane = height * width;
    assert_eq!(heatmap.len(), classes * plane, "heatmap is not classes × height × width");
    assert!(size.len() == 2 * plane && offset.len() == 2 * plane, "size and offset are not 2 × height × width");
    let mut peaks: Vec<(f32, usize, usize)> = Vec::new();
    for class in 0..classes {
        let map = &heatmap[class * plane..(class + 1) * plane];
        for y in 0..height {
            for x in 0..width {
                let v = map[y * width + x];
                let neighbours = (y.saturating_sub(1)..(y + 2).min(height))
                    .flat_map(|ny| (x.saturating_sub(1)..(x + 2).min(width)).map(move |nx| ny * width + nx));
                if neighbours.into_iter().all(|i| map[i] <= v) {
                    peaks.push((v, class, y * width + x));
                }
            }
        }
    }
    peaks.sort_by(|a, b| b.0.total_cmp(&a.0).then((a.1 * plane + a.2).cmp(&(b.1 * plane + b.2))));
    peaks.truncate(top);
    peaks
        .into_iter()
        .map(|(score, class, at)| {
            let (x, y) = ((at % width) as f32, (at / width) as f32);
            let (cx, cy) = (x + offset[at], y + offset[plane + at]);
            let (w, h) = (size[at], size[plane + at]);
            let bbox = [cx - w / 2.0, cy - h / 2.0, cx + w / 2.0, cy + h / 2.0].map(|v| v * stride);
            ScoredBox { bbox, class, score }
        })
        .collect()
}
