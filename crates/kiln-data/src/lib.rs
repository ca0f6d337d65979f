//! Datasets in standard formats and the batchers that turn them into tensors.
//!
//! kiln ships small real datasets under `datasets/` in the same formats as their full-size
//! originals, so a loader written here reads both (`--set data.root=/path/to/full/mnist`).

pub mod coco;
pub mod error;
pub mod idx;
pub mod image_batch;
pub mod mnist;
pub mod pairs;
pub mod points;
pub mod segmentation;
pub mod split;
pub mod text;

pub use coco::{write_results, CocoDetectionDataset, CocoInstances, CocoObject, CocoResult};
pub use error::DataError;
pub use idx::{read_idx, IdxArray};
pub use image_batch::{HostImageBatch, ImageBatch, ImageBatcher};
pub use mnist::{MnistDataset, MnistSplit};
pub use pairs::{read_pairs, PairCorpus, TextPair};
pub use points::{read_points, PointSet, Points};
pub use segmentation::{HostSegmentationBatch, SegmentationDataset};
pub use split::{epoch_permutation, grey_statistics, random_split, stratified_split};
pub use text::{read_text, TextCorpus};
