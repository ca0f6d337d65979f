//! Writes that never leave a half-written file: write a sibling temp file, then rename.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{KilnError, Result};

/// Replaces `path` with `bytes` atomically (rename on the same filesystem).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = temp_sibling(path);
    let io = |e| KilnError::io("cannot write", path, e);
    let mut file = fs::File::create(&tmp).map_err(io)?;
    file.write_all(bytes).map_err(io)?;
    file.sync_all().map_err(io)?;
    fs::rename(&tmp, path).map_err(io)
}

/// `dir/.name.tmp-<pid>`: hidden, unique per process, and in the same directory.
pub fn temp_sibling(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}
