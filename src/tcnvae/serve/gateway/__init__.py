"""The EdgeInfer gateway: analysis API, sessions, fallback to a marked stub, circuit breaker; no model in-process."""
