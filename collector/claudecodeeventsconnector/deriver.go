package claudecodeeventsconnector

import (
	"context"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

const scopeName = "github.com/otel-ccmon/otel-ccmon/collector/claudecodeeventsconnector"

// The derived metrics (their catalog entries are in otel_ccmon/_catalog.py).
const (
	MetricAPIRequests     = "ccmon.claude_code.api.requests"
	MetricAPIDuration     = "ccmon.claude_code.api.request.duration"
	MetricAPICost         = "ccmon.claude_code.api.cost"
	MetricAPITokens       = "ccmon.claude_code.api.tokens"
	MetricToolResults     = "ccmon.claude_code.tool.results"
	MetricToolDuration    = "ccmon.claude_code.tool.duration"
	MetricToolDecisions   = "ccmon.claude_code.tool.decisions"
	MetricPrompts         = "ccmon.claude_code.prompts"
	outcomeConverted      = "converted"
	outcomeIgnored        = "ignored"
	outcomeInvalidCost    = "invalid_cost"
	outcomeInvalidTokens  = "invalid_tokens"
	outcomeInvalidTiming  = "invalid_duration"
	unknownValue          = "unknown"
	successfulRequestCode = "200"
)

var units = map[string]string{
	MetricAPIRequests: "{request}", MetricAPIDuration: "s", MetricAPICost: "USD", MetricAPITokens: "{token}",
	MetricToolResults: "{result}", MetricToolDuration: "s", MetricToolDecisions: "{decision}", MetricPrompts: "{prompt}",
}

// the token fields of api_request, and the `type` they get (Claude Code's own names)
var tokenFields = [...]struct{ field, kind string }{
	{"input_tokens", "input"}, {"output_tokens", "output"},
	{"cache_read_tokens", "cacheRead"}, {"cache_creation_tokens", "cacheCreation"},
}

type deriver struct {
	component.StartFunc
	component.ShutdownFunc
	cfg      *Config
	services map[string]struct{}
	next     consumer.Metrics
	events   metric.Int64Counter
}

func newDeriver(cfg *Config, tel component.TelemetrySettings, next consumer.Metrics) (*deriver, error) {
	d := &deriver{cfg: cfg, services: map[string]struct{}{}, next: next}
	for _, s := range cfg.Services {
		d.services[s] = struct{}{}
	}
	var err error
	d.events, err = tel.MeterProvider.Meter(scopeName).Int64Counter(
		"otelcol_ccmon_claude_code_events",
		metric.WithDescription("Claude Code log events seen by the claudecode_events connector, by event and outcome."),
		metric.WithUnit("{event}"),
	)
	return d, err
}

func (d *deriver) Capabilities() consumer.Capabilities {
	return consumer.Capabilities{MutatesData: false}
}

// number reads an attribute that Claude Code sends as a number or as a numeric string.
func number(attrs pcommon.Map, key string) (float64, bool) {
	v, ok := attrs.Get(key)
	if !ok {
		return 0, false
	}
	var f float64
	switch v.Type() {
	case pcommon.ValueTypeInt:
		f = float64(v.Int())
	case pcommon.ValueTypeDouble:
		f = v.Double()
	case pcommon.ValueTypeStr:
		parsed, err := strconv.ParseFloat(strings.TrimSpace(v.Str()), 64)
		if err != nil {
			return 0, false
		}
		f = parsed
	default:
		return 0, false
	}
	return f, !math.IsNaN(f) && !math.IsInf(f, 0)
}

func (d *deriver) text(attrs pcommon.Map, key string) string {
	v, ok := attrs.Get(key)
	if !ok || v.AsString() == "" {
		return unknownValue
	}
	s := v.AsString()
	if len(s) > d.cfg.MaxValueLength {
		s = s[:d.cfg.MaxValueLength]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
	}
	return s
}

func eventName(r plog.LogRecord) string {
	if v, ok := r.Attributes().Get("event.name"); ok && v.AsString() != "" {
		return v.AsString()
	}
	if r.EventName() != "" {
		return strings.TrimPrefix(r.EventName(), "claude_code.")
	}
	return strings.TrimPrefix(r.Body().AsString(), "claude_code.")
}

// out collects the derived points of one resource.
type out struct {
	cfg     *Config
	metrics pmetric.MetricSlice
	byName  map[string]pmetric.Metric
	ts      pcommon.Timestamp
}

func (o *out) metric(name string, histogram bool) pmetric.Metric {
	if m, ok := o.byName[name]; ok {
		return m
	}
	m := o.metrics.AppendEmpty()
	m.SetName(name)
	m.SetUnit(units[name])
	if histogram {
		m.SetEmptyHistogram().SetAggregationTemporality(pmetric.AggregationTemporalityDelta)
	} else {
		s := m.SetEmptySum()
		s.SetIsMonotonic(true)
		s.SetAggregationTemporality(pmetric.AggregationTemporalityDelta)
	}
	o.byName[name] = m
	return m
}

func (o *out) add(name string, value float64, attrs ...string) {
	p := o.metric(name, false).Sum().DataPoints().AppendEmpty()
	for i := 0; i+1 < len(attrs); i += 2 {
		p.Attributes().PutStr(attrs[i], attrs[i+1])
	}
	p.SetStartTimestamp(o.ts)
	p.SetTimestamp(o.ts)
	p.SetDoubleValue(value)
}

func (o *out) observe(name string, seconds float64, attrs ...string) {
	p := o.metric(name, true).Histogram().DataPoints().AppendEmpty()
	for i := 0; i+1 < len(attrs); i += 2 {
		p.Attributes().PutStr(attrs[i], attrs[i+1])
	}
	p.SetStartTimestamp(o.ts)
	p.SetTimestamp(o.ts)
	bounds := o.cfg.DurationBuckets
	p.ExplicitBounds().FromRaw(bounds)
	counts := make([]uint64, len(bounds)+1)
	i := 0
	for i < len(bounds) && seconds > bounds[i] {
		i++
	}
	counts[i] = 1
	p.BucketCounts().FromRaw(counts)
	p.SetCount(1)
	p.SetSum(seconds)
}

// derive turns one event into points; it returns the outcome that is counted.
func (d *deriver) derive(o *out, name string, attrs pcommon.Map) string {
	user := d.text(attrs, "user.id")
	switch name {
	case "api_request":
		model := d.text(attrs, "model")
		o.add(MetricAPIRequests, 1, "model", model, "status_code", successfulRequestCode)
		outcome := outcomeConverted
		if ms, ok := number(attrs, "duration_ms"); ok && ms >= 0 {
			o.observe(MetricAPIDuration, ms/1000, "model", model)
		} else {
			outcome = outcomeInvalidTiming
		}
		tokens := make([]float64, len(tokenFields))
		for i, f := range tokenFields {
			n, ok := number(attrs, f.field)
			if !ok || n < 0 || n > d.cfg.MaxTokensPerRequest {
				// an absurd count makes the whole request's spend suspect: neither is added
				return outcomeInvalidTokens
			}
			tokens[i] = n
		}
		for i, f := range tokenFields {
			o.add(MetricAPITokens, tokens[i], "model", model, "type", f.kind)
		}
		cost, ok := number(attrs, "cost_usd")
		if !ok || cost < 0 || cost > d.cfg.MaxCostPerRequest {
			return outcomeInvalidCost
		}
		o.add(MetricAPICost, cost, "model", model, "user.id", user)
		return outcome
	case "api_error":
		code := d.text(attrs, "status_code")
		if code == "undefined" || code == "null" {
			code = unknownValue
		}
		o.add(MetricAPIRequests, 1, "model", d.text(attrs, "model"), "status_code", code)
	case "tool_result":
		tool := d.text(attrs, "tool_name")
		success := strings.ToLower(d.text(attrs, "success"))
		if success != "true" && success != "false" {
			success = unknownValue
		}
		o.add(MetricToolResults, 1, "tool_name", tool, "success", success)
		if ms, ok := number(attrs, "duration_ms"); ok && ms >= 0 {
			o.observe(MetricToolDuration, ms/1000, "tool_name", tool)
		} else {
			return outcomeInvalidTiming
		}
	case "tool_decision":
		o.add(MetricToolDecisions, 1, "tool_name", d.text(attrs, "tool_name"),
			"decision", d.text(attrs, "decision"), "source", d.text(attrs, "source"))
	case "user_prompt":
		o.add(MetricPrompts, 1, "user.id", user)
	default:
		return outcomeIgnored
	}
	return outcomeConverted
}

func (d *deriver) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	md := pmetric.NewMetrics()
	type eventOutcome struct{ event, outcome string }
	counts := map[eventOutcome]int64{}
	now := pcommon.NewTimestampFromTime(time.Now())
	for i := 0; i < ld.ResourceLogs().Len(); i++ {
		rl := ld.ResourceLogs().At(i)
		service, _ := rl.Resource().Attributes().Get("service.name")
		if _, ours := d.services[service.AsString()]; !ours {
			continue
		}
		rm := md.ResourceMetrics().AppendEmpty()
		rl.Resource().Attributes().CopyTo(rm.Resource().Attributes())
		sm := rm.ScopeMetrics().AppendEmpty()
		sm.Scope().SetName(scopeName)
		o := &out{cfg: d.cfg, metrics: sm.Metrics(), byName: map[string]pmetric.Metric{}}
		for j := 0; j < rl.ScopeLogs().Len(); j++ {
			records := rl.ScopeLogs().At(j).LogRecords()
			for k := 0; k < records.Len(); k++ {
				r := records.At(k)
				o.ts = r.Timestamp()
				if o.ts == 0 {
					o.ts = r.ObservedTimestamp()
				}
				if o.ts == 0 {
					o.ts = now
				}
				name := eventName(r)
				outcome := d.derive(o, name, r.Attributes())
				if outcome == outcomeIgnored {
					name = "other" // unbounded event names never become label values
				}
				counts[eventOutcome{name, outcome}]++
			}
		}
	}
	for k, n := range counts {
		d.events.Add(ctx, n, metric.WithAttributes(attribute.String("event", k.event), attribute.String("outcome", k.outcome)))
	}
	if md.DataPointCount() == 0 {
		return nil
	}
	return d.next.ConsumeMetrics(ctx, md)
}
