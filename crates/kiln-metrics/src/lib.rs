//! Streaming metrics: update per batch, read at any time.
//!
//! burn-train's metrics are driven by its Learner's event loop; kiln's trainer owns its loop
//! (see kiln-train's `trainer`), so these accumulate plain numbers that any loop can feed.

pub mod accuracy;
pub mod angular;
pub mod coco_ap;
pub mod confusion;
pub mod frame_map;
pub mod frechet;
pub mod mean;
pub mod perplexity;
pub mod sample_distance;
pub mod top_k;

mod order;

pub use accuracy::Accuracy;
pub use angular::AngularStats;
pub use coco_ap::{CocoEvaluator, CocoSummary, Detection, GroundTruth};
pub use confusion::ConfusionMatrix;
pub use frame_map::FrameApMeter;
pub use frechet::GaussianFit;
pub use mean::Mean;
pub use perplexity::Perplexity;
pub use top_k::TopKAccuracy;
