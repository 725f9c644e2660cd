package unitfile

import (
	"slices"
	"strings"
	"testing"
)

func TestSplit(t *testing.T) {
	for in, want := range map[string][]string{
		``:                 nil,
		`a b  c`:           {"a", "b", "c"},
		`"a b" 'c d'`:      {"a b", "c d"},
		`A="x y"z`:         {"A=x yz"},
		`a\ b`:             {"a b"},
		`"a\"b" 'it\'s'`:   {`a"b`, "it's"},
		`\x41\n\t\\`:       {"A\n\t\\"},
		`%i "%n"`:          {"%i", "%n"},
		`""`:               {""},
		`-g "daemon off;"`: {"-g", "daemon off;"},
	} {
		got, err := Split(in)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("Split(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{`"open`, `'open`, `a\`, `\q`, `\x0`, `\x00`} {
		if got, err := Split(bad); err == nil {
			t.Errorf("Split(%q) = %q, want an error", bad, got)
		}
	}
}

func TestQuoteExecRoundTrip(t *testing.T) {
	for _, s := range []string{"plain", "two words", `q"uote`, `back\slash`, "tab\there", "new\nline", "it's", "", "$HOME", "%i", ";", "\x01"} {
		for _, spec := range []bool{true, false} {
			q := QuoteExec(s, spec)
			if strings.Contains(strings.ReplaceAll(q, "$$", ""), "$") {
				t.Errorf("QuoteExec(%q) = %s: a lone $ would be expanded", s, q)
			}
			unq := strings.ReplaceAll(q, "$$", "$")
			if !spec {
				unq = strings.ReplaceAll(unq, "%%", "%")
			}
			if s == ";" {
				continue // \; is systemd's own spelling
			}
			got, err := Split(unq)
			if err != nil || len(got) != 1 || got[0] != s {
				t.Errorf("QuoteExec(%q, %v) = %s, which splits to %q, %v", s, spec, q, got, err)
			}
		}
	}
	if QuoteExec("%i", true) != "%i" || QuoteExec("%i", false) != "%%i" {
		t.Error("specifiers are not kept or escaped as asked")
	}
}

func TestWrapCommand(t *testing.T) {
	words := []string{"/bin/x", "run", "--rm", "--name", "n"}
	for i := 0; i < 20; i++ {
		words = append(words, "--publish", "10000:10000")
	}
	got := WrapCommand("ExecStart=", words)
	for _, line := range strings.Split(got, "\n") {
		if len(line) > 100 {
			t.Errorf("line of %d columns: %q", len(line), line)
		}
		if strings.HasSuffix(strings.TrimSuffix(line, " \\"), "--publish") {
			t.Errorf("a flag is separated from its value: %q", line)
		}
	}
	f, err := Parse("u", strings.NewReader("[Service]\n"+got+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	e, _ := f.Section("Service").Last("ExecStart")
	if w, _ := Split(e.Value); !slices.Equal(w, words) {
		t.Errorf("the wrapped line reads back as %q", w)
	}
}
