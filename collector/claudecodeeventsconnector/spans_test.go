package claudecodeeventsconnector

import (
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

type sp struct {
	name     string
	duration time.Duration
	attrs    map[string]any
}

func traces(service string, spans ...sp) ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", service)
	out := rs.ScopeSpans().AppendEmpty().Spans()
	start := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	for _, s := range spans {
		span := out.AppendEmpty()
		span.SetName(s.name)
		span.SetStartTimestamp(pcommon.NewTimestampFromTime(start))
		span.SetEndTimestamp(pcommon.NewTimestampFromTime(start.Add(s.duration)))
		if err := span.Attributes().FromRaw(s.attrs); err != nil {
			panic(err)
		}
	}
	return td
}

// histograms: name|label=value,... -> (count, sum)
func histograms(t *testing.T, td ptrace.Traces) map[string][2]float64 {
	t.Helper()
	sink := fed(t, plog.NewLogs(), &td)
	out := map[string][2]float64{}
	for _, md := range sink.AllMetrics() {
		for i := 0; i < md.ResourceMetrics().Len(); i++ {
			ms := md.ResourceMetrics().At(i).ScopeMetrics().At(0).Metrics()
			for j := 0; j < ms.Len(); j++ {
				m := ms.At(j)
				if m.Type() != pmetric.MetricTypeHistogram {
					continue
				}
				for k := 0; k < m.Histogram().DataPoints().Len(); k++ {
					p := m.Histogram().DataPoints().At(k)
					key := m.Name()
					p.Attributes().Range(func(k string, v pcommon.Value) bool {
						key += "|" + k + "=" + v.AsString()
						return true
					})
					got := out[key]
					out[key] = [2]float64{got[0] + float64(p.Count()), got[1] + p.Sum()}
				}
			}
		}
	}
	return out
}

func TestSpanDurationsAndTimeToFirstToken(t *testing.T) {
	got := histograms(t, traces("claude-code",
		sp{"claude_code.interaction", 4 * time.Second, map[string]any{"user_prompt": "<REDACTED>"}},
		sp{"claude_code.llm_request", 2 * time.Second, map[string]any{"model": "claude-opus-4-5", "ttft_ms": 350}},
		sp{"claude_code.tool", time.Second, map[string]any{"tool_name": "Bash"}},
		sp{"claude_code.tool.blocked_on_user", 500 * time.Millisecond, map[string]any{"decision": "accept"}},
		sp{"claude_code.tool.execution", 250 * time.Millisecond, map[string]any{"success": "true"}},
		sp{"some.other.span", time.Second, nil},
	))
	want := map[string][2]float64{
		MetricSpanDuration + "|span_type=interaction|model=unknown|tool_name=unknown":          {1, 4},
		MetricSpanDuration + "|span_type=llm_request|model=claude-opus-4-5|tool_name=unknown":  {1, 2},
		MetricSpanDuration + "|span_type=tool|model=unknown|tool_name=Bash|origin=model":       {1, 1},
		MetricSpanDuration + "|span_type=tool.blocked_on_user|model=unknown|tool_name=unknown": {1, 0.5},
		MetricSpanDuration + "|span_type=tool.execution|model=unknown|tool_name=unknown":       {1, 0.25},
		MetricTTFT + "|model=claude-opus-4-5":                                                  {1, 0.35},
	}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("%s: got %v, want %v (all %v)", k, got[k], v, got)
		}
	}
}

func TestAbsurdSpansAreNotObservedAndOtherServicesAreIgnored(t *testing.T) {
	got := histograms(t, traces("claude-code",
		sp{"claude_code.interaction", 48 * time.Hour, nil},
		sp{"claude_code.llm_request", time.Second, map[string]any{"model": "m", "ttft_ms": "5000"}}, // ttft > duration
	))
	if len(got) != 1 || got[MetricSpanDuration+"|span_type=llm_request|model=m|tool_name=unknown"] != [2]float64{1, 1} {
		t.Fatalf("only the sane duration is observed: %v", got)
	}
	if other := histograms(t, traces("checkout", sp{"claude_code.interaction", time.Second, nil})); len(other) != 0 {
		t.Fatalf("spans of other services are not Claude Code's: %v", other)
	}
}

// 2.1.332's ten span names are counted by name (none as other); a Code Mode script's tool span is
// told apart; the LLM request is labelled with the model that answered when the client says so.
func TestEverySpanNameOf2_1_332AndCodeModeAndResponseModel(t *testing.T) {
	var spans []sp
	for name := range spanTypes {
		spans = append(spans, sp{"claude_code." + name, time.Second, nil})
	}
	spans = append(spans,
		sp{"claude_code.tool", time.Second, map[string]any{"tool_name": "Read", "gen_ai.tool.call.id": "toolu_cc_1"}},
		sp{"claude_code.llm_request", time.Second, map[string]any{"model": "opus", "gen_ai.response.model": "claude-opus-4-5-20261101"}},
	)
	got := histograms(t, traces("claude-code", spans...))
	if len(spanTypes) != 10 {
		t.Fatalf("2.1.332 sends 10 span names, the table has %d", len(spanTypes))
	}
	n := 0.0
	for k, v := range got {
		if strings.HasPrefix(k, MetricSpanDuration) {
			n += v[0]
		}
		if strings.Contains(k, "span_type=other") {
			t.Fatalf("no span of 2.1.332 is other: %s", k)
		}
	}
	if n != 12 {
		t.Fatalf("12 spans observed, got %v (%v)", n, got)
	}
	if got[MetricSpanDuration+"|span_type=tool|model=unknown|tool_name=Read|origin=code_mode"] != [2]float64{1, 1} {
		t.Fatalf("the Code Mode tool span: %v", got)
	}
	if got[MetricSpanDuration+"|span_type=llm_request|model=claude-opus-4-5-20261101|tool_name=unknown"] != [2]float64{1, 1} {
		t.Fatalf("the response model labels the LLM request: %v", got)
	}
}
