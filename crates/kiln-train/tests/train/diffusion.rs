//! The diffusion task: its config checks, and a short run scored by sampling.

use std::path::Path;

use kiln_train::config::SamplerSettings;
use kiln_train::eval::sample_run;
use kiln_train::progress::Silent;
use kiln_train::run::run_experiment;
use kiln_train::task::SampleRequest;

use super::config;

fn diffusion_toml(out: &Path, root: &Path, loss: &str, sampling: &str) -> String {
    format!(
        r#"
[experiment]
name = "diff"
seed = 5
output_dir = "{out}"

[task]
name = "diffusion"

[model]
name = "mlp_denoiser"
hidden = 16
blocks = 1
embed_dim = 8

[data]
dataset = "points"
root = "{root}"
batch_size = 32
valid_fraction = 0.0

[loss]
{loss}

{sampling}

[optim]
name = "adam"
lr = 1e-3

[train]
epochs = 1
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
fn diffusion_sections_are_checked_where_they_are_written() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    config(&diffusion_toml(d, d, "name = \"ddpm\"", "")).unwrap();
    let e = error(&diffusion_toml(d, d, "name = \"ddpn\"", ""));
    assert!(e.contains("did you mean 'ddpm'"), "{e}");
    let e = error(&diffusion_toml(d, d, "name = \"edm\"\nschedule = \"cosine\"", ""));
    assert!(e.contains("'schedule' is not a setting of the 'edm' objective"), "{e}");
    let e = error(&diffusion_toml(d, d, "name = \"ddpm\"", "[sampling]\nsampler = \"edm\"\nsteps = 10\neta = 0.5"));
    assert!(e.contains("eta is DDIM's"), "{e}");
    let e = error(&diffusion_toml(d, d, "name = \"ddpm\"", "[sampling]\nsampler = \"dpm\"\nsteps = 10"));
    assert!(e.contains("unknown sampler 'dpm'"), "{e}");
    let e =
        error(&diffusion_toml(d, d, "name = \"ddpm\"", "[sampling]\nsampler = \"ddim\"\nsteps = 10\nguidance = 2.0"));
    assert!(e.contains("class-conditional"), "{e}");
    let e = error(&diffusion_toml(d, d, "name = \"flow_matching\"\nreflow_pairs = 40", ""));
    assert!(e.contains("set reflow = \"<run>\" too"), "{e}");
    let e = error(&diffusion_toml(
        d,
        d,
        "name = \"ddpm\"",
        "[sampling]\nsampler = \"ddim\"\nsteps = 10\nclassifier_scale = 2.0",
    ));
    assert!(e.contains("[sampling] classifier"), "{e}");
}

#[test]
fn a_short_run_is_scored_by_sampling_with_every_compared_sampler() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("points");
    std::fs::create_dir(&data).unwrap();
    // Points on a circle of radius 2: training and test halves.
    let circle = |offset: usize, n: usize| {
        let mut text = String::from("x,y\n");
        for i in 0..n {
            let a = (i + offset) as f64 * 0.7;
            text += &format!("{:.5},{:.5}\n", 2.0 * a.cos(), 2.0 * a.sin());
        }
        text
    };
    std::fs::write(data.join("train.csv"), circle(0, 128)).unwrap();
    std::fs::write(data.join("test.csv"), circle(1000, 64)).unwrap();
    let sampling = "[sampling]\nsampler = \"ddim\"\nsteps = 5\nsamples = 32\n\n[sampling.compare.heun]\nsampler = \"edm\"\nsteps = 3\n\n[sampling.compare.flow]\nsampler = \"rf-heun\"\nsteps = 2";
    for loss in ["name = \"ddpm\"\nsteps = 100", "name = \"flow_matching\""] {
        let cfg = config(&diffusion_toml(dir.path(), &data, loss, sampling)).unwrap();
        let summary = run_experiment(&cfg, None, &mut Silent).unwrap();
        let m = &summary.metrics;
        // NFE: DDIM one per step; EDM's Heun 2·3 − 1; rectified flow's Heun 2·2 − 1.
        assert_eq!((m["test/nfe"], m["test/heun_nfe"], m["test/flow_nfe"]), (5.0, 5.0, 3.0), "{m:?}");
        for key in ["test/mmd", "test/swd", "test/heun_swd", "test/flow_straightness", "test/loss", "train/loss"] {
            assert!(m[key].is_finite(), "{key}: {m:?}");
        }
        assert!(m["test/swd"] >= 0.0 && m["test/flow_straightness"] >= 0.0);
    }
    // Reflow from the rectified flow just trained (the newest run in `diff/`): the teacher is
    // sampled beside the student with the same samplers.
    let reflow = format!(
        "name = \"flow_matching\"\nreflow = \"{}\"\nreflow_steps = 3\nreflow_pairs = 40",
        dir.path().join("diff").display()
    );
    let cfg =
        config(&diffusion_toml(dir.path(), &data, &reflow, sampling).replace("name = \"diff\"", "name = \"reflowed\""))
            .unwrap();
    let m = run_experiment(&cfg, None, &mut Silent).unwrap().metrics;
    assert_eq!((m["test/flow_nfe"], m["test/teacher_flow_nfe"]), (3.0, 3.0), "{m:?}");
    for key in ["test/teacher_swd", "test/teacher_flow_straightness", "test/flow_straightness"] {
        assert!(m[key].is_finite() && m[key] >= 0.0, "{key}: {m:?}");
    }
    // A DDPM run is no teacher for reflow.
    std::fs::remove_dir_all(dir.path().join("diff")).unwrap();
    let cfg = config(&diffusion_toml(dir.path(), &data, "name = \"ddpm\"\nsteps = 100", sampling)).unwrap();
    run_experiment(&cfg, None, &mut Silent).unwrap();
    let cfg =
        config(&diffusion_toml(dir.path(), &data, &reflow, sampling).replace("name = \"diff\"", "name = \"reflowed\""))
            .unwrap();
    let e = run_experiment(&cfg, None, &mut Silent).unwrap_err().to_string();
    assert!(e.contains("not a rectified flow on points"), "{e}");
}

#[test]
fn sampling_belongs_to_the_diffusion_task_alone() {
    let dir = tempfile::tempdir().unwrap();
    let text = diffusion_toml(dir.path(), dir.path(), "name = \"ddpm\"", "[sampling]\nsampler = \"ddim\"\nsteps = 5")
        .replace("name = \"diffusion\"", "name = \"classification\"");
    let e = error(&text);
    assert!(e.contains("[sampling] is read by the diffusion task only"), "{e}");
}

/// A judge classifier trained for one epoch on 96 digits (what it reads hardly matters here:
/// the test checks the figures it feeds, not their values).
fn train_judge(out: &Path) -> std::path::PathBuf {
    let text = format!(
        r#"
[experiment]
name = "judge"
seed = 3
output_dir = "{out}"

[model]
name = "mnist_cnn"
num_classes = 10
width = 4
hidden = 16
embedding_dim = 6

[data]
dataset = "mnist"
root = "{root}"
batch_size = 32
limit = 96
valid_fraction = 0.0

[optim]
name = "adam"
lr = 1e-3

[train]
epochs = 1
backend = "ndarray"

[loss]
name = "cross_entropy"
"#,
        out = out.display(),
        root = super::mnist_root().display()
    );
    run_experiment(&config(&text).unwrap(), None, &mut Silent).unwrap();
    out.join("judge")
}

fn digits_toml(out: &Path, judge: &Path, loss_extra: &str, sampling_extra: &str) -> String {
    format!(
        r#"
[experiment]
name = "digits"
seed = 5
output_dir = "{out}"

[task]
name = "diffusion"

[model]
name = "unet"
channels = 4
channel_mults = [1, 2]
attention_heads = 2
num_classes = 10

[data]
dataset = "mnist"
root = "{root}"
batch_size = 16
limit = 32
valid_fraction = 0.0

[loss]
name = "ddpm"
steps = 100
{loss_extra}

[sampling]
sampler = "ddim"
steps = 3
samples = 12
judge = "{judge}"
{sampling_extra}

[optim]
name = "adam"
lr = 1e-3

[train]
epochs = 1
backend = "ndarray"
"#,
        out = out.display(),
        root = super::mnist_root().display(),
        judge = judge.display()
    )
}

#[test]
fn digits_are_sampled_per_class_scored_by_the_judge_and_written_as_a_grid() {
    let dir = tempfile::tempdir().unwrap();
    let judge = train_judge(dir.path());
    let guided = "\n[sampling.compare.guided]\nsampler = \"ddpm\"\nsteps = 4\nguidance = 2.0";
    let cfg = config(&digits_toml(dir.path(), &judge, "cond_dropout = 0.2", guided)).unwrap();
    let summary = run_experiment(&cfg, None, &mut Silent).unwrap();
    let m = &summary.metrics;
    assert_eq!((m["test/nfe"], m["test/guided_nfe"]), (3.0, 4.0), "{m:?}");
    for key in ["test/fd", "test/guided_fd", "test/real_fd", "test/diversity", "test/guided_diversity"] {
        assert!(m[key].is_finite() && m[key] >= 0.0, "{key}: {m:?}");
    }
    // 12 samples, 10 classes: the accuracy is a count of twelfths.
    for key in ["test/accuracy", "test/guided_accuracy"] {
        let twelfths = m[key] * 12.0;
        assert!((0.0..=1.0).contains(&m[key]) && (twelfths - twelfths.round()).abs() < 1e-9, "{key}: {m:?}");
    }
    let run = std::path::PathBuf::from(&summary.run_dir);
    let png = dir.path().join("sevens.png");
    let settings = SamplerSettings {
        sampler: "ddim".into(),
        steps: 2,
        eta: 0.0,
        churn: 0.0,
        guidance: 1.0,
        classifier_scale: 0.0,
    };
    let request = SampleRequest { settings, n: 13, class: Some(7), seed: 1 };
    let said = sample_run(&run, &request, &png, None, &mut |_, _| {}).unwrap();
    assert!(said.contains("13 digits with ddim (2 steps, NFE 2, guidance 1)"), "{said}");
    assert!(said.contains("the judge reads the class drawn for in"), "{said}");
    // Ten 28×28 digits to a row at twice their size with 2-pixel gaps: 10·58 + 2 by 2·58 + 2.
    let grid = image::open(&png).unwrap();
    assert_eq!((grid.width(), grid.height()), (582, 118));
    let request = SampleRequest { class: Some(10), ..request };
    let e = sample_run(&run, &request, &png, None, &mut |_, _| {}).unwrap_err().to_string();
    assert!(e.contains("--class 10: the classes are 0 to 9"), "{e}");
}

#[test]
fn digit_experiments_refuse_what_they_cannot_do_before_training() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let missing = d.join("no-judge-here");
    // Guidance needs condition dropout in training.
    let e = error(&digits_toml(d, &missing, "", "guidance = 1.0"));
    assert!(e.contains("cond_dropout > 0"), "{e}");
    let e = error(&digits_toml(d, &missing, "", "").replace("channels = 4", "channels = 5"));
    assert!(e.contains("channels must be a positive even number"), "{e}");
    let e = error(&digits_toml(d, &missing, "", "").replace("attention_heads = 2", "attention_heads = 3"));
    assert!(e.contains("attention_heads must divide"), "{e}");
    let e = error(&digits_toml(d, &missing, "", "").replace("name = \"unet\"", "name = \"mlp_denoiser\""));
    assert!(e.contains("'mlp_denoiser' does not take images; use 'unet'"), "{e}");
    // A judge that is not there stops the run before any training, naming how to make it.
    let cfg = config(&digits_toml(d, &missing, "", "")).unwrap();
    let e = run_experiment(&cfg, None, &mut Silent).unwrap_err().to_string();
    assert!(e.contains("kiln run experiments/mnist-fd-classifier.toml"), "{e}");
    assert!(!d.join("digits").exists(), "no run directory for a run that cannot start");
}

/// A noise-aware classifier trained for one epoch on 32 digits (task noisy_classification).
fn train_guidance_classifier(out: &Path) -> std::path::PathBuf {
    let text = format!(
        r#"
[experiment]
name = "noisy"
seed = 4
output_dir = "{out}"

[task]
name = "noisy_classification"

[model]
name = "noisy_classifier"
channels = 4
channel_mults = [1, 2]
attention_heads = 2

[data]
dataset = "mnist"
root = "{root}"
batch_size = 16
limit = 32
valid_fraction = 0.0

[loss]
name = "ddpm"
steps = 100

[optim]
name = "adam"
lr = 1e-3

[train]
epochs = 1
backend = "ndarray"
"#,
        out = out.display(),
        root = super::mnist_root().display()
    );
    let summary = run_experiment(&config(&text).unwrap(), None, &mut Silent).unwrap();
    let m = &summary.metrics;
    for key in ["test/accuracy", "test/clean_accuracy"] {
        assert!((0.0..=1.0).contains(&m[key]), "{key}: {m:?}");
    }
    // The cross-entropy of 10 classes starts near ln 10 and is positive.
    assert!(m["test/loss"] > 0.0 && m["test/loss"] < 10.0, "{m:?}");
    out.join("noisy")
}

#[test]
fn a_noise_aware_classifier_guides_digit_samples_and_the_guidance_curves_are_plotted() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let judge = train_judge(d);
    let classifier = train_guidance_classifier(d);
    let compare = format!(
        "classifier = \"{}\"\n\n[sampling.compare.cg_1]\nsampler = \"ddim\"\nsteps = 3\nclassifier_scale = 1.0\n\n[sampling.compare.cg_4]\nsampler = \"ddim\"\nsteps = 3\nclassifier_scale = 4.0\n\n[sampling.compare.cfg_2]\nsampler = \"ddim\"\nsteps = 3\nguidance = 2.0",
        classifier.display()
    );
    let cfg = config(&digits_toml(d, &judge, "cond_dropout = 0.2", &compare)).unwrap();
    let summary = run_experiment(&cfg, None, &mut Silent).unwrap();
    let m = &summary.metrics;
    for key in ["test/cg_1_accuracy", "test/cg_4_accuracy", "test/cg_4_diversity", "test/cg_4_fd"] {
        assert!(m[key].is_finite() && m[key] >= 0.0, "{key}: {m:?}");
    }
    // The gradient moves the samples: the same noise lands elsewhere at another scale.
    assert_ne!(m["test/cg_1_fd"], m["test/cg_4_fd"], "{m:?}");
    // Two weights of each kind on the evaluation sampler: four panels, two to a row.
    let run = std::path::PathBuf::from(&summary.run_dir);
    let plot = image::open(run.join("guidance.png")).unwrap();
    assert_eq!((plot.width(), plot.height()), (1040, 840));
    let png = d.join("guided.png");
    let settings = SamplerSettings {
        sampler: "ddim".into(),
        steps: 2,
        eta: 0.0,
        churn: 0.0,
        guidance: 0.0,
        classifier_scale: 4.0,
    };
    let request = SampleRequest { settings, n: 10, class: Some(3), seed: 1 };
    let said = sample_run(&run, &request, &png, None, &mut |_, _| {}).unwrap();
    assert!(said.contains("10 digits with ddim (2 steps, NFE 2, classifier scale 4)"), "{said}");
    // A scale without a classifier, and a classifier run of the wrong kind, are refused.
    let e = error(&digits_toml(d, &judge, "cond_dropout = 0.2", "classifier_scale = 2.0"));
    assert!(e.contains("[sampling] classifier"), "{e}");
    let wrong = digits_toml(d, &judge, "cond_dropout = 0.2", &format!("classifier = \"{}\"", judge.display()));
    let e = run_experiment(&config(&wrong).unwrap(), None, &mut Silent).unwrap_err().to_string();
    assert!(e.contains("not a noisy_classification run"), "{e}");
}

#[test]
fn digits_reflow_on_their_teachers_couplings_and_score_the_teacher_beside_them() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let judge = train_judge(d);
    let flow = |name: &str, loss: &str| {
        digits_toml(d, &judge, "", "")
            .replace("num_classes = 10", "num_classes = 0")
            .replace("name = \"ddpm\"\nsteps = 100", loss)
            .replace("sampler = \"ddim\"", "sampler = \"rf\"")
            .replace("name = \"digits\"", &format!("name = \"{name}\""))
    };
    let teacher =
        run_experiment(&config(&flow("teacher", "name = \"flow_matching\"")).unwrap(), None, &mut Silent).unwrap();
    let reflow =
        format!("name = \"flow_matching\"\nreflow = \"{}\"\nreflow_steps = 2\nreflow_pairs = 24", teacher.run_dir);
    let student = run_experiment(&config(&flow("student", &reflow)).unwrap(), None, &mut Silent).unwrap();
    let m = &student.metrics;
    for key in ["test/fd", "test/teacher_fd", "test/straightness", "test/teacher_straightness"] {
        assert!(m[key].is_finite() && m[key] >= 0.0, "{key}: {m:?}");
    }
    // The student starts from the teacher's weights and trains on other data, so it differs.
    assert_ne!(m["test/fd"], m["test/teacher_fd"], "{m:?}");
    // A class-conditional student is refused: the couplings carry no classes.
    let e = error(&flow("student", &reflow).replace("num_classes = 0", "num_classes = 10"));
    assert!(e.contains("set num_classes = 0"), "{e}");
    // A teacher of another kind (a DDPM on digits) is refused before any training.
    let ddpm = run_experiment(
        &config(&digits_toml(d, &judge, "", "").replace("name = \"digits\"", "name = \"ddpm\"")).unwrap(),
        None,
        &mut Silent,
    )
    .unwrap();
    let wrong = flow("student2", &reflow.replace(&teacher.run_dir, &ddpm.run_dir));
    let e = run_experiment(&config(&wrong).unwrap(), None, &mut Silent).unwrap_err().to_string();
    assert!(e.contains("not an unconditional rectified flow on digits"), "{e}");
}
