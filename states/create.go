package states

import (
	"context"
	"fmt"
	"maps"
)

// create makes the container with our labels. Pulling the image happens
// here; an interrupted create leaves at most a container carrying our
// invocation label, which stop finds.
func (m *Machine) create(ctx context.Context) (Event, error) {
	spec := m.spec.Create
	spec.Labels = maps.Clone(spec.Labels)
	if spec.Labels == nil {
		spec.Labels = map[string]string{}
	}
	spec.Labels[LabelArgs] = m.spec.ArgsHash
	spec.Labels[LabelInvocation] = m.spec.Invocation
	id, err := m.ports.Docker.Create(ctx, spec)
	if err != nil {
		return "", fmt.Errorf("create container from image %q: %w", spec.Image, err)
	}
	m.facts.ContainerID = id
	m.ports.Log.Debug("container created", logContainer(id))
	return EvCreated, nil
}
