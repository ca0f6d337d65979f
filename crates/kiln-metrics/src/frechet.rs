//! The Fréchet distance between two Gaussians fitted to feature vectors (Dowson & Landau 1982;
//! Heusel et al. 2017's FID when the features are Inception's):
//! `‖μ₁ − μ₂‖² + tr(Σ₁ + Σ₂ − 2 (Σ₁^½ Σ₂ Σ₁^½)^½)`.

use nalgebra::{DMatrix, DVector, SymmetricEigen};

/// The mean and (unbiased, n − 1) covariance of rows of `dim` features.
#[derive(Debug, Clone, PartialEq)]
pub struct GaussianFit {
    pub mean: DVector<f64>,
    pub covariance: DMatrix<f64>,
}

impl GaussianFit {
    /// Fits `rows` (row-major, `dim` values each; at least two rows).
    pub fn new(rows: &[f64], dim: usize) -> Self {
        assert!(dim > 0 && rows.len() % dim == 0, "rows of {dim} features");
        let n = rows.len() / dim;
        assert!(n >= 2, "a covariance needs two rows");
        let data = DMatrix::from_row_slice(n, dim, rows);
        let mean = data.row_mean().transpose();
        let centred = DMatrix::from_fn(n, dim, |i, j| data[(i, j)] - mean[j]);
        let covariance = centred.transpose() * &centred / (n - 1) as f64;
        Self { mean, covariance }
    }

    /// The Fréchet distance to `other`. The trace of the cross term is taken from the
    /// eigenvalues of the symmetric `Σ₁^½ Σ₂ Σ₁^½` (whose square root has the same trace as
    /// `(Σ₁Σ₂)^½`), so no non-symmetric square root is needed; round-off below zero is clipped.
    ///
    /// ```
    /// use kiln_metrics::GaussianFit;
    /// // In 1-D the distance is (μ₁ − μ₂)² + (σ₁ − σ₂)²: here 9 + (√2 − √8)² = 11.
    /// let a = GaussianFit::new(&[-1.0, 1.0], 1); // mean 0, variance 2
    /// let b = GaussianFit::new(&[3.0 - 2.0, 3.0 + 2.0], 1); // mean 3, variance 8
    /// let expected = 9.0 + (2f64.sqrt() - 8f64.sqrt()).powi(2);
    /// assert!((a.frechet_distance(&b) - expected).abs() < 1e-12);
    /// ```
    pub fn frechet_distance(&self, other: &GaussianFit) -> f64 {
        assert_eq!(self.mean.len(), other.mean.len(), "fits of the same dimension");
        let root = symmetric_sqrt(&self.covariance);
        let cross = &root * &other.covariance * &root;
        let cross = (&cross + cross.transpose()) * 0.5;
        let cross_trace: f64 = SymmetricEigen::new(cross).eigenvalues.iter().map(|&l| l.max(0.0).sqrt()).sum();
        (&self.mean - &other.mean).norm_squared() + self.covariance.trace() + other.covariance.trace()
            - 2.0 * cross_trace
    }
}

/// The square root of a symmetric positive semi-definite matrix, through its eigenvectors.
fn symmetric_sqrt(m: &DMatrix<f64>) -> DMatrix<f64> {
    let eigen = SymmetricEigen::new((m + m.transpose()) * 0.5);
    let roots = DMatrix::from_diagonal(&eigen.eigenvalues.map(|l| l.max(0.0).sqrt()));
    &eigen.eigenvectors * roots * eigen.eigenvectors.transpose()
}
