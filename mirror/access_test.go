package mirror

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/matrixbox/matrixbox/internal/testkit"
)

// served asks the mirror at addr which manifest repo:tag is, by a GET as a
// daemon makes it; "" and the status when it refuses.
func served(t *testing.T, addr, repo, tag string) (digest.Digest, int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/v2/"+repo+"/manifests/"+tag, nil)
	req.Header.Set("Accept", "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return "", resp.StatusCode, string(body)
	}
	return digest.FromBytes(body), resp.StatusCode, string(body)
}

// A push to the mirror's address is refused, whoever makes it (this
// process, root; and the user nobody), with 405 and a body that says why:
// a blob upload, a manifest put by tag, a delete. The tag serves the same
// digest after every attempt. Before, a blob upload got 202/201 and the
// manifest put 201, and the mirror served the pushed manifest.
func TestMirrorRefusesWrites(t *testing.T) {
	imgs := busyboxImages(t)
	m := ensure(t, t.TempDir(), imgs)
	addr := m.Addr()
	want := busyboxRecord(t, m).Digest
	repo, tag := "library/busybox", "latest"
	poison := newMemImage(t, 512, 1)
	man, err := poison.ReaderAt(context.Background(), poison.root)
	if err != nil {
		t.Fatal(err)
	}
	manifest := make([]byte, poison.root.Size)
	if _, err := man.ReadAt(manifest, 0); err != nil {
		t.Fatal(err)
	}
	writes := []struct {
		method, path, ctype string
		body                []byte
	}{
		{"POST", "/v2/" + repo + "/blobs/uploads/", "", nil},
		{"POST", "/v2/" + repo + "/blobs/uploads/?digest=" + digest.FromString("POISONED").String(), "application/octet-stream", []byte("POISONED")},
		{"PUT", "/v2/" + repo + "/manifests/" + tag, poison.root.MediaType, manifest},
		{"PATCH", "/v2/" + repo + "/blobs/uploads/x", "application/octet-stream", []byte("POISONED")},
		{"DELETE", "/v2/" + repo + "/manifests/" + want.String(), "", nil},
	}
	check := func(who string, status int, body string, w string) {
		t.Helper()
		if status != http.StatusMethodNotAllowed || !strings.Contains(body, "read-only") {
			t.Errorf("%s: %s: status %d, body %q; want 405 saying the mirror is read-only", who, w, status, body)
		}
		if got, st, b := served(t, addr, repo, tag); got != want {
			t.Errorf("%s: after %s the tag serves %s (%d %s), want %s", who, w, got, st, b, want)
		}
	}
	for _, w := range writes {
		req, _ := http.NewRequest(w.method, "http://"+addr+w.path, bytes.NewReader(w.body))
		if w.ctype != "" {
			req.Header.Set("Content-Type", w.ctype)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		check("root", resp.StatusCode, string(body), w.method+" "+w.path)
	}
	if err := push(context.Background(), addr+"/"+repo+":"+tag, poison.root, verifyingProvider{Provider: poison, source: "poison"}); err == nil {
		t.Error("a push of a whole image through containerd's pusher succeeded")
	}
	if os.Geteuid() != 0 {
		return
	}
	if _, err := exec.LookPath("curl"); err != nil {
		t.Log("no curl: the writes as nobody are not tried")
		return
	}
	for _, w := range writes {
		f := filepath.Join(t.TempDir(), "body")
		if err := os.WriteFile(f, w.body, 0o644); err != nil {
			t.Fatal(err)
		}
		args := []string{"--reuid=65534", "--regid=65534", "--clear-groups", "curl", "-s", "-X", w.method, "--data-binary", "@" + f, "-w", "\n%{http_code}", "http://" + addr + w.path}
		if w.ctype != "" {
			args = append(args, "-H", "Content-Type: "+w.ctype)
		}
		out, err := exec.Command("setpriv", args...).Output()
		if err != nil {
			t.Fatalf("curl as nobody: %v", err)
		}
		body, code, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
		if i := strings.LastIndex(string(out), "\n"); i >= 0 {
			body, code = string(out[:i]), string(out[i+1:])
		}
		var status int
		fmt.Sscan(code, &status)
		check("nobody", status, body, w.method+" "+w.path)
	}
}

// What the mirror serves for a tag never changes during a run: a tag whose
// link on disk is made to point at another manifest (by another process,
// by hand) still serves the manifest this process recorded, and the log
// says so. Before, the mirror served whatever the link named.
func TestMirrorServesTheRecordedTag(t *testing.T) {
	imgs := busyboxImages(t)
	dir := t.TempDir()
	var log testkit.Buffer
	m := newTestMirror(t, dir, WithLog(&log))
	if err := m.Ensure(context.Background(), imgs); err != nil {
		t.Fatal(err)
	}
	want := busyboxRecord(t, m).Digest
	// Another image in the same repository, whose manifest the tag is
	// then made to name.
	ensure(t, dir, map[string]string{"library/busybox:other": "rootfs:" + t.TempDir()})
	otherLink := filepath.Join(dir, "registry/docker/registry/v2/repositories/library/busybox/_manifests/tags/other/current/link")
	b, err := os.ReadFile(otherLink)
	if err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "registry/docker/registry/v2/repositories/library/busybox/_manifests/tags/latest/current/link")
	if err := os.WriteFile(link, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if got, st, body := served(t, m.Addr(), "library/busybox", "latest"); got != want {
		t.Errorf("the tag serves %s (%d %s) after its link changed on disk, want %s, recorded", got, st, body, want)
	}
	if !strings.Contains(log.String(), "points at "+strings.TrimSpace(string(b))+" on disk, not at "+want.String()) {
		t.Errorf("the log does not name the moved tag:\n%s", log.String())
	}
}

// The mirror serves only what this process declared (issue 22, item 6):
// an image another process mirrored into the same directory is refused
// with an error that names it and the option that declares it, and the
// refusal is what RefusedSince names; after this process declares it, it
// is served. Before, the mirror served every image in its directory.
func TestMirrorServesOnlyDeclaredImages(t *testing.T) {
	imgs := busyboxImages(t)
	dir := t.TempDir()
	rec := busyboxRecord(t, ensure(t, dir, imgs)) // another test process
	m := newTestMirror(t, dir)
	if err := m.Ensure(context.Background(), map[string]string{"library/empty:1": "rootfs:" + t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	addr := m.Addr()
	for _, path := range []string{
		"/v2/library/busybox/manifests/latest",
		"/v2/library/busybox/manifests/" + rec.Digest.String(),
		"/v2/library/busybox/blobs/" + rec.Blobs[len(rec.Blobs)-1].Digest.String(),
		"/v2/library/busybox/tags/list",
	} {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "docker.io/library/busybox") || !strings.Contains(string(body), "integration.WithMirroredImages") {
			t.Errorf("GET %s: %s %s; want 403 naming the image and integration.WithMirroredImages", path, resp.Status, body)
		}
	}
	refused := strings.Join(m.RefusedSince(rec.CopiedAt), "\n")
	for _, want := range []string{"docker.io/library/busybox:latest", "docker.io/library/busybox@" + rec.Digest.String(), "library/busybox:latest"} {
		if !strings.Contains(refused, want) {
			t.Errorf("RefusedSince lacks %q:\n%s", want, refused)
		}
	}
	resp, err := http.Get("http://" + addr + "/v2/_catalog")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.Contains(string(body), "busybox") || !strings.Contains(string(body), "library/empty") {
		t.Errorf("the catalog lists %s, want the declared library/empty alone", body)
	}
	if err := m.Ensure(context.Background(), imgs); err != nil {
		t.Fatal(err)
	}
	if got, st, body := served(t, addr, "library/busybox", "latest"); got != rec.Digest {
		t.Errorf("declared now, busybox serves %s (%d %s), want %s", got, st, body, rec.Digest)
	}
}
