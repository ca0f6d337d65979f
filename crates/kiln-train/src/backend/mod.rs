//! Backend choice at run time among those compiled in (cargo features), and dispatch to a
//! monomorphised `run::<B: AutodiffBackend>()`.

mod device;
#[cfg(any(feature = "wgpu", feature = "cuda"))]
mod kernel_cache;

pub use device::{check_device_kind, check_device_present, DeviceName};

use burn::tensor::backend::AutodiffBackend;

use crate::config::closest;
use crate::error::{KilnError, Result};

/// Every backend kiln knows, whether or not this binary was built with it.
pub const KNOWN_BACKENDS: [&str; 5] = ["ndarray", "flex", "wgpu", "tch", "cuda"];

/// The backend used when a config names none. Flex, measured on a 2-core machine: a LeNet-5
/// training step at batch 256 is about ten times faster than ndarray (see BENCHMARKS.md).
pub const DEFAULT_BACKEND: &str = if cfg!(feature = "flex") { "flex" } else { "ndarray" };

/// Burn's backends draw random numbers (initial weights, dropout) from one generator per backend
/// and process, and Burn initialises parameters lazily. Runs that share a process (tests, a
/// notebook) take this lock from seeding until their model is initialised, so another run's
/// seeding or initialisation cannot interleave with theirs.
pub fn rng_lock() -> std::sync::MutexGuard<'static, ()> {
    static RNG: std::sync::Mutex<()> = std::sync::Mutex::new(());
    RNG.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

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

/// Runs `task` on the backend called `name`, on `device` (the backend's default when `None`),
/// or says which feature would provide the backend. The device's kind was checked against the
/// backend by [`check_device_kind`].
pub fn dispatch<T: BackendTask>(name: &str, device: Option<DeviceName>, task: T) -> Result<T::Output> {
    let _ = &device; // only GPU-capable backends read it
    match name {
        #[cfg(feature = "ndarray")]
        "ndarray" => Ok(task.run::<burn::backend::Autodiff<burn::backend::NdArray>>(Default::default(), "ndarray")),
        #[cfg(feature = "flex")]
        "flex" => Ok(task.run::<burn::backend::Autodiff<burn::backend::Flex>>(Default::default(), "flex")),
        #[cfg(feature = "wgpu")]
        "wgpu" => {
            use burn::backend::wgpu::WgpuDevice;
            kernel_cache::persist_cubecl_caches();
            let device = match device {
                Some(DeviceName::Cpu) => WgpuDevice::Cpu,
                Some(DeviceName::Gpu(n)) => WgpuDevice::DiscreteGpu(n),
                Some(DeviceName::Integrated(n)) => WgpuDevice::IntegratedGpu(n),
                _ => WgpuDevice::DefaultDevice,
            };
            Ok(task.run::<burn::backend::Autodiff<burn::backend::Wgpu>>(device, "wgpu"))
        }
        #[cfg(feature = "tch")]
        "tch" => {
            use burn::backend::libtorch::LibTorchDevice;
            let device = match device {
                Some(DeviceName::Cuda(n)) => {
                    // PyTorch's `cudnn.benchmark = True`: pick the fastest convolution algorithm per
                    // shape once, as the PyTorch side of `kiln bench` does.
                    tch::Cuda::cudnn_set_benchmark(true);
                    LibTorchDevice::Cuda(n)
                }
                Some(DeviceName::Mps) => LibTorchDevice::Mps,
                _ => LibTorchDevice::Cpu,
            };
            Ok(task.run::<burn::backend::Autodiff<burn::backend::LibTorch>>(device, "tch"))
        }
        #[cfg(feature = "cuda")]
        "cuda" => {
            check_cuda_libraries()?;
            kernel_cache::persist_cubecl_caches();
            let device = match device {
                Some(DeviceName::Cuda(n)) => burn::backend::cuda::CudaDevice::new(n),
                _ => Default::default(),
            };
            Ok(task.run::<burn::backend::Autodiff<burn::backend::Cuda>>(device, "cuda"))
        }
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
    if !built_backends().contains(&name) {
        return Err(unavailable(name));
    }
    #[cfg(feature = "cuda")]
    if name == "cuda" {
        check_cuda_libraries()?;
    }
    Ok(())
}

/// CubeCL's CUDA runtime opens the NVIDIA driver and NVRTC only when the first kernel runs, and
/// panics from its device thread if either is missing; looking for them first turns that into an
/// error that says what to install.
#[cfg(feature = "cuda")]
fn check_cuda_libraries() -> Result<()> {
    // SAFETY: these only try to open the libraries by name, as cudarc does on first use.
    let driver = unsafe { cudarc::driver::sys::is_culib_present() };
    let nvrtc = unsafe { cudarc::nvrtc::sys::is_culib_present() };
    let missing = match (driver, nvrtc) {
        (true, true) => return Ok(()),
        (false, _) => "the NVIDIA driver library libcuda.so.1 was not found (is an NVIDIA driver installed?)",
        (true, false) => {
            "NVRTC (libnvrtc.so) was not found: install CUDA's `cuda-nvrtc` package or toolkit and put its \
             lib directory on LD_LIBRARY_PATH"
        }
    };
    Err(KilnError::BackendUnusable { name: "cuda".into(), reason: missing.into() })
}
