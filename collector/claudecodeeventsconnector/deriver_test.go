package claudecodeeventsconnector

import (
	"context"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

func logs(service string, events ...map[string]any) plog.Logs {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", service)
	records := rl.ScopeLogs().AppendEmpty().LogRecords()
	for _, e := range events {
		r := records.AppendEmpty()
		r.Body().SetStr("claude_code." + e["event.name"].(string))
		if err := r.Attributes().FromRaw(e); err != nil {
			panic(err)
		}
	}
	return ld
}

// sums totals every derived sum by metric name and its attributes.
func sums(md pmetric.Metrics) map[string]float64 {
	out := map[string]float64{}
	for i := 0; i < md.ResourceMetrics().Len(); i++ {
		ms := md.ResourceMetrics().At(i).ScopeMetrics().At(0).Metrics()
		for j := 0; j < ms.Len(); j++ {
			m := ms.At(j)
			if m.Type() == pmetric.MetricTypeHistogram {
				dps := m.Histogram().DataPoints()
				for k := 0; k < dps.Len(); k++ {
					out[m.Name()+"|count"] += float64(dps.At(k).Count())
					out[m.Name()+"|sum"] += dps.At(k).Sum()
				}
				continue
			}
			dps := m.Sum().DataPoints()
			for k := 0; k < dps.Len(); k++ {
				key := m.Name()
				dps.At(k).Attributes().Range(func(k string, v pcommon.Value) bool {
					key += "|" + k + "=" + v.AsString()
					return true
				})
				out[key] += dps.At(k).DoubleValue()
			}
		}
	}
	return out
}

// fed runs the span deriver (spans) or the events deriver on the default configuration and
// returns what it emitted.
func fed(t *testing.T, ld plog.Logs, td *ptrace.Traces) *consumertest.MetricsSink {
	t.Helper()
	cfg := NewFactory().CreateDefaultConfig().(*Config)
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	sink := new(consumertest.MetricsSink)
	tel := componenttest.NewNopTelemetrySettings()
	var err error
	if td != nil {
		var d *spanDeriver
		if d, err = newSpanDeriver(cfg, tel, sink); err == nil {
			err = d.ConsumeTraces(context.Background(), *td)
		}
	} else {
		var d *deriver
		if d, err = newDeriver(cfg, tel, sink); err == nil {
			err = d.ConsumeLogs(context.Background(), ld)
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	return sink
}

func derive(t *testing.T, ld plog.Logs) map[string]float64 {
	t.Helper()
	sink := fed(t, ld, nil)
	total := map[string]float64{}
	for _, md := range sink.AllMetrics() {
		for k, v := range sums(md) {
			total[k] += v
		}
	}
	return total
}

func request(cost any, input any) map[string]any {
	return map[string]any{
		"event.name": "api_request", "model": "claude-sonnet-4-5", "user.id": "u1", "session.id": "s1",
		"input_tokens": input, "output_tokens": int64(20), "cache_read_tokens": int64(50), "cache_creation_tokens": int64(10),
		"cost_usd": cost, "duration_ms": int64(88),
	}
}

func TestEventsBecomeMetrics(t *testing.T) {
	got := derive(t, logs("claude-code",
		request(0.0006525, int64(100)),
		request("0.00105", "200"), // numbers sent as strings are read
		map[string]any{"event.name": "api_error", "model": "claude-sonnet-4-5", "status_code": "429", "attempt": int64(10)},
		map[string]any{"event.name": "tool_result", "tool_name": "Bash", "success": "true", "duration_ms": "57"},
		map[string]any{"event.name": "tool_decision", "tool_name": "Bash", "decision": "accept", "source": "config"},
		map[string]any{"event.name": "user_prompt", "user.id": "u1", "prompt_length": "16"},
		map[string]any{"event.name": "plugin_loaded", "plugin.name": "x"},
	))
	want := map[string]float64{
		MetricAPIRequests + "|model=claude-sonnet-4-5|status_code=200":        2,
		MetricAPIRequests + "|model=claude-sonnet-4-5|status_code=429":        1,
		MetricAPITokens + "|model=claude-sonnet-4-5|type=input":               300,
		MetricAPITokens + "|model=claude-sonnet-4-5|type=cacheRead":           100,
		MetricAPICost + "|model=claude-sonnet-4-5|user.id=u1":                 0.0017025,
		MetricToolResults + "|tool_name=Bash|success=true|origin=model":       1,
		MetricToolDecisions + "|tool_name=Bash|decision=accept|source=config": 1,
		MetricPrompts + "|user.id=u1":                                         1,
		MetricAPIDuration + "|count":                                          2,
		MetricToolDuration + "|sum":                                           0.057,
	}
	assertNear(t, got, want)
}

func TestBadNumbersAreNeverAdded(t *testing.T) {
	got := derive(t, logs("claude-code",
		request("not-a-number", int64(100)), // tokens count, cost does not
		request(nil, int64(100)),
		request(-1.0, int64(100)),
		request(0.5, int64(1e12)), // absurd tokens: neither tokens nor cost
	))
	if c := got[MetricAPICost+"|model=claude-sonnet-4-5|user.id=u1"]; c != 0 {
		t.Fatalf("no cost may be added from invalid events, got %v", c)
	}
	if n := got[MetricAPITokens+"|model=claude-sonnet-4-5|type=input"]; n != 300 {
		t.Fatalf("want the three sane token counts (300), got %v", n)
	}
	if n := got[MetricAPIRequests+"|model=claude-sonnet-4-5|status_code=200"]; n != 4 {
		t.Fatalf("every request is still counted, got %v", n)
	}
}

func TestOtherServicesIgnored(t *testing.T) {
	if got := derive(t, logs("some-app", request(1.0, int64(1)))); len(got) != 0 {
		t.Fatalf("want nothing derived from another service, got %v", got)
	}
}

func TestEveryDocumentedEventIsCountedByNameOthersAsOther(t *testing.T) {
	var events []map[string]any
	for _, name := range DocumentedEvents {
		events = append(events, map[string]any{"event.name": name})
	}
	events = append(events, map[string]any{"event.name": "made_up_event_" + strings.Repeat("x", 500)},
		map[string]any{"event.name": "another_new_one"})
	got := derive(t, logs("claude-code", events...))
	for _, name := range DocumentedEvents {
		if got[MetricEvents+"|event="+name] != 1 {
			t.Fatalf("%s not counted by name: %v", name, got)
		}
	}
	if got[MetricEvents+"|event=other"] != 2 || len(DocumentedEvents) != 28+2 {
		t.Fatalf("undocumented names are other: %v", got[MetricEvents+"|event=other"])
	}
}

func TestOutcomeEventsAsTheRealClientSendsThem(t *testing.T) {
	// attribute names and types as the 2.1.332 client sends them (numbers as strings)
	got := derive(t, logs("claude-code",
		map[string]any{"event.name": "api_retries_exhausted", "model": "claude-opus-4-5", "status_code": 529, "total_attempts": 11},
		map[string]any{"event.name": "api_refusal", "model": "claude-opus-4-5", "request_id": "r1"},
		map[string]any{"event.name": "compaction", "trigger": "auto", "success": "true", "duration_ms": "2500", "pre_tokens": "150000"},
		map[string]any{"event.name": "subagent_completed", "agent_type": "Explore", "duration_ms": 30000, "total_tokens": 42000},
		map[string]any{"event.name": "hook_execution_complete", "hook_event": "PreToolUse", "num_success": "2",
			"num_blocking": "0", "num_non_blocking_error": "1", "num_cancelled": "1", "total_duration_ms": "1200"},
		map[string]any{"event.name": "mcp_server_connection", "status": "failed", "transport_type": "stdio", "server_name": "github"},
		map[string]any{"event.name": "mcp_server_connection", "status": "connected", "transport_type": "http"},
		map[string]any{"event.name": "internal_error", "error_name": "TypeError"},
		map[string]any{"event.name": "permission_mode_changed", "from_mode": "default", "to_mode": "plan"},
	))
	want := map[string]float64{
		MetricRetriesOut + "|model=claude-opus-4-5|status_code=529":                            1,
		MetricRefusals + "|model=claude-opus-4-5":                                              1,
		MetricCompactions + "|trigger=auto|success=true":                                       1,
		MetricCompactionTime + "|sum":                                                          2.5,
		MetricSubagents + "|agent_type=Explore":                                                1,
		MetricSubagentTokens + "|agent_type=Explore":                                           42000,
		MetricSubagentTime + "|sum":                                                            30,
		MetricHookRuns + "|hook_event=PreToolUse|outcome=success":                              2,
		MetricHookRuns + "|hook_event=PreToolUse|outcome=non_blocking_error":                   1,
		MetricHookRuns + "|hook_event=PreToolUse|outcome=cancelled":                            1,
		MetricHookTime + "|sum":                                                                1.2,
		MetricMCPConnections + "|mcp_server.name=github|status=failed|transport_type=stdio":    1,
		MetricMCPConnections + "|mcp_server.name=unknown|status=connected|transport_type=http": 1,
		MetricInternalErrors + "|error_name=TypeError":                                         1,
		MetricPermissionModes + "|to_mode=plan":                                                1,
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("%s: got %v, want %v\nall: %v", k, got[k], v, got)
		}
	}
	if _, blocking := got[MetricHookRuns+"|hook_event=PreToolUse|outcome=blocking"]; blocking {
		t.Fatal("a zero count adds no point")
	}
}

func TestAbsurdDurationsAndTokensAreNotAdded(t *testing.T) {
	got := derive(t, logs("claude-code",
		map[string]any{"event.name": "compaction", "trigger": "auto", "success": "true", "duration_ms": "1e30"},
		map[string]any{"event.name": "subagent_completed", "agent_type": "x", "duration_ms": -5, "total_tokens": 1e18},
		map[string]any{"event.name": "tool_result", "tool_name": "Bash", "success": "true", "duration_ms": "NaN"},
	))
	for _, m := range []string{MetricCompactionTime, MetricSubagentTime, MetricToolDuration} {
		if got[m+"|count"] != 0 {
			t.Fatalf("%s: an absurd duration was observed: %v", m, got)
		}
	}
	if got[MetricSubagentTokens+"|agent_type=x"] != 0 {
		t.Fatalf("absurd tokens added: %v", got)
	}
}

// Code Mode (2.1.329+): a script's tool calls (ids toolu_cc_..., repl_...) are told apart from the
// model's own, so the model's tool count and durations keep their meaning.
func TestCodeModeInnerToolCallsAreToldApart(t *testing.T) {
	got := derive(t, logs("claude-code",
		map[string]any{"event.name": "tool_result", "tool_name": "Code", "tool_use_id": "toolu_01AbC", "success": "true", "duration_ms": "900"},
		map[string]any{"event.name": "tool_result", "tool_name": "Read", "tool_use_id": "toolu_cc_01x", "success": "true", "duration_ms": "5"},
		map[string]any{"event.name": "tool_result", "tool_name": "Bash", "tool_use_id": "repl_7", "success": "false", "duration_ms": "10"},
	))
	want := map[string]float64{
		MetricToolResults + "|tool_name=Code|success=true|origin=model":      1,
		MetricToolResults + "|tool_name=Read|success=true|origin=code_mode":  1,
		MetricToolResults + "|tool_name=Bash|success=false|origin=code_mode": 1,
		MetricToolDuration + "|sum":                                          0.915,
	}
	assertNear(t, got, want)
}

// assertNear fails for every wanted point whose value differs by more than rounding.
func assertNear(t *testing.T, got, want map[string]float64) {
	t.Helper()
	for k, v := range want {
		if d := got[k] - v; d > 1e-12 || d < -1e-12 {
			t.Errorf("%s: want %v, got %v (all %v)", k, v, got[k], got)
		}
	}
}
