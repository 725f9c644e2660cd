package runargs

import (
	"slices"
	"strings"
	"testing"
)

// FuzzParse feeds Parse argument lists written as one string with the
// arguments separated by NUL bytes.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"--rm\x00--name\x00x\x00testbox\x00echo\x00--rm\x00-d",
		"-dit\x00-p\x0080:80\x00nginx",
		"-itp80:80\x00-m512m\x00-e=A\x00img",
		"--\x00img\x00--\x00-x",
		"--stop-timeout\x0030\x00--restart=always\x00img",
		"--future=1\x00img",
		"-d=false\x00-td=1\x00img",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		args := strings.Split(in, "\x00")
		a, err := Parse(args)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error %T is not *Error", err)
			}
			return
		}
		n := len(args) - len(a.Command)
		if n < 1 || !slices.Equal(args[n:], a.Command) {
			t.Fatalf("Command %q is not a suffix of %q", a.Command, args)
		}
		if args[n-1] != a.Image {
			t.Fatalf("Image %q is not the argument before Command in %q", a.Image, args)
		}
		if a.Image == "" || a.Image[0] == '-' {
			t.Fatalf("bad image %q", a.Image)
		}
		if len(a.Options) > n-1 {
			t.Fatalf("more options than arguments: %q from %q", a.Options, args)
		}
		roundTrip(t, a)
	})
}
