//! Distributed data parallel training on burn-collective: several devices in one process
//! (`[train] strategy = "ddp"`, `devices = N`) and several processes joined by an orchestrator
//! (`[ddp] nodes`, `node_rank`, `orchestrator`). The strategy launches replicas and reduces for
//! them; the loop they run is the trainer's.
//!
//! ```no_run
//! use kiln_train::{config::load_experiment, config::parse_override, progress::Silent, run::run_experiment};
//! // Two peers in this process, each with data.batch_size examples per step.
//! let overrides = [parse_override("train.strategy=\"ddp\"")?, parse_override("train.devices=2")?];
//! let cfg = load_experiment("experiments/mnist-lenet5.toml".as_ref(), &overrides)?;
//! let summary = run_experiment(&cfg, None, &mut Silent)?;
//! # Ok::<(), kiln_train::KilnError>(())
//! ```

mod collective_peer;
mod launch;
mod orchestrator;
mod replicas;
mod shard;
mod topology;

pub use collective_peer::CollectivePeer;
pub(crate) use launch::launch;
pub use orchestrator::serve_orchestrator;
pub use replicas::{copy_from_rank0, number_parameters};
pub use shard::{shard_order, steps_per_epoch};
pub use topology::{check_nodes_supported, collective_config, parse_host_port, Topology, MULTI_NODE_OVERRIDE};
