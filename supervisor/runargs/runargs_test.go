package runargs

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func intp(n int) *int { return &n }

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want Args
	}{
		{"image only", []string{"nginx"}, Args{Image: "nginx"}},
		{"rm and command untouched",
			[]string{"--rm", "--name", "x", "testbox", "echo", "--rm", "-d"},
			Args{Options: []string{"--name", "x"}, Image: "testbox", Command: []string{"echo", "--rm", "-d"}, Name: "x", Remove: true}},
		{"rm=false last wins", []string{"--rm", "--rm=false", "img"}, Args{Image: "img"}},
		{"rm=true", []string{"--rm=true", "img"}, Args{Image: "img", Remove: true}},
		{"rm=0", []string{"--rm=1", "--rm=0", "img"}, Args{Image: "img"}},
		{"detach long", []string{"--detach", "img"}, Args{Image: "img", Detach: true}},
		{"detach=true", []string{"--detach=true", "img"}, Args{Image: "img", Detach: true}},
		{"detach=false", []string{"--detach=false", "img"}, Args{Image: "img"}},
		{"-d", []string{"-d", "img"}, Args{Image: "img", Detach: true}},
		{"-d=false", []string{"-d=false", "img"}, Args{Image: "img"}},
		{"-dit", []string{"-dit", "img", "sh"},
			Args{Options: []string{"-it"}, Image: "img", Command: []string{"sh"}, Detach: true, TTY: true, Interactive: true}},
		{"-itd", []string{"-itd", "img"}, Args{Options: []string{"-it"}, Image: "img", Detach: true, TTY: true, Interactive: true}},
		{"-tid", []string{"-tdi", "img"}, Args{Options: []string{"-ti"}, Image: "img", Detach: true, TTY: true, Interactive: true}},
		{"-it", []string{"-it", "img"}, Args{Options: []string{"-it"}, Image: "img", TTY: true, Interactive: true}},
		{"-i -t", []string{"-i", "-t", "img"}, Args{Options: []string{"-i", "-t"}, Image: "img", TTY: true, Interactive: true}},
		{"--tty --interactive", []string{"--tty", "--interactive=true", "img"},
			Args{Options: []string{"--tty", "--interactive=true"}, Image: "img", TTY: true, Interactive: true}},
		{"-t=false", []string{"-t=false", "img"}, Args{Options: []string{"-t=false"}, Image: "img"}},
		{"-it=false", []string{"-it=false", "img"}, Args{Options: []string{"-it=false"}, Image: "img", Interactive: true}},
		{"-id=false", []string{"-id=false", "img"}, Args{Options: []string{"-i"}, Image: "img", Interactive: true}},
		{"-itp 80:80", []string{"-itp", "80:80", "img"},
			Args{Options: []string{"-itp", "80:80"}, Image: "img", TTY: true, Interactive: true}},
		{"-itp80:80", []string{"-itp80:80", "img"},
			Args{Options: []string{"-itp80:80"}, Image: "img", TTY: true, Interactive: true}},
		{"-ditp 80:80", []string{"-ditp", "80:80", "img"},
			Args{Options: []string{"-itp", "80:80"}, Image: "img", Detach: true, TTY: true, Interactive: true}},
		{"-dp80 keeps p", []string{"-dp80", "img"}, Args{Options: []string{"-p80"}, Image: "img", Detach: true}},
		{"-pd: d is p's value", []string{"-pd", "img"}, Args{Options: []string{"-pd"}, Image: "img"}},
		{"-ed=1: value", []string{"-ed=1", "img"}, Args{Options: []string{"-ed=1"}, Image: "img"}},
		{"-m512m", []string{"-m512m", "img"}, Args{Options: []string{"-m512m"}, Image: "img"}},
		{"-m 512m", []string{"-m", "512m", "img"}, Args{Options: []string{"-m", "512m"}, Image: "img"}},
		{"-e=X", []string{"-e=X", "img"}, Args{Options: []string{"-e=X"}, Image: "img"}},
		{"-e= takes =", []string{"-e=", "img"}, Args{Options: []string{"-e="}, Image: "img"}},
		{"-e takes next even if dash", []string{"-e", "-d", "img"}, Args{Options: []string{"-e", "-d"}, Image: "img"}},
		{"--name takes next even if dash", []string{"--name", "--rm", "img"},
			Args{Options: []string{"--name", "--rm"}, Image: "img", Name: "--rm"}},
		{"--name=x", []string{"--name=x", "img"}, Args{Options: []string{"--name=x"}, Image: "img", Name: "x"}},
		{"--name= empty", []string{"--name=", "img"}, Args{Options: []string{"--name="}, Image: "img"}},
		{"name last wins", []string{"--name", "a", "--name=b", "img"},
			Args{Options: []string{"--name", "a", "--name=b"}, Image: "img", Name: "b"}},
		{"value flags", []string{"-a", "stdout", "-c", "512", "-h", "host", "-l", "k=v", "-u", "1000", "-v", "/a:/b", "-w", "/w",
			"--network", "host", "--mount", "type=bind,src=/a,dst=/b", "--env-file", "f", "--label=a=b",
			"--health-cmd", "true", "--platform", "linux/amd64", "--pull", "always", "--gpus", "all",
			"--cgroupns", "host", "--cgroup-parent", "x.slice", "--net", "bridge", "--dns-opt", "ndots:1", "img"},
			Args{Options: []string{"-a", "stdout", "-c", "512", "-h", "host", "-l", "k=v", "-u", "1000", "-v", "/a:/b", "-w", "/w",
				"--network", "host", "--mount", "type=bind,src=/a,dst=/b", "--env-file", "f", "--label=a=b",
				"--health-cmd", "true", "--platform", "linux/amd64", "--pull", "always", "--gpus", "all",
				"--cgroupns", "host", "--cgroup-parent", "x.slice", "--net", "bridge", "--dns-opt", "ndots:1"}, Image: "img"}},
		{"bool flags never take next", []string{"-P", "--privileged", "--init", "--read-only", "--oom-kill-disable",
			"--no-healthcheck", "--sig-proxy", "--help", "-q", "--quiet", "--use-api-socket", "--disable-content-trust", "img", "x"},
			Args{Options: []string{"-P", "--privileged", "--init", "--read-only", "--oom-kill-disable",
				"--no-healthcheck", "--help", "-q", "--quiet", "--use-api-socket", "--disable-content-trust"},
				Image: "img", Command: []string{"x"}, Help: true, Dropped: []string{"--sig-proxy"}}},
		{"bool =false", []string{"--sig-proxy=false", "--privileged=true", "img"},
			Args{Options: []string{"--privileged=true"}, Image: "img", Dropped: []string{"--sig-proxy=false"}}},
		// Flags of the attached client, unknown to docker create: left out.
		{"sig-proxy", []string{"--sig-proxy", "img"}, Args{Image: "img", Dropped: []string{"--sig-proxy"}}},
		{"sig-proxy=true", []string{"--sig-proxy=true", "img"}, Args{Image: "img", Dropped: []string{"--sig-proxy=true"}}},
		{"detach-keys value", []string{"--detach-keys", "ctrl-x,x", "-e", "A=1", "img"},
			Args{Options: []string{"-e", "A=1"}, Image: "img", Dropped: []string{"--detach-keys", "ctrl-x,x"}}},
		{"detach-keys=", []string{"--detach-keys=ctrl-p,q", "img"}, Args{Image: "img", Dropped: []string{"--detach-keys=ctrl-p,q"}}},
		{"detach-keys takes next even if dash", []string{"--detach-keys", "--rm", "img"},
			Args{Image: "img", Dropped: []string{"--detach-keys", "--rm"}}},
		{"help", []string{"--help", "img"}, Args{Options: []string{"--help"}, Image: "img", Help: true}},
		{"help=false is no request", []string{"--help=false", "img"}, Args{Options: []string{"--help=false"}, Image: "img"}},
		{"help last wins", []string{"--help", "--help=0", "img"}, Args{Options: []string{"--help", "--help=0"}, Image: "img"}},
		// Never docker run flags (20.10–28): taken as they are only with a value.
		{"credentialspec= kept as unknown", []string{"--credentialspec=x", "img"},
			Args{Options: []string{"--credentialspec=x"}, Image: "img"}},
		{"restart, stop signal, stop timeout",
			[]string{"--restart", "always", "--stop-signal=SIGINT", "--stop-timeout", "30", "img"},
			Args{Options: []string{"--restart", "always", "--stop-signal=SIGINT", "--stop-timeout", "30"}, Image: "img",
				Restart: "always", StopSignal: "SIGINT", StopTimeout: intp(30)}},
		{"stop-timeout=0", []string{"--stop-timeout=0", "img"}, Args{Options: []string{"--stop-timeout=0"}, Image: "img", StopTimeout: intp(0)}},
		{"stop-timeout=-1", []string{"--stop-timeout=-1", "img"}, Args{Options: []string{"--stop-timeout=-1"}, Image: "img", StopTimeout: intp(-1)}},
		{"double dash", []string{"--rm", "--", "img", "--", "-x"},
			Args{Image: "img", Command: []string{"--", "-x"}, Remove: true}},
		{"double dash first", []string{"--", "img"}, Args{Image: "img"}},
		{"unknown long with =", []string{"--future-flag=3", "img"}, Args{Options: []string{"--future-flag=3"}, Image: "img"}},
		{"command flags not scanned", []string{"img", "--name", "y", "--stop-timeout", "x", "-dit"},
			Args{Image: "img", Command: []string{"--name", "y", "--stop-timeout", "x", "-dit"}}},
		{"image with registry", []string{"-e", "A=B", "registry.example:5000/x/y:1.0", "a b"},
			Args{Options: []string{"-e", "A=B"}, Image: "registry.example:5000/x/y:1.0", Command: []string{"a b"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(tc.args)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.args, err)
			}
			assertArgs(t, got, tc.want)
		})
	}
}

func assertArgs(t *testing.T, got, want Args) {
	t.Helper()
	if !slices.Equal(got.Options, want.Options) {
		t.Errorf("Options = %q, want %q", got.Options, want.Options)
	}
	if got.Image != want.Image {
		t.Errorf("Image = %q, want %q", got.Image, want.Image)
	}
	if !slices.Equal(got.Command, want.Command) {
		t.Errorf("Command = %q, want %q", got.Command, want.Command)
	}
	if got.Name != want.Name || got.Remove != want.Remove || got.Detach != want.Detach ||
		got.TTY != want.TTY || got.Interactive != want.Interactive ||
		got.Restart != want.Restart || got.StopSignal != want.StopSignal || got.Help != want.Help {
		t.Errorf("fields = %+v, want %+v", got, want)
	}
	if !slices.Equal(got.Dropped, want.Dropped) {
		t.Errorf("Dropped = %q, want %q", got.Dropped, want.Dropped)
	}
	switch {
	case (got.StopTimeout == nil) != (want.StopTimeout == nil):
		t.Errorf("StopTimeout = %v, want %v", got.StopTimeout, want.StopTimeout)
	case got.StopTimeout != nil && *got.StopTimeout != *want.StopTimeout:
		t.Errorf("StopTimeout = %d, want %d", *got.StopTimeout, *want.StopTimeout)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		arg     string // want Error.Arg
		message []string
	}{
		{"nothing", nil, "", []string{"no image given after the docker run options"}},
		{"only options", []string{"--rm", "-it"}, "", []string{"no image given after the docker run options"}},
		{"value flag consumes image", []string{"--name", "img"}, "", []string{"no image given"}},
		{"only double dash", []string{"--rm", "--"}, "", []string{"no image given"}},
		{"long value missing", []string{"--rm", "--name"}, "--name", []string{`"--name" needs a value`, "--name=VALUE"}},
		{"short value missing", []string{"-e"}, "-e", []string{`-e (--env) in "-e" needs a value`}},
		{"group value missing", []string{"-itp"}, "-itp", []string{"-p (--publish)", "needs a value"}},
		{"stop-timeout not int", []string{"--stop-timeout", "10s", "img"}, "--stop-timeout",
			[]string{`"10s" is not a whole number of seconds`, "--stop-timeout=30"}},
		{"stop-timeout= not int", []string{"--stop-timeout=abc", "img"}, "--stop-timeout=abc", []string{`"abc"`}},
		{"unknown long", []string{"--foo", "img"}, "--foo",
			[]string{`unknown docker run flag "--foo": systemd-docker must know whether it takes a value; if it is a docker flag newer than this program, write it as --foo=VALUE`}},
		{"unknown short", []string{"-x", "img"}, "-x", []string{`unknown docker run flag "-x" in "-x"`, "--NAME=VALUE"}},
		{"unknown short in group", []string{"-itZ", "img"}, "-itZ", []string{`"-Z" in "-itZ"`}},
		{"bad bool long", []string{"--rm=maybe", "img"}, "--rm=maybe", []string{`"maybe" is not a boolean`, "--rm=false"}},
		{"bad bool short", []string{"-t=maybe", "img"}, "-t=maybe", []string{`"maybe" is not a boolean`}},
		{"bad bool empty", []string{"--privileged=", "img"}, "--privileged=", []string{`"" is not a boolean`}},
		{"triple dash", []string{"---rm", "img"}, "---rm", []string{"bad docker run flag syntax"}},
		{"dash equals", []string{"--=x", "img"}, "--=x", []string{"bad docker run flag syntax"}},
		{"image after -- begins with dash", []string{"--", "-img"}, "-img", []string{`image "-img" begins with "-"`}},
		{"lone dash", []string{"-"}, "-", []string{`image "-"`}},
		{"empty image", []string{"--rm", ""}, "", []string{"empty image name"}},
		{"detach-keys value missing", []string{"--detach-keys"}, "--detach-keys", []string{`"--detach-keys" needs a value`}},
		{"credentialspec is no docker run flag", []string{"--credentialspec", "x", "img"}, "--credentialspec",
			[]string{`unknown docker run flag "--credentialspec"`}},
		{"init-path is no docker run flag", []string{"--init-path", "/x", "img"}, "--init-path",
			[]string{`unknown docker run flag "--init-path"`}},
		{"bad bool sig-proxy", []string{"--sig-proxy=maybe", "img"}, "--sig-proxy=maybe", []string{`"maybe" is not a boolean`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.args)
			if err == nil {
				t.Fatalf("Parse(%q): no error", tc.args)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T is not *Error", err)
			}
			if e.Arg != tc.arg {
				t.Errorf("Arg = %q, want %q", e.Arg, tc.arg)
			}
			if e.Arg != "" && (e.Index < 0 || tc.args[e.Index] != e.Arg) {
				t.Errorf("Index = %d does not point at %q", e.Index, e.Arg)
			}
			for _, m := range tc.message {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not contain %q", err, m)
				}
			}
		})
	}
}

// roundTrip checks that Options+Image+Command, parsed again, describe the
// same container: same image, command, options and settings.
func roundTrip(t *testing.T, a Args) {
	t.Helper()
	again := append(append(slices.Clone(a.Options), a.Image), a.Command...)
	b, err := Parse(again)
	if err != nil {
		t.Fatalf("re-parsing %q: %v", again, err)
	}
	want := a
	want.Remove, want.Detach, want.Dropped = false, false, nil
	assertArgs(t, b, want)
	if a.Hash() != b.Hash() {
		t.Errorf("hash changed on re-parse")
	}
}

func TestRoundTrip(t *testing.T) {
	inputs := [][]string{
		{"--rm", "--name", "x", "testbox", "echo", "--rm", "-d"},
		{"-dit", "-p", "80:80", "nginx"},
		{"-ditp80:80", "-m512m", "-e=A=B", "--stop-timeout=5", "nginx", "--", "x"},
		{"-d=false", "--detach", "--rm=false", "-td=true", "img"},
		{"--name", "--rm", "--", "img", "-d"},
		{"--future=1", "-e", "-d", "img"},
		{"-pd", "-e=", "img"},
		{"--sig-proxy=false", "--detach-keys", "ctrl-x", "--help=false", "img"},
	}
	for _, in := range inputs {
		a, err := Parse(in)
		if err != nil {
			t.Fatalf("Parse(%q): %v", in, err)
		}
		roundTrip(t, a)
	}
}

func TestParseDoesNotAlias(t *testing.T) {
	in := []string{"--name", "x", "img", "cmd"}
	a, err := Parse(in)
	if err != nil {
		t.Fatal(err)
	}
	in[1], in[3] = "changed", "changed"
	if a.Options[1] != "x" || a.Command[0] != "cmd" {
		t.Errorf("Args shares memory with its input: %+v", a)
	}
}

func TestHash(t *testing.T) {
	parse := func(args ...string) Args {
		a, err := Parse(args)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	base := parse("--rm", "--name", "x", "img", "a", "b")
	h := base.Hash()
	if len(h) != 64 || strings.Trim(h, "0123456789abcdef") != "" {
		t.Fatalf("Hash = %q, want 64 hex digits", h)
	}
	if h != base.Hash() {
		t.Error("Hash is not stable")
	}
	if got := parse("--name", "x", "-d", "img", "a", "b").Hash(); got != h {
		t.Error("--rm and -d must not change the hash")
	}
	differ := map[string]string{
		"other command":       parse("--name", "x", "img", "a", "c").Hash(),
		"command split":       parse("--name", "x", "img", "a b").Hash(),
		"image moved to cmd":  parse("--name", "x", "img", "a", "b", "").Hash(),
		"other option":        parse("--name", "y", "img", "a", "b").Hash(),
		"extra":               base.Hash("A=B"),
		"extra vs command":    Args{Options: []string{"--name", "x"}, Image: "img", Command: []string{"a"}}.Hash("b"),
		"option vs image":     Args{Options: []string{"--name"}, Image: "x", Command: []string{"img", "a", "b"}}.Hash(),
		"extras concatenated": base.Hash("A=B\x00C"),
	}
	seen := map[string]string{h: "base"}
	for name, d := range differ {
		if other, dup := seen[d]; dup {
			t.Errorf("%s hashes like %s", name, other)
		}
		seen[d] = name
	}
	if base.Hash("A=B", "C") == base.Hash("A=B\x00C") {
		t.Error("extras are ambiguous")
	}
}

func TestFlagTable(t *testing.T) {
	for c, name := range shortFlags {
		if _, ok := longFlags[name]; !ok {
			t.Errorf("-%c maps to unknown --%s", c, name)
		}
	}
	for name := range runOnly {
		if _, ok := longFlags[name]; !ok {
			t.Errorf("run-only --%s is not in the flag table", name)
		}
	}
}
