// Package claudecodeprocessor turns Claude Code's OpenTelemetry metrics into exact Prometheus
// counters. Claude Code exports delta sums by default, one stream per session; its sparse series
// restart their start time after an idle export interval, and many sessions of one user run in
// parallel. The collector's prometheus exporter adds a delta point to its total only when the
// point continues the previous one, so spend and tokens come out low (NOTES.md §5, issue 11).
//
// This processor keeps, for every *reduced* stream (metric + allowlisted attributes: no
// session.id, no personal data), the running sum of every increment it received, whatever the
// client's temporality: delta points are added as they are; cumulative points are turned into
// increments per source stream first. It emits the totals as cumulative sums on a timer, and
// shows a new stream at 0 for first_value_delay before its value, so that Prometheus scrapes the
// zero and `increase()` counts the first increment too (otherwise the first sample of a series is
// lost to `increase()`).
//
// Written for otel-ccmon because the contrib deltatocumulative processor keys streams by all
// their attributes (dropping session.id first makes parallel sessions collide and it drops their
// samples), does not convert cumulative input, and neither it nor the exporter emit the zero.
package claudecodeprocessor

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Identity handling (identity.policy): one policy for every key that can name a person.
const (
	IdentityHash = "hash" // the value becomes a keyed hash: a stable pseudonym, not the address (default)
	IdentityDrop = "drop" // the attribute is removed
	IdentityKeep = "keep" // stored as sent (personal data in every backend)
)

// IdentityConfig says what becomes of the attributes that can name a person (an e-mail, a login,
// the OS user name), wherever they are: resource, point, log record, span, span event.
type IdentityConfig struct {
	// Policy is hash, drop or keep.
	Policy string `mapstructure:"policy"`
	// HashKey keys the hash (so that addresses cannot be guessed back from the pseudonyms).
	HashKey string `mapstructure:"hash_key"`
	// Keys are the identity attributes (user.email, enduser.id, process.owner, ...).
	Keys []string `mapstructure:"keys"`
}

// AllowlistConfig is what of Claude Code's log records and spans may leave the collector
// (generated from otel_ccmon/_privacy.py): every attribute not listed is removed.
type AllowlistConfig struct {
	// Resource are the resource attributes kept (identity keys follow the identity policy).
	Resource []string `mapstructure:"resource"`
	// Common are the attributes every record and span keeps.
	Common []string `mapstructure:"common"`
	// Events are the attributes kept per event name (event.name), besides Common.
	Events map[string][]string `mapstructure:"events"`
	// Spans are the attributes kept per span name (without the claude_code. prefix), besides Common.
	Spans map[string][]string `mapstructure:"spans"`
}

// MetricRule is the catalog entry of one Claude Code metric: the attribute keys kept.
type MetricRule struct {
	Attributes []string `mapstructure:"attributes"`
}

// Config of the processor.
type Config struct {
	// Services are the service.name values handled; other resources pass through untouched
	// unless one of their scopes starts with a ScopePrefixes entry.
	Services []string `mapstructure:"services"`
	// ScopePrefixes recognise Claude Code by its instrumentation scope whatever service.name an
	// administrator chose; such a resource's service.name becomes Services[0].
	ScopePrefixes []string `mapstructure:"scope_prefixes"`
	// EmitInterval is how often the totals are sent on down the pipeline.
	EmitInterval time.Duration `mapstructure:"emit_interval"`
	// FirstValueDelay shows a new stream at 0 this long (at least one scrape interval).
	FirstValueDelay time.Duration `mapstructure:"first_value_delay"`
	// MaxStale forgets a stream (and a cumulative source) after this long without a point.
	MaxStale time.Duration `mapstructure:"max_stale"`
	// MaxStreams bounds the reduced streams held; points of further new streams are dropped.
	MaxStreams int `mapstructure:"max_streams"`
	// MaxValueLength truncates attribute values (as the cardinality guard does).
	MaxValueLength int `mapstructure:"max_value_length"`
	// Identity is the policy for attributes that name a person.
	Identity IdentityConfig `mapstructure:"identity"`
	// Allowlist is what of log records and spans is kept.
	Allowlist AllowlistConfig `mapstructure:"allowlist"`
	// KeepResource lists the resource attributes kept on the emitted streams.
	KeepResource []string `mapstructure:"keep_resource"`
	// DefaultAttributes are kept on metrics that are not in Metrics (unknown or newer ones).
	DefaultAttributes []string `mapstructure:"default_attributes"`
	// Metrics maps metric names to the attributes kept (generated from the catalog).
	Metrics map[string]MetricRule `mapstructure:"metrics"`
	// FromResource lists keys a point takes from its resource when it does not carry them itself
	// (the attribution keys of OTEL_RESOURCE_ATTRIBUTES: team.id, cost_center, ..., enduser.id):
	// the client copies them onto points, unless OTEL_METRICS_INCLUDE_RESOURCE_ATTRIBUTES=false,
	// and the events connector's points only have them on their resource.
	FromResource []string `mapstructure:"from_resource"`
	// CappedKeys are attributes whose values come from users (teams, projects, subagent, skill,
	// plugin and MCP names): at most MaxValuesPerKey distinct values each are kept, further
	// values become OtherValue (and are counted), so that a typo or a generated name cannot
	// multiply every developer's series.
	CappedKeys []string `mapstructure:"capped_keys"`
	// MaxValuesPerKey bounds the distinct values of each capped key (forgotten after max_stale).
	MaxValuesPerKey int `mapstructure:"max_values_per_key"`
	// Agents are the coding agents whose metrics become the shared vocabulary (generated from
	// otel_ccmon/_agents.py): Claude Code besides its own metrics, the others instead of theirs.
	Agents []AgentConfig `mapstructure:"agents"`
	// Pricing prices the tokens of agents that send no cost (generated from mixin/settings.yml).
	Pricing PricingConfig `mapstructure:"pricing"`
	// Outputs are the shared metrics' units and descriptions, by name (from the catalog).
	Outputs map[string]OutputConfig `mapstructure:"outputs"`
	// Apps maps the model-call metrics of any other service (an application under ccmon-instrument:
	// genai.tokens, genai.requests) onto the shared ones; its other metrics pass untouched.
	Apps AppsConfig `mapstructure:"apps"`
}

// AppsConfig maps applications' model-call metrics; the agent is the point's AgentKey attribute
// (the app's agent: coder, planner, ...), else the service.name.
type AppsConfig struct {
	AgentKey string                 `mapstructure:"agent_key"`
	Metrics  map[string]AgentMetric `mapstructure:"metrics"`
}

// AgentConfig recognises one coding agent and maps its metrics onto the shared ones.
type AgentConfig struct {
	// Name is the value of the agent attribute on the shared metrics.
	Name string `mapstructure:"name"`
	// Services are the service.name values the agent reports.
	Services []string `mapstructure:"services"`
	// SendsCost: the agent sends its own cost (Claude Code); its tokens are not priced again.
	SendsCost bool `mapstructure:"sends_cost"`
	// Metrics maps the agent's metric names to shared ones; the agent's other metrics are not
	// kept (Claude Code's own metrics excepted: they stay a contract).
	Metrics map[string]AgentMetric `mapstructure:"metrics"`
	// Records are the attributes the agent's log records and spans keep (besides identities,
	// which follow the identity policy); bodies are cleared.
	Records []string `mapstructure:"records"`
}

// AgentMetric maps one of an agent's metrics onto a shared metric.
type AgentMetric struct {
	// To is the shared metric (agent.token.usage, ...).
	To string `mapstructure:"to"`
	// Rename renames the agent's attribute keys (token_type -> type, status -> status_code).
	Rename map[string]string `mapstructure:"rename"`
	// Types maps the values of the type attribute (after Rename) to ours; a value not listed
	// (Codex's total) is not counted. Empty: values kept as sent.
	Types map[string]string `mapstructure:"types"`
	// Within names, per type of ours, the type whose count as sent includes it (Gemini's input
	// counts cached input, OpenAI's output its reasoning): that type is debited by the same
	// amount, so that every token is counted once.
	Within map[string]string `mapstructure:"within"`
	// Constant attributes added (estimated=false on a cost the agent sends).
	Constant map[string]string `mapstructure:"constant"`
}

// PricingConfig computes cost from tokens for agents that send none.
type PricingConfig struct {
	// Tokens, Cost and Unpriced are the shared metric names (agent.token.usage, ...).
	Tokens   string `mapstructure:"tokens"`
	Cost     string `mapstructure:"cost"`
	Unpriced string `mapstructure:"unpriced"`
	// Prices are USD per million tokens, per agent ("" or "*": any), model (a trailing "*"
	// matches a prefix) and type of ours; the most specific entry wins.
	Prices []Price `mapstructure:"prices"`
}

// Price is one row of the price table.
type Price struct {
	Agent      string             `mapstructure:"agent"`
	Model      string             `mapstructure:"model"`
	PerMillion map[string]float64 `mapstructure:"per_million"`
}

// OutputConfig describes a shared metric.
type OutputConfig struct {
	Unit        string `mapstructure:"unit"`
	Description string `mapstructure:"description"`
}

// OtherValue replaces the values of a capped key beyond max_values_per_key.
const OtherValue = "__other__"

// Validate reports a configuration that cannot work, with the field at fault.
func (c *Config) Validate() error {
	var errs []error
	if len(c.Services) == 0 {
		errs = append(errs, errors.New("services must name at least one service.name"))
	}
	if c.EmitInterval < 100*time.Millisecond {
		errs = append(errs, fmt.Errorf("emit_interval must be at least 100ms (got %s)", c.EmitInterval))
	}
	if c.FirstValueDelay < 0 {
		errs = append(errs, fmt.Errorf("first_value_delay must not be negative (got %s)", c.FirstValueDelay))
	}
	if c.MaxStale < time.Minute {
		errs = append(errs, fmt.Errorf("max_stale must be at least 1m (got %s)", c.MaxStale))
	}
	if c.MaxStreams < 1 {
		errs = append(errs, fmt.Errorf("max_streams must be at least 1 (got %d)", c.MaxStreams))
	}
	if len(c.CappedKeys) > 0 && c.MaxValuesPerKey < 1 {
		errs = append(errs, fmt.Errorf("max_values_per_key must be at least 1 with capped_keys (got %d)", c.MaxValuesPerKey))
	}
	if c.MaxValueLength < 1 {
		errs = append(errs, fmt.Errorf("max_value_length must be at least 1 (got %d)", c.MaxValueLength))
	}
	switch c.Identity.Policy {
	case IdentityDrop, IdentityKeep:
	case IdentityHash:
		// an empty key is allowed (a pseudonym still, but one that guessing addresses can undo:
		// the processor warns at start); a short one is a mistake
		if c.Identity.HashKey != "" && len(c.Identity.HashKey) < 16 {
			errs = append(errs, errors.New("identity: hash_key must be empty or at least 16 characters"))
		}
	default:
		errs = append(errs, fmt.Errorf("identity: policy must be hash, drop or keep (got %q)", c.Identity.Policy))
	}
	errs = append(errs, c.validateAgents()...)
	return errors.Join(errs...)
}

func (c *Config) validateAgents() []error {
	var errs []error
	seen := map[string]string{}
	for _, s := range c.Services {
		seen[s] = "services"
	}
	for i, ag := range c.Agents {
		if ag.Name == "" || len(ag.Services) == 0 {
			errs = append(errs, fmt.Errorf("agents[%d]: name and services are required", i))
		}
		for _, s := range ag.Services {
			if owner, dup := seen[s]; dup && owner != "services" {
				errs = append(errs, fmt.Errorf("agents[%d]: service %q is also agent %s's", i, s, owner))
			}
			seen[s] = ag.Name
		}
		for name, m := range ag.Metrics {
			if _, ok := c.Outputs[m.To]; !ok {
				errs = append(errs, fmt.Errorf("agents[%d].metrics.%s: to %q is not in outputs", i, name, m.To))
			}
		}
	}
	for name, m := range c.Apps.Metrics {
		if _, ok := c.Outputs[m.To]; !ok {
			errs = append(errs, fmt.Errorf("apps.metrics.%s: to %q is not in outputs", name, m.To))
		}
	}
	for i, p := range c.Pricing.Prices {
		for typ, v := range p.PerMillion {
			if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
				errs = append(errs, fmt.Errorf("pricing.prices[%d] (%s): %s must be a price >= 0 (got %v)", i, p.Model, typ, v))
			}
		}
		if p.Model == "" {
			errs = append(errs, fmt.Errorf("pricing.prices[%d]: model is required", i))
		}
	}
	return errs
}
