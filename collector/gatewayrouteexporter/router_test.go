package gatewayrouteexporter

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
)

type gateway struct {
	srv    *httptest.Server
	mu     sync.Mutex
	status int
	seen   map[string]int // service -> points received
}

func newGateway(t *testing.T) *gateway {
	g := &gateway{status: 200, seen: map[string]int{}}
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		g.mu.Lock()
		defer g.mu.Unlock()
		if g.status != 200 {
			w.WriteHeader(g.status)
			return
		}
		r := pmetricotlp.NewExportRequest()
		if err := r.UnmarshalProto(body); err != nil {
			w.WriteHeader(400)
			return
		}
		rms := r.Metrics().ResourceMetrics()
		for i := 0; i < rms.Len(); i++ {
			name, _ := rms.At(i).Resource().Attributes().Get("service.name")
			g.seen[name.AsString()] += rms.At(i).ScopeMetrics().At(0).Metrics().At(0).Sum().DataPoints().Len()
		}
	}))
	t.Cleanup(g.srv.Close)
	return g
}

func (g *gateway) set(status int) { g.mu.Lock(); g.status = status; g.mu.Unlock() }
func (g *gateway) got() map[string]int {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := map[string]int{}
	for k, v := range g.seen {
		out[k] = v
	}
	return out
}

func batch(services ...string) pmetric.Metrics {
	md := pmetric.NewMetrics()
	for _, s := range services {
		rm := md.ResourceMetrics().AppendEmpty()
		rm.Resource().Attributes().PutStr("service.name", s)
		m := rm.ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
		m.SetName("m")
		m.SetEmptySum().DataPoints().AppendEmpty().SetDoubleValue(1)
	}
	return md
}

type clock struct{ t time.Time }

func newTestRouter(t *testing.T, gws ...*gateway) (*router, *clock) {
	cfg := NewFactory().CreateDefaultConfig().(*Config)
	for _, g := range gws {
		cfg.Endpoints = append(cfg.Endpoints, g.srv.URL)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	r, err := newRouter(cfg, componenttest.NewNopTelemetrySettings())
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)}
	r.now = func() time.Time { return c.t }
	return r, c
}

func services(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("svc-%02d", i)
	}
	return out
}

func TestEveryServiceSticksToOneGatewayAndBothAreUsed(t *testing.T) {
	a, b := newGateway(t), newGateway(t)
	r, _ := newTestRouter(t, a, b)
	for round := 0; round < 5; round++ {
		if err := r.pushMetrics(context.Background(), batch(services(20)...)); err != nil {
			t.Fatal(err)
		}
	}
	ga, gb := a.got(), b.got()
	if len(ga) == 0 || len(gb) == 0 {
		t.Fatalf("both gateways should get services: %v %v", ga, gb)
	}
	for _, s := range services(20) {
		if (ga[s] > 0) == (gb[s] > 0) || ga[s]+gb[s] != 5 {
			t.Fatalf("%s must land on exactly one gateway, all 5 points: %d / %d", s, ga[s], gb[s])
		}
	}
}

func TestFailoverQuarantineAndReturn(t *testing.T) {
	a, b := newGateway(t), newGateway(t)
	r, c := newTestRouter(t, a, b)
	svc := services(20)
	if err := r.pushMetrics(context.Background(), batch(svc...)); err != nil {
		t.Fatal(err)
	}
	onA := []string{}
	for s := range a.got() {
		onA = append(onA, s)
	}
	a.set(503)
	if err := r.pushMetrics(context.Background(), batch(svc...)); err != nil {
		t.Fatalf("a failed gateway's services must fail over, got %v", err)
	}
	for _, s := range onA {
		if b.got()[s] != 1 {
			t.Fatalf("%s must have moved to the other gateway", s)
		}
	}
	a.set(200)
	c.t = c.t.Add(time.Minute) // past the quarantine: services return to their gateway
	if err := r.pushMetrics(context.Background(), batch(svc...)); err != nil {
		t.Fatal(err)
	}
	for _, s := range onA {
		if a.got()[s] != 2 {
			t.Fatalf("%s must return to its gateway after the quarantine: %v", s, a.got()[s])
		}
	}
}

func TestOnlyWhatFailedEverywhereIsRetried(t *testing.T) {
	a := newGateway(t)
	r, _ := newTestRouter(t, a)
	a.set(503)
	err := r.pushMetrics(context.Background(), batch("x", "y"))
	var partial consumererror.Metrics
	if err == nil || !asMetrics(err, &partial) || partial.Data().ResourceMetrics().Len() != 2 {
		t.Fatalf("want a retryable error carrying both services, got %v", err)
	}
	a.set(400)
	if err := r.pushMetrics(context.Background(), batch("x")); !consumererror.IsPermanent(err) {
		t.Fatalf("a 400 is permanent (no failover, no retry), got %v", err)
	}
}

func asMetrics(err error, target *consumererror.Metrics) bool {
	m, ok := err.(consumererror.Metrics)
	if ok {
		*target = m
	}
	return ok
}

func TestConfigErrorsNameTheField(t *testing.T) {
	cfg := NewFactory().CreateDefaultConfig().(*Config)
	cfg.Endpoints = []string{"gateway:4318", "http://a:4318", "http://a:4318"}
	err := cfg.Validate()
	if err == nil {
		t.Fatal("want errors")
	}
	for _, want := range []string{"not an http(s) URL", "listed twice"} {
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("want %q in %v", want, err)
		}
	}
}
