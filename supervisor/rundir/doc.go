// Package rundir is systemd-docker's run directory and the name locks in
// it: /run/systemd-docker as root, else $RUNTIME_DIRECTORY or
// $XDG_RUNTIME_DIR/systemd-docker, refused when it is not ours. A name
// lock keeps two supervisors off one container name; --notify sockets
// live here too (package sdnotify makes them).
package rundir
