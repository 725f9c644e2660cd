// Package unitgen turns declarative container files into systemd units: a
// systemd generator (systemd.generator(7)) for Docker with the file format
// of Podman's Quadlet (podman-systemd.unit(5)), documented in
// systemd-docker.container(5).
//
//   - NAME.container → NAME.service, running `systemd-docker run` with the
//     docker run options the [Container] keys say;
//   - NAME.network → NAME-network.service (docker network create);
//   - NAME.volume → NAME-volume.service (docker volume create).
//
// The generator never talks to Docker and writes only into its output
// directory: a file it cannot translate exactly gets no unit and one
// message per problem, naming file:line and the key.
package unitgen
