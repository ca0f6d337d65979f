//! Object detectors, and their heads' host-side halves: how ground-truth boxes become a head's
//! training targets, and how its outputs become scored boxes again.
//!
//! Boxes here are `[x1, y1, x2, y2]` in input pixels.

pub mod backbone;
mod centernet;
pub mod centernet_decode;
pub mod centernet_target;
pub mod dense_decode;
mod detector;
pub mod family;
pub mod fcos;
pub mod fcos_head;
pub mod fcos_target;
pub mod star_offsets;
pub mod suppression;

pub use backbone::basic_block_stages;
pub use centernet::{CenterNet, CenterNetConfig, CenterNetHead, CENTERNET_STRIDE, HEATMAP_PRIOR_BIAS};
pub use centernet_decode::{centernet_peaks, ScoredBox};
pub use centernet_target::{gaussian_radius, CenterNetTargets};
pub use dense_decode::dense_candidates;
pub use detector::{LabelledBox, ObjectDetector};
pub use family::{DetectorFamily, OnDetector};
pub use fcos::{iacs_targets, Fcos, FcosConfig, FcosOutput, STAGE_STRIDES};
pub use fcos_head::{FcosHead, DENSE_PRIOR_BIAS};
pub use fcos_target::{centreness, fcos_locations, ltrb, FcosLevel, FcosTargets};
pub use star_offsets::star_offsets;
pub use suppression::{Suppression, SUPPRESSIONS};
