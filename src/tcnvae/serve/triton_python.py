"""A release served by a real NVIDIA Triton Inference Server, through PyTriton binding the Engine.

    python -m tcnvae.serve.triton_python tcn_encoder@champion --models models --http-port 8000 --grpc-port 8001

`pip install "tcnvae[triton]"` (nvidia-pytriton) ships a `tritonserver` binary with the python
backend. PyTriton starts it with one python-backend model whose stub forwards each batch to
this process, where the project's Engine runs it: the same contract as the sidecar's /v2 (raw
SI windows in, normalization server-side, outputs latent / motif_scores / activity_probs), the
same validation (a window beyond the contract is refused naming window, sample and channel,
per request). Clients batch by sending [N, 100, 9]. The `onnxruntime_onnx` repository in the release's
export/triton/ stays the one to deploy on a full Triton or KServe (docs/serving.md).

Why LD_LIBRARY_PATH: the stub links `libpython3.11.so.1.0` and the dynamic loader finds the
system's copy first (Debian's 3.11.2), while the stub's sys.path is this interpreter's stdlib
(3.11.7): `multiprocessing.resource_tracker` then calls `_thread.RLock._recursion_count`, which
the older C core lacks. Putting this interpreter's LIBDIR first makes the stub load the libpython
that matches its stdlib.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sysconfig
from pathlib import Path

import numpy as np

from tcnvae.contract import LATENT_DIM, N_CHANNELS, N_MOTIFS, WINDOW

log = logging.getLogger(__name__)
MAX_BATCH = 256


def matching_libpython_first() -> None:
    """Put the running interpreter's libpython directory first on LD_LIBRARY_PATH (see module doc)."""
    libdir = sysconfig.get_config_var("LIBDIR")
    if sysconfig.get_config_var("Py_ENABLE_SHARED") and libdir and Path(libdir).is_dir():
        rest = os.environ.get("LD_LIBRARY_PATH", "")
        os.environ["LD_LIBRARY_PATH"] = libdir + (f":{rest}" if rest else "")


def make_infer(engine):
    """The callable PyTriton calls with a list of requests, each {"x": [N, 100, 9] float32}.

    Each request is validated on its own, so a refusal names that request's window index and
    never fails another client's request (hence no Triton dynamic batching across requests)."""
    from pytriton.exceptions import PyTritonBadParameterError

    from tcnvae.contract import ContractError

    def infer(requests: list) -> list[dict[str, np.ndarray]]:
        answers = []
        for request in requests:
            try:
                raw = engine.validate(np.ascontiguousarray(request["x"], dtype=np.float32))
            except ContractError as e:  # a client error: Triton answers 400 with our message
                raise PyTritonBadParameterError(str(e)) from None
            answers.append(engine.run(raw))
        return answers
    return infer


def bind(triton, engine) -> None:
    """Bind the engine as model `engine.info.name` (Triton version 1)."""
    from pytriton.model_config import ModelConfig, Tensor

    f32 = np.float32
    triton.bind(model_name=engine.info.name, infer_func=make_infer(engine),
                inputs=[Tensor(name="x", dtype=f32, shape=(WINDOW, N_CHANNELS))],
                outputs=[Tensor(name="latent", dtype=f32, shape=(LATENT_DIM,)),
                         Tensor(name="motif_scores", dtype=f32, shape=(N_MOTIFS,)),
                         Tensor(name="activity_probs", dtype=f32, shape=(len(engine.labels),))],
                config=ModelConfig(max_batch_size=MAX_BATCH, batcher=None), strict=True)


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def serve(models: Path, ref: str, http_port: int, grpc_port: int, metrics_port: int,
          precision: str = "fp32") -> None:
    """Verify and load the release, start tritonserver on loopback, serve until SIGTERM/SIGINT."""
    from pytriton.triton import Triton, TritonConfig

    from tcnvae.registry.store import Registry
    from tcnvae.runtime.engine import Engine

    release = Registry(models).open(ref, verify=True)
    engine = Engine.from_release(release, backend="onnx", precision=precision)
    engine.warmup()
    matching_libpython_first()
    config = TritonConfig(http_address="127.0.0.1", http_port=http_port, grpc_address="127.0.0.1",
                          grpc_port=grpc_port, metrics_port=metrics_port, allow_metrics=True,
                          exit_on_error=True, exit_timeout_secs=10, log_verbose=0)
    # SIGINT may arrive ignored (started in the background) and SIGTERM would kill this process
    # without stopping tritonserver: both become the KeyboardInterrupt that triton.serve() handles.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)
    with Triton(config=config) as triton:
        bind(triton, engine)
        log.info("tritonserver serving %s (%s) on http %d, grpc %d", release.ref, precision, http_port, grpc_port)
        triton.serve()


def main() -> None:
    p = argparse.ArgumentParser(description="serve a release from a real tritonserver via PyTriton")
    p.add_argument("ref", nargs="?", default="tcn_encoder@champion")
    p.add_argument("--models", type=Path, default=Path("models"))
    p.add_argument("--http-port", type=int, default=8000)
    p.add_argument("--grpc-port", type=int, default=8001)
    p.add_argument("--metrics-port", type=int, default=8002)
    p.add_argument("--precision", choices=("fp32", "int8"), default="fp32")
    a = p.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    serve(a.models, a.ref, a.http_port, a.grpc_port, a.metrics_port, a.precision)


if __name__ == "__main__":
    main()
