package unitfile

import (
	"bytes"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	in := "# comment\n; also\n[Unit]\nDescription = A web server  \n\n[Container]\nImage=nginx\nExec=a \\\n  # skipped inside a continuation\n  b \\\n  c\nEnvironment=\n[Unit]\nAfter=x.service\n"
	f, err := Parse("web.container", strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := f.Write(&out); err != nil {
		t.Fatal(err)
	}
	want := "[Unit]\nDescription=A web server\nAfter=x.service\n\n[Container]\nImage=nginx\nExec=a  b  c\nEnvironment=\n"
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
	e, ok := f.Section("Container").Last("Exec")
	if !ok || e.Pos != (Pos{"web.container", 8}) {
		t.Errorf("Exec at %v (set %v), want web.container:8", e.Pos, ok)
	}
	if _, set := f.Section("Container").Last("Environment"); set {
		t.Error("an empty assignment counts as set")
	}
	if !f.Section("Container").Has("Environment") || f.Section("Container").Has("Nope") {
		t.Error("Has is wrong")
	}
	if f.Section("Nope").All() != nil || f.Section("Nope").Has("x") {
		t.Error("a missing section has entries")
	}
}

func TestParseErrors(t *testing.T) {
	for in, want := range map[string]string{
		"Image=x\n":                "f:1: assignment \"Image=x\" before any [Section] header",
		"[Container\n":             "f:1: bad section header",
		"[]\n":                     "f:1: bad section header",
		"[A]\nno equals sign\n":    "f:2: bad line",
		"[A]\n=value\n":            "f:2: bad line",
		"[A]\nKey With Space=1\n":  "f:2: bad line",
		"[A]\nK=\xff\n":            "f:2: the line is not UTF-8",
		"[A]\nK=a\x00b\n":          "f:2: the line is not UTF-8",
		"[A]\n\n\nK=1\nL \\\n x\n": "f:5: bad line",
		"[A]\nK=" + strings.Repeat("x", maxLine+1) + "\n": "f:2: read:",
		"[A]\nK=a\\\\": "f:2: K= ends in a backslash",
	} {
		_, err := Parse("f", strings.NewReader(in))
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("Parse(%.30q) = %v, want %q…", in, err, want)
		}
	}
}

func TestMerge(t *testing.T) {
	f, _ := Parse("main", strings.NewReader("[Container]\nImage=a\nLabel=x=1\n"))
	d, _ := Parse("drop", strings.NewReader("[Container]\nImage=b\n[Service]\nRestart=always\n"))
	f.Merge(d)
	if e, _ := f.Section("Container").Last("Image"); e.Value != "b" || e.Pos.Path != "drop" {
		t.Errorf("Image = %+v, want b from the drop-in", e)
	}
	if e, _ := f.Section("Service").Last("Restart"); e.Value != "always" {
		t.Errorf("the drop-in's new section was not added: %+v", f.Sections)
	}
}
