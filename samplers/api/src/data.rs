use crate::abi::RawInputs;
use crate::{HardTable, SamplerError};

/// Largest deviation from unit L2 norm accepted in an embedding row.
const NORM_TOLERANCE: f32 = 1e-3;

/// Everything a sampler may read: sizes, seed, description embeddings, the neighbour table and
/// (ABI 1.1, for samplers that ask) the latest tables computed from the model under training.
#[derive(Debug, Clone, Copy)]
pub struct SamplerData<'a> {
    n_items: usize,
    batch_size: usize,
    seed: u64,
    drop_last: bool,
    embeddings: &'a [f32],
    dim: usize,
    neighbours: &'a [u32],
    k: usize,
    model: Option<ModelTables<'a>>,
}

/// Neighbour tables computed from the model under training (ABI 1.1), both row-major
/// `n_items x k`, self excluded: each item's nearest items in the model's item-embedding space,
/// and each item's most confusable items (the items whose embeddings score highest against its
/// description's embedding, its own item left out), best first, ties to the lower id.
#[derive(Debug, Clone, Copy)]
pub struct ModelTables<'a> {
    neighbours: &'a [u32],
    confusions: &'a [u32],
    k: usize,
    after_epoch: u32,
}

impl<'a> ModelTables<'a> {
    /// Tables computed after the evaluation of epoch `after_epoch` (at least 1), `k` wide
    /// (at least 1). Their contents are checked by [`SamplerData::with_model_tables`].
    pub fn new(neighbours: &'a [u32], confusions: &'a [u32], k: usize, after_epoch: u32) -> Self {
        ModelTables {
            neighbours,
            confusions,
            k,
            after_epoch,
        }
    }

    /// Items per row.
    pub fn k(&self) -> usize {
        self.k
    }

    /// The epoch after whose evaluation the tables were computed.
    pub fn after_epoch(&self) -> u32 {
        self.after_epoch
    }

    /// The whole nearest-items table, row-major.
    pub fn neighbours(&self) -> &'a [u32] {
        self.neighbours
    }

    /// The whole confusion table, row-major.
    pub fn confusions(&self) -> &'a [u32] {
        self.confusions
    }

    /// `item`'s nearest items in the model's item space, nearest first.
    pub fn neighbours_of(&self, item: usize) -> &'a [u32] {
        &self.neighbours[item * self.k..(item + 1) * self.k]
    }

    /// The items the model most confuses with `item` given its description, most first.
    pub fn confusions_of(&self, item: usize) -> &'a [u32] {
        &self.confusions[item * self.k..(item + 1) * self.k]
    }
}

impl<'a> SamplerData<'a> {
    /// Checks every input and names the first bad one.
    ///
    /// `embeddings` is row-major `n_items x dim` with L2-normalised rows; `neighbours` is
    /// row-major `n_items x k`, nearest first, self excluded (`k` may be 0).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        n_items: usize,
        batch_size: usize,
        seed: u64,
        drop_last: bool,
        embeddings: &'a [f32],
        dim: usize,
        neighbours: &'a [u32],
        k: usize,
    ) -> Result<Self, SamplerError> {
        let data = SamplerData {
            n_items,
            batch_size,
            seed,
            drop_last,
            embeddings,
            dim,
            neighbours,
            k,
            model: None,
        };
        data.check_shape()?;
        data.check_embeddings()?;
        check_table("neighbours", neighbours, n_items, k)?;
        Ok(data)
    }

    /// The same inputs with the model's tables (checked: shapes, ids in range, never the item
    /// itself).
    pub fn with_model_tables(self, tables: ModelTables<'a>) -> Result<Self, SamplerError> {
        let n = self.n_items;
        check_model_shape(&tables, n)?;
        check_table("model_neighbours", tables.neighbours, n, tables.k)?;
        check_table("model_confusions", tables.confusions, n, tables.k)?;
        Ok(SamplerData {
            model: Some(tables),
            ..self
        })
    }

    /// The latest tables from the model under training, if the sampler asked for them and one
    /// refresh has happened.
    pub fn model_tables(&self) -> Option<ModelTables<'a>> {
        self.model
    }

    /// The same inputs seen through the table an epoch note names: for
    /// [`HardTable::ModelConfusions`], the model's confusion table stands in for the neighbour
    /// table (so hard batching, its checks and its measures read it). Fails when the note
    /// names model tables that are absent.
    pub fn through(&self, table: HardTable) -> Result<Self, SamplerError> {
        match (table, self.model) {
            (HardTable::Text, _) => Ok(*self),
            (HardTable::ModelConfusions, Some(model)) => Ok(SamplerData {
                neighbours: model.confusions,
                k: model.k,
                ..*self
            }),
            (HardTable::ModelConfusions, None) => Err(SamplerError::parameter(
                "model_confusions",
                "the epoch note names the model's confusion table, but there is none yet",
            )),
        }
    }

    /// Checks sizes only (O(1)): what a plugin re-checks on every call from the host.
    fn check_shape(&self) -> Result<(), SamplerError> {
        let &SamplerData {
            n_items,
            batch_size,
            embeddings,
            dim,
            neighbours,
            k,
            ..
        } = self;
        if n_items == 0 {
            return Err(SamplerError::parameter(
                "n_items",
                "the dataset has no items",
            ));
        }
        if n_items > u32::MAX as usize {
            return Err(SamplerError::parameter(
                "n_items",
                format!("{n_items} items exceed the ABI's u32 item ids"),
            ));
        }
        if batch_size == 0 {
            return Err(SamplerError::parameter("batch_size", "must be at least 1"));
        }
        if batch_size > n_items {
            return Err(SamplerError::parameter(
                "batch_size",
                format!("{batch_size} exceeds the number of items ({n_items})"),
            ));
        }
        if dim == 0 {
            return Err(SamplerError::parameter(
                "embedding_dim",
                "must be at least 1",
            ));
        }
        if embeddings.len() != n_items * dim {
            return Err(SamplerError::parameter(
                "embeddings",
                format!(
                    "expected {n_items} x {dim} values, got {}",
                    embeddings.len()
                ),
            ));
        }
        if k >= n_items {
            return Err(SamplerError::parameter(
                "neighbours_k",
                format!("{k} must be smaller than the number of items ({n_items})"),
            ));
        }
        if neighbours.len() != n_items * k {
            return Err(SamplerError::parameter(
                "neighbours",
                format!("expected {n_items} x {k} ids, got {}", neighbours.len()),
            ));
        }
        Ok(())
    }

    fn check_embeddings(&self) -> Result<(), SamplerError> {
        for (row, values) in self.embeddings.chunks_exact(self.dim).enumerate() {
            if values.iter().any(|v| !v.is_finite()) {
                return Err(SamplerError::parameter(
                    "embeddings",
                    format!("row {row} has a NaN or infinite value"),
                ));
            }
            let norm = values.iter().map(|v| v * v).sum::<f32>().sqrt();
            if norm == 0.0 {
                return Err(SamplerError::parameter(
                    "embeddings",
                    format!("row {row} has zero norm"),
                ));
            }
            if (norm - 1.0).abs() > NORM_TOLERANCE {
                return Err(SamplerError::parameter(
                    "embeddings",
                    format!("row {row} is not L2-normalised (norm {norm})"),
                ));
            }
        }
        Ok(())
    }

    /// The inputs as they cross the ABI; the slices must outlive every use of the result.
    pub fn to_raw(&self) -> RawInputs {
        RawInputs {
            n_items: self.n_items as u64,
            batch_size: self.batch_size as u64,
            seed: self.seed,
            drop_last: u32::from(self.drop_last),
            _reserved: 0,
            embeddings: self.embeddings.as_ptr(),
            embedding_dim: self.dim as u64,
            neighbours: self.neighbours.as_ptr(),
            neighbours_k: self.k as u64,
            model_neighbours: self
                .model
                .map_or(std::ptr::null(), |m| m.neighbours.as_ptr()),
            model_confusions: self
                .model
                .map_or(std::ptr::null(), |m| m.confusions.as_ptr()),
            model_k: self.model.map_or(0, |m| m.k as u64),
            model_epoch: self.model.map_or(0, |m| m.after_epoch),
            _reserved_model: 0,
        }
    }

    /// Rebuilds the inputs on the plugin side, re-checking sizes (the contents were checked by
    /// the host once, in [`SamplerData::new`]).
    ///
    /// # Safety
    /// The pointers in `raw` must be valid for the sizes it states, for the lifetime `'a`.
    pub unsafe fn from_raw(raw: &RawInputs) -> Result<Self, SamplerError> {
        let n_items = usize::try_from(raw.n_items)
            .map_err(|_| SamplerError::parameter("n_items", "does not fit this platform"))?;
        let dim = raw.embedding_dim as usize;
        let k = raw.neighbours_k as usize;
        let embeddings: &'a [f32] = if raw.embeddings.is_null() {
            &[]
        } else {
            // SAFETY: the host guarantees `n_items * dim` readable floats for `'a`.
            unsafe { std::slice::from_raw_parts(raw.embeddings, n_items.saturating_mul(dim)) }
        };
        let neighbours: &'a [u32] = if raw.neighbours.is_null() || k == 0 {
            &[]
        } else {
            // SAFETY: the host guarantees `n_items * k` readable ids for `'a`.
            unsafe { std::slice::from_raw_parts(raw.neighbours, n_items.saturating_mul(k)) }
        };
        let model_k = raw.model_k as usize;
        let model =
            if model_k == 0 || raw.model_neighbours.is_null() || raw.model_confusions.is_null() {
                None
            } else {
                let len = n_items.saturating_mul(model_k);
                // SAFETY: a 1.1 host guarantees `n_items * model_k` readable ids in each table for `'a`.
                let (neighbours, confusions) = unsafe {
                    (
                        std::slice::from_raw_parts(raw.model_neighbours, len),
                        std::slice::from_raw_parts(raw.model_confusions, len),
                    )
                };
                Some(ModelTables::new(
                    neighbours,
                    confusions,
                    model_k,
                    raw.model_epoch,
                ))
            };
        let data = SamplerData {
            n_items,
            batch_size: raw.batch_size as usize,
            seed: raw.seed,
            drop_last: raw.drop_last != 0,
            embeddings,
            dim,
            neighbours,
            k,
            model,
        };
        data.check_shape()?;
        if let Some(model) = &model {
            check_model_shape(model, n_items)?;
        }
        Ok(data)
    }

    /// Number of items; item ids are `0..n_items`.
    pub fn n_items(&self) -> usize {
        self.n_items
    }

    /// Items per batch (the last batch may be shorter unless `drop_last`).
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// The run's seed; combine it with the epoch for per-epoch randomness.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Whether the short last batch of an epoch is left out.
    pub fn drop_last(&self) -> bool {
        self.drop_last
    }

    /// Embedding width.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The L2-normalised description embedding of `item`.
    pub fn embedding(&self, item: usize) -> &'a [f32] {
        &self.embeddings[item * self.dim..(item + 1) * self.dim]
    }

    /// The cosine of two items' descriptions: the dot product of their unit embeddings.
    pub fn cosine(&self, a: usize, b: usize) -> f32 {
        crate::similarity::dot(self.embedding(a), self.embedding(b))
    }

    /// Neighbours per item in the table.
    pub fn k(&self) -> usize {
        self.k
    }

    /// The `k` nearest neighbours of `item`, nearest first, self excluded.
    pub fn neighbours_of(&self, item: usize) -> &'a [u32] {
        &self.neighbours[item * self.k..(item + 1) * self.k]
    }
}

/// Sizes of model tables for `n_items` items.
fn check_model_shape(tables: &ModelTables<'_>, n_items: usize) -> Result<(), SamplerError> {
    if tables.k == 0 || tables.k >= n_items {
        return Err(SamplerError::parameter(
            "model_k",
            format!(
                "{} must be at least 1 and smaller than the number of items ({n_items})",
                tables.k
            ),
        ));
    }
    if tables.after_epoch == 0 {
        return Err(SamplerError::parameter(
            "model_epoch",
            "tables must name the epoch they were computed after (at least 1)",
        ));
    }
    for (name, table) in [
        ("model_neighbours", tables.neighbours),
        ("model_confusions", tables.confusions),
    ] {
        if table.len() != n_items * tables.k {
            return Err(SamplerError::parameter(
                name,
                format!("expected {n_items} x {} ids, got {}", tables.k, table.len()),
            ));
        }
    }
    Ok(())
}

/// Every id of the `n_items x k` table `name` is an item, and no row names its own item.
fn check_table(name: &str, table: &[u32], n_items: usize, k: usize) -> Result<(), SamplerError> {
    if k == 0 {
        return Ok(());
    }
    for (item, row) in table.chunks_exact(k).enumerate() {
        for &other in row {
            if other as usize >= n_items {
                return Err(SamplerError::parameter(
                    name,
                    format!("row {item} names item {other}, beyond the {n_items} items"),
                ));
            }
            if other as usize == item {
                return Err(SamplerError::parameter(
                    name,
                    format!("row {item} lists the item itself"),
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(result: Result<SamplerData<'_>, SamplerError>) -> String {
        result.unwrap_err().to_string()
    }

    #[test]
    fn bad_inputs_name_the_parameter() {
        let unit = [1.0f32, 0.0, 0.0, 1.0, 0.6, 0.8];
        let table = [1u32, 2, 0];
        assert!(SamplerData::new(3, 2, 0, false, &unit, 2, &table, 1).is_ok());
        let cases: Vec<(Result<SamplerData<'_>, SamplerError>, &str)> = vec![
            (
                SamplerData::new(0, 1, 0, false, &[], 2, &[], 0),
                "n_items: the dataset has no items",
            ),
            (
                SamplerData::new(3, 0, 0, false, &unit, 2, &[], 0),
                "batch_size: must be at least 1",
            ),
            (
                SamplerData::new(3, 4, 0, false, &unit, 2, &[], 0),
                "batch_size: 4 exceeds the number of items (3)",
            ),
            (
                SamplerData::new(3, 2, 0, false, &unit, 2, &[1, 2, 0, 2, 0, 1, 0, 1, 2], 3),
                "neighbours_k: 3 must be smaller",
            ),
            (
                SamplerData::new(3, 2, 0, false, &unit[..4], 2, &[], 0),
                "embeddings: expected 3 x 2 values, got 4",
            ),
            (
                SamplerData::new(3, 2, 0, false, &unit, 2, &[1, 2], 1),
                "neighbours: expected 3 x 1 ids, got 2",
            ),
            (
                SamplerData::new(3, 2, 0, false, &unit, 2, &[1, 9, 0], 1),
                "neighbours: row 1 names item 9",
            ),
            (
                SamplerData::new(3, 2, 0, false, &unit, 2, &[0, 2, 0], 1),
                "neighbours: row 0 lists the item itself",
            ),
        ];
        for (result, expected) in cases {
            let message = error(result);
            assert!(
                message.starts_with(expected),
                "{message:?} should start with {expected:?}"
            );
        }
    }

    #[test]
    fn bad_embedding_rows_are_named() {
        let nan = [1.0f32, 0.0, f32::NAN, 1.0];
        assert_eq!(
            error(SamplerData::new(2, 1, 0, false, &nan, 2, &[], 0)),
            "embeddings: row 1 has a NaN or infinite value"
        );
        let zero = [0.0f32, 0.0, 0.0, 1.0];
        assert_eq!(
            error(SamplerData::new(2, 1, 0, false, &zero, 2, &[], 0)),
            "embeddings: row 0 has zero norm"
        );
        let long = [1.0f32, 0.0, 3.0, 4.0];
        assert_eq!(
            error(SamplerData::new(2, 1, 0, false, &long, 2, &[], 0)),
            "embeddings: row 1 is not L2-normalised (norm 5)"
        );
    }

    #[test]
    fn raw_round_trip_keeps_everything() {
        let unit = [1.0f32, 0.0, 0.0, 1.0, 0.6, 0.8];
        let table = [1u32, 2, 0];
        let data = SamplerData::new(3, 2, 42, true, &unit, 2, &table, 1).unwrap();
        let raw = data.to_raw();
        // SAFETY: `raw` points into `unit` and `table`, alive for this test.
        let back = unsafe { SamplerData::from_raw(&raw) }.unwrap();
        assert_eq!(
            (
                back.n_items(),
                back.batch_size(),
                back.seed(),
                back.drop_last(),
                back.k()
            ),
            (3, 2, 42, true, 1)
        );
        assert_eq!(back.embedding(2), &[0.6, 0.8]);
        assert_eq!(back.neighbours_of(1), &[2]);
    }
}
