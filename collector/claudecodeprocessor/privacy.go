package claudecodeprocessor

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// pseudonymPrefix starts every hashed identity; pseudonymLen is its whole length ("sha256:" + 16
// hex digits). A value already of that shape is left as it is, so that data passing the processor
// twice (log records, then the metrics the connector derives from them) keeps one pseudonym.
const (
	pseudonymPrefix = "sha256:"
	pseudonymLen    = len(pseudonymPrefix) + 16
	spanNamePrefix  = "claude_code."
)

// privacy holds the allowlists and the identity policy, as sets.
type privacy struct {
	identity map[string]struct{}
	resource map[string]struct{}
	common   map[string]struct{}
	events   map[string]map[string]struct{}
	spans    map[string]map[string]struct{}
	none     map[string]struct{}
	// agentRecords are, per agent other than Claude Code, the attributes its records and spans keep
	agentRecords map[string]map[string]struct{}
}

func newPrivacy(cfg *Config) privacy {
	p := privacy{
		identity: set(cfg.Identity.Keys), resource: set(cfg.Allowlist.Resource), common: set(cfg.Allowlist.Common),
		events: map[string]map[string]struct{}{}, spans: map[string]map[string]struct{}{}, none: map[string]struct{}{},
	}
	p.agentRecords = map[string]map[string]struct{}{}
	for _, ag := range cfg.Agents {
		p.agentRecords[ag.Name] = set(ag.Records)
	}
	for name, keys := range cfg.Allowlist.Events {
		p.events[name] = set(keys)
	}
	for name, keys := range cfg.Allowlist.Spans {
		p.spans[name] = set(keys)
	}
	return p
}

func isPseudonym(v string) bool {
	if len(v) != pseudonymLen || !strings.HasPrefix(v, pseudonymPrefix) {
		return false
	}
	_, err := hex.DecodeString(v[len(pseudonymPrefix):])
	return err == nil
}

// pseudonym is the keyed hash of an identity value: the same person gets the same pseudonym on
// every key (user.email and enduser.id holding one address) and in every signal.
func (a *accumulator) pseudonym(v string) string {
	if isPseudonym(v) {
		return v
	}
	mac := hmac.New(sha256.New, []byte(a.cfg.Identity.HashKey))
	mac.Write([]byte(v))
	return pseudonymPrefix + hex.EncodeToString(mac.Sum(nil))[:16]
}

// identity applies the identity policy to one value: what to store, and whether to store it.
func (a *accumulator) identity(v string) (string, bool) {
	switch a.cfg.Identity.Policy {
	case IdentityDrop:
		return "", false
	case IdentityKeep:
		return v, true
	}
	return a.pseudonym(v), true
}

func (a *accumulator) isIdentity(k string) bool {
	_, ok := a.priv.identity[k]
	return ok
}

// allow keeps only the attributes in common or own; identity keys follow the identity policy.
func (a *accumulator) allow(attrs pcommon.Map, own map[string]struct{}) {
	attrs.RemoveIf(func(k string, v pcommon.Value) bool {
		if a.isIdentity(k) {
			out, keep := a.identity(v.AsString())
			if keep {
				v.SetStr(out)
			}
			return !keep
		}
		if _, ok := a.priv.common[k]; ok {
			return false
		}
		_, ok := own[k]
		return !ok
	})
}

// ours tells whether a resource is Claude Code's: by its service.name, or by one of its
// instrumentation scopes (an administrator may choose any service.name). A resource recognised
// by scope alone is renamed to the first configured service, so that budgets, dashboards and
// the events connector treat it as Claude Code.
func (a *accumulator) ours(res pcommon.Map, scopes []string) bool {
	name, _ := res.Get("service.name")
	if _, ok := a.services[name.AsString()]; ok {
		return true
	}
	for _, scope := range scopes {
		for _, prefix := range a.cfg.ScopePrefixes {
			if strings.HasPrefix(scope, prefix) {
				res.PutStr("service.name", a.cfg.Services[0])
				return true
			}
		}
	}
	return false
}

// claimResource tells whether a resource is Claude Code's and, if so, keeps only its allowlisted
// attributes (identities under the policy).
func (a *accumulator) claimResource(res pcommon.Map, scopes []string) bool {
	if !a.ours(res, scopes) {
		return false
	}
	a.allow(res, a.priv.resource)
	return true
}

// ownKeys are the attributes a record or span named name keeps besides the common set.
func ownKeys(table map[string]map[string]struct{}, name string, none map[string]struct{}) map[string]struct{} {
	if own, known := table[name]; known {
		return own
	}
	return none
}

// scopeNames lists the n instrumentation scope names name(i) of one resource.
func scopeNames(n int, name func(int) string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = name(i)
	}
	return out
}

func logScopes(rl plog.ResourceLogs) []string {
	return scopeNames(rl.ScopeLogs().Len(), func(i int) string { return rl.ScopeLogs().At(i).Scope().Name() })
}

func spanScopes(rs ptrace.ResourceSpans) []string {
	return scopeNames(rs.ScopeSpans().Len(), func(i int) string { return rs.ScopeSpans().At(i).Scope().Name() })
}

// eventName is a log record's event name as Claude Code sends it (the event.name attribute; the
// record's EventName or body with the claude_code. prefix otherwise).
func eventName(r plog.LogRecord) string {
	if v, ok := r.Attributes().Get("event.name"); ok && v.AsString() != "" {
		return v.AsString()
	}
	if r.EventName() != "" {
		return strings.TrimPrefix(r.EventName(), spanNamePrefix)
	}
	return strings.TrimPrefix(r.Body().AsString(), spanNamePrefix)
}

// processLogs lets only allowlisted attributes of Claude Code's log events through (to a log
// backend and to the events connector): per event name its documented keys plus the common
// set, an unknown event the common set only; identities follow the identity policy; the body is
// the known event's name or nothing (allowBody).
func (a *accumulator) processLogs(_ context.Context, ld plog.Logs) (plog.Logs, error) {
	for i := 0; i < ld.ResourceLogs().Len(); i++ {
		rl := ld.ResourceLogs().At(i)
		if !a.claimResource(rl.Resource().Attributes(), logScopes(rl)) {
			if keys, agent := a.claimAgentResource(rl.Resource().Attributes()); agent {
				a.agentLogs(rl, keys)
			}
			continue
		}
		for j := 0; j < rl.ScopeLogs().Len(); j++ {
			records := rl.ScopeLogs().At(j).LogRecords()
			for k := 0; k < records.Len(); k++ {
				r := records.At(k)
				name := eventName(r)
				a.allow(r.Attributes(), ownKeys(a.priv.events, name, a.priv.none))
				a.allowBody(r, name)
			}
		}
	}
	return ld, nil
}

// allowBody keeps a record's body only as Claude Code sends it, the event's name: a known event's
// body becomes claude_code.<name>; any other body is cleared (with no event.name attribute the name
// is read from the body, which then may be anything a client put there).
func (a *accumulator) allowBody(r plog.LogRecord, name string) {
	if _, known := a.priv.events[name]; known {
		if r.Body().AsString() != spanNamePrefix+name {
			r.Body().SetStr(spanNamePrefix + name)
		}
	} else if r.Body().Type() != pcommon.ValueTypeEmpty {
		r.Body().SetStr("")
	}
}

// processTraces does the same for Claude Code's spans (traces beta): per span name its keys plus
// the common set; span events keep the common set only.
func (a *accumulator) processTraces(_ context.Context, td ptrace.Traces) (ptrace.Traces, error) {
	for i := 0; i < td.ResourceSpans().Len(); i++ {
		rs := td.ResourceSpans().At(i)
		if !a.claimResource(rs.Resource().Attributes(), spanScopes(rs)) {
			if keys, agent := a.claimAgentResource(rs.Resource().Attributes()); agent {
				a.allowSpans(rs, func(string) map[string]struct{} { return keys })
			}
			continue
		}
		a.allowSpans(rs, func(name string) map[string]struct{} {
			return ownKeys(a.priv.spans, strings.TrimPrefix(name, spanNamePrefix), a.priv.none)
		})
	}
	return td, nil
}

// allowSpans keeps, on every span of rs, the common set and keys(its name); span events keep the
// common set only.
func (a *accumulator) allowSpans(rs ptrace.ResourceSpans, keys func(name string) map[string]struct{}) {
	for j := 0; j < rs.ScopeSpans().Len(); j++ {
		spans := rs.ScopeSpans().At(j).Spans()
		for k := 0; k < spans.Len(); k++ {
			span := spans.At(k)
			a.allow(span.Attributes(), keys(span.Name()))
			for e := 0; e < span.Events().Len(); e++ {
				a.allow(span.Events().At(e).Attributes(), a.priv.none)
			}
		}
	}
}
