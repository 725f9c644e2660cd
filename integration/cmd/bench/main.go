//go:build integration

// Command bench compares systemd-docker (A: /share/systemd-docker in
// Type=notify units) with the plain docker CLI (B: `docker run` in a unit,
// what most unit files do today) on the same work, inside a throwaway
// systemd box (systemd-nspawn) with dockerd inside, one box per daemon:
// by default the hybrid box (Docker 20.10) and the pure v2 box with Docker
// 26.1.5 (unified-docker26). Every workload runs as a transient unit
// (systemd-run); rounds alternate A B A B. It prints a markdown table per
// box (medians, A/B ratio, target, PASS/MISS, the load when the figure
// began) and writes them to bench/results.md.
//
//	make bench BENCHFLAGS='-quick'            # or:
//	go run -tags integration ./integration/cmd/bench [-rounds N] [-quick] [-only run,ready,...] [-flavours hybrid,unified-docker26]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/systemd-docker/systemd-docker/integration/internal/box"
	"github.com/systemd-docker/systemd-docker/integration/internal/buildbin"
	"github.com/systemd-docker/systemd-docker/integration/internal/testimage"
)

// figureNames are the -only names, in run order.
var figureNames = []string{"run", "ready", "exit", "logs", "memory", "idlecpu", "scale", "generator"}

type config struct {
	flavours    []box.Flavour
	rounds      int
	quick       bool
	only        map[string]bool
	idle        time.Duration
	scaleN      int
	scaleRounds int
}

func main() {
	rounds := flag.Int("rounds", 7, "rounds per figure (A B alternating)")
	quick := flag.Bool("quick", false, "development mode: 3 rounds, idle CPU over 5 s, scale 10 units")
	only := flag.String("only", "", "comma-separated figures to run: "+strings.Join(figureNames, ","))
	flavours := flag.String("flavours", "hybrid,unified-docker26", "comma-separated box flavours (daemons) to run the figures in, one after the other")
	flag.Parse()

	cfg := config{rounds: *rounds, quick: *quick, idle: 30 * time.Second, scaleN: 50, only: map[string]bool{}}
	roundsSet := false
	flag.Visit(func(f *flag.Flag) { roundsSet = roundsSet || f.Name == "rounds" })
	if cfg.quick {
		if !roundsSet {
			cfg.rounds = 3
		}
		cfg.idle = 5 * time.Second
		cfg.scaleN = 10
	}
	if cfg.rounds < 1 {
		fmt.Fprintln(os.Stderr, "bench: -rounds must be ≥ 1")
		os.Exit(2)
	}
	// 50 units per side per round is the expensive part: at most 5 rounds
	// (single rounds of either side vary by ±15 % on this machine).
	cfg.scaleRounds = min(cfg.rounds, 5)
	for _, f := range strings.Split(*flavours, ",") {
		if f = strings.TrimSpace(f); f != "" {
			cfg.flavours = append(cfg.flavours, box.Flavour(f))
		}
	}
	for _, n := range strings.Split(*only, ",") {
		if n = strings.TrimSpace(n); n == "" {
			continue
		}
		known := false
		for _, k := range figureNames {
			known = known || k == n
		}
		if !known {
			fmt.Fprintf(os.Stderr, "bench: unknown figure %q (known: %s)\n", n, strings.Join(figureNames, ","))
			os.Exit(2)
		}
		cfg.only[n] = true
	}
	os.Exit(run(cfg))
}

func (c config) want(name string) bool { return len(c.only) == 0 || c.only[name] }

// exitRounds is the rounds of exit detection: at least 15, its median
// being a target (single rounds vary from 3 to 27 ms).
func (c config) exitRounds() int { return max(c.rounds, 15) }

// The box, for the signal handler.
var (
	boxMu  sync.Mutex
	curBox *box.Box
)

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench %s: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

func run(cfg config) int {
	// The box must go down even on ^C / kill.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		s := <-sigs
		logf("%v: shutting the box down", s)
		boxMu.Lock()
		if curBox != nil {
			_ = curBox.Shutdown()
		}
		os.Exit(130)
	}()

	root, err := buildbin.ModuleRoot()
	if err != nil {
		logf("error: %v", err)
		return 1
	}
	tmp, err := os.MkdirTemp("", "systemd-docker-bench-")
	if err != nil {
		logf("error: %v", err)
		return 1
	}
	defer os.RemoveAll(tmp)

	logf("building systemd-docker and the busybox image")
	bin, err := buildbin.SystemdDocker(tmp)
	if err != nil {
		logf("error: %v", err)
		return 1
	}
	art, err := testimage.Build(filepath.Join(tmp, "image"))
	if err != nil {
		logf("error: %v", err)
		return 1
	}
	var parts []flavourReport
	for _, f := range cfg.flavours {
		fr, err := runFlavour(cfg, f, bin, art.Tarball)
		if err != nil {
			logf("error: %s: %v", f, err)
			return 1
		}
		parts = append(parts, fr)
	}
	report := render(cfg, parts)
	fmt.Print("\n" + report)
	dir := filepath.Join(root, "bench")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		logf("error: %v", err)
		return 1
	}
	out := filepath.Join(dir, "results.md")
	if err := os.WriteFile(out, []byte(report), 0o644); err != nil {
		logf("error: %v", err)
		return 1
	}
	logf("wrote %s", out)
	for _, fr := range parts {
		for _, r := range fr.rows {
			if r.result == "MISS" || r.result == "FAIL" {
				return 3
			}
		}
	}
	return 0
}

// flavourReport is what one box (one daemon) gave.
type flavourReport struct {
	flavour  box.Flavour
	machine  string
	rows     []*row
	took     time.Duration
	timeline string // the exit detection's debug run
}

// runFlavour boots a box of flavour f and runs the figures in it.
func runFlavour(cfg config, f box.Flavour, bin, tarball string) (flavourReport, error) {
	fr := flavourReport{flavour: f}
	logf("booting a %s systemd box with dockerd inside", f)
	t0 := time.Now()
	b, err := box.Boot(context.Background(), f, box.Options{
		Files:        map[string]string{"systemd-docker": bin},
		ImageTarball: tarball,
		ImportArgs:   testimage.ImportArgs,
		Timeout:      4 * time.Minute,
		Logf:         logf,
	})
	if err != nil {
		return fr, err
	}
	boxMu.Lock()
	curBox = b
	boxMu.Unlock()
	defer func() {
		boxMu.Lock()
		defer boxMu.Unlock()
		logf("shutting the box down")
		if err := b.Shutdown(); err != nil {
			logf("shutdown: %v", err)
		}
		curBox = nil
	}()
	logf("box %s up in %s", b.Machine, time.Since(t0).Round(time.Millisecond))
	bn := &bench{b: b, cfg: cfg}
	if err := bn.setup(); err != nil {
		return fr, err
	}
	fr.machine = bn.machineLine()
	start := time.Now()
	fr.rows = bn.figures()
	if err := bn.cleanup(); err != nil {
		logf("final cleanup: %v", err)
	}
	fr.took, fr.timeline = time.Since(start), bn.exitTimeline
	return fr, nil
}

// figures runs every wanted figure, each from a clean box, and records
// the load average before each.
func (bn *bench) figures() []*row {
	var rows []*row
	for _, f := range []struct {
		name string
		fn   func() []*row
	}{
		{"run", bn.figRun},
		{"ready", bn.figReady},
		{"exit", bn.figExit},
		{"logs", bn.figLogs},
		{"memory", bn.figMemory},
		{"idlecpu", bn.figIdleCPU},
		{"scale", bn.figScale},
		{"generator", bn.figGenerator},
	} {
		if !bn.cfg.want(f.name) {
			continue
		}
		if err := bn.cleanup(); err != nil {
			logf("cleanup before %s: %v", f.name, err)
		}
		fs := time.Now()
		load := loadavg()
		logf("figure %s (load %s)", f.name, load)
		rs := f.fn()
		for _, r := range rs {
			r.load = load
			r.finish()
			logf("  %s", r.short())
		}
		rows = append(rows, rs...)
		logf("figure %s done in %s", f.name, time.Since(fs).Round(time.Millisecond))
	}
	return rows
}

// row is one figure of the table.
type row struct {
	figure  string
	unit    string    // ms, MiB, ticks, s
	a, b    []float64 // per-round samples (b empty: A only)
	target  string
	check   func(a, b, ratio float64) bool // nil: context only
	context bool                           // B is printed for context only
	notes   []string
	errs    []string
	load    string // load average (1 5 15 min) when the figure began

	aMed, bMed, ratio float64
	result            string
}

func (r *row) errf(format string, args ...any) {
	msg := strings.Join(strings.Fields(fmt.Sprintf(format, args...)), " ")
	logf("  %s: %s", r.figure, msg)
	r.errs = append(r.errs, msg)
}

func (r *row) finish() {
	r.aMed, r.bMed, r.ratio = median(r.a), median(r.b), 0
	if len(r.b) > 0 && r.bMed != 0 {
		r.ratio = r.aMed / r.bMed
	}
	switch {
	case len(r.errs) > 0 && r.check != nil:
		r.result = "FAIL"
	case r.check == nil:
		r.result = "—"
	case len(r.a) == 0:
		r.result = "FAIL"
	case r.check(r.aMed, r.bMed, r.ratio):
		r.result = "PASS"
	default:
		r.result = "MISS"
	}
}

func (r *row) short() string {
	return fmt.Sprintf("%s: A %s B %s A/B %s → %s", r.figure, r.fmtVal(r.aMed, len(r.a)), r.fmtVal(r.bMed, len(r.b)), r.fmtRatio(), r.result)
}

func (r *row) fmtVal(v float64, n int) string {
	if n == 0 {
		return "—"
	}
	switch r.unit {
	case "ms":
		return fmt.Sprintf("%.1f ms", v)
	case "s":
		return fmt.Sprintf("%.2f s", v)
	case "MiB":
		return fmt.Sprintf("%.1f MiB", v)
	case "ticks":
		return fmt.Sprintf("%.0f ticks", v)
	}
	return fmt.Sprintf("%g %s", v, r.unit)
}

func (r *row) fmtRatio() string {
	if len(r.b) == 0 || r.bMed == 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f", r.ratio)
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func render(cfg config, parts []flavourReport) string {
	var sb strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&sb, format, args...) }
	p("# systemd-docker benchmark\n\n")
	p("A = `/share/systemd-docker run …` in `Type=notify` units; B = the plain docker CLI (`docker run …`) in a unit. ")
	p("Everything runs as transient units (`systemd-run`), the scale figure's as instances of a template unit, in a systemd box (systemd-nspawn) with its own dockerd, one box per daemon; ")
	p("rounds alternate A B A B …; values are medians over the rounds.\n\n")
	cmd := "go run -tags integration ./integration/cmd/bench"
	if len(os.Args) > 1 {
		cmd += " " + strings.Join(os.Args[1:], " ")
	}
	if os.Getenv("MAKELEVEL") != "" {
		p("- command: `make bench BENCHFLAGS='%s'` (runs `%s`)\n", strings.Join(os.Args[1:], " "), cmd)
	} else {
		p("- command: `%s`\n", cmd)
	}
	p("- rounds: %d (exit detection: %d; scale: %d rounds of %d units per side); idle CPU window %s\n",
		cfg.rounds, cfg.exitRounds(), cfg.scaleRounds, cfg.scaleN, cfg.idle)
	for _, fr := range parts {
		renderFlavour(p, fr)
	}
	return sb.String()
}

func renderFlavour(p func(string, ...any), fr flavourReport) {
	p("\n## %s box\n\n", fr.flavour)
	p("- machine: %s; figures took %s\n\n", fr.machine, fr.took.Round(time.Second))
	p("| figure | A (systemd-docker) | B (docker CLI) | A/B | target | result | load |\n")
	p("|---|---|---|---|---|---|---|\n")
	for _, r := range fr.rows {
		bv := r.fmtVal(r.bMed, len(r.b))
		if r.context && len(r.b) > 0 {
			bv += " (context)"
		}
		p("| %s | %s | %s | %s | %s | %s | %s |\n", r.figure, r.fmtVal(r.aMed, len(r.a)), bv, r.fmtRatio(), r.target, r.result, r.load)
	}
	p("\n### Method and notes (%s)\n\n", fr.flavour)
	for _, r := range fr.rows {
		p("- **%s**: ", r.figure)
		p("%s", strings.Join(r.notes, " "))
		p(" Samples A: %s", fmtSamples(r.a))
		if len(r.b) > 0 {
			p("; B: %s", fmtSamples(r.b))
		}
		p(".")
		if len(r.errs) > 0 {
			p(" **Errors:** %s.", strings.Join(r.errs, "; "))
		}
		p("\n")
	}
	if fr.timeline != "" {
		p("\nExit detection, one extra untimed run with `--log-level=debug` and strace attached to our process (both slow it down): the unit's journal (journald receive time) and our system calls (requests to dockerd, the answers, notifications to systemd, exit) relative to Docker's die event:\n\n```\n%s```\n", fr.timeline)
	}
}

func fmtSamples(xs []float64) string {
	if len(xs) == 0 {
		return "none"
	}
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = fmt.Sprintf("%.4g", x)
	}
	return "[" + strings.Join(parts, " ") + "]"
}
