package gatewayrouteexporter

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

const unknownService = "unknown_service"

type router struct {
	cfg    *Config
	client *http.Client
	now    func() time.Time

	mu   sync.Mutex
	down map[string]time.Time // endpoint -> skipped until

	items metric.Int64Counter
}

func newRouter(cfg *Config, tel component.TelemetrySettings) (*router, error) {
	r := &router{cfg: cfg, client: &http.Client{Timeout: cfg.Timeout}, now: time.Now, down: map[string]time.Time{}}
	var err error
	r.items, err = tel.MeterProvider.Meter("github.com/otel-ccmon/otel-ccmon/collector/gatewayrouteexporter").Int64Counter(
		"otelcol_ccmon_route_items",
		metric.WithDescription("Data points and log records the gatewayroute exporter sent or failed to send, by gateway."),
		metric.WithUnit("{item}"),
	)
	return r, err
}

func weight(key, endpoint string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(key))
	h.Write([]byte{0})
	h.Write([]byte(endpoint))
	return h.Sum64()
}

// order is the rendezvous order of the gateways for a key: healthy ones first, each group by
// descending weight, so a key's gateway changes only when that gateway fails.
func (r *router) order(key string) []string {
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	eps := append([]string(nil), r.cfg.Endpoints...)
	sort.SliceStable(eps, func(i, j int) bool {
		di, dj := now.Before(r.down[eps[i]]), now.Before(r.down[eps[j]])
		if di != dj {
			return !di
		}
		return weight(key, eps[i]) > weight(key, eps[j])
	})
	return eps
}

func (r *router) quarantine(endpoint string) {
	r.mu.Lock()
	r.down[endpoint] = r.now().Add(r.cfg.Quarantine)
	r.mu.Unlock()
}

type permanent struct{ error }

// send posts one service's batch to its gateway, failing over in rendezvous order.
func (r *router) send(ctx context.Context, key, path, kind string, body []byte, n int) error {
	var errs []error
	for _, endpoint := range r.order(key) {
		err := r.post(ctx, strings.TrimRight(endpoint, "/")+path, body)
		outcome := "sent"
		if err != nil {
			outcome = "failed"
		}
		r.items.Add(ctx, int64(n), metric.WithAttributes(
			attribute.String("endpoint", endpoint), attribute.String("outcome", outcome), attribute.String("signal", kind)))
		if err == nil {
			return nil
		}
		var p permanent
		if errors.As(err, &p) {
			return consumererror.NewPermanent(err) // the gateway refused the data itself: no other will take it
		}
		r.quarantine(endpoint)
		errs = append(errs, fmt.Errorf("%s: %w", endpoint, err))
	}
	return errors.Join(errs...)
}

func (r *router) post(ctx context.Context, url string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return permanent{err}
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	for k, v := range r.cfg.Headers {
		req.Header.Set(k, v)
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	default:
		return permanent{fmt.Errorf("HTTP %d", resp.StatusCode)}
	}
}

func (r *router) pushMetrics(ctx context.Context, md pmetric.Metrics) error {
	groups := map[string]pmetric.Metrics{}
	keys := []string{}
	for i := 0; i < md.ResourceMetrics().Len(); i++ {
		rm := md.ResourceMetrics().At(i)
		key := unknownService
		if v, ok := rm.Resource().Attributes().Get("service.name"); ok {
			key = v.AsString()
		}
		g, ok := groups[key]
		if !ok {
			g = pmetric.NewMetrics()
			groups[key] = g
			keys = append(keys, key)
		}
		rm.CopyTo(g.ResourceMetrics().AppendEmpty())
	}
	failed := pmetric.NewMetrics()
	var errs []error
	for _, key := range keys {
		g := groups[key]
		body, err := pmetricotlp.NewExportRequestFromMetrics(g).MarshalProto()
		if err == nil {
			err = r.send(ctx, key, "/v1/metrics", "metrics", body, g.DataPointCount())
		}
		if err != nil {
			if consumererror.IsPermanent(err) {
				errs = append(errs, err)
				continue
			}
			g.ResourceMetrics().MoveAndAppendTo(failed.ResourceMetrics())
			errs = append(errs, err)
		}
	}
	if failed.ResourceMetrics().Len() > 0 {
		// only what failed everywhere is retried: the services already delivered are not sent twice
		return consumererror.NewMetrics(errors.Join(errs...), failed)
	}
	return errors.Join(errs...)
}

func (r *router) pushLogs(ctx context.Context, ld plog.Logs) error {
	groups := map[string]plog.Logs{}
	keys := []string{}
	for i := 0; i < ld.ResourceLogs().Len(); i++ {
		rl := ld.ResourceLogs().At(i)
		key := unknownService
		if v, ok := rl.Resource().Attributes().Get("service.name"); ok {
			key = v.AsString()
		}
		g, ok := groups[key]
		if !ok {
			g = plog.NewLogs()
			groups[key] = g
			keys = append(keys, key)
		}
		rl.CopyTo(g.ResourceLogs().AppendEmpty())
	}
	failed := plog.NewLogs()
	var errs []error
	for _, key := range keys {
		g := groups[key]
		body, err := plogotlp.NewExportRequestFromLogs(g).MarshalProto()
		if err == nil {
			err = r.send(ctx, key, "/v1/logs", "logs", body, g.LogRecordCount())
		}
		if err != nil {
			if consumererror.IsPermanent(err) {
				errs = append(errs, err)
				continue
			}
			g.ResourceLogs().MoveAndAppendTo(failed.ResourceLogs())
			errs = append(errs, err)
		}
	}
	if failed.ResourceLogs().Len() > 0 {
		return consumererror.NewLogs(errors.Join(errs...), failed)
	}
	return errors.Join(errs...)
}
