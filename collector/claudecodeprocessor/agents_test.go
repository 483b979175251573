package claudecodeprocessor

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

const (
	tokens   = "agent.token.usage"
	costs    = "agent.cost.usage"
	unpriced = "agent.token.unpriced"
)

// agentsConfig is the shape mixin/collector_firewall.py generates, for three agents.
func agentsConfig(c *Config) {
	shared := []string{"agent", "model", "type", "user.email", "team.id"}
	c.Metrics = map[string]MetricRule{
		tokens:                    {Attributes: shared},
		unpriced:                  {Attributes: shared},
		costs:                     {Attributes: []string{"agent", "model", "estimated", "user.email", "team.id"}},
		"claude_code.token.usage": {Attributes: []string{"user.id", "model", "type"}},
		"claude_code.cost.usage":  {Attributes: []string{"user.id", "model"}},
	}
	c.FromResource = []string{"team.id", "user.email"}
	c.Outputs = map[string]OutputConfig{tokens: {Unit: "tokens"}, costs: {Unit: "USD"}, unpriced: {Unit: "tokens"}}
	c.Pricing = PricingConfig{Tokens: tokens, Cost: costs, Unpriced: unpriced, Prices: []Price{
		{Model: "gemini-2.5-flash", PerMillion: map[string]float64{"input": 0.3, "cacheRead": 0.03, "output": 2.5, "reasoning": 2.5, "tool": 0.3}},
		{Model: "gpt-5*", PerMillion: map[string]float64{"input": 1.25, "cacheRead": 0.125, "output": 10, "reasoning": 10}},
		{Agent: "codex", Model: "gpt-5-codex", PerMillion: map[string]float64{"input": 2, "cacheRead": 0.2, "output": 20, "reasoning": 20}},
	}}
	gemini := map[string]string{"input": "input", "output": "output", "cache": "cacheRead", "thought": "reasoning", "tool": "tool"}
	c.Agents = []AgentConfig{
		{Name: "claude-code", Services: []string{"claude-code"}, SendsCost: true, Metrics: map[string]AgentMetric{
			"claude_code.token.usage": {To: tokens},
			"claude_code.cost.usage":  {To: costs, Constant: map[string]string{"estimated": "false"}},
		}},
		{Name: "gemini-cli", Services: []string{"gemini-cli"}, Records: []string{"model", "input_token_count"}, Metrics: map[string]AgentMetric{
			"gemini_cli.token.usage": {To: tokens, Types: gemini, Within: map[string]string{"cacheRead": "input"}},
		}},
		{Name: "codex", Services: []string{"codex_exec"}, Metrics: map[string]AgentMetric{
			"codex.turn.token_usage": {To: tokens, Rename: map[string]string{"token_type": "type"},
				Types:  map[string]string{"input": "input", "cached_input": "cacheRead", "output": "output", "reasoning_output": "reasoning"},
				Within: map[string]string{"cacheRead": "input", "reasoning": "output"}},
		}},
	}
}

func agentSums(service, name string, temporality pmetric.AggregationTemporality, start time.Time, values map[string]float64) pmetric.Metrics {
	points := make([]pt, 0, len(values))
	for typ, v := range values {
		points = append(points, pt{map[string]string{"type": typ, "model": "gemini-2.5-flash", "session.id": "s1", "installation.id": "i1"}, v, start, start})
	}
	md := sums(service, name, temporality, points...)
	md.ResourceMetrics().At(0).Resource().Attributes().PutStr("team.id", "alpha")
	md.ResourceMetrics().At(0).Resource().Attributes().PutStr("user.email", "dev@example.com")
	return md
}

func TestGeminiCumulativeTokensLandOnceEachAndPriced(t *testing.T) {
	a, c := newTestAccumulator(t, agentsConfig)
	start := t0.Add(time.Second)
	// two exports of one session: cumulative, input counting the cached tokens (as Gemini CLI sends)
	mustProcess(t, a, agentSums("gemini-cli", "gemini_cli.token.usage", pmetric.AggregationTemporalityCumulative, start,
		map[string]float64{"input": 140, "cache": 40, "output": 30, "thought": 7, "tool": 0}))
	mustProcess(t, a, agentSums("gemini-cli", "gemini_cli.token.usage", pmetric.AggregationTemporalityCumulative, start,
		map[string]float64{"input": 280, "cache": 80, "output": 60, "thought": 14, "tool": 0}))
	c.t = c.t.Add(time.Minute)
	got := totals(a.snapshot(c.t))
	u := "user.email=" + a.pseudonym("dev@example.com")
	g := func(typ string) string {
		return tokens + "{agent=gemini-cli,model=gemini-2.5-flash,team.id=alpha,type=" + typ + "," + u + "}"
	}
	want := map[string]float64{
		g("input"): 200, g("cacheRead"): 80, g("output"): 60, g("reasoning"): 14, g("tool"): 0,
		// 200 x 0.3 + 80 x 0.03 + 60 x 2.5 + 14 x 2.5 per million
		costs + "{agent=gemini-cli,estimated=true,model=gemini-2.5-flash,team.id=alpha," + u + "}": (200*0.3 + 80*0.03 + 60*2.5 + 14*2.5) / 1e6,
	}
	assertTotals(t, got, want)
}

func assertTotals(t *testing.T, got, want map[string]float64) {
	t.Helper()
	for k, v := range want {
		if !near(got[k], v) {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected stream %s = %v", k, got[k])
		}
	}
}

func codexTurn(model string, values map[string]float64) pmetric.Metrics {
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	rm.Resource().Attributes().PutStr("service.name", "codex_exec")
	sm := rm.ScopeMetrics().AppendEmpty()
	m := sm.Metrics().AppendEmpty()
	m.SetName("codex.turn.token_usage")
	h := m.SetEmptyHistogram()
	h.SetAggregationTemporality(pmetric.AggregationTemporalityDelta)
	for typ, v := range values {
		p := h.DataPoints().AppendEmpty()
		p.Attributes().PutStr("token_type", typ)
		p.Attributes().PutStr("model", model)
		p.Attributes().PutStr("app.version", "0.171.0")
		p.SetCount(1)
		p.SetSum(v)
		p.ExplicitBounds().FromRaw([]float64{100, 1000})
		p.BucketCounts().FromRaw([]uint64{0, 1, 0})
	}
	other := sm.Metrics().AppendEmpty()
	other.SetName("codex.sqlite.init.count")
	other.SetEmptySum().DataPoints().AppendEmpty().SetIntValue(1)
	return md
}

func TestCodexHistogramTurnsWithOverlapsRemovedAndAgentPrices(t *testing.T) {
	a, c := newTestAccumulator(t, agentsConfig)
	turn := map[string]float64{"input": 140, "cached_input": 40, "output": 37, "reasoning_output": 7, "total": 177}
	mustProcess(t, a, codexTurn("gpt-5-codex", turn))
	mustProcess(t, a, codexTurn("gpt-5.1", turn))
	c.t = c.t.Add(time.Minute)
	got := totals(a.snapshot(c.t))
	want := map[string]float64{}
	for _, model := range []string{"gpt-5-codex", "gpt-5.1"} {
		who := "agent=codex,model=" + model
		want[tokens+"{"+who+",type=input}"] = 100
		want[tokens+"{"+who+",type=cacheRead}"] = 40
		want[tokens+"{"+who+",type=output}"] = 30
		want[tokens+"{"+who+",type=reasoning}"] = 7
	}
	// codex's own row for gpt-5-codex; the gpt-5* row for gpt-5.1
	want[costs+"{agent=codex,estimated=true,model=gpt-5-codex}"] = (100*2 + 40*0.2 + 30*20 + 7*20) / 1e6
	want[costs+"{agent=codex,estimated=true,model=gpt-5.1}"] = (100*1.25 + 40*0.125 + 30*10 + 7*10) / 1e6
	assertTotals(t, got, want)
}

func TestUnpricedModelIsCountedNeverPricedAtZero(t *testing.T) {
	a, c := newTestAccumulator(t, agentsConfig)
	mustProcess(t, a, codexTurn("o9-experimental", map[string]float64{"input": 50, "output": 5}))
	c.t = c.t.Add(time.Minute)
	got := totals(a.snapshot(c.t))
	want := map[string]float64{
		tokens + "{agent=codex,model=o9-experimental,type=input}":    50,
		tokens + "{agent=codex,model=o9-experimental,type=output}":   5,
		unpriced + "{agent=codex,model=o9-experimental,type=input}":  50,
		unpriced + "{agent=codex,model=o9-experimental,type=output}": 5,
	}
	assertTotals(t, got, want)
}

func TestClaudeCodeKeepsItsMetricsAndJoinsTheSharedOnesWithItsOwnCost(t *testing.T) {
	a, c := newTestAccumulator(t, agentsConfig)
	mustProcess(t, a, sums("claude-code", "claude_code.token.usage", pmetric.AggregationTemporalityDelta,
		pt{map[string]string{"user.id": "u1", "model": "claude-opus", "type": "input", "session.id": "s"}, 100, t0, t0},
		pt{map[string]string{"user.id": "u1", "model": "claude-opus", "type": "cacheRead", "session.id": "s"}, 40, t0, t0}))
	mustProcess(t, a, sums("claude-code", "claude_code.cost.usage", pmetric.AggregationTemporalityDelta,
		pt{map[string]string{"user.id": "u1", "model": "claude-opus", "session.id": "s"}, 0.25, t0, t0}))
	c.t = c.t.Add(time.Minute)
	got := totals(a.snapshot(c.t))
	assertTotals(t, got, map[string]float64{
		"claude_code.token.usage{model=claude-opus,type=input,user.id=u1}":     100,
		"claude_code.token.usage{model=claude-opus,type=cacheRead,user.id=u1}": 40,
		"claude_code.cost.usage{model=claude-opus,user.id=u1}":                 0.25,
		// Claude Code's input excludes its cache reads already: nothing debited, nothing priced
		tokens + "{agent=claude-code,model=claude-opus,type=input}":     100,
		tokens + "{agent=claude-code,model=claude-opus,type=cacheRead}": 40,
		costs + "{agent=claude-code,estimated=false,model=claude-opus}": 0.25,
	})
}

func TestAgentsOtherMetricsAreNotKeptAndOtherServicesPass(t *testing.T) {
	a, _ := newTestAccumulator(t, agentsConfig)
	md := codexTurn("gpt-5-codex", map[string]float64{"input": 1})
	other := sums("my-app", "http.requests", pmetric.AggregationTemporalityDelta, pt{map[string]string{"route": "/"}, 1, t0, t0})
	other.ResourceMetrics().At(0).CopyTo(md.ResourceMetrics().AppendEmpty())
	out, err := a.process(context.Background(), md)
	if err != nil {
		t.Fatal(err)
	}
	if out.ResourceMetrics().Len() != 1 {
		t.Fatalf("only my-app's resource passes on, got %d resources", out.ResourceMetrics().Len())
	}
	if name, _ := out.ResourceMetrics().At(0).Resource().Attributes().Get("service.name"); name.AsString() != "my-app" {
		t.Fatalf("passed on: %s", name.AsString())
	}
}

func TestAgentRecordsKeepTheirAllowlistAndNoBody(t *testing.T) {
	a, _ := newTestAccumulator(t, agentsConfig)
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "gemini-cli")
	rl.Resource().Attributes().PutStr("process.command_args", "gemini -p secret")
	rl.Resource().Attributes().PutStr("user.email", "dev@example.com")
	r := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	r.Body().SetStr("the prompt text")
	r.Attributes().PutStr("event.name", "gemini_cli.api_response")
	r.Attributes().PutStr("model", "gemini-2.5-flash")
	r.Attributes().PutInt("input_token_count", 140)
	r.Attributes().PutStr("response_text", "secret answer")
	r.Attributes().PutStr("prompt", "secret prompt")
	if _, err := a.processLogs(context.Background(), ld); err != nil {
		t.Fatal(err)
	}
	assertMap(t, "record", r.Attributes(), map[string]any{
		"event.name": "gemini_cli.api_response", "model": "gemini-2.5-flash", "input_token_count": int64(140),
	})
	assertMap(t, "resource", rl.Resource().Attributes(), map[string]any{
		"service.name": "gemini-cli", "user.email": a.pseudonym("dev@example.com"),
	})
	if r.Body().AsString() != "" {
		t.Fatalf("body kept: %q", r.Body().AsString())
	}
}

func TestPriceTableErrorsNameTheRow(t *testing.T) {
	cfg := NewFactory().CreateDefaultConfig().(*Config)
	agentsConfig(cfg)
	cfg.Pricing.Prices = append(cfg.Pricing.Prices, Price{Model: "x", PerMillion: map[string]float64{"input": -1}})
	cfg.Agents[1].Metrics["gemini_cli.api.request.count"] = AgentMetric{To: "agent.nope"}
	err := cfg.Validate()
	if err == nil {
		t.Fatal("a negative price and an unknown output are refused")
	}
	for _, want := range []string{"pricing.prices[3] (x): input must be a price >= 0", `to "agent.nope" is not in outputs`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestAppModelCallsJoinTheSharedMetricsByAgentAndTheRestPasses(t *testing.T) {
	a, c := newTestAccumulator(t, func(cfg *Config) {
		agentsConfig(cfg)
		cfg.Apps = AppsConfig{AgentKey: "gen_ai.agent.name", Metrics: map[string]AgentMetric{
			"genai.tokens": {To: tokens, Rename: map[string]string{"gen_ai.response.model": "model"}},
		}}
	})
	point := func(agent, typ string, v float64) pt {
		attrs := map[string]string{"gen_ai.response.model": "gpt-5-mini", "type": typ, "gen_ai.provider.name": "openai"}
		if agent != "" {
			attrs["gen_ai.agent.name"] = agent
		}
		return pt{attrs, v, t0, t0}
	}
	md := sums("swarm-app", "genai.tokens", pmetric.AggregationTemporalityCumulative,
		point("coder", "input", 100), point("coder", "output", 30), point("", "input", 5))
	other := sums("swarm-app", "neural.operations", pmetric.AggregationTemporalityCumulative, pt{map[string]string{}, 3, t0, t0})
	other.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics().At(0).CopyTo(
		md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics().AppendEmpty())
	out, err := a.process(context.Background(), md)
	if err != nil {
		t.Fatal(err)
	}
	ms := out.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics()
	if ms.Len() != 1 || ms.At(0).Name() != "neural.operations" {
		t.Fatalf("the app's other metric passes, its genai.tokens does not: %d metrics", ms.Len())
	}
	c.t = c.t.Add(time.Minute)
	assertTotals(t, totals(a.snapshot(c.t)), map[string]float64{
		tokens + "{agent=coder,model=gpt-5-mini,type=input}":        100,
		tokens + "{agent=coder,model=gpt-5-mini,type=output}":       30,
		tokens + "{agent=swarm-app,model=gpt-5-mini,type=input}":    5, // no agent: the service
		costs + "{agent=coder,estimated=true,model=gpt-5-mini}":     (100*1.25 + 30*10) / 1e6,
		costs + "{agent=swarm-app,estimated=true,model=gpt-5-mini}": 5 * 1.25 / 1e6,
	})
}
