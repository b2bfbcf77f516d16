package supervise

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/matrixbox/matrixbox/internal/testkit"
)

// runAsGuard runs this test binary as the guard of this process, its
// descriptor 3 a pipe holding nonce and its environment naming proof; the
// pipe's write end is closed at once, this process still running.
func runAsGuard(t *testing.T, nonce, proof []byte) (string, error) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := w.Write(nonce); err != nil {
		t.Fatal(err)
	}
	w.Close()
	cmd := exec.Command(testkit.Self(), "-test.run=^$")
	cmd.Env = append(os.Environ(), envGuardFor+"="+selfOwner().String()+":"+hex.EncodeToString(proof))
	cmd.ExtraFiles = []*os.File{r}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// A guard acts only once its test process has ended: a pipe that closes
// while the process runs, however it came to close, removes nothing. A
// pipe without the nonce its proof names is no guard's: the process
// refuses to be one.
func TestGuardActsOnlyForItsEndedProcess(t *testing.T) {
	nonce := []byte(strings.Repeat("n", nonceLen))
	sum := sha256.Sum256(nonce)
	out, err := runAsGuard(t, nonce, sum[:])
	if err != nil || !strings.Contains(out, "its pipe closed while the process still runs; nothing removed") {
		t.Errorf("a guard whose test process runs: %v\n%s", err, out)
	}
	wrong := sha256.Sum256([]byte("another nonce"))
	out, err = runAsGuard(t, nonce, wrong[:])
	if err == nil || !strings.Contains(out, "was not started as a guard by its test process") || !strings.Contains(out, "does not match the proof") {
		t.Errorf("a pipe with the wrong nonce: %v\n%s", err, out)
	}
	out, err = runAsGuard(t, nil, sum[:])
	if err == nil || !strings.Contains(out, "holds no nonce") {
		t.Errorf("a pipe with no nonce: %v\n%s", err, out)
	}
}
