package workers

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Check names the kernel switch that forbids unprivileged user
// namespaces, with the sysctl that turns it on.
func TestRootlessCheckNamesTheKernelSwitch(t *testing.T) {
	defer func(m, c string) { maxUserNamespaces, unprivilegedClone = m, c }(maxUserNamespaces, unprivilegedClone)
	dir := t.TempDir()
	write := func(name, v string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(v+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	maxUserNamespaces, unprivilegedClone = write("max", "0"), write("clone", "0")
	err := checkUserNamespaces()
	for _, want := range []string{"sysctl -w user.max_user_namespaces=28633", "sysctl -w kernel.unprivileged_userns_clone=1"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("checkUserNamespaces() = %v, want it to say %q", err, want)
		}
	}
	maxUserNamespaces, unprivilegedClone = write("max", "15000"), filepath.Join(dir, "absent")
	if err := checkUserNamespaces(); err != nil {
		t.Errorf("with user namespaces allowed: %v", err)
	}
}
