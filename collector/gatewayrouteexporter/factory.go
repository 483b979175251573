package gatewayrouteexporter

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
)

var componentType = component.MustNewType("gatewayroute")

// NewFactory returns the factory of the gatewayroute exporter.
func NewFactory() exporter.Factory {
	return exporter.NewFactory(
		componentType,
		func() component.Config {
			return &Config{
				Timeout:     5 * time.Second,
				Quarantine:  30 * time.Second,
				QueueConfig: configoptional.Some(exporterhelper.NewDefaultQueueConfig()),
				RetryConfig: configretry.NewDefaultBackOffConfig(),
			}
		},
		exporter.WithMetrics(createMetrics, component.StabilityLevelAlpha),
		exporter.WithLogs(createLogs, component.StabilityLevelAlpha),
	)
}

func options(c *Config) []exporterhelper.Option {
	return []exporterhelper.Option{
		exporterhelper.WithCapabilities(consumer.Capabilities{MutatesData: false}),
		exporterhelper.WithTimeout(exporterhelper.TimeoutConfig{Timeout: 0}), // per request: Config.Timeout
		exporterhelper.WithRetry(c.RetryConfig),
		exporterhelper.WithQueue(c.QueueConfig),
	}
}

func createMetrics(ctx context.Context, set exporter.Settings, cfg component.Config) (exporter.Metrics, error) {
	c := cfg.(*Config)
	r, err := newRouter(c, set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	return exporterhelper.NewMetrics(ctx, set, cfg, r.pushMetrics, options(c)...)
}

func createLogs(ctx context.Context, set exporter.Settings, cfg component.Config) (exporter.Logs, error) {
	c := cfg.(*Config)
	r, err := newRouter(c, set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	return exporterhelper.NewLogs(ctx, set, cfg, r.pushLogs, options(c)...)
}
