package forecast

import "time"

// Band exposes the range of the interval holding t before it is rounded
// to whole nodes, so tests can check the model's calibration apart from
// the rounding.
func (m *Model) Band(t time.Time) (expected, lo, hi float64) {
	step := int64(m.cfg.Interval)
	return m.band(floorDiv(t.UnixNano(), step) * step)
}
