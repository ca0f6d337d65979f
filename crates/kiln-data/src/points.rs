//! Points as CSV, one row per point (an optional header of column names, then numbers): a folder
//! with `train.csv` and optionally `valid.csv` and `test.csv`, as `datasets/toy2d/two_moons/`, or
//! a user's own low-dimensional data.

use std::path::{Path, PathBuf};

use crate::text::read_text;
use crate::DataError;

/// Points of `dim` coordinates, row after row.
#[derive(Debug, Clone, PartialEq)]
pub struct Points {
    pub dim: usize,
    pub values: Vec<f32>,
}

impl Points {
    pub fn len(&self) -> usize {
        self.values.len() / self.dim.max(1)
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    pub fn row(&self, i: usize) -> &[f32] {
        &self.values[i * self.dim..(i + 1) * self.dim]
    }
}

/// The splits of a point set.
#[derive(Debug, Clone)]
pub struct PointSet {
    pub root: PathBuf,
    pub train: Points,
    pub valid: Option<Points>,
    pub test: Option<Points>,
}

impl PointSet {
    /// Reads `root/train.csv` (required) and the other splits where present, each cut to its first
    /// `limit` points when given; every split must have the training file's columns.
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// std::fs::write(dir.path().join("train.csv"), "x,y\n0.5,-1\n2,3.25\n").unwrap();
    /// let set = kiln_data::PointSet::load(dir.path(), None).unwrap();
    /// assert_eq!((set.train.dim, set.train.len()), (2, 2));
    /// assert_eq!(set.train.row(1), &[2.0, 3.25]);
    /// ```
    pub fn load(root: &Path, limit: Option<usize>) -> Result<Self, DataError> {
        if !root.join("train.csv").is_file() {
            return Err(DataError::Missing {
                what: "training points".into(),
                root: root.to_path_buf(),
                candidates:
                    "train.csv (one point per line, comma-separated numbers), with valid.csv and test.csv beside it"
                        .into(),
            });
        }
        let read = |name: &str| -> Result<Option<Points>, DataError> {
            let path = root.join(name);
            if !path.is_file() {
                return Ok(None);
            }
            let mut points = read_points(&path)?;
            if let Some(n) = limit {
                points.values.truncate(n * points.dim);
            }
            Ok(Some(points))
        };
        let train = read("train.csv")?.expect("checked above");
        let (valid, test) = (read("valid.csv")?, read("test.csv")?);
        for (name, split) in [("valid.csv", &valid), ("test.csv", &test)] {
            if let Some(s) = split {
                if s.dim != train.dim {
                    return Err(DataError::Inconsistent {
                        path: root.join(name),
                        reason: format!("its points have {} columns, train.csv's have {}", s.dim, train.dim),
                    });
                }
            }
        }
        Ok(Self { root: root.to_path_buf(), train, valid, test })
    }
}

/// One CSV file of points; a first line that does not parse as numbers is a header.
pub fn read_points(path: &Path) -> Result<Points, DataError> {
    let text = read_text(path)?;
    let bad = |reason: String| DataError::Inconsistent { path: path.to_path_buf(), reason };
    let mut dim = None;
    let mut values = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let parsed: Result<Vec<f32>, _> = line.split(',').map(|v| v.trim().parse::<f32>()).collect();
        let row = match parsed {
            Ok(row) => row,
            Err(_) if number == 0 => continue,
            Err(e) => return Err(bad(format!("line {}: '{line}' is not comma-separated numbers ({e})", number + 1))),
        };
        if let Some(v) = row.iter().find(|v| !v.is_finite()) {
            return Err(bad(format!("line {}: {v} is not a finite number", number + 1)));
        }
        match dim {
            None => dim = Some(row.len()),
            Some(d) if d != row.len() => {
                return Err(bad(format!("line {} has {} columns, the lines before it {d}", number + 1, row.len())))
            }
            _ => {}
        }
        values.extend(row);
    }
    let dim = dim.ok_or_else(|| bad("it holds no points".into()))?;
    Ok(Points { dim, values })
}
