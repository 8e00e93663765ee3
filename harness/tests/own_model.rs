//! Bring your own model and data: plain embedding pairs, text embedded in-process, TorchScript
//! towers.

use std::path::Path;

use fixtures::{SyntheticTaskConfig, synthetic_task};
use paired_data::{ItemFeatures, PairedSplit};

use crate::support::{quiet_compare, run};

/// Writes `split` as plain pairs: `<name>.tsv` (`id, description`), `<name>.items.npy` and
/// `<name>.text.npy`.
fn write_plain_split(folder: &Path, name: &str, split: &PairedSplit) {
    let ItemFeatures::Dense { values, dim } = &split.items else {
        panic!("the synthetic task has dense items");
    };
    let table: String = std::iter::once("id\tdescription\n".to_string())
        .chain((0..split.n).map(|i| format!("{name}-{i}\tpair {i} of the {name} split\n")))
        .collect();
    std::fs::write(folder.join(format!("{name}.tsv")), table).unwrap();
    let items = folder.join(format!("{name}.items.npy"));
    harness::npy::write_f32(&items, split.n, *dim, values).unwrap();
    let texts = folder.join(format!("{name}.text.npy"));
    harness::npy::write_f32(&texts, split.n, split.text_dim, &split.texts).unwrap();
}

/// A small synthetic task saved as plain pairs, with its manifest `pairs.json`.
fn plain_pairs(folder: &Path) -> std::path::PathBuf {
    let data = synthetic_task(&SyntheticTaskConfig {
        n_train: 300,
        n_test: 100,
        ..SyntheticTaskConfig::default()
    });
    write_plain_split(folder, "train", &data.train);
    write_plain_split(folder, "test", &data.test);
    let manifest = folder.join("pairs.json");
    std::fs::write(
        &manifest,
        r#"{"name": "plain-synthetic",
            "train": {"table": "train.tsv", "embeddings": "train.text.npy", "items": "train.items.npy"},
            "test": {"table": "test.tsv", "embeddings": "test.text.npy", "items": "test.items.npy"}}"#,
    )
    .unwrap();
    manifest
}

/// A column of the first row of `runs.csv` in `out`.
fn first_run_cell(out: &Path, column: &str) -> String {
    let mut reader = csv::Reader::from_path(out.join("runs.csv")).unwrap();
    let index = reader
        .headers()
        .unwrap()
        .iter()
        .position(|name| name == column)
        .unwrap();
    reader.records().next().unwrap().unwrap()[index].to_string()
}

#[test]
fn plain_embedding_pairs_train_the_dense_tower() {
    let folder = tempfile::tempdir().unwrap();
    let manifest = plain_pairs(folder.path());
    let out = folder.path().join("out");
    let mut args = quiet_compare("random,hard", 1, 1, &out);
    args.extend(["--dataset".into(), manifest.display().to_string()]);
    let (code, stdout, stderr) = run(&args);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("hard"), "{stdout}");
    assert_eq!(first_run_cell(&out, "dataset"), "plain-synthetic");
    assert_eq!(
        first_run_cell(&out, "protocol_version"),
        "mlp+frozen-infonce/1"
    );

    // A molecule encoder cannot read vectors; the message says what to use.
    let mut args = quiet_compare("random", 1, 1, &folder.path().join("refused"));
    args.extend([
        "--dataset".into(),
        manifest.display().to_string(),
        "--item-encoder".into(),
        "graph-transformer".into(),
    ]);
    let (code, _, stderr) = run(&args);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("reads molecules, but the dataset's items are dense vectors: use mlp"),
        "{stderr}"
    );
}
