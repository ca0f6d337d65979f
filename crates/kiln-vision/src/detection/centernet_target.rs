//! CenterNet's training targets (Zhou, Wang, Krähenbühl 2019, "Objects as Points", Sec. 3): per
//! class a heatmap with a Gaussian at every object's centre, and at each centre the object's size
//! and the sub-pixel offset lost to the output stride.

/// The radius (in output pixels) of the Gaussian splatted for an object of `height` × `width`
/// output pixels, so that a box whose corners are within the radius still overlaps the object
/// with IoU ≥ `min_overlap` (CenterNet uses 0.7).
///
/// This is the reference code's `gaussian_radius` (CornerNet's, copied into CenterNet), root
/// formulas included: each case halves `b + √(b² − 4ac)` rather than taking the quadratic's
/// smaller root. The published numbers were trained with it, so kiln keeps it as it is.
pub fn gaussian_radius(height: f64, width: f64, min_overlap: f64) -> f64 {
    let m = min_overlap;
    let root = |a: f64, b: f64, c: f64| (b + (b * b - 4.0 * a * c).max(0.0).sqrt()) / 2.0;
    let r1 = root(1.0, height + width, width * height * (1.0 - m) / (1.0 + m));
    let r2 = root(4.0, 2.0 * (height + width), (1.0 - m) * width * height);
    let r3 = root(4.0 * m, -2.0 * m * (height + width), (m - 1.0) * width * height);
    r1.min(r2).min(r3)
}

/// The targets of one image at output size `height` × `width` (input size / `stride`).
#[derive(Debug, Clone, PartialEq)]
pub struct CenterNetTargets {
    pub classes: usize,
    pub height: usize,
    pub width: usize,
    /// `[classes, height, width]`: 1 at each object's centre pixel, a Gaussian around it.
    pub heatmap: Vec<f32>,
    /// Per object: the centre pixel's flat index `y · width + x` in the output map.
    pub centres: Vec<usize>,
    /// Per object: `[width, height]` of its box in output pixels (the size head's target).
    pub sizes: Vec<[f32; 2]>,
    /// Per object: the centre's offset from its pixel, in [0, 1) (the offset head's target).
    pub offsets: Vec<[f32; 2]>,
}

impl CenterNetTargets {
    /// Targets of `boxes` (input pixels, `[x1, y1, x2, y2]`) with their classes.
    ///
    /// ```
    /// use kiln_vision::detection::CenterNetTargets;
    /// // A 16×16 box at (8, 8) on a 64×64 input, stride 4: its centre is output pixel (4, 4).
    /// let t = CenterNetTargets::new(&[[8.0, 8.0, 24.0, 24.0]], &[3], 10, 16, 16, 4.0, 0.7);
    /// assert_eq!(t.heatmap[3 * 256 + 4 * 16 + 4], 1.0);
    /// assert_eq!((t.sizes[0], t.offsets[0]), ([4.0, 4.0], [0.0, 0.0]));
    /// ```
    pub fn new(
        boxes: &[[f32; 4]],
        labels: &[usize],
        classes: usize,
        height: usize,
        width: usize,
        stride: f32,
        min_overlap: f64,
    ) -> Self {
        let mut t = Self {
            classes,
            height,
            width,
            heatmap: vec![0.0; classes * height * width],
            centres: Vec::with_capacity(boxes.len()),
            sizes: Vec::with_capacity(boxes.len()),
            offsets: Vec::with_capacity(boxes.len()),
        };
        for (b, &class) in boxes.iter().zip(labels) {
            let [x1, y1, x2, y2] = b.map(|v| v / stride);
            let (w, h) = (x2 - x1, y2 - y1);
            if w <= 0.0 || h <= 0.0 || class >= classes {
                continue;
            }
            let (cx, cy) = ((x1 + x2) / 2.0, (y1 + y2) / 2.0);
            let (px, py) = (cx.floor().clamp(0.0, (width - 1) as f32), cy.floor().clamp(0.0, (height - 1) as f32));
            let radius =
                gaussian_radius(f64::from(h.ceil()), f64::from(w.ceil()), min_overlap).floor().max(0.0) as usize;
            t.splat(class, px as usize, py as usize, radius);
            t.centres.push(py as usize * width + px as usize);
            t.sizes.push([w, h]);
            t.offsets.push([cx - px, cy - py]);
        }
        t
    }

    /// CenterNet's `draw_umich_gaussian`: exp(−(dx² + dy²) / 2σ²) with σ = (2r + 1) / 6 over a
    /// (2r + 1)² window, clipped at the map's edges and merged by maximum, values below
    /// ε · peak dropped to 0.
    fn splat(&mut self, class: usize, x: usize, y: usize, radius: usize) {
        let sigma = (2 * radius + 1) as f64 / 6.0;
        let r = radius as i64;
        let plane = &mut self.heatmap[class * self.height * self.width..(class + 1) * self.height * self.width];
        for dy in -r..=r {
            for dx in -r..=r {
                let (gx, gy) = (x as i64 + dx, y as i64 + dy);
                if gx < 0 || gy < 0 || gx >= self.width as i64 || gy >= self.height as i64 {
                    continue;
                }
                let g = (-((dx * dx + dy * dy) as f64) / (2.0 * sigma * sigma)).exp();
                let g = if g < f64::EPSILON { 0.0 } else { g as f32 };
                let cell = &mut plane[gy as usize * self.width + gx as usize];
                *cell = cell.max(g);
            }
        }
    }
}
