//! The word2vec task: its config checks, and words that share their contexts ending up near
//! each other.

use std::path::Path;

use kiln_train::progress::Silent;
use kiln_train::run::run_experiment;

use super::config;

fn w2v_toml(out: &Path, root: &Path, model: &str, extra_data: &str, optim: &str) -> String {
    format!(
        r#"
[experiment]
name = "w2v"
seed = 11
output_dir = "{out}"

[task]
name = "word2vec"

[model]
{model}

[data]
dataset = "text"
root = "{root}"
batch_size = 64
num_workers = 1
{extra_data}

[optim]
{optim}

[train]
epochs = 2
backend = "ndarray"
"#,
        out = out.display(),
        root = root.display()
    )
}

fn error(text: &str) -> String {
    config(text).unwrap_err().to_string()
}

#[test]
fn word2vec_sections_are_checked_where_they_are_written() {
    let dir = tempfile::tempdir().unwrap();
    let ok = w2v_toml(dir.path(), dir.path(), "name = \"skipgram\"\ndim = 8", "", "name = \"sgd\"\nlr = 0.025");
    config(&ok).unwrap();
    let e = error(&ok.replace("dim = 8", "dims = 8"));
    assert!(e.contains("unknown key 'dims' in [model]; did you mean 'dim'?"), "{e}");
    let e = error(&ok.replace("\"skipgram\"", "\"skip_gram\""));
    assert!(e.contains("unknown word2vec model 'skip_gram'") && e.contains("did you mean 'skipgram'?"), "{e}");
    let e = error(&ok.replace("dim = 8", "negatives = 0"));
    assert!(e.contains("negatives must be at least 1"), "{e}");
    let e = error(&ok.replace("num_workers = 1", "num_workers = 1\nseq_len = 8"));
    assert!(e.contains("'seq_len' is a language-model setting"), "{e}");
    let e = error(&format!("{ok}\n[metrics]\nnames = [\"accuracy\"]\n"));
    assert!(e.contains("takes no [metrics] names"), "{e}");
    let e = error(&format!("{ok}\n[loss]\nname = \"focal\"\n"));
    assert!(e.contains("negative-sampling objective"), "{e}");
    let e = error(&ok.replace("backend = \"ndarray\"", "backend = \"ndarray\"\nstrategy = \"ddp\"\ndevices = 2"));
    assert!(e.contains("word2vec trains on one device"), "{e}");
}

#[test]
fn words_that_share_their_contexts_end_up_nearest_and_analogies_are_scored() {
    // Two topics that never meet: pets and markets. Each sentence draws its words from one.
    let dir = tempfile::tempdir().unwrap();
    let pets = ["cat", "dog", "puppy", "kitten"];
    let markets = ["stock", "bond", "share", "price"];
    let mut text = String::new();
    for i in 0..600 {
        let topic = if i % 2 == 0 { &pets } else { &markets };
        // Knuth's multiplicative hash picks the words: all four of a topic appear, in every order.
        let sentence: Vec<&str> = (0..6).map(|j| topic[((i * 6 + j) * 2_654_435_761 >> 16) % 4]).collect();
        text.push_str(&sentence.join(" "));
        text.push('\n');
    }
    std::fs::write(dir.path().join("train.txt"), &text).unwrap();
    std::fs::write(dir.path().join("test.txt"), &text[..2000]).unwrap();
    let analogies = dir.path().join("questions.txt");
    std::fs::write(
        &analogies,
        ": topics\ncat dog stock bond\ncat dog stock unicorn\n: gram-none\ncat kitten bond share\n",
    )
    .unwrap();
    for model in ["skipgram", "cbow"] {
        let text = w2v_toml(
            dir.path(),
            dir.path(),
            &format!("name = \"{model}\"\ndim = 16\nwindow = 2\nsubsample = 0\nmin_count = 1"),
            &format!("analogies = \"{}\"", analogies.display()),
            "name = \"adam\"\nlr = 0.01",
        );
        let summary = run_experiment(&config(&text).unwrap(), None, &mut Silent).unwrap();
        // Two of the three questions have all their words; the loss falls below its start
        // (with zero output vectors every pair costs (1 + k)·ln 2 at first).
        assert!((summary.metrics["test/analogy_coverage"] - 2.0 / 3.0).abs() < 1e-12, "{:?}", summary.metrics);
        assert!(summary.metrics["test/loss"] < 0.7 * 6.0 * std::f64::consts::LN_2, "{model}: {:?}", summary.metrics);
        let vectors =
            std::fs::read_dir(Path::new(&summary.run_dir).join("checkpoints")).unwrap().next().unwrap().unwrap();
        let vectors = std::fs::read_to_string(vectors.path().join("vectors.txt")).unwrap();
        assert!(vectors.starts_with("8 16\n"), "{}", &vectors[..20]);
        // A pet's nearest word is a pet.
        let rows: Vec<(String, Vec<f32>)> = vectors
            .lines()
            .skip(1)
            .map(|l| {
                let mut parts = l.split(' ');
                let word = parts.next().unwrap().to_string();
                (word, parts.map(|v| v.parse().unwrap()).collect())
            })
            .collect();
        let cosine = |a: &[f32], b: &[f32]| {
            let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
            dot / (a.iter().map(|x| x * x).sum::<f32>().sqrt() * b.iter().map(|x| x * x).sum::<f32>().sqrt())
        };
        let cat = &rows.iter().find(|(w, _)| w == "cat").unwrap().1;
        let nearest = rows
            .iter()
            .filter(|(w, _)| w != "cat")
            .max_by(|a, b| cosine(cat, &a.1).total_cmp(&cosine(cat, &b.1)))
            .unwrap();
        assert!(pets.contains(&nearest.0.as_str()), "{model}: nearest to cat is {}", nearest.0);
    }
}
