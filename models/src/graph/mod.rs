//! Molecular graphs: featurisation into categorical table rows, padding-free batching, and the
//! reference graph-transformer encoder.

mod batch;
mod encoder;
mod features;
#[cfg(test)]
pub(crate) mod reference;
mod scatter;

pub use batch::GraphBatch;
pub(crate) use batch::GraphStore;
pub use encoder::{GraphEncoderConfig, GraphTransformer};

#[cfg(test)]
mod tests {
    use tch::{Device, Kind, Tensor, nn};

    use super::batch::tests::chain;
    use super::*;
    use crate::dropout::{DropoutRng, Mode};

    fn config() -> GraphEncoderConfig {
        GraphEncoderConfig {
            hidden: 16,
            output_dim: 8,
            layers: 2,
            heads: 4,
            dropout: 0.1,
        }
    }

    fn encoder(seed: i64) -> (nn::VarStore, GraphTransformer) {
        crate::trainer::seeded(seed as u64, || {
            let vs = nn::VarStore::new(Device::Cpu);
            let encoder = GraphTransformer::new(vs.root(), &config());
            (vs, encoder)
        })
    }

    fn store() -> GraphStore {
        GraphStore::new(&[chain(5), chain(1), chain(9), chain(2)], Device::Cpu)
    }

    #[test]
    fn outputs_are_unit_rows() {
        let (_vs, encoder) = encoder(0);
        let batch = store().collate_rows(&[0, 1, 2, 3]);
        for mut mode in [Mode::Eval, Mode::Train(&mut DropoutRng::new(0))] {
            let out = encoder.forward(&batch, &mut mode);
            assert_eq!(out.size(), [4, 8]);
            let norms = out.norm_scalaropt_dim(2.0, [-1i64], false);
            assert!(norms.allclose(
                &Tensor::ones([4], (Kind::Float, Device::Cpu)),
                1e-5,
                1e-6,
                false
            ));
        }
    }

    #[test]
    fn a_molecule_embeds_the_same_in_the_same_batch_but_not_in_another() {
        // The batch LayerNorm (the reference's) pools statistics over the whole batch: the
        // order within a batch does not matter, its other molecules do.
        let (_vs, encoder) = encoder(1);
        let store = store();
        let embed = |rows: &[usize]| encoder.forward(&store.collate_rows(rows), &mut Mode::Eval);
        let together = embed(&[0, 3, 2, 1]);
        let reordered = embed(&[2, 1, 0, 3]);
        assert!(
            together
                .get(2)
                .allclose(&reordered.get(0), 1e-5, 1e-5, false)
        );
        let alone = embed(&[2]);
        assert!(!together.get(2).allclose(&alone.get(0), 1e-3, 1e-3, false));
    }

    #[test]
    fn same_seed_gives_the_same_embeddings_and_dropout_changes_them() {
        let batch = store().collate_rows(&[0, 1, 2, 3]);
        let train = |init_seed, dropout_seed| {
            let (_vs, encoder) = encoder(init_seed);
            encoder.forward(&batch, &mut Mode::Train(&mut DropoutRng::new(dropout_seed)))
        };
        assert!(train(3, 5).equal(&train(3, 5)));
        assert!(!train(3, 5).equal(&train(3, 6)));
        assert!(!train(3, 5).equal(&train(4, 5)));
    }
}
