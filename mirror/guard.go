package mirror

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
)

// refuseDamaged answers a GET or HEAD of a blob or manifest whose file is
// damaged with an error, in place of the registry, which would serve the
// damaged bytes. Any other request, and a blob it cannot find, goes on to
// the registry.
func (s *blobStore) refuseDamaged(w http.ResponseWriter, r *http.Request, registry http.Handler) {
	if !s.answerDamaged(w, r) {
		registry.ServeHTTP(w, r)
	}
}

// answerDamaged answers a request for a damaged blob, and reports whether
// it did.
func (s *blobStore) answerDamaged(w http.ResponseWriter, r *http.Request) bool {
	repo, d, ok := s.requested(r)
	if !ok {
		return false
	}
	var damage *damageError
	if !errors.As(s.check(d, -1), &damage) {
		return false
	}
	ev := DamagedBlob{Digest: d, Repo: repo, Path: blobPath(s.root, d), Reason: damage.reason, At: time.Now()}
	s.mu.Lock()
	s.damaged = append(s.damaged, ev)
	s.mu.Unlock()
	s.logf("mirror: %s", ev)
	// 500, not 404: a client falls back to the next host on 404 and would
	// report that host's failure instead of this one.
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusInternalServerError)
	if r.Method == http.MethodGet {
		json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]any{{
			"code": "UNKNOWN", "message": "matrixbox mirror: " + ev.String(), "detail": map[string]string{"digest": d.String()},
		}}})
	}
	return true
}

// requested returns the repository and digest that a GET or HEAD of
// /v2/<repo>/blobs/<digest> or /v2/<repo>/manifests/<digest-or-tag> asks
// for; a tag is resolved through the registry's tag link.
func (s *blobStore) requested(r *http.Request) (string, digest.Digest, bool) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return "", "", false
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/v2/")
	if !ok {
		return "", "", false
	}
	for _, kind := range []string{"/blobs/", "/manifests/"} {
		i := strings.LastIndex(rest, kind)
		if i <= 0 {
			continue
		}
		repo, ref := rest[:i], rest[i+len(kind):]
		if d, err := digest.Parse(ref); err == nil {
			return repo, d, true
		}
		// Repository components and tags cannot hold "..": a request
		// that does is not a tag, and must not reach outside the store.
		if kind == "/blobs/" || strings.Contains(rest, "..") || strings.Contains(ref, "/") {
			return "", "", false
		}
		link, err := os.ReadFile(filepath.Join(s.root, "docker/registry/v2/repositories", repo, "_manifests/tags", ref, "current/link"))
		if err != nil {
			return "", "", false
		}
		d, err := digest.Parse(strings.TrimSpace(string(link)))
		return repo, d, err == nil
	}
	return "", "", false
}
