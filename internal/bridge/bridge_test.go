package bridge

import (
	"net"
	"os"
	"strings"
	"sync"
	"testing"
)

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("making a bridge needs root")
	}
}

func TestNewAndDelete(t *testing.T) {
	requireRoot(t)
	b, err := New("mbx-test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = Delete(b.Name) })
	ifi, err := net.InterfaceByName(b.Name)
	if err != nil {
		t.Fatalf("%s not made: %v", b.Name, err)
	}
	if ifi.Flags&net.FlagUp == 0 {
		t.Errorf("%s is down", b.Name)
	}
	addrs, err := ifi.Addrs()
	var v4 []string
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && ipn.IP.To4() != nil {
			v4 = append(v4, a.String())
		}
	}
	if err != nil || len(v4) != 1 || v4[0] != b.Gateway.String() {
		t.Errorf("%s IPv4 addresses %v (%v), want %s", b.Name, v4, err, b.Gateway)
	}
	if got := Owned()[b.Name]; got != (Owner{PID: os.Getpid(), Sandbox: "mbx-test"}) {
		t.Errorf("Owned()[%s] = %+v, want this process %d and sandbox mbx-test", b.Name, got, os.Getpid())
	}
	if err := Delete(b.Name); err != nil {
		t.Fatal(err)
	}
	if _, err := net.InterfaceByName(b.Name); err == nil {
		t.Errorf("%s still exists after Delete", b.Name)
	}
	if err := Delete(b.Name); err != nil {
		t.Errorf("deleting a deleted bridge: %v", err)
	}
}

// TestNewConcurrent: bridges made at once get distinct names and subnets.
func TestNewConcurrent(t *testing.T) {
	requireRoot(t)
	const n = 8
	var wg sync.WaitGroup
	got := make([]Bridge, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], errs[i] = New("mbx-test")
		}()
	}
	wg.Wait()
	seen := map[string]bool{}
	for i, b := range got {
		if errs[i] != nil {
			t.Error(errs[i])
			continue
		}
		t.Cleanup(func() { _ = Delete(b.Name) })
		if seen[b.Name] || seen[b.Gateway.String()] {
			t.Errorf("%s %s handed out twice", b.Name, b.Gateway)
		}
		seen[b.Name], seen[b.Gateway.String()] = true, true
		if !strings.HasPrefix(b.Name, NamePrefix) {
			t.Errorf("name %q", b.Name)
		}
	}
}
