//! The molecule encoders end to end on a few hand-made molecules.

use models::{ItemEncoderKind, ProtocolConfig, TextTowerKind, Trainer};
use molecules::{AtomFeatures, BondFeatures, MolGraph};
use paired_data::{ItemFeatures, PairedData, PairedSplit};
use sampler_api::rng::Rng;

const TEXT_DIM: usize = 16;

/// Molecule `m`: a chain of 3 to 9 atoms whose elements follow a pattern of its own, closed into
/// a ring for odd `m`.
fn molecule(m: usize) -> MolGraph {
    const ELEMENTS: [u8; 7] = [6, 7, 8, 9, 15, 16, 17];
    let n = 3 + m % 7;
    let ring = m % 2 == 1;
    let mut bonds: Vec<BondFeatures> = (1..n as u32)
        .map(|i| BondFeatures {
            begin: i - 1,
            end: i,
            bond_type: if (i as usize + m).is_multiple_of(3) {
                4
            } else {
                2
            },
            stereo: 0,
            conjugated: false,
        })
        .collect();
    if ring {
        bonds.push(BondFeatures {
            begin: n as u32 - 1,
            end: 0,
            bond_type: 2,
            stereo: 0,
            conjugated: false,
        });
    }
    let atoms = (0..n)
        .map(|i| AtomFeatures {
            atomic_number: ELEMENTS[(m * i + m / 2) % 7],
            chirality: 0,
            degree: bonds
                .iter()
                .filter(|b| b.begin as usize == i || b.end as usize == i)
                .count() as u8,
            formal_charge: if i == 0 && m.is_multiple_of(4) { -1 } else { 0 },
            total_hydrogens: (i % 3) as u8,
            radical_electrons: 0,
            hybridization: 4,
            aromatic: false,
            in_ring: ring,
        })
        .collect();
    MolGraph { atoms, bonds }
}

/// `n` random unit texts.
fn texts(n: usize, seed: u64) -> Vec<f32> {
    let mut rng = Rng::for_stream(seed, &[]);
    (0..n)
        .flat_map(|_| {
            let row: Vec<f64> = (0..TEXT_DIM).map(|_| rng.normal()).collect();
            let norm = row.iter().map(|v| v * v).sum::<f64>().sqrt();
            row.into_iter().map(move |v| (v / norm) as f32)
        })
        .collect()
}

fn split(molecules: std::ops::Range<usize>, seed: u64) -> PairedSplit {
    let n = molecules.len();
    PairedSplit {
        items: ItemFeatures::Graphs(molecules.map(molecule).collect()),
        texts: texts(n, seed),
        text_dim: TEXT_DIM,
        n,
    }
}

fn data() -> PairedData {
    PairedData {
        name: "hand-made".into(),
        train: split(0..16, 1),
        test: split(16..24, 2),
    }
}

fn protocol(item_encoder: ItemEncoderKind, text_tower: TextTowerKind) -> ProtocolConfig {
    ProtocolConfig {
        item_encoder,
        text_tower,
        hidden: 32,
        graph_layers: 2,
        learning_rate: 3e-3,
        ..ProtocolConfig::default()
    }
}

/// Losses of `epochs` steps on one batch of all 16 training molecules.
fn losses(config: ProtocolConfig, seed: u64, epochs: u32) -> (Vec<f64>, models::Evaluation) {
    let mut trainer = Trainer::new(config, &data(), seed).unwrap();
    let batch: Vec<u32> = (0..16).collect();
    let losses = (0..epochs)
        .map(|epoch| {
            let stats = trainer.train_epoch(epoch, [batch.as_slice()]).unwrap();
            stats.mean_loss.unwrap()
        })
        .collect();
    (losses, trainer.evaluate().unwrap())
}

#[test]
fn the_graph_transformer_overfits_sixteen_molecules() {
    let config = protocol(ItemEncoderKind::GraphTransformer, TextTowerKind::Frozen);
    let (losses, eval) = losses(config, 0, 60);
    assert!(losses[59] < losses[0] * 0.3, "{losses:?}");
    assert_eq!(eval.text_to_item.reciprocal_ranks.len(), 8);
}

#[test]
fn the_fingerprint_tower_overfits_sixteen_molecules() {
    for text_tower in [TextTowerKind::Frozen, TextTowerKind::Projection] {
        let config = protocol(ItemEncoderKind::FingerprintMlp, text_tower.clone());
        let (losses, _) = losses(config, 0, 60);
        assert!(losses[59] < losses[0] * 0.3, "{text_tower}: {losses:?}");
    }
}

#[test]
fn training_with_dropout_is_deterministic_for_a_seed() {
    for encoder in [
        ItemEncoderKind::GraphTransformer,
        ItemEncoderKind::FingerprintMlp,
    ] {
        let config = protocol(encoder.clone(), TextTowerKind::Projection);
        let first = losses(config.clone(), 5, 4);
        assert_eq!(first, losses(config.clone(), 5, 4), "{encoder}");
        assert_ne!(first.0, losses(config, 6, 4).0, "{encoder}");
    }
}

#[test]
fn encoders_refuse_items_they_cannot_read() {
    let config = protocol(ItemEncoderKind::Mlp, TextTowerKind::Frozen);
    let err = Trainer::new(config, &data(), 0).err().unwrap();
    assert_eq!(
        err.to_string(),
        "invalid paired data: the item encoder mlp cannot read the train split's molecular graphs"
    );
    let mut broken = data();
    if let ItemFeatures::Graphs(graphs) = &mut broken.test.items {
        graphs[3].bonds[0].end = 99;
    }
    let config = protocol(ItemEncoderKind::GraphTransformer, TextTowerKind::Frozen);
    let err = Trainer::new(config, &broken, 0).err().unwrap();
    assert!(
        err.to_string()
            .contains("molecule 3 of the test split has a bond 0-99 beyond its"),
        "{err}"
    );
}
