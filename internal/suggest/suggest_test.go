package suggest

import "testing"

func TestNearest(t *testing.T) {
	workers := []string{"buildkitd-oci", "buildkitd-containerd", "dockerd"}
	for word, want := range map[string]string{
		"buildkitd-oic":        "buildkitd-oci", // a swap
		"buildkitd-oc":         "buildkitd-oci",
		"dockrd":               "dockerd",
		"buildkitd-oci":        "", // itself
		"host":                 "",
		"containerd":           "",
		"buildkitd-contianerd": "buildkitd-containerd",
	} {
		got, ok := Nearest(word, workers)
		if ok != (want != "") || got != want && ok {
			t.Errorf("Nearest(%q) = %q, %v; want %q", word, got, ok, want)
		}
	}
	if d := Distance("contaienrd", "containerd"); d != 1 {
		t.Errorf("Distance = %d, want 1 (a swap)", d)
	}
}
