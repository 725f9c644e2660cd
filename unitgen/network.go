package unitgen

import (
	"errors"
	"fmt"

	"github.com/systemd-docker/systemd-docker/unitgen/unitfile"
)

// NetworkKeys are the keys of [Network].
var NetworkKeys = []Key{
	{Name: "NetworkName", Maps: "the network's name (default systemd-NAME)", apply: applyObjectName},
	valueKey("Driver", "--driver"),
	repeatKey("Subnet", "--subnet"),
	repeatKey("Gateway", "--gateway"),
	repeatKey("IPRange", "--ip-range"),
	boolKey("Internal", "--internal"),
	boolKey("IPv6", "--ipv6"),
	valueKey("IPAMDriver", "--ipam-driver"),
	listKey("Label", "--label"),
	repeatKey("Options", "--opt"),
	{Name: "GlobalArgs", Maps: "--host/-H: DOCKER_HOST=; --config: DOCKER_CONFIG=", Multi: true, apply: applyGlobalArgs},
	{Name: "DockerArgs", Maps: "docker network create options, as written", Multi: true, apply: applyDockerArgs},
	refused("DNS", "docker network create has no --dns: set DNS= in each .container"),
	refused("DisableDNS", "Docker always runs its embedded DNS server on user-defined networks"),
	refused("InterfaceName", "docker network create has no --interface-name: write Options=com.docker.network.bridge.name=NAME"),
	refused("NetworkDeleteOnStop", "the network is kept when the unit stops"),
	refused("ContainersConfModule", "containers.conf modules are Podman's configuration"),
	refused("PodmanArgs", "this is Docker: write DockerArgs="),
}

// VolumeKeys are the keys of [Volume].
var VolumeKeys = []Key{
	{Name: "VolumeName", Maps: "the volume's name (default systemd-NAME)", apply: applyObjectName},
	valueKey("Driver", "--driver"),
	listKey("Label", "--label"),
	{Name: "Options", Maps: "--opt o=OPTIONS (mount options of the local driver)", apply: volumeOpt("o=")},
	{Name: "Device", Maps: "--opt device=DEVICE", apply: volumeOpt("device=")},
	{Name: "Type", Maps: "--opt type=TYPE", apply: volumeOpt("type=")},
	{Name: "Copy", Maps: "true only (Docker copies the image's files into a new volume; for false write :nocopy in the container's Volume=)", apply: applyCopy},
	{Name: "GlobalArgs", Maps: "--host/-H: DOCKER_HOST=; --config: DOCKER_CONFIG=", Multi: true, apply: applyGlobalArgs},
	{Name: "DockerArgs", Maps: "docker volume create options, as written", Multi: true, apply: applyDockerArgs},
	refused("User", "docker volume create has no owner option: set it with Options=uid=… for a tmpfs, or chown in the image"),
	refused("Group", "docker volume create has no owner option: set it with Options=gid=… for a tmpfs, or chown in the image"),
	refused("Image", "Docker has no image volumes"),
	refused("ContainersConfModule", "containers.conf modules are Podman's configuration"),
	refused("PodmanArgs", "this is Docker: write DockerArgs="),
}

func applyObjectName(_ *plan, e unitfile.Entry) error {
	if !containerName.MatchString(e.Value) {
		return fmt.Errorf("%q is not a name Docker accepts: use letters, digits, _ . and -", e.Value)
	}
	return nil // objectName reads it, for this unit and for references
}

func volumeOpt(prefix string) func(*plan, unitfile.Entry) error { return prefixed("--opt", prefix) }

func applyCopy(_ *plan, e unitfile.Entry) error {
	b, err := parseBool(e.Value)
	if err == nil && !b {
		return errors.New("docker volume create cannot turn copying off: write Volume=NAME.volume:/path:nocopy in the .container")
	}
	return err
}

// checkDevice: the local driver mounts Device= with Type= and Options=;
// without a device they mean nothing (Quadlet refuses them too).
func (c *plan) checkDevice(ps *problems) {
	if _, ok := c.keys["Device"]; ok {
		return
	}
	for _, k := range []string{"Type", "Options"} {
		if e, ok := c.keys[k]; ok {
			ps.add(e, "needs Device=: the local driver mounts DEVICE of this type with these options")
		}
	}
}
