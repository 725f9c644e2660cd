package supervisor

import (
	"strings"
	"testing"
)

func TestCheckContainerName(t *testing.T) {
	for _, ok := range []string{"", "web.service", "/web", "a1", "web-1_x.service", "db.2"} {
		if err := checkContainerName(ok); err != nil {
			t.Errorf("checkContainerName(%q): %v", ok, err)
		}
	}
	for _, tc := range []struct{ name, hint string }{
		{"web@1.service", "use --name %p-%i"},
		{"a", ""},
		{"-web", ""},
		{"web service", ""},
		{"wéb", ""},
	} {
		err := checkContainerName(tc.name)
		if err == nil {
			t.Errorf("checkContainerName(%q): no error", tc.name)
			continue
		}
		for _, want := range []string{`--name "` + tc.name + `"`, "[a-zA-Z0-9][a-zA-Z0-9_.-]", tc.hint} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("checkContainerName(%q) = %q, does not say %q", tc.name, err, want)
			}
		}
		if tc.hint == "" && strings.Contains(err.Error(), "%p-%i") {
			t.Errorf("checkContainerName(%q) = %q: the template hint without an '@'", tc.name, err)
		}
	}
}
