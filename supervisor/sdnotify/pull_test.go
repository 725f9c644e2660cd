package sdnotify

import (
	"context"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/zap"
)

func TestPullKeeperExtendsOnlyWhileProgressing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var sent [][]string
		p := &PullKeeper{image: "nginx:1.27", every: 5 * time.Second, grace: 20 * time.Second, extend: 10 * time.Second, log: zap.NewNop(),
			notify: func(lines ...string) error {
				mu.Lock()
				sent = append(sent, lines)
				mu.Unlock()
				return nil
			}}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { p.Run(ctx); close(done) }()

		p.Progress("abc123: Downloading 10MB/50MB")
		time.Sleep(5*time.Second + time.Millisecond)
		synctest.Wait()
		mu.Lock()
		if len(sent) != 1 || sent[0][0] != "EXTEND_TIMEOUT_USEC=10000000" ||
			!strings.Contains(sent[0][1], "nginx:1.27") || !strings.Contains(sent[0][1], "Downloading 10MB/50MB") {
			t.Fatalf("after progress: sent %q", sent)
		}
		mu.Unlock()

		// No new line for longer than the grace: the pull stalled, and
		// systemd's own timeout must be left to act.
		time.Sleep(30 * time.Second)
		synctest.Wait()
		mu.Lock()
		n := len(sent)
		mu.Unlock()
		time.Sleep(20 * time.Second)
		synctest.Wait()
		mu.Lock()
		if len(sent) != n {
			t.Errorf("a stalled pull was extended: %q", sent[n:])
		}
		mu.Unlock()

		p.Progress("Status: Downloaded newer image")
		time.Sleep(5 * time.Second)
		synctest.Wait()
		mu.Lock()
		if len(sent) != n+1 {
			t.Errorf("progress resumed but no extension: %d messages, want %d", len(sent), n+1)
		}
		mu.Unlock()
		cancel()
		<-done
	})
}
