//! `kiln predict`'s picture: the input in grey with each predicted class painted over it.

use std::path::Path;

use crate::error::Result;

/// Matplotlib's `tab10` colours for classes 1–10 (digits 0–9 on MNIST-seg); class 0 (background)
/// keeps the image's grey; further classes cycle through the palette.
pub(crate) const PALETTE: [[u8; 3]; 10] = [
    [31, 119, 180],
    [255, 127, 14],
    [44, 160, 44],
    [214, 39, 40],
    [148, 103, 189],
    [140, 86, 75],
    [227, 119, 194],
    [127, 127, 127],
    [188, 189, 34],
    [23, 190, 207],
];

/// Writes an RGB PNG: grey where the class is 0, half grey and half the class's colour elsewhere.
pub fn write_overlay(path: &Path, grey: &[u8], classes: &[u8], (h, w): (usize, usize)) -> Result<()> {
    let mut rgb = Vec::with_capacity(h * w * 3);
    for (&g, &c) in grey.iter().zip(classes) {
        if c == 0 {
            rgb.extend([g, g, g]);
        } else {
            let colour = PALETTE[(usize::from(c) - 1) % PALETTE.len()];
            rgb.extend(colour.map(|k| ((u16::from(k) + u16::from(g)) / 2) as u8));
        }
    }
    let image = image::RgbImage::from_raw(w as u32, h as u32, rgb).expect("h × w × 3 bytes");
    crate::atomic::write_png(path, &image)
}

/// `class 4: 312 px, class 8: 198 px` for the classes other than background, most pixels first.
pub fn describe(classes: &[u8]) -> String {
    let mut counts = [0usize; 256];
    classes.iter().for_each(|&c| counts[usize::from(c)] += 1);
    let mut found: Vec<(usize, usize)> =
        counts.iter().enumerate().skip(1).filter(|(_, &n)| n > 0).map(|(c, &n)| (c, n)).collect();
    found.sort_by_key(|&(c, n)| (std::cmp::Reverse(n), c));
    if found.is_empty() {
        return "only background predicted".into();
    }
    found.iter().map(|(c, n)| format!("class {c}: {n} px")).collect::<Vec<_>>().join(", ")
}
