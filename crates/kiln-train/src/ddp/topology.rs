//! Who takes part in a DDP run: the local peers of each process, the processes, global ranks,
//! and the burn-collective configuration that joins a process's devices.

use burn_collective::{AllReduceStrategy, CollectiveConfig};

use super::processes::Processes;
use crate::config::{AllReduceName, DdpSection, Devices};

/// The peers of a run: `local_peers` in each of the `processes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Topology {
    pub local_peers: usize,
    pub processes: Processes,
}

impl Topology {
    pub fn new(devices: &Devices, processes: Processes) -> Self {
        Self { local_peers: devices.count(), processes }
    }

    /// Peers across all processes. Every process runs the same number of local peers.
    pub fn world_size(&self) -> usize {
        self.local_peers * self.processes.size
    }

    /// Rank 0 is local peer 0 of process 0; ranks are contiguous within a process.
    pub fn global_rank(&self, local: usize) -> usize {
        self.processes.rank * self.local_peers + local
    }
}

/// burn-collective's configuration for the devices of this process.
pub fn collective_config(devices: &Devices, d: &DdpSection) -> CollectiveConfig {
    let strategy = match d.local_all_reduce {
        AllReduceName::Centralized => AllReduceStrategy::Centralized,
        AllReduceName::Tree => AllReduceStrategy::Tree(d.tree_arity),
        AllReduceName::Ring => AllReduceStrategy::Ring,
    };
    CollectiveConfig::default().with_num_devices(devices.count()).with_local_all_reduce_strategy(strategy)
}
