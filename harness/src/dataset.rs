//! The paired datasets a comparison can run on, with a content fingerprint for reports.

use fixtures::{PairedData, SyntheticTaskConfig, synthetic_task};

/// Which dataset `--dataset` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DatasetChoice {
    /// The built-in synthetic 5-cluster task, generated in code (see `fixtures::synthetic_task`).
    Synthetic,
}

/// A loaded dataset and the fingerprint of its contents.
#[derive(Debug, Clone)]
pub struct LoadedDataset {
    pub data: PairedData,
    /// 64-bit FNV-1a of every number of both splits, as 16 hex digits.
    pub fingerprint: String,
}

/// Loads or generates the chosen dataset.
pub fn load(choice: DatasetChoice) -> LoadedDataset {
    let data = match choice {
        DatasetChoice::Synthetic => synthetic_task(&SyntheticTaskConfig::default()),
    };
    let fingerprint = fingerprint(&data);
    LoadedDataset { data, fingerprint }
}

/// FNV-1a over the splits' sizes and values: changes whenever any number changes.
pub fn fingerprint(data: &PairedData) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |bytes: &[u8]| {
        for &byte in bytes {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    };
    for split in [&data.train, &data.test] {
        for size in [split.n, split.item_dim, split.text_dim] {
            feed(&(size as u64).to_le_bytes());
        }
        for value in split.items.iter().chain(&split.texts) {
            feed(&value.to_le_bytes());
        }
    }
    format!("{hash:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_tracks_contents() {
        let mut data = load(DatasetChoice::Synthetic).data;
        let before = fingerprint(&data);
        assert_eq!(before, fingerprint(&data));
        data.test.texts[0] += 1e-3;
        assert_ne!(before, fingerprint(&data));
    }
}
