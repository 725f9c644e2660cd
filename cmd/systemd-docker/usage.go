package main

// usage is the text of systemd-docker --help.
const usage = `Usage: systemd-docker [FLAGS] run [docker run args…] IMAGE [CMD…]
       systemd-docker [FLAGS] generate [GENERATE FLAGS] -- [docker run args…] IMAGE [CMD…]
       systemd-docker generator NORMAL_DIR [EARLY_DIR LATE_DIR]
       systemd-docker generator --dry-run [FILE…]
       systemd-docker cleanup --unit=UNIT NAME
       systemd-docker install DIR
       systemd-docker version
       systemd-docker help

Runs a Docker container as a systemd service: creates it with "docker create",
starts it, moves its processes into the unit's cgroup, tells systemd its pid
(MAINPID) and READY=1, copies its output to the journal, forwards stop
signals to it and exits with its exit code.

Flags (before "run"; each may be written -x, --x, -name, --name, with the
value as --name=VALUE or --name VALUE):
  -p, --pid-file PATH    write the container's host pid to PATH (atomically,
                         mode 0644); at exit it is removed only if PATH is
                         still that file, holding that pid; an empty PATH or
                         a directory fails at start (125) (default: none)
  -l, --logs[=BOOL]      copy the container's stdout/stderr to ours, i.e. to
                         the journal (default: true)
  -n, --notify[=BOOL]    the container sends READY=1 itself, to the socket in
                         its $NOTIFY_SOCKET (a private proxy that relays READY,
                         STATUS, RELOADING, STOPPING, ERRNO, BUSERROR,
                         WATCHDOG, WATCHDOG_USEC and EXTEND_TIMEOUT_USEC);
                         MAINPID is ours to send (default: false)
  -e, --env[=BOOL]       pass our environment into the container, except HOME,
                         PATH and systemd's own variables (default: false)
  -c, --cgroups NAME     cgroup hierarchy to move the container into; repeat
                         for several; "name=systemd" is the minimum
                         (default: all hierarchies)
      --ready MODE       when systemd hears READY=1: running (once the
                         container runs), healthy (at its first healthy
                         health check; needs a HEALTHCHECK or --health-cmd),
                         container (it sends READY=1 itself, as --notify)
                         (default: running)
      --metrics-dir DIR  write Prometheus metrics to DIR/<unit>.prom for
                         node_exporter's textfile collector (default: none)
      --pull-progress-timeout DURATION
                         while docker create (an image pull) prints progress,
                         the unit's start timeout is extended; after this
                         long without a new line it is not (default: 60s)
      --docker-cli PATH  docker client used to create the container
                         (default: "docker", looked up in PATH)
      --log-level LEVEL  debug, info, warn or error (default: info)
  -h, --help             print this text
A boolean flag also takes a following true/false word: --logs false.

docker run args:
  Everything after "run" is given to "docker create", so every docker run
  flag works as with docker run. --rm and -d/--detach are handled by
  systemd-docker: the container always runs detached, and with --rm it is
  removed once it has stopped. The container's command after IMAGE is never
  changed. -i and -it are accepted, also with systemd's default
  StandardInput=null: the container is created with -i/-t as given, no
  standard input is attached (systemd-docker never forwards its own, like
  the original), and one INFO line says so. --sig-proxy and --detach-keys
  are left out, with a note: docker create does not know them.

Commands:
  run       run the container as the unit's main process (see above)
  generate  print a complete, commented unit file for the docker run
            arguments to stdout; FLAGS before "generate" are copied into
            its ExecStart= before "run". Generate flags (before "--"):
      --restart POLICY      systemd's Restart= (default: on-failure)
      --watchdog DURATION   WatchdogSec=, e.g. 30s (default: none); give
                            the container a health check too
      --metrics-dir DIR     add --metrics-dir=DIR to ExecStart=
      --description TEXT    Description= (default: "IMAGE in Docker
                            (systemd-docker)")
      --binary PATH         systemd-docker's path in ExecStart=
                            (default: /opt/bin/systemd-docker)
      --format FORMAT       service (default): a unit file; container: a
                            NAME.container file for the generator
            docker run --restart other than "no" is refused (exit 125);
            -d is dropped.
  generator the systemd generator (also run as systemd-docker-generator,
            a symlink in a system-generators directory): turns the
            NAME.container, NAME.network and NAME.volume files of
            /run/systemd-docker/units, /etc/systemd-docker/units and
            /usr/share/systemd-docker/units (earlier first; or the
            directories in $SYSTEMD_DOCKER_UNIT_PATH, ":"-separated) into
            units in NORMAL_DIR; --dry-run prints them instead, each after
            ---NAME.service---. A file with a problem gets no unit; each
            problem is one line (file:line: key: why); exit 1 if any. See
            systemd-docker.container(5).
  cleanup   remove container NAME if it exists and was made for UNIT (its
            io.systemd-docker.unit label): the ExecStopPost= of generated
            units, for a supervisor killed before it could remove it
  install   copy this binary into DIR/systemd-docker (atomically, mode
            0755); the image's entry point: docker run --rm -v
            /opt/bin:/opt/bin IMAGE installs into the host's /opt/bin
  version   print the version, commit and Go version
  help      print this text

Detach mode:
  With --logs=false and without --rm, systemd-docker exits as soon as the
  container runs; systemd goes on following the container's pid (MAINPID).

Files:
  The run directory holds a lock file per container --name (a second
  supervisor of the same name fails) and the --notify sockets: as root
  /run/systemd-docker, else $RUNTIME_DIRECTORY (the unit's
  RuntimeDirectory=) or $XDG_RUNTIME_DIR/systemd-docker. It must be ours and
  not writable by group or others; with neither variable set, a non-root
  run with --name or --notify fails (125).

Exit status:
  125  systemd-docker itself or the Docker daemon failed
       (bad command line, docker create failed, daemon unreachable, ...)
  otherwise the container's own exit code

Example unit file (/etc/systemd/system/nginx.service):
  [Unit]
  Description=nginx in Docker
  After=docker.service
  Requires=docker.service
  [Service]
  Type=notify
  NotifyAccess=all
  ExecStart=/opt/bin/systemd-docker run --rm --name %n nginx
  Restart=on-failure
  TimeoutStartSec=120
  TimeoutStopSec=15
  [Install]
  WantedBy=multi-user.target
`
