package rundir

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestNameLockIsExclusive(t *testing.T) {
	dir := t.TempDir()
	first, err := Lock(dir, "web.service")
	if err != nil {
		t.Fatal(err)
	}
	// flock locks belong to the open file description: a second open in
	// this process conflicts just as another process would.
	_, err = Lock(dir, "web.service")
	if err == nil {
		t.Fatal("second lock of the same name succeeded")
	}
	for _, want := range []string{`"web.service"`, "already supervised", "pid " + strconv.Itoa(os.Getpid()), "--name"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if other, err := Lock(dir, "db.service"); err != nil {
		t.Errorf("another name: %v", err)
	} else {
		other.Unlock()
	}
	first.Unlock()
	again, err := Lock(dir, "web.service")
	if err != nil {
		t.Fatalf("after unlock: %v", err)
	}
	again.Unlock()
}

func TestNameLockReleasedWhenHolderDies(t *testing.T) {
	dir := t.TempDir()
	path := dir + "/name-x.lock"
	// A child takes the lock with flock(1)-like behaviour via a shell
	// holding the file open; killing it must free the name.
	if _, err := exec.LookPath("flock"); err != nil {
		t.Skip("flock(1) not installed")
	}
	cmd := exec.Command("flock", "-o", path, "sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	// Wait until the child holds it.
	for i := 0; ; i++ {
		l, err := Lock(dir, "x")
		if err != nil {
			break
		}
		l.Unlock()
		if i > 500 {
			t.Fatal("child never took the lock")
		}
		exec.Command("sleep", "0.01").Run()
	}
	cmd.Process.Kill()
	cmd.Wait()
	l, err := Lock(dir, "x")
	if err != nil {
		t.Fatalf("after the holder died: %v", err)
	}
	l.Unlock()
}

func TestSafeFileName(t *testing.T) {
	if got := safeFileName("a/b\x00c"); got != "a_b_c" {
		t.Errorf("safeFileName = %q", got)
	}
}

func TestNameLockLeavesNoFile(t *testing.T) {
	dir := t.TempDir()
	l, err := Lock(dir, "web.service")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "name-web.service.lock")
	if b, err := os.ReadFile(path); err != nil || strings.TrimSpace(string(b)) != strconv.Itoa(os.Getpid()) {
		t.Errorf("lock file while held: %q, %v; want our pid", b, err)
	}
	l.Unlock()
	if _, err := os.Lstat(path); !os.IsNotExist(err) {
		t.Errorf("lock file left after Unlock: %v", err)
	}
}

// A newcomer that opened the file just before the holder removed it, and
// locks it just after, must not hold the name beside the next holder.
func TestNameLockNewcomerOfARemovedFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "name-x.lock")
	holder, err := Lock(dir, "x")
	if err != nil {
		t.Fatal(err)
	}
	late, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer late.Close()
	holder.Unlock()
	next, err := Lock(dir, "x")
	if err != nil {
		t.Fatal(err)
	}
	defer next.Unlock()
	if locked, err := lockOpened(late, path, "x"); locked || err != nil {
		t.Errorf("lockOpened of the removed file = %v, %v; want false, nil (open the path again)", locked, err)
	}
	// And with nobody at the path yet, the newcomer's retry creates it.
	next.Unlock()
	again, err := Lock(dir, "x")
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	again.Unlock()
}

func TestLockFileName(t *testing.T) {
	fits := "a" + strings.Repeat("b", 244) // name-<it>.lock is 255 bytes: NAME_MAX
	long := "a" + strings.Repeat("b", 249)
	tests := []struct {
		name, want string // want "" : the hashed form
	}{
		{"web.service", "name-web.service.lock"},
		{"/web.service", "name-web.service.lock"},
		{fits, "name-" + fits + ".lock"},
		{long, ""},
		{"/" + long, ""},
	}
	for _, tt := range tests {
		got := lockFileName(tt.name)
		if tt.want != "" {
			if got != tt.want {
				t.Errorf("lockFileName(%d bytes) = %q, want %q", len(tt.name), got, tt.want)
			}
			continue
		}
		if len(got) > 255 || !strings.HasPrefix(got, "name-"+long[:64]+"+") || !strings.HasSuffix(got, ".lock") {
			t.Errorf("lockFileName(%d bytes) = %q, want name-<its first 64 bytes>+<hash>.lock", len(tt.name), got)
		}
	}
	if lockFileName(long) != lockFileName("/"+long) {
		t.Error("a long name and the same with docker's leading slash have different lock files")
	}
	if other := long[:249] + "c"; lockFileName(long) == lockFileName(other) {
		t.Errorf("two long names differing in their last byte share the lock file %q", lockFileName(long))
	}
}

// Docker sets no length limit on container names: a name too long for
// name-NAME.lock still gets a lock, exclusive as any other.
func TestNameLockLongName(t *testing.T) {
	dir := t.TempDir()
	long := "a" + strings.Repeat("b", 249)
	l, err := Lock(dir, long)
	if err != nil {
		t.Fatalf("lock of a %d-byte name: %v", len(long), err)
	}
	defer l.Unlock()
	if _, err := Lock(dir, "/"+long); err == nil || !strings.Contains(err.Error(), "already supervised") {
		t.Errorf("second lock of the same long name: %v, want already supervised", err)
	}
	other, err := Lock(dir, long[:249]+"c")
	if err != nil {
		t.Fatalf("another long name with the same beginning: %v", err)
	}
	other.Unlock()
}

// "/web" is docker's spelling of "web": one container, one lock.
func TestNameLockLeadingSlash(t *testing.T) {
	dir := t.TempDir()
	l, err := Lock(dir, "web")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Unlock()
	if _, err := Lock(dir, "/web"); err == nil {
		t.Error(`"/web" locked while "web" is held`)
	}
}

// The lock file is 0644 whatever the umask, as README says.
func TestNameLockFileMode(t *testing.T) {
	for _, umask := range []int{0o022, 0o077} {
		dir := t.TempDir()
		old := unix.Umask(umask)
		l, err := Lock(dir, "web")
		unix.Umask(old)
		if err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(filepath.Join(dir, "name-web.lock"))
		l.Unlock()
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o644 {
			t.Errorf("umask %04o: lock file mode %v, want 0644", umask, fi.Mode().Perm())
		}
	}
}
