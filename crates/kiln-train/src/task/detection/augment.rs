//! Training augmentation that moves boxes with pixels: a left-right mirror and a rescale about
//! the canvas centre (mmdetection's `RandomFlip` and a fixed-size `Resize` with ratio jitter).

use kiln_vision::detection::LabelledBox;

/// Mirrors a `height` × `width` grey canvas left to right, with its boxes.
pub fn flip(pixels: &mut [f32], boxes: &mut [LabelledBox], (height, width): (usize, usize)) {
    for row in pixels.chunks_mut(width).take(height) {
        row.reverse();
    }
    let w = width as f32;
    for b in boxes {
        let [x1, y1, x2, y2] = b.bbox;
        b.bbox = [w - x2, y1, w - x1, y2];
    }
}

/// Rescales a canvas by `factor` about its centre, bilinearly with half-pixel centres, keeping its
/// size (cropping when enlarged, padding with `fill` when shrunk). A box is clipped to the canvas
/// and dropped when less than half of its scaled area remains on it.
pub fn rescale(
    pixels: &[f32],
    boxes: &[LabelledBox],
    (height, width): (usize, usize),
    factor: f32,
    fill: f32,
) -> (Vec<f32>, Vec<LabelledBox>) {
    let (ch, cw) = (height as f32 / 2.0, width as f32 / 2.0);
    let at = |y: isize, x: isize| {
        if y < 0 || x < 0 || y >= height as isize || x >= width as isize {
            fill
        } else {
            pixels[y as usize * width + x as usize]
        }
    };
    let mut out = Vec::with_capacity(height * width);
    for v in 0..height {
        // Output pixel centre v + ½ comes from input position (v + ½ − c) / s + c.
        let sy = (v as f32 + 0.5 - ch) / factor + ch - 0.5;
        let (y0, fy) = (sy.floor(), sy - sy.floor());
        for u in 0..width {
            let sx = (u as f32 + 0.5 - cw) / factor + cw - 0.5;
            let (x0, fx) = (sx.floor(), sx - sx.floor());
            let (y, x) = (y0 as isize, x0 as isize);
            let top = at(y, x) * (1.0 - fx) + at(y, x + 1) * fx;
            let bottom = at(y + 1, x) * (1.0 - fx) + at(y + 1, x + 1) * fx;
            out.push(top * (1.0 - fy) + bottom * fy);
        }
    }
    let moved = boxes
        .iter()
        .filter_map(|b| {
            let [x1, y1, x2, y2] = b.bbox;
            let scaled =
                [(x1 - cw) * factor + cw, (y1 - ch) * factor + ch, (x2 - cw) * factor + cw, (y2 - ch) * factor + ch];
            let clipped = [
                scaled[0].clamp(0.0, width as f32),
                scaled[1].clamp(0.0, height as f32),
                scaled[2].clamp(0.0, width as f32),
                scaled[3].clamp(0.0, height as f32),
            ];
            let area = |b: [f32; 4]| (b[2] - b[0]).max(0.0) * (b[3] - b[1]).max(0.0);
            (area(scaled) > 0.0 && area(clipped) >= 0.5 * area(scaled)).then_some(LabelledBox { bbox: clipped, ..*b })
        })
        .collect();
    (out, moved)
}
