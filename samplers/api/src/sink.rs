use crate::SamplerError;
use crate::abi::RawBatches;

/// Host-owned memory for one epoch of batches: room for every item once.
#[derive(Debug, Clone)]
pub struct EpochBuffers {
    items: Vec<u32>,
    batch_ends: Vec<u32>,
}

impl EpochBuffers {
    /// Buffers for an epoch over `n_items` items.
    pub fn new(n_items: usize) -> Self {
        EpochBuffers {
            items: vec![0; n_items],
            batch_ends: vec![0; n_items],
        }
    }

    /// An empty sink writing into these buffers.
    pub fn sink(&mut self) -> BatchSink<'_> {
        BatchSink::new(&mut self.items, &mut self.batch_ends)
    }
}

/// Where a sampler writes an epoch: a flat list of items plus the end offset of each batch.
///
/// The memory belongs to the caller, so the same type serves in-process samplers and plugins
/// that fill a host buffer across the ABI.
#[derive(Debug)]
pub struct BatchSink<'a> {
    items: &'a mut [u32],
    batch_ends: &'a mut [u32],
    items_len: usize,
    n_batches: usize,
}

impl<'a> BatchSink<'a> {
    /// An empty sink over caller-owned buffers (their lengths are the capacities).
    pub fn new(items: &'a mut [u32], batch_ends: &'a mut [u32]) -> Self {
        BatchSink {
            items,
            batch_ends,
            items_len: 0,
            n_batches: 0,
        }
    }

    /// Appends one batch; empty batches are ignored.
    pub fn push_batch(&mut self, batch: &[u32]) -> Result<(), SamplerError> {
        if batch.is_empty() {
            return Ok(());
        }
        let end = self.items_len + batch.len();
        if end > self.items.len() || self.n_batches == self.batch_ends.len() {
            return Err(SamplerError::Capacity(format!(
                "room for {} items in {} batches; a batch of {} does not fit after {} items",
                self.items.len(),
                self.batch_ends.len(),
                batch.len(),
                self.items_len
            )));
        }
        self.items[self.items_len..end].copy_from_slice(batch);
        self.batch_ends[self.n_batches] = end as u32;
        self.items_len = end;
        self.n_batches += 1;
        Ok(())
    }

    /// Number of batches written.
    pub fn n_batches(&self) -> usize {
        self.n_batches
    }

    /// Number of items written over all batches.
    pub fn items_len(&self) -> usize {
        self.items_len
    }

    /// Batch `index` (panics if out of range).
    pub fn batch(&self, index: usize) -> &[u32] {
        let start = if index == 0 {
            0
        } else {
            self.batch_ends[index - 1] as usize
        };
        &self.items[start..self.batch_ends[index] as usize]
    }

    /// The batches in order.
    pub fn batches(&self) -> impl ExactSizeIterator<Item = &[u32]> + '_ {
        (0..self.n_batches).map(|index| self.batch(index))
    }

    /// Copies the batches out, for callers that keep several epochs.
    pub fn to_vecs(&self) -> Vec<Vec<u32>> {
        self.batches().map(<[u32]>::to_vec).collect()
    }

    /// Forgets what was written, keeping the buffers.
    pub fn clear(&mut self) {
        self.items_len = 0;
        self.n_batches = 0;
    }

    /// Describes the free buffers for a plugin to fill across the ABI.
    pub fn as_raw(&mut self) -> RawBatches {
        RawBatches {
            items: self.items.as_mut_ptr(),
            items_capacity: self.items.len() as u64,
            items_len: self.items_len as u64,
            batch_ends: self.batch_ends.as_mut_ptr(),
            batch_ends_capacity: self.batch_ends.len() as u64,
            n_batches: self.n_batches as u64,
        }
    }

    /// Takes the lengths a plugin reported after filling [`BatchSink::as_raw`]'s buffers, after
    /// checking that they fit the buffers and that batch ends rise strictly to `items_len`.
    pub fn accept_raw(&mut self, raw: &RawBatches) -> Result<(), String> {
        let (items_len, n_batches) = (raw.items_len as usize, raw.n_batches as usize);
        if items_len > self.items.len() || n_batches > self.batch_ends.len() {
            return Err(format!(
                "reported {items_len} items in {n_batches} batches, beyond the buffers' {} and {}",
                self.items.len(),
                self.batch_ends.len()
            ));
        }
        let mut previous = 0usize;
        for (index, &end) in self.batch_ends[..n_batches].iter().enumerate() {
            let end = end as usize;
            if end <= previous || end > items_len {
                return Err(format!(
                    "batch {index} ends at offset {end}, after {previous} (items written: {items_len})"
                ));
            }
            previous = end;
        }
        if previous != items_len {
            return Err(format!(
                "batches end at offset {previous} but {items_len} items were written"
            ));
        }
        self.items_len = items_len;
        self.n_batches = n_batches;
        Ok(())
    }

    /// Rebuilds a sink over a host's buffers on the plugin side.
    ///
    /// # Safety
    /// The pointers in `raw` must be valid for writes of their stated capacities for `'a`.
    pub unsafe fn from_raw(raw: &RawBatches) -> BatchSink<'a> {
        // SAFETY: guaranteed by the caller; a zero capacity never dereferences the pointer.
        let items = unsafe { raw_slice(raw.items, raw.items_capacity as usize) };
        // SAFETY: as above.
        let batch_ends = unsafe { raw_slice(raw.batch_ends, raw.batch_ends_capacity as usize) };
        BatchSink::new(items, batch_ends)
    }
}

/// # Safety
/// `ptr` must be valid for `len` writable `u32`s for `'a`, or `len` must be 0.
unsafe fn raw_slice<'a>(ptr: *mut u32, len: usize) -> &'a mut [u32] {
    if len == 0 || ptr.is_null() {
        return &mut [];
    }
    // SAFETY: guaranteed by the caller.
    unsafe { std::slice::from_raw_parts_mut(ptr, len) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sink_records_batches_and_refuses_overflow() {
        let mut buffers = EpochBuffers::new(5);
        let mut sink = buffers.sink();
        sink.push_batch(&[4, 2]).unwrap();
        sink.push_batch(&[]).unwrap();
        sink.push_batch(&[0, 1, 3]).unwrap();
        assert_eq!(sink.to_vecs(), vec![vec![4, 2], vec![0, 1, 3]]);
        assert!(matches!(
            sink.push_batch(&[0]),
            Err(SamplerError::Capacity(_))
        ));
    }

    #[test]
    fn accept_raw_rejects_inconsistent_lengths() {
        let mut buffers = EpochBuffers::new(4);
        let mut sink = buffers.sink();
        let mut raw = sink.as_raw();
        // SAFETY: `raw` points into `buffers`, which outlive these writes.
        unsafe {
            *raw.items = 1;
            *raw.items.add(1) = 0;
            *raw.batch_ends = 2;
        }
        raw.items_len = 2;
        raw.n_batches = 1;
        assert!(sink.accept_raw(&raw).is_ok());
        assert_eq!(sink.to_vecs(), vec![vec![1, 0]]);
        raw.items_len = 3;
        assert!(
            sink.accept_raw(&raw)
                .unwrap_err()
                .contains("end at offset 2")
        );
        raw.items_len = 9;
        assert!(
            sink.accept_raw(&raw)
                .unwrap_err()
                .contains("beyond the buffers")
        );
    }
}
