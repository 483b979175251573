package claudecodeprocessor

import (
	"context"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// spanContent are span attributes that carry what a user typed or a tool ran with: removed from
// Claude Code's spans whatever the client's OTEL_LOG_* switches (the interaction span's
// user_prompt is "<REDACTED>" unless OTEL_LOG_USER_PROMPTS; with it, it is the prompt itself)
var spanContent = []string{"user_prompt", "prompt", "response", "tool_input", "tool_parameters", "bash_command"}

// processLogs applies the privacy rules to Claude Code's log events on their way to a log
// backend: user.email dropped, hashed or kept as for metrics, and the content attributes
// (drop_log_attributes: prompts, responses, tool input) removed whatever the client sends.
func (a *accumulator) processLogs(_ context.Context, ld plog.Logs) (plog.Logs, error) {
	for i := 0; i < ld.ResourceLogs().Len(); i++ {
		rl := ld.ResourceLogs().At(i)
		name, _ := rl.Resource().Attributes().Get("service.name")
		if _, ours := a.services[name.AsString()]; !ours {
			continue
		}
		a.scrub(rl.Resource().Attributes())
		for j := 0; j < rl.ScopeLogs().Len(); j++ {
			records := rl.ScopeLogs().At(j).LogRecords()
			for k := 0; k < records.Len(); k++ {
				a.scrub(records.At(k).Attributes())
			}
		}
	}
	return ld, nil
}

func (a *accumulator) scrub(attrs pcommon.Map) {
	attrs.RemoveIf(func(k string, _ pcommon.Value) bool {
		_, content := a.dropLogs[k]
		return content || (k == "user.email" && a.cfg.UserEmail == EmailDrop)
	})
	if v, ok := attrs.Get("user.email"); ok && a.cfg.UserEmail == EmailHash {
		v.SetStr(a.hashEmail(v.AsString()))
	}
}

// processTraces applies the same privacy rules to Claude Code's spans (traces beta) on their way
// to a trace backend and to the span metrics: user.email dropped, hashed or kept as for metrics,
// prompt and tool content removed, and span events' attributes scrubbed too.
func (a *accumulator) processTraces(_ context.Context, td ptrace.Traces) (ptrace.Traces, error) {
	for i := 0; i < td.ResourceSpans().Len(); i++ {
		rs := td.ResourceSpans().At(i)
		name, _ := rs.Resource().Attributes().Get("service.name")
		if _, ours := a.services[name.AsString()]; !ours {
			continue
		}
		a.scrub(rs.Resource().Attributes())
		for j := 0; j < rs.ScopeSpans().Len(); j++ {
			spans := rs.ScopeSpans().At(j).Spans()
			for k := 0; k < spans.Len(); k++ {
				span := spans.At(k)
				a.scrubSpan(span.Attributes())
				for e := 0; e < span.Events().Len(); e++ {
					a.scrubSpan(span.Events().At(e).Attributes())
				}
			}
		}
	}
	return td, nil
}

func (a *accumulator) scrubSpan(attrs pcommon.Map) {
	a.scrub(attrs)
	for _, k := range spanContent {
		attrs.Remove(k)
	}
}
