//! The DDP training loop: one thread per local device, gradients averaged every step.
//!
//! burn-train 0.21's DDP runs on `DistributedBackend`, which only the CubeCL backends implement
//! (not ndarray, flex or tch), and it has no multi-node orchestration; kiln's loop is the same
//! idea on burn-collective, which works with every backend and across processes.
//!
//! Each step every replica runs forward and backward on its slice of the global batch, the
//! gradients (and the step's loss and correct count) are all-reduced to their mean, and every
//! replica applies the same optimizer step, so the replicas stay equal. The main device (local
//! peer 0 of each node) validates, reports progress and writes the checkpoints while the other
//! local peers wait for it at the epoch's end. Batch norm uses each replica's own batch
//! statistics, as PyTorch's DDP does without SyncBatchNorm; the running statistics that
//! validation and checkpoints use are the main replica's, as PyTorch's `broadcast_buffers` makes them.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::time::Duration;

use burn::module::AutodiffModule;
use burn::optim::GradientsParams;
use burn::prelude::*;
use burn::tensor::backend::{AutodiffBackend, DeviceId};
use burn_collective::{CollectiveConfig, ReduceOperation};
use kiln_data::epoch_permutation;
use kiln_vision::ImageClassifier;

use super::collective_peer::CollectivePeer;
use super::replicas::{copy_from_rank0, number_parameters};
use super::shard::{shard_order, steps_per_epoch};
use super::topology::{collective_config, Topology};
use crate::checkpoint::{self, Checkpoint, TrainerState};
use crate::config::{Devices, ExperimentConfig};
use crate::error::{KilnError, Result};
use crate::optimizer::AnyOptimizer;
use crate::pipeline::for_each_batch;
use crate::progress::{Phase, TrainingObserver};
use crate::schedule::LrSchedule;
use crate::task::classification::{ClassificationData, PhaseMeter};
use crate::trainer::{batch_seed, end_epoch, non_finite_loss, FitOutcome, RunPaths, TrainedEpoch};

/// Trains `model` with `[train] devices` peers in this process (and `[ddp] nodes` processes),
/// resuming every rank from `resume` when given. Returns the main device's model.
pub fn fit_ddp<B, M>(
    model: M,
    cfg: &ExperimentConfig,
    data: &ClassificationData,
    device: &B::Device,
    paths: &RunPaths,
    observer: &mut dyn TrainingObserver,
    resume: Option<Checkpoint>,
) -> Result<FitOutcome<M>>
where
    B: AutodiffBackend,
    M: AutodiffModule<B> + ImageClassifier<B>,
    M::InnerModule: ImageClassifier<B::InnerBackend>,
{
    let topology = Topology::new(cfg);
    let steps = steps_per_epoch(data.train_indices.len(), cfg.data.batch_size, topology.world_size());
    if steps == 0 {
        return Err(KilnError::Ddp(format!(
            "{} training examples do not fill one global batch of {} (data.batch_size {} × {} peers)",
            data.train_indices.len(),
            cfg.data.batch_size * topology.world_size(),
            cfg.data.batch_size,
            topology.world_size()
        )));
    }
    let collective = collective_config(cfg)?;
    let devices = local_devices::<B>(&cfg.train.devices, device);
    // A session that failed earlier in this process (tests, notebooks) may have left peers registered.
    burn_collective::reset_collective::<B::InnerBackend>();

    let mut model = number_parameters(model);
    let mut start = Start { state: TrainerState::default(), optimizer: None, last_checkpoint: None };
    if let Some(ck) = resume {
        let bad = |reason: String| KilnError::Checkpoint { path: ck.dir.clone(), reason };
        model = checkpoint::load_model_bytes(model, ck.model, &devices[0]).map_err(|e| bad(format!("model: {e}")))?;
        start = Start { state: ck.state, optimizer: Some(ck.optimizer), last_checkpoint: Some(ck.dir) };
    }
    let shared = Shared {
        cfg,
        data,
        paths,
        topology,
        collective,
        timeout: Duration::from_secs_f64(cfg.ddp.timeout_seconds),
        steps,
        start,
    };

    std::thread::scope(|scope| {
        let mut gates = Vec::new();
        let followers: Vec<_> = (1..topology.local_peers)
            .map(|local| {
                let (open, gate) = channel();
                gates.push(open);
                let (replica, device) = (model.clone().fork(&devices[local]), devices[local].clone());
                let shared = &shared;
                std::thread::Builder::new()
                    .name(format!("kiln-peer-{}", topology.global_rank(local)))
                    .spawn_scoped(scope, move || {
                        guarded(shared, local, || train_peer(shared, local, device, replica, Role::Follower(gate)))
                    })
                    .expect("the OS starts a thread")
            })
            .collect();
        let main =
            guarded(&shared, 0, || train_peer(&shared, 0, devices[0].clone(), model, Role::Main { observer, gates }));
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
                    KilnError::PeerAborted { .. } => KilnError::Ddp(
                        "the collective was torn down (a peer or node stopped); see the messages above".into(),
                    ),
                    error => error,
                })
            }
        }
    })
}

/// Where every rank starts: fresh, or the checkpoint's state and optimizer.
struct Start {
    state: TrainerState,
    optimizer: Option<Vec<u8>>,
    last_checkpoint: Option<PathBuf>,
}

/// What every peer of this process reads.
struct Shared<'a> {
    cfg: &'a ExperimentConfig,
    data: &'a ClassificationData,
    paths: &'a RunPaths,
    topology: Topology,
    collective: CollectiveConfig,
    timeout: Duration,
    steps: usize,
    start: Start,
}

/// The main device reports and checkpoints, then lets the followers into the next epoch.
enum Role<'a> {
    Main { observer: &'a mut dyn TrainingObserver, gates: Vec<Sender<()>> },
    Follower(Receiver<()>),
}

/// Runs one peer, turning a panic into an error; a failing peer tears the local collective
/// down so that the peers waiting for it wake up instead of waiting out the timeout.
fn guarded<B, M, F>(shared: &Shared, local: usize, body: F) -> Result<FitOutcome<M>>
where
    B: AutodiffBackend,
    F: FnOnce() -> Result<FitOutcome<M>, KilnError>,
    M: AutodiffModule<B>,
{
    let rank = shared.topology.global_rank(local);
    let result = catch_unwind(AssertUnwindSafe(body))
        .unwrap_or_else(|_| Err(KilnError::Ddp(format!("peer {rank} stopped on an internal error (see above)"))));
    if matches!(&result, Err(e) if !matches!(e, KilnError::PeerAborted { .. })) {
        burn_collective::reset_collective::<B::InnerBackend>();
    }
    result
}

fn train_peer<B, M>(shared: &Shared, local: usize, device: B::Device, model: M, mut role: Role) -> Result<FitOutcome<M>>
where
    B: AutodiffBackend,
    M: AutodiffModule<B> + ImageClassifier<B>,
    M::InnerModule: ImageClassifier<B::InnerBackend>,
{
    let Shared { cfg, data, paths, topology, .. } = shared;
    let (rank, world) = (topology.global_rank(local), topology.world_size());
    let (epochs, batch_size, seed) = (cfg.train.epochs, cfg.data.batch_size, cfg.experiment.seed);
    let peer = CollectivePeer::<B::InnerBackend>::start(rank, shared.timeout);
    peer.register(device.clone(), shared.collective.clone())?;
    let mut model = copy_from_rank0::<B, M>(model, &peer)?;

    let mut optimizer = AnyOptimizer::<M, B>::new(&cfg.optim);
    if let Some(bytes) = &shared.start.optimizer {
        optimizer = optimizer.load_state_bytes(bytes.clone(), &device).map_err(|reason| KilnError::Checkpoint {
            path: shared.start.last_checkpoint.clone().unwrap_or_default(),
            reason: format!("optimizer: {reason}"),
        })?;
    }
    let mut state = shared.start.state.clone();
    let mut last_checkpoint = shared.start.last_checkpoint.clone();
    let mut schedule = LrSchedule::new(&cfg.schedule, cfg.optim.lr, shared.steps, epochs)
        .map_err(|e| KilnError::Unsupported(format!("[schedule]: {e}")))?;
    schedule.skip(state.global_step);
    let loss_fn = crate::loss::cross_entropy(&cfg.loss).init::<B>(&device);

    while state.epoch < epochs {
        let epoch = state.epoch + 1;
        if local == 0 {
            // The backend's generator is shared by the peers of a process: dropout masks are
            // seeded per epoch but, with several local peers, not reproducible bit for bit.
            B::seed(&device, seed.wrapping_add(1_000_003 * epoch as u64));
        }
        let order = epoch_permutation(&data.train_indices, seed, epoch);
        let mine = shard_order(&order, batch_size, rank, world);
        let mut meter = PhaseMeter::new(Phase::Train, (epoch, epochs), shared.steps);
        if let Role::Main { observer, .. } = &mut role {
            observer.on_phase_start(Phase::Train, epoch, epochs, shared.steps);
        }
        let shift = cfg.data.augment_shift;
        let make = |chunk: &[usize], i: usize| match shift {
            0 => data.batcher.host_batch(&data.train, chunk),
            s => data.batcher.host_batch_shifted(&data.train, chunk, s, batch_seed(seed, epoch, i * world + rank)),
        };
        let mut slot = Some(model);
        let mut lr = cfg.optim.lr;
        for_each_batch(&mine, batch_size, cfg.data.num_workers, make, |host| {
            let batch = host.to_device::<B>(&device);
            let n = batch.targets.dims()[0];
            let current = slot.take().expect("the model is back in its slot after every step");
            let logits = current.training_logits(batch.images, batch.targets.clone());
            let loss = loss_fn.forward(logits.clone(), batch.targets.clone());
            let correct = logits.argmax(1).reshape([n]).equal(batch.targets).int().sum().float();
            let step = Tensor::<B::InnerBackend, 1>::from_floats([state.global_step as f32], &device);
            let stats = Tensor::cat(vec![loss.clone().inner(), correct.inner(), step], 0);
            let grads = GradientsParams::from_grads(loss.backward(), &current);
            let (grads, stats) = peer.all_reduce(grads, stats, ReduceOperation::Mean)?;
            let stats: Vec<f32> = stats.into_data().convert::<f32>().to_vec().expect("f32 statistics");
            let (mean_loss, mean_correct) = (f64::from(stats[0]), f64::from(stats[1]));
            if stats[2] != state.global_step as f32 {
                return Err(KilnError::Ddp(format!(
                    "peer {rank} is at step {} but the peers average step {}: the nodes resumed from different checkpoints",
                    state.global_step, stats[2]
                )));
            }
            if !mean_loss.is_finite() {
                let step = meter.progress.step + 1;
                return Err(non_finite_loss(mean_loss, epoch, step, last_checkpoint.as_deref(), paths));
            }
            lr = schedule.step();
            slot = Some(optimizer.step(lr, current, grads));
            state.global_step += 1;
            let progress = meter.record_counts(mean_loss, (mean_correct * world as f64).round() as u64, n * world);
            if let Role::Main { observer, .. } = &mut role {
                observer.on_step(progress);
            }
            Ok(())
        })?;
        model = slot.take().expect("the model is back in its slot after every step");
        match &mut role {
            Role::Main { observer, gates } => {
                let trained = TrainedEpoch {
                    epoch,
                    lr,
                    seen: meter.seen(),
                    seconds: meter.elapsed_seconds(),
                    progress: meter.progress,
                };
                observer.on_phase_end(&trained.progress);
                let device = &device;
                if let Some(dir) =
                    end_epoch(&model, &optimizer, cfg, data, device, paths, *observer, &mut state, trained)?
                {
                    last_checkpoint = Some(dir);
                }
                gates.iter().for_each(|gate| {
                    let _ = gate.send(());
                });
            }
            Role::Follower(gate) => {
                state.epoch = epoch;
                gate.recv().map_err(|_| KilnError::PeerAborted { rank })?;
            }
        }
    }
    // Every peer has made its last all-reduce by now (the main device's gate came after it).
    peer.finish()?;
    Ok(FitOutcome { model, state })
}

/// The device of each local peer: `[train] devices` indices of the backend's default kind.
fn local_devices<B: Backend>(devices: &Devices, default: &B::Device) -> Vec<B::Device> {
    use burn::tensor::backend::Device as _;
    let kind = default.to_id().type_id;
    devices.indices().into_iter().map(|index| B::Device::from_id(DeviceId::new(kind, index))).collect()
}
