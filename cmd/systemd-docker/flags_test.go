package main

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/systemd-docker/systemd-docker/supervisor"
	"github.com/systemd-docker/systemd-docker/supervisor/runargs"
)

// defaults is the Config of "systemd-docker run img" with environ env.
func defaults(env []string) settings {
	return settings{Config: supervisor.Config{
		Run:       runargs.Args{Image: "img"},
		Logs:      true,
		DockerCLI: "docker",
		Environ:   env,
	}, LogLevel: "info"}
}

func TestParseCommandLine(t *testing.T) {
	env := []string{"A=B", "PATH=/bin"}
	tests := []struct {
		name string
		args []string
		edit func(c *settings)
	}{
		{"defaults", []string{"run", "img"}, func(c *settings) {}},
		// --logs in every spelling
		{"-l", []string{"-l", "run", "img"}, func(c *settings) {}},
		{"--l=false", []string{"--l=false", "run", "img"}, func(c *settings) { c.Logs = false }},
		{"-logs=false", []string{"-logs=false", "run", "img"}, func(c *settings) { c.Logs = false }},
		{"--logs=false", []string{"--logs=false", "run", "img"}, func(c *settings) { c.Logs = false }},
		{"-l=false", []string{"-l=false", "run", "img"}, func(c *settings) { c.Logs = false }},
		{"--logs false", []string{"--logs", "false", "run", "img"}, func(c *settings) { c.Logs = false }},
		{"-l 0", []string{"-l", "0", "run", "img"}, func(c *settings) { c.Logs = false }},
		{"--logs=false --logs true", []string{"--logs=false", "--logs", "true", "run", "img"}, func(c *settings) {}},
		{"--logs=false --logs", []string{"--logs=false", "--logs", "run", "img"}, func(c *settings) {}},
		// --notify, --env
		{"-n", []string{"-n", "run", "img"}, func(c *settings) { c.Notify = true }},
		{"--n", []string{"--n", "run", "img"}, func(c *settings) { c.Notify = true }},
		{"-notify", []string{"-notify", "run", "img"}, func(c *settings) { c.Notify = true }},
		{"--notify=true", []string{"--notify=true", "run", "img"}, func(c *settings) { c.Notify = true }},
		{"--notify TRUE", []string{"--notify", "TRUE", "run", "img"}, func(c *settings) { c.Notify = true }},
		{"--notify=false", []string{"--notify=false", "run", "img"}, func(c *settings) {}},
		{"-e", []string{"-e", "run", "img"}, func(c *settings) { c.Env = true }},
		{"--env", []string{"--env", "run", "img"}, func(c *settings) { c.Env = true }},
		{"-env=1", []string{"-env=1", "run", "img"}, func(c *settings) { c.Env = true }},
		{"--e t", []string{"--e", "t", "run", "img"}, func(c *settings) { c.Env = true }},
		// --pid-file
		{"--pid-file=/x", []string{"--pid-file=/x", "run", "img"}, func(c *settings) { c.PidFile = "/x" }},
		{"--pid-file /x", []string{"--pid-file", "/x", "run", "img"}, func(c *settings) { c.PidFile = "/x" }},
		{"-p /x", []string{"-p", "/x", "run", "img"}, func(c *settings) { c.PidFile = "/x" }},
		{"-p=/x", []string{"-p=/x", "run", "img"}, func(c *settings) { c.PidFile = "/x" }},
		{"--p /x", []string{"--p", "/x", "run", "img"}, func(c *settings) { c.PidFile = "/x" }},
		{"-pid-file /x", []string{"-pid-file", "/x", "run", "img"}, func(c *settings) { c.PidFile = "/x" }},
		{"-pid-file=/x", []string{"-pid-file=/x", "run", "img"}, func(c *settings) { c.PidFile = "/x" }},
		{"--pid-file=a=b", []string{"--pid-file=/a=b", "run", "img"}, func(c *settings) { c.PidFile = "/a=b" }},
		// --cgroups
		{"-c repeated", []string{"-c", "name=systemd", "--cgroups=cpu,cpuacct", "-cgroups", "memory", "--c=pids", "run", "img"},
			func(c *settings) { c.Cgroups = []string{"name=systemd", "cpu,cpuacct", "memory", "pids"} }},
		// --docker-cli, --log-level
		{"--docker-cli", []string{"--docker-cli", "/usr/bin/docker", "run", "img"}, func(c *settings) { c.DockerCLI = "/usr/bin/docker" }},
		{"-docker-cli=", []string{"-docker-cli=/d", "run", "img"}, func(c *settings) { c.DockerCLI = "/d" }},
		{"--log-level debug", []string{"--log-level", "debug", "run", "img"}, func(c *settings) { c.LogLevel = "debug" }},
		{"--log-level=WARN", []string{"--log-level=WARN", "run", "img"}, func(c *settings) { c.LogLevel = "warn" }},
		{"--log-level=warning", []string{"--log-level=warning", "run", "img"}, func(c *settings) { c.LogLevel = "warn" }},
		{"--log-level=error", []string{"--log-level=error", "run", "img"}, func(c *settings) { c.LogLevel = "error" }},
		// everything together, and docker run arguments
		{"original unit file", []string{"-p", "/run/x.pid", "--logs=false", "-n", "-e", "-c", "name=systemd",
			"run", "--rm", "--name", "x", "-e", "A=1", "-p", "80:80", "img", "sh", "-c", "--logs"},
			func(c *settings) {
				c.PidFile, c.Logs, c.Notify, c.Env, c.Cgroups = "/run/x.pid", false, true, true, []string{"name=systemd"}
				c.Run = runargs.Args{Options: []string{"--name", "x", "-e", "A=1", "-p", "80:80"}, Image: "img",
					Command: []string{"sh", "-c", "--logs"}, Name: "x", Remove: true}
			}},
		{"-- before run", []string{"-n", "--", "run", "img"}, func(c *settings) { c.Notify = true }},
		{"-dit after run", []string{"run", "-dit", "img"}, func(c *settings) {
			c.Run = runargs.Args{Options: []string{"-it"}, Image: "img", Detach: true, TTY: true, Interactive: true}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseCommandLine(tc.args, env)
			if err != nil {
				t.Fatalf("parseCommandLine(%q): %v", tc.args, err)
			}
			if got.Command != "run" {
				t.Errorf("Command = %q, want run", got.Command)
			}
			want := defaults(env)
			tc.edit(&want)
			assertConfig(t, got.Config, want)
		})
	}
}

func assertConfig(t *testing.T, got, want settings) {
	t.Helper()
	if got.Logs != want.Logs || got.Notify != want.Notify || got.Env != want.Env ||
		got.PidFile != want.PidFile || got.DockerCLI != want.DockerCLI || got.LogLevel != want.LogLevel {
		t.Errorf("Config = %+v\nwant     %+v", got, want)
	}
	if !slices.Equal(got.Cgroups, want.Cgroups) {
		t.Errorf("Cgroups = %q, want %q", got.Cgroups, want.Cgroups)
	}
	if !slices.Equal(got.Environ, want.Environ) {
		t.Errorf("Environ = %q, want %q", got.Environ, want.Environ)
	}
	g, w := got.Run, want.Run
	if !slices.Equal(g.Options, w.Options) || g.Image != w.Image || !slices.Equal(g.Command, w.Command) ||
		g.Name != w.Name || g.Remove != w.Remove || g.Detach != w.Detach || g.TTY != w.TTY || g.Interactive != w.Interactive {
		t.Errorf("Run = %+v\nwant  %+v", g, w)
	}
}

func TestParseCommandLineCommands(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"help"}, "help"},
		{[]string{"--help"}, "help"},
		{[]string{"-h"}, "help"},
		{[]string{"-help"}, "help"},
		{[]string{"--h"}, "help"},
		{[]string{"--logs=false", "--help", "run"}, "help"},
		{[]string{"--help", "--nonsense"}, "help"},
		{[]string{"help", "run"}, "help"},
		{[]string{"version"}, "version"},
		{[]string{"-l", "false", "version"}, "version"},
		{[]string{"generate", "nginx"}, "generate"},
		{[]string{"--ready=healthy", "-p", "/x", "--", "generate", "--", "-p", "80:80", "nginx"}, "generate"},
		{[]string{"generate", "--help"}, "help"},
		{[]string{"generate", "-h", "true"}, "help"},
		{[]string{"generate", "--h=1", "nginx"}, "help"},
		{[]string{"generate", "-help", "--bogus"}, "help"},
		{[]string{"generate", "--help=false", "nginx"}, "generate"},
		{[]string{"generate", "--help", "false", "nginx"}, "generate"},
		{[]string{"install", "/opt/bin"}, "install"},
	}
	for _, tc := range tests {
		got, err := parseCommandLine(tc.args, nil)
		if err != nil {
			t.Errorf("parseCommandLine(%q): %v", tc.args, err)
			continue
		}
		if got.Command != tc.want {
			t.Errorf("parseCommandLine(%q).Command = %q, want %q", tc.args, got.Command, tc.want)
		}
	}
}

func TestParseCommandLineErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string // substrings of the message
	}{
		{"unknown long", []string{"--foo", "run", "img"}, []string{`unknown flag "--foo"; see systemd-docker --help`}},
		{"unknown short", []string{"-x", "run", "img"}, []string{`unknown flag "-x"`}},
		{"docker flag before run", []string{"--rm", "run", "img"}, []string{`unknown flag "--rm"`}},
		{"triple dash", []string{"---logs", "run", "img"}, []string{`unknown flag "---logs"`}},
		{"bare dashes with =", []string{"--=x", "run", "img"}, []string{`unknown flag "--=x"`}},
		{"pid-file without value", []string{"--pid-file"}, []string{`"--pid-file" needs a value`, "--pid-file=PATH"}},
		{"-p without value", []string{"-p"}, []string{`"-p" needs a value`}},
		{"empty --pid-file=", []string{"--pid-file=", "run", "img"}, []string{`flag "--pid-file="`, "empty path", "--pid-file=/run/NAME.pid", "leave the flag out"}},
		{"empty --pid-file ''", []string{"--pid-file", "", "run", "img"}, []string{`flag "--pid-file"`, "empty path"}},
		{"empty -p ''", []string{"-p", "", "run", "img"}, []string{`flag "-p"`, "empty path"}},
		{"empty -p=", []string{"-p=", "run", "img"}, []string{`flag "-p="`, "empty path"}},
		{"cgroups without value", []string{"-c"}, []string{`"-c" needs a value`}},
		{"docker-cli without value", []string{"--docker-cli"}, []string{`"--docker-cli" needs a value`}},
		{"log-level without value", []string{"--log-level"}, []string{`"--log-level" needs a value`}},
		{"empty cgroups", []string{"--cgroups=", "run", "img"}, []string{"empty cgroup hierarchy name"}},
		{"empty docker-cli", []string{"--docker-cli=", "run", "img"}, []string{"empty path"}},
		{"bad bool", []string{"--logs=maybe", "run", "img"}, []string{`flag "--logs=maybe": "maybe" is not a boolean`, "--logs=false"}},
		{"bad bool short", []string{"-n=yes", "run", "img"}, []string{`"yes" is not a boolean`, "--notify=false"}},
		{"bad log level", []string{"--log-level=loud", "run", "img"}, []string{`bad log level "loud"`, "debug, info, warn or error"}},
		{"no subcommand", nil, []string{`missing "run": usage: systemd-docker [FLAGS] run [docker run args…] IMAGE [CMD…]`}},
		{"only flags", []string{"-l", "false"}, []string{`missing "run"`}},
		{"only --", []string{"--"}, []string{`missing "run"`}},
		{"unknown subcommand", []string{"start", "img"}, []string{`unknown command "start"`, "usage: systemd-docker"}},
		{"image without run", []string{"nginx"}, []string{`unknown command "nginx"`}},
		{"flag after --", []string{"--", "--logs"}, []string{`unexpected "--logs" after "--"`}},
		{"install without dir", []string{"install"}, []string{"install needs one directory"}},
		{"install with two dirs", []string{"install", "/a", "/b"}, []string{"install needs one directory"}},
		{"generate without args", []string{"generate"}, []string{"generate: no docker run arguments"}},
		{"version with args", []string{"version", "x"}, []string{`unexpected argument "x" after "version"`}},
		{"run without image", []string{"run"}, []string{"docker run arguments: no image given after the docker run options"}},
		{"run unknown docker flag", []string{"run", "--foo", "img"}, []string{`docker run arguments: unknown docker run flag "--foo"`}},
		{"run bad stop-timeout", []string{"run", "--stop-timeout=x", "img"}, []string{"docker run arguments", "--stop-timeout"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseCommandLine(tc.args, nil)
			if err == nil {
				t.Fatalf("parseCommandLine(%q): no error", tc.args)
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("message is not one line: %q", msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
		})
	}
}

func TestRunArgsErrorIsWrapped(t *testing.T) {
	_, err := parseCommandLine([]string{"run", "--foo", "img"}, nil)
	var e *runargs.Error
	if !errors.As(err, &e) || e.Arg != "--foo" {
		t.Fatalf("error %v does not wrap *runargs.Error for --foo", err)
	}
}

func TestUsageMentionsEveryFlag(t *testing.T) {
	for _, f := range wrapperFlags.flags {
		if !strings.Contains(usage, "--"+f.long) {
			t.Errorf("usage does not mention --%s", f.long)
		}
		if f.short != "" && !strings.Contains(usage, "-"+f.short+", --"+f.long) {
			t.Errorf("usage does not show -%s for --%s", f.short, f.long)
		}
	}
	for _, s := range []string{
		"run [docker run args…] IMAGE [CMD…]", "--rm", "-d/--detach", "125", "exit code", "--logs=false",
		"MAINPID", "[Unit]", "[Service]", "[Install]", "Type=notify", "NotifyAccess=all",
		"ExecStart=/opt/bin/systemd-docker run --rm --name %n nginx", "WantedBy=multi-user.target",
	} {
		if !strings.Contains(usage, s) {
			t.Errorf("usage does not mention %q", s)
		}
	}
}

func TestGenerateWrapperFlagsKept(t *testing.T) {
	inv, err := parseCommandLine([]string{"--ready=healthy", "-p", "/x", "--logs", "false", "--", "generate", "--watchdog=10s", "--", "-p", "80:80", "nginx"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	g := inv.Generate
	if want := []string{"--ready=healthy", "-p", "/x", "--logs", "false"}; !slices.Equal(g.Wrapper, want) {
		t.Errorf("Wrapper = %q, want %q", g.Wrapper, want)
	}
	if !g.NoLogs || g.Watchdog.String() != "10s" || !slices.Equal(g.Docker, []string{"-p", "80:80", "nginx"}) {
		t.Errorf("Generate = %+v", g)
	}
}
