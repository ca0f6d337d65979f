use burn::backend::NdArray;
use burn::module::Param;
use burn::prelude::*;

use super::*;

type B = NdArray;

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

fn set(table: &mut burn::nn::Embedding<B>, rows: &[[f32; 2]]) {
    let flat: Vec<f32> = rows.iter().flatten().copied().collect();
    table.weight = Param::from_tensor(Tensor::from_data(TensorData::new(flat, [rows.len(), 2]), &Default::default()));
}

#[test]
fn the_negative_sampling_loss_is_the_papers_formula() {
    let device = Default::default();
    let input = [[0.5, -1.0], [2.0, 0.25], [-0.75, 1.5]];
    let output = [[1.0, 0.5], [-0.5, 2.0], [0.25, -1.25]];
    for mode in [Word2VecMode::SkipGram, Word2VecMode::Cbow] {
        let mut model = Word2VecConfig::new(mode, 3).with_dim(2).init::<B>(&device);
        set(&mut model.input, &input);
        set(&mut model.output, &output);
        let dot = |h: [f64; 2], o: usize| h[0] * f64::from(output[o][0]) + h[1] * f64::from(output[o][1]);
        let v = |i: usize| [f64::from(input[i][0]), f64::from(input[i][1])];
        // Skip-gram: centre 0 predicts 1 against noise 2, 2; centre 2 predicts 0 against noise 1, 0.
        // CBOW: context {1, 2} predicts 0 against 1, 2; context {0, (empty)} predicts 2 against 0, 0.
        let (pairs, expected) = match mode {
            Word2VecMode::SkipGram => {
                let pairs =
                    Pairs { inputs: vec![0, 2], targets: vec![1, 0], negatives: vec![2, 2, 1, 0], ..Pairs::default() };
                let one = |h, o, n: [usize; 2]| {
                    -(sigmoid(dot(h, o)).ln() + n.iter().map(|&k| sigmoid(-dot(h, k)).ln()).sum::<f64>())
                };
                (pairs, one(v(0), 1, [2, 2]) + one(v(2), 0, [1, 0]))
            }
            Word2VecMode::Cbow => {
                let pairs = Pairs {
                    contexts: vec![1, 2, 0, 0],
                    mask: vec![1.0, 1.0, 1.0, 0.0],
                    targets: vec![0, 2],
                    negatives: vec![1, 2, 0, 0],
                    width: 2,
                    ..Pairs::default()
                };
                let mean = [(v(1)[0] + v(2)[0]) / 2.0, (v(1)[1] + v(2)[1]) / 2.0];
                let one = |h, o, n: [usize; 2]| {
                    -(sigmoid(dot(h, o)).ln() + n.iter().map(|&k| sigmoid(-dot(h, k)).ln()).sum::<f64>())
                };
                (pairs, one(mean, 0, [1, 2]) + one(v(0), 2, [0, 0]))
            }
        };
        let got = f64::from(model.loss(&pairs, &device).into_scalar());
        assert!((got - expected).abs() < 1e-5, "{mode:?}: {got} vs {expected}");
    }
}

#[test]
fn noise_follows_the_three_quarter_power_of_the_counts_and_windows_hold_the_neighbours() {
    let table = NoiseTable::new(&[16, 1, 81]);
    let z = 8.0 + 1.0 + 27.0;
    for (id, want) in [(0, 8.0 / z), (1, 1.0 / z), (2, 27.0 / z)] {
        assert!((table.probability(id) - want).abs() < 1e-12);
    }
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(1);
    let draws: Vec<u32> = (0..36_000).map(|_| table.draw(&mut rng)).collect();
    let share = draws.iter().filter(|&&d| d == 2).count() as f64 / draws.len() as f64;
    assert!((share - 27.0 / z).abs() < 0.01, "{share}");
    // Window 1, nothing sub-sampled: every centre pairs with its two neighbours.
    let sampler = PairSampler::new(&[1, 1, 1, 1, 1], 1, 2, 0.0);
    let pairs = sampler.pairs(&[0, 1, 2, 3, 4], &[0, 2, 4], false, 9);
    assert_eq!(pairs.inputs, vec![0, 2, 2, 4]);
    assert_eq!(pairs.targets, vec![1, 1, 3, 3]);
    assert_eq!(pairs.negatives.len(), 8);
    let cbow = sampler.pairs(&[0, 1, 2, 3, 4], &[2], true, 9);
    assert_eq!((cbow.contexts, cbow.mask, cbow.targets), (vec![1, 3], vec![1.0, 1.0], vec![2]));
}

#[test]
fn analogies_find_the_fourth_word_and_the_text_format_reads_back() {
    // king − man + woman lands on queen exactly; the question words themselves are excluded.
    let text = "king queen man woman apple";
    let vocab = WordVocab::fit(text, 1);
    let vector = |w: &str| match w {
        "king" => [1.0, 1.0, 0.0],
        "queen" => [1.0, 0.0, 1.0],
        "man" => [0.0, 1.0, 0.0],
        "woman" => [0.0, 0.0, 1.0],
        _ => [-1.0, 0.3, 0.2],
    };
    let flat: Vec<f32> = vocab.words.iter().flat_map(|w| vector(w)).collect();
    let e = Embeddings::new(vocab, 3, flat);
    assert_eq!(e.analogy("man", "king", "woman", 1).unwrap()[0].0, "queen");
    assert!(e.analogy("man", "king", "girl", 1).unwrap_err().contains("'girl'"));
    let near = e.similar("King", 2).unwrap();
    assert_eq!(near.len(), 2);
    assert!(near.iter().all(|(w, _)| w != "king"));
    let questions = AnalogyQuestion::parse_file(
        ": family\nman king woman queen\nman king boy prince\n: gram1\nking man queen woman\n",
    )
    .unwrap();
    let score = e.score(&questions);
    assert_eq!((score.asked, score.total), (2, 3), "'boy' and 'prince' are unknown");
    assert_eq!(score.semantic, (1, 1));
    assert_eq!(score.syntactic.1, 1);
    assert!(AnalogyQuestion::parse_file("a b c\n").is_err());
    let mut out = Vec::new();
    e.write_word2vec_text(&mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("5 3"));
    let king = text.lines().find(|l| l.starts_with("king ")).unwrap();
    let values: Vec<f32> = king.split(' ').skip(1).map(|v| v.parse().unwrap()).collect();
    assert_eq!(values, vec![1.0, 1.0, 0.0]);
}
