"""HTTP serving: the inference sidecar (`sidecar/`), the EdgeInfer gateway (`gateway/`) and what both share (`http/`)."""
