"""The micro-motion front end: magnified, clipped, causal differences beside the input."""

from __future__ import annotations

import pytest
import torch

from tcnvae.model.micro_motion import MicroMotion


def test_channels_are_input_then_clipped_differences_per_channel_and_gain():
    x = torch.zeros(1, 2, 5)
    x[0, 1, 2] = 0.004  # a 0.004 step on channel 1 at t = 2, back at t = 3
    out = MicroMotion(2, (10.0, 1000.0))(x)[0]
    assert out.shape == (6, 5)
    torch.testing.assert_close(out[:2], x[0])
    torch.testing.assert_close(out[2:4], torch.zeros(2, 5))  # channel 0 is constant
    torch.testing.assert_close(out[4], torch.tensor([0.0, 0.0, 0.04, -0.04, 0.0]))  # gain 10
    torch.testing.assert_close(out[5], torch.tensor([0.0, 0.0, 1.0, -1.0, 0.0]))  # gain 1000: clipped


def test_longer_lags_difference_against_lag_samples_back():
    x = torch.arange(12, dtype=torch.float32).reshape(1, 1, 12) * 0.01  # a slow ramp: 0.01 per sample
    out = MicroMotion(1, (10.0,), (1, 4))(x)[0]
    assert out.shape == (3, 12)
    torch.testing.assert_close(out[1, 1:], torch.full((11,), 0.1))  # lag 1: 10 * 0.01
    torch.testing.assert_close(out[2, 4:], torch.full((8,), 0.4))  # lag 4: 10 * 0.04
    torch.testing.assert_close(out[2, :4], x[0, 0, :4] * 10)  # before t = 4: against the zero pad
    with pytest.raises(ValueError, match="lags"):
        MicroMotion(1, (10.0,), (0,))


@pytest.mark.parametrize("lags", [(1,), (1, 10)])
def test_output_at_t_depends_on_inputs_up_to_t_only(lags):
    torch.manual_seed(0)
    front = MicroMotion(3, (10.0, 100.0), lags)
    x = torch.randn(1, 3, 20)
    changed = x.clone()
    changed[..., 12:] += 5.0
    torch.testing.assert_close(front(x)[..., :12], front(changed)[..., :12])


def test_no_gains_is_the_identity_and_adds_no_state():
    front = MicroMotion(9, ())
    x = torch.randn(2, 9, 100)
    assert front(x) is x and front.out_channels == 9
    assert dict(MicroMotion(9, (10.0,)).state_dict()) == {}  # rebuilt from the config, not saved
