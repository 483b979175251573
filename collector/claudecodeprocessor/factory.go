package claudecodeprocessor

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processorhelper"
)

var componentType = component.MustNewType("claudecode")

// NewFactory returns the factory of the claudecode processor.
func NewFactory() processor.Factory {
	return processor.NewFactory(
		componentType,
		func() component.Config {
			return &Config{
				Services:        []string{"claude-code"},
				EmitInterval:    5 * time.Second,
				FirstValueDelay: 30 * time.Second,
				MaxStale:        6 * time.Hour,
				MaxStreams:      50000,
				MaxValueLength:  128,
				ScopePrefixes:   []string{"com.anthropic.claude_code"},
				Identity: IdentityConfig{
					Policy: IdentityHash, Keys: []string{"user.email", "enduser.id", "process.owner"},
				},
				Allowlist: AllowlistConfig{
					Resource: []string{"service.name", "service.version", "os.type", "host.arch"},
					Common:   []string{"event.name", "event.timestamp", "event.sequence", "session.id", "user.id"},
				},
				KeepResource:      []string{"service.name", "service.namespace"},
				DefaultAttributes: []string{"user.id", "model", "type"},
			}
		},
		processor.WithMetrics(createMetrics, component.StabilityLevelAlpha),
		processor.WithLogs(createLogs, component.StabilityLevelAlpha),
		processor.WithTraces(createTraces, component.StabilityLevelAlpha),
	)
}

// mutates: every signal's instance rewrites the data it passes on
var mutates = processorhelper.WithCapabilities(consumer.Capabilities{MutatesData: true})

func createTraces(
	ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Traces,
) (processor.Traces, error) {
	// like logs: the instance holds no totals, only the privacy rules apply to Claude Code's spans
	a, err := newAccumulator(cfg.(*Config), set.TelemetrySettings, nil)
	if err != nil {
		return nil, err
	}
	return processorhelper.NewTraces(ctx, set, cfg, next, a.processTraces, mutates)
}

func createMetrics(
	ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Metrics,
) (processor.Metrics, error) {
	a, err := newAccumulator(cfg.(*Config), set.TelemetrySettings, next)
	if err != nil {
		return nil, err
	}
	return processorhelper.NewMetrics(
		ctx, set, cfg, next, a.process, mutates,
		processorhelper.WithStart(a.start),
		processorhelper.WithShutdown(a.shutdown),
	)
}

func createLogs(
	ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Logs,
) (processor.Logs, error) {
	a, err := newAccumulator(cfg.(*Config), set.TelemetrySettings, nil)
	if err != nil {
		return nil, err
	}
	return processorhelper.NewLogs(ctx, set, cfg, next, a.processLogs, mutates)
}
