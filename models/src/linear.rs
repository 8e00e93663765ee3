//! Linear layers initialised as PyTorch initialises `torch.nn.Linear` (and PyTorch Geometric its
//! `Linear`), so that the molecule encoders start where the reference implementation starts.

use tch::nn;

/// PyTorch's default: weights and bias uniform in `±1/sqrt(fan_in)` (Kaiming-uniform with
/// `a = sqrt(5)`). tch's default weight bound is `sqrt(6/fan_in)`, about 2.45x wider, which made
/// the graph transformer learn about half as fast as the reference.
fn pytorch_config(in_dim: i64, bias: bool) -> nn::LinearConfig {
    let bound = 1.0 / (in_dim as f64).sqrt();
    let uniform = nn::Init::Uniform {
        lo: -bound,
        up: bound,
    };
    nn::LinearConfig {
        ws_init: uniform,
        bs_init: Some(uniform),
        bias,
    }
}

/// A `in_dim -> out_dim` layer with a bias, initialised as PyTorch does.
pub(crate) fn linear(path: nn::Path, in_dim: i64, out_dim: i64) -> nn::Linear {
    nn::linear(path, in_dim, out_dim, pytorch_config(in_dim, true))
}

/// A `in_dim -> out_dim` layer without a bias, initialised as PyTorch does.
pub(crate) fn linear_no_bias(path: nn::Path, in_dim: i64, out_dim: i64) -> nn::Linear {
    nn::linear(path, in_dim, out_dim, pytorch_config(in_dim, false))
}

#[cfg(test)]
mod tests {
    use tch::{Device, nn};

    use super::*;

    #[test]
    fn weights_and_bias_stay_within_the_pytorch_bound() {
        let vs = nn::VarStore::new(Device::Cpu);
        let layer = crate::trainer::seeded(3, || linear(vs.root() / "layer", 64, 500));
        let bound = 1.0 / 8.0;
        for values in [&layer.ws, layer.bs.as_ref().unwrap()] {
            let largest = values.abs().max().double_value(&[]);
            // Uniform draws fill the interval: the largest of 32,000 lies close to the bound.
            assert!(largest <= bound && largest > 0.95 * bound, "{largest}");
        }
        // Seeded too: an unseeded draw would interleave with other tests' seeded ones.
        let no_bias = crate::trainer::seeded(4, || linear_no_bias(vs.root() / "plain", 64, 4));
        assert!(no_bias.bs.is_none());
    }
}
