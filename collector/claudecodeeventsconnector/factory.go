package claudecodeeventsconnector

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/connector"
	"go.opentelemetry.io/collector/consumer"
)

var componentType = component.MustNewType("claudecode_events")

// NewFactory returns the factory of the claudecode_events connector.
func NewFactory() connector.Factory {
	return connector.NewFactory(
		componentType,
		func() component.Config {
			return &Config{
				Services:            []string{"claude-code"},
				DurationBuckets:     []float64{0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120},
				MaxTokensPerRequest: 10_000_000,
				MaxCostPerRequest:   1000,
				MaxValueLength:      128,
			}
		},
		connector.WithLogsToMetrics(createLogsToMetrics, component.StabilityLevelAlpha),
		connector.WithTracesToMetrics(createTracesToMetrics, component.StabilityLevelAlpha),
	)
}

func createTracesToMetrics(
	_ context.Context, set connector.Settings, cfg component.Config, next consumer.Metrics,
) (connector.Traces, error) {
	return newSpanDeriver(cfg.(*Config), set.TelemetrySettings, next)
}

func createLogsToMetrics(
	_ context.Context, set connector.Settings, cfg component.Config, next consumer.Metrics,
) (connector.Logs, error) {
	return newDeriver(cfg.(*Config), set.TelemetrySettings, next)
}
