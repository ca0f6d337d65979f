use burn::prelude::*;

/// Fraction of examples whose highest logit is the target class.
///
/// ```
/// use burn::backend::NdArray;
/// use burn::prelude::*;
/// use kiln_metrics::Accuracy;
///
/// let device = Default::default();
/// let logits = Tensor::<NdArray, 2>::from_floats([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]], &device);
/// let targets = Tensor::<NdArray, 1, Int>::from_ints([1, 1, 1], &device);
/// let mut accuracy = Accuracy::default();
/// accuracy.update(logits, targets);
/// assert_eq!(accuracy.value(), Some(2.0 / 3.0));
/// ```
#[derive(Debug, Clone, Default)]
pub struct Accuracy {
    correct: u64,
    total: u64,
}

impl Accuracy {
    pub fn update<B: Backend>(&mut self, logits: Tensor<B, 2>, targets: Tensor<B, 1, Int>) {
        let [n, _] = logits.dims();
        let predictions = logits.argmax(1).reshape([n]);
        let correct: i64 = predictions.equal(targets).int().sum().into_scalar().elem();
        self.add(correct as u64, n as u64);
    }

    /// Adds counts that were computed elsewhere.
    pub fn add(&mut self, correct: u64, total: u64) {
        self.correct += correct;
        self.total += total;
    }

    /// `None` before any example was seen.
    pub fn value(&self) -> Option<f64> {
        (self.total > 0).then(|| self.correct as f64 / self.total as f64)
    }
}
