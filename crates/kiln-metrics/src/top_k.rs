use burn::prelude::*;

/// Fraction of examples whose target is among the `k` highest logits (ImageNet's top-5 error is
/// 1 − this with k = 5).
///
/// ```
/// use burn::backend::NdArray;
/// use burn::prelude::*;
/// let d = Default::default();
/// let logits = Tensor::<NdArray, 2>::from_floats([[0.1, 0.5, 0.4], [0.7, 0.2, 0.1]], &d);
/// let targets = Tensor::<NdArray, 1, Int>::from_ints([2, 2], &d);
/// let mut top2 = kiln_metrics::TopKAccuracy::new(2);
/// top2.update(logits, targets);
/// assert_eq!(top2.value(), Some(0.5));
/// ```
#[derive(Debug, Clone)]
pub struct TopKAccuracy {
    k: usize,
    correct: u64,
    total: u64,
}

impl TopKAccuracy {
    pub fn new(k: usize) -> Self {
        Self { k: k.max(1), correct: 0, total: 0 }
    }

    pub fn update<B: Backend>(&mut self, logits: Tensor<B, 2>, targets: Tensor<B, 1, Int>) {
        let [n, classes] = logits.dims();
        let k = self.k.min(classes);
        let top = logits.argsort_descending(1).narrow(1, 0, k);
        let hits = top.equal(targets.reshape([n, 1]).expand([n, k])).int().sum();
        let hits: i64 = hits.into_scalar().elem();
        self.correct += hits as u64;
        self.total += n as u64;
    }

    pub fn value(&self) -> Option<f64> {
        (self.total > 0).then(|| self.correct as f64 / self.total as f64)
    }
}
