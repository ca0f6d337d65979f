//! Launching DDP replicas: one thread per local device, each running the trainer's one loop
//! ([`crate::trainer::train_replica`]) with a [`DdpPeer`] as its reducer: burn-collective among
//! the process's devices, MPI among processes.
//!
//! burn-train 0.21's DDP runs on `DistributedBackend`, which only the CubeCL backends implement
//! (not ndarray, flex or tch), and it has no multi-node orchestration; kiln's strategy is the same
//! idea on burn-collective, which works with every backend, and on MPI across processes.
//!
//! Every step each replica runs forward and backward on its slice of the global batch, the task
//! asks for gradients and gets their all-reduced mean, and every replica applies the same
//! optimizer step, so the replicas stay equal. Figures are summed over the replicas whenever they
//! are read. The main device (local peer 0 of rank 0's process) validates, reports progress and
//! writes the checkpoints while the other local peers wait for it at the epoch's end; the main
//! devices of the other processes only train, and wait for it in the next step's reduction. Batch norm uses
//! each replica's own batch statistics, as PyTorch's DDP does without SyncBatchNorm; the running
//! statistics that validation and checkpoints use are the main replica's, as PyTorch's
//! `broadcast_buffers` makes them.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::channel;
use std::time::Duration;

use burn::prelude::*;
use burn::tensor::backend::{AutodiffBackend, DeviceId};

use super::collective_peer::CollectivePeer;
use super::peer::DdpPeer;
use super::processes::processes;
use super::topology::{collective_config, Topology};
use crate::config::Devices;
use crate::error::{KilnError, Result};
use crate::progress::TrainingObserver;
use crate::task::Task;
use crate::trainer::{train_replica, FitOutcome, FitSettings, Role, RunPaths, Start};

/// Trains `model` with `[train] devices` peers in this process, and as many in every other
/// process of the run.
/// Returns the main device's model.
pub(crate) fn launch<B: AutodiffBackend, T: Task<B>>(
    task: &T,
    model: T::Model,
    settings: &FitSettings,
    device: &B::Device,
    paths: &RunPaths,
    observer: &mut dyn TrainingObserver,
    start: &Start,
) -> Result<FitOutcome<T::Model>> {
    let topology = Topology::new(&settings.devices, processes());
    let collective = collective_config(&settings.devices, &settings.ddp);
    let devices = local_devices::<B>(&settings.devices, device);
    let timeout = Duration::from_secs_f64(settings.ddp.timeout_seconds);
    // A session that failed earlier in this process (tests, notebooks) may have left peers registered.
    burn_collective::reset_collective::<B::InnerBackend>();

    let peer_run = |local: usize, device: B::Device, replica: T::Model, role: Role| -> Result<FitOutcome<T::Model>> {
        let local_peer = if topology.local_peers > 1 {
            let peer = CollectivePeer::<B::InnerBackend>::start(local, timeout);
            peer.register(device.clone(), collective.clone())?;
            Some(peer)
        } else {
            None
        };
        let peer = DdpPeer::new(local_peer, (local, topology.local_peers), topology.processes, timeout)
            .with_exchange(settings.ddp.exchange);
        let outcome = train_replica(task, settings, &peer, device, replica, start, paths, role)?;
        // Every peer has made its last all-reduce by now (the main device's gate came after it).
        peer.finish()?;
        Ok(outcome)
    };
    std::thread::scope(|scope| {
        let mut gates = Vec::new();
        let followers: Vec<_> = (1..topology.local_peers)
            .map(|local| {
                let (open, gate) = channel();
                gates.push(open);
                let (replica, device) = (model.clone().fork(&devices[local]), devices[local].clone());
                let peer_run = &peer_run;
                std::thread::Builder::new()
                    .name(format!("kiln-peer-{}", topology.global_rank(local)))
                    .spawn_scoped(scope, move || {
                        guarded::<B, _, _>(topology.global_rank(local), || {
                            peer_run(local, device, replica, Role::Follower(gate))
                        })
                    })
                    .expect("the OS starts a thread")
            })
            .collect();
        let main = guarded::<B, _, _>(topology.global_rank(0), || {
            let records = topology.processes.is_root();
            peer_run(0, devices[0].clone(), model, Role::Main { observer, gates, records })
        });
        let mut errors: Vec<KilnError> = followers
            .into_iter()
            .filter_map(|handle| handle.join().expect("peer panics are caught in guarded").err())
            .collect();
        match main {
            Ok(outcome) if errors.is_empty() => Ok(outcome),
            Ok(_) => Err(errors.remove(0)),
            Err(error) => {
                errors.insert(0, error);
                // Report the peer that failed, not those it stopped.
                let root = errors.iter().position(|e| !matches!(e, KilnError::PeerAborted { .. })).unwrap_or(0);
                Err(match errors.swap_remove(root) {
                    KilnError::PeerAborted { .. } => {
                        KilnError::Ddp("the collective was torn down (a peer stopped); see the messages above".into())
                    }
                    error => error,
                })
            }
        }
    })
}

/// Runs one peer, turning a panic into an error; a failing peer tears the local collective
/// down so that the peers waiting for it wake up instead of waiting out the timeout.
fn guarded<B, M, F>(rank: usize, body: F) -> Result<FitOutcome<M>>
where
    B: AutodiffBackend,
    F: FnOnce() -> Result<FitOutcome<M>, KilnError>,
{
    let result = catch_unwind(AssertUnwindSafe(body))
        .unwrap_or_else(|_| Err(KilnError::Ddp(format!("peer {rank} stopped on an internal error (see above)"))));
    if matches!(&result, Err(e) if !matches!(e, KilnError::PeerAborted { .. })) {
        burn_collective::reset_collective::<B::InnerBackend>();
    }
    result
}

/// The device of each local peer: `[train] devices` indices of the backend's default kind.
fn local_devices<B: Backend>(devices: &Devices, default: &B::Device) -> Vec<B::Device> {
    use burn::tensor::backend::Device as _;
    let kind = default.to_id().type_id;
    devices.indices().into_iter().map(|index| B::Device::from_id(DeviceId::new(kind, index))).collect()
}
