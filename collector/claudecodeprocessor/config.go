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
	"time"
)

// User e-mail handling (user_email).
const (
	EmailDrop = "drop" // the attribute is removed (default)
	EmailHash = "hash" // the value becomes a keyed hash: a stable pseudonym, not the address
	EmailKeep = "keep" // stored as sent (personal data in the metrics backend)
)

// MetricRule is the catalog entry of one Claude Code metric: the attribute keys kept.
type MetricRule struct {
	Attributes []string `mapstructure:"attributes"`
}

// Config of the processor.
type Config struct {
	// Services are the service.name values handled; other resources pass through untouched.
	Services []string `mapstructure:"services"`
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
	// UserEmail is drop, hash or keep.
	UserEmail string `mapstructure:"user_email"`
	// EmailHashKey keys the hash of user_email: hash (so that addresses cannot be guessed back).
	EmailHashKey string `mapstructure:"email_hash_key"`
	// KeepResource lists the resource attributes kept on the emitted streams.
	KeepResource []string `mapstructure:"keep_resource"`
	// DropAttributes are removed from metrics that are not in Metrics (unknown or newer ones).
	DropAttributes []string `mapstructure:"drop_attributes"`
	// DropLogAttributes are removed from Claude Code's log records (content: prompts, responses).
	DropLogAttributes []string `mapstructure:"drop_log_attributes"`
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
	switch c.UserEmail {
	case EmailDrop, EmailKeep:
	case EmailHash:
		if len(c.EmailHashKey) < 16 {
			errs = append(errs, errors.New("user_email: hash needs email_hash_key of at least 16 characters"))
		}
	default:
		errs = append(errs, fmt.Errorf("user_email must be drop, hash or keep (got %q)", c.UserEmail))
	}
	return errors.Join(errs...)
}
