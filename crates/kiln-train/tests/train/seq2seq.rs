//! The seq2seq task: its config checks, a small problem it must solve exactly, and the longer
//! split scored beside the test split.

use std::path::Path;

use kiln_train::progress::Silent;
use kiln_train::run::run_experiment;

use super::config;

/// A small seq2seq experiment on `root` (train.tsv, …); `extra` is appended TOML.
fn s2s_toml(out: &Path, root: &Path, model: &str, extra: &str) -> String {
    format!(
        r#"
[experiment]
name = "s2s"
seed = 3
output_dir = "{out}"

[task]
name = "seq2seq"

[model]
{model}

[data]
dataset = "pairs"
root = "{root}"
batch_size = 8
num_workers = 1

[optim]
name = "adam"
lr = 1e-2
grad_clip = 1.0

[schedule]
name = "constant"

[train]
epochs = 1
backend = "ndarray"
{extra}
"#,
        out = out.display(),
        root = root.display()
    )
}

fn error(text: &str) -> String {
    config(text).unwrap_err().to_string()
}

const TRANSFORMER: &str = "name = \"transformer_seq2seq\"\nd_model = 16\nheads = 2\nd_ff = 32\nencoder_layers = 1\ndecoder_layers = 1\nmax_len = 8";

#[test]
fn seq2seq_sections_are_checked_where_they_are_written() {
    let dir = tempfile::tempdir().unwrap();
    let ok = s2s_toml(dir.path(), dir.path(), "name = \"lstm_seq2seq\"\nhidden = 8", "");
    config(&ok).unwrap();
    let e = error(&ok.replace("hidden = 8", "hiden = 8"));
    assert!(e.contains("unknown key 'hiden' in [model]; did you mean 'hidden'?"), "{e}");
    let e = error(&ok.replace("\"lstm_seq2seq\"", "\"lstm_seq\""));
    assert!(e.contains("unknown seq2seq model 'lstm_seq'") && e.contains("did you mean 'lstm_seq2seq'?"), "{e}");
    let e = error(&ok.replace("hidden = 8", "vocab_size = 8"));
    assert!(e.contains("the tokenizer the vocabulary"), "{e}");
    let e = error(&ok.replace("\"pairs\"", "\"pair\""));
    assert!(e.contains("unknown dataset 'pair'") && e.contains("did you mean 'pairs'?"), "{e}");
    let e = error(&ok.replace("batch_size = 8", "batch_size = 8\nseq_len = 4"));
    assert!(e.contains("a pair's lengths are its own"), "{e}");
    let e = error(&format!("{ok}\n[metrics]\nnames = [\"exact_mach\"]\n"));
    assert!(e.contains("did you mean 'exact_match'?"), "{e}");
    let e = error(&s2s_toml(dir.path(), dir.path(), &TRANSFORMER.replace("heads = 2", "heads = 3"), ""));
    assert!(e.contains("d_model 16 must be a multiple of heads 3"), "{e}");
}

#[test]
fn a_small_reversal_is_learned_exactly_and_the_longer_split_is_scored_beside_the_test() {
    // Every string of 1 to 3 letters over {a, b}: 14 sources, each to its reverse, the test
    // split the same pairs. Solved exactly means every character of every target right.
    let dir = tempfile::tempdir().unwrap();
    let mut words = Vec::new();
    for len in 1..=3 {
        for bits in 0..(1 << len) {
            words.push((0..len).map(|i| if bits >> i & 1 == 1 { 'b' } else { 'a' }).collect::<String>());
        }
    }
    let lines = |words: &[String]| {
        words.iter().map(|w| format!("{w}\t{}\n", w.chars().rev().collect::<String>())).collect::<String>()
    };
    std::fs::write(dir.path().join("train.tsv"), lines(&words).repeat(20)).unwrap();
    std::fs::write(dir.path().join("test.tsv"), lines(&words)).unwrap();
    std::fs::write(dir.path().join("longer.tsv"), "abab\tbaba\nbbba\tabbb\n").unwrap();
    let model = "name = \"lstm_seq2seq\"\nhidden = 32\nembed_dim = 8\nlayers = 1";
    let text = s2s_toml(dir.path(), dir.path(), model, "").replace("epochs = 1", "epochs = 4");
    let summary = run_experiment(&config(&text).unwrap(), None, &mut Silent).unwrap();
    assert_eq!(summary.task, "seq2seq");
    let m = &summary.metrics;
    assert_eq!((m["test/exact_match"], m["test/token_accuracy"]), (1.0, 1.0), "{m:?}");
    assert!(m["test/loss"] < 0.05, "{m:?}");
    for key in ["test/longer_exact_match", "test/longer_token_accuracy", "test/longer_loss"] {
        assert!((0.0..=1.0).contains(&m[key]) || key.ends_with("loss"), "{key}: {m:?}");
    }
    assert!(!m.contains_key("valid/loss"), "no valid.tsv, no validation: {m:?}");
}

#[test]
fn a_transformer_runs_on_the_shipped_addition_pairs_and_refuses_sequences_past_its_positions() {
    let out = tempfile::tempdir().unwrap();
    let root =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../datasets/algorithmic/addition").canonicalize().unwrap();
    let model = TRANSFORMER.replace("max_len = 8", "max_len = 14");
    let text = s2s_toml(out.path(), &root, &model, "").replace("num_workers = 1", "num_workers = 1\nlimit = 40");
    let summary = run_experiment(&config(&text).unwrap(), None, &mut Silent).unwrap();
    for key in ["valid/exact_match", "test/exact_match", "test/longer_exact_match"] {
        assert!((0.0..=1.0).contains(&summary.metrics[key]), "{key}: {:?}", summary.metrics);
    }
    // "99999+99999" is 11 characters and its begin + 6-digit sum 7: max_len 8 cannot hold it.
    let text = s2s_toml(out.path(), &root, TRANSFORMER, "").replace("num_workers = 1", "num_workers = 1\nlimit = 40");
    let e = run_experiment(&config(&text).unwrap(), None, &mut Silent).unwrap_err().to_string();
    assert!(e.contains("has positions for 8: raise [model] max_len"), "{e}");
}
