use tch::Tensor;

use crate::Result;
use crate::dropout::Mode;
use crate::metrics::{DirectionMetrics, ranks_of_block};
use crate::model::DualEncoder;
use crate::split_tensors::SplitTensors;

/// Query rows scored at once, bounding the score block to `QUERY_BLOCK x gallery` floats.
const QUERY_BLOCK: i64 = 1024;

/// Retrieval quality on the held-out split, the whole split being the gallery.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// Text queries against the item gallery.
    pub text_to_item: DirectionMetrics,
    /// Item queries against the text gallery.
    pub item_to_text: DirectionMetrics,
}

/// Embeds the split with gradients and dropout off and scores both directions by cosine.
pub(crate) fn evaluate(model: &DualEncoder, split: &SplitTensors) -> Result<Evaluation> {
    let (items, texts) = embed_split(model, split)?;
    tch::no_grad(|| {
        Ok(Evaluation {
            text_to_item: direction_metrics(&texts, &items)?,
            item_to_text: direction_metrics(&items, &texts)?,
        })
    })
}

/// Unit-norm item and text embeddings of the whole split (`n x dim` each, on the model's
/// device), with gradients and dropout off, items in the split's evaluation chunks.
pub(crate) fn embed_split(model: &DualEncoder, split: &SplitTensors) -> Result<(Tensor, Tensor)> {
    tch::no_grad(|| {
        let chunk = split.embedding_chunk();
        let items = (0..split.n)
            .step_by(chunk)
            .map(|first| {
                let batch = split.item_range(first, chunk.min(split.n - first));
                model.embed_items(&batch, &mut Mode::Eval)
            })
            .collect::<Result<Vec<Tensor>>>()?;
        Ok((Tensor::cat(&items, 0), model.embed_texts(&split.texts)?))
    })
}

/// Metrics of `queries` (row `i` pairs with gallery row `i`) against the whole `gallery`.
fn direction_metrics(queries: &Tensor, gallery: &Tensor) -> Result<DirectionMetrics> {
    let n_queries = queries.size()[0];
    let n_gallery = gallery.size()[0] as usize;
    let gallery_t = gallery.transpose(0, 1);
    let mut ranks = Vec::with_capacity(n_queries as usize);
    for first in (0..n_queries).step_by(QUERY_BLOCK as usize) {
        let rows = QUERY_BLOCK.min(n_queries - first);
        let scores = queries
            .narrow(0, first, rows)
            .matmul(&gallery_t)
            .to_device(tch::Device::Cpu)
            .flatten(0, -1);
        let scores = Vec::<f32>::try_from(&scores)?;
        ranks.extend(ranks_of_block(&scores, n_gallery, first as usize)?);
    }
    Ok(DirectionMetrics::from_ranks(&ranks))
}
