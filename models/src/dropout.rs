//! Dropout whose masks come from a generator owned by one trainer, so a run's masks depend only
//! on its seed and its batches (libtorch's own generator is process-wide: another model training
//! on another thread would change them).
//!
//! The masks are drawn on the tensors' device: SplitMix64 is counter-based (draw `n` is a pure
//! function of the start state and `n`), so draws are computed in parallel with int64 tensor ops
//! and the host only advances a counter. Draws are computed ahead in blocks, so a small mask
//! costs a few tensor ops. The masks are those of the host stream, bit for bit, on every device.

use sampler_api::rng::SplitMix64;
use tch::{Device, Kind, Tensor};

/// Draws computed beyond those of the mask that needs new ones, for the masks after it: a small
/// mask (attention weights, a projection head) then costs a few tensor ops and no generation.
const DRAWS_AHEAD: i64 = 1 << 13;

/// The stream that draws dropout masks: SplitMix64, two 32-bit halves per draw.
#[derive(Debug)]
pub struct DropoutRng {
    /// The stream as the masks use it: its next draw is the next mask's first.
    stream: SplitMix64,
    /// Draws of the stream computed ahead on a device.
    ahead: Option<DrawsAhead>,
}

/// Draws of the stream (int64 bit patterns) on a device.
#[derive(Debug)]
struct DrawsAhead {
    draws: Tensor,
    /// Draws of the block already used; the next is the stream's next draw.
    used: i64,
}

impl DropoutRng {
    /// A generator whose draws depend only on `seed`.
    pub fn new(seed: u64) -> Self {
        // Keeps the masks' stream apart from other uses of the same seed.
        DropoutRng {
            stream: SplitMix64::new(seed ^ 0xD50F_0A7E_5EED_0001),
            ahead: None,
        }
    }

    /// A float mask shaped like `like`, on its device: each entry is 0 with probability `p` (to
    /// 2^-32), else `1 / (1 - p)`, so the expected value of a masked entry is unchanged. Entry
    /// `2i` is decided by the low half of the stream's next draw `i`, entry `2i + 1` by its high
    /// half; an odd mask leaves the last draw's high half unused.
    fn mask(&mut self, like: &Tensor, p: f64) -> Tensor {
        let numel = like.numel() as i64;
        let bits = self.draws((numel + 1) / 2, like.device());
        let threshold = (p * 4_294_967_296.0) as u64;
        // The high half is at least `threshold` exactly when the whole draw is at least
        // `threshold << 32` as a u64, which is a signed comparison once both sign bits flip.
        let keep_low = bits.bitwise_and(0xFFFF_FFFF_i64).ge(threshold as i64);
        let high_bound = ((threshold << 32) as i64) ^ i64::MIN;
        let keep_high = bits.bitwise_xor(i64::MIN).ge(high_bound);
        let keep = Tensor::stack(&[keep_low, keep_high], 1)
            .view([-1])
            .narrow(0, 0, numel);
        let scale = (1.0 / (1.0 - p)) as f32;
        // 1.0 * scale and 0.0 * scale are exact: the mask holds `scale` and 0.
        (keep.to_kind(Kind::Float) * f64::from(scale))
            .view(like.size().as_slice())
            .to_kind(like.kind())
    }

    /// The stream's next `draws` draws on `device` (computed with a block ahead when they are
    /// not yet), the stream moved past them.
    fn draws(&mut self, draws: i64, device: Device) -> Tensor {
        let ready = self.ahead.as_ref().is_some_and(|ahead| {
            ahead.draws.device() == device && ahead.draws.size()[0] >= ahead.used + draws
        });
        if !ready {
            let block = device_draws(self.stream.state(), draws + DRAWS_AHEAD, device);
            self.ahead = Some(DrawsAhead {
                draws: block,
                used: 0,
            });
        }
        let ahead = self.ahead.as_mut().expect("computed above");
        let taken = ahead.draws.narrow(0, ahead.used, draws);
        ahead.used += draws;
        self.stream.skip(draws as u64);
        taken
    }
}

/// The next `draws` outputs of a SplitMix64 stream in state `state`, as int64 bit patterns on
/// `device`: output `n` (from 1) is `mix(state + n * GAMMA)`, every u64 operation emulated on
/// int64 (two's complement: wrapping adds and multiplies agree; shifts are made logical).
fn device_draws(state: u64, draws: i64, device: Device) -> Tensor {
    // `as i64` reinterprets the bits.
    let mut z = Tensor::arange_start(1, draws + 1, (Kind::Int64, device));
    z *= SplitMix64::GAMMA as i64;
    z += state as i64;
    for (shift, multiplier) in SplitMix64::MIX_ROUNDS {
        let _ = z.bitwise_xor_tensor_(&logical_right_shift(&z, shift));
        z *= multiplier as i64;
    }
    let _ = z.bitwise_xor_tensor_(&logical_right_shift(&z, SplitMix64::MIX_FINAL_SHIFT));
    z
}

/// `x >> shift` on int64 bit patterns as if they were u64 (`0 < shift < 64`): libtorch shifts
/// signed integers arithmetically, so the copied sign bits are cleared.
fn logical_right_shift(x: &Tensor, shift: u32) -> Tensor {
    let mut shifted = x.bitwise_right_shift_tensor_scalar(i64::from(shift));
    let _ = shifted.bitwise_and_((1_i64 << (64 - shift)) - 1);
    shifted
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

    /// The mask the host stream gives: entry `j` from half `j % 2` of draw `j / 2`.
    fn host_mask(stream: &mut SplitMix64, numel: usize, p: f64) -> Vec<f32> {
        let threshold = (p * 4_294_967_296.0) as u64;
        let keep = (1.0 / (1.0 - p)) as f32;
        let mut values = Vec::with_capacity(numel + 1);
        while values.len() < numel {
            let bits = stream.next_u64();
            for half in [bits & 0xFFFF_FFFF, bits >> 32] {
                values.push(if half < threshold { 0.0 } else { keep });
            }
        }
        values.truncate(numel);
        values
    }

    #[test]
    fn device_masks_are_the_host_streams_masks() {
        for seed in [0, 7, u64::MAX, 0x8000_0000_0000_0000] {
            let mut rng = DropoutRng::new(seed);
            let mut host = rng.stream.clone();
            // Consecutive masks of odd, even, empty and large sizes move both streams alike;
            // p = 0.5 puts the threshold at 2^31, where a signed comparison would go wrong. The
            // last three need new draws computed ahead, one more than a block ahead holds.
            let block = 2 * DRAWS_AHEAD;
            let masks = [
                (7, 0.1),
                (0, 0.3),
                (64, 0.5),
                (1, 0.9),
                (10_001, 0.25),
                (33, 1e-9),
                (block - 3, 0.5),
                (block + 5, 0.1),
                (5, 0.2),
            ];
            for (numel, p) in masks {
                let like = Tensor::zeros([numel], (Kind::Double, tch::Device::Cpu));
                let mask = rng.mask(&like, p);
                assert_eq!(mask.kind(), Kind::Double);
                let device = Vec::<f64>::try_from(&mask).unwrap();
                let expected: Vec<f64> = host_mask(&mut host, numel as usize, p)
                    .into_iter()
                    .map(f64::from)
                    .collect();
                assert_eq!(device, expected, "seed {seed}, {numel} entries, p {p}");
            }
            assert_eq!(rng.stream.state(), host.state());
        }
    }

    #[test]
    fn logical_shifts_treat_the_sign_bit_as_a_value_bit() {
        let values = [-1_i64, i64::MIN, 0x7FFF_FFFF_FFFF_FFFF, 12_345];
        let shifted = logical_right_shift(&Tensor::from_slice(&values), 30);
        let expected: Vec<i64> = values.iter().map(|&v| ((v as u64) >> 30) as i64).collect();
        assert_eq!(Vec::<i64>::try_from(&shifted).unwrap(), expected);
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
