// Package output is everything systemd-docker writes to its stdout and
// stderr, which under systemd are the journal: the container's output,
// copied from Docker (attached before the start, replayed from Docker's
// log after a broken stream, each line once), and our own log lines (one
// line each, capped, with the sd-daemon(3) priority prefix when stderr is
// the journal). The two share one line state, so a line of the
// container's that stopped midway never swallows one of ours.
package output
