//! Backend choice at run time among those compiled in (cargo features), and dispatch to a
//! monomorphised `run::<B: AutodiffBackend>()`.

use burn::tensor::backend::AutodiffBackend;

use crate::config::closest;
use crate::error::{KilnError, Result};

/// Every backend kiln knows, whether or not this binary was built with it.
pub const KNOWN_BACKENDS: [&str; 5] = ["ndarray", "flex", "wgpu", "tch", "cuda"];

/// The backend used when a config names none. Flex, measured on a 2-core machine: a LeNet-5
/// training step at batch 256 is about ten times faster than ndarray (see BENCHMARKS.md).
pub const DEFAULT_BACKEND: &str = if cfg!(feature = "flex") { "flex" } else { "ndarray" };

/// Backends compiled into this binary.
pub fn built_backends() -> Vec<&'static str> {
    let flags = [
        cfg!(feature = "ndarray"),
        cfg!(feature = "flex"),
        cfg!(feature = "wgpu"),
        cfg!(feature = "tch"),
        cfg!(feature = "cuda"),
    ];
    KNOWN_BACKENDS.iter().zip(flags).filter(|(_, on)| *on).map(|(n, _)| *n).collect()
}

/// Work to run on whichever backend the user picked.
pub trait BackendTask {
    type Output;
    fn run<B: AutodiffBackend>(self, device: B::Device, backend: &'static str) -> Self::Output;
}

/// Runs `task` on the backend called `name`, or says which feature would provide it.
pub fn dispatch<T: BackendTask>(name: &str, task: T) -> Result<T::Output> {
    match name {
        #[cfg(feature = "ndarray")]
        "ndarray" => Ok(task.run::<burn::backend::Autodiff<burn::backend::NdArray>>(Default::default(), "ndarray")),
        #[cfg(feature = "flex")]
        "flex" => Ok(task.run::<burn::backend::Autodiff<burn::backend::Flex>>(Default::default(), "flex")),
        #[cfg(feature = "wgpu")]
        "wgpu" => Ok(task.run::<burn::backend::Autodiff<burn::backend::Wgpu>>(Default::default(), "wgpu")),
        #[cfg(feature = "tch")]
        "tch" => Ok(task.run::<burn::backend::Autodiff<burn::backend::LibTorch>>(
            burn::backend::libtorch::LibTorchDevice::Cpu,
            "tch",
        )),
        #[cfg(feature = "cuda")]
        "cuda" => Ok(task.run::<burn::backend::Autodiff<burn::backend::Cuda>>(Default::default(), "cuda")),
        other => Err(unavailable(other)),
    }
}

fn unavailable(name: &str) -> KilnError {
    let built = built_backends().join(", ");
    if KNOWN_BACKENDS.contains(&name) {
        KilnError::BackendNotBuilt { name: name.into(), feature: name.into(), built }
    } else {
        let hint = closest(name, KNOWN_BACKENDS).map(|s| format!("; did you mean '{s}'?")).unwrap_or_default();
        KilnError::UnknownBackend { name: name.into(), known: KNOWN_BACKENDS.join(", "), hint }
    }
}

/// Fails early, before any data is read, when `name` is not usable in this binary.
pub fn check_available(name: &str) -> Result<()> {
    if built_backends().contains(&name) {
        Ok(())
    } else {
        Err(unavailable(name))
    }
}
