"""The micro-motion front end: magnified, clipped, causal first differences beside the input."""

from __future__ import annotations

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


def test_output_at_t_depends_on_inputs_up_to_t_only():
    torch.manual_seed(0)
    front = MicroMotion(3, (10.0, 100.0))
    x = torch.randn(1, 3, 20)
    changed = x.clone()
    changed[..., 12:] += 5.0
    torch.testing.assert_close(front(x)[..., :12], front(changed)[..., :12])


def test_no_gains_is_the_identity_and_adds_no_state():
    front = MicroMotion(9, ())
    x = torch.randn(2, 9, 100)
    assert front(x) is x and front.out_channels == 9
    assert dict(MicroMotion(9, (10.0,)).state_dict()) == {}  # rebuilt from the config, not saved
