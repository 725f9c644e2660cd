//go:build integration

package main

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// genFiles writes the generator figure's search directory in the box (on
// /run, a tmpfs, as systemd's generator directories are): 80 .container
// files with a health check, a network, a volume, [Install] and a drop-in
// each, 10 .network and 10 .volume files.
const genFiles = `set -e
d=/run/bench-units; rm -rf $d; mkdir -p $d; cd $d
for i in $(seq 0 9); do
  printf '[Network]\nSubnet=10.90.%s.0/24\n' $i > net$i.network
  printf '[Volume]\nLabel=a=b\n' > vol$i.volume
done
for i in $(seq 0 79); do
  n=$((i % 10))
  printf '[Unit]\nDescription=app %s\n[Container]\nImage=registry.example/app:%s\nPublishPort=%s:80\nEnvironment=A=1 "B=two words"\nVolume=vol%s.volume:/data\nNetwork=net%s.network\nHealthCmd=curl -fsS http://localhost/ || exit 1\nHealthInterval=10s\nWatchdog=30s\n[Install]\nWantedBy=multi-user.target\n' $i $i $((8000 + i)) $n $n > app$i.container
  mkdir app$i.container.d; printf '[Container]\nMemory=256m\n' > app$i.container.d/10-mem.conf
done`

// figGenerator times the generator over 100 files, as systemd runs it (a
// fresh output directory each round), against the binary's own start.
func (bn *bench) figGenerator() []*row {
	r := &row{figure: "generator, 100 files", unit: "ms", target: "A < 50 ms", context: true,
		check: func(a, b, ratio float64) bool { return a < 50 }}
	r.notes = append(r.notes, "A: `SYSTEMD_DOCKER_UNIT_PATH=/run/bench-units /share/systemd-docker generator OUT OUT OUT` (timed inside the box with $EPOCHREALTIME; a new OUT on /run each round) over 80 .container files (health check, Network=, Volume=, [Install], one drop-in each), 10 .network and 10 .volume files; B: `/share/systemd-docker version`, the same binary's start, for context; at least 15 rounds.")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := bn.sh(ctx, genFiles); err != nil {
		r.errf("writing the files: %v", err)
		return []*row{r}
	}
	for i := range bn.cfg.exitRounds() {
		out := fmt.Sprintf("/run/bench-gen-%d", i)
		if _, stderr, err := bn.b.Exec("mkdir", "-p", out); err != nil {
			r.errf("mkdir %s: %v: %s", out, err, stderr)
			return []*row{r}
		}
		d, err := bn.timed(time.Minute, "/tmp/bench-gen", "env", "SYSTEMD_DOCKER_UNIT_PATH=/run/bench-units", sd, "generator", out, out, out)
		if err != nil {
			r.errf("A round %d: %v", i+1, err)
		} else if n, _ := bn.sh(ctx, `ls "$1"/*.service | wc -l`, out); strings.TrimSpace(n) != "100" {
			r.errf("A round %d: %s units written, want 100", i+1, strings.TrimSpace(n))
		}
		r.a = append(r.a, ms(d))
		if d, err = bn.timed(time.Minute, "/tmp/bench-gen", sd, "version"); err != nil {
			r.errf("B round %d: %v", i+1, err)
		}
		r.b = append(r.b, ms(d))
	}
	_, _ = bn.sh(ctx, `rm -rf /run/bench-units /run/bench-gen-*`)
	return []*row{r}
}
