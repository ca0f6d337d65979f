//! CubeCL's compiled kernels and autotune results kept on disk, so that a second run on `cuda`
//! or `wgpu` starts in seconds instead of compiling and tuning again.
//!
//! CubeCL reads its config once per process, from a `cubecl.toml` (or the `[cubecl]` section of
//! a `burn.toml`) in the working directory or above it. Its default keeps autotune results under
//! the nearest Cargo `target/` and compiles kernels afresh every run; kiln instead puts both
//! under its cache directory, unless the user has a config file of their own, which wins.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use cubecl_runtime::config::cache::CacheConfig;
use cubecl_runtime::config::{CubeClRuntimeConfig, RuntimeConfig};

/// `$KILN_CACHE_DIR`, else `$XDG_CACHE_HOME/kiln`, else `~/.cache/kiln`.
pub fn kiln_cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("KILN_CACHE_DIR") {
        return PathBuf::from(dir);
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("kiln")
}

/// A CubeCL config file the user keeps in the working directory or above.
fn user_config_file() -> Option<PathBuf> {
    let cwd = std::env::current_dir().ok()?;
    cwd.ancestors()
        .flat_map(|dir| ["cubecl.toml", "CubeCL.toml", "burn.toml", "Burn.toml"].map(|name| dir.join(name)))
        .find(|path| path.is_file())
}

/// Points CubeCL's caches at `kiln_cache_dir()/cubecl` unless the user configures CubeCL or it
/// has already read its config in this process (a second run in one test binary).
pub fn persist_cubecl_caches() {
    if user_config_file().is_some() {
        return;
    }
    let root = kiln_cache_dir().join("cubecl");
    let mut config = CubeClRuntimeConfig::default();
    config.compilation.cache = Some(CacheConfig::File(root.join("kernels")));
    config.autotune.cache = CacheConfig::File(root.join("autotune"));
    // CUBECL_AUTOTUNE_LEVEL and CUBECL_DEBUG_* apply on top, as when CubeCL loads its own config.
    let config = config.override_from_env();
    // `RuntimeConfig::set` panics once the config has been read; filling the slot only while it
    // is empty, under its lock, cannot race with CubeCL's first read.
    let mut slot = CubeClRuntimeConfig::storage().lock();
    if slot.is_none() {
        *slot = Some(Arc::new(config));
    }
}
