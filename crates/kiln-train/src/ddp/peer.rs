//! A DDP replica's reductions: first among the devices of its process (burn-collective), then
//! among the processes (MPI, through host buffers).
//!
//! Local peer 0 of each process is the only one that talks to MPI: the local sum reaches every
//! local peer, local peer 0 sums it across processes, and a second local sum in which the other
//! local peers contribute zeros hands the global sum to all of them (exactly: x + 0 = x).

use std::time::Duration;

use burn::prelude::*;
use burn::tensor::TensorData;

use super::collective_peer::CollectivePeer;
use super::processes::Processes;
use crate::config::GradientExchange;
use crate::error::Result;
use crate::strategy::Reducer;

pub struct DdpPeer<B: Backend> {
    /// burn-collective among this process's devices; `None` for one device per process.
    local: Option<CollectivePeer<B>>,
    local_rank: usize,
    local_peers: usize,
    processes: Processes,
    timeout: Duration,
    exchange: GradientExchange,
}

impl<B: Backend> DdpPeer<B> {
    pub fn new(
        local: Option<CollectivePeer<B>>,
        (local_rank, local_peers): (usize, usize),
        processes: Processes,
        timeout: Duration,
    ) -> Self {
        Self { local, local_rank, local_peers, processes, timeout, exchange: GradientExchange::OneBuffer }
    }

    /// The same peer with gradients exchanged as `exchange` says.
    pub fn with_exchange(mut self, exchange: GradientExchange) -> Self {
        self.exchange = exchange;
        self
    }

    /// Leaves the local collective; call after the last reduction.
    pub fn finish(&self) -> Result<()> {
        self.local.as_ref().map_or(Ok(()), CollectivePeer::finish)
    }

    fn local_sum(&self, values: Tensor<B, 1>) -> Result<Tensor<B, 1>> {
        match &self.local {
            Some(peer) => peer.sum(values),
            None => Ok(values),
        }
    }
}

impl<B: Backend> Reducer<B> for DdpPeer<B> {
    /// Ranks are contiguous within a process; rank 0 is local peer 0 of process 0.
    fn rank(&self) -> usize {
        self.processes.rank * self.local_peers + self.local_rank
    }

    fn world(&self) -> usize {
        self.processes.size * self.local_peers
    }

    fn exchange(&self) -> GradientExchange {
        self.exchange
    }

    fn sum(&self, values: Tensor<B, 1>) -> Result<Tensor<B, 1>> {
        let local = self.local_sum(values)?;
        if self.processes.size == 1 {
            return Ok(local);
        }
        let across = if self.local_rank == 0 {
            let device = local.device();
            let mut host: Vec<f32> = local.into_data().convert::<f32>().to_vec().expect("f32 values");
            super::processes::host_sum(&mut host, self.timeout, "summing gradients, figures or weights")?;
            let n = host.len();
            Tensor::from_data(TensorData::new(host, [n]), &device)
        } else {
            local.zeros_like()
        };
        self.local_sum(across)
    }
}
