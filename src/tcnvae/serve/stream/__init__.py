"""Live IMU streams over WebSocket, shared by the sidecar (`/v2/stream`) and the gateway
(`/api/v1/analysis/stream`): the wire protocol, limits and the per-connection loop."""
