//! `kiln sample`'s output for images: a PNG grid of the samples, `columns` to a row, each
//! image scaled up so a 28×28 digit can be seen.

use std::path::Path;

use image::{GrayImage, Luma};

use crate::error::{KilnError, Result};

/// Pixels between images.
const GAP: u32 = 2;
/// Each image pixel becomes a `SCALE`×`SCALE` block.
const SCALE: u32 = 2;

/// The images `[n, 1, h, w]` with values in [−1, 1] (clipped), as grey on a white grid.
pub fn write(path: &Path, images: &[f32], [n, h, w]: [usize; 3], columns: usize) -> Result<()> {
    let columns = columns.clamp(1, n.max(1));
    let rows = n.div_ceil(columns);
    let cell = |side: usize| side as u32 * SCALE + GAP;
    let mut canvas = GrayImage::from_pixel(columns as u32 * cell(w) + GAP, rows as u32 * cell(h) + GAP, Luma([255]));
    for k in 0..n {
        let (top, left) = ((k / columns) as u32 * cell(h) + GAP, (k % columns) as u32 * cell(w) + GAP);
        for y in 0..h {
            for x in 0..w {
                let v = images[k * h * w + y * w + x];
                let grey = (((v + 1.0) / 2.0).clamp(0.0, 1.0) * 255.0).round() as u8;
                for dy in 0..SCALE {
                    for dx in 0..SCALE {
                        canvas.put_pixel(left + x as u32 * SCALE + dx, top + y as u32 * SCALE + dy, Luma([grey]));
                    }
                }
            }
        }
    }
    canvas.save(path).map_err(|e| KilnError::Unsupported(format!("cannot write {}: {e}", path.display())))
}
