//! Object-detection data in COCO's format: a folder of images and an instances JSON
//! (`images`, `annotations` with `bbox` = `[x, y, width, height]`, `area`, `iscrowd`,
//! `categories`), the layout of COCO 2017 and of `datasets/mnist-det/`; and COCO's results
//! format (`[{image_id, category_id, bbox, score}]`) for detections.
//!
//! Category ids map to class indices in ascending id order (mmdetection's `cat2label`), so a
//! dataset with ids 1, 2, 5 has classes 0, 1, 2. Images are read as 8-bit grey and must share one
//! size (the detectors batch them without resizing).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::segmentation::read_grey;
use crate::DataError;

/// A COCO instances file, as it is on disk (the fields kiln reads; others are ignored).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CocoInstances {
    pub images: Vec<CocoImage>,
    pub annotations: Vec<CocoAnnotation>,
    pub categories: Vec<CocoCategory>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CocoImage {
    pub id: u64,
    pub file_name: String,
    pub width: usize,
    pub height: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CocoAnnotation {
    pub id: u64,
    pub image_id: u64,
    pub category_id: u64,
    /// `[x, y, width, height]`.
    pub bbox: [f64; 4],
    pub area: f64,
    /// 0 or 1 in the file.
    #[serde(default, with = "zero_one")]
    pub iscrowd: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CocoCategory {
    pub id: u64,
    pub name: String,
}

/// One detection in COCO's results format.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CocoResult {
    pub image_id: u64,
    pub category_id: u64,
    /// `[x, y, width, height]`.
    pub bbox: [f64; 4],
    pub score: f64,
}

/// `iscrowd` is an integer in COCO files.
mod zero_one {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &bool, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u8(u8::from(*value))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
        match u8::deserialize(d)? {
            0 => Ok(false),
            1 => Ok(true),
            other => Err(serde::de::Error::custom(format!("iscrowd must be 0 or 1, got {other}"))),
        }
    }
}

impl CocoInstances {
    /// Parses an instances file; a malformed one is an error naming the file, line and column.
    pub fn read(path: &Path) -> Result<Self, DataError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| DataError::Io { path: path.to_path_buf(), source })?;
        serde_json::from_str(&text).map_err(|e| DataError::Inconsistent {
            path: path.to_path_buf(),
            reason: format!("is not a COCO instances file: {e}"),
        })
    }

    /// Writes the file (compact JSON).
    pub fn write(&self, path: &Path) -> Result<(), DataError> {
        let text = serde_json::to_string(self).expect("COCO instances serialise");
        std::fs::write(path, text + "\n").map_err(|source| DataError::Io { path: path.to_path_buf(), source })
    }
}

/// A ground-truth object of one image: its class index (not the category id) and COCO box.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CocoObject {
    pub class: usize,
    /// `[x, y, width, height]` in pixels.
    pub bbox: [f32; 4],
    pub iscrowd: bool,
}

/// A detection split in memory: grey images of one size and their objects.
#[derive(Debug, Clone)]
pub struct CocoDetectionDataset {
    pub images: Vec<u8>,
    pub height: usize,
    pub width: usize,
    /// COCO image ids, in the order of the images.
    pub image_ids: Vec<u64>,
    pub file_names: Vec<String>,
    pub objects: Vec<Vec<CocoObject>>,
    /// Category ids and names by class index (ascending id).
    pub categories: Vec<(u64, String)>,
}

impl CocoDetectionDataset {
    /// Reads the images `annotations` lists from `images_dir`, in ascending image id; `limit`
    /// keeps the first N.
    ///
    /// ```no_run
    /// use kiln_data::CocoDetectionDataset;
    /// let test = CocoDetectionDataset::load(
    ///     "datasets/mnist-det/test".as_ref(),
    ///     "datasets/mnist-det/annotations/instances_test.json".as_ref(),
    ///     None,
    /// )?;
    /// assert_eq!((test.len(), test.height, test.width, test.classes()), (500, 128, 128, 10));
    /// # Ok::<(), kiln_data::DataError>(())
    /// ```
    pub fn load(images_dir: &Path, annotations: &Path, limit: Option<usize>) -> Result<Self, DataError> {
        if !annotations.is_file() {
            return Err(DataError::Missing {
                what: "COCO annotations".into(),
                root: annotations.parent().map(Path::to_path_buf).unwrap_or_default(),
                candidates: annotations.display().to_string(),
            });
        }
        let instances = CocoInstances::read(annotations)?;
        let bad = |reason: String| DataError::Inconsistent { path: annotations.to_path_buf(), reason };
        let mut categories: Vec<(u64, String)> = instances.categories.iter().map(|c| (c.id, c.name.clone())).collect();
        categories.sort_by_key(|c| c.0);
        if categories.is_empty() {
            return Err(bad("lists no categories".into()));
        }
        if let Some(w) = categories.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(bad(format!("lists category id {} twice", w[0].0)));
        }
        let class_of: BTreeMap<u64, usize> = categories.iter().enumerate().map(|(i, c)| (c.0, i)).collect();
        let mut images = instances.images.clone();
        images.sort_by_key(|i| i.id);
        if let Some(w) = images.windows(2).find(|w| w[0].id == w[1].id) {
            return Err(bad(format!("lists image id {} twice", w[0].id)));
        }
        if let Some(n) = limit {
            images.truncate(n);
        }
        if images.is_empty() {
            return Err(bad("lists no images".into()));
        }
        let position: BTreeMap<u64, usize> = images.iter().enumerate().map(|(i, im)| (im.id, i)).collect();
        let all_ids: std::collections::BTreeSet<u64> = instances.images.iter().map(|i| i.id).collect();
        let mut objects = vec![Vec::new(); images.len()];
        for a in &instances.annotations {
            let class = *class_of.get(&a.category_id).ok_or_else(|| {
                bad(format!("annotation {} has category_id {}, not in categories", a.id, a.category_id))
            })?;
            if !all_ids.contains(&a.image_id) {
                return Err(bad(format!("annotation {} has image_id {}, not in images", a.id, a.image_id)));
            }
            let [x, y, w, h] = a.bbox;
            if !(x.is_finite() && y.is_finite() && w.is_finite() && h.is_finite() && w >= 0.0 && h >= 0.0) {
                return Err(bad(format!("annotation {} has bbox {:?}; width and height must be ≥ 0", a.id, a.bbox)));
            }
            if let Some(&i) = position.get(&a.image_id) {
                objects[i].push(CocoObject { class, bbox: a.bbox.map(|v| v as f32), iscrowd: a.iscrowd });
            }
        }
        let (mut pixels, mut size) = (Vec::new(), None);
        for image in &images {
            let path = images_dir.join(&image.file_name);
            if !path.is_file() {
                return Err(DataError::Missing {
                    what: format!("image {} ('{}')", image.id, image.file_name),
                    root: images_dir.to_path_buf(),
                    candidates: path.display().to_string(),
                });
            }
            let (grey, (h, w)) = read_grey(&path)?;
            let inconsistent = |reason: String| DataError::Inconsistent { path: path.clone(), reason };
            if (h, w) != (image.height, image.width) {
                return Err(inconsistent(format!(
                    "is {w}×{h} but {} says {}×{}",
                    annotations.display(),
                    image.width,
                    image.height
                )));
            }
            match size {
                None => size = Some((h, w)),
                Some(s) if s != (h, w) => {
                    return Err(inconsistent(format!(
                        "is {w}×{h} but the split's first image is {}×{}; resize the data to one size",
                        s.1, s.0
                    )))
                }
                Some(_) => {}
            }
            pixels.extend(grey);
        }
        let (height, width) = size.expect("at least one image");
        Ok(Self {
            images: pixels,
            height,
            width,
            image_ids: images.iter().map(|i| i.id).collect(),
            file_names: images.iter().map(|i| i.file_name.clone()).collect(),
            objects,
            categories,
        })
    }

    pub fn len(&self) -> usize {
        self.image_ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.image_ids.is_empty()
    }

    pub fn classes(&self) -> usize {
        self.categories.len()
    }

    pub fn image(&self, i: usize) -> &[u8] {
        let n = self.height * self.width;
        &self.images[i * n..(i + 1) * n]
    }

    /// The split as a COCO instances file again (annotation ids numbered from 1).
    pub fn to_instances(&self) -> CocoInstances {
        let images = self
            .image_ids
            .iter()
            .zip(&self.file_names)
            .map(|(&id, name)| CocoImage { id, file_name: name.clone(), width: self.width, height: self.height })
            .collect();
        let mut annotations = Vec::new();
        for (&image_id, objects) in self.image_ids.iter().zip(&self.objects) {
            for o in objects {
                let bbox = o.bbox.map(f64::from);
                annotations.push(CocoAnnotation {
                    id: annotations.len() as u64 + 1,
                    image_id,
                    category_id: self.categories[o.class].0,
                    bbox,
                    area: bbox[2] * bbox[3],
                    iscrowd: o.iscrowd,
                });
            }
        }
        let categories =
            self.categories.iter().map(|(id, name)| CocoCategory { id: *id, name: name.clone() }).collect();
        CocoInstances { images, annotations, categories }
    }
}

/// Writes detections in COCO's results format (what `COCO.loadRes` reads).
pub fn write_results(path: &Path, results: &[CocoResult]) -> Result<(), DataError> {
    let text = serde_json::to_string(results).expect("COCO results serialise");
    std::fs::write(path, text + "\n").map_err(|source| DataError::Io { path: PathBuf::from(path), source })
}
