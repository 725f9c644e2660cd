package states

import (
	"syscall"
	"time"
)

// Labels the supervisor puts on the containers it creates.
const (
	// LabelArgs holds a hash of the arguments the container was created
	// from: a running container is adopted only when they match.
	LabelArgs = "io.systemd-docker.args"
	// LabelInvocation names the invocation that created the container, so a
	// create interrupted before it reported an ID can still be cleaned up.
	LabelInvocation = "io.systemd-docker.invocation"
	// LabelUnit names the systemd unit (when known) that owns the container.
	LabelUnit = "io.systemd-docker.unit"
)

// Spec is what one invocation asked for. It does not change while the
// machine runs.
type Spec struct {
	Name        string // --name; "" for an unnamed container
	Remove      bool   // --rm
	TTY         bool
	Logs        bool // copy the container's output
	Notify      bool // the container sends READY=1 itself
	WaitHealthy bool // READY=1 only once the container is healthy (--ready=healthy)
	Detach      bool // exit once the container runs; systemd follows it alone
	StopSignal  string
	StopTimeout *int
	ArgsHash    string
	Invocation  string
	Create      CreateSpec
	WritePid    bool
}

// Facts are what the machine has learnt so far. Actions write them; the
// supervisor reads them once the machine is done.
type Facts struct {
	ContainerID string
	Pid         int
	Adopted     bool
	Started     bool // a container of ours ran (exit code is meaningful)
	Announced   bool // systemd was told MAINPID=<container>: it is the main process now
	Exited      bool // the container ended on its own
	Restarts    int  // times Docker restarted the container under us
	StopReason  string
	// StopSignal is the signal that asked us to stop (SIGTERM, SIGINT);
	// 0 when none did.
	StopSignal syscall.Signal
	ExitCode   int
	// DiedCode is the code Docker's die event reported for the current
	// run; nil until then. Waiting for the container is then not needed.
	DiedCode  *int
	OOMKilled bool
	Err       error // the failure that sent the machine to stop or failed
	FailedIn  State
	StartedAt time.Time
}
