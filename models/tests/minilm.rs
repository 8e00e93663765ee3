//! The in-process all-MiniLM-L6-v2 against sentence-transformers' values for five ChEBI-20 test
//! descriptions (`data/minilm_reference.tsv`, a copy of the shared folder's file): the word-piece
//! ids the model saw and the first eight embedding dimensions. It needs the model files
//! (`scripts/setup-minilm.sh`, or `SAMPLER_HARNESS_MINILM=DIR`); without them it says so and
//! passes, unless `REQUIRE_MINILM=1` (CI) makes the missing model a failure.

use models::minilm::{EMBEDDING_DIM, MAX_TOKENS, SentenceEmbedder, default_model_dir};

struct ReferenceRow {
    test_row: usize,
    n_tokens: usize,
    first8: Vec<f32>,
    ids: Vec<u32>,
    description: String,
}

fn reference_rows() -> Vec<ReferenceRow> {
    let text = include_str!("data/minilm_reference.tsv");
    let list = |field: &str| -> Vec<String> { field.split(',').map(str::to_string).collect() };
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .skip(1)
        .map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            assert_eq!(fields.len(), 8, "{line}");
            ReferenceRow {
                test_row: fields[0].parse().unwrap(),
                n_tokens: fields[2].parse().unwrap(),
                first8: list(fields[5]).iter().map(|v| v.parse().unwrap()).collect(),
                ids: list(fields[6]).iter().map(|v| v.parse().unwrap()).collect(),
                description: fields[7].to_string(),
            }
        })
        .collect()
}

/// The model, or `None` (with a note) when its files are absent and not required.
fn embedder() -> Option<SentenceEmbedder> {
    let dir = default_model_dir().filter(|dir| dir.join("model.safetensors").is_file());
    let Some(dir) = dir else {
        assert!(
            std::env::var_os("REQUIRE_MINILM").is_none(),
            "REQUIRE_MINILM is set but the MiniLM model is missing: run scripts/setup-minilm.sh"
        );
        eprintln!("skipped: no MiniLM model (run scripts/setup-minilm.sh)");
        return None;
    };
    Some(SentenceEmbedder::load(&dir, tch::Device::Cpu).unwrap())
}

#[test]
fn token_ids_and_embeddings_match_sentence_transformers() {
    let Some(embedder) = embedder() else {
        return;
    };
    let rows = reference_rows();
    assert_eq!(rows.len(), 5);
    let texts: Vec<&str> = rows.iter().map(|row| row.description.as_str()).collect();
    // Batches of two: rows of different lengths share a padded batch.
    let embedded = embedder.embed(&texts, 2, |_| {}).unwrap();
    let embeddings = &embedded.values;
    let dim = EMBEDDING_DIM as usize;
    for (i, row) in rows.iter().enumerate() {
        let (ids, truncated) = embedder.token_ids(&row.description, i).unwrap();
        assert_eq!(ids, row.ids, "token ids of test row {}", row.test_row);
        assert_eq!(ids.len(), row.n_tokens.min(MAX_TOKENS));
        assert_eq!(truncated, row.n_tokens > MAX_TOKENS);
        assert_eq!(embedded.truncated_rows.contains(&i), truncated);
        let embedding = &embeddings[i * dim..(i + 1) * dim];
        for (got, want) in embedding.iter().zip(&row.first8) {
            assert!(
                (got - want).abs() < 2e-6,
                "test row {}: {:?} vs {:?}",
                row.test_row,
                &embedding[..8],
                row.first8
            );
        }
        let norm: f32 = embedding.iter().map(|v| v * v).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-5, "norm {norm}");
    }
    // "161℃" is one word WordPiece cannot split: a single [UNK].
    let methane = rows
        .iter()
        .find(|row| row.description.contains('℃'))
        .unwrap();
    assert!(methane.ids.contains(&100));
    // The longest row was cut at 256 pieces, [SEP] last.
    let longest = rows.iter().max_by_key(|row| row.n_tokens).unwrap();
    assert_eq!((longest.ids.len(), longest.ids.last()), (256, Some(&102)));
}
