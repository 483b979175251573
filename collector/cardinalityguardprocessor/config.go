// Package cardinalityguardprocessor is otel-ccmon's cardinality firewall in the collector. It
// enforces the metric catalog (only the catalog's attribute keys survive, bounded attributes keep
// their allowed values, values are truncated) and gives every service a budget of distinct
// streams, so that one buggy or hostile client cannot flood the backend or starve the others.
//
// Written for otel-ccmon because no collector component keeps a per-service budget (the memory
// limiter and the delta-to-cumulative stream limit are global), and the OTTL filter/transform
// processors of this release line cannot be built from the module proxy here; doing both in one
// place also lets every dropped or altered point be counted by service and reason.
package cardinalityguardprocessor

import (
	"errors"
	"fmt"
	"time"
)

// MetricRule is the catalog entry of one metric: its attribute keys, each with its allowed
// values (an empty list: any value).
type MetricRule struct {
	Attributes map[string][]string `mapstructure:"attributes"`
}

// Config of the processor.
type Config struct {
	// MaxStreamsPerService is the number of distinct streams (metric name + data point
	// attributes) one service may have; points of further new streams are dropped and counted.
	MaxStreamsPerService int `mapstructure:"max_streams_per_service"`
	// MaxStreamsByService overrides MaxStreamsPerService for the services named: a source whose
	// size is known in advance (Claude Code: expected developers x series per developer) gets
	// its own budget instead of the one sized for an application.
	MaxStreamsByService map[string]int `mapstructure:"max_streams_by_service"`
	// MaxServices bounds the number of services tracked; points of further services are dropped.
	MaxServices int `mapstructure:"max_services"`
	// ServiceAttribute is the resource attribute that names the service.
	ServiceAttribute string `mapstructure:"service_attribute"`
	// Expiry forgets a stream after this long without a point, freeing its place in the budget.
	Expiry time.Duration `mapstructure:"expiry"`
	// MaxValueLength truncates the string values of catalog metrics' attributes.
	MaxValueLength int `mapstructure:"max_value_length"`
	// Catalog maps metric names (as received over OTLP) to their rules; other metrics only count
	// against the budget.
	Catalog map[string]MetricRule `mapstructure:"catalog"`
}

// Validate reports a configuration that cannot work, with the field at fault.
func (c *Config) Validate() error {
	var errs []error
	if c.MaxStreamsPerService < 1 {
		errs = append(errs, fmt.Errorf("max_streams_per_service must be at least 1 (got %d)", c.MaxStreamsPerService))
	}
	for name, n := range c.MaxStreamsByService {
		if n < 1 {
			errs = append(errs, fmt.Errorf("max_streams_by_service: %q must be at least 1 (got %d)", name, n))
		}
	}
	if c.MaxServices < 1 {
		errs = append(errs, fmt.Errorf("max_services must be at least 1 (got %d)", c.MaxServices))
	}
	if c.ServiceAttribute == "" {
		errs = append(errs, errors.New("service_attribute must not be empty"))
	}
	if c.Expiry < time.Second {
		errs = append(errs, fmt.Errorf("expiry must be at least 1s (got %s)", c.Expiry))
	}
	if c.MaxValueLength < 1 {
		errs = append(errs, fmt.Errorf("max_value_length must be at least 1 (got %d)", c.MaxValueLength))
	}
	return errors.Join(errs...)
}
