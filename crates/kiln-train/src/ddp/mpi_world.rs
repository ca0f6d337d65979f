//! MPI (through rsmpi) between the processes of a run: the host-buffer sum of gradients and
//! figures, broadcasts from rank 0, and the timeout MPI's collectives lack.
//!
//! An MPI collective blocks until every rank has joined it; a rank that hangs (stopped, swapping,
//! cut off) would hold the others forever. So every collective here is the non-blocking form,
//! polled until it completes or `[ddp] timeout_seconds` pass. While polling, each rank answers
//! the others' "are you there?" probes on a second communicator; a rank that times out probes
//! everyone, names those that do not answer, and aborts the job (MPI_Abort stops every rank).
//! A rank that dies outright is noticed sooner by the launcher, which ends the job and names it.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use mpi::collective::SystemOperation;
use mpi::request::{Request, Scope};
use mpi::topology::{Communicator, SimpleCommunicator};
use mpi::traits::*;
use mpi::Threading;

use super::processes::Processes;
use crate::error::{KilnError, Result};

const PROBE_TAG: i32 = 7001;
const ANSWER_TAG: i32 = 7002;
/// How long a timed-out rank waits for the answers to its probes.
const PROBE_WAIT: Duration = Duration::from_secs(2);

/// Fields drop in order: the communicators are freed before the universe finalises MPI.
struct MpiWorld {
    world: SimpleCommunicator,
    /// Liveness probes travel apart from the collectives' traffic.
    probes: SimpleCommunicator,
    _universe: mpi::environment::Universe,
}

// SAFETY: MPI is initialised with at least `Threading::Serialized`, and every call goes through
// the mutex below, so no two threads make MPI calls at once.
unsafe impl Send for MpiWorld {}

static WORLD: Mutex<Option<MpiWorld>> = Mutex::new(None);

fn world() -> std::sync::MutexGuard<'static, Option<MpiWorld>> {
    WORLD.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

pub(super) fn start() -> Result<Processes> {
    let (universe, threading) = mpi::initialize_with_threading(Threading::Serialized)
        .ok_or_else(|| KilnError::Ddp("MPI was already initialised in this process by another library".into()))?;
    if matches!(threading, Threading::Single | Threading::Funneled) {
        return Err(KilnError::Ddp(format!(
            "this MPI library offers only {threading:?} threading; kiln's peers need MPI_THREAD_SERIALIZED"
        )));
    }
    let world = universe.world();
    let probes = world.duplicate();
    let processes = Processes { rank: world.rank() as usize, size: world.size() as usize };
    *self::world() = Some(MpiWorld { world, probes, _universe: universe });
    Ok(processes)
}

pub(super) fn finish() {
    world().take();
}

pub(super) fn abort(code: i32) {
    if let Some(w) = world().as_ref() {
        w.world.abort(code);
    }
}

/// Element-wise sum of `values` over every process, in place.
pub(crate) fn sum(values: &mut [f32], timeout: Duration, doing: &str) -> Result<()> {
    with_world(|w| {
        let send = values.to_vec();
        mpi::request::scope(|scope| {
            let request = w.world.immediate_all_reduce_into(scope, &send[..], values, SystemOperation::sum());
            w.complete(request, timeout, doing);
        });
    })
}

/// Rank 0's `bytes`, on every rank (each rank passes its own; only rank 0's are kept).
pub(crate) fn broadcast_from_root(bytes: Vec<u8>, timeout: Duration, doing: &str) -> Result<Vec<u8>> {
    with_world(|w| {
        let mut length = [bytes.len() as u64];
        mpi::request::scope(|scope| {
            let request = w.world.process_at_rank(0).immediate_broadcast_into(scope, &mut length[..]);
            w.complete(request, timeout, doing);
        });
        let mut buffer = bytes;
        buffer.resize(length[0] as usize, 0);
        mpi::request::scope(|scope| {
            let request = w.world.process_at_rank(0).immediate_broadcast_into(scope, &mut buffer[..]);
            w.complete(request, timeout, doing);
        });
        buffer
    })
}

/// Every rank's `flag`, in rank order.
pub(crate) fn gather_flags(flag: bool, timeout: Duration, doing: &str) -> Result<Vec<bool>> {
    with_world(|w| {
        let send = [u8::from(flag)];
        let mut all = vec![0u8; w.world.size() as usize];
        mpi::request::scope(|scope| {
            let request = w.world.immediate_all_gather_into(scope, &send[..], &mut all[..]);
            w.complete(request, timeout, doing);
        });
        all.into_iter().map(|b| b != 0).collect()
    })
}

fn with_world<T>(body: impl FnOnce(&MpiWorld) -> T) -> Result<T> {
    let guard = world();
    let w =
        guard.as_ref().ok_or_else(|| KilnError::Ddp("MPI is not set up in this process (join_processes)".into()))?;
    Ok(body(w))
}

impl MpiWorld {
    /// Polls `request` to completion, answering probes; on timeout names the silent ranks and
    /// stops the job (a pending collective cannot be cancelled, so there is no way back).
    fn complete<'a, R: ?Sized, S: Scope<'a>>(&self, mut request: Request<'a, R, S>, timeout: Duration, doing: &str) {
        let started = Instant::now();
        loop {
            match request.test() {
                Ok(_) => return,
                Err(pending) => request = pending,
            }
            self.answer_probes();
            if started.elapsed() > timeout {
                let silent = self.silent_ranks();
                let rank = self.world.rank();
                let who = match silent.as_slice() {
                    [] => "every rank answered a probe, so one is stuck inside MPI".to_string(),
                    [one] => format!("rank {one} does not answer (stopped, hung or unreachable)"),
                    many => format!(
                        "ranks {} do not answer (stopped, hung or unreachable)",
                        many.iter().map(|r| r.to_string()).collect::<Vec<_>>().join(", ")
                    ),
                };
                eprintln!(
                    "error: DDP: rank {rank} waited {:.0} s for the other processes while {doing}; {who}. Every process of the run stops now; its checkpoints are intact, so `--resume <run-dir>` continues it (raise ddp.timeout_seconds if a rank is only slow).",
                    timeout.as_secs_f64()
                );
                self.world.abort(2);
            }
            // A step's reduction usually completes within microseconds of the last rank's
            // arrival; a long wait (rank 0 validating) needs no such promptness, nor a core.
            let waited = started.elapsed();
            if waited < Duration::from_millis(2) {
                std::thread::yield_now();
            } else if waited < Duration::from_millis(50) {
                std::thread::sleep(Duration::from_micros(50));
            } else {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
    }

    /// Answers every probe that has arrived.
    fn answer_probes(&self) {
        while let Some(status) = self.probes.any_process().immediate_probe_with_tag(PROBE_TAG) {
            let from = self.probes.process_at_rank(status.source_rank());
            let _: (u8, _) = from.receive_with_tag(PROBE_TAG);
            from.send_with_tag(&1u8, ANSWER_TAG);
        }
    }

    /// The other ranks that do not answer a probe within [`PROBE_WAIT`].
    fn silent_ranks(&self) -> Vec<i32> {
        let me = self.world.rank();
        let others: Vec<i32> = (0..self.world.size()).filter(|&r| r != me).collect();
        // One byte: sent eagerly, so a silent rank cannot hold this send up.
        others.iter().for_each(|&r| self.probes.process_at_rank(r).send_with_tag(&1u8, PROBE_TAG));
        let mut answered = vec![false; self.world.size() as usize];
        let started = Instant::now();
        while started.elapsed() < PROBE_WAIT && others.iter().any(|&r| !answered[r as usize]) {
            self.answer_probes();
            if let Some(status) = self.probes.any_process().immediate_probe_with_tag(ANSWER_TAG) {
                let _: (u8, _) = self.probes.process_at_rank(status.source_rank()).receive_with_tag(ANSWER_TAG);
                answered[status.source_rank() as usize] = true;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        others.into_iter().filter(|&r| !answered[r as usize]).collect()
    }
}
