package workers

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/matrixbox/matrixbox/internal/remote"
	"github.com/matrixbox/matrixbox/mirror"
	"github.com/matrixbox/matrixbox/sandbox"
)

func TestParseEndpoint(t *testing.T) {
	for raw, want := range map[string]endpoint{
		"unix:///run/buildkit/buildkitd.sock": {"unix", "/run/buildkit/buildkitd.sock"},
		"tcp://127.0.0.1:1234":                {"tcp", "127.0.0.1:1234"},
		"tcp://[::1]:2376":                    {"tcp", "[::1]:2376"},
	} {
		if got, err := parseEndpoint(raw, false); err != nil || got != want {
			t.Errorf("%s: %+v %v, want %+v", raw, got, err, want)
		}
	}
	if got, err := parseEndpoint("/run/containerd/containerd.sock", true); err != nil || got.network != "unix" {
		t.Errorf("bare containerd path: %+v %v", got, err)
	}
	for _, bad := range []string{"/run/x.sock", "tcp://host", "ssh://me@host", "docker-container://bk", "tcp://h:1/path", "unix://"} {
		if _, err := parseEndpoint(bad, false); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("%q: error %v, want one naming it", bad, err)
		}
	}
}

// Every wrong setting of a remote worker is found before a cell runs and
// names the setting.
func TestRemoteWorkerSettings(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		w    sandbox.Worker
		want string
	}{
		{RemoteBuildkit("farm", "tcp://127.0.0.1:1", WithBinary("/usr/bin/buildkitd")), "WithBinary"},
		{RemoteBuildkit("farm", "unix:///x.sock", WithTLSDir(dir)), "no ca.pem or ca.crt"},
		{RemoteBuildkit("farm", "unix:///x.sock", WithTLS(TLS{CA: "/etc/hostname"})), "TLS options are for tcp:// addresses"},
		{RemoteBuildkit("farm", "tcp://127.0.0.1:1", WithTLS(TLS{CA: filepath.Join(dir, "nope.pem")})), "nope.pem"},
		{RemoteBuildkit("farm", "tcp://127.0.0.1:1", WithTLS(TLS{Cert: "/a.pem"})), "together"},
		{RemoteBuildkit("a/b", "tcp://127.0.0.1:1"), `worker name "a/b"`},
		{RemoteDockerd("d", "tcp://127.0.0.1:1", WithImage("busybox")), "and workers.RemoteContainerd read it"},
		{RemoteContainerd("c", "/run/c.sock", WithNamespace("a..b")), `WithNamespace("a..b")`},
	} {
		err := c.w.(sandbox.Checker).Check()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Check() = %v, want an error with %q", c.w.Name(), err, c.want)
		}
	}
}

func TestRemoteFromSpec(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"ca.pem", "cert.pem", "key.pem"} {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("not PEM"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		spec remote.Spec
		want string
	}{
		{remote.Spec{Kind: kindBuildkit, Address: "tcp://127.0.0.1:1", Options: map[string]string{"namespace": "x"}}, `unknown option "namespace" for a buildkit daemon (known: features, tlscacert`},
		{remote.Spec{Kind: kindDockerd, Address: "tcp://127.0.0.1:1", Options: map[string]string{"tlsverify": "maybe"}}, `tlsverify="maybe": want true or false`},
		{remote.Spec{Kind: kindDockerd, Address: "tcp://127.0.0.1:1", Options: map[string]string{"certpath": dir}}, "give tlsverify=true"},
		{remote.Spec{Kind: kindDockerd, Address: "tcp://127.0.0.1:1", Options: map[string]string{"certpath": dir, "tlsverify": "1"}}, "TLS CA " + filepath.Join(dir, "ca.pem") + ": no PEM"},
		{remote.Spec{Kind: kindContainerd, Address: "tcp://127.0.0.1:1"}, "over its unix socket"},
		{remote.Spec{Kind: kindBuildkit, Address: "tcp://127.0.0.1:1", Options: map[string]string{"tlsdir": ""}}, "option tlsdir: empty value"},
	} {
		c.spec.Name, c.spec.Source = "w", "MATRIXBOX_REMOTE_X"
		_, err := remote.New(c.spec)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "MATRIXBOX_REMOTE_X: remote worker w: ") {
			t.Errorf("%+v: error %v, want MATRIXBOX_REMOTE_X: remote worker w: …%s…", c.spec, err, c.want)
		}
	}
	w, err := remote.New(remote.Spec{Name: "c", Kind: kindContainerd, Address: "/run/c.sock", Options: map[string]string{"features": "a|b", "namespace": "ci"}})
	if err != nil {
		t.Fatal(err)
	}
	if s := w.(sandbox.Supporter); !s.Supports("a") || !s.Supports("b") || s.Supports("c") {
		t.Error("features a|b not declared")
	}
	if remote.KindOf(w) != kindContainerd || !remote.Is(w) {
		t.Errorf("kind %q, remote %v", remote.KindOf(w), remote.Is(w))
	}
}

// A daemon that does not answer makes Check fail saying so: its cells are
// skipped (failed in strict mode) with that line.
func TestRemoteNotAnswering(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "none.sock")
	err := RemoteBuildkit("farm", "unix://"+sock).(sandbox.Checker).Check()
	if err == nil || !strings.Contains(err.Error(), "remote buildkit at unix://"+sock+" does not answer") {
		t.Errorf("Check() = %v", err)
	}
}

// TestRemoteMirrorOnLoopback: a remote daemon cannot reach a mirror on
// 127.0.0.1, and the backend's log names the variable that moves it
// (mirror.EnvListen, which workers writes out rather than import).
func TestRemoteMirrorOnLoopback(t *testing.T) {
	w := newRemote(kindBuildkit, "farm", "tcp://127.0.0.1:1", nil)
	cfg := &sandbox.Config{Mirror: "127.0.0.1:5000", Logs: sandbox.NewLogs()}
	w.logMirror(cfg)
	if got := cfg.Logs.Text(w.logName()); !strings.Contains(got, "set "+mirror.EnvListen+" to an address") {
		t.Errorf("log of a loopback mirror does not name %s:\n%s", mirror.EnvListen, got)
	}
}
