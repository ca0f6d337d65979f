//! Object detectors, and their heads' host-side halves: how ground-truth boxes become a head's
//! training targets, and how its outputs become scored boxes again.
//!
//! Boxes here are `[x1, y1, x2, y2]` in input pixels.

mod centernet;
pub mod centernet_decode;
pub mod centernet_target;
mod detector;
pub mod family;
pub mod suppression;

pub use centernet::{CenterNet, CenterNetConfig, CenterNetHead, CENTERNET_STRIDE, HEATMAP_PRIOR_BIAS};
pub use centernet_decode::{centernet_peaks, ScoredBox};
pub use centernet_target::{gaussian_radius, CenterNetTargets};
pub use detector::{LabelledBox, ObjectDetector};
pub use family::{DetectorFamily, OnDetector};
pub use suppression::{Suppression, SUPPRESSIONS};
