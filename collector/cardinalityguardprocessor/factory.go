package cardinalityguardprocessor

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processorhelper"
)

var componentType = component.MustNewType("cardinalityguard")

// NewFactory returns the factory of the cardinalityguard processor.
func NewFactory() processor.Factory {
	return processor.NewFactory(
		componentType,
		func() component.Config {
			return &Config{
				MaxStreamsPerService: 20000,
				MaxServices:          1000,
				ServiceAttribute:     "service.name",
				Expiry:               15 * time.Minute,
				MaxValueLength:       128,
			}
		},
		processor.WithMetrics(createMetrics, component.StabilityLevelAlpha),
	)
}

func createMetrics(
	ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Metrics,
) (processor.Metrics, error) {
	g, err := newGuard(cfg.(*Config), set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	return processorhelper.NewMetrics(
		ctx, set, cfg, next, g.process,
		processorhelper.WithCapabilities(consumer.Capabilities{MutatesData: true}),
	)
}
