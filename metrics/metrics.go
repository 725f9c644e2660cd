// Package metrics keeps the Prometheus metrics of one supervised unit and
// writes them for node_exporter's textfile collector (--metrics-dir).
//
// Every series is named systemd_docker_* and carries the constant label
// unit="<unit>". The text format is written here (family.go): no client
// library, and so no global registry.
package metrics

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"time"

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
	now  func() time.Time
	unit string // the unit label's value, valid UTF-8
	// file is FileName(unit), computed once.
	file string

	// mu guards everything below: every update, and the write, which so
	// never sees half of a Transition or Health.
	mu      sync.Mutex
	current states.State
	entered time.Time
	// failures holds the kinds of write failures NewFailure has seen.
	failures map[string]bool

	families      []*family
	state         *family
	transitions   *family
	stateDuration *family
	health        *family
	logBytes      *family
	startTime     *series
	exitCode      *series
	restarts      *series
	oomKills      *series
	pingsSent     *series
	pingsSkipped  *series
	pullSeconds   *series
	stdoutBytes   *series // pre-resolved, for LogBytes' hot path
	stderrBytes   *series
	pidsMigrated  *series
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
		unit:    strings.ToValidUTF8(unit, "\uFFFD"),
		file:    FileName(unit),
		current: states.Lookup,
		entered: now(),
	}
	m.newFamilies()
	// Create every known series up front, so that they exist (at 0) before
	// their first event and rate()/increase() see the first one.
	for _, s := range states.AllStates {
		m.state.with(string(s))
	}
	m.state.with(string(states.Lookup)).v = 1
	for _, t := range states.Transitions {
		for _, from := range t.From {
			m.transitions.with(string(from), string(t.To), string(t.Event))
		}
	}
	for _, s := range healthStatuses {
		m.health.with(s)
	}
	m.exitCode.v = -1
	m.stdoutBytes = m.logBytes.with("stdout")
	m.stderrBytes = m.logBytes.with("stderr")
	return m
}

// newFamilies makes m's families: every series, its name, type and help.
func (m *Metrics) newFamilies() {
	single := func(name, kind, help string) *series {
		f := newFamily(name, kind, help)
		m.families = append(m.families, f)
		return f.with()
	}
	vec := func(name, kind, help string, labels ...string) *family {
		f := newFamily(name, kind, help, labels...)
		m.families = append(m.families, f)
		return f
	}
	m.state = vec("state", "gauge", "Lifecycle state of the supervisor: 1 for the current state, 0 for the others.", "state")
	m.transitions = vec("transitions_total", "counter", "State machine transitions taken, by source state, destination state and event.", "from", "to", "event")
	m.stateDuration = vec("state_duration_seconds", "histogram", "Time spent in a state, observed when the state is left.", "state")
	m.stateDuration.buckets = stateDurationBuckets
	m.startTime = single("container_start_time_seconds", "gauge", "Unix time the container started at; 0 until known.")
	m.exitCode = single("exit_code", "gauge", "Exit code of the container; -1 until it has exited.")
	m.restarts = single("restarts_total", "counter", "Restarts of the container by Docker (an operator's docker restart) seen while supervising.")
	m.oomKills = single("oom_kills_total", "counter", "Container exits caused by the out-of-memory killer.")
	m.health = vec("health_status", "gauge", "Docker health status of the container: 1 for the current status, 0 for the others; all 0 until known.", "status")
	pings := vec("watchdog_pings_total", "counter", "systemd watchdog pings, by result: sent, or skipped (due but not sent).", "result")
	m.pingsSent, m.pingsSkipped = pings.with("sent"), pings.with("skipped")
	m.pullSeconds = single("image_pull_seconds", "gauge", "Duration of the last image pull, in seconds; 0 if none.")
	m.logBytes = vec("log_bytes_total", "counter", "Bytes of container output copied, by stream.", "stream")
	m.pidsMigrated = single("pids_migrated_total", "counter", "Container processes moved into the unit's cgroups.")
}

// set sets s to v, or adds v when add, under m.mu.
func (m *Metrics) set(s *series, v float64, add bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if add {
		v += s.v
	}
	s.v = v
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
	m.stateDuration.observe(m.stateDuration.with(string(t.From)), d.Seconds())
	m.transitions.with(string(t.From), string(t.To), string(t.Event)).v++
	// Clear the state we believe is current, and t.From should an
	// observer have missed a transition.
	m.state.with(string(m.current)).v = 0
	m.state.with(string(t.From)).v = 0
	m.state.with(string(t.To)).v = 1
	m.current, m.entered = t.To, at
}

// ContainerStarted records the time the container started at.
func (m *Metrics) ContainerStarted(at time.Time) {
	if m == nil {
		return
	}
	m.set(m.startTime, float64(at.UnixNano())/1e9, false)
}

// Exited records the container's exit code, and counts an OOM kill if oom.
func (m *Metrics) Exited(code int, oom bool) {
	if m == nil {
		return
	}
	m.set(m.exitCode, float64(code), false)
	if oom {
		m.set(m.oomKills, 1, true)
	}
}

// Restart counts a restart of the container by Docker.
func (m *Metrics) Restart() {
	if m == nil {
		return
	}
	m.set(m.restarts, 1, true)
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
		m.health.with(s).v = v
	}
}

// WatchdogPing counts a systemd watchdog ping: sent, or skipped (not sent).
func (m *Metrics) WatchdogPing(sent bool) {
	if m == nil {
		return
	}
	if sent {
		m.set(m.pingsSent, 1, true)
	} else {
		m.set(m.pingsSkipped, 1, true)
	}
}

// PullSeconds records how long the image pull took.
func (m *Metrics) PullSeconds(d time.Duration) {
	if m == nil {
		return
	}
	m.set(m.pullSeconds, d.Seconds(), false)
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
		m.set(m.stdoutBytes, float64(n), true)
	case "stderr":
		m.set(m.stderrBytes, float64(n), true)
	default:
		m.mu.Lock()
		m.logBytes.with(stream).v += float64(n)
		m.mu.Unlock()
	}
}

// PidsMigrated counts n processes moved into the unit's cgroups. n <= 0 is
// ignored.
func (m *Metrics) PidsMigrated(n int) {
	if m == nil || n <= 0 {
		return
	}
	m.set(m.pidsMigrated, float64(n), true)
}

// Encode writes the metrics in the text format, families sorted by
// name, series by label values, without timestamps.
func (m *Metrics) Encode(w io.Writer) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return writeFamilies(w, m.unit, m.families)
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
	if err := writeTextfile(dir, m.file, m.Encode); err != nil {
		return fmt.Errorf("metrics: writing %s: %w", path, err)
	}
	return nil
}

// NewFailure reports whether err, from WriteFile, is the first failure of
// its kind: the same errno (ENOSPC, ENOENT, EACCES, ...), whichever step of
// the write failed, or the same step for a failure without one. The caller
// warns about the first and stays quiet about repeats, so that a full disk
// or a removed directory is not logged at every state change and watchdog
// tick, nor twice when the directory goes in the middle of a write.
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
