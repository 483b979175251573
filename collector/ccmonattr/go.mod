module github.com/otel-ccmon/otel-ccmon/collector/ccmonattr

go 1.26.0
