package workers_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/matrixbox/matrixbox/internal/testkit"
)

// This file starts daemons the way their owners would, outside matrixbox:
// in the test's own process group, in no cgroup of matrixbox's, with no
// MATRIXBOX_ variable, each under strace, which records every signal the
// daemon and its children receive and who sent it. A test then proves
// that matrixbox never signalled its daemon: no signal in the record was
// sent by the test process or by its guard (the only processes of
// matrixbox that signal anything), the daemon still runs, and, as a
// control, the SIGTERM the test sends last is in the record, sent by the
// test process.

// externalDaemon is a daemon started by a test, not by matrixbox.
type externalDaemon struct {
	name  string
	cmd   *exec.Cmd // strace, whose child the daemon is
	pid   int       // the daemon's
	trace string    // strace's output file
	out   *testkit.Buffer
	done  chan error
}

// startExternal runs argv under strace and waits until its output matches
// ready; it returns the daemon and the first submatch of ready (e.g. the
// port it listens on). A cleanup stops the daemon with the control SIGTERM.
func startExternal(t *testing.T, name string, ready *regexp.Regexp, argv ...string) (*externalDaemon, string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the daemons need root")
	}
	strace, err := exec.LookPath("strace")
	if err != nil {
		t.Skip("strace, which witnesses the daemon's signals, is not installed: apt-get install strace")
	}
	if _, err := exec.LookPath(argv[0]); err != nil && !strings.Contains(argv[0], "/") {
		t.Skipf("%s not installed: %v", argv[0], err)
	}
	d := &externalDaemon{name: name, trace: filepath.Join(t.TempDir(), name+".strace"), out: &testkit.Buffer{}, done: make(chan error, 1)}
	args := append([]string{"-f", "--seccomp-bpf", "-qq", "-e", "trace=none", "-e", "signal=all", "-o", d.trace, "--"}, argv...)
	d.cmd = exec.Command(strace, args...)
	// The environment without matrixbox's variables, as a daemon started
	// by its owner would have it.
	d.cmd.Env = testkit.Environ(testkit.MatrixboxVar)
	if strings.Contains(argv[0], "/") {
		// Installed as its owner would: its helpers (containerd's shim)
		// beside it on PATH.
		d.cmd.Env = append(d.cmd.Env, "PATH="+filepath.Dir(argv[0])+string(os.PathListSeparator)+os.Getenv("PATH"))
	}
	d.cmd.Stdout, d.cmd.Stderr = d.out, d.out
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := d.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() { d.done <- d.cmd.Wait() }()
	t.Cleanup(func() { d.stop(t) })
	var m []string
	testkit.WaitFor(t, 3*time.Minute, fmt.Sprintf("%s to print %q", name, ready), func() (string, bool) {
		if m = ready.FindStringSubmatch(d.out.String()); m != nil {
			return "", true
		}
		select {
		case err := <-d.done:
			d.done <- err
			t.Fatalf("%s exited before it was ready (%v):\n%s", name, err, d.out)
		default:
		}
		return d.out.String(), false
	})
	d.pid = childOf(d.cmd.Process.Pid)
	if d.pid == 0 {
		t.Fatalf("%s: no daemon process under strace", name)
	}
	sub := ""
	if len(m) > 1 {
		sub = m[1]
	}
	return d, sub
}

// childOf is the first child of pid.
func childOf(pid int) int {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	n, _ := strconv.Atoi(f[0])
	return n
}

// checkUntouched asserts that the daemon runs, sits in no cgroup of
// matrixbox's, and has received no signal yet from this test process or
// its guard (the record is read again after the control in stop).
func (d *externalDaemon) checkUntouched(t *testing.T) {
	t.Helper()
	st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", d.pid))
	if err != nil || bytes.Contains(st, []byte(") Z ")) {
		t.Fatalf("%s (pid %d) no longer runs after the Run: %v\n%s", d.name, d.pid, err, d.out)
	}
	cg, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", d.pid))
	if bytes.Contains(cg, []byte("/matrixbox/")) {
		t.Errorf("%s is in a cgroup of matrixbox's:\n%s", d.name, cg)
	}
}

// stop sends the control SIGTERM and waits for the daemon; then the record
// must hold that SIGTERM, from this process, and no other signal from this
// process or its guard. (Position in the record proves nothing: pending
// signals are taken lowest number first.)
func (d *externalDaemon) stop(t *testing.T) {
	t.Helper()
	if d.pid == 0 {
		_ = syscall.Kill(-d.cmd.Process.Pid, syscall.SIGKILL)
		<-d.done
		return
	}
	if err := syscall.Kill(d.pid, syscall.SIGTERM); err != nil {
		t.Errorf("control SIGTERM to %s: %v", d.name, err)
	}
	select {
	case <-d.done:
	case <-time.After(2 * time.Minute):
		_ = syscall.Kill(-d.cmd.Process.Pid, syscall.SIGKILL)
		<-d.done
		t.Errorf("%s did not stop within 2 minutes of SIGTERM; killed", d.name)
	}
	// What a killed daemon may leave mounted under its directories is the
	// test's to remove; a clean stop leaves nothing.
	sigs, err := readSignals(d.trace)
	if err != nil {
		t.Fatalf("read the signal record of %s: %v", d.name, err)
	}
	self := os.Getpid()
	guards := guardPids(self)
	control := false
	for _, s := range sigs {
		switch {
		case s.from == self && s.name == "SIGTERM" && !control:
			control = true
		case s.from == self || guards[s.from]:
			t.Errorf("%s received %s from pid %d (this test process or its guard), which is not the control: %s", d.name, s.name, s.from, s.line)
		}
	}
	if !control {
		t.Errorf("the record of %s lacks the control SIGTERM from pid %d: the witness does not work; record:\n%s", d.name, self, sigLines(sigs))
	}
}

type signalSeen struct {
	to, from int // the thread that took it, the sender
	name     string
	line     string
}

var sigLine = regexp.MustCompile(`^(\d+)\s+--- (SIG\w+) \{si_signo=\w+, si_code=\w+, si_pid=(\d+)`)

// readSignals parses strace -f output: "<tid> --- SIGTERM {si_signo=...,
// si_code=SI_USER, si_pid=<sender>, ...} ---".
func readSignals(path string) ([]signalSeen, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []signalSeen
	for _, l := range strings.Split(string(b), "\n") {
		m := sigLine.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		to, _ := strconv.Atoi(m[1])
		from, _ := strconv.Atoi(m[3])
		out = append(out, signalSeen{to: to, from: from, name: m[2], line: l})
	}
	return out, nil
}

func sigLines(ss []signalSeen) string {
	var b strings.Builder
	for _, s := range ss {
		if s.name != "SIGURG" && s.name != "SIGCHLD" {
			b.WriteString(s.line + "\n")
		}
	}
	return b.String()
}

// guardPids are the guards of test process pid (MATRIXBOX_GUARD_FOR).
func guardPids(pid int) map[int]bool {
	want := []byte(fmt.Sprintf("MATRIXBOX_GUARD_FOR=%d\x00", pid))
	out := map[int]bool{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if env, _ := os.ReadFile("/proc/" + e.Name() + "/environ"); bytes.Contains(env, want) {
			out[n] = true
		}
	}
	return out
}

// testPKI is a CA and the server and client certificates it signed, as PEM
// files: ca.pem, server.pem, server-key.pem, and cert.pem and key.pem
// (the client's, named as DOCKER_CERT_PATH and buildctl --tlsdir expect).
type testPKI struct {
	dir                                  string
	ca, serverCert, serverKey, cert, key string
}

func newPKI(t *testing.T) testPKI {
	t.Helper()
	dir := t.TempDir()
	p := testPKI{dir: dir,
		ca: filepath.Join(dir, "ca.pem"), serverCert: filepath.Join(dir, "server.pem"), serverKey: filepath.Join(dir, "server-key.pem"),
		cert: filepath.Join(dir, "cert.pem"), key: filepath.Join(dir, "key.pem")}
	caKey := newKey(t)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "matrixbox test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, p.ca, "CERTIFICATE", caDER)
	issue := func(serial int64, cn string, usage x509.ExtKeyUsage, certPath, keyPath string) {
		k := newKey(t)
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
		}
		if usage == x509.ExtKeyUsageServerAuth {
			tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
			tmpl.DNSNames = []string{"localhost"}
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		writePEM(t, certPath, "CERTIFICATE", der)
		kb, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		writePEM(t, keyPath, "EC PRIVATE KEY", kb)
	}
	issue(2, "127.0.0.1", x509.ExtKeyUsageServerAuth, p.serverCert, p.serverKey)
	issue(3, "matrixbox test client", x509.ExtKeyUsageClientAuth, p.cert, p.key)
	return p
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}
