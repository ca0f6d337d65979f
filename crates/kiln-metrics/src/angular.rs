//! Angular statistics of embeddings, the quantities the large-margin papers argue with
//! (SphereFace §3, ArcFace §4): a margin loss should shrink the angle between a sample and its
//! class centre and widen the angles between class centres.
//!
//! Definitions (kept here because papers vary): every embedding is scaled to unit length; a
//! class centre is the normalised mean of its unit embeddings; the intra-class angle of a
//! sample is its angle to its own class centre, averaged over samples; the inter-class angle is
//! the smallest angle between two class centres. Angles are in degrees.

use burn::prelude::*;

/// Collects embeddings with their labels; the statistics are read at the end, since a sample's
/// angle is measured against the centre of all samples of its class.
///
/// ```
/// use kiln_metrics::AngularStats;
///
/// let mut stats = AngularStats::default();
/// // Class 0 along x; class 1 has one sample along y and one tilted 45° towards z.
/// stats.update_rows(&[2.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 1.0], 3, &[0, 1, 1]);
/// // Class 1's centre bisects its samples (22.5° from each); class 0's sample is its centre:
/// // mean intra-class angle (0 + 22.5 + 22.5) / 3 = 15°.
/// assert!((stats.mean_intra_class_angle().unwrap() - 15.0).abs() < 1e-9);
/// assert!((stats.min_inter_class_angle().unwrap() - 90.0).abs() < 1e-9);
/// ```
#[derive(Debug, Clone, Default)]
pub struct AngularStats {
    dim: usize,
    /// Unit embeddings, row-major `[N, dim]`.
    units: Vec<f64>,
    labels: Vec<usize>,
}

impl AngularStats {
    /// Adds embeddings `[N, D]` with their classes `[N]`.
    pub fn update<B: Backend>(&mut self, embeddings: Tensor<B, 2>, targets: Tensor<B, 1, Int>) {
        let [_, dim] = embeddings.dims();
        let rows: Vec<f64> = embeddings.into_data().convert::<f64>().to_vec().expect("f64 data");
        let labels: Vec<usize> = targets
            .into_data()
            .convert::<i64>()
            .to_vec::<i64>()
            .expect("i64 data")
            .into_iter()
            .map(|t| t as usize)
            .collect();
        self.update_rows(&rows, dim, &labels);
    }

    /// Adds embeddings given as row-major `[N, dim]` values.
    ///
    /// # Panics
    /// When `rows` is not `labels.len() × dim` long, or `dim` changes between calls.
    pub fn update_rows(&mut self, rows: &[f64], dim: usize, labels: &[usize]) {
        assert_eq!(rows.len(), labels.len() * dim, "rows must be labels.len() × dim values");
        if self.labels.is_empty() {
            self.dim = dim;
        }
        assert_eq!(dim, self.dim, "embedding dimension changed between updates");
        for row in rows.chunks(dim.max(1)) {
            self.units.extend(unit(row));
        }
        self.labels.extend_from_slice(labels);
    }

    /// Unit mean direction of each class that has samples, by class index.
    pub fn class_centres(&self) -> Vec<(usize, Vec<f64>)> {
        let classes = self.labels.iter().max().map_or(0, |m| m + 1);
        let mut sums = vec![vec![0.0; self.dim]; classes];
        let mut counts = vec![0usize; classes];
        for (row, &label) in self.units.chunks(self.dim.max(1)).zip(&self.labels) {
            counts[label] += 1;
            sums[label].iter_mut().zip(row).for_each(|(s, v)| *s += v);
        }
        sums.into_iter().enumerate().filter(|(c, _)| counts[*c] > 0).map(|(c, sum)| (c, unit(&sum))).collect()
    }

    /// Mean angle (degrees) between each sample and its class centre; `None` before any sample.
    pub fn mean_intra_class_angle(&self) -> Option<f64> {
        if self.labels.is_empty() {
            return None;
        }
        let centres = self.class_centres();
        let centre_of = |label: usize| &centres.iter().find(|(c, _)| *c == label).expect("every label has a centre").1;
        let total: f64 = self
            .units
            .chunks(self.dim.max(1))
            .zip(&self.labels)
            .map(|(row, &label)| angle(row, centre_of(label)))
            .sum();
        Some(total / self.labels.len() as f64)
    }

    /// Smallest angle (degrees) between two class centres; `None` with fewer than two classes.
    pub fn min_inter_class_angle(&self) -> Option<f64> {
        let centres = self.class_centres();
        let mut smallest: Option<f64> = None;
        for (i, (_, a)) in centres.iter().enumerate() {
            for (_, b) in &centres[i + 1..] {
                let theta = angle(a, b);
                smallest = Some(smallest.map_or(theta, |s| s.min(theta)));
            }
        }
        smallest
    }
}

/// `v / |v|`; a zero vector stays zero (90° from everything).
fn unit(v: &[f64]) -> Vec<f64> {
    let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
    if norm > 0.0 {
        v.iter().map(|x| x / norm).collect()
    } else {
        v.to_vec()
    }
}

/// Angle in degrees between unit (or zero) vectors.
fn angle(a: &[f64], b: &[f64]) -> f64 {
    let cos: f64 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    cos.clamp(-1.0, 1.0).acos().to_degrees()
}
