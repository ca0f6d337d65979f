//! `[train] device` / `--device`: which device of the backend trains, as PyTorch names them
//! (`cpu`, `cuda:0`, `mps`), and the check that this build and machine can provide it.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{KilnError, Result};

/// A device by name. Without one, each backend takes its default device (the CPU for
/// ndarray/flex/tch, device 0 for cuda, the best adapter for wgpu).
///
/// ```
/// use kiln_train::backend::DeviceName;
/// assert_eq!("cuda:1".parse::<DeviceName>(), Ok(DeviceName::Cuda(1)));
/// assert_eq!("cuda".parse::<DeviceName>(), Ok(DeviceName::Cuda(0)));
/// assert!("tpu:0".parse::<DeviceName>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum DeviceName {
    Cpu,
    /// CUDA device N (for `tch` and `cuda`).
    Cuda(usize),
    /// Apple's Metal Performance Shaders (for `tch` built against a macOS LibTorch).
    Mps,
    /// Discrete GPU adapter N (for `wgpu`).
    Gpu(usize),
    /// Integrated GPU adapter N (for `wgpu`).
    Integrated(usize),
}

impl std::str::FromStr for DeviceName {
    type Err = String;
    fn from_str(text: &str) -> std::result::Result<Self, String> {
        let (kind, index) = match text.split_once(':') {
            Some((kind, index)) => {
                let index = index
                    .parse::<usize>()
                    .map_err(|_| format!("device '{text}': the part after ':' must be a device index such as 0"))?;
                (kind, Some(index))
            }
            None => (text, None),
        };
        let index = index.unwrap_or(0);
        match kind {
            "cpu" if index == 0 => Ok(Self::Cpu),
            "cuda" => Ok(Self::Cuda(index)),
            "mps" if index == 0 => Ok(Self::Mps),
            "gpu" => Ok(Self::Gpu(index)),
            "integrated" => Ok(Self::Integrated(index)),
            _ => Err(format!(
                "unknown device '{text}' (devices are cpu, cuda:N, mps, and for wgpu gpu:N or integrated:N)"
            )),
        }
    }
}

impl TryFrom<String> for DeviceName {
    type Error = String;
    fn try_from(text: String) -> std::result::Result<Self, String> {
        text.parse()
    }
}

impl From<DeviceName> for String {
    fn from(device: DeviceName) -> String {
        device.to_string()
    }
}

impl fmt::Display for DeviceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Cpu => write!(f, "cpu"),
            Self::Cuda(n) => write!(f, "cuda:{n}"),
            Self::Mps => write!(f, "mps"),
            Self::Gpu(n) => write!(f, "gpu:{n}"),
            Self::Integrated(n) => write!(f, "integrated:{n}"),
        }
    }
}

/// The devices each backend can be asked for.
fn offered(backend: &str) -> &'static str {
    match backend {
        "tch" => "cpu, cuda:N or mps",
        "cuda" => "cuda:N",
        "wgpu" => "gpu:N, integrated:N or cpu (a software adapter such as lavapipe)",
        _ => "cpu",
    }
}

/// Refuses a device the backend has no notion of (`cuda:0` on ndarray), before anything runs.
pub fn check_device_kind(backend: &str, device: Option<DeviceName>) -> std::result::Result<(), String> {
    let Some(device) = device else { return Ok(()) };
    let fits = match (backend, device) {
        (_, DeviceName::Cpu) => backend != "cuda",
        ("tch", DeviceName::Cuda(_) | DeviceName::Mps) => true,
        ("cuda", DeviceName::Cuda(_)) => true,
        ("wgpu", DeviceName::Gpu(_) | DeviceName::Integrated(_)) => true,
        _ => false,
    };
    if fits {
        Ok(())
    } else {
        Err(format!("backend '{backend}' has no device '{device}'; it takes {}", offered(backend)))
    }
}

/// Says why this machine cannot provide `device` on `backend`; called before any data is read.
pub fn check_device_present(backend: &str, device: Option<DeviceName>) -> Result<()> {
    check_device_kind(backend, device).map_err(KilnError::Unsupported)?;
    match (backend, device) {
        #[cfg(feature = "tch")]
        ("tch", Some(DeviceName::Cuda(index))) => {
            let count = tch::Cuda::device_count().max(0) as usize;
            if index >= count {
                return Err(unusable(
                    backend,
                    format!(
                        "device cuda:{index} was asked for and LibTorch sees {count} CUDA device(s). {}",
                        libtorch_cuda_state()
                    ),
                ));
            }
            Ok(())
        }
        #[cfg(feature = "tch")]
        ("tch", Some(DeviceName::Mps)) if !tch::utils::has_mps() => Err(unusable(
            backend,
            "device mps was asked for, but this LibTorch has no Metal Performance Shaders (MPS exists only in \
             macOS builds of torch on Apple hardware)"
                .into(),
        )),
        #[cfg(feature = "cuda")]
        ("cuda", Some(DeviceName::Cuda(index))) => {
            let count = cudarc::driver::CudaContext::device_count()
                .map_err(|e| unusable(backend, format!("the CUDA driver could not count the GPUs: {e}")))?;
            if index >= count.max(0) as usize {
                let reason = format!("device cuda:{index} was asked for and the CUDA driver sees {count} GPU(s)");
                return Err(unusable(backend, reason));
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

#[cfg(any(feature = "tch", feature = "cuda"))]
fn unusable(backend: &str, reason: String) -> KilnError {
    KilnError::BackendUnusable { name: backend.into(), reason }
}

/// Whether LibTorch's CUDA half is in this process, and what that means for `cuda:N`.
#[cfg(feature = "tch")]
fn libtorch_cuda_state() -> String {
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap_or_default();
    if maps.contains("libtorch_cuda.so") {
        "LibTorch's libtorch_cuda.so is loaded, so the GPU itself is missing: no NVIDIA driver (libcuda.so.1), \
         no visible GPU (CUDA_VISIBLE_DEVICES), or a driver older than the wheel's CUDA"
            .into()
    } else {
        "libtorch_cuda.so is not loaded: build kiln against a CUDA build of torch (the Linux PyPI wheel of \
         torch==2.9.0 is one; a `+cpu` wheel is not) and put its torch/lib on LD_LIBRARY_PATH"
            .into()
    }
}
