use sampler_api::{BatchSink, EpochNote, EpochResult, SamplerData, SamplerError};

use crate::{HardBatching, shuffled_epoch};

/// How the batches of one stage are made.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Batching {
    /// A seeded shuffle of all items ([`shuffled_epoch`]).
    Random,
    /// Semantics-aware batches ([`HardBatching::fill_epoch`]).
    Hard(HardBatching),
}

/// One stage of a [`Schedule`], in force from `first_epoch` until the next stage begins.
#[derive(Debug, Clone, PartialEq)]
pub struct Stage {
    /// First epoch of the stage (epochs count from 1); a `u64`, so that a stage can begin after
    /// the last `u32` epoch, that is never.
    pub first_epoch: u64,
    pub batching: Batching,
    /// The stage's name in epoch notes.
    pub label: String,
}

/// Batches that change with the epoch: stages, each in force from its first epoch until the
/// next one's. The built-in samplers are presets: [`Schedule::hard`], [`Schedule::curriculum`]
/// and [`Schedule::progressive`].
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    /// Non-empty, `first_epoch` strictly increasing.
    stages: Vec<Stage>,
}

impl Schedule {
    /// A validated schedule: at least one stage, the first from epoch 1, each later one after
    /// the one before, valid hard settings. Errors name the field as in a `stages` list of the
    /// configuration, e.g. `stages[1].hard_ratio`, checking stage after stage.
    pub fn new(stages: Vec<Stage>) -> Result<Self, SamplerError> {
        if stages.is_empty() {
            return Err(SamplerError::parameter(
                "stages",
                "needs at least one stage",
            ));
        }
        let mut previous: Option<&Stage> = None;
        for (index, stage) in stages.iter().enumerate() {
            let out_of_order = match previous {
                None => {
                    (stage.first_epoch != 1).then(|| "the first stage must start at epoch 1".into())
                }
                Some(previous) => (stage.first_epoch <= previous.first_epoch).then(|| {
                    format!(
                        "must come after the previous stage's {}",
                        previous.first_epoch
                    )
                }),
            };
            if let Some(rule) = out_of_order {
                return Err(SamplerError::parameter(
                    format!("stages[{index}].first_epoch"),
                    format!("is {}; {rule}", stage.first_epoch),
                ));
            }
            if let Batching::Hard(hard) = stage.batching {
                hard.validate()
                    .map_err(|error| within_stage(index, error))?;
            }
            previous = Some(stage);
        }
        Ok(Schedule { stages })
    }

    /// The `hard` sampler: hard batches in every epoch, noted as stage `hard`. Errors name
    /// `hard_ratio` or `hardness_k`.
    pub fn hard(hard: HardBatching) -> Result<Self, SamplerError> {
        hard.validate()?;
        Ok(Schedule {
            stages: vec![Stage {
                first_epoch: 1,
                batching: Batching::Hard(hard),
                label: "hard".into(),
            }],
        })
    }

    /// The `curriculum` sampler: random batches through `last_random_epoch` (a warm-up, noted
    /// as stage `random (warm-up)`), hard ones after (stage `hard`); 0 means hard from the
    /// start. Errors name `hard_ratio` or `hardness_k`.
    pub fn curriculum(last_random_epoch: u32, hard: HardBatching) -> Result<Self, SamplerError> {
        hard.validate()?;
        // The warm-up starts at 0, before epoch 1, so that it covers no real epoch when
        // `last_random_epoch` is 0.
        let stages = vec![
            Stage {
                first_epoch: 0,
                batching: Batching::Random,
                label: "random (warm-up)".into(),
            },
            Stage {
                first_epoch: u64::from(last_random_epoch) + 1,
                batching: Batching::Hard(hard),
                label: "hard".into(),
            },
        ];
        Ok(Schedule { stages })
    }

    /// The `progressive` sampler: hard batches whose settings change at the given first epochs,
    /// noted as stage `stage i/n (from epoch e)`. Validated as by [`Schedule::new`].
    pub fn progressive(
        stages: impl ExactSizeIterator<Item = (u32, HardBatching)>,
    ) -> Result<Self, SamplerError> {
        let n_stages = stages.len();
        let stages = stages
            .enumerate()
            .map(|(index, (first_epoch, hard))| Stage {
                first_epoch: first_epoch.into(),
                batching: Batching::Hard(hard),
                label: format!("stage {}/{n_stages} (from epoch {first_epoch})", index + 1),
            })
            .collect();
        Schedule::new(stages)
    }

    /// The largest neighbourhood of any hard stage (0 without one): the neighbour table is built
    /// once per run, so it is asked for from the start.
    pub fn neighbours_needed(&self) -> usize {
        self.stages
            .iter()
            .filter_map(|stage| match stage.batching {
                Batching::Hard(hard) => Some(hard.hardness_k),
                Batching::Random => None,
            })
            .max()
            .unwrap_or(0)
    }

    /// The stage in force in `epoch` (the first stage for an epoch before it).
    pub fn stage(&self, epoch: u32) -> &Stage {
        let index = self
            .stages
            .partition_point(|stage| stage.first_epoch <= u64::from(epoch))
            .saturating_sub(1);
        &self.stages[index]
    }

    /// Writes the batches of `epoch` as its stage says and returns the stage's note.
    pub fn epoch(
        &self,
        data: &SamplerData<'_>,
        epoch: u32,
        sink: &mut BatchSink<'_>,
    ) -> EpochResult {
        let stage = self.stage(epoch);
        match stage.batching {
            Batching::Random => {
                shuffled_epoch(data, epoch, sink)?;
                Ok(EpochNote {
                    stage: stage.label.clone(),
                    ..EpochNote::random()
                })
            }
            Batching::Hard(hard) => {
                hard.fill_epoch(data, epoch, sink)?;
                Ok(hard.note(stage.label.clone()))
            }
        }
    }
}

/// Puts a stage's field error under its path in the configuration, e.g. `stages[1].hard_ratio`.
fn within_stage(index: usize, error: SamplerError) -> SamplerError {
    match error {
        SamplerError::InvalidParameter { parameter, message } => {
            SamplerError::parameter(format!("stages[{index}].{parameter}"), message)
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hard(hard_ratio: f64, hardness_k: usize) -> HardBatching {
        HardBatching {
            hard_ratio,
            hardness_k,
            max_similarity: None,
        }
    }

    fn labels(schedule: &Schedule, epochs: impl IntoIterator<Item = u32>) -> Vec<String> {
        epochs
            .into_iter()
            .map(|epoch| schedule.stage(epoch).label.clone())
            .collect()
    }

    #[test]
    fn curriculum_warms_up_then_goes_hard() {
        let schedule = Schedule::curriculum(2, hard(0.5, 7)).unwrap();
        assert_eq!(
            labels(&schedule, 1..=4),
            ["random (warm-up)", "random (warm-up)", "hard", "hard"]
        );
        assert_eq!(schedule.neighbours_needed(), 7);
        let at_once = Schedule::curriculum(0, hard(0.5, 7)).unwrap();
        assert_eq!(labels(&at_once, [1, 2]), ["hard", "hard"]);
        let never = Schedule::curriculum(u32::MAX, hard(0.5, 7)).unwrap();
        assert_eq!(labels(&never, [u32::MAX]), ["random (warm-up)"]);
        assert_eq!(never.neighbours_needed(), 7);
    }

    #[test]
    fn progressive_stages_last_until_the_next_one() {
        let stages = [(1, hard(0.3, 10)), (3, hard(0.6, 20)), (4, hard(0.8, 5))];
        let schedule = Schedule::progressive(stages.into_iter()).unwrap();
        assert_eq!(
            labels(&schedule, [1, 2, 3, 9]),
            [
                "stage 1/3 (from epoch 1)",
                "stage 1/3 (from epoch 1)",
                "stage 2/3 (from epoch 3)",
                "stage 3/3 (from epoch 4)"
            ]
        );
        assert_eq!(schedule.neighbours_needed(), 20);
    }

    #[test]
    fn errors_name_the_stage_field_in_order() {
        let error = |stages: Vec<(u32, HardBatching)>| {
            Schedule::progressive(stages.into_iter())
                .unwrap_err()
                .to_string()
        };
        assert_eq!(error(vec![]), "stages: needs at least one stage");
        assert_eq!(
            error(vec![(2, hard(2.0, 10))]),
            "stages[0].first_epoch: is 2; the first stage must start at epoch 1"
        );
        assert!(
            error(vec![(1, hard(0.5, 10)), (5, hard(0.5, 0))]).starts_with("stages[1].hardness_k:")
        );
        assert!(
            Schedule::hard(hard(f64::NAN, 1))
                .unwrap_err()
                .to_string()
                .starts_with("hard_ratio:")
        );
    }
}
