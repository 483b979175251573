package claudecodeprocessor

import (
	"context"
	"encoding/binary"
	"hash/maphash"
	"math"
	"sort"
	"sync"
	"time"

	"github.com/otel-ccmon/otel-ccmon/collector/ccmonattr"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/processor/processorhelper"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"
)

const scopeName = "github.com/otel-ccmon/otel-ccmon/collector/claudecodeprocessor"

// Outcomes of a received point, as the `outcome` of the processor's own counter.
const (
	outcomeAdded       = "added"        // added to its stream's total
	outcomeBaseline    = "baseline"     // cumulative series begun before this collector: its value so far is a baseline
	outcomeReset       = "reset"        // cumulative series restarted: its value counted from zero
	outcomeNegative    = "negative"     // dropped: a negative increment on a monotonic sum
	outcomeInvalid     = "invalid"      // dropped: NaN or infinite value, or malformed histogram
	outcomeOverLimit   = "over_limit"   // dropped: max_streams reached
	outcomeUnsupported = "unsupported"  // dropped: cumulative histogram or other shape not accumulated
	outcomeBounds      = "bounds_moved" // dropped: histogram bounds differ from the stream's
)

type stream struct {
	name, unit, description string
	histogram               bool
	resource, attrs         pcommon.Map
	resourceKey             uint64
	created, visibleAt      time.Time
	lastSeen                time.Time
	total                   float64 // sum: the running total
	bounds                  []float64
	counts                  []uint64
	count                   uint64
	exemplars               map[int]pmetric.Exemplar // the latest per bucket (a trace id for the histogram)
}

type source struct {
	start pcommon.Timestamp
	last  float64
	seen  time.Time
}

type accumulator struct {
	cfg       *Config
	services  map[string]struct{}
	agents    map[string]*AgentConfig
	rules     map[string]map[string]struct{}
	defaults  map[string]struct{}
	keepRes   map[string]struct{}
	fromRes   []string
	capped    map[string]map[string]time.Time // capped key -> value -> last seen
	priv      privacy
	seed      maphash.Seed
	next      consumer.Metrics
	logger    *zap.Logger
	now       func() time.Time
	startedAt pcommon.Timestamp

	mu      sync.Mutex
	streams map[uint64]*stream
	sources map[uint64]*source
	lastGC  time.Time

	stop chan struct{}
	done chan struct{}

	points  metric.Int64Counter
	dropped metric.Float64Counter
	folded  metric.Int64Counter
}

func set(values []string) map[string]struct{} {
	out := make(map[string]struct{}, len(values))
	for _, v := range values {
		out[v] = struct{}{}
	}
	return out
}

func newAccumulator(cfg *Config, tel component.TelemetrySettings, next consumer.Metrics) (*accumulator, error) {
	a := &accumulator{
		cfg: cfg, services: set(cfg.Services), rules: map[string]map[string]struct{}{},
		defaults: set(cfg.DefaultAttributes), keepRes: set(cfg.KeepResource), priv: newPrivacy(cfg), seed: maphash.MakeSeed(),
		next: next, logger: tel.Logger, now: time.Now,
		streams: map[uint64]*stream{}, sources: map[uint64]*source{},
		fromRes: cfg.FromResource, capped: map[string]map[string]time.Time{}, agents: indexAgents(cfg),
	}
	for _, k := range cfg.CappedKeys {
		a.capped[k] = map[string]time.Time{}
	}
	a.startedAt = pcommon.NewTimestampFromTime(a.now())
	if cfg.Identity.Policy == IdentityHash && cfg.Identity.HashKey == "" && next != nil {
		tel.Logger.Warn("claudecode: identity.hash_key is empty: identities are hashed without a key, and a " +
			"pseudonym can be undone by hashing guessed addresses; set CCMON_IDENTITY_HASH_KEY (16+ characters)")
	}
	for name, r := range cfg.Metrics {
		a.rules[name] = set(r.Attributes)
	}
	meter := tel.MeterProvider.Meter(scopeName)
	var err error
	a.points, err = meter.Int64Counter(
		"otelcol_ccmon_claude_code_points",
		metric.WithDescription("Claude Code data points the claudecode processor received, by outcome."),
		metric.WithUnit("{point}"),
	)
	if err != nil {
		return nil, err
	}
	// what a cut costs, in the metric's own unit (USD, tokens, ...): the "at least" figure that
	// the report and the dashboard show next to totals that are incomplete (issue 20)
	a.dropped, err = meter.Float64Counter(
		"otelcol_ccmon_claude_code_dropped_value",
		metric.WithDescription("Sum of the increments of Claude Code points the claudecode processor dropped (max_streams reached), by metric."),
	)
	if err != nil {
		return nil, err
	}
	a.folded, err = meter.Int64Counter(
		"otelcol_ccmon_claude_code_folded_values",
		metric.WithDescription("Claude Code points whose value of a capped attribute (team, project, subagent, ...) was folded into "+OtherValue+" (max_values_per_key reached), by key."),
		metric.WithUnit("{point}"),
	)
	if err != nil {
		return nil, err
	}
	if next != nil {
		for _, k := range cfg.CappedKeys {
			a.folded.Add(context.Background(), 0, metric.WithAttributes(attribute.String("key", k)))
		}
		// the cut counters exist at 0 from the start: increase() then counts their first drop
		// (a counter that appears with its first value loses that value to increase())
		for _, outcome := range []string{outcomeOverLimit, outcomeInvalid, outcomeNegative} {
			a.points.Add(context.Background(), 0, metric.WithAttributes(attribute.String("outcome", outcome)))
		}
		for name := range cfg.Metrics {
			a.dropped.Add(context.Background(), 0, metric.WithAttributes(attribute.String("metric", name)))
		}
	}
	// the budget beside the streams held: ccmon doctor compares both with the developers it sees
	_, err = meter.Int64ObservableGauge(
		"otelcol_ccmon_claude_code_max_streams",
		metric.WithDescription("The claudecode processor's stream budget (max_streams): streams past it are cut and counted."),
		metric.WithUnit("{stream}"),
		metric.WithInt64Callback(func(_ context.Context, o metric.Int64Observer) error {
			o.Observe(int64(a.cfg.MaxStreams))
			return nil
		}),
	)
	if err != nil {
		return nil, err
	}
	_, err = meter.Int64ObservableGauge(
		"otelcol_ccmon_claude_code_streams",
		metric.WithDescription("Reduced Claude Code streams (totals) the claudecode processor holds."),
		metric.WithUnit("{stream}"),
		metric.WithInt64Callback(func(_ context.Context, o metric.Int64Observer) error {
			a.mu.Lock()
			defer a.mu.Unlock()
			o.Observe(int64(len(a.streams)))
			return nil
		}),
	)
	return a, err
}

func (a *accumulator) start(context.Context, component.Host) error {
	a.stop, a.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(a.done)
		t := time.NewTicker(a.cfg.EmitInterval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				a.flush(context.Background())
			case <-a.stop:
				return
			}
		}
	}()
	return nil
}

func (a *accumulator) shutdown(ctx context.Context) error {
	if a.stop != nil {
		close(a.stop)
		<-a.done
		a.stop = nil
	}
	a.flush(ctx)
	return nil
}

func (a *accumulator) flush(ctx context.Context) {
	md := a.snapshot(a.now())
	if md.DataPointCount() == 0 {
		return
	}
	if err := a.next.ConsumeMetrics(ctx, md); err != nil {
		a.logger.Warn("claudecode: sending the totals failed; they are sent again next interval", zap.Error(err))
	}
}

func (a *accumulator) hashMap(h *maphash.Hash, m pcommon.Map) {
	keys := make([]string, 0, m.Len())
	m.Range(func(k string, _ pcommon.Value) bool {
		keys = append(keys, k)
		return true
	})
	sort.Strings(keys)
	for _, k := range keys {
		v, _ := m.Get(k)
		h.WriteByte(0)
		h.WriteString(k)
		h.WriteByte(1)
		h.WriteString(v.AsString())
	}
}

// mapKey is the seeded hash of an attribute map (order-independent).
func (a *accumulator) mapKey(m pcommon.Map) uint64 {
	var h maphash.Hash
	h.SetSeed(a.seed)
	a.hashMap(&h, m)
	return h.Sum64()
}

func (a *accumulator) truncate(s string) string {
	return ccmonattr.Truncate(s, a.cfg.MaxValueLength)
}

// reduce returns the attributes kept on the metric's totals: the catalog's keys (or all but
// default_attributes for metrics outside it), identities dropped, hashed or kept, the
// from_resource keys the point lacks taken from its resource, and capped keys bounded.
func (a *accumulator) reduce(name string, attrs, rawRes pcommon.Map, now time.Time, t *tally) pcommon.Map {
	out := pcommon.NewMap()
	rule, known := a.rules[name]
	put := func(k string, v pcommon.Value) bool {
		if known {
			if _, ok := rule[k]; !ok {
				return true
			}
		} else if _, kept := a.defaults[k]; !kept && !a.isIdentity(k) {
			return true
		}
		value := v.AsString()
		if a.isIdentity(k) {
			var keep bool
			if value, keep = a.identity(value); !keep {
				return true
			}
		}
		value = a.truncate(value)
		if value == "" {
			return true // an empty attribution value is an absent one: no series of its own
		}
		if values, ok := a.capped[k]; ok {
			value = a.capValue(k, values, value, now, t)
		}
		out.PutStr(k, value)
		return true
	}
	attrs.Range(put)
	for _, k := range a.fromRes {
		if _, has := out.Get(k); has {
			continue
		}
		if _, onPoint := attrs.Get(k); onPoint {
			continue // on the point but not kept for this metric
		}
		if v, ok := rawRes.Get(k); ok {
			put(k, v)
		}
	}
	return out
}

// capValue keeps value if it is known or there is room, else folds it into OtherValue.
func (a *accumulator) capValue(key string, values map[string]time.Time, value string, now time.Time, t *tally) string {
	if _, seen := values[value]; seen || len(values) < a.cfg.MaxValuesPerKey {
		values[value] = now
		return value
	}
	t.fold(key)
	return OtherValue
}

func (a *accumulator) reduceResource(res pcommon.Map) pcommon.Map {
	out := pcommon.NewMap()
	res.Range(func(k string, v pcommon.Value) bool {
		if _, ok := a.keepRes[k]; ok {
			out.PutStr(k, a.truncate(v.AsString()))
		}
		return true
	})
	return out
}

// descriptor is what a stream's metric is: name, unit, description, sum or histogram.
type descriptor struct {
	name, unit, description string
	histogram               bool
}

// stream finds or creates the total of a reduced stream of m; nil when max_streams is reached.
func (a *accumulator) stream(m pmetric.Metric, res pcommon.Map, resKey uint64, attrs pcommon.Map, now time.Time) *stream {
	d := descriptor{name: m.Name(), unit: m.Unit(), description: m.Description(), histogram: m.Type() == pmetric.MetricTypeHistogram}
	return a.streamOf(d, res, resKey, attrs, now)
}

// streamOf finds or creates the total of a reduced stream; nil when max_streams is reached.
func (a *accumulator) streamOf(d descriptor, res pcommon.Map, resKey uint64, attrs pcommon.Map, now time.Time) *stream {
	var h maphash.Hash
	h.SetSeed(a.seed)
	h.WriteString(d.name)
	if d.histogram {
		h.WriteByte(1)
	}
	h.WriteString(d.unit)
	h.Write(binary.LittleEndian.AppendUint64(nil, resKey))
	a.hashMap(&h, attrs)
	key := h.Sum64()
	if s, ok := a.streams[key]; ok {
		s.lastSeen = now
		return s
	}
	if len(a.streams) >= a.cfg.MaxStreams {
		return nil
	}
	s := &stream{
		name: d.name, unit: d.unit, description: d.description, histogram: d.histogram,
		resource: res, attrs: attrs, resourceKey: resKey,
		created: now, visibleAt: now.Add(a.cfg.FirstValueDelay), lastSeen: now,
	}
	a.streams[key] = s
	return s
}

// increment turns a cumulative point into the increment since the source's previous point.
// rawKey identifies the source's resource (all its attributes), hashed once per resource.
//
// A source is also told apart by its start time: Claude Code's resource names no process, and
// with OTEL_METRICS_INCLUDE_SESSION_ID=false parallel sessions of one user send identical
// streams; each process's cumulative series starts at its own first measurement, so the start
// time separates their running totals (keyed without it they interleave and every switch looked
// like a reset: 13 of 10 sessions counted, issue 20). A restarted process is a new source too.
func (a *accumulator) increment(name string, rawKey uint64, start pcommon.Timestamp, attrs pcommon.Map, value float64, now time.Time) (float64, string) {
	var h maphash.Hash
	h.SetSeed(a.seed)
	h.WriteString(name)
	h.Write(binary.LittleEndian.AppendUint64(nil, rawKey))
	h.Write(binary.LittleEndian.AppendUint64(nil, uint64(start)))
	a.hashMap(&h, attrs)
	key := h.Sum64()
	src, ok := a.sources[key]
	if !ok {
		a.sources[key] = &source{start: start, last: value, seen: now}
		if start != 0 && start < a.startedAt {
			return 0, outcomeBaseline
		}
		return value, outcomeAdded
	}
	src.seen = now
	if value < src.last {
		src.start, src.last = start, value
		return value, outcomeReset
	}
	inc := value - src.last
	src.last = value
	return inc, outcomeAdded
}

// tally collects one batch's outcomes and dropped values, recorded after the lock is released.
type tally struct {
	counts map[string]int64
	lost   map[string]float64
	folded map[string]int64
}

func (t *tally) fold(key string) { t.folded[key]++ }

func (t *tally) count(outcome string) { t.counts[outcome]++ }

func (t *tally) lose(name string, v float64) { t.lost[name] += v }

func numberValue(p pmetric.NumberDataPoint) float64 {
	if p.ValueType() == pmetric.NumberDataPointValueTypeInt {
		return float64(p.IntValue())
	}
	return p.DoubleValue()
}

func bad(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) }

// accumulate adds one metric's points to the totals; it returns false for metrics it leaves in
// the batch (gauges, non-monotonic sums: only their attributes are reduced).
func (a *accumulator) accumulate(m pmetric.Metric, rawKey uint64, to shared, rule *AgentMetric, ag *AgentConfig) bool {
	count, t, now, rawRes, res, resKey := to.t.count, to.t, to.now, to.rawRes, to.res, to.resKey
	switch {
	case m.Type() == pmetric.MetricTypeSum && m.Sum().IsMonotonic():
		a.increments(m, rawKey, now, t, func(attrs pcommon.Map, v float64) string {
			if rule != nil {
				a.feed(ag, *rule, attrs, to, v)
			}
			s := a.stream(m, res, resKey, a.reduce(m.Name(), attrs, rawRes, now, t), now)
			if s == nil {
				t.lose(m.Name(), v)
				return outcomeOverLimit
			}
			s.total += v
			return ""
		})
		return true
	case m.Type() == pmetric.MetricTypeHistogram:
		if m.Histogram().AggregationTemporality() != pmetric.AggregationTemporalityDelta {
			count(outcomeUnsupported)
			return true
		}
		dps := m.Histogram().DataPoints()
		for i := 0; i < dps.Len(); i++ {
			p := dps.At(i)
			bounds, counts := p.ExplicitBounds().AsRaw(), p.BucketCounts().AsRaw()
			if bad(p.Sum()) || len(counts) != len(bounds)+1 {
				count(outcomeInvalid)
				continue
			}
			s := a.stream(m, res, resKey, a.reduce(m.Name(), p.Attributes(), rawRes, now, t), now)
			if s == nil {
				count(outcomeOverLimit)
				t.lose(m.Name(), p.Sum())
				continue
			}
			if s.counts == nil {
				s.bounds, s.counts = bounds, make([]uint64, len(counts))
			} else if !equal(s.bounds, bounds) {
				count(outcomeBounds)
				continue
			}
			for j, c := range counts {
				s.counts[j] += c
			}
			keepExemplars(s, p.Exemplars())
			s.count += p.Count()
			s.total += p.Sum()
			count(outcomeAdded)
		}
		return true
	default:
		reduceInPlace(m, func(attrs pcommon.Map) pcommon.Map { return a.reduce(m.Name(), attrs, rawRes, now, t) })
		return false
	}
}

// keepExemplars keeps, per bucket, the latest exemplar of a histogram stream (a copy: the batch
// is not ours to keep); Prometheus stores one per bucket and scrape anyway.
func keepExemplars(s *stream, in pmetric.ExemplarSlice) {
	for i := 0; i < in.Len(); i++ {
		e := in.At(i)
		v := e.DoubleValue()
		if e.ValueType() == pmetric.ExemplarValueTypeInt {
			v = float64(e.IntValue())
		}
		j := 0
		for j < len(s.bounds) && v > s.bounds[j] {
			j++
		}
		if s.exemplars == nil {
			s.exemplars = map[int]pmetric.Exemplar{}
		}
		kept := pmetric.NewExemplar()
		e.CopyTo(kept)
		s.exemplars[j] = kept
	}
}

func equal(x, y []float64) bool {
	if len(x) != len(y) {
		return false
	}
	for i := range x {
		if x[i] != y[i] {
			return false
		}
	}
	return true
}

func reduceInPlace(m pmetric.Metric, reduce func(pcommon.Map) pcommon.Map) {
	var dps pmetric.NumberDataPointSlice
	switch m.Type() {
	case pmetric.MetricTypeGauge:
		dps = m.Gauge().DataPoints()
	case pmetric.MetricTypeSum:
		dps = m.Sum().DataPoints()
	default:
		return
	}
	for i := 0; i < dps.Len(); i++ {
		reduce(dps.At(i).Attributes()).CopyTo(dps.At(i).Attributes())
	}
}

func (a *accumulator) process(ctx context.Context, md pmetric.Metrics) (pmetric.Metrics, error) {
	now := a.now()
	t := &tally{counts: map[string]int64{}, lost: map[string]float64{}, folded: map[string]int64{}}
	a.mu.Lock()
	md.ResourceMetrics().RemoveIf(func(rm pmetric.ResourceMetrics) bool {
		if !a.ours(rm.Resource().Attributes(), metricScopes(rm)) {
			if ag := a.agentOf(rm.Resource().Attributes()); ag != nil {
				a.consumeAgent(rm, ag, now, t)
				return true
			}
			if len(a.cfg.Apps.Metrics) > 0 {
				a.consumeApp(rm, now, t)
			}
			return rm.ScopeMetrics().Len() == 0
		}
		to, rawKey := a.sharedOf(rm.Resource().Attributes(), now, t)
		ag := a.agentOf(to.rawRes)
		rm.ScopeMetrics().RemoveIf(func(sm pmetric.ScopeMetrics) bool {
			sm.Metrics().RemoveIf(func(m pmetric.Metric) bool {
				var rule *AgentMetric
				if r, ok := ag.metric(m.Name()); ok {
					rule = &r
				}
				return a.accumulate(m, rawKey, to, rule, ag)
			})
			return sm.Metrics().Len() == 0
		})
		if rm.ScopeMetrics().Len() > 0 {
			to.res.CopyTo(rm.Resource().Attributes())
		}
		return rm.ScopeMetrics().Len() == 0
	})
	a.mu.Unlock()
	for outcome, n := range t.counts {
		a.points.Add(ctx, n, metric.WithAttributes(attribute.String("outcome", outcome)))
	}
	for name, v := range t.lost {
		a.dropped.Add(ctx, v, metric.WithAttributes(attribute.String("metric", name)))
	}
	for key, n := range t.folded {
		a.folded.Add(ctx, n, metric.WithAttributes(attribute.String("key", key)))
	}
	if md.ResourceMetrics().Len() == 0 {
		return md, processorhelper.ErrSkipProcessingData
	}
	return md, nil
}

func metricScopes(rm pmetric.ResourceMetrics) []string {
	return scopeNames(rm.ScopeMetrics().Len(), func(i int) string { return rm.ScopeMetrics().At(i).Scope().Name() })
}

func (a *accumulator) gc(now time.Time) {
	if now.Sub(a.lastGC) < a.cfg.MaxStale/16 {
		return
	}
	a.lastGC = now
	for k, s := range a.streams {
		if now.Sub(s.lastSeen) > a.cfg.MaxStale {
			delete(a.streams, k)
		}
	}
	for k, s := range a.sources {
		if now.Sub(s.seen) > a.cfg.MaxStale {
			delete(a.sources, k)
		}
	}
	for _, values := range a.capped {
		for v, seen := range values {
			if now.Sub(seen) > a.cfg.MaxStale {
				delete(values, v)
			}
		}
	}
}

// snapshot renders every total as a cumulative point (at 0 while a stream is new).
func (a *accumulator) snapshot(now time.Time) pmetric.Metrics {
	md := pmetric.NewMetrics()
	ts := pcommon.NewTimestampFromTime(now)
	a.mu.Lock()
	defer a.mu.Unlock()
	a.gc(now)
	type metricKey struct {
		resource uint64
		name     string
	}
	resources := map[uint64]pmetric.MetricSlice{}
	metrics := map[metricKey]pmetric.Metric{}
	keys := make([]uint64, 0, len(a.streams))
	for k := range a.streams {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	for _, k := range keys {
		s := a.streams[k]
		slice, ok := resources[s.resourceKey]
		if !ok {
			rm := md.ResourceMetrics().AppendEmpty()
			s.resource.CopyTo(rm.Resource().Attributes())
			sm := rm.ScopeMetrics().AppendEmpty()
			sm.Scope().SetName(scopeName)
			slice = sm.Metrics()
			resources[s.resourceKey] = slice
		}
		mk := metricKey{s.resourceKey, s.name}
		m, ok := metrics[mk]
		if !ok {
			m = slice.AppendEmpty()
			m.SetName(s.name)
			m.SetUnit(s.unit)
			m.SetDescription(s.description)
			if s.histogram {
				m.SetEmptyHistogram().SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
			} else {
				sum := m.SetEmptySum()
				sum.SetIsMonotonic(true)
				sum.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
			}
			metrics[mk] = m
		}
		shown := !now.Before(s.visibleAt)
		start := pcommon.NewTimestampFromTime(s.created)
		if s.histogram {
			p := m.Histogram().DataPoints().AppendEmpty()
			s.attrs.CopyTo(p.Attributes())
			p.SetStartTimestamp(start)
			p.SetTimestamp(ts)
			p.ExplicitBounds().FromRaw(s.bounds)
			counts := make([]uint64, len(s.counts))
			if shown {
				copy(counts, s.counts)
				p.SetCount(s.count)
				p.SetSum(s.total)
			}
			p.BucketCounts().FromRaw(counts)
			if shown {
				buckets := make([]int, 0, len(s.exemplars))
				for j := range s.exemplars {
					buckets = append(buckets, j)
				}
				sort.Ints(buckets)
				for _, j := range buckets {
					s.exemplars[j].CopyTo(p.Exemplars().AppendEmpty())
				}
			}
			continue
		}
		p := m.Sum().DataPoints().AppendEmpty()
		s.attrs.CopyTo(p.Attributes())
		p.SetStartTimestamp(start)
		p.SetTimestamp(ts)
		if shown {
			p.SetDoubleValue(s.total)
		} else {
			p.SetDoubleValue(0)
		}
	}
	return md
}
