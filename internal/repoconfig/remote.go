package repoconfig

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/matrixbox/matrixbox/internal/remote"
)

// remoteKindKeys are the keys of a remote entry that give its kind, with
// the address as value.
var remoteKindKeys = []string{"buildkit", "dockerd", "containerd"}

// remotePathKeys are the options that name files; a relative path is
// taken from the config file's directory.
var remotePathKeys = []string{"certpath", "tlscacert", "tlscert", "tlsdir", "tlskey"}

// remote parses the remote key: a mapping of worker names to entries of
// one kind key (buildkit, dockerd, containerd) whose value is the address,
// and options, e.g.
//
//	remote:
//	  farm:
//	    buildkit: tcp://buildkit.ci:1234
//	    tlsdir: certs/buildkit
//	    features: [oci-layout]
//
// The options are checked by the kind's constructor when a Run makes the
// worker.
func (p parser) remote(fc *File, v *yaml.Node) error {
	return p.mapping(v, "remote", func(name string, k, e *yaml.Node) error {
		where := "remote." + name
		if name == "" || strings.ContainsAny(name, "/=, \t|") {
			return p.errf(k, where, "worker name %q is not a name", name)
		}
		s := remote.Spec{Name: name, Options: map[string]string{}, Source: fmt.Sprintf("%s:%d: %s", p.name, k.Line, where)}
		err := p.mapping(e, where, func(key string, _, val *yaml.Node) error {
			full := where + "." + key
			var value string
			switch {
			case key == "features" && val.Kind == yaml.SequenceNode:
				fs, _, err := p.strings(val, full)
				if err != nil {
					return err
				}
				value = strings.Join(fs, "|")
			default:
				v, err := p.scalar(val, full)
				if err != nil {
					return err
				}
				value = v
			}
			if slices.Contains(remoteKindKeys, key) {
				if s.Kind != "" {
					return p.errf(val, full, "a remote worker is one daemon: %s and %s both given", s.Kind, key)
				}
				s.Kind, s.Address = key, value
				return nil
			}
			if slices.Contains(remotePathKeys, key) && !filepath.IsAbs(value) {
				value = filepath.Join(filepath.Dir(p.name), value)
			}
			s.Options[key] = value
			return nil
		})
		if err != nil {
			return err
		}
		if s.Kind == "" {
			return p.errf(k, where, "give the daemon's kind and address: one of %s", strings.Join(remoteKindKeys, ", "))
		}
		fc.Remote = append(fc.Remote, s)
		return nil
	})
}
