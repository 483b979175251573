package cardinalityguardprocessor

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

type point map[string]string

func batch(service, metricName string, points ...point) pmetric.Metrics {
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	rm.Resource().Attributes().PutStr("service.name", service)
	m := rm.ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
	m.SetName(metricName)
	sum := m.SetEmptySum()
	for _, attrs := range points {
		p := sum.DataPoints().AppendEmpty()
		for k, v := range attrs {
			p.Attributes().PutStr(k, v)
		}
		p.SetDoubleValue(1)
	}
	return md
}

func errorsOf(n int) []point {
	out := make([]point, n)
	for i := range out {
		out[i] = point{"error_type": fmt.Sprintf("e-%d", i)}
	}
	return out
}

func newTestGuard(t *testing.T, perService, services int) *guard {
	t.Helper()
	cfg := &Config{
		MaxStreamsPerService: perService, MaxServices: services, ServiceAttribute: "service.name",
		Expiry: time.Minute, MaxValueLength: 8,
		Catalog: map[string]MetricRule{
			"neural.operations": {Attributes: map[string][]string{"operation_type": {"learning", "retrieval"}}},
			"errors":            {Attributes: map[string][]string{"error_type": nil}},
		},
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	g, err := newGuard(cfg, componenttest.NewNopTelemetrySettings())
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func attrsOf(md pmetric.Metrics) []map[string]any {
	var out []map[string]any
	dps := md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics().At(0).Sum().DataPoints()
	for i := 0; i < dps.Len(); i++ {
		out = append(out, dps.At(i).Attributes().AsRaw())
	}
	return out
}

func TestEachServiceHasItsOwnBudget(t *testing.T) {
	g := newTestGuard(t, 10, 100)
	ctx := context.Background()
	if got, _ := g.process(ctx, batch("hostile", "errors", errorsOf(50)...)); got.DataPointCount() != 10 {
		t.Fatalf("hostile service kept %d points, want its budget 10", got.DataPointCount())
	}
	if got, _ := g.process(ctx, batch("good", "errors", errorsOf(5)...)); got.DataPointCount() != 5 {
		t.Fatalf("well-behaved service kept %d points, want all 5", got.DataPointCount())
	}
	if got, _ := g.process(ctx, batch("hostile", "errors", errorsOf(10)...)); got.DataPointCount() != 10 {
		t.Fatalf("known streams of a full service kept %d points, want 10", got.DataPointCount())
	}
}

func TestCatalogAllowlists(t *testing.T) {
	g := newTestGuard(t, 100, 100)
	got, _ := g.process(context.Background(), batch("svc", "neural.operations",
		point{"operation_type": "learning", "session_id": "s-1"}, // extra key removed
		point{"operation_type": "dreaming"},                      // value not allowed: dropped
	))
	if attrs := attrsOf(got); len(attrs) != 1 || len(attrs[0]) != 1 || attrs[0]["operation_type"] != "learning" {
		t.Fatalf("catalog not enforced: %v", attrs)
	}
	long, _ := g.process(context.Background(), batch("svc", "errors", point{"error_type": strings.Repeat("é", 20)}))
	if v := attrsOf(long)[0]["error_type"].(string); len(v) > 8 || !strings.HasPrefix(v, "éé") {
		t.Fatalf("value not truncated to 8 bytes on a character boundary: %q", v)
	}
	other, _ := g.process(context.Background(), batch("svc", "not.in.catalog", point{"anything": "goes"}))
	if attrs := attrsOf(other); attrs[0]["anything"] != "goes" {
		t.Fatalf("a metric outside the catalog was altered: %v", attrs)
	}
}

func TestIdleStreamsExpireAndFreeTheBudget(t *testing.T) {
	g := newTestGuard(t, 2, 100)
	clock := time.Unix(1_700_000_000, 0)
	g.now = func() time.Time { return clock }
	ctx := context.Background()
	_, _ = g.process(ctx, batch("svc", "m", point{"a": "1"}, point{"a": "2"}))
	if third, _ := g.process(ctx, batch("svc", "m", point{"a": "3"})); third.DataPointCount() != 0 {
		t.Fatal("a third stream passed a budget of 2")
	}
	clock = clock.Add(2 * time.Minute)
	if later, _ := g.process(ctx, batch("svc", "m", point{"a": "3"})); later.DataPointCount() != 1 {
		t.Fatal("the budget was not freed after the other streams expired")
	}
}

func TestServicesBeyondTheLimitAreDropped(t *testing.T) {
	g := newTestGuard(t, 5, 2)
	ctx := context.Background()
	for _, s := range []string{"a", "b"} {
		if md, _ := g.process(ctx, batch(s, "m", point{"x": "1"})); md.DataPointCount() != 1 {
			t.Fatalf("service %s was refused under the service limit", s)
		}
	}
	if md, _ := g.process(ctx, batch("c", "m", point{"x": "1"})); md.DataPointCount() != 0 {
		t.Fatal("a third service passed a limit of 2 services")
	}
}

func TestInvalidConfigIsRejected(t *testing.T) {
	cfg := &Config{MaxStreamsPerService: 0, MaxServices: 1, Expiry: time.Millisecond, MaxValueLength: 0}
	err := cfg.Validate()
	if err == nil {
		t.Fatal("an invalid config was accepted")
	}
	for _, want := range []string{"max_streams_per_service", "service_attribute", "expiry", "max_value_length"} {
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("error %q does not name %s", err, want)
		}
	}
}

func TestServiceBudgetOverride(t *testing.T) {
	g := newTestGuard(t, 10, 100)
	g.cfg.MaxStreamsByService = map[string]int{"claude-code": 40}
	ctx := context.Background()
	if got, _ := g.process(ctx, batch("claude-code", "errors", errorsOf(50)...)); got.DataPointCount() != 40 {
		t.Fatalf("claude-code kept %d points, want its own budget 40", got.DataPointCount())
	}
	if got, _ := g.process(ctx, batch("other", "errors", errorsOf(50)...)); got.DataPointCount() != 10 {
		t.Fatalf("another service kept %d points, want the default budget 10", got.DataPointCount())
	}
	bad := &Config{MaxStreamsPerService: 1, MaxServices: 1, ServiceAttribute: "service.name", Expiry: time.Minute,
		MaxValueLength: 1, MaxStreamsByService: map[string]int{"claude-code": 0}}
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), `"claude-code" must be at least 1`) {
		t.Fatalf("a zero override must be named, got %v", err)
	}
}
