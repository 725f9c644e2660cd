package rundir

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/systemd-docker/systemd-docker/supervisor/unit"
)

// rootRunDir is root's run directory, shared by every supervisor running
// as root: the name locks there keep two of them off one container name.
const rootRunDir = "/run/systemd-docker"

// runDir is the directory for our name locks and --notify sockets (see
// pickRunDir), made if missing (makeRunDir). euid is our effective uid.
func Dir(environ []string, euid int) (string, error) {
	dir, err := pickRunDir(environ, euid)
	if err != nil {
		return "", err
	}
	return dir, makeRunDir(dir, euid)
}

// makeRunDir makes dir if it is missing, mode 0700 (root's
// /run/systemd-docker: 0755 minus the umask, as always), and checks it
// (checkRunDir): made by someone else just before us, or earlier, it must
// pass the same test.
func makeRunDir(dir string, euid int) error {
	mode := os.FileMode(0o700)
	if dir == rootRunDir {
		mode = 0o755
	}
	if err := os.Mkdir(dir, mode); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("run directory %s: %w; %s", dir, err, runDirHint(dir))
	}
	if err := checkRunDir(dir, euid); err != nil {
		return fmt.Errorf("%w; %s", err, runDirHint(dir))
	}
	return nil
}

// runDirHint says what else to do when the run directory will not do.
func runDirHint(dir string) string {
	if dir == rootRunDir {
		return "systemd-docker makes it anew when it is missing"
	}
	return "or " + userRunDirHint
}

// userRunDirHint says how to give a user's supervisor a run directory.
// Not RuntimeDirectory=systemd-docker: that is root's directory, which
// systemd would hand to the unit's user and remove when the unit stops.
const userRunDirHint = "give the unit RuntimeDirectory=%N (systemd sets RUNTIME_DIRECTORY), or set XDG_RUNTIME_DIR to a directory of your own (mode 0700)"

// pickRunDir chooses the run directory: as root /run/systemd-docker;
// otherwise the first of systemd's RuntimeDirectory= ($RUNTIME_DIRECTORY,
// colon-separated when the unit lists several), else
// $XDG_RUNTIME_DIR/systemd-docker. There is no fallback to a directory
// every user may write in (/tmp), where another user could take our name
// locks, or plant a directory for the --notify socket that dockerd mounts.
//
// Root keeps /run/systemd-docker even when the unit has a
// RuntimeDirectory=: that one serves the container (it is often mounted
// into it), and one directory for all root's supervisors is what makes a
// name lock hold across units and a manual run.
func pickRunDir(environ []string, euid int) (string, error) {
	if euid == 0 {
		return rootRunDir, nil
	}
	if dirs := unit.Getenv(environ, "RUNTIME_DIRECTORY"); dirs != "" {
		dir, _, _ := strings.Cut(dirs, ":")
		if !filepath.IsAbs(dir) {
			return "", fmt.Errorf("RUNTIME_DIRECTORY=%s is not an absolute path; %s", dirs, userRunDirHint)
		}
		return dir, nil
	}
	if xdg := unit.Getenv(environ, "XDG_RUNTIME_DIR"); xdg != "" {
		if !filepath.IsAbs(xdg) {
			return "", fmt.Errorf("XDG_RUNTIME_DIR=%s is not an absolute path; %s", xdg, userRunDirHint)
		}
		return filepath.Join(xdg, "systemd-docker"), nil
	}
	return "", fmt.Errorf("not running as root, and neither RUNTIME_DIRECTORY nor XDG_RUNTIME_DIR is set: no private directory for the name lock and the --notify socket; %s", userRunDirHint)
}

// checkRunDir refuses a run directory that is a symlink, not a directory,
// not owned by euid, or writable by group or others: its owner, or whoever
// may write in it, could take our name locks or swap the directory of the
// --notify socket. Reading is harmless (the socket has a directory of mode
// 0700 of its own), so systemd's default RuntimeDirectoryMode=0755 passes.
// Its parent is not looked at: /run, $XDG_RUNTIME_DIR and the parent of a
// RuntimeDirectory= are writable only by root or by us.
func checkRunDir(dir string, euid int) error {
	var st unix.Stat_t
	if err := unix.Lstat(dir, &st); err != nil {
		return fmt.Errorf("run directory %s: %w", dir, err)
	}
	mode := st.Mode & 0o7777
	switch {
	case st.Mode&unix.S_IFMT == unix.S_IFLNK:
		return fmt.Errorf("run directory %s is a symlink; remove it", dir)
	case st.Mode&unix.S_IFMT != unix.S_IFDIR:
		return fmt.Errorf("run directory %s is not a directory; remove it", dir)
	case int(st.Uid) != euid:
		return fmt.Errorf("run directory %s belongs to uid %d, not to us (uid %d): someone else made it; remove it", dir, st.Uid, euid)
	case mode&0o022 != 0:
		return fmt.Errorf("run directory %s has mode %04o: group or others may write in it; chmod go-w %s", dir, mode, dir)
	}
	return nil
}
