package api

// Health answers GET /healthz and GET /readyz when pesd is alive, or
// ready: {"status": "ok"}. A /readyz that is not ready answers the error
// envelope (503, unavailable) naming what is missing.
type Health struct {
	Status string `json:"status"`
}

// HealthOK is Health's one status.
const HealthOK = "ok"
