// Package gatewayrouteexporter sends an agent's metrics and logs to a tier of gateway collectors
// over OTLP/HTTP, every service to one gateway: rendezvous (highest-random-weight) hashing of
// service.name over the configured endpoints. The gateways keep state per series (Claude Code
// totals, per-service stream budgets), so a service must not be spread across them. When its
// gateway fails (connection error, 5xx, 429) the batch goes to the service's next gateway in
// rendezvous order and the failed one is skipped for `quarantine`; afterwards the service
// returns to it. Nothing else moves: rendezvous hashing reassigns only the failed gateway's
// services.
//
// Written for otel-ccmon because the contrib loadbalancing exporter of this release line cannot be
// fetched from the module proxy here; this one is small and routes by service, the key our stateful
// processors need (docs/kubernetes.md).
package gatewayrouteexporter

import (
	"errors"
	"fmt"
	"net/url"
	"time"

	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
)

// Config of the exporter.
type Config struct {
	// Endpoints are the gateways' OTLP/HTTP base URLs (http://gateway-0:4318).
	Endpoints []string `mapstructure:"endpoints"`
	// Timeout of one request to one gateway.
	Timeout time.Duration `mapstructure:"timeout"`
	// Quarantine is how long a failed gateway is skipped before its services return to it.
	Quarantine time.Duration `mapstructure:"quarantine"`
	// Headers are added to every request (an authorization header of secured gateways).
	Headers map[string]string `mapstructure:"headers"`

	QueueConfig configoptional.Optional[exporterhelper.QueueBatchConfig] `mapstructure:"sending_queue"`
	RetryConfig configretry.BackOffConfig                                `mapstructure:"retry_on_failure"`
}

// Validate reports a configuration that cannot work, with the field at fault.
func (c *Config) Validate() error {
	var errs []error
	if len(c.Endpoints) == 0 {
		errs = append(errs, errors.New("endpoints must list at least one gateway"))
	}
	seen := map[string]bool{}
	for _, e := range c.Endpoints {
		u, err := url.Parse(e)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("endpoints: %q is not an http(s) URL", e))
		}
		if seen[e] {
			errs = append(errs, fmt.Errorf("endpoints: %q is listed twice", e))
		}
		seen[e] = true
	}
	if c.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("timeout must be positive (got %s)", c.Timeout))
	}
	if c.Quarantine < 0 {
		errs = append(errs, fmt.Errorf("quarantine must not be negative (got %s)", c.Quarantine))
	}
	return errors.Join(errs...)
}
