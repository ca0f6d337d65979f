//! Distributed data parallel training: several devices in one process (`[train] strategy =
//! "ddp"`, `devices = N`) on burn-collective's local all-reduce, and several processes and nodes
//! started by `mpirun` or `srun` on MPI (the `mpi` feature). The strategy launches replicas and
//! reduces for them; the loop they run is the trainer's.
//!
//! ```no_run
//! use kiln_train::{config::load_experiment, config::parse_override, progress::Silent, run::run_experiment};
//! // Two peers in this process, each with data.batch_size examples per step.
//! let overrides = [parse_override("train.strategy=\"ddp\"")?, parse_override("train.devices=2")?];
//! let cfg = load_experiment("experiments/mnist-lenet5.toml".as_ref(), &overrides)?;
//! let summary = run_experiment(&cfg, None, &mut Silent)?;
//! # Ok::<(), kiln_train::KilnError>(())
//! ```

mod agreement;
mod collective_peer;
mod flat_grads;
mod launch;
#[cfg(feature = "mpi")]
mod mpi_world;
mod peer;
mod processes;
mod replicas;
mod shard;
mod topology;

pub use agreement::check_ranks_agree;
pub use collective_peer::CollectivePeer;
pub use flat_grads::mean_grads;
pub(crate) use launch::launch;
pub use peer::DdpPeer;
pub use processes::{abort_processes, join_processes, leave_processes, processes, Processes};
pub(crate) use processes::{broadcast_from_root, check_strategy_spans};
pub use replicas::{copy_from_rank0, number_parameters};
pub use shard::{shard_order, steps_per_epoch};
pub use topology::{collective_config, Topology};
