package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

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
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintf(stderr, "%s: cannot find its own binary for ExecStart=: %v\n", generatorName, err)
		return 1
	}
	dirs := unitgen.SearchPath(unit.Getenv(environ, unitgen.SearchPathEnv))
	var srcs []*unitgen.Source
	var probs []unitgen.Problem
	if len(o.Files) > 0 {
		srcs, probs = unitgen.LoadFiles(o.Files, dirs)
	} else {
		srcs, probs = unitgen.Load(dirs)
	}
	units, more := unitgen.Generate(srcs, unitgen.Options{Binary: exe})
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

// report writes each problem to stderr and, for systemd, to /dev/kmsg.
func report(probs []unitgen.Problem, stderr io.Writer, kmsg bool) {
	var k io.WriteCloser
	if kmsg && len(probs) > 0 {
		if f, err := os.OpenFile("/dev/kmsg", os.O_WRONLY, 0); err == nil {
			k = f
			defer k.Close()
		}
	}
	for _, p := range probs {
		line := strings.ReplaceAll(p.Error(), "\n", " ")
		fmt.Fprintf(stderr, "%s: %s\n", generatorName, line)
		if k != nil {
			fmt.Fprintf(k, "<3>%s[%d]: %s\n", generatorName, os.Getpid(), line) // one record per write
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
