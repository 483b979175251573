package claudecodeprocessor

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/processor/processorhelper"
)

var t0 = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newTestAccumulator(t *testing.T, mutate func(*Config)) (*accumulator, *clock) {
	t.Helper()
	cfg := NewFactory().CreateDefaultConfig().(*Config)
	cfg.FirstValueDelay = 10 * time.Second
	cfg.Metrics = map[string]MetricRule{
		"claude_code.cost.usage": {Attributes: []string{"user.id", "user.email", "model"}},
	}
	if mutate != nil {
		mutate(cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	c := &clock{t0}
	a, err := newAccumulator(cfg, componenttest.NewNopTelemetrySettings(), new(consumertest.MetricsSink))
	if err != nil {
		t.Fatal(err)
	}
	a.now = c.now
	a.startedAt = pcommon.NewTimestampFromTime(t0)
	return a, c
}

type pt struct {
	attrs      map[string]string
	value      float64
	start, end time.Time
}

func sums(service, name string, temporality pmetric.AggregationTemporality, points ...pt) pmetric.Metrics {
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	rm.Resource().Attributes().PutStr("service.name", service)
	rm.Resource().Attributes().PutStr("os.type", "linux")
	m := rm.ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
	m.SetName(name)
	m.SetUnit("USD")
	s := m.SetEmptySum()
	s.SetIsMonotonic(true)
	s.SetAggregationTemporality(temporality)
	for _, p := range points {
		dp := s.DataPoints().AppendEmpty()
		for k, v := range p.attrs {
			dp.Attributes().PutStr(k, v)
		}
		dp.SetDoubleValue(p.value)
		dp.SetStartTimestamp(pcommon.NewTimestampFromTime(p.start))
		dp.SetTimestamp(pcommon.NewTimestampFromTime(p.end))
	}
	return md
}

// totals renders the snapshot as "name{k=v,...}" -> value.
func totals(md pmetric.Metrics) map[string]float64 {
	out := map[string]float64{}
	for i := 0; i < md.ResourceMetrics().Len(); i++ {
		rm := md.ResourceMetrics().At(i)
		sms := rm.ScopeMetrics()
		for j := 0; j < sms.Len(); j++ {
			ms := sms.At(j).Metrics()
			for k := 0; k < ms.Len(); k++ {
				m := ms.At(k)
				if m.Type() == pmetric.MetricTypeHistogram {
					dps := m.Histogram().DataPoints()
					for l := 0; l < dps.Len(); l++ {
						out[m.Name()+render(dps.At(l).Attributes())] = float64(dps.At(l).Count())
					}
					continue
				}
				dps := m.Sum().DataPoints()
				for l := 0; l < dps.Len(); l++ {
					out[m.Name()+render(dps.At(l).Attributes())] = dps.At(l).DoubleValue()
				}
			}
		}
	}
	return out
}

func render(attrs pcommon.Map) string {
	var parts []string
	attrs.Range(func(k string, v pcommon.Value) bool {
		parts = append(parts, k+"="+v.AsString())
		return true
	})
	return "{" + strings.Join(sortStrings(parts), ",") + "}"
}

func sortStrings(s []string) []string {
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return s
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func mustProcess(t *testing.T, a *accumulator, md pmetric.Metrics) {
	t.Helper()
	if _, err := a.process(context.Background(), md); err != nil && !errors.Is(err, processorhelper.ErrSkipProcessingData) {
		t.Fatal(err)
	}
}

const cost = "claude_code.cost.usage"

func TestDeltaGapsAndParallelSessionsAddUp(t *testing.T) {
	a, c := newTestAccumulator(t, nil)
	u := func(session string) map[string]string {
		return map[string]string{"user.id": "u1", "session.id": session, "model": "sonnet", "terminal.type": "vscode"}
	}
	// session s1: a turn, an idle interval, then a turn whose start is its own first
	// measurement (not the previous end): the case the prometheus exporter overwrites
	mustProcess(t, a, sums("claude-code", cost, pmetric.AggregationTemporalityDelta,
		pt{u("s1"), 0.5, t0, t0.Add(time.Second)}, pt{u("s2"), 0.25, t0, t0.Add(time.Second)}))
	mustProcess(t, a, sums("claude-code", cost, pmetric.AggregationTemporalityDelta,
		pt{u("s1"), 0.125, t0.Add(5 * time.Second), t0.Add(6 * time.Second)}))
	key := cost + "{model=sonnet,user.id=u1}"
	if got := totals(a.snapshot(c.now()))[key]; got != 0 {
		t.Fatalf("a new stream must show 0 during first_value_delay, got %v", got)
	}
	c.t = t0.Add(10 * time.Second)
	got := totals(a.snapshot(c.now()))
	if len(got) != 1 || !near(got[key], 0.875) {
		t.Fatalf("want only %s = 0.875 (session.id and terminal.type not in the rule), got %v", key, got)
	}
}

func TestCumulativeParallelSessionsAndResets(t *testing.T) {
	a, c := newTestAccumulator(t, nil)
	u := func(session string) map[string]string {
		return map[string]string{"user.id": "u1", "session.id": session, "model": "opus"}
	}
	st := t0.Add(time.Second)
	for _, v := range []float64{1, 3, 6} { // s1 and s2 interleave: collapsing them would look like resets
		mustProcess(t, a, sums("claude-code", cost, pmetric.AggregationTemporalityCumulative,
			pt{u("s1"), v, st, st}, pt{u("s2"), v / 2, st, st}))
	}
	// s1 restarts (new start time): its new value counts from zero
	mustProcess(t, a, sums("claude-code", cost, pmetric.AggregationTemporalityCumulative, pt{u("s1"), 2, st.Add(time.Minute), st.Add(time.Minute)}))
	// a session that began before this collector started: a baseline, then only increments
	early := t0.Add(-time.Hour)
	mustProcess(t, a, sums("claude-code", cost, pmetric.AggregationTemporalityCumulative, pt{u("s0"), 100, early, early}))
	mustProcess(t, a, sums("claude-code", cost, pmetric.AggregationTemporalityCumulative, pt{u("s0"), 101, early, early}))
	c.t = t0.Add(time.Minute)
	got := totals(a.snapshot(c.now()))[cost+"{model=opus,user.id=u1}"]
	if want := 6 + 3 + 2 + 1.0; !near(got, want) {
		t.Fatalf("want %v, got %v", want, got)
	}
}

func TestBadPointsAreDroppedAndCounted(t *testing.T) {
	a, c := newTestAccumulator(t, func(cfg *Config) { cfg.MaxStreams = 1 })
	attrs := map[string]string{"user.id": "u1", "model": "sonnet"}
	mustProcess(t, a, sums("claude-code", cost, pmetric.AggregationTemporalityDelta,
		pt{attrs, 2, t0, t0}, pt{attrs, -5, t0, t0}, pt{attrs, math.NaN(), t0, t0}, pt{attrs, math.Inf(1), t0, t0},
		pt{map[string]string{"user.id": "u2", "model": "sonnet"}, 1, t0, t0}))
	c.t = t0.Add(time.Minute)
	got := totals(a.snapshot(c.now()))
	if len(got) != 1 || got[cost+"{model=sonnet,user.id=u1}"] != 2 {
		t.Fatalf("only the valid point of the first stream may count, got %v", got)
	}
}

func TestOtherServicesPassUntouched(t *testing.T) {
	a, _ := newTestAccumulator(t, nil)
	md := sums("claude-code-app", cost, pmetric.AggregationTemporalityDelta, pt{map[string]string{"session.id": "x"}, 1, t0, t0})
	out, err := a.process(context.Background(), md)
	if err != nil || out.DataPointCount() != 1 || len(a.streams) != 0 {
		t.Fatalf("another service's points must pass as they are: %v %d %d", err, out.DataPointCount(), len(a.streams))
	}
}

func TestDeltaHistogramsAccumulate(t *testing.T) {
	a, c := newTestAccumulator(t, nil)
	for i := 0; i < 3; i++ {
		md := pmetric.NewMetrics()
		rm := md.ResourceMetrics().AppendEmpty()
		rm.Resource().Attributes().PutStr("service.name", "claude-code")
		m := rm.ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
		m.SetName("ccmon.claude_code.api.request.duration")
		h := m.SetEmptyHistogram()
		h.SetAggregationTemporality(pmetric.AggregationTemporalityDelta)
		p := h.DataPoints().AppendEmpty()
		p.Attributes().PutStr("model", "sonnet")
		p.ExplicitBounds().FromRaw([]float64{1, 10})
		p.BucketCounts().FromRaw([]uint64{1, 1, 0})
		p.SetCount(2)
		p.SetSum(3.5)
		mustProcess(t, a, md)
	}
	c.t = t0.Add(time.Minute)
	snap := a.snapshot(c.now())
	p := snap.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics().At(0).Histogram().DataPoints().At(0)
	if p.Count() != 6 || p.Sum() != 10.5 || p.BucketCounts().At(0) != 3 || p.BucketCounts().At(1) != 3 {
		t.Fatalf("want count 6, sum 10.5, buckets 3/3/0; got %d %v %v", p.Count(), p.Sum(), p.BucketCounts().AsRaw())
	}
}

func TestConfigErrorsNameTheField(t *testing.T) {
	cfg := NewFactory().CreateDefaultConfig().(*Config)
	cfg.Identity.HashKey = "short"
	cfg.Identity.Policy = "pseudonymise"
	cfg.Services = nil
	err := cfg.Validate()
	for _, field := range []string{"policy", "services"} {
		if err == nil || !strings.Contains(err.Error(), field) {
			t.Fatalf("want an error naming %s, got %v", field, err)
		}
	}
	cfg = NewFactory().CreateDefaultConfig().(*Config)
	cfg.Identity.HashKey = "short"
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "hash_key") {
		t.Fatalf("want an error naming hash_key, got %v", err)
	}
}

// OTEL_METRICS_INCLUDE_SESSION_ID=false with the cumulative preference: parallel processes of one
// user send identical streams, told apart only by their start times (issue 20: 13 of 10 sessions).
func TestCumulativeWithoutSessionIDKeepsProcessesApart(t *testing.T) {
	a, c := newTestAccumulator(t, nil)
	u := map[string]string{"user.id": "u1", "model": "opus"}
	starts := []time.Time{t0.Add(time.Second), t0.Add(2 * time.Second), t0.Add(3 * time.Second)}
	for round := 1; round <= 4; round++ { // every process exports every interval, interleaved
		for i, st := range starts {
			v := float64(round * (i + 1))
			mustProcess(t, a, sums("claude-code", cost, pmetric.AggregationTemporalityCumulative,
				pt{u, v, st, st.Add(time.Duration(round) * time.Second)}))
		}
	}
	c.t = t0.Add(time.Minute)
	got := totals(a.snapshot(c.now()))[cost+"{model=opus,user.id=u1}"]
	if want := 4.0 + 8 + 12; !near(got, want) {
		t.Fatalf("three processes' final values add up to %v, got %v", want, got)
	}
}

func TestDroppedValueIsTallied(t *testing.T) {
	a, _ := newTestAccumulator(t, func(c *Config) { c.MaxStreams = 1 })
	u := func(user string) map[string]string { return map[string]string{"user.id": user, "model": "opus"} }
	tl := &tally{counts: map[string]int64{}, lost: map[string]float64{}, folded: map[string]int64{}}
	md := sums("claude-code", cost, pmetric.AggregationTemporalityDelta,
		pt{u("a"), 1.5, t0, t0}, pt{u("b"), 0.25, t0, t0}, pt{u("c"), 0.5, t0, t0})
	m := md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics().At(0)
	a.mu.Lock()
	a.accumulate(m, 1, shared{rawRes: pcommon.NewMap(), res: pcommon.NewMap(), resKey: 2, now: t0, t: tl}, nil, nil)
	a.mu.Unlock()
	if tl.counts[outcomeOverLimit] != 2 || !near(tl.lost[cost], 0.75) {
		t.Fatalf("two points over max_streams, 0.75 USD lost; got %v %v", tl.counts, tl.lost)
	}
}

func attributed(t *testing.T, mutate func(*Config)) (*accumulator, *clock) {
	t.Helper()
	return newTestAccumulator(t, func(c *Config) {
		c.Metrics = map[string]MetricRule{
			"claude_code.cost.usage": {Attributes: []string{"user.id", "model", "team.id", "cost_center", "project", "agent.name"}},
		}
		c.FromResource = []string{"team.id", "cost_center", "project"}
		c.CappedKeys = []string{"team.id", "cost_center", "project", "agent.name"}
		c.MaxValuesPerKey = 2
		if mutate != nil {
			mutate(c)
		}
	})
}

func TestAttributionFromPointOrResourceAndAbsentKeysAddNothing(t *testing.T) {
	a, c := attributed(t, nil)
	md := sums("claude-code", cost, pmetric.AggregationTemporalityDelta,
		pt{map[string]string{"user.id": "u1", "model": "opus", "team.id": "platform"}, 1, t0, t0})
	// the resource has the keys too (OTEL_RESOURCE_ATTRIBUTES); a point without them takes them from there
	res := md.ResourceMetrics().At(0).Resource().Attributes()
	res.PutStr("team.id", "ignored-the-point-wins")
	res.PutStr("cost_center", "eng-123")
	res.PutStr("department", "not-kept-for-this-metric")
	if _, err := a.process(context.Background(), md); !errors.Is(err, processorhelper.ErrSkipProcessingData) {
		t.Fatal(err)
	}
	// no attribution at all: no label, no series of its own beyond the plain one
	md = sums("claude-code", cost, pmetric.AggregationTemporalityDelta,
		pt{map[string]string{"user.id": "u2", "model": "opus", "project": ""}, 2, t0, t0})
	_, _ = a.process(context.Background(), md)
	c.t = t0.Add(time.Minute)
	got := totals(a.snapshot(c.now()))
	want := map[string]float64{
		cost + "{cost_center=eng-123,model=opus,team.id=platform,user.id=u1}": 1,
		cost + "{model=opus,user.id=u2}":                                      2,
	}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for k, v := range want {
		if !near(got[k], v) {
			t.Fatalf("%s: got %v, want %v (all: %v)", k, got[k], v, got)
		}
	}
}

func TestCappedKeysFoldFurtherValuesAndTotalsStayExact(t *testing.T) {
	a, c := attributed(t, nil)
	tl := &tally{counts: map[string]int64{}, lost: map[string]float64{}, folded: map[string]int64{}}
	huge := strings.Repeat("x", 10_000)
	var points []pt
	for i, team := range []string{"a", "b", "c", "d", huge, "caf\xe9-invalid-utf8", "a"} {
		points = append(points, pt{map[string]string{"user.id": "u", "model": "opus", "team.id": team}, float64(i + 1), t0, t0})
	}
	md := sums("claude-code", cost, pmetric.AggregationTemporalityDelta, points...)
	m := md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics().At(0)
	a.mu.Lock()
	a.accumulate(m, 1, shared{rawRes: pcommon.NewMap(), res: pcommon.NewMap(), resKey: 2, now: t0, t: tl}, nil, nil)
	a.mu.Unlock()
	c.t = t0.Add(time.Minute)
	got := totals(a.snapshot(c.now()))
	if !near(got[cost+"{model=opus,team.id=a,user.id=u}"], 1+7) || !near(got[cost+"{model=opus,team.id=b,user.id=u}"], 2) {
		t.Fatalf("the first two teams keep their values: %v", got)
	}
	if other := got[cost+"{model=opus,team.id="+OtherValue+",user.id=u}"]; !near(other, 3+4+5+6) {
		t.Fatalf("the other four are folded, their spend kept: %v", got)
	}
	if tl.folded["team.id"] != 4 || len(got) != 3 {
		t.Fatalf("4 points folded, 3 series; got %v, %v", tl.folded, got)
	}
	sum := 0.0
	for _, v := range got {
		sum += v
	}
	if !near(sum, 28) {
		t.Fatalf("the total is exact whatever is folded: %v", sum)
	}
}

func TestCappedValuesAreForgottenAfterMaxStale(t *testing.T) {
	a, c := attributed(t, func(cfg *Config) { cfg.MaxValuesPerKey = 1 })
	send := func(team string) {
		md := sums("claude-code", cost, pmetric.AggregationTemporalityDelta,
			pt{map[string]string{"user.id": "u", "model": "opus", "team.id": team}, 1, c.t, c.t})
		_, _ = a.process(context.Background(), md)
	}
	send("old")
	c.t = c.t.Add(a.cfg.MaxStale + time.Minute)
	a.snapshot(c.now()) // runs the gc
	send("new")
	c.t = c.t.Add(time.Minute)
	got := totals(a.snapshot(c.now()))
	if !near(got[cost+"{model=opus,team.id=new,user.id=u}"], 1) {
		t.Fatalf("a value unseen for max_stale frees its place: %v", got)
	}
}

func TestHistogramExemplarsAreKeptPerBucket(t *testing.T) {
	a, c := newTestAccumulator(t, func(cfg *Config) {
		cfg.Metrics["ccmon.claude_code.span.duration"] = MetricRule{Attributes: []string{"span_type"}}
	})
	send := func(seconds float64, trace byte) {
		md := pmetric.NewMetrics()
		rm := md.ResourceMetrics().AppendEmpty()
		rm.Resource().Attributes().PutStr("service.name", "claude-code")
		m := rm.ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
		m.SetName("ccmon.claude_code.span.duration")
		h := m.SetEmptyHistogram()
		h.SetAggregationTemporality(pmetric.AggregationTemporalityDelta)
		p := h.DataPoints().AppendEmpty()
		p.Attributes().PutStr("span_type", "llm_request")
		p.ExplicitBounds().FromRaw([]float64{1, 10})
		counts := []uint64{0, 0, 0}
		if seconds <= 1 {
			counts[0] = 1
		} else {
			counts[1] = 1
		}
		p.BucketCounts().FromRaw(counts)
		p.SetCount(1)
		p.SetSum(seconds)
		e := p.Exemplars().AppendEmpty()
		e.SetDoubleValue(seconds)
		e.SetTraceID(pcommon.TraceID{trace})
		_, _ = a.process(context.Background(), md)
	}
	send(0.5, 1)
	send(5, 2)
	send(0.7, 3) // replaces trace 1 in the first bucket
	c.t = t0.Add(time.Minute)
	md := a.snapshot(c.now())
	p := md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics().At(0).Histogram().DataPoints().At(0)
	if p.Count() != 3 || p.Exemplars().Len() != 2 {
		t.Fatalf("3 observations, one exemplar per used bucket: count %d, exemplars %d", p.Count(), p.Exemplars().Len())
	}
	if p.Exemplars().At(0).TraceID()[0] != 3 || p.Exemplars().At(1).TraceID()[0] != 2 {
		t.Fatalf("the latest exemplar of each bucket: %v %v", p.Exemplars().At(0).TraceID(), p.Exemplars().At(1).TraceID())
	}
}
