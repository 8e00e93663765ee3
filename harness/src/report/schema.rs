//! The CSV schema of a comparison: every column name that a writer and a reader share, typed, so
//! that headers, rows and readers all take their names from one definition here.
//!
//! Retrieval metrics are columns `<direction>_<metric>` (`text_to_item_mrr`) in `runs.csv` and
//! `epochs.csv`; `summary.csv` holds `<direction>_<metric>_<statistic>` per metric column and
//! `<direction>_<paired statistic>` per direction.

use std::fmt;

use models::{DirectionMetrics, Evaluation};

/// Declares a fieldless enum whose variants name columns (or parts of names), with `ALL` in
/// column order, `name()` and `index()` (the position in `ALL`).
macro_rules! named {
    ($(#[$doc:meta])* $enum:ident { $($(#[$variant_doc:meta])* $variant:ident => $name:literal,)+ }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $enum {
            $($(#[$variant_doc])* $variant,)+
        }

        impl $enum {
            /// Every variant, in column order.
            pub const ALL: &'static [$enum] = &[$($enum::$variant,)+];

            /// The name as it stands in the CSV files.
            pub const fn name(self) -> &'static str {
                match self {
                    $($enum::$variant => $name,)+
                }
            }

            /// The position in [`Self::ALL`].
            pub const fn index(self) -> usize {
                self as usize
            }
        }
    };
}

named! {
    /// A retrieval direction (what queries what); its name prefixes metric columns and names
    /// the columns of a run's `reciprocal_ranks.csv`.
    Direction {
        TextToItem => "text_to_item",
        ItemToText => "item_to_text",
    }
}

impl Direction {
    /// This direction's metrics in an evaluation.
    pub fn of(self, evaluation: &Evaluation) -> &DirectionMetrics {
        match self {
            Direction::TextToItem => &evaluation.text_to_item,
            Direction::ItemToText => &evaluation.item_to_text,
        }
    }
}

named! {
    /// A retrieval metric of one direction; its name ends metric columns.
    Metric {
        Mrr => "mrr",
        R1 => "r1",
        R5 => "r5",
        R10 => "r10",
        MeanRank => "mean_rank",
    }
}

impl Metric {
    /// Whether a larger value is better (ranks are better when smaller).
    pub fn higher_is_better(self) -> bool {
        self != Metric::MeanRank
    }

    /// This metric's value among a direction's metrics.
    pub fn of(self, metrics: &DirectionMetrics) -> f64 {
        match self {
            Metric::Mrr => metrics.mrr,
            Metric::R1 => metrics.recall_at_1,
            Metric::R5 => metrics.recall_at_5,
            Metric::R10 => metrics.recall_at_10,
            Metric::MeanRank => metrics.mean_rank,
        }
    }
}

/// A metric of one direction as a column, `<direction>_<metric>`; its `Display` is the name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricColumn {
    pub direction: Direction,
    pub metric: Metric,
}

impl MetricColumn {
    /// Text->item MRR: the reference's headline metric, shown in tables and plots.
    pub const HEADLINE: MetricColumn = MetricColumn {
        direction: Direction::TextToItem,
        metric: Metric::Mrr,
    };

    /// Every metric column in column order: all metrics of one direction, then the next.
    pub fn all() -> impl Iterator<Item = MetricColumn> {
        Direction::ALL.iter().flat_map(|&direction| {
            Metric::ALL
                .iter()
                .map(move |&metric| MetricColumn { direction, metric })
        })
    }

    /// The column a name denotes, if it is a metric column.
    pub fn parse(name: &str) -> Option<MetricColumn> {
        MetricColumn::all().find(|column| column.to_string() == name)
    }

    /// The position in [`MetricColumn::all`].
    pub fn index(self) -> usize {
        self.direction.index() * Metric::ALL.len() + self.metric.index()
    }

    /// This column's value in an evaluation.
    pub fn of(self, evaluation: &Evaluation) -> f64 {
        self.metric.of(self.direction.of(evaluation))
    }
}

impl fmt::Display for MetricColumn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}_{}", self.direction.name(), self.metric.name())
    }
}

named! {
    /// The sampler of a run: the columns that open `runs.csv` (all) and `summary.csv`
    /// ([`SamplerField::Label`], then [`SamplerField::SUMMARY`]).
    SamplerField {
        /// The sampler's label on the command line: the key of every report row.
        Label => "sampler",
        Plugin => "plugin",
        Version => "plugin_version",
        Abi => "plugin_abi",
        Config => "sampler_config",
    }
}

impl SamplerField {
    /// The fields `summary.csv` copies after the label.
    pub const SUMMARY: [SamplerField; 3] = [
        SamplerField::Plugin,
        SamplerField::Version,
        SamplerField::Config,
    ];
}

named! {
    /// Protocol and environment of a comparison: the columns that close every `runs.csv` row.
    ContextField {
        ProtocolVersion => "protocol_version",
        Dataset => "dataset",
        DatasetFingerprint => "dataset_fingerprint",
        HarnessVersion => "harness_version",
        LibtorchVersion => "libtorch_version",
        Device => "device",
        Threads => "threads",
        Epochs => "epochs",
        BatchSize => "batch_size",
        DropLast => "drop_last",
        LearningRate => "learning_rate",
        WeightDecay => "weight_decay",
        Temperature => "temperature",
        GradClipNorm => "grad_clip_norm",
    }
}

impl ContextField {
    /// The fields copied into every `summary.csv` row, which must agree for two summaries to be
    /// comparable.
    pub const COMPARABLE: [ContextField; 5] = [
        ContextField::ProtocolVersion,
        ContextField::Dataset,
        ContextField::DatasetFingerprint,
        ContextField::Epochs,
        ContextField::BatchSize,
    ];
}

/// `runs.csv`, `epochs.csv`: the seed of the run.
pub const SEED: &str = "seed";
/// `epochs.csv`: the epoch, from 1.
pub const EPOCH: &str = "epoch";
/// Mean realised hard share: of a run's epochs in `runs.csv`, of an epoch's batches in
/// `epochs.csv` (and `_q1`..`_q4` by quarter of the epoch there).
pub const REALISED_HARD_SHARE: &str = "realised_hard_share";
/// Share of in-batch negative pairs whose descriptions are near-duplicates (probable false
/// negatives): of an epoch's pairs in `epochs.csv`, the mean over a run's epochs in `runs.csv`;
/// `summary.csv` holds its mean over seeds (`false_negative_share_mean`).
pub const FALSE_NEGATIVE_SHARE: &str = "false_negative_share";
/// The description cosine at or above which a pair counts towards [`FALSE_NEGATIVE_SHARE`], next
/// to it in every file.
pub const FALSE_NEGATIVE_COSINE: &str = "false_negative_cosine";
/// `summary.csv`: whether the row's sampler is the comparison's baseline.
pub const BASELINE: &str = "baseline";
/// `summary.csv`: how many seeds the sampler ran.
pub const N_SEEDS: &str = "n_seeds";

named! {
    /// A statistic over seeds of one metric column in `summary.csv`.
    SeedStat {
        Mean => "mean",
        Std => "std",
        Ci95Low => "ci95_low",
        Ci95High => "ci95_high",
        GainPct => "gain_pct",
    }
}

impl SeedStat {
    /// The `summary.csv` column of this statistic of `metric` (a [`MetricColumn`] or its name).
    pub fn column(self, metric: impl fmt::Display) -> String {
        format!("{metric}_{}", self.name())
    }
}

named! {
    /// A statistic of the paired comparison with the baseline in `summary.csv`, per direction.
    PairedStat {
        MrrDiff => "mrr_diff",
        MrrDiffCi95Low => "mrr_diff_ci95_low",
        MrrDiffCi95High => "mrr_diff_ci95_high",
        PValue => "p_value",
        PHolm => "p_holm",
        Significant => "significant",
        SeedsWon => "seeds_won",
    }
}

impl PairedStat {
    /// The `summary.csv` column of this statistic for `direction`.
    pub fn column(self, direction: Direction) -> String {
        format!("{}_{}", direction.name(), self.name())
    }
}

named! {
    /// Columns that hold timings, or shares derived from them: they differ between otherwise
    /// identical runs.
    Timing {
        Wall => "wall_seconds",
        Sampler => "sampler_seconds",
        Train => "train_seconds",
        Eval => "eval_seconds",
        OverheadShare => "overhead_share",
        Epoch => "epoch_seconds",
        EpochSampler => "epoch_sampler_seconds",
        EpochTrain => "epoch_train_seconds",
        EpochEval => "epoch_eval_seconds",
        EpochModelNeighbours => "epoch_model_neighbours_seconds",
    }
}

impl Timing {
    /// Whether `column` holds a timing.
    pub fn is_timing(column: &str) -> bool {
        Timing::ALL.iter().any(|timing| timing.name() == column)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_columns_name_direction_then_metric_and_parse_back() {
        let names: Vec<String> = MetricColumn::all().map(|c| c.to_string()).collect();
        assert_eq!(names[0], "text_to_item_mrr");
        assert_eq!(names[4], "text_to_item_mean_rank");
        assert_eq!(names[5], "item_to_text_mrr");
        assert_eq!(names.len(), 10);
        for (index, column) in MetricColumn::all().enumerate() {
            assert_eq!(column.index(), index);
            assert_eq!(MetricColumn::parse(&column.to_string()), Some(column));
        }
        assert_eq!(MetricColumn::parse("best_text_to_item_mrr"), None);
        assert_eq!(MetricColumn::parse("text_to_item"), None);
    }

    #[test]
    fn ranks_are_better_when_smaller() {
        let better_higher: Vec<bool> = Metric::ALL.iter().map(|m| m.higher_is_better()).collect();
        assert_eq!(better_higher, [true, true, true, true, false]);
    }

    #[test]
    fn summary_columns_append_the_statistic() {
        assert_eq!(
            SeedStat::GainPct.column(MetricColumn::HEADLINE),
            "text_to_item_mrr_gain_pct"
        );
        assert_eq!(
            PairedStat::PHolm.column(Direction::ItemToText),
            "item_to_text_p_holm"
        );
        assert!(Timing::is_timing("epoch_eval_seconds") && !Timing::is_timing("epoch"));
    }
}
