use serde::{Deserialize, Serialize};

/// What a sampler did in one epoch, reported to the harness for logs and checks.
///
/// `hard_ratio` and `hardness_k` are the share of each batch the sampler intends to fill with
/// a pivot and its nearest neighbours, and how many neighbours it draws from; both are 0 for a
/// purely random epoch. The harness measures the realised share against them.
///
/// `max_similarity`, when set, promises false-negative control: no item of a batch has a
/// description cosine at or above it with the batch's first item (its pivot), unless every item
/// left unplaced after that batch is that similar to the pivot too
/// ([`crate::contract::check_similarity_cap`]). Neighbours above the cap then do not count
/// towards the hard promise. The key is left out of the JSON when unset, so notes without a cap
/// read and write as before.
///
/// `table` (ABI 1.1) names the table whose rows the hard groups come from: the description
/// neighbour table (the default, left out of the JSON) or `model_confusions`, the model's
/// confusion table of the epoch's inputs; the harness checks `hardness_k` and measures the
/// realised share against it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EpochNote {
    /// Short label of the active behaviour, e.g. `random`, `hard`, `stage 2`.
    pub stage: String,
    pub hard_ratio: f64,
    pub hardness_k: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_similarity: Option<f64>,
    #[serde(default, skip_serializing_if = "HardTable::is_text")]
    pub table: HardTable,
}

/// Which neighbour table an epoch's hard groups come from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HardTable {
    /// The description-embedding neighbour table (`neighbours`).
    #[default]
    Text,
    /// The model's confusion table (`model_confusions`, ABI 1.1).
    ModelConfusions,
}

impl HardTable {
    fn is_text(&self) -> bool {
        *self == HardTable::Text
    }
}

impl EpochNote {
    /// A purely random epoch.
    pub fn random() -> Self {
        EpochNote {
            stage: "random".into(),
            hard_ratio: 0.0,
            hardness_k: 0,
            max_similarity: None,
            table: HardTable::Text,
        }
    }

    /// An epoch of semantics-aware batches.
    pub fn hard(stage: impl Into<String>, hard_ratio: f64, hardness_k: usize) -> Self {
        EpochNote {
            stage: stage.into(),
            hard_ratio,
            hardness_k,
            max_similarity: None,
            table: HardTable::Text,
        }
    }

    /// The same note with its hard groups drawn from `table`.
    pub fn from_table(self, table: HardTable) -> Self {
        EpochNote { table, ..self }
    }

    /// The same note with a false-negative cap (`None`: no cap).
    pub fn with_max_similarity(self, max_similarity: Option<f64>) -> Self {
        EpochNote {
            max_similarity,
            ..self
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_appears_in_the_json_only_when_set() {
        let plain = EpochNote::hard("hard", 0.5, 100);
        let json = serde_json::to_string(&plain).unwrap();
        assert_eq!(
            json,
            r#"{"stage":"hard","hard_ratio":0.5,"hardness_k":100}"#
        );
        assert_eq!(serde_json::from_str::<EpochNote>(&json).unwrap(), plain);
        let capped = plain.with_max_similarity(Some(0.95));
        let json = serde_json::to_string(&capped).unwrap();
        assert!(json.ends_with(r#","max_similarity":0.95}"#), "{json}");
        assert_eq!(serde_json::from_str::<EpochNote>(&json).unwrap(), capped);
    }

    #[test]
    fn the_table_appears_in_the_json_only_when_not_the_text_table() {
        let model = EpochNote::hard("ance", 0.5, 30).from_table(HardTable::ModelConfusions);
        let json = serde_json::to_string(&model).unwrap();
        assert!(json.ends_with(r#","table":"model_confusions"}"#), "{json}");
        assert_eq!(serde_json::from_str::<EpochNote>(&json).unwrap(), model);
    }
}
