//! The language-model task: its config checks, a short run end to end, and a stream it must learn.

use std::path::Path;

use kiln_train::progress::Silent;
use kiln_train::run::run_experiment;

use super::config;

/// A small language model on `root` (train.txt, valid.txt, test.txt); `extra` is appended TOML.
fn lm_toml(out: &Path, root: &Path, model: &str, extra: &str) -> String {
    format!(
        r#"
[experiment]
name = "lm"
seed = 5
output_dir = "{out}"

[task]
name = "language_model"

[model]
{model}

[data]
dataset = "text"
root = "{root}"
tokenizer = "char"
seq_len = 8
batch_size = 4
num_workers = 1

[optim]
name = "adam"
lr = 1e-2
grad_clip = 1.0

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

#[test]
fn language_model_sections_are_checked_where_they_are_written() {
    let dir = tempfile::tempdir().unwrap();
    let ok = lm_toml(dir.path(), dir.path(), "name = \"lstm_lm\"\nhidden = 8", "");
    config(&ok).unwrap();
    let e = error(&ok.replace("hidden = 8", "hiden = 8"));
    assert!(e.contains("unknown key 'hiden' in [model]; did you mean 'hidden'?") && e.contains("exp.toml:"), "{e}");
    let e = error(&ok.replace("\"lstm_lm\"", "\"lstm\""));
    assert!(e.contains("unknown language model 'lstm'") && e.contains("did you mean 'lstm_lm'?"), "{e}");
    let e = error(&ok.replace("hidden = 8", "vocab_size = 8"));
    assert!(e.contains("the tokenizer the vocabulary"), "{e}");
    let e = error(&ok.replace("seq_len = 8\n", ""));
    assert!(e.contains("seq_len (tokens per training window"), "{e}");
    let e = error(&ok.replace("\"char\"", "\"chars\""));
    assert!(e.contains("unknown tokenizer 'chars'") && e.contains("did you mean 'char'?"), "{e}");
    let e = error(&format!("{ok}\n[metrics]\nnames = [\"bits_per_chr\"]\n"));
    assert!(e.contains("did you mean 'bits_per_char'?"), "{e}");
    let e = error(&format!("{ok}\n[loss]\nname = \"focal\"\n"));
    assert!(e.contains("plain next-token cross-entropy"), "{e}");
    let transformer = lm_toml(dir.path(), dir.path(), "name = \"transformer_lm\"\nmax_len = 4", "");
    let e = error(&transformer);
    assert!(e.contains("seq_len 8 is longer than the model's max_len 4"), "{e}");
    let e = error(&transformer.replace("max_len = 4", "d_model = 10\nheads = 4"));
    assert!(e.contains("d_model 10 must be a multiple of heads 4"), "{e}");
    // The text keys belong to language models only.
    let mnist =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../experiments/mnist-lenet5.toml"))
            .unwrap()
            .replace("batch_size = ", "seq_len = 32\nbatch_size = ");
    let e = error(&mnist);
    assert!(e.contains("'seq_len' is read by the text tasks (language_model, seq2seq, word2vec) only"), "{e}");
}

#[test]
fn a_recurrent_and_a_transformer_language_model_run_and_report_bits_per_character() {
    let out = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../datasets/text/moby-dick").canonicalize().unwrap();
    for model in [
        "name = \"gru_lm\"\nhidden = 16\nembed_dim = 8",
        "name = \"transformer_lm\"\nd_model = 16\nheads = 2\nd_ff = 32\nlayers = 1\nmax_len = 8",
    ] {
        let text = lm_toml(out.path(), &root, model, "").replace("num_workers = 1", "num_workers = 1\nlimit = 600");
        let summary = run_experiment(&config(&text).unwrap(), None, &mut Silent).unwrap();
        assert_eq!(summary.task, "language_model");
        for split in ["valid", "test"] {
            let loss = summary.metrics[&format!("{split}/loss")];
            let bpc = summary.metrics[&format!("{split}/bits_per_char")];
            let ppl = summary.metrics[&format!("{split}/perplexity")];
            // One token per character: bits per character is nats per token over ln 2.
            assert!((bpc - loss / std::f64::consts::LN_2).abs() < 1e-4, "{split}: {bpc} vs {loss}");
            assert!((ppl - loss.exp()).abs() < 1e-3 * ppl, "{split}: {ppl} vs {loss}");
        }
        let csv = std::fs::read_to_string(Path::new(&summary.run_dir).join("metrics.csv")).unwrap();
        assert!(csv.lines().next().unwrap().contains("train_bits_per_char"), "{csv}");
    }
    // Byte-level BPE: a token stands for several characters, so a character costs fewer bits
    // than the token's nats / ln 2.
    let model = "name = \"transformer_lm\"\nd_model = 16\nheads = 2\nd_ff = 32\nlayers = 1\nmax_len = 8";
    let text = lm_toml(out.path(), &root, model, "")
        .replace("num_workers = 1", "num_workers = 1\nlimit = 3000")
        .replace("tokenizer = \"char\"", "tokenizer = \"bpe\"\nvocab_size = 300");
    let summary = run_experiment(&config(&text).unwrap(), None, &mut Silent).unwrap();
    let (loss, bpc) = (summary.metrics["test/loss"], summary.metrics["test/bits_per_char"]);
    assert!(bpc * std::f64::consts::LN_2 < loss / 1.2, "bpc {bpc} vs loss {loss}");
    let e = error(&text.replace("vocab_size = 300", "vocab_size = 200"));
    assert!(e.contains("vocab_size 200 is below 256"), "{e}");
    let e = error(&text.replace("tokenizer = \"bpe\"", "tokenizer = \"char\""));
    assert!(e.contains("vocab_size is for tokenizer = \"bpe\""), "{e}");
}

#[test]
fn a_periodic_stream_is_learned_far_below_the_uniform_rate() {
    // "abcde" repeated: after a few dozen steps the next character is nearly certain, while a
    // uniform guess over the 6 tokens (5 letters and the unknown) costs log2 6 = 2.58 bits.
    let dir = tempfile::tempdir().unwrap();
    let text = "abcde".repeat(400);
    for split in ["train", "valid", "test"] {
        std::fs::write(dir.path().join(format!("{split}.txt")), &text).unwrap();
    }
    let extra = "[schedule]\nname = \"constant\"";
    let toml = lm_toml(dir.path(), dir.path(), "name = \"lstm_lm\"\nhidden = 16\nembed_dim = 8\nlayers = 1", extra);
    let summary = run_experiment(&config(&toml).unwrap(), None, &mut Silent).unwrap();
    let bpc = summary.metrics["test/bits_per_char"];
    assert!(bpc < 0.3, "test bits per character {bpc}");
}

#[test]
fn two_ddp_peers_with_half_the_streams_each_take_the_steps_of_one_device() {
    // Peer r trains lanes r·4..(r+1)·4 of every window and carries their state, so two peers of
    // batch 4 see what one device of batch 8 sees, window for window.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../datasets/text/moby-dick").canonicalize().unwrap();
    let model = "name = \"gru_lm\"\nhidden = 16\nembed_dim = 8";
    let run = |batch: &str, extra: &str| {
        let out = tempfile::tempdir().unwrap();
        let text = lm_toml(out.path(), &root, model, extra)
            .replace("batch_size = 4", batch)
            .replace("num_workers = 1", "num_workers = 1\nlimit = 1500")
            .replace("epochs = 1", "epochs = 2");
        run_experiment(&config(&text).unwrap(), None, &mut Silent).unwrap()
    };
    let one = run("batch_size = 8", "");
    let two = run("batch_size = 4", "strategy = \"ddp\"\ndevices = 2");
    // The second epoch's training loss is the mean over steps taken from the weights the first
    // epoch reached, so it matches only if every step did. (Validation differs by design: the
    // main replica evaluates data.batch_size streams, 8 in one run and 4 in the other.)
    let (a, b) = (one.metrics["train/loss"], two.metrics["train/loss"]);
    assert!((a - b).abs() < 1e-5 * a.abs(), "train/loss: one device {a}, two peers {b}");
    assert_ne!(one.metrics["valid/loss"], two.metrics["valid/loss"]);
}
