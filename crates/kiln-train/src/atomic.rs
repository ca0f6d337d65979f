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

/// Replaces `path` with `image` encoded as PNG, atomically (overlays and predicted boxes).
pub fn write_png(path: &Path, image: &image::RgbImage) -> Result<()> {
    let mut bytes = Vec::new();
    image
        .write_to(&mut std::io::Cursor::new(&mut bytes), image::ImageFormat::Png)
        .map_err(|e| KilnError::Unsupported(format!("cannot write '{}': {e}", path.display())))?;
    write_atomic(path, &bytes)
}

/// `dir/.name.tmp-<pid>`: hidden, unique per process, and in the same directory.
pub fn temp_sibling(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}
