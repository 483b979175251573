package claudecodeeventsconnector

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// BenchmarkDerive: one export of 1,000 events (api_request, tool_result, user_prompt) through the
// connector, as `make bench` reports it: events per CPU-second (one goroutine).
func BenchmarkDerive(b *testing.B) {
	cfg := NewFactory().CreateDefaultConfig().(*Config)
	d, err := newDeriver(cfg, componenttest.NewNopTelemetrySettings(), consumertest.NewNop())
	if err != nil {
		b.Fatal(err)
	}
	events := make([]map[string]any, 0, 1000)
	for i := 0; i < 1000/4; i++ {
		user := fmt.Sprintf("%064d", i%100)
		events = append(events,
			map[string]any{"event.name": "api_request", "model": "claude-sonnet-4-5", "user.id": user, "cost_usd": 0.0017,
				"duration_ms": 800, "input_tokens": 100, "output_tokens": 20, "cache_read_tokens": 50, "cache_creation_tokens": 10},
			map[string]any{"event.name": "tool_result", "tool_name": "Bash", "success": "true", "duration_ms": "40", "user.id": user},
			map[string]any{"event.name": "tool_decision", "tool_name": "Bash", "decision": "accept", "source": "config", "user.id": user},
			map[string]any{"event.name": "user_prompt", "prompt_length": "40", "user.id": user},
		)
	}
	batches := make([]plog.Logs, b.N)
	for i := range batches {
		batches[i] = logs("claude-code", events...)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := d.ConsumeLogs(context.Background(), batches[i]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(events))/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkSpans: one export of 1,000 Claude Code spans (a prompt's interaction, two LLM requests,
// a tool with its blocked-on-user and execution children, repeated) through the span metrics:
// spans per CPU-second (one goroutine).
func BenchmarkSpans(b *testing.B) {
	cfg := NewFactory().CreateDefaultConfig().(*Config)
	d, err := newSpanDeriver(cfg, componenttest.NewNopTelemetrySettings(), consumertest.NewNop())
	if err != nil {
		b.Fatal(err)
	}
	var spans []sp
	for len(spans) < 1000 {
		spans = append(spans,
			sp{"claude_code.interaction", 9 * time.Second, map[string]any{"user.id": "u"}},
			sp{"claude_code.llm_request", 3 * time.Second, map[string]any{"model": "claude-sonnet-4-5", "ttft_ms": 400}},
			sp{"claude_code.llm_request", 2 * time.Second, map[string]any{"model": "claude-sonnet-4-5", "ttft_ms": 350}},
			sp{"claude_code.tool", time.Second, map[string]any{"tool_name": "Bash"}},
			sp{"claude_code.tool.blocked_on_user", 500 * time.Millisecond, map[string]any{"decision": "accept"}},
			sp{"claude_code.tool.execution", 400 * time.Millisecond, map[string]any{"success": "true"}},
		)
	}
	spans = spans[:1000]
	batches := make([]ptrace.Traces, b.N)
	for i := range batches {
		batches[i] = traces("claude-code", spans...)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := d.ConsumeTraces(context.Background(), batches[i]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(spans))/b.Elapsed().Seconds(), "spans/s")
}
