//! Detection heads' host-side halves: how ground-truth boxes become a head's training targets,
//! and how its outputs become scored boxes again.
//!
//! Boxes here are `[x1, y1, x2, y2]` in input pixels.

pub mod centernet_decode;
pub mod centernet_target;
pub mod suppression;

pub use centernet_decode::{centernet_peaks, ScoredBox};
pub use centernet_target::{gaussian_radius, CenterNetTargets};
pub use suppression::{Suppression, SUPPRESSIONS};
