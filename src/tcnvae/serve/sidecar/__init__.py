"""The inference sidecar: `/infer`, Open Inference Protocol v2, health and metrics over one loaded release."""
