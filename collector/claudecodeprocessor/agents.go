package claudecodeprocessor

import (
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// Every coding agent in one vocabulary (issue 32): each agent's token, request and session
// metrics become the shared agent.* metrics, told apart by the agent attribute; tokens of agents
// that send no cost are priced from the price table (a model without a price is counted as
// unpriced, never priced at 0). Claude Code keeps its own metrics besides (a contract).

const (
	agentKey     = "agent"
	typeKey      = "type"
	modelKey     = "model"
	estimatedKey = "estimated"
	perMillion   = 1e6
)

// outcomeUnmapped: a point of an agent's metric that the shared vocabulary does not hold (not kept).
const outcomeUnmapped = "unmapped"

// agents indexes the configured agents by service.name.
func indexAgents(cfg *Config) map[string]*AgentConfig {
	out := map[string]*AgentConfig{}
	for i := range cfg.Agents {
		for _, s := range cfg.Agents[i].Services {
			out[s] = &cfg.Agents[i]
		}
	}
	return out
}

// metric is the shared mapping of one of the agent's metrics (none for a nil agent).
func (ag *AgentConfig) metric(name string) (AgentMetric, bool) {
	if ag == nil {
		return AgentMetric{}, false
	}
	m, ok := ag.Metrics[name]
	return m, ok
}

// agentOf is the agent a resource belongs to, by its service.name (nil: none).
func (a *accumulator) agentOf(res pcommon.Map) *AgentConfig {
	name, ok := res.Get("service.name")
	if !ok {
		return nil
	}
	return a.agents[name.AsString()]
}

// price is the USD per million tokens of one agent, model and type; false when the table has no
// row for the model, or its row does not price the type. The most specific row wins: the
// agent's own before any agent's, an exact model before a prefix, a longer prefix first.
func (a *accumulator) price(agent, model, typ string) (float64, bool) {
	best, bestScore := -1, -1
	for i, p := range a.cfg.Pricing.Prices {
		score := 0
		switch p.Agent {
		case agent:
			score += 1 << 20
		case "", "*":
		default:
			continue
		}
		if p.Model == model {
			score += 1 << 19
		} else if prefix, glob := strings.CutSuffix(p.Model, "*"); glob && strings.HasPrefix(model, prefix) {
			score += len(prefix)
		} else {
			continue
		}
		if score > bestScore {
			best, bestScore = i, score
		}
	}
	if best < 0 {
		return 0, false
	}
	v, ok := a.cfg.Pricing.Prices[best].PerMillion[typ]
	return v, ok
}

// shared is where one agent's points go: the reduced resource and the raw one (attribution).
type shared struct {
	rawRes, res pcommon.Map
	resKey      uint64
	now         time.Time
	t           *tally
}

// add adds v to the shared metric name's stream of attrs (reduced by the metric's rule).
func (a *accumulator) add(name string, attrs pcommon.Map, to shared, v float64) {
	out := a.cfg.Outputs[name]
	d := descriptor{name: name, unit: out.Unit, description: out.Description}
	s := a.streamOf(d, to.res, to.resKey, a.reduce(name, attrs, to.rawRes, to.now, to.t), to.now)
	if s == nil {
		to.t.count(outcomeOverLimit)
		to.t.lose(name, v)
		return
	}
	s.total += v
}

// feed maps one increment of an agent's metric onto its shared metric (and prices tokens).
func (a *accumulator) feed(ag *AgentConfig, rule AgentMetric, src pcommon.Map, to shared, v float64) {
	attrs := pcommon.NewMap()
	src.Range(func(k string, val pcommon.Value) bool {
		if renamed, ok := rule.Rename[k]; ok {
			k = renamed
		}
		val.CopyTo(attrs.PutEmpty(k))
		return true
	})
	if len(rule.Types) > 0 {
		sent, _ := attrs.Get(typeKey)
		ours, counted := rule.Types[sent.AsString()]
		if !counted {
			return
		}
		attrs.PutStr(typeKey, ours)
	}
	for k, c := range rule.Constant {
		attrs.PutStr(k, c)
	}
	attrs.PutStr(agentKey, ag.Name)
	a.add(rule.To, attrs, to, v)
	if rule.To != a.cfg.Pricing.Tokens {
		return
	}
	typ, _ := attrs.Get(typeKey)
	ours := typ.AsString()
	a.cost(ag, attrs, ours, to, v)
	if parent, inside := rule.Within[ours]; inside {
		// the agent counted these tokens in parent too: take them out there
		attrs.PutStr(typeKey, parent)
		a.add(rule.To, attrs, to, -v)
		a.cost(ag, attrs, parent, to, -v)
	}
}

// cost prices v tokens of type typ (attrs carry agent and model) into the cost metric, marked
// estimated, or counts them as unpriced when the table has no price for them.
func (a *accumulator) cost(ag *AgentConfig, attrs pcommon.Map, typ string, to shared, v float64) {
	if ag.SendsCost {
		return
	}
	model, _ := attrs.Get(modelKey)
	usd, priced := a.price(ag.Name, model.AsString(), typ)
	if !priced {
		a.add(a.cfg.Pricing.Unpriced, attrs, to, v)
		return
	}
	c := pcommon.NewMap()
	attrs.CopyTo(c)
	c.Remove(typeKey)
	c.PutStr(estimatedKey, "true")
	a.add(a.cfg.Pricing.Cost, c, to, v*usd/perMillion)
}

// sharedOf is where a resource's points go (its reduced resource), and the key of its raw resource
// (the cumulative sources).
func (a *accumulator) sharedOf(rawRes pcommon.Map, now time.Time, t *tally) (shared, uint64) {
	res := a.reduceResource(rawRes)
	return shared{rawRes: rawRes, res: res, resKey: a.mapKey(res), now: now, t: t}, a.mapKey(rawRes)
}

// consumeAgent maps a (non-Claude Code) agent's resource onto the shared metrics; none of the
// agent's own metrics is kept (what leaves is listed: session and installation ids, on every
// point of Gemini CLI, would make a set of series per session).
func (a *accumulator) consumeAgent(rm pmetric.ResourceMetrics, ag *AgentConfig, now time.Time, t *tally) {
	to, rawKey := a.sharedOf(rm.Resource().Attributes(), now, t)
	for i := 0; i < rm.ScopeMetrics().Len(); i++ {
		ms := rm.ScopeMetrics().At(i).Metrics()
		for j := 0; j < ms.Len(); j++ {
			m := ms.At(j)
			rule, mapped := ag.Metrics[m.Name()]
			if !mapped {
				t.counts[outcomeUnmapped] += int64(pointCount(m))
				continue
			}
			a.increments(m, rawKey, now, t, func(attrs pcommon.Map, v float64) string {
				a.feed(ag, rule, attrs, to, v)
				return ""
			})
		}
	}
}

// consumeApp maps an application's model-call metrics (ccmon-instrument's genai.*) onto the shared
// ones, priced like any agent's; they leave the batch, the app's other metrics stay.
func (a *accumulator) consumeApp(rm pmetric.ResourceMetrics, now time.Time, t *tally) {
	rawRes := rm.Resource().Attributes()
	var to *shared
	var rawKey uint64
	service, _ := rawRes.Get("service.name")
	rm.ScopeMetrics().RemoveIf(func(sm pmetric.ScopeMetrics) bool {
		sm.Metrics().RemoveIf(func(m pmetric.Metric) bool {
			rule, mapped := a.cfg.Apps.Metrics[m.Name()]
			if !mapped {
				return false
			}
			if to == nil { // only a resource with model-call metrics is reduced
				s, key := a.sharedOf(rawRes, now, t)
				to, rawKey = &s, key
			}
			a.increments(m, rawKey, now, t, func(attrs pcommon.Map, v float64) string {
				name := service.AsString()
				if own, ok := attrs.Get(a.cfg.Apps.AgentKey); ok && own.AsString() != "" {
					name = own.AsString()
				}
				a.feed(&AgentConfig{Name: name}, rule, attrs, *to, v)
				return ""
			})
			return true
		})
		return sm.Metrics().Len() == 0
	})
}

func pointCount(m pmetric.Metric) int {
	switch m.Type() {
	case pmetric.MetricTypeSum:
		return m.Sum().DataPoints().Len()
	case pmetric.MetricTypeGauge:
		return m.Gauge().DataPoints().Len()
	case pmetric.MetricTypeHistogram:
		return m.Histogram().DataPoints().Len()
	case pmetric.MetricTypeExponentialHistogram:
		return m.ExponentialHistogram().DataPoints().Len()
	case pmetric.MetricTypeSummary:
		return m.Summary().DataPoints().Len()
	}
	return 0
}

// increments calls fn with every point's increment: a monotonic sum's value, or a histogram's
// sum (Codex's token usage is a histogram per turn), delta as sent, cumulative since the source's
// previous point. fn returns the point's outcome when it is not the increment's own ("": it is).
func (a *accumulator) increments(m pmetric.Metric, rawKey uint64, now time.Time, t *tally, fn func(pcommon.Map, float64) string) {
	one := func(delta bool, start pcommon.Timestamp, attrs pcommon.Map, v float64) {
		if bad(v) {
			t.count(outcomeInvalid)
			return
		}
		outcome := outcomeAdded
		if delta {
			if v < 0 {
				t.count(outcomeNegative)
				return
			}
		} else {
			v, outcome = a.increment(m.Name(), rawKey, start, attrs, v, now)
		}
		if own := fn(attrs, v); own != "" {
			outcome = own
		}
		t.count(outcome)
	}
	switch {
	case m.Type() == pmetric.MetricTypeSum && m.Sum().IsMonotonic():
		delta := m.Sum().AggregationTemporality() == pmetric.AggregationTemporalityDelta
		for i := 0; i < m.Sum().DataPoints().Len(); i++ {
			p := m.Sum().DataPoints().At(i)
			one(delta, p.StartTimestamp(), p.Attributes(), numberValue(p))
		}
	case m.Type() == pmetric.MetricTypeHistogram:
		delta := m.Histogram().AggregationTemporality() == pmetric.AggregationTemporalityDelta
		for i := 0; i < m.Histogram().DataPoints().Len(); i++ {
			p := m.Histogram().DataPoints().At(i)
			one(delta, p.StartTimestamp(), p.Attributes(), p.Sum())
		}
	default:
		t.counts[outcomeUnsupported] += int64(pointCount(m))
	}
}

// claimAgentResource tells whether a resource is a (non-Claude Code) agent's and, if so, keeps
// only its allowlisted attributes; it returns the agent's record allowlist.
func (a *accumulator) claimAgentResource(res pcommon.Map) (map[string]struct{}, bool) {
	ag := a.agentOf(res)
	if ag == nil {
		return nil, false
	}
	a.allow(res, a.priv.resource)
	return a.priv.agentRecords[ag.Name], true
}

// agentLogs keeps only the allowlisted attributes of an agent's records; bodies are cleared
// (Gemini CLI and Qwen Code put prompts and responses there when asked to).
func (a *accumulator) agentLogs(rl plog.ResourceLogs, keys map[string]struct{}) {
	for j := 0; j < rl.ScopeLogs().Len(); j++ {
		records := rl.ScopeLogs().At(j).LogRecords()
		for k := 0; k < records.Len(); k++ {
			r := records.At(k)
			a.allow(r.Attributes(), keys)
			if r.Body().Type() != pcommon.ValueTypeEmpty {
				r.Body().SetStr("")
			}
		}
	}
}
