"""The model registry: versioned, checksummed releases under models/<name>/v<semver>/."""
