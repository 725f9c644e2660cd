package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/systemd-docker/systemd-docker/supervisor/runargs"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/generate")

// generateCases are the golden files in testdata/generate: NAME.service is
// the output of systemd-docker ARGS.
var generateCases = []struct {
	name string
	args []string // the whole command line after argv[0]
}{
	{"minimal", []string{"generate", "nginx"}},
	{"with-name", []string{"generate", "--", "--name", "web", "-p", "80:80", "nginx:1.27"}},
	{"stop-signal", []string{"generate", "--", "--stop-signal=SIGQUIT", "--stop-timeout", "30", "-p", "80:80", "nginx"}},
	{"stop-signal-short", []string{"generate", "--", "--stop-signal", "quit", "nginx"}},
	{"stop-signal-kill", []string{"generate", "--", "--stop-signal=9", "--stop-timeout=0", "busybox", "sleep", "1000"}},
	{"watchdog-health", []string{"--ready=healthy", "generate", "--watchdog=30s", "--restart", "always", "--", "-p", "8080:8080",
		"--health-cmd", "wget -q -O /dev/null http://127.0.0.1:8080/health || exit 1", "--health-interval", "5s", "my/web:1.4"}},
	{"watchdog-no-health", []string{"generate", "--watchdog", "1m30s", "--", "my/web:1.4"}},
	{"metrics", []string{"generate", "--metrics-dir=/var/lib/node_exporter/textfile_collector", "--description", "Web (metrics)",
		"--binary=/usr/local/bin/systemd-docker", "--", "--stop-timeout=-1", "my/web:1.4", "--port", "8080"}},
	{"quoting", []string{"-e", "generate", "--description", "50% of $HOME", "--",
		"-e", "GREETING=hello world", "-e", "PCT=50%", "-e", `QUOTE="it's"`, "-l", `back\slash`, "-d",
		"busybox", "sh", "-c", `echo "$GREETING" it's 100% $$; printf '%s\n' "${PCT}"`, ";", "", "tab\there", "%n"}},
	{"detach", []string{"--logs=false", "generate", "--", "-d", "--rm=false", "--name=%n", "busybox", "sleep", "infinity"}},
}

func TestGenerateGolden(t *testing.T) {
	for _, tc := range generateCases {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code, _ := run(tc.args, nil, &stdout, &stderr)
			if code != 0 || stderr.Len() > 0 {
				t.Fatalf("systemd-docker %q: exit %d: %s", tc.args, code, stderr.String())
			}
			golden := filepath.Join("testdata", "generate", tc.name+".service")
			if *update {
				if err := os.WriteFile(golden, stdout.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -run TestGenerateGolden -update ./cmd/systemd-docker)", err)
			}
			if got := stdout.String(); got != string(want) {
				t.Errorf("systemd-docker %q differs from %s (rerun with -update after checking):\n%s", tc.args, golden, got)
			}
		})
	}
}

// TestGenerateExecStartRoundTrip reads every golden file's ExecStart= back
// the way systemd would and checks that the docker run part scans to the
// same IMAGE and CMD as the arguments given.
func TestGenerateExecStartRoundTrip(t *testing.T) {
	for _, tc := range generateCases {
		t.Run(tc.name, func(t *testing.T) {
			unit, err := os.ReadFile(filepath.Join("testdata", "generate", tc.name+".service"))
			if err != nil {
				t.Fatal(err)
			}
			i := slices.Index(tc.args, "generate")
			g, err := parseGenerateArgs(tc.args[i+1:])
			if err != nil {
				t.Fatal(err)
			}
			want, err := runargs.Parse(g.Docker)
			if err != nil {
				t.Fatal(err)
			}
			argv := execStartArgv(t, string(unit), "test.service")
			if argv[0] != g.Binary {
				t.Errorf("binary = %q, want %q", argv[0], g.Binary)
			}
			r := slices.Index(argv, "run")
			if r < 0 {
				t.Fatalf("no run in %q", argv)
			}
			wrapper := argv[1:r]
			wantWrapper := slices.Clone(tc.args[:i])
			if g.MetricsDir != "" {
				wantWrapper = append(wantWrapper, "--metrics-dir="+g.MetricsDir)
			}
			if !slices.Equal(wrapper, wantWrapper) {
				t.Errorf("wrapper flags = %q, want %q", wrapper, wantWrapper)
			}
			got, err := runargs.Parse(argv[r+1:])
			if err != nil {
				t.Fatalf("runargs.Parse(%q): %v", argv[r+1:], err)
			}
			if got.Image != want.Image || !slices.Equal(got.Command, want.Command) {
				t.Errorf("IMAGE CMD = %q %q, want %q %q", got.Image, got.Command, want.Image, want.Command)
			}
			wantName := want.Name
			if wantName == "" || wantName == "%n" {
				wantName = "test.service"
			}
			if got.Name != wantName {
				t.Errorf("--name = %q, want %q", got.Name, wantName)
			}
			if wantRm := !explicitNoRm(g.Docker); got.Remove != wantRm {
				t.Errorf("--rm = %v, want %v", got.Remove, wantRm)
			}
			if got.Detach || got.Restart != "" {
				t.Errorf("-d or --restart left in %q", argv)
			}
		})
	}
}

// TestGenerateSystemdAnalyzeVerify has systemd check every golden file
// (and example) when systemd-analyze is installed.
func TestGenerateSystemdAnalyzeVerify(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not installed")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "generate", "*.service"))
	examples, _ := filepath.Glob(filepath.Join("..", "..", "examples", "*.service"))
	dir := t.TempDir()
	for _, f := range append(files, examples...) {
		text, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		// systemd-analyze checks that the binary exists: use ours.
		s := string(text)
		for _, b := range []string{"/opt/bin/systemd-docker", "/usr/local/bin/systemd-docker"} {
			s = strings.ReplaceAll(s, "ExecStart="+b+" ", "ExecStart="+exe+" ")
		}
		// Requires=docker.service is not there outside a docker host.
		s = strings.ReplaceAll(s, "Requires=docker.service\n", "")
		unit := filepath.Join(dir, filepath.Base(f))
		if err := os.WriteFile(unit, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(analyze, "verify", unit).CombinedOutput()
		if err != nil || len(bytes.TrimSpace(out)) > 0 {
			t.Errorf("systemd-analyze verify %s: %v\n%s", f, err, out)
		}
	}
}

func TestExamplesRoundTrip(t *testing.T) {
	examples, _ := filepath.Glob(filepath.Join("..", "..", "examples", "*.service"))
	for _, want := range []string{"nginx", "health-watchdog", "metrics", "detach"} {
		if !slices.Contains(examples, filepath.Join("..", "..", "examples", want+".service")) {
			t.Errorf("examples/%s.service missing", want)
		}
	}
	for _, f := range examples {
		text, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		argv := execStartArgv(t, string(text), filepath.Base(f))
		r := slices.Index(argv, "run")
		if r < 0 {
			t.Fatalf("%s: no run in %q", f, argv)
		}
		if _, err := parseCommandLine(argv[1:], nil); err != nil {
			t.Errorf("%s: ExecStart= does not parse: %v", f, err)
		}
		for _, s := range []string{"Type=notify", "NotifyAccess=all", "[Install]", "After=docker.service", "\n# "} {
			if !strings.Contains(string(text), s) {
				t.Errorf("%s lacks %q", f, s)
			}
		}
	}
}

func TestGenerateErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"docker restart", []string{"generate", "--", "--restart=always", "nginx"},
			[]string{"docker run --restart=always", "generate's own --restart=always"}},
		{"docker restart on-failure", []string{"generate", "--", "--restart", "on-failure:3", "nginx"}, []string{"--restart=on-failure"}},
		{"bad policy", []string{"generate", "--restart=sometimes", "nginx"}, []string{`"sometimes" is not a systemd Restart= policy`}},
		{"bad watchdog", []string{"generate", "--watchdog=soon", "nginx"}, []string{`"soon" is not a duration`}},
		{"relative binary", []string{"generate", "--binary=bin/systemd-docker", "nginx"}, []string{"not an absolute path"}},
		{"unknown flag", []string{"generate", "-p", "80:80", "nginx"}, []string{`unknown flag "-p"`, `after "--"`}},
		{"no image", []string{"generate", "--"}, []string{"no docker run arguments"}},
		{"no image after options", []string{"generate", "--", "-p", "80:80"}, []string{"no image given"}},
		{"bad stop signal", []string{"generate", "--", "--stop-signal=SIGFOO", "nginx"}, []string{`"SIGFOO" is not a signal name`}},
		{"newline description", []string{"generate", "--description", "a\nb", "nginx"}, []string{"one line"}},
		{"install without dir", []string{"install"}, []string{"install needs one directory"}},
		{"restart without value", []string{"generate", "--restart"},
			[]string{`generate: flag "--restart" needs a value: write --restart=POLICY or --restart POLICY, before "--"`}},
		{"bad help bool", []string{"generate", "--help=maybe"}, []string{`generate: flag "--help=maybe": "maybe" is not a boolean`}},
		{"bad flag before help", []string{"generate", "--watchdog=0", "--help"}, []string{`generate: flag "--watchdog=0": watchdog interval "0" is too short`}},
		{"wrapper flag after generate", []string{"generate", "--logs=false", "nginx"},
			[]string{`generate: unknown flag "--logs=false": generate takes --restart`, "put docker run arguments after \"--\""}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code, _ := run(tc.args, nil, &stdout, &stderr)
			if code != 125 {
				t.Errorf("exit %d, want 125", code)
			}
			if stdout.Len() > 0 {
				t.Errorf("stdout not empty on error: %q", stdout.String())
			}
			msg := stderr.String()
			if strings.Count(msg, "\n") != 1 {
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

// TestGenerateFlagSpellings: generate's flags take the wrapper's spellings.
func TestGenerateFlagSpellings(t *testing.T) {
	tests := []struct {
		args []string
		want generateOptions
	}{
		{[]string{"nginx"}, generateOptions{Restart: "on-failure", Binary: defaultBinary, Format: "service"}},
		{[]string{"-restart", "always", "--", "nginx"}, generateOptions{Restart: "always", Binary: defaultBinary, Format: "service"}},
		{[]string{"--restart=no", "-watchdog=30", "nginx"}, generateOptions{Restart: "no", Watchdog: 30 * time.Second, Binary: defaultBinary, Format: "service"}},
		{[]string{"--watchdog", "1m30s", "-binary", "/b", "--description", "a b", "-metrics-dir=/m", "--", "nginx"},
			generateOptions{Restart: "on-failure", Watchdog: 90 * time.Second, Binary: "/b", Description: "a b", MetricsDir: "/m", Format: "service"}},
		{[]string{"--help=false", "--", "nginx"}, generateOptions{Restart: "on-failure", Binary: defaultBinary, Format: "service"}},
		{[]string{"--format", "container", "nginx"}, generateOptions{Restart: "on-failure", Binary: defaultBinary, Format: "container"}},
	}
	for _, tc := range tests {
		got, err := parseGenerateArgs(tc.args)
		if err != nil {
			t.Errorf("parseGenerateArgs(%q): %v", tc.args, err)
			continue
		}
		if !slices.Equal(got.Docker, []string{"nginx"}) {
			t.Errorf("parseGenerateArgs(%q).Docker = %q, want [nginx]", tc.args, got.Docker)
		}
		got.Docker = nil
		if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", tc.want) {
			t.Errorf("parseGenerateArgs(%q) = %+v\nwant %+v", tc.args, got, tc.want)
		}
	}
}

func TestGenerateHelp(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code, _ := run([]string{"generate", "--help"}, nil, &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), "generate") {
		t.Errorf("generate --help: exit %d, %q", code, stdout.String())
	}
}

func TestQuoteExecArgRoundTrip(t *testing.T) {
	args := []string{"", " ", "a", "a b", `"`, `'`, `\`, `\;`, ";", ";;", "%", "%n", "%%", "$", "$$", "${X}", "$X",
		"\n", "\t\r\v\f\x01\x7f", "ünï cödé", `a"b'c\d`, "-", "--", "x=y z", "#", "# c", "a\\", "end\\"}
	var line strings.Builder
	line.WriteString("ExecStart=/b")
	for _, a := range args {
		line.WriteString(" " + quoteExecArg(a))
	}
	got := execStartArgv(t, line.String()+"\n", "u.service")[1:]
	if !slices.Equal(got, args) {
		t.Errorf("round trip:\n got %q\nwant %q\nline %s", got, args, line.String())
	}
}

func TestNormalizeSignal(t *testing.T) {
	for in, want := range map[string]string{"": "", "QUIT": "SIGQUIT", "sigquit": "SIGQUIT", "3": "SIGQUIT", "SIGTERM": "SIGTERM",
		"15": "SIGTERM", "SIGRTMIN+3": "SIGRTMIN+3", "37": "SIGRTMIN+3", "rtmax-1": "SIGRTMAX-1", "SIGRTMIN": "SIGRTMIN"} {
		got, err := normalizeSignal(in)
		if err != nil || got != want {
			t.Errorf("normalizeSignal(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"0", "32", "65", "FOO", "SIGRTMIN+03", "SIGRTMIN+x"} {
		if got, err := normalizeSignal(bad); err == nil {
			t.Errorf("normalizeSignal(%q) = %q, want an error", bad, got)
		}
	}
}

// execStartArgv returns the argv systemd would run for the unit's single
// ExecStart= line: continuation lines joined, words split and unquoted
// with C escapes (a lone \; is ";"), then per word the specifiers %% and
// %n (= unit) and the environment escape $$ resolved. Any other % or $
// would be expanded by systemd, so it fails the test.
func execStartArgv(t *testing.T, unit, name string) []string {
	t.Helper()
	var logical []string
	cont := ""
	for l := range strings.SplitSeq(unit, "\n") {
		if cont != "" && (strings.HasPrefix(l, "#") || strings.HasPrefix(l, ";")) {
			continue // comments inside a continued line are skipped
		}
		if strings.HasSuffix(l, `\`) {
			cont += l[:len(l)-1] + " "
			continue
		}
		logical = append(logical, cont+l)
		cont = ""
	}
	var value string
	n := 0
	for _, l := range logical {
		if v, ok := strings.CutPrefix(l, "ExecStart="); ok {
			value = v
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d ExecStart= lines, want 1:\n%s", n, unit)
	}
	words, err := splitExecWords(value)
	if err != nil {
		t.Fatalf("ExecStart=%s: %v", value, err)
	}
	for i, w := range words {
		if words[i], err = resolveWord(w, name); err != nil {
			t.Fatalf("ExecStart=%s: word %q: %v", value, w, err)
		}
	}
	return words
}

func splitExecWords(s string) ([]string, error) {
	var words []string
	i := 0
	for {
		for i < len(s) && strings.IndexByte(" \t", s[i]) >= 0 {
			i++
		}
		if i >= len(s) {
			return words, nil
		}
		// systemd looks at the raw text for the two forms of a lone ";".
		if rest := s[i:]; strings.HasPrefix(rest, ";") && (len(rest) == 1 || strings.IndexByte(" \t", rest[1]) >= 0) {
			return nil, errors.New(`a lone ";" separates commands`)
		}
		if rest := s[i:]; strings.HasPrefix(rest, `\;`) && (len(rest) == 2 || strings.IndexByte(" \t", rest[2]) >= 0) {
			words = append(words, ";")
			i += 2
			continue
		}
		var w strings.Builder
		var quote byte
	word:
		for i < len(s) {
			c := s[i]
			switch {
			case quote == 0 && (c == ' ' || c == '\t'):
				break word
			case quote == 0 && (c == '"' || c == '\''):
				quote = c
				i++
			case quote != 0 && c == quote:
				quote = 0
				i++
			case c == '\\':
				if i+1 >= len(s) {
					return nil, errors.New("trailing backslash")
				}
				e := s[i+1]
				i += 2
				switch e {
				case 'n':
					w.WriteByte('\n')
				case 't':
					w.WriteByte('\t')
				case 'r':
					w.WriteByte('\r')
				case 'v':
					w.WriteByte('\v')
				case 'f':
					w.WriteByte('\f')
				case '\\', '"', '\'':
					w.WriteByte(e)
				case 'x':
					if i+2 > len(s) {
						return nil, errors.New(`short \x escape`)
					}
					b, err := strconv.ParseUint(s[i:i+2], 16, 8)
					if err != nil {
						return nil, fmt.Errorf(`bad \x escape %q`, s[i:i+2])
					}
					w.WriteByte(byte(b))
					i += 2
				default:
					return nil, fmt.Errorf(`unknown escape \%c`, e)
				}
			default:
				w.WriteByte(c)
				i++
			}
		}
		if quote != 0 {
			return nil, errors.New("unbalanced quotes")
		}
		words = append(words, w.String())
	}
}

func resolveWord(w, unit string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(w); i++ {
		switch c := w[i]; c {
		case '%', '$':
			if i+1 < len(w) && w[i+1] == c {
				b.WriteByte(c)
				i++
				continue
			}
			if c == '%' && i+1 < len(w) && w[i+1] == 'n' {
				b.WriteString(unit)
				i++
				continue
			}
			return "", fmt.Errorf("unescaped %q at %d: systemd would expand it", c, i)
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}
