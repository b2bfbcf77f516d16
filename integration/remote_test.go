package integration

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/matrixbox/matrixbox/internal/remote"
	"github.com/matrixbox/matrixbox/internal/repoconfig"
	"github.com/matrixbox/matrixbox/sandbox"
)

// kindWorker is a worker of a kind; remote says it is a remote one.
type kindWorker struct {
	name, kind string
	remote     bool
}

func (w kindWorker) Name() string { return w.name }
func (w kindWorker) Kind() string { return w.kind }
func (w kindWorker) New(context.Context, *sandbox.Config) (sandbox.Backend, func() error, error) {
	return nil, nil, errors.New("not started in these tests")
}

type remoteKindWorker struct{ kindWorker }

func (w remoteKindWorker) RemoteAddress() string { return "tcp://" + w.name + ":1234" }

func init() {
	// Remote buildkit workers without package workers, which this
	// package's tests do not import.
	remote.Register("buildkit", func(s remote.Spec) (sandbox.Worker, error) {
		if v, ok := s.Options["bad"]; ok {
			return nil, errors.New("bad option " + v)
		}
		return remoteKindWorker{kindWorker{name: s.Name, kind: "buildkit"}}, nil
	})
}

func TestRemoteEntries(t *testing.T) {
	s, err := parseRemoteEntry(envRemoteBuildkit, "buildkit", "farm=tcp://10.0.0.5:1234,tlsdir=/etc/bk,features=a|b")
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "farm" || s.Address != "tcp://10.0.0.5:1234" || s.Options["tlsdir"] != "/etc/bk" || s.Options["features"] != "a|b" || s.Kind != "buildkit" {
		t.Errorf("parsed %+v", s)
	}
	for _, bad := range []string{"farm", "=tcp://x:1", "farm=", "farm=tcp://x:1,tlsdir", "farm=tcp://x:1,a=1,a=2"} {
		if _, err := parseRemoteEntry(envRemoteBuildkit, "buildkit", bad); err == nil || !strings.Contains(err.Error(), envRemoteBuildkit) {
			t.Errorf("%q: error %v, want one naming %s", bad, err, envRemoteBuildkit)
		}
	}
}

func TestRemoteWorkersEnvOverConfig(t *testing.T) {
	for _, re := range remoteEnv {
		t.Setenv(re.env, "")
	}
	fc, err := repoconfig.Parse("matrixbox.yaml", []byte("remote:\n  a:\n    buildkit: tcp://from-file:1\n  b:\n    buildkit: tcp://b:1\n"))
	if err != nil {
		t.Fatal(err)
	}
	ws, err := remoteWorkers(fc)
	if err != nil || len(ws) != 2 {
		t.Fatalf("workers %v, %v; want a and b", ws, err)
	}
	t.Setenv(envRemoteBuildkit, "a=tcp://from-env:1\n c=tcp://c:1")
	ws, err = remoteWorkers(fc)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, w := range ws {
		names = append(names, w.Name()+"@"+w.(remote.Daemon).RemoteAddress())
	}
	if got := strings.Join(names, " "); got != "a@tcp://a:1234 c@tcp://c:1234 b@tcp://b:1234" {
		t.Errorf("workers %s; want the environment's a and c, then the file's b", got)
	}
	t.Setenv(envRemoteBuildkit, "a=tcp://x:1,bad=yes")
	if _, err := remoteWorkers(nil); err == nil || !strings.Contains(err.Error(), envRemoteBuildkit+": remote worker a: bad option yes") {
		t.Errorf("error %v, want one naming the variable, the worker and the option", err)
	}
}

func TestJoinRemote(t *testing.T) {
	local := []sandbox.Worker{kindWorker{name: "host"}, kindWorker{name: "bk", kind: "buildkit"}}
	farm := remoteKindWorker{kindWorker{name: "farm", kind: "buildkit"}}
	bk := remoteKindWorker{kindWorker{name: "bk", kind: "buildkit"}}
	ctd := remoteKindWorker{kindWorker{name: "ctd", kind: "containerd"}}
	got, notes, err := joinRemote(local, []sandbox.Worker{farm, bk, ctd})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, w := range got {
		names = append(names, w.Name())
	}
	if strings.Join(names, ",") != "host,bk,farm" || !remote.Is(got[1]) {
		t.Errorf("workers %v: want host, the remote bk in the local one's place, farm joining", names)
	}
	if n := strings.Join(notes, "\n"); !strings.Contains(n, "worker bk runs on the remote daemon at tcp://bk:1234") || !strings.Contains(n, "remote worker ctd (containerd) is not added: this Run has no containerd worker") {
		t.Errorf("notes:\n%s", n)
	}
	if _, _, err := joinRemote(local, []sandbox.Worker{remoteKindWorker{kindWorker{name: "bk", kind: "dockerd"}}}); err == nil {
		t.Error("a dockerd taking the place of a buildkit worker: no error")
	}
}

func TestRemoteConfig(t *testing.T) {
	fc, err := repoconfig.Parse("/repo/matrixbox.yaml", []byte(`remote:
  farm:
    buildkit: tcp://10.0.0.5:1234
    tlsdir: certs/bk
    features: [x, y]
  docker:
    dockerd: tcp://10.0.0.6:2376
    tlsverify: true
    certpath: /etc/docker
`))
	if err != nil {
		t.Fatal(err)
	}
	if len(fc.Remote) != 2 {
		t.Fatalf("remote: %+v", fc.Remote)
	}
	f, d := fc.Remote[0], fc.Remote[1]
	if f.Kind != "buildkit" || f.Address != "tcp://10.0.0.5:1234" || f.Options["tlsdir"] != "/repo/certs/bk" || f.Options["features"] != "x|y" || !strings.HasPrefix(f.Source, "/repo/matrixbox.yaml:2: remote.farm") {
		t.Errorf("farm: %+v", f)
	}
	if d.Kind != "dockerd" || d.Options["tlsverify"] != "true" || d.Options["certpath"] != "/etc/docker" {
		t.Errorf("docker: %+v", d)
	}
	for src, want := range map[string]string{
		"remote:\n  x:\n    tlsdir: /a\n":                                  "m.yaml:2: remote.x: give the daemon's kind and address",
		"remote:\n  x:\n    buildkit: tcp://a:1\n    dockerd: tcp://a:2\n": "m.yaml:4: remote.x.dockerd: a remote worker is one daemon",
		"remote:\n  x/y:\n    buildkit: tcp://a:1\n":                       "m.yaml:2: remote.x/y: worker name",
		"remote:\n  x:\n    buildkit: [a]\n":                               "m.yaml:3: remote.x.buildkit: want a string",
		"remote: [a]\n":                                                    "m.yaml:1: remote: want a mapping",
	} {
		if _, err := repoconfig.Parse("m.yaml", []byte(src)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want %q", src, err, want)
		}
	}
}
