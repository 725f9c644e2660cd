# The installer image of systemd-docker (the CoreOS pattern): it holds only the
# static binary, and its entry point copies that binary into /opt/bin, so
#
#   docker run --rm -v /opt/bin:/opt/bin systemd-docker:VERSION
#
# installs /opt/bin/systemd-docker on the host (atomically, mode 0755).
# Build with `make image`: it runs `make build` first (a static binary,
# CGO_ENABLED=0), since this file compiles nothing (no base image needed).
FROM scratch
COPY bin/systemd-docker /systemd-docker
ENTRYPOINT ["/systemd-docker", "install", "/opt/bin"]
