package integration

import (
	"strings"
	"testing"

	"github.com/matrixbox/matrixbox/matrix"
)

// Main's decoders become the process's: a config file of any Run decodes
// the axis's values with them. (An option of a Run given to Main does not
// compile: MainOption is a type of its own.)
func TestMainDecoders(t *testing.T) {
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
	applyMain([]MainOption{WithAxisDecoder("shout", upper)})
	if v, err := decodeAxisValue("shout", "hey"); err != nil || v.V != "HEY" {
		t.Errorf("decoded by Main's decoder: %v, %v; want HEY", v.V, err)
	}
}
