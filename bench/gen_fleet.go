package bench

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rwkit/rwkit/wire"
)

// A deterministic fleet snapshot for the push-path benchmarks: what one
// JVM or Go service exports, scaled to n series. Every series has one
// sample at one shared timestamp and 3 to 9 labels: __name__, the identity
// labels service and instance, and 0 to 6 of the metric's own (JVM
// Micrometer and Go client_golang names and label sets: http, grpc, jvm,
// go runtime, process, pools, caches, kafka, plus per-domain application
// metrics), about 300 metric names in all. A few names hold most series
// (Zipf-like, as request metrics by route and status do in real fleets).
// The same n always yields the same series, values and order.

// FleetTimestamp is the batch timestamp of every fleet sample (ms).
const FleetTimestamp int64 = 1700000000000

// FleetIdentity are the identity labels the pusher adds (sorted).
var FleetIdentity = []wire.Label{{Name: "instance", Value: "10.3.7.21:8080"}, {Name: "service", Value: "checkout"}}

// fleetFamily is one metric name and its own label names (sorted).
type fleetFamily struct {
	name    string
	labels  []string
	counter bool
}

var fleetPools = map[string][]string{
	"action":       {"end of minor GC", "end of major GC"},
	"area":         {"heap", "nonheap"},
	"cache":        {"sessions", "products", "prices", "tokens", "carts", "users"},
	"cause":        {"G1 Evacuation Pause", "Metadata GC Threshold", "System.gc()", "Allocation Failure"},
	"client_id":    {"consumer-1", "consumer-2", "consumer-3"},
	"code":         {"200", "201", "204", "400", "401", "403", "404", "409", "429", "500", "502", "503"},
	"exception":    {"None", "IOException", "TimeoutException", "IllegalStateException"},
	"gc":           {"G1 Young Generation", "G1 Old Generation"},
	"grpc_code":    {"OK", "Canceled", "InvalidArgument", "NotFound", "Unavailable", "Internal", "DeadlineExceeded"},
	"grpc_method":  {"Get", "List", "Create", "Update", "Delete", "Watch", "Batch"},
	"grpc_service": {"checkout.v1.Orders", "checkout.v1.Payments", "checkout.v1.Carts", "inventory.v1.Stock"},
	"grpc_type":    {"unary", "server_stream"},
	"id":           {"G1 Eden Space", "G1 Old Gen", "G1 Survivor Space", "Metaspace", "CodeHeap 'non-nmethods'", "Compressed Class Space"},
	"le":           {"0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1.0", "2.5", "5.0", "10.0", "+Inf"},
	"level":        {"trace", "debug", "info", "warn", "error"},
	"method":       {"GET", "POST", "PUT", "DELETE", "PATCH"},
	"name":         {"main", "scheduler", "io", "db", "http-client"},
	"outcome":      {"SUCCESS", "CLIENT_ERROR", "SERVER_ERROR"},
	"partition":    {"0", "1", "2", "3", "4", "5", "6", "7"},
	"pool":         {"HikariPool-1", "HikariPool-2"},
	"quantile":     {"0", "0.25", "0.5", "0.75", "1"},
	"result":       {"hit", "miss"},
	"state":        {"idle", "active", "pending", "blocked", "waiting", "timed-waiting", "runnable", "new"},
	"status":       {"200", "201", "204", "400", "401", "403", "404", "409", "429", "500", "502", "503"},
	"topic":        {"orders", "payments", "inventory", "shipments", "notifications"},
	"type":         {"read", "write"},
	"uri":          nil, // generated: /api/v1/<noun>/{id}/...
	"handler":      nil, // generated like uri
}

var fleetNouns = []string{"orders", "carts", "payments", "users", "products", "prices", "stock", "shipments", "invoices", "refunds",
	"coupons", "reviews", "sessions", "tokens", "addresses", "wishlists", "categories", "search", "recommendations", "returns"}

// fleetFamilies lists the metric names: library metrics first, then
// application metrics per domain to reach about 300 names.
func fleetFamilies() []fleetFamily {
	fams := []fleetFamily{
		{"http_server_requests_seconds_count", []string{"exception", "method", "outcome", "status", "uri"}, true},
		{"http_server_requests_seconds_sum", []string{"exception", "method", "outcome", "status", "uri"}, true},
		{"http_server_requests_seconds_max", []string{"exception", "method", "outcome", "status", "uri"}, false},
		{"http_request_duration_seconds_bucket", []string{"code", "handler", "le", "method"}, true},
		{"http_request_duration_seconds_count", []string{"code", "handler", "method"}, true},
		{"http_request_duration_seconds_sum", []string{"code", "handler", "method"}, true},
		{"http_client_requests_seconds_count", []string{"exception", "method", "outcome", "status", "type", "uri"}, true},
		{"grpc_server_handled_total", []string{"grpc_code", "grpc_method", "grpc_service", "grpc_type"}, true},
		{"grpc_server_started_total", []string{"grpc_method", "grpc_service", "grpc_type"}, true},
		{"grpc_server_handling_seconds_bucket", []string{"grpc_method", "grpc_service", "grpc_type", "le"}, true},
		{"jvm_memory_used_bytes", []string{"area", "id"}, false},
		{"jvm_memory_committed_bytes", []string{"area", "id"}, false},
		{"jvm_memory_max_bytes", []string{"area", "id"}, false},
		{"jvm_gc_pause_seconds_count", []string{"action", "cause", "gc"}, true},
		{"jvm_gc_pause_seconds_sum", []string{"action", "cause", "gc"}, true},
		{"jvm_threads_states_threads", []string{"state"}, false},
		{"jvm_buffer_memory_used_bytes", []string{"id"}, false},
		{"executor_pool_size_threads", []string{"name"}, false},
		{"executor_active_threads", []string{"name"}, false},
		{"executor_completed_tasks_total", []string{"name"}, true},
		{"logback_events_total", []string{"level"}, true},
		{"hikaricp_connections", []string{"pool", "state"}, false},
		{"hikaricp_connections_acquire_seconds_count", []string{"pool"}, true},
		{"cache_gets_total", []string{"cache", "name", "result"}, true},
		{"cache_size", []string{"cache", "name"}, false},
		{"kafka_consumer_fetch_manager_records_lag", []string{"client_id", "partition", "topic"}, false},
		{"kafka_consumer_fetch_manager_records_consumed_total", []string{"client_id", "partition", "topic"}, true},
		{"go_gc_duration_seconds", []string{"quantile"}, false},
	}
	for _, n := range []string{
		"go_goroutines", "go_threads", "go_memstats_alloc_bytes", "go_memstats_alloc_bytes_total", "go_memstats_heap_alloc_bytes",
		"go_memstats_heap_idle_bytes", "go_memstats_heap_inuse_bytes", "go_memstats_heap_objects", "go_memstats_heap_released_bytes",
		"go_memstats_heap_sys_bytes", "go_memstats_mallocs_total", "go_memstats_frees_total", "go_memstats_next_gc_bytes",
		"go_memstats_stack_inuse_bytes", "go_memstats_sys_bytes", "go_gc_duration_seconds_count", "go_gc_duration_seconds_sum",
		"process_cpu_seconds_total", "process_open_fds", "process_max_fds", "process_resident_memory_bytes",
		"process_virtual_memory_bytes", "process_start_time_seconds", "jvm_classes_loaded_classes", "jvm_threads_live_threads",
		"jvm_threads_daemon_threads", "jvm_threads_peak_threads", "system_cpu_usage", "system_cpu_count", "process_uptime_seconds",
	} {
		fams = append(fams, fleetFamily{n, nil, strings.HasSuffix(n, "_total") || strings.HasSuffix(n, "_count") || strings.HasSuffix(n, "_sum")})
	}
	things := []struct {
		suffix  string
		labels  []string
		counter bool
	}{
		{"requests_total", []string{"method", "status"}, true},
		{"errors_total", []string{"exception"}, true},
		{"processed_total", []string{"outcome"}, true},
		{"inflight", nil, false},
		{"queue_depth", []string{"topic"}, false},
		{"latency_seconds_sum", []string{"method"}, true},
		{"latency_seconds_count", []string{"method"}, true},
		{"cache_hits_total", []string{"cache", "result"}, true},
		{"db_queries_total", []string{"pool", "type"}, true},
		{"last_success_timestamp_seconds", nil, false},
		{"items", []string{"state"}, false},
		{"retries_total", []string{"grpc_code"}, true},
	}
	for _, noun := range fleetNouns {
		for _, th := range things {
			fams = append(fams, fleetFamily{"app_" + noun + "_" + th.suffix, th.labels, th.counter})
		}
	}
	return fams
}

// fleetSpec is a generated snapshot before it is shaped for a consumer.
type fleetSpec struct {
	fams   []fleetFamily
	series []fleetPoint
}

type fleetPoint struct {
	fam    int
	values []string // label values, in fams[fam].labels order
	value  float64
}

func fleetLabelValue(name string, k int) string {
	if name == "uri" || name == "handler" {
		noun := fleetNouns[k%len(fleetNouns)]
		k /= len(fleetNouns)
		shapes := []string{"/api/v1/%s", "/api/v1/%s/{id}", "/api/v1/%s/{id}/items", "/api/v2/%s/search", "/internal/%s/sync"}
		s := fmt.Sprintf(shapes[k%len(shapes)], noun)
		if k /= len(shapes); k > 0 {
			s += "/v" + strconv.Itoa(k)
		}
		return s
	}
	pool := fleetPools[name]
	if k < len(pool) {
		return pool[k]
	}
	return pool[k%len(pool)] + "-" + strconv.Itoa(k/len(pool))
}

func fleetPoolSize(label string) int {
	if label == "uri" || label == "handler" {
		return len(fleetNouns) * 5
	}
	return len(fleetPools[label])
}

func genFleet(n int) *fleetSpec {
	fams := fleetFamilies()
	rng := rand.New(rand.NewPCG(uint64(n), 0x5eed))
	spec := &fleetSpec{fams: fams}
	// Names without labels have one series each; the rest are drawn with
	// Zipf-like weights 1/(rank+1) over the labelled names.
	var labelled []int
	for i, f := range fams {
		if len(f.labels) == 0 {
			if len(spec.series) < n {
				spec.series = append(spec.series, fleetPoint{fam: i})
			}
		} else {
			labelled = append(labelled, i)
		}
	}
	cum := make([]float64, len(labelled))
	total := 0.0
	for r := range labelled {
		total += 1 / float64(r+1)
		cum[r] = total
	}
	count := make([]int, len(fams))
	for len(spec.series) < n {
		r, _ := slices.BinarySearch(cum, rng.Float64()*total)
		fi := labelled[min(r, len(labelled)-1)]
		f := &fams[fi]
		// The j-th series of a name: mixed-radix digits of j over the label
		// pools, the last label open-ended, so series never repeat.
		j := count[fi]
		count[fi]++
		vals := make([]string, len(f.labels))
		open := 0 // the label with the largest pool (a route, an id) grows
		for li, ln := range f.labels {
			if fleetPoolSize(ln) > fleetPoolSize(f.labels[open]) {
				open = li
			}
		}
		for li, ln := range f.labels {
			if li != open {
				vals[li] = fleetLabelValue(ln, j%fleetPoolSize(ln))
				j /= fleetPoolSize(ln)
			}
		}
		vals[open] = fleetLabelValue(f.labels[open], j)
		spec.series = append(spec.series, fleetPoint{fam: fi, values: vals})
	}
	for i := range spec.series {
		spec.series[i].value = fleetValue(rng, fams[spec.series[i].fam].counter)
	}
	return spec
}

// fleetValue is a realistic sample value: about one in ten is 0 (error
// counters, idle gauges), counters are large and integral, gauges have
// fractions.
func fleetValue(rng *rand.Rand, counter bool) float64 {
	if rng.IntN(10) == 0 {
		return 0
	}
	if counter {
		return float64(rng.IntN(50_000_000))
	}
	return float64(rng.IntN(1_000_000)) / 64
}

// FleetSeries returns the n series of the fleet snapshot with identity
// labels, labels sorted by name, one sample each at FleetTimestamp, in the
// order client_golang's Gather and gather.Converter yield them (by name,
// then by label values).
func FleetSeries(n int) []wire.TimeSeries {
	spec := genFleet(n)
	out := make([]wire.TimeSeries, 0, n)
	for _, p := range spec.series {
		f := &spec.fams[p.fam]
		ls := make([]wire.Label, 0, 3+len(f.labels))
		ls = append(ls, wire.Label{Name: "__name__", Value: f.name})
		for i, ln := range f.labels {
			ls = append(ls, wire.Label{Name: ln, Value: p.values[i]})
		}
		ls = append(ls, FleetIdentity...)
		slices.SortFunc(ls[1:], wire.CompareLabels)
		out = append(out, wire.TimeSeries{Labels: ls, Samples: []wire.Sample{{Value: p.value, Timestamp: FleetTimestamp}}})
	}
	slices.SortStableFunc(out, func(a, b wire.TimeSeries) int {
		// Prometheus' labels.Compare: pair by pair, name then value.
		for i := 0; i < len(a.Labels) && i < len(b.Labels); i++ {
			if c := strings.Compare(a.Labels[i].Name, b.Labels[i].Name); c != 0 {
				return c
			}
			if c := strings.Compare(a.Labels[i].Value, b.Labels[i].Value); c != 0 {
				return c
			}
		}
		return len(a.Labels) - len(b.Labels)
	})
	return out
}

// FleetValues returns the sample values of the fleet snapshot's push
// number push (0 is FleetSeries' own): counters grow, gauges move, zeros
// stay zero, so the byte layout of the values is the one real pushes have.
func FleetValues(series []wire.TimeSeries, push int) []float64 {
	out := make([]float64, len(series))
	for i := range series {
		v := series[i].Samples[0].Value
		switch {
		case v == 0:
		case strings.HasSuffix(series[i].Labels[0].Value, "_total") || strings.HasSuffix(series[i].Labels[0].Value, "_count"):
			v += float64(push * (1 + i%7))
		default:
			v += float64(push%5) / 8
		}
		out[i] = v
	}
	return out
}

// FleetRegistry returns a client_golang registry that exports the fleet
// snapshot of n series (without the identity labels, which the pusher
// adds): one CounterVec or GaugeVec per metric name.
func FleetRegistry(n int) *prometheus.Registry {
	spec := genFleet(n)
	reg := prometheus.NewRegistry()
	counters := map[int]*prometheus.CounterVec{}
	gauges := map[int]*prometheus.GaugeVec{}
	for _, p := range spec.series {
		f := &spec.fams[p.fam]
		help := "Fleet benchmark metric " + f.name + "."
		if f.counter {
			c, ok := counters[p.fam]
			if !ok {
				c = prometheus.NewCounterVec(prometheus.CounterOpts{Name: f.name, Help: help}, f.labels)
				reg.MustRegister(c)
				counters[p.fam] = c
			}
			c.WithLabelValues(p.values...).Add(p.value)
			continue
		}
		g, ok := gauges[p.fam]
		if !ok {
			g = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: f.name, Help: help}, f.labels)
			reg.MustRegister(g)
			gauges[p.fam] = g
		}
		g.WithLabelValues(p.values...).Set(p.value)
	}
	return reg
}
