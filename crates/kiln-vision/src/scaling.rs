//! The rounding rules that generate model variants from width and depth multipliers (as timm
//! and torchvision do), so no variant is a hand-written table.

/// Rounds `channels` to the nearest multiple of `divisor` (at least `divisor`), never going more
/// than 10% below the unrounded value: MobileNetV2's `_make_divisible` and EfficientNet's
/// `round_filters`.
///
/// ```
/// use kiln_vision::scaling::make_divisible;
/// assert_eq!(make_divisible(32.0 * 1.1, 8), 32); // EfficientNet-B2 stem: 35.2 → 32
/// assert_eq!(make_divisible(16.0 * 1.4, 8), 24); // 22.4 → 24
/// assert_eq!(make_divisible(1280.0 * 1.8, 8), 2304);
/// ```
pub fn make_divisible(channels: f64, divisor: usize) -> usize {
    let d = divisor as f64;
    let rounded = (((channels + d / 2.0) / d).floor() * d).max(d);
    if rounded < 0.9 * channels {
        (rounded + d) as usize
    } else {
        rounded as usize
    }
}

/// Repeats of a stage scaled by a depth multiplier, rounded up (EfficientNet's `round_repeats`).
///
/// ```
/// assert_eq!(kiln_vision::scaling::round_repeats(3, 1.4), 5); // 4.2 → 5
/// ```
pub fn round_repeats(repeats: usize, depth_multiplier: f64) -> usize {
    (repeats as f64 * depth_multiplier).ceil() as usize
}
