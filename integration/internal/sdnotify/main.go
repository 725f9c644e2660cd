//go:build integration

// Command sdnotify is a tiny sd_notify client for the integration test image.
// It sends its arguments, joined by "\n", as one datagram to $NOTIFY_SOCKET
// (a path, or an abstract address starting with "@"), then waits until the
// receiver has handled it, as systemd-notify 254+ does: BARRIER=1 with a
// pipe, whose close says so (sd_notify_barrier(3)). A sender must live until
// its message is read: systemd and the --notify proxy look it up by its pid.
//
//	sdnotify READY=1 STATUS=hello
//	sdnotify --no-barrier READY=1   # send and exit at once (tests of an exited sender)
package main

import (
	"fmt"
	"os"

	"github.com/systemd-docker/systemd-docker/supervisor/sdnotify"
)

func main() {
	args := os.Args[1:]
	barrier := true
	if len(args) > 0 && args[0] == "--no-barrier" {
		barrier, args = false, args[1:]
	}
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: sdnotify [--no-barrier] VAR=VALUE...")
		os.Exit(2)
	}
	n := sdnotify.FromEnv(os.Environ())
	if !n.Enabled() {
		fmt.Fprintln(os.Stderr, "sdnotify: NOTIFY_SOCKET is not set")
		os.Exit(1)
	}
	if err := n.Send(args...); err != nil {
		fmt.Fprintf(os.Stderr, "sdnotify: %v\n", err)
		os.Exit(1)
	}
	if barrier {
		if err := n.Barrier(); err != nil {
			fmt.Fprintf(os.Stderr, "sdnotify: %v\n", err)
			os.Exit(1)
		}
	}
}
