//! kiln-train: experiment configs, the model registry, tasks, the one training loop and the
//! strategies beneath it, backend dispatch, and run records. The `kiln` CLI is a thin layer over
//! this crate.
//!
//! ```no_run
//! use kiln_train::{config::load_experiment, progress::Silent, run::run_experiment};
//! let cfg = load_experiment("experiments/mnist-lenet5.toml".as_ref(), &[])?;
//! let summary = run_experiment(&cfg, None, &mut Silent)?;
//! println!("test accuracy {}", summary.metrics["test/accuracy"]);
//! # Ok::<(), kiln_train::KilnError>(())
//! ```

pub mod atomic;
pub mod backend;
pub mod bench;
pub mod checkpoint;
pub mod config;
pub mod ddp;
pub mod ema;
pub mod error;
pub mod eval;
pub mod figure_plot;
pub mod figures;
pub mod grad_clip;
pub mod models;
pub mod optimizer;
pub mod pipeline;
pub mod plot;
pub mod progress;
pub mod records;
pub mod registry;
pub mod reproduce;
pub mod run;
pub mod schedule;
pub mod strategy;
pub mod task;
pub mod trainer;

pub use error::{ConfigError, KilnError, Result};
