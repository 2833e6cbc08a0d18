"""Training: config, data preparation, losses, augmentation, the loop, motif fitting."""
