//! MNIST in LeCun's IDX layout: `{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]`.

use std::path::{Path, PathBuf};

use crate::{read_idx, DataError};

/// Which of the two MNIST files to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MnistSplit {
    Train,
    Test,
}

impl MnistSplit {
    fn prefix(self) -> &'static str {
        match self {
            MnistSplit::Train => "train",
            MnistSplit::Test => "t10k",
        }
    }
}

/// Images (one byte per pixel, row-major) and their labels, held in memory.
#[derive(Debug, Clone)]
pub struct MnistDataset {
    pub images: Vec<u8>,
    pub labels: Vec<u8>,
    pub height: usize,
    pub width: usize,
}

impl MnistDataset {
    /// Reads one split from `root`, accepting gzip or plain files. `limit` keeps the first N.
    ///
    /// ```no_run
    /// use kiln_data::{MnistDataset, MnistSplit};
    /// let test = MnistDataset::load("datasets/mnist".as_ref(), MnistSplit::Test, None)?;
    /// assert_eq!(test.len(), 2000);
    /// # Ok::<(), kiln_data::DataError>(())
    /// ```
    pub fn load(root: &Path, split: MnistSplit, limit: Option<usize>) -> Result<Self, DataError> {
        let images_path = find_file(root, split.prefix(), "images-idx3-ubyte")?;
        let labels_path = find_file(root, split.prefix(), "labels-idx1-ubyte")?;
        let images = read_idx(&images_path)?;
        let labels = read_idx(&labels_path)?;
        let inconsistent = |reason: String| DataError::Inconsistent { path: root.to_path_buf(), reason };
        if images.dims.len() != 3 {
            return Err(inconsistent(format!(
                "{} has dimensions {:?}, expected [count, height, width]",
                images_path.display(),
                images.dims
            )));
        }
        if labels.dims.len() != 1 || labels.dims[0] != images.dims[0] {
            return Err(inconsistent(format!(
                "{} images but labels have dimensions {:?}",
                images.dims[0], labels.dims
            )));
        }
        if let Some(bad) = labels.data.iter().find(|&&l| l > 9) {
            return Err(inconsistent(format!("label {bad} is not a digit 0-9")));
        }
        let (height, width) = (images.dims[1], images.dims[2]);
        let mut dataset = Self { images: images.data, labels: labels.data, height, width };
        if let Some(n) = limit {
            let n = n.min(dataset.len());
            dataset.labels.truncate(n);
            dataset.images.truncate(n * height * width);
        }
        Ok(dataset)
    }

    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The pixels of example `index`.
    pub fn image(&self, index: usize) -> &[u8] {
        let size = self.height * self.width;
        &self.images[index * size..(index + 1) * size]
    }

    /// Every image resized to `height`×`width` with bilinear (triangle-filter) interpolation:
    /// the test set at another input size, for networks that take any size (SPP-net).
    ///
    /// ```
    /// use kiln_data::MnistDataset;
    /// let one = MnistDataset { images: vec![77; 28 * 28], labels: vec![3], height: 28, width: 28 };
    /// let big = one.resized(36, 40);
    /// assert_eq!((big.height, big.width, big.labels.clone()), (36, 40, vec![3]));
    /// assert!(big.image(0).iter().all(|&p| p == 77)); // a flat image stays flat
    /// ```
    pub fn resized(&self, height: usize, width: usize) -> MnistDataset {
        use image::imageops::{resize, FilterType};
        let images = (0..self.len())
            .flat_map(|i| {
                let source = image::GrayImage::from_raw(self.width as u32, self.height as u32, self.image(i).to_vec())
                    .expect("an MNIST image holds height × width bytes");
                resize(&source, width as u32, height as u32, FilterType::Triangle).into_raw()
            })
            .collect();
        MnistDataset { images, labels: self.labels.clone(), height, width }
    }
}

fn find_file(root: &Path, prefix: &str, stem: &str) -> Result<PathBuf, DataError> {
    let candidates = [format!("{prefix}-{stem}.gz"), format!("{prefix}-{stem}")];
    candidates.iter().map(|name| root.join(name)).find(|path| path.is_file()).ok_or_else(|| DataError::Missing {
        what: format!("MNIST {prefix} {}", stem.split('-').next().unwrap_or(stem)),
        root: root.to_path_buf(),
        candidates: candidates.join(" or "),
    })
}
