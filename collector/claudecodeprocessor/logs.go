package claudecodeprocessor

import (
	"context"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

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
