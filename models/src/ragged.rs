//! Rows of varying length (a molecule's atoms, bonds or fingerprint bits) whose elements are
//! staged on the training device once and gathered for a batch there, with index tensor ops:
//! collating a batch copies nothing between host and device and reads nothing back.

use tch::{Device, Kind, Tensor};

/// The rows of a split picked for one batch, in batch order: on the host (batch sizes come from
/// there, so shaping a batch needs no device read) and as an int64 index on the device.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BatchRows<'a> {
    pub host: &'a [usize],
    pub index: &'a Tensor,
}

/// `values` copied to `device` without waiting for it: a blocking copy to a GPU first waits
/// until the GPU has finished all work queued before, which would stall every training step.
pub(crate) fn queued_copy(values: &[i64], device: Device) -> Tensor {
    Tensor::from_slice(values).to_device_(device, Kind::Int64, true, false)
}

/// Split rows as an int64 index on `device` (a [`queued_copy`]).
pub(crate) fn row_index(rows: &[usize], device: Device) -> Tensor {
    // Vec lengths fit in i64 on every 64-bit target libtorch supports.
    let rows: Vec<i64> = rows.iter().map(|&row| row as i64).collect();
    queued_copy(&rows, device)
}

/// Where each row's elements lie in arrays holding all rows' elements one row after another.
#[derive(Debug)]
pub(crate) struct RaggedRows {
    /// Row `r` holds elements `bounds[r]..bounds[r + 1]` (host copy).
    bounds: Vec<usize>,
    /// First element of every row, on the device.
    starts: Tensor,
    /// Elements of every row, on the device.
    counts: Tensor,
}

/// The elements of a batch's rows, one row after another.
#[derive(Debug)]
pub(crate) struct Gathered {
    /// Index of every element in the arrays of all rows' elements.
    pub elements: Tensor,
    /// Position in the batch of every element's row.
    pub position: Tensor,
    /// Where each batch position's elements start among the batch's elements.
    pub batch_starts: Tensor,
    /// Elements in the batch.
    pub total: i64,
}

impl RaggedRows {
    /// Rows whose element counts are `counts`, indexed on `device`.
    pub fn new(counts: impl IntoIterator<Item = usize>, device: Device) -> Self {
        let mut bounds = vec![0];
        bounds.extend(counts.into_iter().scan(0, |end, count| {
            *end += count;
            Some(*end)
        }));
        // Vec lengths fit in i64 on every 64-bit target libtorch supports.
        let bounds_tensor =
            Tensor::from_slice(&bounds.iter().map(|&b| b as i64).collect::<Vec<_>>())
                .to_device(device);
        let rows = bounds.len() as i64 - 1;
        RaggedRows {
            starts: bounds_tensor.narrow(0, 0, rows),
            counts: bounds_tensor.narrow(0, 1, rows) - bounds_tensor.narrow(0, 0, rows),
            bounds,
        }
    }

    /// The elements of `rows` (which must be rows of this table), found on the device.
    pub fn gather(&self, rows: BatchRows<'_>) -> Gathered {
        let total: usize = rows
            .host
            .iter()
            .map(|&row| self.bounds[row + 1] - self.bounds[row])
            .sum();
        let total = total as i64;
        let counts = self.counts.index_select(0, rows.index);
        let batch_starts = counts.cumsum(0, Kind::Int64) - &counts;
        // Giving the size keeps `repeat_interleave` from reading it back from the device.
        let position = Tensor::repeat_interleave(&counts, total);
        let shift = self.starts.index_select(0, rows.index) - &batch_starts;
        let elements = Tensor::arange(total, (Kind::Int64, counts.device()))
            + shift.index_select(0, &position);
        Gathered {
            elements,
            position,
            batch_starts,
            total,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(tensor: &Tensor) -> Vec<i64> {
        Vec::<i64>::try_from(tensor).unwrap()
    }

    #[test]
    fn gathers_rows_in_batch_order_with_empty_and_repeated_rows() {
        let table = RaggedRows::new([2, 0, 3, 1], Device::Cpu);
        let host = [2, 1, 0, 2, 3];
        let index = Tensor::from_slice(&[2i64, 1, 0, 2, 3]);
        let gathered = table.gather(BatchRows {
            host: &host,
            index: &index,
        });
        assert_eq!(gathered.total, 9);
        assert_eq!(values(&gathered.elements), [2, 3, 4, 0, 1, 2, 3, 4, 5]);
        assert_eq!(values(&gathered.position), [0, 0, 0, 2, 2, 3, 3, 3, 4]);
        assert_eq!(values(&gathered.batch_starts), [0, 3, 3, 5, 8]);
    }

    #[test]
    fn an_empty_batch_gathers_nothing() {
        let table = RaggedRows::new([2, 1], Device::Cpu);
        let index = Tensor::from_slice::<i64>(&[]);
        let gathered = table.gather(BatchRows {
            host: &[],
            index: &index,
        });
        assert_eq!(gathered.total, 0);
        assert_eq!(gathered.elements.size(), [0]);
        assert_eq!(gathered.position.size(), [0]);
    }
}
