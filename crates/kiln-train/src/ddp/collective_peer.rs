//! One local peer's handle on burn-collective (the peers of one process), with the timeout
//! burn-collective lacks.
//!
//! burn-collective's calls block until every peer has made the same call, with no timeout: a
//! peer that died or a node that never joined would hang the others forever. So each peer makes
//! its collective calls on a side thread and waits for the answer with `recv_timeout`; when the
//! time is up the peer reports the failure and the side thread is left behind (it cannot be
//! cancelled; the process ends or resets the collective).

use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender};
use std::time::Duration;

use burn::module::ParamId;
use burn::optim::GradientsParams;
use burn::prelude::*;
use burn_collective::{CollectiveConfig, CollectiveError, PeerId, ReduceOperation};

use crate::error::{KilnError, Result};

/// The id a plain vector travels under inside burn-collective's gradient container.
const VALUES_ID: u64 = u64::MAX;

enum Request<B: Backend> {
    Register(B::Device, CollectiveConfig),
    AllReduce(GradientsParams, ReduceOperation),
    Finish,
}

type Reply = std::result::Result<Option<GradientsParams>, CollectiveError>;

/// A peer's collective side thread. `B` is the inner (non-autodiff) backend: burn-collective
/// keeps one server per backend type, and gradients are stored as inner tensors.
pub struct CollectivePeer<B: Backend> {
    rank: usize,
    timeout: Duration,
    requests: SyncSender<Request<B>>,
    replies: Receiver<Reply>,
}

impl<B: Backend> CollectivePeer<B> {
    /// Starts the side thread of local peer `rank` in this process.
    pub fn start(rank: usize, timeout: Duration) -> Self {
        let (requests, incoming) = sync_channel::<Request<B>>(1);
        let (answer, replies) = sync_channel::<Reply>(1);
        let id = PeerId::from(rank);
        std::thread::Builder::new()
            .name(format!("kiln-collective-{rank}"))
            .spawn(move || {
                for request in incoming {
                    let reply = match request {
                        Request::Register(device, config) => {
                            burn_collective::register::<B>(id, device, config).map(|()| None)
                        }
                        Request::AllReduce(grads, op) => grads.all_reduce::<B>(id, op).map(Some),
                        Request::Finish => burn_collective::finish_collective::<B>(id).map(|()| None),
                    };
                    if answer.send(reply).is_err() {
                        break; // the peer gave up waiting
                    }
                }
            })
            .expect("the OS starts a thread");
        Self { rank, timeout, requests, replies }
    }

    /// Joins the collective; returns once every peer of every node has joined.
    pub fn register(&self, device: B::Device, config: CollectiveConfig) -> Result<()> {
        self.call(Request::Register(device, config), "joining the other devices of this process").map(|_| ())
    }

    /// Leaves the collective; call only after this peer's last all-reduce.
    pub fn finish(&self) -> Result<()> {
        self.call(Request::Finish, "leaving").map(|_| ())
    }

    fn call(&self, request: Request<B>, doing: &str) -> Result<Option<GradientsParams>> {
        let gone = || KilnError::Ddp(format!("peer {}: its collective thread stopped while {doing}", self.rank));
        self.requests.send(request).map_err(|_| gone())?;
        match self.replies.recv_timeout(self.timeout) {
            Ok(Ok(reply)) => Ok(reply),
            // The server was reset by a failing peer of this process: report that peer instead.
            Ok(Err(CollectiveError::LocalServerMissing | CollectiveError::RegisterNotFirstOperation)) => {
                Err(KilnError::PeerAborted { rank: self.rank })
            }
            Ok(Err(e)) => Err(KilnError::Ddp(format!("peer {} failed while {doing}: {}", self.rank, describe(&e)))),
            Err(RecvTimeoutError::Timeout) => Err(KilnError::Ddp(format!(
                "peer {} waited {:.0} s for the other peers while {doing}; a peer of this process has stopped (raise ddp.timeout_seconds if it is only slow)",
                self.rank,
                self.timeout.as_secs_f64()
            ))),
            Err(RecvTimeoutError::Disconnected) => Err(gone()),
        }
    }
}

impl<B: Backend> CollectivePeer<B> {
    /// The element-wise sum of every local peer's `values`.
    pub fn sum(&self, values: Tensor<B, 1>) -> Result<Tensor<B, 1>> {
        let mut packed = GradientsParams::new();
        packed.register::<B, 1>(ParamId::from(VALUES_ID), values);
        let mut reduced = self
            .call(Request::AllReduce(packed, ReduceOperation::Sum), "summing gradients, figures or weights")?
            .expect("an all-reduce answers");
        Ok(reduced.remove::<B, 1>(ParamId::from(VALUES_ID)).expect("the values went round"))
    }
}

/// burn-collective's errors have no `Display`.
fn describe(error: &CollectiveError) -> String {
    match error {
        CollectiveError::RegisterParamsMismatch => {
            "the peers were started with different [ddp]/[train] settings".into()
        }
        CollectiveError::AllReduceShapeMismatch => {
            "peers sent gradients of different shapes (different models or configs?)".into()
        }
        other => format!("{other:?}"),
    }
}
