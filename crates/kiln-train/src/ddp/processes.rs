//! The processes of a run: this one alone, or the ranks `mpirun` / `srun` started.
//!
//! kiln never starts processes itself, as PyTorch's MPI backend and Horovod don't: a launcher
//! does (`mpirun -np 4 kiln run X.toml`, `srun --mpi=pmix kiln run X.toml`), and rank and size
//! come from MPI. Each process then trains its `[train] devices` as local peers. MPI is set up
//! once per process and shut down by [`leave_processes`].
//!
//! ```no_run
//! // Under `mpirun -np 2` this is rank 0 or 1 of 2; started plainly, rank 0 of 1.
//! let processes = kiln_train::ddp::join_processes()?;
//! println!("rank {} of {}", processes.rank, processes.size);
//! kiln_train::ddp::leave_processes();
//! # Ok::<(), kiln_train::KilnError>(())
//! ```

use std::sync::OnceLock;
use std::time::Duration;

use crate::error::{KilnError, Result};

/// This process's place among the processes of the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Processes {
    /// 0-based; rank 0 writes the run directory, progress and checkpoints.
    pub rank: usize,
    pub size: usize,
}

impl Processes {
    pub const ALONE: Processes = Processes { rank: 0, size: 1 };

    /// Whether this process writes the run's files and prints its progress.
    pub fn is_root(&self) -> bool {
        self.rank == 0
    }
}

static JOINED: OnceLock<Processes> = OnceLock::new();

/// The environment variables launchers set in each process they start: Open MPI's mpirun,
/// PMIx (Open MPI under Slurm's `srun --mpi=pmix`), and MPICH/Intel MPI's PMI.
const LAUNCHER_VARIABLES: [&str; 4] = ["OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE", "PMI_RANK"];

/// The process count a launcher announced, when this process was started by one.
fn launched_size() -> Option<usize> {
    let announced = LAUNCHER_VARIABLES.iter().any(|v| std::env::var_os(v).is_some());
    announced.then(|| {
        ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "SLURM_NTASKS"]
            .iter()
            .find_map(|v| std::env::var(v).ok()?.parse().ok())
            .unwrap_or(1)
    })
}

/// Joins the run's processes (idempotent): under a launcher, sets up MPI and reads rank and
/// size from it; otherwise this process is rank 0 of 1.
pub fn join_processes() -> Result<Processes> {
    if let Some(joined) = JOINED.get() {
        return Ok(*joined);
    }
    let joined = match launched_size() {
        None => Processes::ALONE,
        Some(size) => start_mpi(size)?,
    };
    Ok(*JOINED.get_or_init(|| joined))
}

/// The processes joined so far: rank 0 of 1 before [`join_processes`].
pub fn processes() -> Processes {
    JOINED.get().copied().unwrap_or(Processes::ALONE)
}

#[cfg(feature = "mpi")]
fn start_mpi(_announced: usize) -> Result<Processes> {
    super::mpi_world::start()
}

#[cfg(not(feature = "mpi"))]
fn start_mpi(announced: usize) -> Result<Processes> {
    if announced > 1 {
        return Err(KilnError::Ddp(format!(
            "a launcher started {announced} processes, but this kiln was built without MPI, so each would train alone; build it with `cargo build --release --features mpi` (needs an MPI library such as Debian's libopenmpi-dev, and libclang-dev)"
        )));
    }
    Ok(Processes::ALONE)
}

/// Ends this process's part in the run (MPI's finalize); call once, after the last collective
/// call. Does nothing for a process that runs alone.
pub fn leave_processes() {
    #[cfg(feature = "mpi")]
    super::mpi_world::finish();
}

/// Stops every process of the run with exit code `code` (MPI's abort), for an error that only
/// this process has met: the others would otherwise wait for it until their timeout. Returns
/// only when this process runs alone.
pub fn abort_processes(code: i32) {
    #[cfg(feature = "mpi")]
    if processes().size > 1 {
        super::mpi_world::abort(code);
    }
    // Without MPI this process is the only one.
    #[cfg(not(feature = "mpi"))]
    let _ = code;
}

/// Refuses a run that several processes cannot take part in.
pub(crate) fn check_strategy_spans(processes: Processes, strategy: crate::config::Strategy) -> Result<()> {
    if processes.size > 1 && strategy != crate::config::Strategy::Ddp {
        return Err(KilnError::Unsupported(format!(
            "{} processes were started, but [train] strategy is \"single\": each would train alone; set strategy = \"ddp\"",
            processes.size
        )));
    }
    Ok(())
}

/// Element-wise sum of the host `values` over every process, in place.
pub(crate) fn host_sum(values: &mut [f32], timeout: Duration, doing: &str) -> Result<()> {
    if processes().size == 1 {
        return Ok(());
    }
    #[cfg(feature = "mpi")]
    return super::mpi_world::sum(values, timeout, doing);
    #[cfg(not(feature = "mpi"))]
    Err(KilnError::Ddp(format!("{doing} across processes needs MPI (timeout {timeout:?}, {} values)", values.len())))
}

/// Rank 0's `bytes` on every rank.
pub(crate) fn broadcast_from_root(bytes: Vec<u8>, timeout: Duration, doing: &str) -> Result<Vec<u8>> {
    if processes().size == 1 {
        return Ok(bytes);
    }
    #[cfg(feature = "mpi")]
    return super::mpi_world::broadcast_from_root(bytes, timeout, doing);
    #[cfg(not(feature = "mpi"))]
    Err(KilnError::Ddp(format!("{doing} across processes needs MPI (timeout {timeout:?}, {} bytes)", bytes.len())))
}

/// Every rank's `flag`, in rank order.
pub(crate) fn gather_flags(flag: bool, timeout: Duration, doing: &str) -> Result<Vec<bool>> {
    if processes().size == 1 {
        return Ok(vec![flag]);
    }
    #[cfg(feature = "mpi")]
    return super::mpi_world::gather_flags(flag, timeout, doing);
    #[cfg(not(feature = "mpi"))]
    Err(KilnError::Ddp(format!("{doing} across processes needs MPI (timeout {timeout:?})")))
}
