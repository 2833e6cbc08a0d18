"""HTTP helpers both servers use: API keys, body parsing, JSON errors, request metrics, loopback rule."""
