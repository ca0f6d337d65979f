//! Box operations for detection: formats, overlap measures (IoU, GIoU, DIoU, CIoU) as pairwise
//! matrices and as losses, and non-maximum suppression (plain, class-aware, Soft-NMS, DIoU-NMS).
//!
//! Tensor boxes are `[N, 4]`; overlap functions take `xyxy` (x1, y1, x2, y2) corners.

mod format;
mod iou;
mod loss;
mod nms;

pub use format::{box_area, convert, BoxFormat};
pub use iou::{paired_overlap, pairwise_overlap, Overlap};
pub use kiln_losses::Reduction;
pub use loss::{IouLoss, IouLossConfig};
pub use nms::{batched_nms, diou_nms, nms, soft_nms, SoftNmsConfig, SoftNmsDecay};
