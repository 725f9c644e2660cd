package unitgen

import (
	"os"
	"regexp"
	"testing"

	"github.com/systemd-docker/systemd-docker/unitgen/unitfile"
)

// TestGoldenCoversEveryKey: each supported key is in the keys case, each
// refused one in the refused case, so a new key needs a golden file.
func TestGoldenCoversEveryKey(t *testing.T) {
	read := func(glob string) string {
		var all string
		files, _ := os.ReadDir("testdata/cases/" + glob)
		for _, f := range files {
			b, _ := os.ReadFile("testdata/cases/" + glob + "/" + f.Name())
			all += string(b)
		}
		return all
	}
	supported, refusedText := read("keys"), read("refused")
	for kind, table := range map[string][]Key{"Container": ContainerKeys, "Network": NetworkKeys, "Volume": VolumeKeys} {
		for _, k := range table {
			text := supported
			if k.Refused != "" {
				text = refusedText
			}
			if !regexp.MustCompile(`(?m)^` + k.Name + `=`).MatchString(text) {
				t.Errorf("[%s] %s= is in no file of testdata/cases/%s", kind, k.Name, map[bool]string{true: "refused", false: "keys"}[k.Refused != ""])
			}
			if k.Maps == "" && k.Refused == "" || k.apply == nil && k.Refused == "" {
				t.Errorf("[%s] %s: no Maps or apply", kind, k.Name)
			}
		}
	}
}

func TestEffective(t *testing.T) {
	e := func(k, v string) unitfile.Entry { return unitfile.Entry{Key: k, Value: v} }
	entries := []unitfile.Entry{e("A", "1"), e("L", "x"), e("A", "2"), e("L", ""), e("L", "y"), e("B", "")}
	for i, want := range map[int][2]bool{0: {false, false}, 1: {false, false}, 2: {true, true}, 4: {true, true}, 5: {false, false}} {
		if got := effective(entries, i, false); got != want[0] {
			t.Errorf("effective(%d, single) = %v", i, got)
		}
		if got := effective(entries, i, true); i != 0 && got != want[1] {
			t.Errorf("effective(%d, multi) = %v", i, got)
		}
	}
	if !effective(entries, 0, true) {
		t.Error("a list value is dropped by a later value")
	}
}

func TestSearchPath(t *testing.T) {
	if got := SearchPath(""); len(got) != 3 || got[0] != "/run/systemd-docker/units" {
		t.Errorf("default search path %q", got)
	}
	if got := SearchPath("/a::/b"); len(got) != 2 || got[0] != "/a" || got[1] != "/b" {
		t.Errorf("SearchPath(/a::/b) = %q", got)
	}
}
