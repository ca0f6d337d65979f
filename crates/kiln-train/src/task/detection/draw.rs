//! `kiln predict`'s picture: the canvas enlarged, each detection's box in its class's colour with
//! its class and score written above it.

use std::path::Path;

use kiln_vision::detection::ScoredBox;

use super::super::segmentation::overlay::PALETTE;
use crate::error::Result;

/// Output pixels per input pixel: a 128-px canvas becomes 384 px, so labels fit beside small digits.
const ZOOM: usize = 3;
/// Output pixels per font pixel.
const FONT_SCALE: usize = 2;

/// A 3×5 bitmap font for labels (rows top to bottom, bit 2 leftmost). Written here because
/// drawing text with `plotters` or `imageproc` needs a TrueType font file, which a CI machine or a
/// container does not have; labels need only digits, a point and a space.
fn glyph(c: char) -> [u8; 5] {
    match c {
        '0' => [7, 5, 5, 5, 7],
        '1' => [2, 6, 2, 2, 7],
        '2' => [7, 1, 7, 4, 7],
        '3' => [7, 1, 7, 1, 7],
        '4' => [5, 5, 7, 1, 1],
        '5' => [7, 4, 7, 1, 7],
        '6' => [7, 4, 7, 5, 7],
        '7' => [7, 1, 1, 1, 1],
        '8' => [7, 5, 7, 5, 7],
        '9' => [7, 5, 7, 1, 7],
        '.' => [0, 0, 0, 0, 2],
        _ => [0; 5],
    }
}

/// An RGB picture being drawn on.
struct Canvas {
    rgb: Vec<u8>,
    height: usize,
    width: usize,
}

impl Canvas {
    fn set(&mut self, x: isize, y: isize, colour: [u8; 3]) {
        if x >= 0 && y >= 0 && (x as usize) < self.width && (y as usize) < self.height {
            let i = (y as usize * self.width + x as usize) * 3;
            self.rgb[i..i + 3].copy_from_slice(&colour);
        }
    }

    fn rectangle(&mut self, [x1, y1, x2, y2]: [isize; 4], colour: [u8; 3], filled: bool) {
        for y in y1..=y2 {
            for x in x1..=x2 {
                if filled || y == y1 || y == y2 || x == x1 || x == x2 {
                    self.set(x, y, colour);
                }
            }
        }
    }

    /// `text` with its top-left corner at (x, y), on a filled background.
    fn label(&mut self, x: isize, y: isize, text: &str, background: [u8; 3]) {
        let (glyph_w, glyph_h) = (4 * FONT_SCALE as isize, 5 * FONT_SCALE as isize);
        let width = glyph_w * text.chars().count() as isize + FONT_SCALE as isize;
        self.rectangle([x, y, x + width, y + glyph_h + 2 * FONT_SCALE as isize - 1], background, true);
        for (k, c) in text.chars().enumerate() {
            for (row, bits) in glyph(c).iter().enumerate() {
                for col in 0..3 {
                    if bits >> (2 - col) & 1 == 1 {
                        for dy in 0..FONT_SCALE as isize {
                            for dx in 0..FONT_SCALE as isize {
                                let px =
                                    x + FONT_SCALE as isize + k as isize * glyph_w + col * FONT_SCALE as isize + dx;
                                let py = y + FONT_SCALE as isize + row as isize * FONT_SCALE as isize + dy;
                                self.set(px, py, [255, 255, 255]);
                            }
                        }
                    }
                }
            }
        }
    }
}

/// What a detection's label says: its category name when that is a number (a digit), else its
/// class index, then its score to two places.
pub fn label_text(detection: &ScoredBox, names: &[String]) -> String {
    let name = names.get(detection.class).filter(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
    let class = name.cloned().unwrap_or_else(|| detection.class.to_string());
    format!("{class} {:.2}", detection.score)
}

/// Writes the grey canvas enlarged ZOOM× as an RGB PNG with `detections` drawn on it.
pub fn write_boxes(
    path: &Path,
    grey: &[u8],
    (h, w): (usize, usize),
    detections: &[ScoredBox],
    names: &[String],
) -> Result<()> {
    let (height, width) = (h * ZOOM, w * ZOOM);
    let mut rgb = Vec::with_capacity(height * width * 3);
    for y in 0..height {
        for x in 0..width {
            let g = grey[(y / ZOOM) * w + x / ZOOM];
            rgb.extend([g, g, g]);
        }
    }
    let mut canvas = Canvas { rgb, height, width };
    // Lowest score first, so the best boxes and labels are drawn on top.
    for d in detections.iter().rev() {
        let colour = PALETTE[d.class % PALETTE.len()];
        let [x1, y1, x2, y2] = d.bbox.map(|v| (v * ZOOM as f32).round() as isize);
        canvas.rectangle([x1, y1, x2 - 1, y2 - 1], colour, false);
        canvas.rectangle([x1 + 1, y1 + 1, x2 - 2, y2 - 2], colour, false);
        let label_h = 7 * FONT_SCALE as isize;
        let top = if y1 >= label_h { y1 - label_h } else { y1 };
        canvas.label(x1, top, &label_text(d, names), colour);
    }
    let image = image::RgbImage::from_raw(width as u32, height as u32, canvas.rgb).expect("h × w × 3 bytes");
    crate::atomic::write_png(path, &image)
}
