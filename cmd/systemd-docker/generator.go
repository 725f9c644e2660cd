package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/systemd-docker/systemd-docker/supervisor"
	"github.com/systemd-docker/systemd-docker/supervisor/unit"
	"github.com/systemd-docker/systemd-docker/unitgen"
)

// generatorName is the name systemd runs the generator by (a symlink to
// this binary in a system-generators directory).
const generatorName = "systemd-docker-generator"

const generatorSynopsis = "systemd-docker generator NORMAL_DIR [EARLY_DIR LATE_DIR] | systemd-docker generator --dry-run [FILE…]"

// generatorOptions is what `systemd-docker generator` was asked for.
type generatorOptions struct {
	DryRun bool
	Files  []string // --dry-run: the files to show (default: the search path)
	OutDir string   // systemd's normal generator directory
}

// parseGeneratorArgs reads the arguments after "generator".
func parseGeneratorArgs(args []string) (generatorOptions, error) {
	var o generatorOptions
	if len(args) > 0 && (args[0] == "--dry-run" || args[0] == "-dryrun") {
		o.DryRun = true
		o.Files = args[1:]
		return o, nil
	}
	if len(args) != 1 && len(args) != 3 {
		return o, fmt.Errorf("generator: systemd gives three output directories, got %d arguments: usage: %s", len(args), generatorSynopsis)
	}
	if !path.IsAbs(args[0]) {
		return o, fmt.Errorf("generator: output directory %q is not an absolute path: usage: %s", args[0], generatorSynopsis)
	}
	o.OutDir = args[0]
	return o, nil
}

// runGenerator reads the declarative files and writes their units, or with
// --dry-run prints them. Every problem is one line on stderr (and, run by
// systemd, in the kernel log, where generators' messages go); any problem
// makes the exit status 1.
func runGenerator(o generatorOptions, environ []string, stdout, stderr io.Writer) int {
	// A short run that PID 1 waits for: no collections below 64 MiB of
	// heap (100 files allocate about 3 MiB).
	debug.SetGCPercent(-1)
	debug.SetMemoryLimit(64 << 20)
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintf(stderr, "%s: cannot find its own binary for ExecStart=: %v\n", generatorName, err)
		return 1
	}
	dirs := absolute(unitgen.SearchPath(unit.Getenv(environ, unitgen.SearchPathEnv)))
	var srcs, known []*unitgen.Source
	var probs []unitgen.Problem
	if len(o.Files) > 0 {
		files := absolute(o.Files)
		srcs, probs = unitgen.LoadFiles(files, dirs)
		known, _ = unitgen.Load(append(dirsOf(files), dirs...)) // what the files may refer to
	} else {
		srcs, probs = unitgen.Load(dirs)
	}
	units, more := unitgen.Generate(srcs, unitgen.Options{Binary: exe, Known: known})
	probs = append(probs, more...)
	if o.DryRun {
		if err := unitgen.Print(stdout, units); err != nil {
			probs = append(probs, unitgen.Problem{Msg: "write: " + err.Error()})
		}
	} else {
		probs = append(probs, unitgen.Write(o.OutDir, units)...)
	}
	report(probs, stderr, !o.DryRun)
	if len(probs) > 0 {
		return 1
	}
	return 0
}

// journalBudget bounds all of report's writes to journald.
const journalBudget = 2 * time.Second

// report writes each problem to stderr and, for systemd, to its log: the
// kernel log (/dev/kmsg, which journald reads), or where there is none (a
// container: systemd-nspawn gives none) journald's native socket, which
// exists once journald runs (at a daemon-reload, not early in boot).
// systemd runs generators with PID 1's stdout and stderr, /dev/null once
// booted, so the line on stderr only reaches someone running the generator
// by hand. The socket writes share one deadline, journalBudget: a
// generator must not hold up PID 1 waiting for a service, but a busy
// journald takes its time (with 100 ms, a line was lost at load 20).
func report(probs []unitgen.Problem, stderr io.Writer, syslog bool) {
	var kmsg io.WriteCloser
	var journal *net.UnixConn
	if syslog && len(probs) > 0 {
		if st, err := os.Stat("/dev/kmsg"); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			if f, err := os.OpenFile("/dev/kmsg", os.O_WRONLY, 0); err == nil {
				kmsg = f
				defer kmsg.Close()
			}
		}
		if kmsg == nil {
			if c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: "/run/systemd/journal/socket", Net: "unixgram"}); err == nil {
				journal = c
				defer journal.Close()
				_ = journal.SetWriteDeadline(time.Now().Add(journalBudget))
			}
		}
	}
	for _, p := range probs {
		line := strings.ReplaceAll(p.Error(), "\n", " ")
		fmt.Fprintf(stderr, "%s: %s\n", generatorName, line)
		switch {
		case kmsg != nil:
			fmt.Fprintf(kmsg, "<3>%s[%d]: %s\n", generatorName, os.Getpid(), line) // one record per write
		case journal != nil:
			// sd_journal_send(3)'s native protocol, one datagram per
			// entry; the line has no newline left.
			_, _ = fmt.Fprintf(journal, "PRIORITY=3\nSYSLOG_IDENTIFIER=%s\nSYSLOG_PID=%d\nMESSAGE=%s\n", generatorName, os.Getpid(), line)
		}
	}
}

// cleanupSynopsis: the ExecStopPost= of generated units.
const cleanupSynopsis = "systemd-docker cleanup --unit=UNIT NAME"

// parseCleanupArgs reads `cleanup --unit=UNIT NAME`.
func parseCleanupArgs(args []string) (unit, name string, err error) {
	if len(args) == 2 {
		if u, ok := strings.CutPrefix(args[0], "--unit="); ok && u != "" && args[1] != "" {
			return u, args[1], nil
		}
	}
	return "", "", errors.New("cleanup: usage: " + cleanupSynopsis)
}

// runCleanup removes the unit's container if it is still there.
func runCleanup(unitName, name string, stdout, stderr io.Writer) int {
	ctx := context.Background()
	d, closeFn, err := supervisor.ConnectForCleanup(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "systemd-docker: cleanup: %v\n", err)
		return supervisor.ExitFailure
	}
	defer closeFn()
	removed, err := supervisor.Cleanup(ctx, d, name, unitName)
	if err != nil {
		fmt.Fprintf(stderr, "systemd-docker: cleanup: %v\n", err)
		return supervisor.ExitFailure
	}
	if removed {
		fmt.Fprintf(stdout, "removed container %s, left behind by %s\n", name, unitName)
	}
	return 0
}

// dirsOf lists the directories of files, each once.
func dirsOf(files []string) []string {
	var dirs []string
	for _, f := range files {
		if d := filepath.Dir(f); !slices.Contains(dirs, d) {
			dirs = append(dirs, d)
		}
	}
	return dirs
}

// absolute makes paths absolute: SourcePath= must be.
func absolute(paths []string) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = p
		if a, err := filepath.Abs(p); err == nil {
			out[i] = a
		}
	}
	return out
}
