"""HTTP serving: the inference sidecar (sidecar.py, oip.py) and the EdgeInfer gateway (gateway*.py)."""
