//! Semantic-segmentation data as PNG folders: `<root>/<split>/images/NAME.png` (8-bit grey or
//! colour, read as grey) and `<root>/<split>/labels/NAME.png` (8-bit class index per pixel,
//! 255 = ignored), paired by file name — the layout of PASCAL VOC's `JPEGImages` and
//! `SegmentationClass`, and the one `datasets/mnist-seg/` ships.

use std::path::Path;

use burn::prelude::*;

use crate::DataError;

/// The label of pixels that count for no class (object borders), as in PASCAL VOC.
pub const IGNORE_LABEL: u8 = 255;

/// Images and label maps of one split, in memory, all of one size.
#[derive(Debug, Clone)]
pub struct SegmentationDataset {
    pub images: Vec<u8>,
    pub labels: Vec<u8>,
    pub height: usize,
    pub width: usize,
    /// File stems, in order.
    pub names: Vec<String>,
}

impl SegmentationDataset {
    /// Reads split `split` (e.g. "train", "test") of `root`; `limit` keeps the first N by name.
    ///
    /// ```no_run
    /// use kiln_data::SegmentationDataset;
    /// let test = SegmentationDataset::load("datasets/mnist-seg".as_ref(), "test", None)?;
    /// assert_eq!((test.len(), test.height, test.width), (500, 64, 64));
    /// # Ok::<(), kiln_data::DataError>(())
    /// ```
    pub fn load(root: &Path, split: &str, limit: Option<usize>) -> Result<Self, DataError> {
        let images_dir = root.join(split).join("images");
        let labels_dir = root.join(split).join("labels");
        let mut names = png_stems(&images_dir).map_err(|_| DataError::Missing {
            what: format!("segmentation {split} images"),
            root: root.to_path_buf(),
            candidates: format!("{}/*.png with label maps in {}", images_dir.display(), labels_dir.display()),
        })?;
        names.sort();
        if let Some(n) = limit {
            names.truncate(n);
        }
        let inconsistent = |path: &Path, reason: String| DataError::Inconsistent { path: path.to_path_buf(), reason };
        if names.is_empty() {
            return Err(inconsistent(&images_dir, "holds no .png images".into()));
        }
        let (mut images, mut labels) = (Vec::new(), Vec::new());
        let mut size = None;
        for name in &names {
            let image_path = images_dir.join(format!("{name}.png"));
            let label_path = labels_dir.join(format!("{name}.png"));
            if !label_path.is_file() {
                return Err(inconsistent(&label_path, format!("image {name}.png has no label map")));
            }
            let (image, image_size) = read_grey(&image_path)?;
            let (label, label_size) = read_label_map(&label_path)?;
            if image_size != label_size {
                return Err(inconsistent(
                    &label_path,
                    format!("is {}×{} but its image is {}×{}", label_size.1, label_size.0, image_size.1, image_size.0),
                ));
            }
            match size {
                None => size = Some(image_size),
                Some(s) if s != image_size => {
                    return Err(inconsistent(
                        &image_path,
                        format!(
                            "is {}×{} but the split's first image is {}×{}; resize the data to one size",
                            image_size.1, image_size.0, s.1, s.0
                        ),
                    ))
                }
                Some(_) => {}
            }
            images.extend(image);
            labels.extend(label);
        }
        let (height, width) = size.expect("at least one image");
        Ok(Self { images, labels, height, width, names })
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    pub fn image(&self, i: usize) -> &[u8] {
        let n = self.height * self.width;
        &self.images[i * n..(i + 1) * n]
    }

    pub fn label(&self, i: usize) -> &[u8] {
        let n = self.height * self.width;
        &self.labels[i * n..(i + 1) * n]
    }

    /// The largest class index used (ignoring [`IGNORE_LABEL`]), if any pixel has one.
    pub fn max_class(&self) -> Option<u8> {
        self.labels.iter().copied().filter(|&l| l != IGNORE_LABEL).max()
    }
}

fn png_stems(dir: &Path) -> std::io::Result<Vec<String>> {
    Ok(std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x.eq_ignore_ascii_case("png")))
        .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .collect())
}

fn decode(path: &Path) -> Result<image::DynamicImage, DataError> {
    let bytes = std::fs::read(path).map_err(|source| DataError::Io { path: path.to_path_buf(), source })?;
    image::load_from_memory_with_format(&bytes, image::ImageFormat::Png).map_err(|e| DataError::Inconsistent {
        path: path.to_path_buf(),
        reason: format!("is not a readable PNG: {e}"),
    })
}

/// An image as 8-bit grey, with (height, width).
pub fn read_grey(path: &Path) -> Result<(Vec<u8>, (usize, usize)), DataError> {
    let grey = decode(path)?.into_luma8();
    let size = (grey.height() as usize, grey.width() as usize);
    Ok((grey.into_raw(), size))
}

/// A label map: one 8-bit channel of class indices (grey or palette PNG, as written).
fn read_label_map(path: &Path) -> Result<(Vec<u8>, (usize, usize)), DataError> {
    let image = decode(path)?;
    let bad = |reason: &str| DataError::Inconsistent { path: path.to_path_buf(), reason: reason.into() };
    match image {
        image::DynamicImage::ImageLuma8(grey) => {
            let size = (grey.height() as usize, grey.width() as usize);
            Ok((grey.into_raw(), size))
        }
        _ => Err(bad("is a label map but not 8-bit single-channel (one class index per pixel)")),
    }
}

/// A normalised batch of images `[N, 1, H, W]` and label maps `[N, H, W]`, in host memory.
#[derive(Debug, Clone, PartialEq)]
pub struct HostSegmentationBatch {
    pub pixels: Vec<f32>,
    pub labels: Vec<i64>,
    pub shape: [usize; 4],
}

impl HostSegmentationBatch {
    /// Examples `indices` of `dataset`, pixels scaled to [0, 1] and standardised by `mean`, `std`.
    pub fn new(dataset: &SegmentationDataset, indices: &[usize], mean: f32, std: f32) -> Self {
        let pixels =
            indices.iter().flat_map(|&i| dataset.image(i).iter().map(|&p| (p as f32 / 255.0 - mean) / std)).collect();
        let labels = indices.iter().flat_map(|&i| dataset.label(i).iter().map(|&l| l as i64)).collect();
        Self { pixels, labels, shape: [indices.len(), 1, dataset.height, dataset.width] }
    }

    pub fn len(&self) -> usize {
        self.shape[0]
    }

    pub fn is_empty(&self) -> bool {
        self.shape[0] == 0
    }

    /// Images `[N, 1, H, W]` and labels `[N, H, W]` on `device`.
    pub fn to_device<B: Backend>(self, device: &B::Device) -> (Tensor<B, 4>, Tensor<B, 3, Int>) {
        let [n, _, h, w] = self.shape;
        (
            Tensor::from_data(TensorData::new(self.pixels, self.shape), device),
            Tensor::from_data(TensorData::new(self.labels, [n, h, w]), device),
        )
    }
}
