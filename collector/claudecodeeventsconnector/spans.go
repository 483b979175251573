package claudecodeeventsconnector

import (
	"context"
	"strings"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// Span metrics of Claude Code's traces beta (issue 21). Written here rather than with the contrib
// spanmetrics connector (which builds at v0.165.1) because the figure people ask for first, the
// time to first token, is an attribute of the LLM request span (ttft_ms), not a span's duration,
// which spanmetrics cannot read; and because these spans need the same checks as the events
// (absurd values refused and counted, bounded labels, Claude Code's services only).
const (
	MetricSpanDuration = "ccmon.claude_code.span.duration"
	MetricTTFT         = "ccmon.claude_code.llm.ttft"
	spanPrefix         = "claude_code."
)

// spanTypes are the span names the 2.1.332 client sends (without the claude_code. prefix); others:
// other (otel_ccmon/_privacy.py SPANS holds the same names)
var spanTypes = map[string]struct{}{
	"interaction": {}, "llm_request": {}, "tool": {}, "tool.blocked_on_user": {}, "tool.execution": {},
	"hook": {}, "subagent.spawn": {}, "mcp.rpc": {}, "compaction": {}, "bash.subprocess": {},
}

func init() {
	units[MetricSpanDuration] = "s"
	units[MetricTTFT] = "s"
}

type spanDeriver struct {
	component.StartFunc
	component.ShutdownFunc
	d     *deriver
	spans metric.Int64Counter
}

func newSpanDeriver(cfg *Config, tel component.TelemetrySettings, next consumer.Metrics) (*spanDeriver, error) {
	d, err := newDeriver(cfg, tel, next)
	if err != nil {
		return nil, err
	}
	s := &spanDeriver{d: d}
	s.spans, err = ownCounter(tel, "otelcol_ccmon_claude_code_spans", "{span}",
		"Claude Code spans seen by the claudecode_events connector, by span type and outcome.")
	return s, err
}

func (s *spanDeriver) Capabilities() consumer.Capabilities { return s.d.Capabilities() }

// the tool a span is about: tool_name on tool spans, the parent tool's name is not known to its
// children, so blocked_on_user and execution spans are "unknown" unless they carry it
func (s *spanDeriver) tool(attrs pcommon.Map) string {
	for _, k := range []string{"tool_name", "gen_ai.tool.name"} {
		if v, ok := attrs.Get(k); ok && v.AsString() != "" {
			return s.d.text(attrs, k)
		}
	}
	return unknownValue
}

func (s *spanDeriver) ConsumeTraces(ctx context.Context, td ptrace.Traces) error {
	md := pmetric.NewMetrics()
	type typeOutcome struct{ kind, outcome string }
	counts := map[typeOutcome]int64{}
	for i := 0; i < td.ResourceSpans().Len(); i++ {
		rs := td.ResourceSpans().At(i)
		o := s.d.outFor(md, rs.Resource())
		if o == nil {
			continue
		}
		for j := 0; j < rs.ScopeSpans().Len(); j++ {
			spans := rs.ScopeSpans().At(j).Spans()
			for k := 0; k < spans.Len(); k++ {
				kind, outcome := s.derive(o, spans.At(k))
				counts[typeOutcome{kind, outcome}]++
			}
		}
	}
	md.ResourceMetrics().RemoveIf(func(r pmetric.ResourceMetrics) bool { return r.ScopeMetrics().At(0).Metrics().Len() == 0 })
	for k, n := range counts {
		s.spans.Add(ctx, n, metric.WithAttributes(attribute.String("span_type", k.kind), attribute.String("outcome", k.outcome)))
	}
	if md.DataPointCount() == 0 {
		return nil
	}
	return s.d.next.ConsumeMetrics(ctx, md)
}

// derive observes one span's duration (and an LLM request's time to first token); it returns the
// span type and the outcome that is counted.
func (s *spanDeriver) derive(o *out, span ptrace.Span) (string, string) {
	name := span.Name()
	if !strings.HasPrefix(name, spanPrefix) {
		return otherEvent, outcomeIgnored
	}
	kind := strings.TrimPrefix(name, spanPrefix)
	if _, ok := spanTypes[kind]; !ok {
		return otherEvent, outcomeIgnored
	}
	o.ts = span.EndTimestamp()
	attrs := span.Attributes()
	model, tool, from := unknownValue, unknownValue, ""
	switch kind {
	case "llm_request":
		// the model that answered (2.1.331+) where the client says so, else the one asked for
		model = s.d.text(attrs, "model")
		if v, ok := attrs.Get("gen_ai.response.model"); ok && v.AsString() != "" {
			model = s.d.text(attrs, "gen_ai.response.model")
		}
	case "tool":
		tool, from = s.tool(attrs), origin(attrs, "gen_ai.tool.call.id")
	case "tool.blocked_on_user", "tool.execution":
		tool = s.tool(attrs)
	}
	if span.EndTimestamp() < span.StartTimestamp() || span.StartTimestamp() == 0 {
		return kind, outcomeInvalidTiming
	}
	ms := float64(span.EndTimestamp()-span.StartTimestamp()) / 1e6
	if ms > maxDurationMs {
		return kind, outcomeInvalidTiming
	}
	labels := []string{"span_type", kind, "model", model, "tool_name", tool}
	if from != "" {
		labels = append(labels, "origin", from)
	}
	p := o.observe(MetricSpanDuration, ms/1000, labels...)
	exemplar(p, span, ms/1000)
	if kind == "llm_request" {
		if ttft, ok := number(attrs, "ttft_ms"); ok && ttft >= 0 && ttft <= ms {
			exemplar(o.observe(MetricTTFT, ttft/1000, "model", model), span, ttft/1000)
		} else if ok {
			return kind, outcomeInvalidTiming
		}
	}
	return kind, outcomeConverted
}

// exemplar links the observation to its span: Prometheus (exemplar storage on) keeps it with the
// bucket, and Grafana opens the trace in the trace store from the histogram.
func exemplar(p pmetric.HistogramDataPoint, span ptrace.Span, seconds float64) {
	e := p.Exemplars().AppendEmpty()
	e.SetTimestamp(span.EndTimestamp())
	e.SetDoubleValue(seconds)
	e.SetTraceID(span.TraceID())
	e.SetSpanID(span.SpanID())
}
