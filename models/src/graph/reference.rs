//! The graph transformer's weights and batches in the layout of the PyTorch + PyTorch Geometric
//! reference (`reference/model.py`), for the parity check that runs both on the same input.

use std::collections::HashMap;

use tch::{Kind, Tensor};

use super::batch::GraphBatch;
use super::features::{ATOM_SLOTS, BOND_SLOTS, first_rows};

/// Splits `table` (rows of every feature one after another) into one tensor per feature.
fn per_feature(table: &Tensor, slots: &[i64]) -> Vec<Tensor> {
    table.split_with_sizes(slots, 0)
}

/// Every variable of a graph transformer built under `root`, renamed (and split where the
/// harness fuses layers) to the reference's `state_dict()` keys. Panics on a variable it does
/// not know, so a new variable cannot silently escape the parity check.
pub(crate) fn reference_state(
    variables: &HashMap<String, Tensor>,
    root: &str,
) -> Vec<(String, Tensor)> {
    let mut state = Vec::new();
    for (name, tensor) in variables {
        let local = name
            .strip_prefix(root)
            .and_then(|rest| rest.strip_prefix('.'))
            .unwrap_or_else(|| panic!("variable {name} is outside {root}"));
        let parts: Vec<&str> = local.split('.').collect();
        let tensor = tensor.detach().copy();
        let mut put = |key: String, value: Tensor| state.push((key, value));
        match parts.as_slice() {
            [side @ ("atoms" | "bonds"), rest @ ..] => {
                let (module, slots): (&str, &[i64]) = if *side == "atoms" {
                    ("atom_encoder", &ATOM_SLOTS)
                } else {
                    ("bond_encoder", &BOND_SLOTS)
                };
                match rest {
                    ["table"] => {
                        for (f, part) in per_feature(&tensor, slots).into_iter().enumerate() {
                            put(format!("{module}.embeddings.{f}.weight"), part);
                        }
                    }
                    ["gates"] => put(format!("{module}.feature_weights"), tensor),
                    ["linear", p] => put(format!("{module}.combine.0.{p}"), tensor),
                    ["norm", p] => put(format!("{module}.combine.1.{p}"), tensor),
                    _ => panic!("unknown variable {name}"),
                }
            }
            ["degree_table"] => put("pos_encoder.weight".into(), tensor),
            [layer, "conv", "qkvs", p] => {
                let l = layer.trim_start_matches("layer");
                let blocks = tensor.chunk(4, 0);
                for (block, projection) in blocks.into_iter().zip(["query", "key", "value", "skip"])
                {
                    put(format!("convs.{l}.lin_{projection}.{p}"), block);
                }
            }
            [layer, "conv", "edge", "weight"] => {
                let l = layer.trim_start_matches("layer");
                put(format!("convs.{l}.lin_edge.weight"), tensor);
            }
            [layer, "norm", p] => {
                let l = layer.trim_start_matches("layer");
                put(format!("layer_norms.{l}.{p}"), tensor);
            }
            ["pool", "hidden", p] => put(format!("attention_pool.attention.0.{p}"), tensor),
            ["pool", "score", p] => put(format!("attention_pool.attention.2.{p}"), tensor),
            ["wide", p] => put(format!("proj.0.{p}"), tensor),
            ["head", "wide_norm", p] => put(format!("proj.1.{p}"), tensor),
            ["head", "narrow", p] => put(format!("proj.4.{p}"), tensor),
            ["head", "narrow_norm", p] => put(format!("proj.5.{p}"), tensor),
            ["head", "output", p] => put(format!("proj.8.{p}"), tensor),
            _ => panic!("unknown variable {name}"),
        }
    }
    state.sort_by(|a, b| a.0.cmp(&b.0));
    state
}

/// A collated batch as the reference reads it: `x` (`atoms x 9` per-feature slots),
/// `edge_index` (`2 x edges`, sources then targets), `edge_attr` (`edges x 3` per-feature slots)
/// and `batch` (molecule of every atom).
pub(crate) fn reference_batch(batch: &GraphBatch) -> Vec<(&'static str, Tensor)> {
    let first_atom_rows = Tensor::from_slice(&first_rows(ATOM_SLOTS));
    let x = batch.atom_rows.view([-1, 9]) - first_atom_rows.unsqueeze(0);
    let kind = &batch.edge_kind;
    let (stereo_slots, conjugated_slots) = (BOND_SLOTS[1], BOND_SLOTS[2]);
    let edge_attr = Tensor::stack(
        &[
            kind.divide_scalar_mode(stereo_slots * conjugated_slots, "floor"),
            kind.divide_scalar_mode(conjugated_slots, "floor")
                .remainder(stereo_slots),
            kind.remainder(conjugated_slots),
        ],
        1,
    )
    .to_kind(Kind::Int64);
    vec![
        ("x", x),
        (
            "edge_index",
            Tensor::stack(&[&batch.source, &batch.target], 0),
        ),
        ("edge_attr", edge_attr),
        ("batch", batch.molecule.shallow_clone()),
        ("num_graphs", Tensor::from(batch.n_molecules)),
    ]
}
