//! The IDX format of LeCun's MNIST distribution (plain or gzip-compressed).
//!
//! Layout: two zero bytes, a type byte (0x08 = unsigned byte), the number of dimensions, then
//! each dimension as a big-endian u32, then the row-major data.
//! The reader checks the header against the file before allocating, so a corrupt or hostile
//! header cannot ask for gigabytes.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use flate2::read::GzDecoder;

use crate::DataError;

/// The only element type kiln's image and label files use.
const UNSIGNED_BYTE: u8 = 0x08;
/// Largest IDX file accepted after decompression (full MNIST train images are 47 MB).
const MAX_PAYLOAD_BYTES: u64 = 4 << 30;

/// A dense array of bytes with its IDX dimensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxArray {
    pub dims: Vec<usize>,
    pub data: Vec<u8>,
}

/// Reads an unsigned-byte IDX file; a name ending in `.gz` is decompressed on the fly.
///
/// ```no_run
/// let labels = kiln_data::read_idx(std::path::Path::new("datasets/mnist/t10k-labels-idx1-ubyte.gz"))?;
/// assert_eq!(labels.dims.len(), 1);
/// # Ok::<(), kiln_data::DataError>(())
/// ```
pub fn read_idx(path: &Path) -> Result<IdxArray, DataError> {
    let io_error = |source| DataError::Io { path: path.to_path_buf(), source };
    let file = File::open(path).map_err(io_error)?;
    let gzipped = path.extension().is_some_and(|e| e == "gz");
    let reader: Box<dyn Read> = if gzipped { Box::new(GzDecoder::new(file)) } else { Box::new(file) };
    parse_idx(reader, path)
}

/// Parses IDX bytes from any reader; `path` only labels errors.
pub fn parse_idx(mut reader: impl Read, path: &Path) -> Result<IdxArray, DataError> {
    let malformed = |reason: String| DataError::MalformedIdx { path: path.to_path_buf(), reason };
    let mut magic = [0u8; 4];
    read_exact_or(&mut reader, &mut magic, path, "the 4-byte magic number")?;
    if magic[0] != 0 || magic[1] != 0 {
        return Err(malformed(format!(
            "bad magic number {:02x}{:02x}{:02x}{:02x} (an IDX file starts with two zero bytes)",
            magic[0], magic[1], magic[2], magic[3]
        )));
    }
    if magic[2] != UNSIGNED_BYTE {
        return Err(malformed(format!("element type 0x{:02x} is not supported (only 0x08, unsigned byte)", magic[2])));
    }
    let rank = magic[3] as usize;
    if rank == 0 || rank > 4 {
        return Err(malformed(format!("{rank} dimensions (expected 1 to 4)")));
    }
    let mut dims = Vec::with_capacity(rank);
    for axis in 0..rank {
        let mut word = [0u8; 4];
        read_exact_or(&mut reader, &mut word, path, &format!("dimension {axis}"))?;
        dims.push(u32::from_be_bytes(word) as usize);
    }
    let expected = dims
        .iter()
        .try_fold(1u64, |acc, &d| acc.checked_mul(d as u64))
        .filter(|&n| n <= MAX_PAYLOAD_BYTES)
        .ok_or_else(|| malformed(format!("dimensions {dims:?} describe more than {MAX_PAYLOAD_BYTES} bytes")))?;

    // Read at most one byte past the expected size: enough to detect trailing garbage without
    // trusting the header for the allocation.
    let mut data = Vec::new();
    reader.take(expected + 1).read_to_end(&mut data).map_err(|e| malformed(format!("cannot decode data: {e}")))?;
    if (data.len() as u64) < expected {
        return Err(malformed(format!(
            "truncated: dimensions {dims:?} need {expected} data bytes, file has {}",
            data.len()
        )));
    }
    if data.len() as u64 > expected {
        return Err(malformed(format!("longer than its dimensions {dims:?} say ({expected} data bytes)")));
    }
    Ok(IdxArray { dims, data })
}

fn read_exact_or(reader: &mut impl Read, buf: &mut [u8], path: &Path, what: &str) -> Result<(), DataError> {
    reader.read_exact(buf).map_err(|e| DataError::MalformedIdx {
        path: path.to_path_buf(),
        reason: if e.kind() == std::io::ErrorKind::UnexpectedEof {
            format!("truncated before {what}")
        } else {
            format!("cannot read {what}: {e}")
        },
    })
}
