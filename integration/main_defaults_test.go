package integration

import (
	"strings"
	"testing"

	"github.com/matrixbox/matrixbox/matrix"
)

// Main's defaults become the process's; an option of a Run given to Main
// is an error naming it.
func TestMainDefaults(t *testing.T) {
	decodersMu.Lock()
	saved := decoders
	decoders = map[string]func(string) (matrix.Value, error){}
	decodersMu.Unlock()
	t.Cleanup(func() {
		decodersMu.Lock()
		decoders = saved
		decodersMu.Unlock()
	})
	upper := func(s string) (matrix.Value, error) { return matrix.Value{Name: s, V: strings.ToUpper(s)}, nil }
	if err := applyDefaults([]Option{WithAxisDecoder("shout", upper)}); err != nil {
		t.Fatal(err)
	}
	if v, err := decodeAxisValue("shout", "hey"); err != nil || v.V != "HEY" {
		t.Errorf("decoded by the default: %v, %v; want HEY", v.V, err)
	}
	for _, tc := range []struct {
		opt  Option
		want string
	}{
		{WithParallelism(2), "WithParallelism belongs to a Run"},
		{WithMatrix("n", map[string]any{"a": 1}), "axes belong to a Run"},
		{WithExclude("n=a"), "WithExclude belongs to a Run"},
		{WithMirroredImages(map[string]string{"busybox:latest": "recipe:busybox"}), "WithMirroredImages belongs to a Run"},
		{WithParallelism(0), "WithParallelism(0): want at least 1"},
	} {
		if err := applyDefaults([]Option{tc.opt}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("applyDefaults: %v, want an error containing %q", err, tc.want)
		}
	}
}
