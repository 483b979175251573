// Package claudecodeeventsconnector derives metrics from Claude Code's log events (a logs ->
// metrics connector), so that API requests and errors, request latency, tool results and
// decisions, and per-request cost are counted without a log store.
//
// Written for otel-ccmon because the contrib count and signaltometrics connectors are OTTL-based
// and cannot be built from the module proxy here (pkg/ottl's dependencies of this release are
// refused), and because the events need checks they do not make: Claude Code sends some numbers
// as strings (tool_result's success and duration_ms), and a missing, non-numeric or absurd
// cost_usd or token count must be counted as dropped, never added to a total.
//
// It emits delta points; the claudecode processor in the metrics pipeline turns them into exact
// cumulative totals like Claude Code's own counters.
package claudecodeeventsconnector

import (
	"errors"
	"fmt"
	"sort"
)

// Config of the connector.
type Config struct {
	// Services are the service.name values whose log events are converted; others are ignored.
	Services []string `mapstructure:"services"`
	// DurationBuckets are the bounds (seconds) of the request and tool duration histograms.
	DurationBuckets []float64 `mapstructure:"duration_buckets"`
	// MaxTokensPerRequest: a token count above it is absurd (dropped and counted, not added).
	MaxTokensPerRequest float64 `mapstructure:"max_tokens_per_request"`
	// MaxCostPerRequest (USD): a cost above it is absurd.
	MaxCostPerRequest float64 `mapstructure:"max_cost_per_request"`
	// MaxValueLength truncates attribute values.
	MaxValueLength int `mapstructure:"max_value_length"`
}

// Validate reports a configuration that cannot work, with the field at fault.
func (c *Config) Validate() error {
	var errs []error
	if len(c.Services) == 0 {
		errs = append(errs, errors.New("services must name at least one service.name"))
	}
	if len(c.DurationBuckets) == 0 || !sort.Float64sAreSorted(c.DurationBuckets) {
		errs = append(errs, fmt.Errorf("duration_buckets must be a non-empty ascending list (got %v)", c.DurationBuckets))
	}
	if c.MaxTokensPerRequest <= 0 {
		errs = append(errs, fmt.Errorf("max_tokens_per_request must be positive (got %v)", c.MaxTokensPerRequest))
	}
	if c.MaxCostPerRequest <= 0 {
		errs = append(errs, fmt.Errorf("max_cost_per_request must be positive (got %v)", c.MaxCostPerRequest))
	}
	if c.MaxValueLength < 1 {
		errs = append(errs, fmt.Errorf("max_value_length must be at least 1 (got %d)", c.MaxValueLength))
	}
	return errors.Join(errs...)
}
