//go:build integration

// Command sdnotify is a tiny sd_notify client for the integration test image.
// It sends its arguments, joined by "\n", as one datagram to $NOTIFY_SOCKET
// (a path, or an abstract address starting with "@").
//
//	sdnotify READY=1 STATUS=hello
package main

import (
	"fmt"
	"net"
	"os"
	"strings"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: sdnotify VAR=VALUE...")
		os.Exit(2)
	}
	sock := os.Getenv("NOTIFY_SOCKET")
	if sock == "" {
		fmt.Fprintln(os.Stderr, "sdnotify: NOTIFY_SOCKET is not set")
		os.Exit(1)
	}
	// Go maps a leading "@" to the Linux abstract namespace.
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		fmt.Fprintf(os.Stderr, "sdnotify: %v\n", err)
		os.Exit(1)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(strings.Join(os.Args[1:], "\n"))); err != nil {
		fmt.Fprintf(os.Stderr, "sdnotify: %v\n", err)
		os.Exit(1)
	}
}
