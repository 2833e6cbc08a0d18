"""The seed-style reference server, for comparison only: FastAPI + pydantic List[List[float]] with
per-element validators + PyTorch eager at batch 1. Never use it to serve.

    python benchmarks/naive_server.py --models models --ref tcn_encoder@champion --port 9100
"""

from __future__ import annotations

import argparse
import math
from typing import List

import torch
import uvicorn
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, field_validator

from tcnvae.registry.store import Registry


class Window(BaseModel):
    x: List[List[float]]

    @field_validator("x")
    @classmethod
    def check(cls, rows: List[List[float]]) -> List[List[float]]:
        if len(rows) != 100:
            raise ValueError("need 100 rows")
        for row in rows:  # the seed checked every element in Python
            if len(row) != 9:
                raise ValueError("need 9 channels")
            for v in row:
                if not math.isfinite(v):
                    raise ValueError("non-finite value")
        return rows


def build(models: str, ref: str) -> FastAPI:
    release = Registry(models).open(ref)
    encoder, norm = release.load_encoder(), release.normalizer()
    mean, std = torch.tensor(norm.mean), torch.tensor(norm.std)
    app = FastAPI()

    @app.post("/infer")
    def infer(w: Window) -> dict:
        x = (torch.tensor(w.x, dtype=torch.float32) - mean) / std
        with torch.no_grad():
            latent, motifs, _ = encoder(x[None])
        if not torch.isfinite(latent).all():
            raise HTTPException(500, "bad output")
        return {"latent": latent[0].tolist(), "motif_scores": motifs[0].tolist()}

    @app.get("/healthz")
    def healthz() -> dict:
        return {"ok": True}

    return app


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--models", default="models")
    p.add_argument("--ref", default="tcn_encoder@champion")
    p.add_argument("--port", type=int, default=9100)
    a = p.parse_args()
    torch.set_num_threads(1)
    uvicorn.run(build(a.models, a.ref), host="127.0.0.1", port=a.port, access_log=False, log_level="warning")


if __name__ == "__main__":
    main()
