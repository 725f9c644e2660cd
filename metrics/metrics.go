// Package metrics keeps the Prometheus metrics of one supervised unit and
// writes them for node_exporter's textfile collector (--metrics-dir).
//
// Every series is named systemd_docker_* and carries the constant label
// unit="<unit>". The metrics live in a registry of their own, never in the
// global default one.
package metrics

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/systemd-docker/systemd-docker/states"
)

const namespace = "systemd_docker"

// Health statuses known to Health, as Docker reports them ("none": the
// container has no health check).
var healthStatuses = []string{"starting", "healthy", "unhealthy", "none"}

// stateDurationBuckets spans 1 ms to 1 h, in seconds.
var stateDurationBuckets = []float64{
	0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 1800, 3600,
}

// Metrics are the metrics of one unit. Its methods are safe for concurrent
// use, and are no-ops on a nil *Metrics, so callers without --metrics-dir
// need no checks.
type Metrics struct {
	now func() time.Time
	reg *prometheus.Registry
	// file is FileName(unit), computed once.
	file string

	// mu makes multi-series updates (state, health) atomic with respect to
	// Gather, and guards current, entered and failures.
	mu      sync.Mutex
	current states.State
	entered time.Time
	// failures holds the kinds of write failures NewFailure has seen.
	failures map[string]bool

	state         *prometheus.GaugeVec
	transitions   *prometheus.CounterVec
	stateDuration *prometheus.HistogramVec
	startTime     prometheus.Gauge
	exitCode      prometheus.Gauge
	restarts      prometheus.Counter
	oomKills      prometheus.Counter
	health        *prometheus.GaugeVec
	pingsSent     prometheus.Counter
	pingsSkipped  prometheus.Counter
	pullSeconds   prometheus.Gauge
	logBytes      *prometheus.CounterVec
	stdoutBytes   prometheus.Counter // pre-resolved, for LogBytes' hot path
	stderrBytes   prometheus.Counter
	pidsMigrated  prometheus.Counter
}

// New returns the metrics of unit, in the Lookup state entered now(). now
// is the clock (time.Now outside tests); it is used for the time spent in
// the first state and when a transition carries no time.
func New(unit string, now func() time.Time) *Metrics {
	if now == nil {
		now = time.Now
	}
	m := &Metrics{
		now:     now,
		reg:     prometheus.NewRegistry(),
		file:    FileName(unit),
		current: states.Lookup,
		entered: now(),
	}
	// Label values must be valid UTF-8, or Gather fails.
	r := prometheus.WrapRegistererWith(prometheus.Labels{"unit": strings.ToValidUTF8(unit, "\uFFFD")}, m.reg)

	m.state = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: namespace, Name: "state",
		Help: "Lifecycle state of the supervisor: 1 for the current state, 0 for the others.",
	}, []string{"state"})
	m.transitions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "transitions_total",
		Help: "State machine transitions taken, by source state, destination state and event.",
	}, []string{"from", "to", "event"})
	m.stateDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace, Name: "state_duration_seconds",
		Help:    "Time spent in a state, observed when the state is left.",
		Buckets: stateDurationBuckets,
	}, []string{"state"})
	m.startTime = prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: namespace, Name: "container_start_time_seconds",
		Help: "Unix time the container started at; 0 until known.",
	})
	m.exitCode = prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: namespace, Name: "exit_code",
		Help: "Exit code of the container; -1 until it has exited.",
	})
	m.restarts = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: namespace, Name: "restarts_total",
		Help: "Restarts of the container by Docker (an operator's docker restart) seen while supervising.",
	})
	m.oomKills = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: namespace, Name: "oom_kills_total",
		Help: "Container exits caused by the out-of-memory killer.",
	})
	m.health = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: namespace, Name: "health_status",
		Help: "Docker health status of the container: 1 for the current status, 0 for the others; all 0 until known.",
	}, []string{"status"})
	pings := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "watchdog_pings_total",
		Help: "systemd watchdog pings, by result: sent, or skipped (due but not sent).",
	}, []string{"result"})
	m.pullSeconds = prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: namespace, Name: "image_pull_seconds",
		Help: "Duration of the last image pull, in seconds; 0 if none.",
	})
	m.logBytes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "log_bytes_total",
		Help: "Bytes of container output copied, by stream.",
	}, []string{"stream"})
	m.pidsMigrated = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: namespace, Name: "pids_migrated_total",
		Help: "Container processes moved into the unit's cgroups.",
	})

	r.MustRegister(m.state, m.transitions, m.stateDuration, m.startTime, m.exitCode,
		m.restarts, m.oomKills, m.health, pings, m.pullSeconds, m.logBytes, m.pidsMigrated)

	// Create every known series up front, so that they exist (at 0) before
	// their first event and rate()/increase() see the first one.
	for _, s := range states.AllStates {
		m.state.WithLabelValues(string(s))
	}
	m.state.WithLabelValues(string(states.Lookup)).Set(1)
	for _, t := range states.Transitions {
		for _, from := range t.From {
			m.transitions.WithLabelValues(string(from), string(t.To), string(t.Event))
		}
	}
	for _, s := range healthStatuses {
		m.health.WithLabelValues(s)
	}
	m.exitCode.Set(-1)
	m.pingsSent = pings.WithLabelValues("sent")
	m.pingsSkipped = pings.WithLabelValues("skipped")
	m.stdoutBytes = m.logBytes.WithLabelValues("stdout")
	m.stderrBytes = m.logBytes.WithLabelValues("stderr")
	return m
}

// Transition records t: the state gauge moves to t.To, the transitions
// counter counts it, and the time spent in t.From (since the previous
// transition, or since New for the first state) is observed. A zero t.At
// means now.
func (m *Metrics) Transition(t states.Transition) {
	if m == nil {
		return
	}
	at := t.At
	if at.IsZero() {
		at = m.now()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	d := max(at.Sub(m.entered), 0)
	m.stateDuration.WithLabelValues(string(t.From)).Observe(d.Seconds())
	m.transitions.WithLabelValues(string(t.From), string(t.To), string(t.Event)).Inc()
	// Clear the state we believe is current, and t.From should an
	// observer have missed a transition.
	m.state.WithLabelValues(string(m.current)).Set(0)
	m.state.WithLabelValues(string(t.From)).Set(0)
	m.state.WithLabelValues(string(t.To)).Set(1)
	m.current, m.entered = t.To, at
}

// ContainerStarted records the time the container started at.
func (m *Metrics) ContainerStarted(at time.Time) {
	if m == nil {
		return
	}
	m.startTime.Set(float64(at.UnixNano()) / 1e9)
}

// Exited records the container's exit code, and counts an OOM kill if oom.
func (m *Metrics) Exited(code int, oom bool) {
	if m == nil {
		return
	}
	m.exitCode.Set(float64(code))
	if oom {
		m.oomKills.Inc()
	}
}

// Restart counts a restart of the container by Docker.
func (m *Metrics) Restart() {
	if m == nil {
		return
	}
	m.restarts.Inc()
}

// Health records Docker's health status of the container: "starting",
// "healthy", "unhealthy" or "none" ("" counts as "none"). The gauge of
// status becomes 1, the others 0; an unknown status sets them all to 0.
func (m *Metrics) Health(status string) {
	if m == nil {
		return
	}
	if status == "" {
		status = "none"
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range healthStatuses {
		v := 0.0
		if s == status {
			v = 1
		}
		m.health.WithLabelValues(s).Set(v)
	}
}

// WatchdogPing counts a systemd watchdog ping: sent, or skipped (not sent).
func (m *Metrics) WatchdogPing(sent bool) {
	if m == nil {
		return
	}
	if sent {
		m.pingsSent.Inc()
	} else {
		m.pingsSkipped.Inc()
	}
}

// PullSeconds records how long the image pull took.
func (m *Metrics) PullSeconds(d time.Duration) {
	if m == nil {
		return
	}
	m.pullSeconds.Set(d.Seconds())
}

// LogBytes counts n bytes of container output on stream ("stdout" or
// "stderr"). It is meant for the log copy loop: for those two streams it
// does not allocate. Other stream names work but are slower. n <= 0 is
// ignored.
func (m *Metrics) LogBytes(stream string, n int) {
	if m == nil || n <= 0 {
		return
	}
	switch stream {
	case "stdout":
		m.stdoutBytes.Add(float64(n))
	case "stderr":
		m.stderrBytes.Add(float64(n))
	default:
		m.logBytes.WithLabelValues(stream).Add(float64(n))
	}
}

// PidsMigrated counts n processes moved into the unit's cgroups. n <= 0 is
// ignored.
func (m *Metrics) PidsMigrated(n int) {
	if m == nil || n <= 0 {
		return
	}
	m.pidsMigrated.Add(float64(n))
}

// Gatherer returns the gatherer of m's registry (only m's series: no Go or
// process collectors). A gather never sees a half-done Transition or Health.
func (m *Metrics) Gatherer() prometheus.Gatherer {
	return prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
		m.mu.Lock()
		defer m.mu.Unlock()
		return m.reg.Gather()
	})
}

// WriteFile writes the metrics in the text format to dir/FileName(unit),
// mode 0644 whatever the umask, without timestamps. The file is replaced
// atomically (a temporary file in dir, written and synced, then renamed),
// so the textfile collector never reads a partial file; a symlink at that
// path is replaced, not followed. dir may be writable by other users: see
// textfile.go.
func (m *Metrics) WriteFile(dir string) error {
	if m == nil {
		return nil
	}
	path := filepath.Join(dir, m.file)
	mfs, err := m.Gatherer().Gather()
	if err == nil {
		err = writeTextfile(dir, m.file, func(w io.Writer) error {
			for _, mf := range mfs {
				if _, err := expfmt.MetricFamilyToText(w, mf); err != nil {
					return err
				}
			}
			return nil
		})
	} else {
		err = &stepError{"gather", err}
	}
	if err != nil {
		return fmt.Errorf("metrics: writing %s: %w", path, err)
	}
	return nil
}

// NewFailure reports whether err, from WriteFile, is the first failure of
// its kind: the same step of the write (open the directory, create, write,
// sync, rename, ...) failing with the same errno. The caller warns about
// the first and stays quiet about repeats, so that a full disk or a
// removed directory is not logged at every state change and watchdog tick.
// False on a nil *Metrics or a nil err.
func (m *Metrics) NewFailure(err error) bool {
	if m == nil || err == nil {
		return false
	}
	kind := failureKind(err)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failures[kind] {
		return false
	}
	if m.failures == nil {
		m.failures = make(map[string]bool)
	}
	m.failures[kind] = true
	return true
}

// FileName returns the file name of unit's metrics: unit with every
// character outside [A-Za-z0-9_.@-] replaced by '_', and ".prom"
// appended. An empty unit gives "_.prom".
func FileName(unit string) string {
	if unit == "" {
		unit = "_"
	}
	var b strings.Builder
	b.Grow(len(unit) + len(".prom"))
	for _, r := range unit {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9',
			r == '_', r == '.', r == '@', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	b.WriteString(".prom")
	return b.String()
}
