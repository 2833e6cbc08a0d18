"""Settings refuse unsafe values and read API keys from TCNVAE_API_KEYS."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from tcnvae.serve.sidecar.settings import ServeSettings


def test_defaults_are_safe():
    s = ServeSettings()
    assert s.host == "127.0.0.1" and s.backend == "onnx" and s.batch_wait_ms <= 2 and not s.api_keys


def test_keys_from_env(monkeypatch):
    monkeypatch.setenv("TCNVAE_API_KEYS", "k" * 16 + ", " + "q" * 20)
    s = ServeSettings()
    assert s.api_keys == ("k" * 16, "q" * 20)
    assert ServeSettings(host="0.0.0.0").host == "0.0.0.0"  # keys make a public bind acceptable


@pytest.mark.parametrize("bad", [
    {"host": "0.0.0.0"}, {"api_keys": ("short",)}, {"max_batch": 0}, {"batch_wait_ms": 500},
    {"max_body_bytes": 1 << 40}, {"threads": 0}, {"limits": (1.0, 2.0)}, {"unknown": 1},
    {"backend": "tpu"}, {"request_timeout_s": 0},
])
def test_unsafe_values_refused(bad):
    with pytest.raises(ValidationError):
        ServeSettings(**bad)


def test_config_version_tracks_settings_not_keys():
    a, b = ServeSettings(), ServeSettings(max_batch=8)
    assert a.config_version != b.config_version
    assert ServeSettings(api_keys=("z" * 16,)).config_version == a.config_version


def test_workers_auto_and_the_engine_thread_default(monkeypatch):
    from tcnvae.serve.sidecar.settings import usable_cores

    assert ServeSettings(workers="auto").workers == min(32, usable_cores())
    monkeypatch.setenv("TCNVAE_SERVE_WORKERS", "auto")
    assert ServeSettings().workers == min(32, usable_cores())
    assert ServeSettings(workers=1).engine_thread is True  # one process: the loop parses while a batch runs
    assert ServeSettings(workers=2).engine_thread is False  # a core per worker: no hand-off
    assert ServeSettings(workers=2, inference_thread=True).engine_thread is True
    with pytest.raises(ValidationError, match="1 to 32 or 'auto'"):
        ServeSettings(workers="many")
    with pytest.raises(ValidationError):
        ServeSettings(max_inflight=0)
