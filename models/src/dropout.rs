//! Dropout whose masks come from a generator owned by one trainer, so a run's masks depend only
//! on its seed and its batches (libtorch's own generator is process-wide: another model training
//! on another thread would change them).

use sampler_api::rng::SplitMix64;
use tch::Tensor;

/// The stream that draws dropout masks: SplitMix64, two 32-bit halves per draw.
#[derive(Debug, Clone)]
pub struct DropoutRng {
    stream: SplitMix64,
}

impl DropoutRng {
    /// A generator whose draws depend only on `seed`.
    pub fn new(seed: u64) -> Self {
        // Keeps the masks' stream apart from other uses of the same seed.
        DropoutRng {
            stream: SplitMix64::new(seed ^ 0xD50F_0A7E_5EED_0001),
        }
    }

    /// A float mask shaped like `like`: each entry is 0 with probability `p` (to 2^-32), else
    /// `1 / (1 - p)`, so the expected value of a masked entry is unchanged.
    fn mask(&mut self, like: &Tensor, p: f64) -> Tensor {
        let numel = like.numel();
        let threshold = (p * 4_294_967_296.0) as u64;
        let keep = (1.0 / (1.0 - p)) as f32;
        let mut values = Vec::with_capacity(numel + 1);
        while values.len() < numel {
            let bits = self.stream.next_u64();
            for half in [bits & 0xFFFF_FFFF, bits >> 32] {
                values.push(if half < threshold { 0.0 } else { keep });
            }
        }
        values.truncate(numel);
        Tensor::from_slice(&values)
            .view(like.size().as_slice())
            .to_kind(like.kind())
            .to_device(like.device())
    }
}

/// Whether a forward pass trains (dropout on, masks from the generator) or evaluates.
#[derive(Debug)]
pub enum Mode<'a> {
    /// Training: dropout draws its masks from this generator.
    Train(&'a mut DropoutRng),
    /// Evaluation: dropout is the identity.
    Eval,
}

/// Inverted dropout with probability `p` in training mode, the identity otherwise.
pub(crate) fn dropout(x: &Tensor, p: f64, mode: &mut Mode<'_>) -> Tensor {
    match mode {
        Mode::Train(rng) if p > 0.0 => x * rng.mask(x, p),
        _ => x.shallow_clone(),
    }
}

#[cfg(test)]
mod tests {
    use tch::Kind;

    use super::*;

    #[test]
    fn masks_drop_about_p_and_keep_the_mean() {
        let mut rng = DropoutRng::new(7);
        let x = Tensor::ones([200, 500], (Kind::Float, tch::Device::Cpu));
        let y = dropout(&x, 0.1, &mut Mode::Train(&mut rng));
        let dropped = y
            .eq(0.0)
            .to_kind(Kind::Float)
            .mean(Kind::Float)
            .double_value(&[]);
        assert!((dropped - 0.1).abs() < 0.005, "{dropped}");
        let mean = y.mean(Kind::Float).double_value(&[]);
        assert!((mean - 1.0).abs() < 0.01, "{mean}");
    }

    #[test]
    fn same_seed_same_mask_and_eval_is_identity() {
        let x = Tensor::ones([3, 7], (Kind::Float, tch::Device::Cpu));
        let draw = |seed| dropout(&x, 0.5, &mut Mode::Train(&mut DropoutRng::new(seed)));
        assert!(draw(1).equal(&draw(1)));
        assert!(!draw(1).equal(&draw(2)));
        assert!(dropout(&x, 0.5, &mut Mode::Eval).equal(&x));
    }

    #[test]
    fn masks_are_pinned() {
        // Changing these changes every run that trains with dropout.
        let kept = |y: Tensor| -> String {
            let values: Vec<f32> = Vec::try_from(y.flatten(0, -1)).unwrap();
            values
                .iter()
                .map(|&v| if v == 0.0 { '0' } else { '1' })
                .collect()
        };
        let mut rng = DropoutRng::new(7);
        let x = Tensor::ones([3, 5], (Kind::Float, tch::Device::Cpu));
        let half = dropout(&x, 0.5, &mut Mode::Train(&mut rng));
        assert_eq!(kept(half), "110110000001101");
        // An odd mask leaves the last draw's upper half unused; the next mask starts afresh.
        let quarter = dropout(&x, 0.25, &mut Mode::Train(&mut rng));
        assert_eq!(kept(quarter), "101101111111101");
        assert_eq!(rng.stream.next_u64(), 4_924_496_260_489_933_121);
    }
}
