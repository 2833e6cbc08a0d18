"""tcnvae."""
