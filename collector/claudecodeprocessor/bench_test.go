package claudecodeprocessor

import (
	"fmt"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pmetric"
)

// BenchmarkProcess: one export of 1,000 delta points (100 developers x 10 streams) through the
// processor, as `make bench` reports it: points per CPU-second (one goroutine).
func BenchmarkProcess(b *testing.B) {
	a, _ := newTestAccumulator(&testing.T{}, func(c *Config) { c.MaxStreams = 1 << 20 })
	points := make([]pt, 0, 1000)
	for dev := 0; dev < 100; dev++ {
		for s := 0; s < 10; s++ {
			points = append(points, pt{
				attrs: map[string]string{"user.id": fmt.Sprintf("%064d", dev), "model": fmt.Sprintf("m%d", s), "session.id": "s"},
				value: 0.001, start: t0, end: t0.Add(time.Second),
			})
		}
	}
	batches := make([]pmetric.Metrics, b.N)
	for i := range batches {
		batches[i] = sums("claude-code", cost, pmetric.AggregationTemporalityDelta, points...)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		mustProcess(&testing.T{}, a, batches[i])
	}
	b.ReportMetric(float64(b.N*len(points))/b.Elapsed().Seconds(), "points/s")
}
