package unitgen

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/systemd-docker/systemd-docker/unitgen/unitfile"
)

// resolve looks up NAME.KIND among the loaded files: the name Docker knows
// it by, and its unit, which this one then requires.
func (c *plan) resolve(ref string) (string, error) {
	src := c.all[ref]
	if src == nil {
		return "", fmt.Errorf("%s is not in the search path (no such file, or it could not be read)", ref)
	}
	if _, inst, tmpl := src.template(); tmpl && inst == "" {
		return "", fmt.Errorf("%s is a template: refer to an instance (NAME@INSTANCE.%s)", ref, src.Kind)
	}
	name := objectName(src)
	if strings.Contains(name, "%") {
		return "", fmt.Errorf("%s names its container with a specifier (%s): refer to it by the name docker knows", ref, name)
	}
	c.deps = append(c.deps, src.Unit())
	return name, nil
}

// objectName is the Docker name of what src makes: its *Name= key, else
// systemd-NAME (the default Quadlet users know).
func objectName(src *Source) string {
	key := map[string]string{KindContainer: "ContainerName", KindNetwork: "NetworkName", KindVolume: "VolumeName"}[src.Kind]
	if e, ok := src.File.Section(sectionOf(src.Kind)).Last(key); ok {
		return e.Value
	}
	if prefix, inst, ok := strings.Cut(src.Name, "@"); ok {
		return "systemd-" + prefix + "_" + inst // systemd-%p_%i of the instance
	}
	return "systemd-" + src.Name
}

func sectionOf(kind string) string {
	return map[string]string{KindContainer: "Container", KindNetwork: "Network", KindVolume: "Volume"}[kind]
}

// refKind returns KIND when s names a NAME.KIND file.
func refKind(s string) string {
	for _, k := range kinds {
		if strings.HasSuffix(s, "."+k) && len(s) > len(k)+1 {
			return k
		}
	}
	return ""
}

// hostPath resolves a relative host path (./x, ../x) against the directory
// of the file that names it, as Quadlet does.
func (c *plan) hostPath(p string) string {
	if p == "." || p == ".." || strings.HasPrefix(p, "./") || strings.HasPrefix(p, "../") {
		return filepath.Join(filepath.Dir(c.src.Path), p)
	}
	return p
}

func applyVolume(c *plan, e unitfile.Entry) error {
	src, rest, _ := strings.Cut(e.Value, ":")
	src = c.hostPath(src)
	if refKind(src) == KindVolume {
		name, err := c.resolve(src)
		if err != nil {
			return err
		}
		src = name
	}
	if rest != "" {
		src += ":" + rest
	}
	c.flag("--volume", src)
	return nil
}

func applyMount(c *plan, e unitfile.Entry) error {
	fields := strings.Split(e.Value, ",")
	kind := "volume" // docker's default type
	for _, f := range fields {
		if v, ok := strings.CutPrefix(f, "type="); ok {
			kind = v
		}
	}
	for i, f := range fields {
		k, v, ok := strings.Cut(f, "=")
		switch {
		case !ok || k != "source" && k != "src":
		case kind == "volume" && refKind(v) == KindVolume:
			name, err := c.resolve(v)
			if err != nil {
				return err
			}
			fields[i] = k + "=" + name
		case kind == "bind":
			fields[i] = k + "=" + c.hostPath(v)
		}
	}
	c.flag("--mount", strings.Join(fields, ","))
	return nil
}

func applyNetwork(c *plan, e unitfile.Entry) error {
	v, opts, _ := strings.Cut(e.Value, ":")
	if refKind(v) != KindNetwork || opts == "" {
		v, opts = e.Value, ""
	}
	switch refKind(v) {
	case KindNetwork:
		name, err := c.resolve(v)
		if err != nil {
			return err
		}
		v = name
		if opts != "" {
			v = "name=" + name + "," + opts // docker 25's long form
		}
	case KindContainer:
		name, err := c.resolve(v)
		if err != nil {
			return err
		}
		v = "container:" + name
	}
	c.flag("--network", v)
	return nil
}

// depKeys are the [Unit] and [Install] settings that name units: a
// NAME.container, .network or .volume in them becomes the generated unit.
var depKeys = map[string]bool{
	"After": true, "Before": true, "Requires": true, "Wants": true, "BindsTo": true, "PartOf": true,
	"Requisite": true, "Upholds": true, "Conflicts": true, "OnFailure": true, "OnSuccess": true,
	"PropagatesReloadTo": true, "ReloadPropagatedFrom": true, "PropagatesStopTo": true, "StopPropagatedFrom": true,
	"JoinsNamespaceOf": true, "WantedBy": true, "RequiredBy": true, "UpheldBy": true, "Also": true,
}

// translateDeps rewrites the unit names in a dependency value.
func translateDeps(value string) string {
	words := strings.Fields(value)
	for i, w := range words {
		if k := refKind(w); k != "" {
			src := Source{Name: strings.TrimSuffix(w, "."+k), Kind: k}
			words[i] = src.Unit()
		}
	}
	return strings.Join(words, " ")
}
