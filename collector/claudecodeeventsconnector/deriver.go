package claudecodeeventsconnector

import (
	"context"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/otel-ccmon/otel-ccmon/collector/ccmonattr"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

const scopeName = "github.com/otel-ccmon/otel-ccmon/collector/claudecodeeventsconnector"

// The derived metrics (their catalog entries are in otel_ccmon/_catalog.py).
const (
	MetricAPIRequests     = "ccmon.claude_code.api.requests"
	MetricAPIDuration     = "ccmon.claude_code.api.request.duration"
	MetricAPICost         = "ccmon.claude_code.api.cost"
	MetricAPITokens       = "ccmon.claude_code.api.tokens"
	MetricToolResults     = "ccmon.claude_code.tool.results"
	MetricToolDuration    = "ccmon.claude_code.tool.duration"
	MetricToolDecisions   = "ccmon.claude_code.tool.decisions"
	MetricPrompts         = "ccmon.claude_code.prompts"
	MetricEvents          = "ccmon.claude_code.events"
	MetricRetriesOut      = "ccmon.claude_code.api.retries_exhausted"
	MetricRefusals        = "ccmon.claude_code.api.refusals"
	MetricCompactions     = "ccmon.claude_code.compactions"
	MetricCompactionTime  = "ccmon.claude_code.compaction.duration"
	MetricSubagents       = "ccmon.claude_code.subagents"
	MetricSubagentTime    = "ccmon.claude_code.subagent.duration"
	MetricSubagentTokens  = "ccmon.claude_code.subagent.tokens"
	MetricHookRuns        = "ccmon.claude_code.hook.executions"
	MetricHookTime        = "ccmon.claude_code.hook.duration"
	MetricMCPConnections  = "ccmon.claude_code.mcp.connections"
	MetricInternalErrors  = "ccmon.claude_code.internal_errors"
	MetricPermissionModes = "ccmon.claude_code.permission_mode.changes"
	otherEvent            = "other"
	// a duration above a day is absurd for one request, tool, hook, compaction or subagent
	maxDurationMs         = 86_400_000
	outcomeConverted      = "converted"
	outcomeIgnored        = "ignored"
	outcomeCounted        = "counted" // a documented event without numbers: counted by name only
	outcomeInvalidCost    = "invalid_cost"
	outcomeInvalidTokens  = "invalid_tokens"
	outcomeInvalidTiming  = "invalid_duration"
	unknownValue          = "unknown"
	successfulRequestCode = "200"
)

var units = map[string]string{
	MetricAPIRequests: "{request}", MetricAPIDuration: "s", MetricAPICost: "USD", MetricAPITokens: "{token}",
	MetricToolResults: "{result}", MetricToolDuration: "s", MetricToolDecisions: "{decision}", MetricPrompts: "{prompt}",
	MetricEvents: "{event}", MetricRetriesOut: "{request}", MetricRefusals: "{request}", MetricCompactions: "{compaction}",
	MetricCompactionTime: "s", MetricSubagents: "{subagent}", MetricSubagentTime: "s", MetricSubagentTokens: "{token}",
	MetricHookRuns: "{hook}", MetricHookTime: "s", MetricMCPConnections: "{connection}", MetricInternalErrors: "{error}",
	MetricPermissionModes: "{change}",
}

// DocumentedEvents are the event names Claude Code 2.1.332 sends (its documentation's 26 and
// system_prompt, tool, safety_event, managed_settings_resolved; otel_ccmon/_privacy.py holds the
// same list, a unit test compares them): counted by name; any other name is counted as "other"
// (names are not label values until known).
var DocumentedEvents = []string{
	"user_prompt", "assistant_response", "tool_result", "api_request", "api_error", "api_refusal",
	"api_request_body", "api_response_body", "tool_decision", "permission_mode_changed", "auth",
	"mcp_server_connection", "internal_error", "plugin_installed", "plugin_loaded", "skill_activated",
	"at_mention", "api_retries_exhausted", "hook_registered", "hook_execution_start",
	"hook_execution_complete", "hook_plugin_metrics", "compaction", "subagent_completed",
	"feedback_survey", "retention_sweep", "system_prompt", "tool", "safety_event", "managed_settings_resolved",
}

// Code Mode (2.1.329+): the tool calls a script makes carry tool-use ids with these prefixes; they
// are counted with origin="code_mode", the model's own calls with origin="model", so that a tool
// count still means what the model asked for.
var codeModePrefixes = []string{"toolu_cc_", "repl_"}

const (
	originModel    = "model"
	originCodeMode = "code_mode"
)

// origin tells a Code Mode script's tool call from the model's own, by its tool-use id.
func origin(attrs pcommon.Map, key string) string {
	v, ok := attrs.Get(key)
	if !ok {
		return originModel
	}
	for _, p := range codeModePrefixes {
		if strings.HasPrefix(v.AsString(), p) {
			return originCodeMode
		}
	}
	return originModel
}

var documented = func() map[string]struct{} {
	out := make(map[string]struct{}, len(DocumentedEvents))
	for _, e := range DocumentedEvents {
		out[e] = struct{}{}
	}
	return out
}()

// hookOutcomes: the counts hook_execution_complete carries (as strings), and their outcome label
var hookOutcomes = [...]struct{ field, outcome string }{
	{"num_success", "success"}, {"num_blocking", "blocking"},
	{"num_non_blocking_error", "non_blocking_error"}, {"num_cancelled", "cancelled"},
}

// the token fields of api_request, and the `type` they get (Claude Code's own names)
var tokenFields = [...]struct{ field, kind string }{
	{"input_tokens", "input"}, {"output_tokens", "output"},
	{"cache_read_tokens", "cacheRead"}, {"cache_creation_tokens", "cacheCreation"},
}

type deriver struct {
	component.StartFunc
	component.ShutdownFunc
	cfg      *Config
	services map[string]struct{}
	next     consumer.Metrics
	events   metric.Int64Counter
}

func newDeriver(cfg *Config, tel component.TelemetrySettings, next consumer.Metrics) (*deriver, error) {
	d := &deriver{cfg: cfg, services: map[string]struct{}{}, next: next}
	for _, s := range cfg.Services {
		d.services[s] = struct{}{}
	}
	var err error
	d.events, err = ownCounter(tel, "otelcol_ccmon_claude_code_events", "{event}",
		"Claude Code log events seen by the claudecode_events connector, by event and outcome.")
	return d, err
}

// ownCounter is one of the connector's own counters (its outcomes, in the collector's telemetry).
func ownCounter(tel component.TelemetrySettings, name, unit, description string) (metric.Int64Counter, error) {
	return tel.MeterProvider.Meter(scopeName).Int64Counter(name, metric.WithDescription(description), metric.WithUnit(unit))
}

func (d *deriver) Capabilities() consumer.Capabilities {
	return consumer.Capabilities{MutatesData: false}
}

// number reads an attribute that Claude Code sends as a number or as a numeric string.
func number(attrs pcommon.Map, key string) (float64, bool) {
	v, ok := attrs.Get(key)
	if !ok {
		return 0, false
	}
	var f float64
	switch v.Type() {
	case pcommon.ValueTypeInt:
		f = float64(v.Int())
	case pcommon.ValueTypeDouble:
		f = v.Double()
	case pcommon.ValueTypeStr:
		parsed, err := strconv.ParseFloat(strings.TrimSpace(v.Str()), 64)
		if err != nil {
			return 0, false
		}
		f = parsed
	default:
		return 0, false
	}
	return f, !math.IsNaN(f) && !math.IsInf(f, 0)
}

func (d *deriver) text(attrs pcommon.Map, key string) string {
	v, ok := attrs.Get(key)
	if !ok || v.AsString() == "" {
		return unknownValue
	}
	return ccmonattr.Truncate(v.AsString(), d.cfg.MaxValueLength)
}

func eventName(r plog.LogRecord) string {
	if v, ok := r.Attributes().Get("event.name"); ok && v.AsString() != "" {
		return v.AsString()
	}
	if r.EventName() != "" {
		return strings.TrimPrefix(r.EventName(), spanPrefix)
	}
	return strings.TrimPrefix(r.Body().AsString(), spanPrefix)
}

// out collects the derived points of one resource.
type out struct {
	cfg     *Config
	metrics pmetric.MetricSlice
	byName  map[string]pmetric.Metric
	ts      pcommon.Timestamp
}

func (o *out) metric(name string, histogram bool) pmetric.Metric {
	if m, ok := o.byName[name]; ok {
		return m
	}
	m := o.metrics.AppendEmpty()
	m.SetName(name)
	m.SetUnit(units[name])
	if histogram {
		m.SetEmptyHistogram().SetAggregationTemporality(pmetric.AggregationTemporalityDelta)
	} else {
		s := m.SetEmptySum()
		s.SetIsMonotonic(true)
		s.SetAggregationTemporality(pmetric.AggregationTemporalityDelta)
	}
	o.byName[name] = m
	return m
}

func (o *out) add(name string, value float64, attrs ...string) {
	p := o.metric(name, false).Sum().DataPoints().AppendEmpty()
	for i := 0; i+1 < len(attrs); i += 2 {
		p.Attributes().PutStr(attrs[i], attrs[i+1])
	}
	p.SetStartTimestamp(o.ts)
	p.SetTimestamp(o.ts)
	p.SetDoubleValue(value)
}

func (o *out) observe(name string, seconds float64, attrs ...string) pmetric.HistogramDataPoint {
	p := o.metric(name, true).Histogram().DataPoints().AppendEmpty()
	for i := 0; i+1 < len(attrs); i += 2 {
		p.Attributes().PutStr(attrs[i], attrs[i+1])
	}
	p.SetStartTimestamp(o.ts)
	p.SetTimestamp(o.ts)
	bounds := o.cfg.DurationBuckets
	p.ExplicitBounds().FromRaw(bounds)
	counts := make([]uint64, len(bounds)+1)
	i := 0
	for i < len(bounds) && seconds > bounds[i] {
		i++
	}
	counts[i] = 1
	p.BucketCounts().FromRaw(counts)
	p.SetCount(1)
	p.SetSum(seconds)
	return p
}

// duration observes a *_ms attribute in seconds; false if it is missing, negative or absurd.
func (o *out) duration(name string, attrs pcommon.Map, field string, labels ...string) bool {
	ms, ok := number(attrs, field)
	if !ok || ms < 0 || ms > maxDurationMs {
		return false
	}
	o.observe(name, ms/1000, labels...)
	return true
}

// handler turns one event of its name into points; it returns the outcome that is counted.
type handler func(d *deriver, o *out, attrs pcommon.Map) string

// handlers: the events that become metrics, each by its own function; a documented event without
// one is counted by name only.
var handlers = map[string]handler{
	"api_request":             (*deriver).apiRequest,
	"api_error":               (*deriver).apiError,
	"tool_result":             (*deriver).toolResult,
	"tool_decision":           (*deriver).toolDecision,
	"user_prompt":             (*deriver).userPrompt,
	"api_retries_exhausted":   (*deriver).retriesExhausted,
	"api_refusal":             (*deriver).refusal,
	"compaction":              (*deriver).compaction,
	"subagent_completed":      (*deriver).subagent,
	"hook_execution_complete": (*deriver).hookComplete,
	"mcp_server_connection":   (*deriver).mcpConnection,
	"internal_error":          (*deriver).internalError,
	"permission_mode_changed": (*deriver).permissionMode,
}

// timed is the outcome of an event whose duration was observed (ok) or refused as absurd.
func timed(ok bool) string {
	if !ok {
		return outcomeInvalidTiming
	}
	return outcomeConverted
}

// derive counts one event by name and turns it into points; it returns the outcome that is counted.
func (d *deriver) derive(o *out, name string, attrs pcommon.Map) string {
	_, known := documented[name]
	if known {
		o.add(MetricEvents, 1, "event", name)
	} else {
		o.add(MetricEvents, 1, "event", otherEvent)
	}
	if h, ok := handlers[name]; ok {
		return h(d, o, attrs)
	}
	if known {
		return outcomeCounted
	}
	return outcomeIgnored
}

func (d *deriver) apiRequest(o *out, attrs pcommon.Map) string {
	model := d.text(attrs, "model")
	o.add(MetricAPIRequests, 1, "model", model, "status_code", successfulRequestCode)
	outcome := outcomeConverted
	if !o.duration(MetricAPIDuration, attrs, "duration_ms", "model", model) {
		outcome = outcomeInvalidTiming
	}
	tokens := make([]float64, len(tokenFields))
	for i, f := range tokenFields {
		n, ok := number(attrs, f.field)
		if !ok || n < 0 || n > d.cfg.MaxTokensPerRequest {
			// an absurd count makes the whole request's spend suspect: neither is added
			return outcomeInvalidTokens
		}
		tokens[i] = n
	}
	for i, f := range tokenFields {
		o.add(MetricAPITokens, tokens[i], "model", model, "type", f.kind)
	}
	cost, ok := number(attrs, "cost_usd")
	if !ok || cost < 0 || cost > d.cfg.MaxCostPerRequest {
		return outcomeInvalidCost
	}
	o.add(MetricAPICost, cost, "model", model, "user.id", d.text(attrs, "user.id"))
	return outcome
}

func (d *deriver) apiError(o *out, attrs pcommon.Map) string {
	code := d.text(attrs, "status_code")
	if code == "undefined" || code == "null" {
		code = unknownValue
	}
	o.add(MetricAPIRequests, 1, "model", d.text(attrs, "model"), "status_code", code)
	return outcomeConverted
}

func (d *deriver) toolResult(o *out, attrs pcommon.Map) string {
	tool, from := d.text(attrs, "tool_name"), origin(attrs, "tool_use_id")
	o.add(MetricToolResults, 1, "tool_name", tool, "success", d.flag(attrs, "success"), "origin", from)
	return timed(o.duration(MetricToolDuration, attrs, "duration_ms", "tool_name", tool, "origin", from))
}

func (d *deriver) toolDecision(o *out, attrs pcommon.Map) string {
	o.add(MetricToolDecisions, 1, "tool_name", d.text(attrs, "tool_name"),
		"decision", d.text(attrs, "decision"), "source", d.text(attrs, "source"))
	return outcomeConverted
}

func (d *deriver) userPrompt(o *out, attrs pcommon.Map) string {
	o.add(MetricPrompts, 1, "user.id", d.text(attrs, "user.id"))
	return outcomeConverted
}

func (d *deriver) retriesExhausted(o *out, attrs pcommon.Map) string {
	o.add(MetricRetriesOut, 1, "model", d.text(attrs, "model"), "status_code", d.text(attrs, "status_code"))
	return outcomeConverted
}

func (d *deriver) refusal(o *out, attrs pcommon.Map) string {
	o.add(MetricRefusals, 1, "model", d.text(attrs, "model"))
	return outcomeConverted
}

func (d *deriver) compaction(o *out, attrs pcommon.Map) string {
	trigger := d.text(attrs, "trigger")
	o.add(MetricCompactions, 1, "trigger", trigger, "success", d.flag(attrs, "success"))
	return timed(o.duration(MetricCompactionTime, attrs, "duration_ms", "trigger", trigger))
}

func (d *deriver) subagent(o *out, attrs pcommon.Map) string {
	agent := d.text(attrs, "agent_type")
	o.add(MetricSubagents, 1, "agent_type", agent)
	if n, ok := number(attrs, "total_tokens"); ok && n >= 0 && n <= 100*d.cfg.MaxTokensPerRequest {
		o.add(MetricSubagentTokens, n, "agent_type", agent)
	} else if ok {
		return outcomeInvalidTokens
	}
	return timed(o.duration(MetricSubagentTime, attrs, "duration_ms", "agent_type", agent))
}

func (d *deriver) hookComplete(o *out, attrs pcommon.Map) string {
	hook := d.text(attrs, "hook_event")
	for _, h := range hookOutcomes {
		if n, ok := number(attrs, h.field); ok && n > 0 && n <= 10_000 {
			o.add(MetricHookRuns, n, "hook_event", hook, "outcome", h.outcome)
		}
	}
	return timed(o.duration(MetricHookTime, attrs, "total_duration_ms", "hook_event", hook))
}

func (d *deriver) mcpConnection(o *out, attrs pcommon.Map) string {
	// the server's name only when the client logs tool details (OTEL_LOG_TOOL_DETAILS)
	o.add(MetricMCPConnections, 1, "mcp_server.name", d.text(attrs, "server_name"),
		"status", d.text(attrs, "status"), "transport_type", d.text(attrs, "transport_type"))
	return outcomeConverted
}

func (d *deriver) internalError(o *out, attrs pcommon.Map) string {
	o.add(MetricInternalErrors, 1, "error_name", d.text(attrs, "error_name"))
	return outcomeConverted
}

func (d *deriver) permissionMode(o *out, attrs pcommon.Map) string {
	o.add(MetricPermissionModes, 1, "to_mode", d.text(attrs, "to_mode"))
	return outcomeConverted
}

// outFor starts the derived metrics of one resource (its attributes copied), or returns nil when
// the resource is not one of Claude Code's services.
func (d *deriver) outFor(md pmetric.Metrics, res pcommon.Resource) *out {
	service, _ := res.Attributes().Get("service.name")
	if _, ours := d.services[service.AsString()]; !ours {
		return nil
	}
	rm := md.ResourceMetrics().AppendEmpty()
	res.Attributes().CopyTo(rm.Resource().Attributes())
	sm := rm.ScopeMetrics().AppendEmpty()
	sm.Scope().SetName(scopeName)
	return &out{cfg: d.cfg, metrics: sm.Metrics(), byName: map[string]pmetric.Metric{}}
}

// flag reads a true/false attribute (sent as a string or a bool); anything else is "unknown".
func (d *deriver) flag(attrs pcommon.Map, key string) string {
	v := strings.ToLower(d.text(attrs, key))
	if v != "true" && v != "false" {
		return unknownValue
	}
	return v
}

func (d *deriver) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	md := pmetric.NewMetrics()
	type eventOutcome struct{ event, outcome string }
	counts := map[eventOutcome]int64{}
	now := pcommon.NewTimestampFromTime(time.Now())
	for i := 0; i < ld.ResourceLogs().Len(); i++ {
		rl := ld.ResourceLogs().At(i)
		o := d.outFor(md, rl.Resource())
		if o == nil {
			continue
		}
		for j := 0; j < rl.ScopeLogs().Len(); j++ {
			records := rl.ScopeLogs().At(j).LogRecords()
			for k := 0; k < records.Len(); k++ {
				r := records.At(k)
				o.ts = r.Timestamp()
				if o.ts == 0 {
					o.ts = r.ObservedTimestamp()
				}
				if o.ts == 0 {
					o.ts = now
				}
				name := eventName(r)
				outcome := d.derive(o, name, r.Attributes())
				if outcome == outcomeIgnored {
					name = otherEvent // unbounded event names never become label values
				}
				counts[eventOutcome{name, outcome}]++
			}
		}
	}
	for k, n := range counts {
		d.events.Add(ctx, n, metric.WithAttributes(attribute.String("event", k.event), attribute.String("outcome", k.outcome)))
	}
	if md.DataPointCount() == 0 {
		return nil
	}
	return d.next.ConsumeMetrics(ctx, md)
}
